#include "store/postgres/pg_batch.h"

#include <algorithm>
#include <set>
#include <string>

#include "core/log.h"
#include "core/thread_name.h"
#include "store/schema.h"

namespace herald::store::postgres {
namespace {

constexpr int kInsertColumns = 24;
constexpr int kOutcomeColumns = 7;
constexpr int kAttempts = 4;  // a statement that deadlocked is tried this many times

// "($1, $2, ...), ($18, ...)": placeholders for `rows` rows of `columns` values; the first
// row's casts (when given) type the VALUES list.
std::string placeholders(std::size_t rows, int columns, const std::vector<const char*>& first_row_casts = {}) {
  std::string out;
  out.reserve(rows * static_cast<std::size_t>(columns) * 6);
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ",(";
    for (int c = 0; c < columns; ++c) {
      if (c > 0) out += ',';
      out += '$';
      out += std::to_string(++n);
      if (r == 0 && !first_row_casts.empty()) out += first_row_casts[static_cast<std::size_t>(c)];
    }
    out += ')';
  }
  return out;
}

// Runs a statement, retrying when PostgreSQL chose it as a deadlock or serialisation victim,
// and once on a fresh connection when the connection broke (both statements of this file may
// be repeated: see write_inserts for the inserts).
Result<PgResult> exec_retrying(PgConnection& connection, const std::string& sql, const Params& params) {
  Result<PgResult> result = connection.exec(sql, params, PgConnection::Retry::kYes);
  for (int attempt = 1; attempt < kAttempts && !result && is_serialization_failure(result.error()); ++attempt) {
    result = connection.exec(sql, params, PgConnection::Retry::kYes);
  }
  return result;
}

}  // namespace

std::string notification_insert_sql(std::size_t rows, NotificationLink link) {
  const char* link_columns = link == NotificationLink::kNhsMessage ? ", nhs_message_id"
                             : link == NotificationLink::kJob      ? ", job_id, job_row"
                                                                   : "";
  const int link_values = link == NotificationLink::kNhsMessage ? 1 : link == NotificationLink::kJob ? 2 : 0;
  return std::string(
             "INSERT INTO notifications (id, service_id, api_key_id, key_type, template_id, template_version, "
             "notification_type, status, reference_sealed, recipient, personalisation, subject, body, "
             "one_click_unsubscribe_url, created_at, due_at, recipient_index, sender, billable_units, "
             "rate_multiplier, postage, updated_at, sent_at, reference_index") +
         link_columns + ") VALUES " + placeholders(rows, kInsertColumns + link_values);
}

void add_notification_values(Params& params, const SealedNotification& r) {
  params.text(r.id)
      .text(r.service)
      .text(r.api_key)
      .text(r.key_type)
      .text(r.template_id)
      .integer(r.template_version)
      .text(r.type)
      .text(r.status)
      .optional_bytes(r.reference)
      .bytes(r.recipient)
      .bytes(r.personalisation)
      .bytes(r.subject)
      .bytes(r.body)
      .optional_bytes(r.unsubscribe)
      .integer(r.created_at)
      .optional_integer(r.due_at)
      .optional_bytes(r.recipient_index)
      .optional_text(r.sender)
      .integer(r.billable_units)
      .integer(r.rate_multiplier)
      .optional_text(r.postage)
      .optional_integer(r.updated_at)
      .optional_integer(r.sent_at)
      .optional_bytes(r.reference_index);
}

PgBatchWriter::PgBatchWriter(std::vector<std::unique_ptr<PgConnection>> connections, std::size_t max_batch,
                             Duration gather)
    : max_batch_(std::clamp<std::size_t>(max_batch, 1, 65535 / kInsertColumns)), gather_(gather), connections_(std::move(connections)) {
  for (auto& connection : connections_) {
    threads_.emplace_back([this, raw = connection.get()] {
      set_thread_name("pg-writer");
      loop(*raw);
    });
  }
}

PgBatchWriter::~PgBatchWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
  log::info("pg.writer_stopped",
            {{"statements", std::to_string(stats_.statements)}, {"rows", std::to_string(stats_.rows)}});
}

void PgBatchWriter::insert(SealedNotification row, Done done) {
  Pending pending;
  pending.insert = std::move(row);
  pending.done = std::move(done);
  submit(std::move(pending));
}

void PgBatchWriter::outcome(DeliveryOutcome outcome, Done done) {
  Pending pending;
  pending.outcome = std::move(outcome);
  pending.done = std::move(done);
  submit(std::move(pending));
}

PgBatchWriter::Stats PgBatchWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void PgBatchWriter::submit(Pending pending) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      pending.done(unavailable("store is shutting down"));
      return;
    }
    queue_.push_back(std::move(pending));
  }
  ready_.notify_one();
}

void PgBatchWriter::loop(PgConnection& connection) {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (committing_ > 0 && gather_ > Duration::zero() && queue_.size() < max_batch_ && !stopping_) {
        ready_.wait_for(lock, gather_, [this] { return stopping_ || queue_.size() >= max_batch_; });
      }
      ++committing_;
      const std::size_t n = std::min(queue_.size(), max_batch_);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // Another writer can start on what is left while this batch commits.
      if (!queue_.empty()) ready_.notify_one();
    }
    std::vector<Pending*> inserts;
    std::vector<Pending*> outcomes;
    for (Pending& pending : batch) (pending.insert ? inserts : outcomes).push_back(&pending);
    if (!inserts.empty()) write_inserts(connection, inserts);
    if (!outcomes.empty()) write_outcomes(connection, outcomes);
    std::lock_guard lock(mutex_);
    --committing_;
  }
}

void PgBatchWriter::write_inserts(PgConnection& connection, std::vector<Pending*>& rows) {
  const std::string sql = notification_insert_sql(rows.size()) + " ON CONFLICT (id) DO NOTHING RETURNING id";
  Params params;
  for (const Pending* pending : rows) add_notification_values(params, *pending->insert);
  const std::uint64_t resets = connection.resets();
  auto result = exec_retrying(connection, sql, params);
  {
    std::lock_guard lock(mutex_);
    ++stats_.statements;
    stats_.rows += rows.size();
  }
  if (!result) {
    for (Pending* pending : rows) pending->done(result.error());
    return;
  }
  std::set<std::string> inserted;
  for (int i = 0; i < result->rows(); ++i) inserted.insert(result->text(i, 0));
  // Ids are random (UUIDv7), so a conflict means the row is already there: when the statement
  // had to be sent again after a broken connection, that is the first attempt's commit.
  const bool resent = connection.resets() != resets;
  for (Pending* pending : rows) {
    if (inserted.count(pending->insert->id) || resent) {
      pending->done(ok());
    } else {
      pending->done(Error{ErrorCode::kFailedPrecondition, "notification " + pending->insert->id + " already exists"});
    }
  }
}

void PgBatchWriter::write_outcomes(PgConnection& connection, std::vector<Pending*>& rows) {
  // Ids in one order in every statement, so two writers never lock rows in opposite orders.
  std::sort(rows.begin(), rows.end(), [](const Pending* a, const Pending* b) {
    return a->outcome->id.to_string() < b->outcome->id.to_string();
  });
  std::size_t begin = 0;
  while (begin < rows.size()) {
    // A notification updated twice in one statement would take one of the two values at
    // random: a second outcome for the same id goes into the next statement.
    std::set<std::string> ids;
    std::size_t end = begin;
    while (end < rows.size() && ids.insert(rows[end]->outcome->id.to_string()).second) ++end;
    Params params;
    for (std::size_t i = begin; i < end; ++i) {
      const DeliveryOutcome& o = *rows[i]->outcome;
      params.text(o.id.to_string())
          .text(status_name(o.status))
          .integer(to_micros(o.updated_at))
          .optional_integer(optional_micros(o.sent_at))
          .optional_integer(optional_micros(o.next_attempt_at))
          .optional_text(o.sent_by)
          .text(o.callback ? "true" : "false");
    }
    // A notification that carries an NHS Notify message's channel makes no callback due: its
    // message's cascade is woken instead (due at once: at the earliest of its outcomes here, if
    // that is before the time it was due), in the same statement; an erased message never is.
    // The second update finds no row to join when no notification here has a message, the
    // common case.
    const std::string sql =
        std::string(
            "WITH u AS (UPDATE notifications AS n SET status = v.status, updated_at = v.updated_at, "
            "sent_at = COALESCE(v.sent_at, n.sent_at), due_at = v.due_at, "
            "sent_by = COALESCE(v.sent_by, n.sent_by), ") +
        callback_due_assignments("v.callback", "v.updated_at", "n") + " FROM (VALUES " +
        placeholders(end - begin, kOutcomeColumns,
                     {"::uuid", "::text", "::bigint", "::bigint", "::bigint", "::text", "::boolean"}) +
        ") AS v(id, status, updated_at, sent_at, due_at, sent_by, callback) WHERE n.id = v.id "
        "RETURNING n.id, n.nhs_message_id, v.updated_at), "
        "w AS (UPDATE nhs_messages AS m SET woken = 1, next_step_at = CASE WHEN m.next_step_at IS NULL OR "
        "m.next_step_at > a.woken_at THEN a.woken_at ELSE m.next_step_at END FROM (SELECT nhs_message_id, "
        "min(updated_at) AS woken_at FROM u WHERE nhs_message_id IS NOT NULL GROUP BY nhs_message_id) AS a "
        "WHERE m.id = a.nhs_message_id AND m.erased_at IS NULL) SELECT id FROM u";
    auto result = exec_retrying(connection, sql, params);
    {
      std::lock_guard lock(mutex_);
      ++stats_.statements;
      stats_.rows += end - begin;
    }
    std::set<std::string> updated;
    if (result) {
      for (int i = 0; i < result->rows(); ++i) updated.insert(result->text(i, 0));
    }
    for (std::size_t i = begin; i < end; ++i) {
      const std::string id = rows[i]->outcome->id.to_string();
      if (!result) {
        rows[i]->done(result.error());
      } else if (updated.count(id)) {
        rows[i]->done(ok());
      } else {
        rows[i]->done(not_found("notification " + id));
      }
    }
    begin = end;
  }
}

}  // namespace herald::store::postgres
