#pragma once
// Retention and crypto-shredding (SC-02, SC-25). For each service, notifications older than its
// retention period (whole UTC days: with 7 days, data created on the 1st goes on the 9th) have
// their personal fields emptied while ids, statuses and times stay for counts; then every data
// key of a (service, day) that no longer protects any personal data is destroyed, so the same
// rows in any older backup cannot be decrypted either.
//
// Files sent by email keep their own retention (1 to 78 weeks, not the service's days): expired
// ones are deleted, then the data key of each (service, expiry day) whose day is wholly past.
//
// Idempotent and safe to run on several nodes at once (each step is conditional).

#include <cstdint>

#include "core/result.h"
#include "core/time.h"
#include "crypto/data_keys.h"
#include "store/store.h"

namespace herald::ops {

struct RetentionReport {
  int services = 0;
  std::int64_t redacted = 0;
  std::int64_t failed_pending = 0;  // undelivered when their time ran out
  int keys_destroyed = 0;
  std::int64_t documents_deleted = 0;  // files sent by email whose own retention ended
};

// Makes sure every service has its data key for today and tomorrow, so that the first send of
// a day finds the key in memory instead of creating it (a write to keys.db) on a network
// thread. Returns how many keys were made. `serve` runs it with the retention job.
Result<int> prepare_data_keys(store::ServiceDirectory& services, crypto::DataKeys& keys, Timestamp now);

class Retention {
 public:
  Retention(store::ServiceDirectory& services, store::RetentionStore& retention, store::DocumentStore& documents,
            crypto::DataKeys& keys)
      : services_(services), retention_(retention), documents_(documents), keys_(keys) {}
  Retention(store::Store& store, crypto::DataKeys& keys) : Retention(store, store, store, keys) {}
  Result<RetentionReport> run(Timestamp now);

  // Start of the UTC day `days` whole days before the day of `now`.
  static Timestamp cutoff(Timestamp now, int days);

 private:
  store::ServiceDirectory& services_;
  store::RetentionStore& retention_;
  store::DocumentStore& documents_;
  crypto::DataKeys& keys_;
};

}  // namespace herald::ops
