#pragma once
// What operating Herald watches: the readiness checks behind /health/ready and the figures read at
// each /metrics scrape (the store's queues, key ages, backups, the audit checkpoints). The
// counters that code bumps as it works (requests, deliveries, refusals) are elsewhere, in
// core/metrics.h's registry; these are the figures that live in the store or the key store.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/time.h"
#include "crypto/data_keys.h"
#include "store/store.h"

namespace herald::ops {

struct Check {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct ReadinessOptions {
  std::string node;       // names this node's heartbeat mark ("heartbeat:<node>")
  std::string disk_path;  // a path on the disk that holds the data (its free space is checked)
  std::uint64_t min_free_disk_bytes = 512ull << 20;
  std::string audit_checkpoint_path;  // the audit checkpoint file: it must take appends
  // Emails and texts waiting longer than this make the node not ready (letters wait for their
  // batch, so they are not counted). Zero: not checked.
  Duration max_backlog_age = std::chrono::minutes(15);
};

class Monitoring {
 public:
  // `last_audit_checkpoint`: when this node last signed (or found nothing new to sign in) the audit
  // chain; nullopt before the first run.
  Monitoring(store::OperationsStore& store, crypto::DataKeys& keys, const Clock& clock, ReadinessOptions options,
             std::function<std::optional<Timestamp>()> last_audit_checkpoint);

  // Each check, in a fixed order: store writable (a heartbeat mark), data keys unwrappable (the
  // newest live data key opened with the key-encryption key), disk space, audit sink writable,
  // delivery backlog age.
  std::vector<Check> ready();

  // Writes the store's and key store's figures (for a metrics::Registry collector).
  void collect(metrics::Writer& out);

 private:
  store::OperationsStore& store_;
  crypto::DataKeys& keys_;
  const Clock& clock_;
  ReadinessOptions options_;
  std::function<std::optional<Timestamp>()> last_audit_checkpoint_;
};

}  // namespace herald::ops
