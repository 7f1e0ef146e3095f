#pragma once
// PgBatchWriter: PostgreSQL's group commit for the two high-rate writes, new notifications and
// delivery outcomes. Callers queue rows from any thread; each writer thread (one connection
// each) takes everything queued at that moment and writes it as one multi-row INSERT (or one
// multi-row UPDATE ... FROM (VALUES ...)): one statement, one commit, one round trip for up to
// max_batch rows, instead of one transaction per request. With two or more writers, one batch
// fills while another commits. A row that conflicts fails alone; a deadlock or serialisation
// failure is retried. Completions run on a writer thread and must be quick.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/postgres/pg_connection.h"
#include "store/records.h"
#include "store/sealed_row.h"

namespace herald::store::postgres {

// What the notifications of one INSERT are linked to, each row's values after those
// add_notification_values adds: nothing (the API's); the id of the NHS Notify message whose
// channel it carries (one more value); the id of the job and the row of the job's file it was
// made from (two more).
enum class NotificationLink { kNone, kNhsMessage, kJob };

// The notifications' INSERT, shared by the batch writer, the NHS cascade (PgStore::save_nhs_step)
// and jobs (PgStore::save_job_rows): "INSERT INTO notifications (...) VALUES (...), ..." for
// `rows` rows. No ON CONFLICT clause.
std::string notification_insert_sql(std::size_t rows, NotificationLink link = NotificationLink::kNone);
// Adds one sealed notification's values, in notification_insert_sql's order.
void add_notification_values(Params& params, const SealedNotification& row);

class PgBatchWriter {
 public:
  using Done = std::function<void(Result<void>)>;

  // `gather`: while another writer is committing, a writer waits up to this long for its batch
  // to fill (fewer, larger statements: less server CPU per row); with no commit in flight it
  // writes at once, so a lone request never waits for company.
  PgBatchWriter(std::vector<std::unique_ptr<PgConnection>> connections, std::size_t max_batch,
                Duration gather = Duration::zero());
  // Writes what is queued, then stops.
  ~PgBatchWriter();
  PgBatchWriter(const PgBatchWriter&) = delete;
  PgBatchWriter& operator=(const PgBatchWriter&) = delete;

  void insert(SealedNotification row, Done done);
  void outcome(DeliveryOutcome outcome, Done done);

  struct Stats {
    std::uint64_t statements = 0;
    std::uint64_t rows = 0;
  };
  Stats stats() const;

 private:
  struct Pending {
    std::optional<SealedNotification> insert;
    std::optional<DeliveryOutcome> outcome;
    Done done;
  };
  void submit(Pending pending);
  void loop(PgConnection& connection);
  void write_inserts(PgConnection& connection, std::vector<Pending*>& rows);
  void write_outcomes(PgConnection& connection, std::vector<Pending*>& rows);

  const std::size_t max_batch_;
  const Duration gather_;
  std::vector<std::unique_ptr<PgConnection>> connections_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  int committing_ = 0;         // writers with a statement in flight; guarded by mutex_
  Stats stats_;                // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace herald::store::postgres
