#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>
#include <tuple>

#include "core/check.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "store/schema.h"
#include "store/sealed_row.h"
#include "store/sqlite/migrations.h"

namespace herald::store::sqlite {
namespace {

// Runs an "UPDATE ... RETURNING <count>" to its end: the count, or 0 when no row matched.
Result<int> returned_count(Statement& stmt) {
  int count = 0;
  auto row = stmt.step();
  if (!row) return row.error();
  if (*row) count = static_cast<int>(stmt.column_int(0));
  while (true) {  // finish the statement
    auto more = stmt.step();
    if (!more) return more.error();
    if (!*more) break;
  }
  return count;
}

constexpr const char* kNotificationColumns =
    "id, service_id, api_key_id, key_type, template_id, template_version, notification_type, "
    "status, reference_sealed, recipient, personalisation, subject, body, one_click_unsubscribe_url, "
    "created_at, sent_at, updated_at, attempts, sender, billable_units, rate_multiplier, sent_by, callback_attempts, postage";
constexpr int kNotificationColumnCount = 24;
// After kNotificationColumns: where the notification came from (read_linked_notification).
constexpr const char* kNotificationLinkColumns = ", nhs_message_id, job_id, job_row";

// provider_stats' aggregates after sent_by and count(*): delivered, failed, then the sum and count
// of the delivered ones' microseconds from created_at to updated_at. Delivered includes "sent"
// (international texts get no receipt); failed is every failure status, letters' included.
constexpr const char* kProviderStatsColumns =
    "count(CASE WHEN status IN ('delivered', 'sent') THEN 1 END), "
    "count(CASE WHEN status IN ('permanent-failure', 'temporary-failure', 'technical-failure', "
    "'validation-failed', 'virus-scan-failed', 'returned-letter') THEN 1 END), "
    "coalesce(sum(CASE WHEN status IN ('delivered', 'sent') THEN updated_at - created_at END), 0), "
    "count(CASE WHEN status IN ('delivered', 'sent') THEN updated_at END)";

// A notification that carries an NHS Notify message's channel changed status: the message's
// cascade looks again at once (and, if a step holds it now, once that step is saved). An erased
// message has no cascade left: never woken.
Result<void> wake_nhs_message(Connection& db, const std::optional<std::string>& message, Timestamp now) {
  if (!message) return ok();
  auto stmt = db.prepare(
      "UPDATE nhs_messages SET woken = 1, next_step_at = CASE WHEN next_step_at IS NULL OR next_step_at > ? THEN ? "
      "ELSE next_step_at END WHERE id = ? AND erased_at IS NULL");
  if (!stmt) return stmt.error();
  return stmt->bind_int(1, to_micros(now)).bind_int(2, to_micros(now)).bind_text(3, *message).run();
}

// The message's channel events not yet taken into account by a step, oldest first. One whose
// channel this release does not know is logged and passed over (its step deletes it with the rest).
Result<std::vector<NhsChannelEvent>> read_nhs_channel_events(Connection& db, const std::string& message) {
  auto stmt =
      db.prepare("SELECT id, channel, supplier_status, at FROM nhs_channel_events WHERE message_id = ? ORDER BY id");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, message);
  std::vector<NhsChannelEvent> events;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return events;
    const std::string channel = stmt->column_text(1);
    const auto parsed = parse_nhs_channel(channel);
    if (!parsed) {
      log::error("store.unreadable_nhs_channel_event",
                 {{"message_id", message}, {"event_id", std::to_string(stmt->column_int(0))}, {"channel", channel}});
      continue;
    }
    events.push_back(
        NhsChannelEvent{stmt->column_int(0), message, *parsed, stmt->column_text(2), from_micros(stmt->column_int(3))});
  }
}

// References an earlier release stored in plain text, sealed in batches (sealed_row.h); a
// crash part-way leaves the rest for the next open.
Result<void> seal_legacy_references(Connection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  struct Legacy {
    std::string id, service, reference, recipient;
  };
  while (true) {
    auto tx = Transaction::begin_immediate(db);
    if (!tx) return tx.error();
    std::vector<Legacy> batch;
    {
      auto select = db.prepare(
          "SELECT id, service_id, reference, recipient FROM notifications WHERE reference IS NOT NULL LIMIT 1000");
      if (!select) return select.error();
      while (true) {
        auto row = select->step();
        if (!row) return row.error();
        if (!*row) break;
        batch.push_back(
            {select->column_text(0), select->column_text(1), select->column_text(2), select->column_blob(3)});
      }
    }
    for (const Legacy& legacy : batch) {
      auto sealed = seal_legacy_reference(cipher, legacy.id, legacy.service, legacy.reference, legacy.recipient, now);
      if (!sealed) return sealed.error();
      auto update = db.prepare(
          "UPDATE notifications SET reference = NULL, reference_sealed = ?, reference_index = ? WHERE id = ?");
      if (!update) return update.error();
      if (*sealed) {
        update->bind_blob(1, (*sealed)->envelope).bind_blob(2, (*sealed)->index);
      } else {
        update->bind_null(1).bind_null(2);
      }
      HERALD_TRY(update->bind_text(3, legacy.id).run());
    }
    HERALD_TRY(tx->commit());
    if (batch.empty()) return ok();
    log::info("store.legacy_references_sealed", {{"rows", std::to_string(batch.size())}});
  }
}

// Callback URLs an earlier release stored in plain text (column url), sealed into url_sealed.
Result<void> seal_legacy_callback_urls(Connection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  auto tx = Transaction::begin_immediate(db);
  if (!tx) return tx.error();
  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    std::vector<std::pair<std::string, std::string>> legacy;  // service id, url
    {
      auto select = db.prepare("SELECT service_id, url FROM service_callbacks WHERE kind = ? AND url_sealed IS NULL");
      if (!select) return select.error();
      select->bind_text(1, callback_kind_name(kind));
      while (true) {
        auto row = select->step();
        if (!row) return row.error();
        if (!*row) break;
        legacy.emplace_back(select->column_text(0), select->column_text(1));
      }
    }
    for (const auto& [service, url] : legacy) {
      auto id = ServiceId::parse(service);
      if (!id) return data_loss("malformed service id in service_callbacks");
      auto sealed = seal_callback_field(cipher, *id, kind, "url", url, now);
      if (!sealed) return sealed.error();
      auto update =
          db.prepare("UPDATE service_callbacks SET url = '', url_sealed = ? WHERE service_id = ? AND kind = ?");
      if (!update) return update.error();
      HERALD_TRY(update->bind_blob(1, *sealed).bind_text(2, service).bind_text(3, callback_kind_name(kind)).run());
    }
  }
  return tx->commit();
}

// NHS numbers of messages stored before schema 23 (marked X'' by the migration), indexed in
// batches in id order; a crash part-way leaves the rest for the next open. A number whose data key
// is gone has nothing left to index; one that does not open (tampering, a wrong key) is logged and
// left unindexed rather than keeping the store shut: that message does not open either.
Result<void> index_legacy_nhs_numbers(Connection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  struct Legacy {
    std::string id, service, nhs_number;
  };
  std::string after;  // the last id done
  while (true) {
    auto tx = Transaction::begin_immediate(db);
    if (!tx) return tx.error();
    std::vector<Legacy> batch;
    {
      auto select = db.prepare(
          "SELECT id, service_id, nhs_number FROM nhs_messages WHERE id > ? AND nhs_number_index = X'' "
          "ORDER BY id LIMIT 1000");
      if (!select) return select.error();
      select->bind_text(1, after);
      while (true) {
        auto row = select->step();
        if (!row) return row.error();
        if (!*row) break;
        batch.push_back({select->column_text(0), select->column_text(1), select->column_blob(2)});
      }
    }
    for (const Legacy& legacy : batch) {
      auto index = index_sealed_nhs_number(cipher, legacy.id, legacy.service, legacy.nhs_number, now);
      if (!index) {
        log::error("store.unindexable_nhs_number", {{"message_id", legacy.id}, {"error", index.error().message}});
      }
      auto update = db.prepare("UPDATE nhs_messages SET nhs_number_index = ? WHERE id = ?");
      if (!update) return update.error();
      update->bind_optional_blob(1, index ? *index : std::nullopt);
      HERALD_TRY(update->bind_text(2, legacy.id).run());
    }
    HERALD_TRY(tx->commit());
    if (batch.empty()) return ok();
    after = batch.back().id;
    log::info("store.legacy_nhs_numbers_indexed", {{"rows", std::to_string(batch.size())}});
  }
}

template <typename IdType>
Result<IdType> parse_id(const std::string& text) {
  auto id = IdType::parse(text);
  if (!id) return data_loss("malformed id in database");
  return *id;
}

ServiceRecord read_service(const Statement& row) {
  ServiceRecord s;
  s.id = *ServiceId::parse(row.column_text(0));
  s.name = row.column_text(1);
  s.email_sender_local_part = row.column_text(2);
  s.active = row.column_int(3) != 0;
  s.restricted = row.column_int(4) != 0;
  s.created_at = from_micros(row.column_int(5));
  s.retention_days = static_cast<int>(row.column_int(6));
  s.permissions = split_permissions(row.column_text(7));
  s.prefix_sms = row.column_int(8) != 0;
  s.rate_limit = static_cast<int>(row.column_int(9));
  s.email_limit = row.column_int(10);
  s.sms_limit = row.column_int(11);
  s.letter_limit = row.column_int(12);
  s.international_sms_limit = row.column_int(13);
  s.go_live_requested_at = optional_time(row.column_optional_int(14));
  s.go_live_requested_by = optional_id(row.column_optional_text(15));
  return s;
}

TemplateRecord read_template(const Statement& row) {
  TemplateRecord t;
  t.id = *TemplateId::parse(row.column_text(0));
  t.service = *ServiceId::parse(row.column_text(1));
  t.archived = row.column_int(2) != 0;
  t.version = static_cast<int>(row.column_int(3));
  t.name = row.column_text(4);
  const auto type = parse_channel(row.column_text(5));
  HERALD_CHECK(type.has_value(), "template_versions row with an unknown template_type");
  t.type = *type;
  t.subject = row.column_text(6);
  t.body = row.column_text(7);
  t.created_by = row.column_text(9);
  // GOV.UK: created_at is the template's; updated_at the time this version was made.
  t.created_at = from_micros(row.column_int(10));
  if (t.version > 1) t.updated_at = from_micros(row.column_int(8));
  t.postage = row.column_optional_text(11);
  t.letter_contact_id = row.column_optional_text(12);
  t.has_unsubscribe_link = row.column_int(13) != 0;
  return t;
}

// Runs an asynchronous write and waits for its completion (the synchronous Store methods).
template <typename Start>
Result<void> wait_for(Start&& start) {
  std::promise<Result<void>> promise;
  auto future = promise.get_future();
  start([&promise](Result<void> result) { promise.set_value(std::move(result)); });
  return future.get();
}

constexpr const char* kTemplateSelect =
    "SELECT t.id, t.service_id, t.archived, v.version, v.name, v.template_type, v.subject, "
    "v.content, v.created_at, v.created_by, (SELECT f.created_at FROM template_versions f "
    "WHERE f.template_id = t.id AND f.version = 1), v.postage, v.letter_contact_id, v.has_unsubscribe_link "
    "FROM templates t "
    "JOIN template_versions v ON v.template_id = t.id ";

}  // namespace

// A fixed set of reader connections; callers borrow one at a time.
class SqliteStore::ReaderPool {
 public:
  static Result<std::unique_ptr<ReaderPool>> open(const SqliteConfig& config) {
    auto pool = std::make_unique<ReaderPool>();
    for (std::size_t i = 0; i < std::max<std::size_t>(1, config.readers); ++i) {
      auto connection = Connection::open(config.path, config.durability);
      if (!connection) return connection.error();
      pool->idle_.push_back(std::make_unique<Connection>(std::move(*connection)));
    }
    return pool;
  }
  template <typename F>
  auto borrow(F&& use) {
    std::unique_ptr<Connection> connection;
    {
      std::unique_lock lock(mutex_);
      available_.wait(lock, [this] { return !idle_.empty(); });
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    auto result = use(*connection);
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(connection));
    }
    available_.notify_one();
    return result;
  }

 private:
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
};

SqliteStore::SqliteStore(std::shared_ptr<const crypto::FieldCipher> cipher) : cipher_(std::move(cipher)) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  writer_.reset();  // runs what is queued
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(
    const SqliteConfig& config, std::shared_ptr<const crypto::FieldCipher> cipher, Timestamp now) {
  auto connection = Connection::open(config.path, config.durability);
  if (!connection) return connection.error();
  auto applied = apply_migrations(*connection, to_micros(now));
  if (!applied) return applied.error();
  // Checkpoints run on their own thread (checkpoint_loop), never inside a commit.
  HERALD_TRY(connection->execute_script("PRAGMA wal_autocheckpoint=0;"));
  // When the WAL starts again, a file grown past this (a burst, or a long read that held every
  // frame) is cut back to it.
  HERALD_TRY(connection->execute_script("PRAGMA journal_size_limit=268435456;"));
  // Redacted ciphertexts are overwritten in their pages where that costs no extra I/O.
  HERALD_TRY(connection->execute_script("PRAGMA secure_delete=FAST;"));
  HERALD_TRY(seal_legacy_references(*connection, *cipher, now));
  HERALD_TRY(seal_legacy_callback_urls(*connection, *cipher, now));
  HERALD_TRY(index_legacy_nhs_numbers(*connection, *cipher, now));
  auto readers = ReaderPool::open(config);
  if (!readers) return readers.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(cipher)));
  store->readers_ = std::move(*readers);
  store->writer_ = std::make_unique<GroupCommitWriter>(std::move(*connection), config.max_batch, config.commit_gather);
  store->checkpointer_ = std::thread([raw = store.get(), path = config.path, interval = config.checkpoint_interval] {
    set_thread_name("sqlite-ckpt");
    raw->checkpoint_loop(path, interval);
  });
  return store;
}

void SqliteStore::checkpoint_loop(std::string path, Duration interval) {
  auto connection = Connection::open(path, Connection::Durability::kFull);
  if (!connection) {
    log::error("store.checkpointer_failed", {{"error", connection.error().message}});
    return;
  }
  std::unique_lock lock(checkpoint_mutex_);
  while (!checkpoint_wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer or readers. SQLite starts the WAL
    // again from its beginning only once every frame has been copied, which never happens while
    // the writer appends faster than this copies: under continuous load the WAL grew without
    // bound (450 MB in a 10 s benchmark round), and every commit that lengthens the file makes
    // its fsync write the inode too. So once the WAL is large, after copying the bulk here, the
    // writer copies the few frames appended meanwhile between two of its batches
    // (GroupCommitWriter::request_checkpoint). That stalls the writer for its copy and the
    // database's fsync (~7 ms here), so not every time: the WAL may reach ~64 MB first.
    constexpr std::int64_t kRestartFrames = 16384;
    auto stmt = connection->prepare("PRAGMA wal_checkpoint(PASSIVE)");
    auto row = stmt ? stmt->step() : Result<bool>(stmt.error());
    if (!row) {
      log::warn("store.checkpoint_failed", {{"error", row.error().message}});
    } else if (*row && stmt->column_int(1) >= kRestartFrames) {
      writer_->request_checkpoint();
    }
    lock.lock();
  }
  lock.unlock();
  (void)connection->execute_script("PRAGMA wal_checkpoint(TRUNCATE);");
}

template <typename T, typename F>
Result<T> SqliteStore::with_reader(F&& read) {
  return readers_->borrow([&](Connection& connection) -> Result<T> { return read(connection); });
}

Result<void> SqliteStore::create_service(const ServiceRecord& service) {
  return writer_->run([&service](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "INSERT INTO services (id, name, email_sender_local_part, active, restricted, created_at, retention_days, "
        "permissions, prefix_sms, rate_limit, email_limit, sms_limit, letter_limit, international_sms_limit, "
        "go_live_requested_at, go_live_requested_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, service.id.to_string())
        .bind_text(2, service.name)
        .bind_text(3, service.email_sender_local_part)
        .bind_int(4, service.active ? 1 : 0)
        .bind_int(5, service.restricted ? 1 : 0)
        .bind_int(6, to_micros(service.created_at))
        .bind_int(7, service.retention_days)
        .bind_text(8, join_permissions(service.permissions))
        .bind_int(9, service.prefix_sms ? 1 : 0)
        .bind_int(10, service.rate_limit)
        .bind_int(11, service.email_limit)
        .bind_int(12, service.sms_limit)
        .bind_int(13, service.letter_limit)
        .bind_int(14, service.international_sms_limit)
        .bind_optional_int(15, optional_micros(service.go_live_requested_at))
        .bind_optional_text(16, optional_id_text(service.go_live_requested_by))
        .run();
  });
}

Result<void> SqliteStore::update_service(const ServiceRecord& service) {
  return writer_->run([&service](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE services SET active = ?, restricted = ?, retention_days = ?, permissions = ?, prefix_sms = ?, "
        "rate_limit = ?, email_limit = ?, sms_limit = ?, letter_limit = ?, international_sms_limit = ?, "
        "go_live_requested_at = ?, go_live_requested_by = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, service.active ? 1 : 0)
                   .bind_int(2, service.restricted ? 1 : 0)
                   .bind_int(3, service.retention_days)
                   .bind_text(4, join_permissions(service.permissions))
                   .bind_int(5, service.prefix_sms ? 1 : 0)
                   .bind_int(6, service.rate_limit)
                   .bind_int(7, service.email_limit)
                   .bind_int(8, service.sms_limit)
                   .bind_int(9, service.letter_limit)
                   .bind_int(10, service.international_sms_limit)
                   .bind_optional_int(11, optional_micros(service.go_live_requested_at))
                   .bind_optional_text(12, optional_id_text(service.go_live_requested_by))
                   .bind_text(13, service.id.to_string())
                   .run());
    if (db.changes() != 1) return not_found("no service " + service.id.to_string());
    return ok();
  });
}

Result<void> SqliteStore::add_service_contact(const ServiceContact& contact) {
  // Writer jobs run in a savepoint of the writer's transaction: both statements or neither.
  return writer_->run([&contact](Connection& db) -> Result<void> {
    if (contact.is_default) {
      auto clear = db.prepare("UPDATE service_contacts SET is_default = 0 WHERE service_id = ? AND kind = ?");
      if (!clear) return clear.error();
      HERALD_TRY(clear->bind_text(1, contact.service.to_string()).bind_text(2, contact_kind_name(contact.kind)).run());
    }
    auto stmt = db.prepare("INSERT INTO service_contacts VALUES (?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, contact.id.to_string())
                   .bind_text(2, contact.service.to_string())
                   .bind_text(3, contact_kind_name(contact.kind))
                   .bind_text(4, contact.value)
                   .bind_int(5, contact.is_default ? 1 : 0)
                   .bind_int(6, to_micros(contact.created_at))
                   .run());
    return ok();
  });
}

// The contact is found by id, service and kind, so no statement touches another service's rows
// (nor another kind's default); a miss rolls the job's savepoint back, clearing included.
Result<void> SqliteStore::update_service_contact(const ServiceContact& contact) {
  return writer_->run([&contact](Connection& db) -> Result<void> {
    const std::string id = contact.id.to_string();
    const std::string service = contact.service.to_string();
    auto stmt = db.prepare(
        "UPDATE service_contacts SET value = ?, is_default = ? WHERE id = ? AND service_id = ? AND kind = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, contact.value)
                   .bind_int(2, contact.is_default ? 1 : 0)
                   .bind_text(3, id)
                   .bind_text(4, service)
                   .bind_text(5, contact_kind_name(contact.kind))
                   .run());
    if (db.changes() != 1) return not_found("no " + std::string(contact_kind_name(contact.kind)) + " contact " + id);
    if (contact.is_default) {
      auto clear =
          db.prepare("UPDATE service_contacts SET is_default = 0 WHERE service_id = ? AND kind = ? AND id <> ?");
      if (!clear) return clear.error();
      HERALD_TRY(clear->bind_text(1, service).bind_text(2, contact_kind_name(contact.kind)).bind_text(3, id).run());
    }
    return ok();
  });
}

Result<bool> SqliteStore::changed_one_row(std::string_view sql, const std::string& first, const std::string& second,
                                          std::optional<Timestamp> at) {
  bool changed = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    const int next = at ? 2 : 1;
    if (at) stmt->bind_int(1, to_micros(*at));
    HERALD_TRY(stmt->bind_text(next, first).bind_text(next + 1, second).run());
    changed = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return changed;
}

Result<bool> SqliteStore::remove_service_contact(ServiceId service, Uuid id) {
  return changed_one_row("DELETE FROM service_contacts WHERE id = ? AND service_id = ?", id.to_string(),
                         service.to_string());
}

Result<std::vector<ServiceContact>> SqliteStore::service_contacts(ServiceId service, ContactKind kind) {
  return with_reader<std::vector<ServiceContact>>([&](Connection& db) -> Result<std::vector<ServiceContact>> {
    auto stmt = db.prepare(
        "SELECT id, value, is_default, created_at FROM service_contacts WHERE service_id = ? AND kind = ? "
        "ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_text(2, contact_kind_name(kind));
    std::vector<ServiceContact> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto id = parse_id<Uuid>(stmt->column_text(0));
      if (!id) return id.error();
      out.push_back({*id, service, kind, stmt->column_text(1), stmt->column_int(2) != 0,
                     from_micros(stmt->column_int(3))});
    }
  });
}

Result<std::optional<ServiceRecord>> SqliteStore::find_service_where(const char* sql,
                                                                     std::string_view key) {
  return with_reader<std::optional<ServiceRecord>>([&](Connection& db) -> Result<std::optional<ServiceRecord>> {
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind_text(1, key);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<ServiceRecord>();
    return std::optional<ServiceRecord>(read_service(*stmt));
  });
}

Result<std::optional<ServiceRecord>> SqliteStore::find_service(ServiceId id) {
  return find_service_where("SELECT * FROM services WHERE id = ?", id.to_string());
}

Result<std::optional<ServiceRecord>> SqliteStore::find_service_by_name(const std::string& name) {
  return find_service_where("SELECT * FROM services WHERE name = ?", name);
}

Result<void> SqliteStore::create_api_key(const ApiKeyRecord& key) {
  HERALD_TRY(check_networks(key.allowed_networks));
  const std::string id = key.id.to_string();
  auto sealed = seal_api_key_secret(*cipher_, key);
  if (!sealed) return sealed.error();
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "INSERT INTO api_keys (id, service_id, name, key_type, secret, created_at, revoked_at, allowed_networks) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, id)
        .bind_text(2, key.service.to_string())
        .bind_text(3, key.name)
        .bind_text(4, key_type_name(key.type))
        .bind_blob(5, *sealed)
        .bind_int(6, to_micros(key.created_at))
        .bind_optional_int(7, optional_micros(key.revoked_at))
        .bind_text(8, join_networks(key.allowed_networks))
        .run();
  });
}

Result<std::vector<ApiKeyRecord>> SqliteStore::api_keys_for_service(ServiceId service) {
  return with_reader<std::vector<ApiKeyRecord>>([&](Connection& db) -> Result<std::vector<ApiKeyRecord>> {
    std::vector<ApiKeyRecord> keys;
    auto stmt = db.prepare(
        "SELECT id, name, key_type, secret, created_at, revoked_at, allowed_networks FROM api_keys "
        "WHERE service_id = ? ORDER BY created_at");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string());
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return keys;
      ApiKeyRecord key;
      auto id = parse_id<ApiKeyId>(stmt->column_text(0));
      if (!id) return id.error();
      key.id = *id;
      key.service = service;
      key.name = stmt->column_text(1);
      key.type = parse_key_type(stmt->column_text(2)).value_or(KeyType::kNormal);
      auto secret = open_api_key_secret(*cipher_, stmt->column_blob(3), stmt->column_text(0));
      if (!secret) return secret.error();
      key.secret = std::move(*secret);
      key.created_at = from_micros(stmt->column_int(4));
      key.revoked_at = optional_time(stmt->column_optional_int(5));
      key.allowed_networks = split_networks(stmt->column_text(6));
      keys.push_back(std::move(key));
    }
  });
}

Result<void> SqliteStore::revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND service_id = ? AND revoked_at IS NULL");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(now)).bind_text(2, key.to_string()).bind_text(3, service.to_string()).run());
    if (db.changes() != 1) return not_found("no live API key " + key.to_string() + " in service " + service.to_string());
    return ok();
  });
}

Result<void> SqliteStore::set_api_key_networks(ServiceId service, ApiKeyId key,
                                               const std::vector<std::string>& networks) {
  HERALD_TRY(check_networks(networks));
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE api_keys SET allowed_networks = ? WHERE id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, join_networks(networks))
                   .bind_text(2, key.to_string())
                   .bind_text(3, service.to_string())
                   .run());
    if (db.changes() != 1) return not_found("no API key " + key.to_string() + " in service " + service.to_string());
    return ok();
  });
}

Result<void> SqliteStore::create_template(const TemplateRecord& record) {
  return writer_->run([&record](Connection& db) -> Result<void> {
    const std::string id = record.id.to_string();
    auto head = db.prepare("INSERT INTO templates VALUES (?, ?, 1, 0)");
    if (!head) return head.error();
    HERALD_TRY(head->bind_text(1, id).bind_text(2, record.service.to_string()).run());
    auto version = db.prepare("INSERT INTO template_versions VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!version) return version.error();
    return version->bind_text(1, id)
        .bind_text(2, record.name)
        .bind_text(3, channel_name(record.type))
        .bind_text(4, record.subject)
        .bind_text(5, record.body)
        .bind_int(6, to_micros(record.created_at))
        .bind_text(7, record.created_by)
        .bind_optional_text(8, record.postage)
        .bind_optional_text(9, record.letter_contact_id)
        .bind_int(10, record.has_unsubscribe_link ? 1 : 0)
        .run();
  });
}

Result<void> SqliteStore::add_template_version(const TemplateRecord& record) {
  return writer_->run([&record](Connection& db) -> Result<void> {
    const std::string id = record.id.to_string();
    auto head = db.prepare("UPDATE templates SET current_version = ? WHERE id = ? AND service_id = ? AND current_version = ?");
    if (!head) return head.error();
    HERALD_TRY(head->bind_int(1, record.version).bind_text(2, id).bind_text(3, record.service.to_string())
                   .bind_int(4, record.version - 1).run());
    if (db.changes() != 1) {
      auto exists = db.prepare("SELECT 1 FROM templates WHERE id = ? AND service_id = ?");
      if (!exists) return exists.error();
      exists->bind_text(1, id).bind_text(2, record.service.to_string());
      auto row = exists->step();
      if (!row) return row.error();
      if (!*row) return not_found("no template " + id + " in service " + record.service.to_string());
      return failed_precondition("template " + id + " is no longer at version " + std::to_string(record.version - 1));
    }
    auto version = db.prepare("INSERT INTO template_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!version) return version.error();
    return version->bind_text(1, id)
        .bind_int(2, record.version)
        .bind_text(3, record.name)
        .bind_text(4, channel_name(record.type))
        .bind_text(5, record.subject)
        .bind_text(6, record.body)
        .bind_int(7, to_micros(record.created_at))
        .bind_text(8, record.created_by)
        .bind_optional_text(9, record.postage)
        .bind_optional_text(10, record.letter_contact_id)
        .bind_int(11, record.has_unsubscribe_link ? 1 : 0)
        .run();
  });
}

Result<void> SqliteStore::set_template_archived(ServiceId service, TemplateId id, bool archived) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE templates SET archived = ? WHERE id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, archived ? 1 : 0).bind_text(2, id.to_string()).bind_text(3, service.to_string()).run());
    if (db.changes() != 1) return not_found("no template " + id.to_string() + " in service " + service.to_string());
    return ok();
  });
}

Result<std::optional<TemplateRecord>> SqliteStore::find_template(ServiceId service, TemplateId id,
                                                                 std::optional<int> version) {
  return with_reader<std::optional<TemplateRecord>>([&](Connection& db) -> Result<std::optional<TemplateRecord>> {
    const std::string sql = std::string(kTemplateSelect) +
                            "WHERE t.id = ? AND t.service_id = ? AND v.version = " +
                            (version ? "?" : "t.current_version");
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string());
    if (version) stmt->bind_int(3, *version);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<TemplateRecord>();
    return std::optional<TemplateRecord>(read_template(*stmt));
  });
}

Result<std::vector<TemplateRecord>> SqliteStore::templates_for_service(ServiceId service) {
  return with_reader<std::vector<TemplateRecord>>([&](Connection& db) -> Result<std::vector<TemplateRecord>> {
    std::vector<TemplateRecord> out;
    auto stmt = db.prepare(std::string(kTemplateSelect) +
                           "WHERE t.service_id = ? AND v.version = t.current_version "
                           "AND t.archived = 0 ORDER BY v.name");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string());
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read_template(*stmt));
    }
  });
}

namespace {

// The job and the row of its file a notification was made from (JobStore::save_job_rows).
struct JobRowLink {
  const std::string& job_id;
  int row;
};

// Inserts one sealed notification (the accept path's, the NHS cascade's and jobs').
Result<void> insert_sealed_notification(Connection& db, const SealedNotification& row,
                                        const std::optional<JobRowLink>& job = std::nullopt) {
  static const std::string columns =
      "INSERT INTO notifications (id, service_id, api_key_id, key_type, template_id, template_version, "
      "notification_type, status, reference_sealed, recipient, personalisation, subject, body, "
      "one_click_unsubscribe_url, created_at, due_at, recipient_index, sender, billable_units, rate_multiplier, "
      "postage, updated_at, sent_at, reference_index";
  static const std::string values = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
  static const std::string plain = columns + ") VALUES (" + values + ")";
  static const std::string linked = columns + ", job_id, job_row) VALUES (" + values + ", ?, ?)";
  auto stmt = db.prepare(job ? linked : plain);
  if (!stmt) return stmt.error();
  if (job) stmt->bind_text(25, job->job_id).bind_int(26, job->row);
  return stmt->bind_text(1, row.id)
      .bind_text(2, row.service)
      .bind_text(3, row.api_key)
      .bind_text(4, row.key_type)
      .bind_text(5, row.template_id)
      .bind_int(6, row.template_version)
      .bind_text(7, row.type)
      .bind_text(8, row.status)
      .bind_optional_blob(9, row.reference)
      .bind_blob(10, row.recipient)
      .bind_blob(11, row.personalisation)
      .bind_blob(12, row.subject)
      .bind_blob(13, row.body)
      .bind_optional_blob(14, row.unsubscribe)
      .bind_int(15, row.created_at)
      .bind_optional_int(16, row.due_at)
      .bind_optional_blob(17, row.recipient_index)
      .bind_optional_text(18, row.sender)
      .bind_int(19, row.billable_units)
      .bind_int(20, row.rate_multiplier)
      .bind_optional_text(21, row.postage)
      .bind_optional_int(22, row.updated_at)
      .bind_optional_int(23, row.sent_at)
      .bind_optional_blob(24, row.reference_index)
      .run();
}

}  // namespace

Result<void> SqliteStore::insert_notification(const NotificationRecord& record) {
  return wait_for([&](Completion done) { insert_notification_async(record, std::move(done)); });
}

void SqliteStore::insert_notification_async(const NotificationRecord& record, Completion done) {
  // Sealing and formatting happen here, on the caller's thread, so the writer thread only binds
  // and steps; the row it holds has no plaintext personal field.
  auto sealed = seal_notification(*cipher_, record);
  if (!sealed) {
    done(sealed.error());
    return;
  }
  writer_->submit([row = std::make_shared<SealedNotification>(std::move(*sealed))](
                      Connection& db) -> Result<void> { return insert_sealed_notification(db, *row); },
                  std::move(done));
}

Result<NotificationRecord> SqliteStore::read_notification(const Statement& row) const {
  SealedNotification s;
  s.id = row.column_text(0);
  s.service = row.column_text(1);
  s.api_key = row.column_text(2);
  s.key_type = row.column_text(3);
  s.template_id = row.column_text(4);
  s.template_version = row.column_int(5);
  s.type = row.column_text(6);
  s.status = row.column_text(7);
  if (!row.column_is_null(8)) s.reference = row.column_blob(8);
  s.recipient = row.column_blob(9);
  s.personalisation = row.column_blob(10);
  s.subject = row.column_blob(11);
  s.body = row.column_blob(12);
  if (!row.column_is_null(13)) s.unsubscribe = row.column_blob(13);
  s.created_at = row.column_int(14);
  s.sent_at = row.column_optional_int(15);
  s.updated_at = row.column_optional_int(16);
  s.attempts = row.column_int(17);
  s.sender = row.column_optional_text(18);
  s.billable_units = row.column_int(19);
  s.rate_multiplier = row.column_int(20);
  s.sent_by = row.column_optional_text(21);
  s.callback_attempts = row.column_int(22);
  s.postage = row.column_optional_text(23);
  return open_notification(*cipher_, s);
}

Result<std::optional<NotificationRecord>> SqliteStore::find_notification(ServiceId service,
                                                                         NotificationId id) {
  return with_reader<std::optional<NotificationRecord>>([&](Connection& db) -> Result<std::optional<NotificationRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kNotificationColumns +
                           " FROM notifications WHERE id = ? AND service_id = ? AND redacted_at IS NULL");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string());
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<NotificationRecord>();
    auto record = read_notification(*stmt);
    // Its day's data key was destroyed (a database restored from before a retention run): the
    // personal data is gone, so the notification is as absent as a redacted one.
    if (!record && record.error().code == ErrorCode::kNotFound) return std::optional<NotificationRecord>();
    if (!record) return record.error();
    return std::optional<NotificationRecord>(std::move(*record));
  });
}

Result<std::vector<NotificationRecord>> SqliteStore::list_notifications(const NotificationQuery& query) {
  return with_reader<std::vector<NotificationRecord>>([&](Connection& db) -> Result<std::vector<NotificationRecord>> {
    std::vector<NotificationRecord> out;
    const std::string service = query.service.to_string();
    std::optional<std::string> reference;
    if (query.reference) {
      auto index = reference_index(*cipher_, query.service, *query.reference, Timestamp{});
      if (!index) return index.error();
      reference = std::move(*index);
    }
    std::optional<std::pair<std::int64_t, std::string>> before;
    if (query.older_than) {
      auto stmt = db.prepare("SELECT created_at FROM notifications WHERE id = ? AND service_id = ? AND redacted_at IS NULL");
      if (!stmt) return stmt.error();
      stmt->bind_text(1, query.older_than->to_string()).bind_text(2, service);
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      before.emplace(stmt->column_int(0), query.older_than->to_string());
    }
    std::string sql = std::string("SELECT ") + kNotificationColumns +
                      " FROM notifications WHERE service_id = ? AND redacted_at IS NULL AND nhs_message_id IS NULL";
    if (!query.any_key_type) sql += " AND key_type = ?";
    if (!query.include_jobs) sql += " AND job_id IS NULL";
    const auto in_list = [&sql](const char* column, std::size_t n) {
      if (n == 0) return;
      sql += std::string(" AND ") + column + " IN (?";
      for (std::size_t i = 1; i < n; ++i) sql += ", ?";
      sql += ")";
    };
    in_list("notification_type", query.types.size());
    in_list("status", query.statuses.size());
    if (reference) sql += " AND reference_index = ?";
    if (query.created_from) sql += " AND created_at >= ?";
    if (query.created_before) sql += " AND created_at < ?";
    if (before) sql += " AND (created_at, id) < (?, ?)";
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    stmt->bind_text(i++, service);
    if (!query.any_key_type) stmt->bind_text(i++, key_type_name(query.key_type));
    for (Channel type : query.types) stmt->bind_text(i++, channel_name(type));
    for (NotificationStatus status : query.statuses) stmt->bind_text(i++, status_name(status));
    if (reference) stmt->bind_blob(i++, *reference);
    if (query.created_from) stmt->bind_int(i++, to_micros(*query.created_from));
    if (query.created_before) stmt->bind_int(i++, to_micros(*query.created_before));
    if (before) {
      stmt->bind_int(i++, before->first);
      stmt->bind_text(i++, before->second);
    }
    stmt->bind_int(i, query.limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto record = read_notification(*stmt);
      // Its day's data key was destroyed: gone, as after retention.
      if (!record && record.error().code == ErrorCode::kNotFound) continue;
      if (!record) return record.error();
      out.push_back(std::move(*record));
    }
  });
}

Result<std::vector<NotificationRecord>> SqliteStore::claim_due(int limit, Timestamp now,
                                                               Duration lease) {
  std::vector<NotificationRecord> claimed;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    std::vector<std::string> unreadable;
    {
      auto stmt = db.prepare(
          std::string("UPDATE notifications SET status = 'sending', attempts = attempts + 1, "
                      "due_at = ? WHERE id IN (SELECT id FROM notifications WHERE status IN "
                      "('created', 'sending') AND due_at <= ? AND redacted_at IS NULL ORDER BY due_at LIMIT ?) RETURNING ") +
          kNotificationColumns);
      if (!stmt) return stmt.error();
      stmt->bind_int(1, to_micros(now + lease)).bind_int(2, to_micros(now)).bind_int(3, limit);
      while (true) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        auto record = read_notification(*stmt);
        if (record) {
          claimed.push_back(std::move(*record));
        } else {
          // A row that cannot be decrypted (wrong key, tampering) must not block every other
          // notification behind it: it fails for good and the operator is told.
          unreadable.push_back(stmt->column_text(0));
          log::error("store.unreadable_notification",
                     {{"notification_id", unreadable.back()}, {"error", record.error().message}});
        }
      }
    }
    for (const std::string& id : unreadable) {
      auto fail = db.prepare(
          "UPDATE notifications SET status = 'technical-failure', due_at = NULL, updated_at = ? WHERE id = ?");
      if (!fail) return fail.error();
      HERALD_TRY(fail->bind_int(1, to_micros(now)).bind_text(2, id).run());
    }
    return ok();
  });
  if (!result) return result.error();
  return claimed;
}

Result<void> SqliteStore::record_outcome(const DeliveryOutcome& outcome) {
  return wait_for([&](Completion done) { record_outcome_async(outcome, std::move(done)); });
}

void SqliteStore::record_outcome_async(DeliveryOutcome outcome, Completion done) {
  writer_->submit(
      [outcome = std::move(outcome)](Connection& db) -> Result<void> {
        // Numbered parameters: the callback's condition names ?6 more than once.
        static const std::string sql =
            "UPDATE notifications SET status = ?1, updated_at = ?2, sent_at = COALESCE(?3, sent_at), due_at = ?4, "
            "sent_by = COALESCE(?5, sent_by), " +
            callback_due_assignments("?6", "?7", "notifications") + " WHERE id = ?8 RETURNING nhs_message_id";
        auto stmt = db.prepare(sql);
        if (!stmt) return stmt.error();
        stmt->bind_text(1, status_name(outcome.status))
            .bind_int(2, to_micros(outcome.updated_at))
            .bind_optional_int(3, optional_micros(outcome.sent_at))
            .bind_optional_int(4, optional_micros(outcome.next_attempt_at))
            .bind_optional_text(5, outcome.sent_by)
            .bind_int(6, outcome.callback ? 1 : 0)
            .bind_int(7, to_micros(outcome.updated_at))
            .bind_text(8, outcome.id.to_string());
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) return not_found("notification " + outcome.id.to_string());
        const std::optional<std::string> message = stmt->column_optional_text(0);
        HERALD_TRY(stmt->step());  // finish the statement
        return wake_nhs_message(db, message, outcome.updated_at);
      },
      std::move(done));
}

Result<std::optional<NotificationRecord>> SqliteStore::apply_receipt(const DeliveryReceipt& receipt) {
  std::optional<NotificationRecord> applied;
  if (receipt.transitions.empty()) return applied;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    // The transitions are the domain's rule (domain::status_after_receipt), applied in one update.
    // Numbered parameters: the callback's condition names ?2 more than once.
    auto stmt = db.prepare("UPDATE notifications SET status = " + receipt_status_case(receipt) + ", updated_at = ?1, " +
                           callback_due_assignments("?2", "?3", "notifications") +
                           " WHERE id = ?4 AND sent_by = ?5 AND status IN " + receipt_status_list(receipt) +
                           " AND redacted_at IS NULL RETURNING " + kNotificationColumns + ", nhs_message_id");
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(receipt.received_at))
        .bind_int(2, receipt.callback ? 1 : 0)
        .bind_int(3, to_micros(receipt.received_at))
        .bind_text(4, receipt.id.to_string())
        .bind_text(5, receipt.provider);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return ok();
    auto record = read_notification(*stmt);
    const std::optional<std::string> message = stmt->column_optional_text(kNotificationColumnCount);
    HERALD_TRY(stmt->step());  // finish the statement
    if (record) applied = std::move(*record);
    return wake_nhs_message(db, message, receipt.received_at);
  });
  if (!result) return result.error();
  return applied;
}

Result<void> SqliteStore::set_service_callback(const ServiceCallback& callback) {
  auto token = seal_callback_field(*cipher_, callback.service, callback.kind, "bearer_token", callback.bearer_token,
                                   callback.updated_at);
  if (!token) return token.error();
  auto url = seal_callback_field(*cipher_, callback.service, callback.kind, "url", callback.url, callback.updated_at);
  if (!url) return url.error();
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "INSERT INTO service_callbacks (service_id, kind, url, bearer_token, updated_at, url_sealed) "
        "VALUES (?, ?, '', ?, ?, ?) ON CONFLICT (service_id, kind) DO UPDATE SET url = '', "
        "url_sealed = excluded.url_sealed, bearer_token = excluded.bearer_token, updated_at = excluded.updated_at");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, callback.service.to_string())
        .bind_text(2, callback_kind_name(callback.kind))
        .bind_blob(3, *token)
        .bind_int(4, to_micros(callback.updated_at))
        .bind_blob(5, *url)
        .run();
  });
}

Result<std::optional<ServiceCallback>> SqliteStore::find_service_callback(ServiceId service, CallbackKind kind) {
  return with_reader<std::optional<ServiceCallback>>([&](Connection& db) -> Result<std::optional<ServiceCallback>> {
    auto stmt = db.prepare(
        "SELECT url_sealed, bearer_token, updated_at FROM service_callbacks WHERE service_id = ? AND kind = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_text(2, callback_kind_name(kind));
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<ServiceCallback>();
    auto url = open_callback_field(*cipher_, service, kind, "url", stmt->column_blob(0));
    if (!url) return url.error();
    auto token = open_callback_field(*cipher_, service, kind, "bearer_token", stmt->column_blob(1));
    if (!token) return token.error();
    return std::optional<ServiceCallback>(
        ServiceCallback{service, kind, std::move(*url), std::move(*token), from_micros(stmt->column_int(2))});
  });
}

Result<bool> SqliteStore::delete_service_callback(ServiceId service, CallbackKind kind) {
  return changed_one_row("DELETE FROM service_callbacks WHERE service_id = ? AND kind = ?", service.to_string(),
                         callback_kind_name(kind));
}

Result<std::vector<NotificationRecord>> SqliteStore::claim_callbacks(int limit, Timestamp now, Duration lease) {
  std::vector<NotificationRecord> claimed;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        std::string("UPDATE notifications SET callback_due_at = ?, callback_attempts = callback_attempts + 1 "
                    "WHERE id IN (SELECT id FROM notifications WHERE callback_due_at <= ? AND redacted_at IS NULL "
                    "ORDER BY callback_due_at LIMIT ?) RETURNING ") +
        kNotificationColumns);
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(now + lease)).bind_int(2, to_micros(now)).bind_int(3, limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return ok();
      auto record = read_notification(*stmt);
      if (record) claimed.push_back(std::move(*record));
    }
  });
  if (!result) return result.error();
  return claimed;
}

Result<void> SqliteStore::finish_callback(NotificationId id, std::optional<Timestamp> retry_at) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE notifications SET callback_due_at = ?, callback_dead_at = NULL, callback_error = NULL WHERE id = ?");
    if (!stmt) return stmt.error();
    return stmt->bind_optional_int(1, optional_micros(retry_at)).bind_text(2, id.to_string()).run();
  });
}

Result<void> SqliteStore::kill_callback(NotificationId id, Timestamp now, std::string_view error) {
  return writer_->run([&](Connection& db) -> Result<void> {
    // A redacted notification has nothing left to send: it never goes on the dead list.
    auto stmt = db.prepare(
        "UPDATE notifications SET callback_due_at = NULL, callback_dead_at = ?, callback_error = ? "
        "WHERE id = ? AND redacted_at IS NULL");
    if (!stmt) return stmt.error();
    return stmt->bind_int(1, to_micros(now)).bind_text(2, error).bind_text(3, id.to_string()).run();
  });
}

Result<int> SqliteStore::take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                                     double capacity) {
  int granted = 0;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto read = db.prepare("SELECT tokens, updated_at FROM rate_buckets WHERE key = ?");
    if (!read) return read.error();
    read->bind_text(1, bucket);
    auto row = read->step();
    if (!row) return row.error();
    const double tokens = *row ? refill(read->column_double(0), from_micros(read->column_int(1)), now, refill_per_second,
                                        capacity)
                               : capacity;
    granted = static_cast<int>(std::min<double>(want, std::floor(tokens)));
    auto write = db.prepare("INSERT INTO rate_buckets VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                            "tokens = excluded.tokens, updated_at = excluded.updated_at");
    if (!write) return write.error();
    return write->bind_text(1, bucket).bind_double(2, tokens - granted).bind_int(3, to_micros(now)).run();
  });
  if (!result) return result.error();
  return granted;
}

Result<std::int64_t> SqliteStore::reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) {
  std::int64_t granted = 0;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto read = db.prepare("SELECT used FROM daily_counts WHERE key = ?");
    if (!read) return read.error();
    read->bind_text(1, counter);
    auto row = read->step();
    if (!row) return row.error();
    const std::int64_t used = *row ? read->column_int(0) : 0;
    granted = std::clamp<std::int64_t>(limit - used, 0, want);
    if (granted == 0) return ok();
    auto write = db.prepare("INSERT INTO daily_counts VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET used = excluded.used");
    if (!write) return write.error();
    return write->bind_text(1, counter).bind_int(2, used + granted).run();
  });
  if (!result) return result.error();
  return granted;
}

namespace {

constexpr const char* kInboundColumns =
    "id, service_id, notify_number, user_number, content, provider, provider_reference, received_at, created_at, "
    "callback_attempts";

SealedInboundSms sealed_inbound(const Statement& row) {
  SealedInboundSms s;
  s.id = row.column_text(0);
  s.service = row.column_text(1);
  s.notify_number = row.column_text(2);
  s.user_number = row.column_blob(3);
  s.content = row.column_blob(4);
  s.provider = row.column_text(5);
  s.provider_reference = row.column_optional_text(6);
  s.received_at = row.column_int(7);
  s.created_at = row.column_int(8);
  s.callback_attempts = row.column_int(9);
  return s;
}

}  // namespace

Result<void> SqliteStore::add_guest_list_entry(const GuestListEntry& entry) {
  auto key_id = cipher_->keys().key_for_scope(crypto::kSecretsScope, entry.created_at);
  if (!key_id) return key_id.error();
  const std::string id = entry.id.to_string();
  auto sealed = cipher_->seal(entry.recipient, {"service_guest_list", "recipient", id}, *key_id);
  if (!sealed) return sealed.error();
  auto index = cipher_->blind_index(entry.service.to_string(), entry.recipient_normalised, entry.created_at);
  if (!index) return index.error();
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("INSERT INTO service_guest_list VALUES (?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, id)
        .bind_text(2, entry.service.to_string())
        .bind_text(3, entry.recipient_type)
        .bind_blob(4, *sealed)
        .bind_blob(5, *index)
        .bind_int(6, to_micros(entry.created_at))
        .run();
  });
}

Result<void> SqliteStore::put_letter_pdf(ServiceId service, NotificationId id, Timestamp created_at,
                                         std::string_view pdf) {
  auto sealed = seal_letter_pdf(*cipher_, service, id, created_at, pdf);
  if (!sealed) return sealed.error();
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("INSERT INTO letter_pdfs (notification_id, service_id, created_at, pdf) VALUES (?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, id.to_string())
        .bind_text(2, service.to_string())
        .bind_int(3, to_micros(created_at))
        .bind_blob(4, *sealed)
        .run();
  });
}

Result<std::optional<std::string>> SqliteStore::find_letter_pdf(ServiceId service, NotificationId id) {
  auto envelope = with_reader<std::optional<std::string>>([&](Connection& db) -> Result<std::optional<std::string>> {
    auto stmt = db.prepare("SELECT pdf FROM letter_pdfs WHERE notification_id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string());
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>{};
    return std::optional<std::string>(stmt->column_blob(0));
  });
  if (!envelope) return envelope.error();
  if (!*envelope) return std::optional<std::string>{};
  return open_letter_pdf(*cipher_, **envelope, id);
}

// On the guest list, or (an email address) a team member: an admin user of that email (the
// blind index of the "admin-users" domain, as the user was stored under: the domain's
// normalised, lower-cased address, the form callers pass here) with a membership of the service,
// not disabled. One read, by index, nothing opened.
Result<bool> SqliteStore::on_guest_list(ServiceId service, std::string_view recipient_normalised) {
  const Timestamp now = SystemClock().now();
  auto index = cipher_->blind_index(service.to_string(), recipient_normalised, now);
  if (!index) return index.error();
  std::optional<std::string> team_index;
  if (recipient_normalised.find('@') != std::string_view::npos) {
    auto admin = admin_email_index(*cipher_, recipient_normalised, now);
    if (!admin) return admin.error();
    team_index = std::move(*admin);
  }
  return with_reader<bool>([&](Connection& db) -> Result<bool> {
    std::string sql = "SELECT 1 FROM service_guest_list WHERE service_id = ?1 AND recipient_index = ?2";
    if (team_index) {
      sql +=
          " UNION ALL SELECT 1 FROM admin_users u JOIN admin_memberships m ON m.user_id = u.id "
          "WHERE u.email_index = ?3 AND m.service_id = ?1 AND u.disabled_at IS NULL";
    }
    auto stmt = db.prepare(sql + " LIMIT 1");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_blob(2, *index);
    if (team_index) stmt->bind_blob(3, *team_index);
    auto row = stmt->step();
    if (!row) return row.error();
    return *row;
  });
}

// recipient_normalised stays empty: only its blind index is stored.
Result<std::vector<GuestListEntry>> SqliteStore::guest_list(ServiceId service) {
  return with_reader<std::vector<GuestListEntry>>([&](Connection& db) -> Result<std::vector<GuestListEntry>> {
    auto stmt = db.prepare(
        "SELECT id, recipient_type, recipient, created_at FROM service_guest_list WHERE service_id = ? "
        "ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string());
    std::vector<GuestListEntry> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      const std::string id = stmt->column_text(0);
      auto parsed = parse_id<Uuid>(id);
      if (!parsed) return parsed.error();
      auto recipient = cipher_->open(stmt->column_blob(2), {"service_guest_list", "recipient", id});
      if (!recipient && recipient.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!recipient) return recipient.error();
      out.push_back(GuestListEntry{*parsed, service, stmt->column_text(1), std::move(*recipient), std::string(),
                                   from_micros(stmt->column_int(3))});
    }
  });
}

// The blind index is a column of the row: it goes with it.
Result<bool> SqliteStore::remove_guest_list_entry(ServiceId service, Uuid id) {
  return changed_one_row("DELETE FROM service_guest_list WHERE id = ? AND service_id = ?", id.to_string(),
                         service.to_string());
}

Result<void> SqliteStore::insert_document(const DocumentRecord& document) {
  auto sealed = seal_document(*cipher_, document);
  if (!sealed) return sealed.error();
  const SealedDocument& row = *sealed;
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, row.id)
        .bind_text(2, row.service)
        .bind_blob(3, row.content)
        .bind_optional_blob(4, row.filename)
        .bind_text(5, row.mime_type)
        .bind_blob(6, row.key_hash)
        .bind_optional_blob(7, row.confirm_email_hash)
        .bind_int(8, row.created_at)
        .bind_int(9, row.expires_at)
        .bind_int(10, row.failed_confirmations)
        .run();
  });
}

Result<std::optional<DocumentRecord>> SqliteStore::find_document(ServiceId service, Uuid id, Timestamp now) {
  return with_reader<std::optional<DocumentRecord>>([&](Connection& db) -> Result<std::optional<DocumentRecord>> {
    auto stmt = db.prepare(
        "SELECT id, service_id, content, filename, mime_type, key_hash, confirm_email_hash, created_at, expires_at, "
        "failed_confirmations FROM documents WHERE id = ? AND service_id = ? AND expires_at > ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string()).bind_int(3, to_micros(now));
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<DocumentRecord>();
    SealedDocument sealed;
    sealed.id = stmt->column_text(0);
    sealed.service = stmt->column_text(1);
    sealed.content = stmt->column_blob(2);
    if (!stmt->column_is_null(3)) sealed.filename = stmt->column_blob(3);
    sealed.mime_type = stmt->column_text(4);
    sealed.key_hash = stmt->column_blob(5);
    if (!stmt->column_is_null(6)) sealed.confirm_email_hash = stmt->column_blob(6);
    sealed.created_at = stmt->column_int(7);
    sealed.expires_at = stmt->column_int(8);
    sealed.failed_confirmations = stmt->column_int(9);
    auto document = open_document(*cipher_, sealed);
    if (!document && document.error().code == ErrorCode::kNotFound) return std::optional<DocumentRecord>();
    if (!document) return document.error();
    return std::optional<DocumentRecord>(std::move(*document));
  });
}

Result<int> SqliteStore::count_document_failure(ServiceId service, Uuid id) {
  int count = 0;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE documents SET failed_confirmations = failed_confirmations + 1 WHERE id = ? AND service_id = ? "
        "RETURNING failed_confirmations");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string());
    auto counted = returned_count(*stmt);
    if (!counted) return counted.error();
    count = *counted;
    return ok();
  }));
  return count;
}

Result<std::int64_t> SqliteStore::delete_expired_documents(Timestamp now) {
  std::int64_t deleted = 0;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    // secure_delete on the writer overwrites the freed ciphertexts in their pages.
    auto stmt = db.prepare("DELETE FROM documents WHERE expires_at <= ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(now)).run());
    deleted = db.changes();
    return ok();
  }));
  return deleted;
}

Result<void> SqliteStore::insert_inbound_sms(const InboundSms& sms) {
  auto sealed = seal_inbound_sms(*cipher_, sms);
  if (!sealed) return sealed.error();
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "INSERT INTO inbound_sms (id, service_id, notify_number, user_number, content, provider, provider_reference, "
        "received_at, created_at, callback_due_at, user_number_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN "
        "EXISTS (SELECT 1 FROM service_callbacks c WHERE c.service_id = ? AND c.kind = 'inbound_sms') THEN ? END, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, sealed->id)
        .bind_text(2, sealed->service)
        .bind_text(3, sealed->notify_number)
        .bind_blob(4, sealed->user_number)
        .bind_blob(5, sealed->content)
        .bind_text(6, sealed->provider)
        .bind_optional_text(7, sealed->provider_reference)
        .bind_int(8, sealed->received_at)
        .bind_int(9, sealed->created_at)
        .bind_text(10, sealed->service)
        .bind_int(11, sealed->created_at)
        .bind_optional_blob(12, sealed->user_number_index)
        .run();
  });
}

Result<std::vector<InboundSms>> SqliteStore::list_inbound_sms(ServiceId service, std::optional<Uuid> older_than,
                                                              Timestamp not_before, int limit) {
  return with_reader<std::vector<InboundSms>>([&](Connection& db) -> Result<std::vector<InboundSms>> {
    std::vector<InboundSms> out;
    std::string sql = std::string("SELECT ") + kInboundColumns +
                      " FROM inbound_sms WHERE service_id = ? AND created_at >= ?";
    if (older_than) {
      sql += " AND (created_at, id) < (SELECT o.created_at, o.id FROM inbound_sms o WHERE o.id = ? AND o.service_id = ?)";
    }
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    stmt->bind_text(i++, service.to_string());
    stmt->bind_int(i++, to_micros(not_before));
    if (older_than) {
      stmt->bind_text(i++, older_than->to_string());
      stmt->bind_text(i++, service.to_string());
    }
    stmt->bind_int(i, limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*stmt));
      if (!sms && sms.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!sms) return sms.error();
      out.push_back(std::move(*sms));
    }
  });
}

Result<std::vector<InboundSms>> SqliteStore::claim_inbound_callbacks(int limit, Timestamp now, Duration lease) {
  std::vector<InboundSms> claimed;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        std::string("UPDATE inbound_sms SET callback_due_at = ?, callback_attempts = callback_attempts + 1 WHERE id IN "
                    "(SELECT id FROM inbound_sms WHERE callback_due_at <= ? ORDER BY callback_due_at LIMIT ?) RETURNING ") +
        kInboundColumns);
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(now + lease)).bind_int(2, to_micros(now)).bind_int(3, limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return ok();
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*stmt));
      if (sms) claimed.push_back(std::move(*sms));
    }
  });
  if (!result) return result.error();
  return claimed;
}

Result<void> SqliteStore::finish_inbound_callback(Uuid id, std::optional<Timestamp> retry_at) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE inbound_sms SET callback_due_at = ?, callback_dead_at = NULL, callback_error = NULL WHERE id = ?");
    if (!stmt) return stmt.error();
    return stmt->bind_optional_int(1, optional_micros(retry_at)).bind_text(2, id.to_string()).run();
  });
}

Result<void> SqliteStore::kill_inbound_callback(Uuid id, Timestamp now, std::string_view error) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE inbound_sms SET callback_due_at = NULL, callback_dead_at = ?, callback_error = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    return stmt->bind_int(1, to_micros(now)).bind_text(2, error).bind_text(3, id.to_string()).run();
  });
}

Result<std::vector<DeadCallback>> SqliteStore::dead_callbacks(ServiceId service, int limit) {
  return with_reader<std::vector<DeadCallback>>([&](Connection& db) -> Result<std::vector<DeadCallback>> {
    static const std::string sql = dead_callbacks_select("?1", "?2");
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, limit);
    std::vector<DeadCallback> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto dead = read_dead_callback(
          {stmt->column_text(0), stmt->column_text(1), stmt->column_int(2), stmt->column_int(3), stmt->column_text(4)});
      if (!dead) return dead.error();
      out.push_back(std::move(*dead));
    }
  });
}

Result<bool> SqliteStore::replay_callback(ServiceId service, CallbackKind kind, Uuid id, Timestamp now) {
  return changed_one_row(std::string("UPDATE ") + callback_table(kind) +
                             " SET callback_dead_at = NULL, callback_error = NULL, callback_attempts = 0, "
                             "callback_due_at = ? WHERE id = ? AND service_id = ? AND callback_dead_at IS NOT NULL",
                         id.to_string(), service.to_string(), now);
}

Result<std::vector<ServiceRecord>> SqliteStore::list_services() {
  return with_reader<std::vector<ServiceRecord>>([&](Connection& db) -> Result<std::vector<ServiceRecord>> {
    auto stmt = db.prepare("SELECT * FROM services ORDER BY created_at");
    if (!stmt) return stmt.error();
    std::vector<ServiceRecord> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read_service(*stmt));
    }
  });
}

Result<void> SqliteStore::set_service_retention(ServiceId service, int days) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE services SET retention_days = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, days).bind_text(2, service.to_string()).run());
    if (db.changes() != 1) return not_found("service " + service.to_string());
    return ok();
  });
}

Result<NotificationRecord> SqliteStore::read_linked_notification(const Statement& row) const {
  auto record = read_notification(row);
  if (!record) return record.error();
  record->nhs_message_id = row.column_optional_text(kNotificationColumnCount);
  if (const auto job = row.column_optional_text(kNotificationColumnCount + 1)) {
    auto id = parse_id<Uuid>(*job);
    if (!id) return id.error();
    record->job_id = *id;
  }
  if (const auto job_row = row.column_optional_int(kNotificationColumnCount + 2)) {
    record->job_row = static_cast<int>(*job_row);
  }
  return record;
}

Result<std::vector<NotificationRecord>> SqliteStore::find_by_recipient(ServiceId service,
                                                                       std::string_view recipient_normalised) {
  const std::string service_id = service.to_string();
  auto index = cipher_->blind_index(service_id, recipient_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_reader<std::vector<NotificationRecord>>([&](Connection& db) -> Result<std::vector<NotificationRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kNotificationColumns + kNotificationLinkColumns +
                           " FROM notifications WHERE service_id = ? AND recipient_index = ? AND redacted_at IS NULL "
                           "ORDER BY created_at DESC");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service_id).bind_blob(2, *index);
    std::vector<NotificationRecord> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto record = read_linked_notification(*stmt);
      if (!record) return record.error();
      out.push_back(std::move(*record));
    }
  });
}

namespace {

// What retention and erasure do to the notifications that `where` picks (its `?`s bound by
// `bind(statement, first)`; the first parameter is now): one definition for both. Still
// undelivered (created, sending), they have failed: never sent without their data. Then their
// personal fields and blind indexes are emptied, and no callback is due any more (none would be
// claimed) nor on the dead list (none could be replayed). Empty blobs rather than NULLs keep the columns' NOT NULL;
// secure_delete on the writer overwrites the old ciphertexts in the page.
template <typename Bind>
Result<RetentionOutcome> redact_notifications(Connection& db, const std::string& where, Timestamp now,
                                              const Bind& bind) {
  RetentionOutcome outcome;
  auto pending =
      db.prepare("UPDATE notifications SET status = 'technical-failure', due_at = NULL, updated_at = ? WHERE " + where +
                 " AND redacted_at IS NULL AND status IN ('created', 'sending')");
  if (!pending) return pending.error();
  bind(pending->bind_int(1, to_micros(now)), 2);
  HERALD_TRY(pending->run());
  outcome.failed_pending = db.changes();
  auto redact = db.prepare(
      "UPDATE notifications SET recipient = X'', personalisation = X'', subject = X'', body = X'', "
      "one_click_unsubscribe_url = NULL, recipient_index = NULL, reference = NULL, reference_sealed = NULL, "
      "reference_index = NULL, callback_due_at = NULL, callback_dead_at = NULL, callback_error = NULL, "
      "redacted_at = ? WHERE " +
      where + " AND redacted_at IS NULL");
  if (!redact) return redact.error();
  bind(redact->bind_int(1, to_micros(now)), 2);
  HERALD_TRY(redact->run());
  outcome.redacted = db.changes();
  return outcome;
}

}  // namespace

Result<RetentionOutcome> SqliteStore::redact_before(ServiceId service, Timestamp cutoff, Timestamp now) {
  RetentionOutcome outcome;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    const std::string id = service.to_string();
    auto redacted = redact_notifications(db, "service_id = ? AND created_at < ?", now, [&](Statement& stmt, int first) {
      stmt.bind_text(first, id).bind_int(first + 1, to_micros(cutoff));
    });
    if (!redacted) return redacted.error();
    outcome = *redacted;
    // NHS Notify messages stay (their sealed fields go with the day's key): no longer found by
    // their NHS numbers.
    auto nhs_numbers = db.prepare(
        "UPDATE nhs_messages SET nhs_number_index = NULL WHERE service_id = ? AND created_at < ? "
        "AND nhs_number_index IS NOT NULL");
    if (!nhs_numbers) return nhs_numbers.error();
    HERALD_TRY(nhs_numbers->bind_text(1, id).bind_int(2, to_micros(cutoff)).run());
    auto letters = db.prepare("DELETE FROM letter_pdfs WHERE service_id = ? AND created_at < ?");
    if (!letters) return letters.error();
    HERALD_TRY(letters->bind_text(1, id).bind_int(2, to_micros(cutoff)).run());
    auto inbound = db.prepare("DELETE FROM inbound_sms WHERE service_id = ? AND created_at < ?");
    if (!inbound) return inbound.error();
    HERALD_TRY(inbound->bind_text(1, id).bind_int(2, to_micros(cutoff)).run());
    // NHS Notify callbacks made that long ago (pending or dead): their bodies go with the day's key.
    auto nhs_callbacks = db.prepare("DELETE FROM nhs_callbacks WHERE service_id = ? AND created_at < ?");
    if (!nhs_callbacks) return nhs_callbacks.error();
    HERALD_TRY(nhs_callbacks->bind_text(1, id).bind_int(2, to_micros(cutoff)).run());
    // Jobs stay (their counts and progress), their files emptied.
    auto jobs = db.prepare(
        "UPDATE jobs SET file_name = NULL, contents = NULL WHERE service_id = ? AND created_at < ? "
        "AND (file_name IS NOT NULL OR contents IS NOT NULL)");
    if (!jobs) return jobs.error();
    return jobs->bind_text(1, id).bind_int(2, to_micros(cutoff)).run();
  }));
  return outcome;
}

Result<bool> SqliteStore::holds_personal_data(ServiceId service, Timestamp from, Timestamp to) {
  return with_reader<bool>([&](Connection& db) -> Result<bool> {
    auto stmt = db.prepare(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE service_id = ? AND created_at >= ? AND created_at < ? "
        "AND redacted_at IS NULL)");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, to_micros(from)).bind_int(3, to_micros(to));
    auto row = stmt->step();
    if (!row) return row.error();
    return *row && stmt->column_int(0) != 0;
  });
}

Result<std::optional<StillSealed>> SqliteStore::next_sealed_notification(ServiceId service, Timestamp from) {
  return with_reader<std::optional<StillSealed>>([&](Connection& db) -> Result<std::optional<StillSealed>> {
    auto stmt = db.prepare(
        "SELECT id, created_at FROM notifications WHERE service_id = ? AND created_at >= ? AND redacted_at IS NULL "
        "ORDER BY created_at LIMIT 1");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, to_micros(from));
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<StillSealed>();
    auto id = Uuid::parse(stmt->column_text(0));
    if (!id) return data_loss("notification id is not a UUID");
    return std::optional(StillSealed{NotificationId{*id}, from_micros(stmt->column_int(1))});
  });
}

Result<void> SqliteStore::snapshot_to(const std::string& path) {
  auto done = with_reader<bool>([&](Connection& db) -> Result<bool> {
    HERALD_TRY(db.backup_to(path));
    return true;
  });
  if (!done) return done.error();
  return ok();
}

Result<std::vector<crypto::AuditEntry>> SqliteStore::append_audit(std::vector<crypto::AuditEntry> entries) {
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    std::int64_t seq = 0;
    std::string prev;
    {
      auto head = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
      if (!head) return head.error();
      auto row = head->step();
      if (!row) return row.error();
      if (*row) {
        seq = head->column_int(0);
        prev = head->column_blob(1);
      }
    }
    HERALD_TRY(crypto::chain_entries(entries, seq, prev));
    for (const crypto::AuditEntry& entry : entries) {
      auto stmt = db.prepare("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      if (!stmt) return stmt.error();
      HERALD_TRY(stmt->bind_int(1, entry.seq)
                     .bind_int(2, to_micros(entry.at))
                     .bind_text(3, entry.actor)
                     .bind_text(4, entry.action)
                     .bind_text(5, encode_audit_objects(entry.objects))
                     .bind_text(6, entry.outcome)
                     .bind_text(7, entry.source)
                     .bind_blob(8, entry.prev_hash)
                     .bind_blob(9, entry.hash)
                     .run());
    }
    return ok();
  }));
  return entries;
}

Result<void> SqliteStore::read_audit(std::int64_t after_seq, std::optional<Timestamp> since,
                                     const std::function<Result<void>(const crypto::AuditEntry&)>& visit) {
  // Read straight from a reader connection, in pages, so a long log never sits in memory.
  std::int64_t next = after_seq;
  while (true) {
    std::vector<crypto::AuditEntry> page;
    HERALD_TRY(with_reader<bool>([&](Connection& db) -> Result<bool> {
      auto stmt = db.prepare(
          "SELECT seq, at, actor, action, objects, outcome, source, prev_hash, hash FROM audit_log "
          "WHERE seq > ? AND at >= ? ORDER BY seq LIMIT 1000");
      if (!stmt) return stmt.error();
      stmt->bind_int(1, next).bind_int(2, since ? to_micros(*since) : std::numeric_limits<std::int64_t>::min());
      while (true) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) return true;
        crypto::AuditEntry e;
        e.seq = stmt->column_int(0);
        e.at = from_micros(stmt->column_int(1));
        e.actor = stmt->column_text(2);
        e.action = stmt->column_text(3);
        auto objects = decode_audit_objects(stmt->column_text(4));
        if (!objects) return objects.error();
        e.objects = std::move(*objects);
        e.outcome = stmt->column_text(5);
        e.source = stmt->column_text(6);
        e.prev_hash = stmt->column_blob(7);
        e.hash = stmt->column_blob(8);
        page.push_back(std::move(e));
      }
    }));
    if (page.empty()) return ok();
    for (const auto& e : page) HERALD_TRY(visit(e));
    next = page.back().seq;
  }
}

namespace {

NhsClientRecord read_nhs_client(const Statement& row) {
  NhsClientRecord c;
  c.id = *Uuid::parse(row.column_text(0));
  c.service = *ServiceId::parse(row.column_text(1));
  c.name = row.column_text(2);
  c.api_key_hash = row.column_text(3);
  c.jwks = row.column_text(4);
  c.jwks_url = row.column_text(5);
  c.default_ods_code = row.column_optional_text(6);
  c.allow_ods_override = row.column_int(7) != 0;
  c.allow_contact_details = row.column_int(8) != 0;
  c.onboarded = row.column_int(9) != 0;
  c.service_ban = row.column_int(10) != 0;
  c.created_at = from_micros(row.column_int(11));
  c.allowed_networks = split_networks(row.column_text(12));
  return c;
}

}  // namespace

Result<void> SqliteStore::create_nhs_client(const NhsClientRecord& client) {
  HERALD_TRY(check_networks(client.allowed_networks));
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO nhs_clients (") + kNhsClientColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, client.id.to_string())
                   .bind_text(2, client.service.to_string())
                   .bind_text(3, client.name)
                   .bind_text(4, client.api_key_hash)
                   .bind_text(5, client.jwks)
                   .bind_text(6, client.jwks_url)
                   .bind_optional_text(7, client.default_ods_code)
                   .bind_int(8, client.allow_ods_override ? 1 : 0)
                   .bind_int(9, client.allow_contact_details ? 1 : 0)
                   .bind_int(10, client.onboarded ? 1 : 0)
                   .bind_int(11, client.service_ban ? 1 : 0)
                   .bind_int(12, to_micros(client.created_at))
                   .bind_text(13, join_networks(client.allowed_networks))
                   .run());
    if (db.changes() != 1) return Error{ErrorCode::kFailedPrecondition, "an NHS client has that id or API key"};
    return ok();
  });
}

Result<void> SqliteStore::update_nhs_client(const NhsClientRecord& client) {
  HERALD_TRY(check_networks(client.allowed_networks));
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE nhs_clients SET name = ?, jwks = ?, jwks_url = ?, default_ods_code = ?, allow_ods_override = ?, "
        "allow_contact_details = ?, onboarded = ?, service_ban = ?, allowed_networks = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, client.name)
                   .bind_text(2, client.jwks)
                   .bind_text(3, client.jwks_url)
                   .bind_optional_text(4, client.default_ods_code)
                   .bind_int(5, client.allow_ods_override ? 1 : 0)
                   .bind_int(6, client.allow_contact_details ? 1 : 0)
                   .bind_int(7, client.onboarded ? 1 : 0)
                   .bind_int(8, client.service_ban ? 1 : 0)
                   .bind_text(9, join_networks(client.allowed_networks))
                   .bind_text(10, client.id.to_string())
                   .run());
    if (db.changes() != 1) return not_found("NHS client " + client.id.to_string());
    return ok();
  });
}

Result<std::vector<NhsClientRecord>> SqliteStore::list_nhs_clients() {
  return with_reader<std::vector<NhsClientRecord>>([&](Connection& db) -> Result<std::vector<NhsClientRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    std::vector<NhsClientRecord> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read_nhs_client(*stmt));
    }
  });
}

Result<std::optional<NhsClientRecord>> SqliteStore::find_nhs_client(Uuid id) {
  return with_reader<std::optional<NhsClientRecord>>([&](Connection& db) -> Result<std::optional<NhsClientRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients WHERE id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string());
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<NhsClientRecord>();
    return std::optional<NhsClientRecord>(read_nhs_client(*stmt));
  });
}

Result<std::optional<NhsClientRecord>> SqliteStore::find_nhs_client_by_key(std::string_view api_key_hash) {
  return with_reader<std::optional<NhsClientRecord>>([&](Connection& db) -> Result<std::optional<NhsClientRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients WHERE api_key_hash = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, api_key_hash);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<NhsClientRecord>();
    return std::optional<NhsClientRecord>(read_nhs_client(*stmt));
  });
}

Result<bool> SqliteStore::remember_assertion_id(Uuid client, std::string_view jti_hash, Timestamp expires_at,
                                                Timestamp now) {
  bool fresh = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto forget = db.prepare("DELETE FROM nhs_assertion_ids WHERE expires_at <= ?");
    if (!forget) return forget.error();
    HERALD_TRY(forget->bind_int(1, to_micros(now)).run());
    auto stmt = db.prepare("INSERT INTO nhs_assertion_ids VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, client.to_string()).bind_text(2, jti_hash).bind_int(3, to_micros(expires_at)).run());
    fresh = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return fresh;
}

Result<void> SqliteStore::insert_access_token(const NhsAccessToken& token) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto forget = db.prepare("DELETE FROM nhs_access_tokens WHERE expires_at <= ?");
    if (!forget) return forget.error();
    HERALD_TRY(forget->bind_int(1, to_micros(token.issued_at)).run());
    auto stmt = db.prepare("INSERT INTO nhs_access_tokens VALUES (?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, token.token_hash)
        .bind_text(2, token.client.to_string())
        .bind_int(3, to_micros(token.issued_at))
        .bind_int(4, to_micros(token.expires_at))
        .run();
  });
}

Result<std::optional<NhsAccessToken>> SqliteStore::find_access_token(std::string_view token_hash, Timestamp now) {
  return with_reader<std::optional<NhsAccessToken>>([&](Connection& db) -> Result<std::optional<NhsAccessToken>> {
    auto stmt = db.prepare(
        "SELECT token_hash, client_id, issued_at, expires_at FROM nhs_access_tokens WHERE token_hash = ? AND "
        "expires_at > ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, token_hash).bind_int(2, to_micros(now));
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<NhsAccessToken>();
    return std::optional<NhsAccessToken>(NhsAccessToken{stmt->column_text(0), *Uuid::parse(stmt->column_text(1)),
                                                        from_micros(stmt->column_int(2)),
                                                        from_micros(stmt->column_int(3))});
  });
}

namespace {

SealedNhsMessage read_nhs_message(const Statement& row) {
  SealedNhsMessage m;
  m.id = row.column_text(0);
  m.client = row.column_text(1);
  m.service = row.column_text(2);
  m.batch_id = row.column_optional_text(3);
  m.reference = row.column_blob(4);
  if (!row.column_is_null(5)) m.reference_index = row.column_blob(5);
  if (!row.column_is_null(6)) m.billing_reference = row.column_blob(6);
  m.routing_plan_id = row.column_text(7);
  m.routing_plan_version = row.column_text(8);
  if (!row.column_is_null(9)) m.nhs_number = row.column_blob(9);
  m.ods_code = row.column_optional_text(10);
  m.personalisation = row.column_blob(11);
  if (!row.column_is_null(12)) m.contact_details = row.column_blob(12);
  m.status = row.column_text(13);
  m.status_description = row.column_optional_text(14);
  m.failure_reason_code = row.column_optional_text(15);
  m.created_at = row.column_int(16);
  m.enriched_at = row.column_optional_int(17);
  m.delivered_at = row.column_optional_int(18);
  m.failed_at = row.column_optional_int(19);
  m.channels = row.column_text(20);
  if (!row.column_is_null(21)) m.recipient = row.column_blob(21);
  m.demographics_version = row.column_optional_text(22);
  m.next_step_at = row.column_optional_int(23);
  return m;
}

// Inserts one sealed message (with its NHS number's index); false when its id or (single
// message) reference is taken.
Result<bool> insert_sealed_nhs_message(Connection& db, const SealedNhsMessage& row) {
  auto stmt = db.prepare(
      std::string("INSERT INTO nhs_messages (") + kNhsMessageColumns +
      ", nhs_number_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT DO NOTHING");
  if (!stmt) return stmt.error();
  HERALD_TRY(stmt->bind_text(1, row.id)
                 .bind_text(2, row.client)
                 .bind_text(3, row.service)
                 .bind_optional_text(4, row.batch_id)
                 .bind_blob(5, row.reference)
                 .bind_optional_blob(6, row.reference_index)
                 .bind_optional_blob(7, row.billing_reference)
                 .bind_text(8, row.routing_plan_id)
                 .bind_text(9, row.routing_plan_version)
                 .bind_optional_blob(10, row.nhs_number)
                 .bind_optional_text(11, row.ods_code)
                 .bind_blob(12, row.personalisation)
                 .bind_optional_blob(13, row.contact_details)
                 .bind_text(14, row.status)
                 .bind_optional_text(15, row.status_description)
                 .bind_optional_text(16, row.failure_reason_code)
                 .bind_int(17, row.created_at)
                 .bind_optional_int(18, row.enriched_at)
                 .bind_optional_int(19, row.delivered_at)
                 .bind_optional_int(20, row.failed_at)
                 .bind_text(21, row.channels)
                 .bind_optional_blob(22, row.recipient)
                 .bind_optional_text(23, row.demographics_version)
                 .bind_optional_int(24, row.next_step_at)
                 .bind_optional_blob(25, row.nhs_number_index)
                 .run());
  return db.changes() == 1;
}

// Inserts one sealed NHS callback (its id assigned here).
Result<void> insert_sealed_nhs_callback(Connection& db, const SealedNhsCallback& row) {
  auto stmt = db.prepare(
      "INSERT INTO nhs_callbacks (target_id, client_id, service_id, message_id, seal_id, body, state, attempts, "
      "created_at, next_attempt_at, first_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.error();
  return stmt->bind_text(1, row.target)
      .bind_text(2, row.client)
      .bind_text(3, row.service)
      .bind_text(4, row.message_id)
      .bind_text(5, row.seal_id)
      .bind_blob(6, row.body)
      .bind_text(7, row.state)
      .bind_int(8, row.attempts)
      .bind_int(9, row.created_at)
      .bind_int(10, row.next_attempt_at)
      .bind_optional_int(11, row.first_attempt_at)
      .bind_optional_text(12, row.last_error)
      .run();
}

// Frees a reference held by a row created before `cutoff`, so that it can be used again.
Result<void> forget_reference(Connection& db, const char* table, std::string_view client, std::string_view index,
                              Timestamp cutoff) {
  auto forget =
      db.prepare(std::string("UPDATE ") + table +
                 " SET reference_index = NULL WHERE client_id = ? AND reference_index = ? AND created_at < ?");
  if (!forget) return forget.error();
  return forget->bind_text(1, client).bind_blob(2, index).bind_int(3, to_micros(cutoff)).run();
}

}  // namespace

Result<bool> SqliteStore::insert_nhs_message(const NhsMessageRecord& message, Timestamp reference_cutoff) {
  auto sealed = seal_nhs_message(*cipher_, message);
  if (!sealed) return sealed.error();
  const SealedNhsMessage& row = *sealed;
  bool stored = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    if (row.reference_index) {
      HERALD_TRY(forget_reference(db, "nhs_messages", row.client, *row.reference_index, reference_cutoff));
    }
    auto inserted = insert_sealed_nhs_message(db, row);
    if (!inserted) return inserted.error();
    stored = *inserted;
    return ok();
  });
  if (!result) return result.error();
  return stored;
}

Result<bool> SqliteStore::insert_nhs_batch(const NhsBatchRecord& batch, const std::vector<NhsMessageRecord>& messages,
                                           Timestamp reference_cutoff) {
  // Sealed here, on the caller's thread: the writer only writes.
  auto sealed_batch = seal_nhs_batch(*cipher_, batch);
  if (!sealed_batch) return sealed_batch.error();
  std::vector<SealedNhsMessage> rows;
  rows.reserve(messages.size());
  for (const NhsMessageRecord& message : messages) {
    auto sealed = seal_nhs_message(*cipher_, message);
    if (!sealed) return sealed.error();
    rows.push_back(std::move(*sealed));
  }
  const SealedNhsBatch& b = *sealed_batch;
  bool stored = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    HERALD_TRY(forget_reference(db, "nhs_message_batches", b.client, b.reference_index, reference_cutoff));
    auto stmt = db.prepare(
        "INSERT INTO nhs_message_batches (id, client_id, service_id, reference, reference_index, routing_plan_id, "
        "routing_plan_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, b.id)
                   .bind_text(2, b.client)
                   .bind_text(3, b.service)
                   .bind_blob(4, b.reference)
                   .bind_blob(5, b.reference_index)
                   .bind_text(6, b.routing_plan_id)
                   .bind_text(7, b.routing_plan_version)
                   .bind_int(8, b.created_at)
                   .run());
    if (db.changes() != 1) return ok();  // the reference is taken: nothing stored
    for (const SealedNhsMessage& row : rows) {
      auto inserted = insert_sealed_nhs_message(db, row);
      if (!inserted) return inserted.error();
      if (!*inserted) return internal_error("message id " + row.id + " already stored");
    }
    stored = true;
    return ok();
  });
  if (!result) return result.error();
  return stored;
}

Result<std::optional<NhsMessageRecord>> SqliteStore::find_nhs_message(Uuid client, std::string_view id) {
  auto sealed =
      with_reader<std::optional<SealedNhsMessage>>([&](Connection& db) -> Result<std::optional<SealedNhsMessage>> {
        auto stmt = db.prepare(std::string("SELECT ") + kNhsMessageColumns +
                               " FROM nhs_messages WHERE id = ? AND client_id = ? AND erased_at IS NULL");
        if (!stmt) return stmt.error();
        stmt->bind_text(1, id).bind_text(2, client.to_string());
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) return std::optional<SealedNhsMessage>();
        return std::optional<SealedNhsMessage>(read_nhs_message(*stmt));
      });
  if (!sealed) return sealed.error();
  if (!*sealed) return std::optional<NhsMessageRecord>();
  auto opened = open_nhs_message(*cipher_, **sealed);
  if (!opened) {
    if (opened.error().code == ErrorCode::kNotFound) return std::optional<NhsMessageRecord>();
    return opened.error();
  }
  return std::optional<NhsMessageRecord>(std::move(*opened));
}

Result<std::vector<NhsMessageClaim>> SqliteStore::claim_nhs_messages(int limit, Timestamp now, Duration lease) {
  std::vector<SealedNhsMessage> rows;
  std::vector<std::int64_t> claims;
  std::vector<std::vector<NhsChannelEvent>> events;  // each claimed message's, read with the claim
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("UPDATE nhs_messages SET lease_until = ?, claim = claim + 1, woken = 0 WHERE id "
                                       "IN (SELECT id FROM nhs_messages WHERE next_step_at <= ? AND (lease_until IS "
                                       "NULL OR lease_until <= ?) AND erased_at IS NULL ORDER BY next_step_at LIMIT ?) "
                                       "RETURNING ") +
                           kNhsMessageColumns + ", claim");
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(now + lease))
        .bind_int(2, to_micros(now))
        .bind_int(3, to_micros(now))
        .bind_int(4, limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) break;
      rows.push_back(read_nhs_message(*stmt));
      claims.push_back(stmt->column_int(24));
    }
    for (const SealedNhsMessage& row : rows) {
      auto of_message = read_nhs_channel_events(db, row.id);
      if (!of_message) return of_message.error();
      events.push_back(std::move(*of_message));
    }
    return ok();
  });
  if (!result) return result.error();
  std::vector<NhsMessageClaim> out;
  std::vector<std::string> gone;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto opened = open_nhs_message(*cipher_, rows[i]);
    if (opened) {
      out.push_back(NhsMessageClaim{std::move(*opened), claims[i], std::move(events[i])});
      continue;
    }
    // Its data key is gone (retention) or it does not open: nothing more can be done for it.
    log::error("store.unreadable_nhs_message", {{"message_id", rows[i].id}, {"error", opened.error().message}});
    gone.push_back(rows[i].id);
  }
  if (!gone.empty()) {
    HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
      for (const std::string& id : gone) {
        auto stmt = db.prepare(
            "UPDATE nhs_messages SET next_step_at = NULL, lease_until = NULL, status = 'failed', "
            "status_description = ?, failure_reason_code = ?, failed_at = ? WHERE id = ?");
        if (!stmt) return stmt.error();
        HERALD_TRY(stmt->bind_text(1, kNhsRetentionFailureDescription)
                       .bind_text(2, kNhsRetentionFailureCode)
                       .bind_int(3, to_micros(now))
                       .bind_text(4, id)
                       .run());
        auto forget = db.prepare("DELETE FROM nhs_channel_events WHERE message_id = ?");
        if (!forget) return forget.error();
        HERALD_TRY(forget->bind_text(1, id).run());
      }
      return ok();
    }));
  }
  return out;
}

Result<bool> SqliteStore::save_nhs_step(const NhsCascadeStep& step, Timestamp now) {
  // Sealed here, on the caller's thread: the writer only writes.
  auto sealed = seal_nhs_message(*cipher_, step.message);
  if (!sealed) return sealed.error();
  std::vector<SealedNotification> notifications;
  for (const NotificationRecord& record : step.notifications) {
    auto row = seal_notification(*cipher_, record);
    if (!row) return row.error();
    notifications.push_back(std::move(*row));
  }
  std::vector<SealedNhsCallback> callbacks;
  callbacks.reserve(step.callbacks.size());
  for (const NhsCallbackRecord& callback : step.callbacks) {
    NhsCallbackRecord pending = callback;
    pending.state = NhsCallbackState::kPending;
    pending.attempts = 0;
    pending.first_attempt_at.reset();
    pending.last_error.reset();
    auto row = seal_nhs_callback(*cipher_, pending);
    if (!row) return row.error();
    callbacks.push_back(std::move(*row));
  }
  const SealedNhsMessage& m = *sealed;
  bool saved = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE nhs_messages SET status = ?, status_description = ?, failure_reason_code = ?, enriched_at = ?, "
        "delivered_at = ?, failed_at = ?, channels = ?, recipient = ?, demographics_version = ?, "
        "next_step_at = CASE WHEN woken = 1 THEN ? ELSE ? END, woken = 0, lease_until = NULL "
        "WHERE id = ? AND claim = ? AND lease_until IS NOT NULL");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, m.status)
                   .bind_optional_text(2, m.status_description)
                   .bind_optional_text(3, m.failure_reason_code)
                   .bind_optional_int(4, m.enriched_at)
                   .bind_optional_int(5, m.delivered_at)
                   .bind_optional_int(6, m.failed_at)
                   .bind_text(7, m.channels)
                   .bind_optional_blob(8, m.recipient)
                   .bind_optional_text(9, m.demographics_version)
                   .bind_int(10, to_micros(now))
                   .bind_optional_int(11, m.next_step_at)
                   .bind_text(12, m.id)
                   .bind_int(13, step.claim)
                   .run());
    if (db.changes() != 1) return ok();  // the claim was lost: another step saves this message
    for (const SealedNotification& row : notifications) {
      HERALD_TRY(insert_sealed_notification(db, row));
      auto link = db.prepare("UPDATE notifications SET nhs_message_id = ? WHERE id = ?");
      if (!link) return link.error();
      HERALD_TRY(link->bind_text(1, m.id).bind_text(2, row.id).run());
    }
    if (step.events_through > 0) {
      // The events the step took into account; later ones (which woke it) wait for the next.
      auto taken = db.prepare("DELETE FROM nhs_channel_events WHERE message_id = ? AND id <= ?");
      if (!taken) return taken.error();
      HERALD_TRY(taken->bind_text(1, m.id).bind_int(2, step.events_through).run());
    }
    for (const SealedNhsCallback& row : callbacks) HERALD_TRY(insert_sealed_nhs_callback(db, row));
    saved = true;
    return ok();
  });
  if (!result) return result.error();
  return saved;
}

Result<bool> SqliteStore::add_nhs_channel_event(const NhsChannelEvent& event) {
  bool added = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    // Woken as by a notification's outcome; no row changed: no such message, nothing stored.
    HERALD_TRY(wake_nhs_message(db, event.message_id, event.at));
    if (db.changes() != 1) return ok();
    auto stmt =
        db.prepare("INSERT INTO nhs_channel_events (message_id, channel, supplier_status, at) VALUES (?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, event.message_id)
                   .bind_text(2, nhs_channel_name(event.channel))
                   .bind_text(3, event.supplier_status)
                   .bind_int(4, to_micros(event.at))
                   .run());
    added = true;
    return ok();
  });
  if (!result) return result.error();
  return added;
}

Result<void> SqliteStore::put_demographics(const std::vector<DemographicsRow>& rows) {
  std::vector<SealedDemographics> sealed;
  sealed.reserve(rows.size());
  for (const DemographicsRow& row : rows) {
    auto s = seal_demographics(*cipher_, row);
    if (!s) return s.error();
    sealed.push_back(std::move(*s));
  }
  return writer_->run([&](Connection& db) -> Result<void> {
    for (const SealedDemographics& row : sealed) {
      auto stmt = db.prepare(
          "INSERT INTO demographics (nhs_number_index, record, updated_at) VALUES (?, ?, ?) ON CONFLICT "
          "(nhs_number_index) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at");
      if (!stmt) return stmt.error();
      HERALD_TRY(stmt->bind_blob(1, row.nhs_number_index).bind_blob(2, row.record).bind_int(3, row.updated_at).run());
    }
    return ok();
  });
}

Result<std::optional<DemographicsRow>> SqliteStore::find_demographics(std::string_view nhs_number) {
  auto index = demographics_index(*cipher_, nhs_number, Timestamp{});
  if (!index) return index.error();
  auto sealed =
      with_reader<std::optional<SealedDemographics>>([&](Connection& db) -> Result<std::optional<SealedDemographics>> {
        auto stmt = db.prepare("SELECT record, updated_at FROM demographics WHERE nhs_number_index = ?");
        if (!stmt) return stmt.error();
        stmt->bind_blob(1, *index);
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) return std::optional<SealedDemographics>();
        return std::optional<SealedDemographics>(SealedDemographics{*index, stmt->column_blob(0), stmt->column_int(1)});
      });
  if (!sealed) return sealed.error();
  if (!*sealed) return std::optional<DemographicsRow>();
  auto opened = open_demographics(*cipher_, **sealed, nhs_number);
  if (!opened) return opened.error();
  return std::optional<DemographicsRow>(std::move(*opened));
}

namespace {

RoutingPlanRecord read_routing_plan(const Statement& row) {
  RoutingPlanRecord p;
  p.id = *Uuid::parse(row.column_text(0));
  p.version = static_cast<int>(row.column_int(1));
  p.client = *Uuid::parse(row.column_text(2));
  p.name = row.column_text(3);
  p.definition_json = row.column_text(4);
  p.created_at = from_micros(row.column_int(5));
  return p;
}

}  // namespace

// A version already stored is left as it is (false). A plan of a client that does not exist
// breaks the foreign key (the only constraint the upsert does not absorb): kFailedPrecondition,
// as on the other backends.
Result<bool> SqliteStore::add_routing_plan(const RoutingPlanRecord& plan) {
  bool added = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO nhs_routing_plans (") + kRoutingPlanColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    auto inserted = stmt->bind_text(1, plan.id.to_string())
                        .bind_int(2, plan.version)
                        .bind_text(3, plan.client.to_string())
                        .bind_text(4, plan.name)
                        .bind_text(5, plan.definition_json)
                        .bind_int(6, to_micros(plan.created_at))
                        .run();
    if (!inserted) {
      if (inserted.error().code != ErrorCode::kInvalidArgument) return inserted.error();
      return failed_precondition("no NHS client " + plan.client.to_string());
    }
    added = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return added;
}

Result<std::optional<RoutingPlanRecord>> SqliteStore::find_routing_plan(Uuid id, std::optional<int> version) {
  return with_reader<std::optional<RoutingPlanRecord>>([&](Connection& db) -> Result<std::optional<RoutingPlanRecord>> {
    auto stmt = db.prepare(std::string("SELECT ") + kRoutingPlanColumns + " FROM nhs_routing_plans WHERE id = ? " +
                           (version ? "AND version = ?" : "ORDER BY version DESC LIMIT 1"));
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string());
    if (version) stmt->bind_int(2, *version);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<RoutingPlanRecord>();
    return std::optional<RoutingPlanRecord>(read_routing_plan(*stmt));
  });
}

Result<std::vector<RoutingPlanRecord>> SqliteStore::list_routing_plans(std::optional<Uuid> client) {
  return with_reader<std::vector<RoutingPlanRecord>>([&](Connection& db) -> Result<std::vector<RoutingPlanRecord>> {
    // Each plan's latest version, the plans in the order of their first versions.
    auto stmt = db.prepare(
        std::string("SELECT ") + kRoutingPlanColumns +
        " FROM nhs_routing_plans p WHERE version = (SELECT MAX(v.version) FROM nhs_routing_plans v WHERE v.id = p.id)" +
        (client ? " AND client_id = ?" : "") +
        " ORDER BY (SELECT f.created_at FROM nhs_routing_plans f WHERE f.id = p.id ORDER BY f.version LIMIT 1), id");
    if (!stmt) return stmt.error();
    if (client) stmt->bind_text(1, client->to_string());
    std::vector<RoutingPlanRecord> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read_routing_plan(*stmt));
    }
  });
}

namespace {

SealedNhsCallbackTarget read_nhs_callback_target(const Statement& row) {
  SealedNhsCallbackTarget t;
  t.id = row.column_text(0);
  t.client = row.column_text(1);
  t.kind = row.column_text(2);
  t.url = row.column_text(3);
  t.statuses = row.column_text(4);
  t.supplier_statuses = row.column_text(5);
  t.api_key_header = row.column_text(6);
  t.api_key = row.column_blob(7);
  t.client_certificate_file = row.column_optional_text(8);
  t.client_key_file = row.column_optional_text(9);
  t.pinned_key_sha256 = row.column_optional_text(10);
  t.rate_per_second = row.column_int(11);
  t.retry_window_seconds = row.column_int(12);
  t.created_at = row.column_int(13);
  return t;
}

SealedNhsCallback read_nhs_callback(const Statement& row) {
  SealedNhsCallback c;
  c.id = row.column_int(0);
  c.target = row.column_text(1);
  c.client = row.column_text(2);
  c.service = row.column_text(3);
  c.message_id = row.column_text(4);
  c.seal_id = row.column_text(5);
  c.body = row.column_blob(6);
  c.state = row.column_text(7);
  c.attempts = row.column_int(8);
  c.created_at = row.column_int(9);
  c.next_attempt_at = row.column_int(10);
  c.first_attempt_at = row.column_optional_int(11);
  c.last_error = row.column_optional_text(12);
  return c;
}

}  // namespace

// Replaces every column but the id in place (ON CONFLICT DO UPDATE: a REPLACE would delete the
// row, breaking its callbacks' foreign key). A target of a client that does not exist breaks the
// foreign key: kFailedPrecondition, as on the other backends.
Result<void> SqliteStore::put_nhs_callback_target(const NhsCallbackTarget& target) {
  auto sealed = seal_nhs_callback_target(*cipher_, target);
  if (!sealed) return sealed.error();
  const SealedNhsCallbackTarget& t = *sealed;
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt =
        db.prepare(std::string("INSERT INTO nhs_callback_targets (") + kNhsCallbackTargetColumns +
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                   "client_id = excluded.client_id, kind = excluded.kind, url = excluded.url, "
                   "statuses = excluded.statuses, supplier_statuses = excluded.supplier_statuses, "
                   "api_key_header = excluded.api_key_header, api_key = excluded.api_key, "
                   "client_certificate_file = excluded.client_certificate_file, "
                   "client_key_file = excluded.client_key_file, pinned_key_sha256 = excluded.pinned_key_sha256, "
                   "rate_per_second = excluded.rate_per_second, "
                   "retry_window_seconds = excluded.retry_window_seconds, created_at = excluded.created_at");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_text(1, t.id)
                      .bind_text(2, t.client)
                      .bind_text(3, t.kind)
                      .bind_text(4, t.url)
                      .bind_text(5, t.statuses)
                      .bind_text(6, t.supplier_statuses)
                      .bind_text(7, t.api_key_header)
                      .bind_blob(8, t.api_key)
                      .bind_optional_text(9, t.client_certificate_file)
                      .bind_optional_text(10, t.client_key_file)
                      .bind_optional_text(11, t.pinned_key_sha256)
                      .bind_int(12, t.rate_per_second)
                      .bind_int(13, t.retry_window_seconds)
                      .bind_int(14, t.created_at)
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no NHS client " + t.client);
    }
    return ok();
  });
}

Result<bool> SqliteStore::delete_nhs_callback_target(Uuid id) {
  bool deleted = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto callbacks = db.prepare("DELETE FROM nhs_callbacks WHERE target_id = ?");
    if (!callbacks) return callbacks.error();
    HERALD_TRY(callbacks->bind_text(1, id.to_string()).run());
    auto target = db.prepare("DELETE FROM nhs_callback_targets WHERE id = ?");
    if (!target) return target.error();
    HERALD_TRY(target->bind_text(1, id.to_string()).run());
    deleted = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

Result<std::vector<NhsCallbackTarget>> SqliteStore::nhs_callback_targets(std::optional<Uuid> client) {
  auto rows = with_reader<std::vector<SealedNhsCallbackTarget>>(
      [&](Connection& db) -> Result<std::vector<SealedNhsCallbackTarget>> {
        auto stmt = db.prepare(std::string("SELECT ") + kNhsCallbackTargetColumns + " FROM nhs_callback_targets " +
                               (client ? "WHERE client_id = ? " : "") + "ORDER BY created_at, id");
        if (!stmt) return stmt.error();
        if (client) stmt->bind_text(1, client->to_string());
        std::vector<SealedNhsCallbackTarget> out;
        while (true) {
          auto row = stmt->step();
          if (!row) return row.error();
          if (!*row) return out;
          out.push_back(read_nhs_callback_target(*stmt));
        }
      });
  if (!rows) return rows.error();
  std::vector<NhsCallbackTarget> out;
  out.reserve(rows->size());
  for (const SealedNhsCallbackTarget& row : *rows) {
    auto opened = open_nhs_callback_target(*cipher_, row);
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<std::vector<NhsCallbackRecord>> SqliteStore::claim_nhs_callbacks(int limit, Timestamp now, Duration lease) {
  std::vector<SealedNhsCallback> rows;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("UPDATE nhs_callbacks SET lease_until = ? WHERE id IN (SELECT id FROM "
                                       "nhs_callbacks WHERE state = 'pending' AND next_attempt_at <= ? AND "
                                       "(lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id "
                                       "LIMIT ?) RETURNING ") +
                           kNhsCallbackColumns);
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(now + lease))
        .bind_int(2, to_micros(now))
        .bind_int(3, to_micros(now))
        .bind_int(4, limit);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return ok();
      rows.push_back(read_nhs_callback(*stmt));
    }
  });
  if (!result) return result.error();
  // RETURNING gives no order: earliest due first, as claimed.
  std::sort(rows.begin(), rows.end(), [](const SealedNhsCallback& a, const SealedNhsCallback& b) {
    return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
  });
  std::vector<NhsCallbackRecord> out;
  std::vector<std::int64_t> gone;
  for (const SealedNhsCallback& row : rows) {
    auto opened = open_nhs_callback(*cipher_, row);
    if (opened) {
      out.push_back(std::move(*opened));
    } else if (opened.error().code == ErrorCode::kNotFound) {
      gone.push_back(row.id);  // its day's data key is gone (retention): so is the callback
    } else {
      // Does not open (corrupt): left to its lease, like an unreadable notification.
      log::error("store.unreadable_nhs_callback",
                 {{"callback_id", std::to_string(row.id)}, {"error", opened.error().message}});
    }
  }
  if (!gone.empty()) {
    HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
      for (const std::int64_t id : gone) {
        auto stmt = db.prepare("DELETE FROM nhs_callbacks WHERE id = ?");
        if (!stmt) return stmt.error();
        HERALD_TRY(stmt->bind_int(1, id).run());
      }
      return ok();
    }));
  }
  return out;
}

Result<void> SqliteStore::finish_nhs_callback(const NhsCallbackAttempt& attempt) {
  using Outcome = NhsCallbackAttempt::Outcome;
  if (attempt.outcome == Outcome::kRetry && !attempt.retry_at) {
    return invalid_argument("a callback to retry needs retry_at");
  }
  return writer_->run([&](Connection& db) -> Result<void> {
    if (attempt.outcome == Outcome::kSent) {
      auto stmt = db.prepare("DELETE FROM nhs_callbacks WHERE id = ?");
      if (!stmt) return stmt.error();
      return stmt->bind_int(1, attempt.id).run();
    }
    const bool dead = attempt.outcome == Outcome::kDead;
    auto stmt = db.prepare(std::string("UPDATE nhs_callbacks SET attempts = attempts + 1, last_error = ?, "
                                       "first_attempt_at = COALESCE(first_attempt_at, ?), lease_until = NULL, ") +
                           (dead ? "state = 'dead'" : "next_attempt_at = ?") + " WHERE id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_optional_text(1, attempt.error).bind_int(2, to_micros(attempt.at));
    if (dead) {
      stmt->bind_int(3, attempt.id);
    } else {
      stmt->bind_int(3, to_micros(*attempt.retry_at)).bind_int(4, attempt.id);
    }
    return stmt->run();
  });
}

Result<std::vector<NhsCallbackRecord>> SqliteStore::dead_nhs_callbacks(std::optional<Uuid> client, int limit) {
  auto rows =
      with_reader<std::vector<SealedNhsCallback>>([&](Connection& db) -> Result<std::vector<SealedNhsCallback>> {
        auto stmt =
            db.prepare(std::string("SELECT ") + kNhsCallbackColumns + " FROM nhs_callbacks WHERE state = 'dead' " +
                       (client ? "AND client_id = ? " : "") + "ORDER BY created_at, id LIMIT ?");
        if (!stmt) return stmt.error();
        int n = 0;
        if (client) stmt->bind_text(++n, client->to_string());
        stmt->bind_int(++n, limit);
        std::vector<SealedNhsCallback> out;
        while (true) {
          auto row = stmt->step();
          if (!row) return row.error();
          if (!*row) return out;
          out.push_back(read_nhs_callback(*stmt));
        }
      });
  if (!rows) return rows.error();
  std::vector<NhsCallbackRecord> out;
  for (const SealedNhsCallback& row : *rows) {
    auto opened = open_nhs_callback(*cipher_, row);
    if (!opened) {
      if (opened.error().code == ErrorCode::kNotFound) continue;  // shredded: nothing left to replay
      return opened.error();
    }
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<bool> SqliteStore::replay_nhs_callback(std::int64_t id, Timestamp now) {
  bool replayed = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE nhs_callbacks SET state = 'pending', attempts = 0, first_attempt_at = NULL, last_error = NULL, "
        "next_attempt_at = ?, lease_until = NULL WHERE id = ? AND state = 'dead'");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(now)).bind_int(2, id).run());
    replayed = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return replayed;
}

namespace {

SealedAdminUser read_admin_user(const Statement& row) {
  SealedAdminUser u;
  u.id = row.column_text(0);
  u.email = row.column_blob(1);
  u.email_index = row.column_blob(2);
  u.name = row.column_blob(3);
  u.platform_admin = row.column_int(4);
  u.password_hash = row.column_text(5);
  if (!row.column_is_null(6)) u.totp_secret = row.column_blob(6);
  u.totp_last_step = row.column_int(7);
  u.failed_sign_ins = row.column_int(8);
  u.locked_until = row.column_optional_int(9);
  u.enrolled_at = row.column_optional_int(10);
  u.disabled_at = row.column_optional_int(11);
  u.created_at = row.column_int(12);
  return u;
}

Result<AdminMembership> read_admin_membership(const Statement& row) {
  auto user = Uuid::parse(row.column_text(0));
  auto service = ServiceId::parse(row.column_text(1));
  if (!user || !service) return data_loss("malformed id in admin_memberships row");
  return AdminMembership{*user, *service, split_permissions(row.column_text(2)), from_micros(row.column_int(3))};
}

Result<AdminEnrolment> read_admin_enrolment(const Statement& row) {
  auto user = Uuid::parse(row.column_text(1));
  if (!user) return data_loss("malformed id in admin_enrolments row");
  return AdminEnrolment{row.column_text(0), *user, from_micros(row.column_int(2)), from_micros(row.column_int(3))};
}

Result<AdminSessionRecord> read_admin_session(const Statement& row) {
  auto user = Uuid::parse(row.column_text(1));
  if (!user) return data_loss("malformed id in admin_sessions row");
  return AdminSessionRecord{row.column_text(0), *user, from_micros(row.column_int(2)), from_micros(row.column_int(3)),
                            optional_time(row.column_optional_int(4))};
}

Result<WebAuthnCredential> read_webauthn_credential(const Statement& row) {
  auto user = Uuid::parse(row.column_text(1));
  if (!user) return data_loss("malformed id in webauthn_credentials row");
  return WebAuthnCredential{row.column_blob(0),
                            *user,
                            row.column_blob(2),
                            row.column_int(3),
                            row.column_text(4),
                            from_micros(row.column_int(5)),
                            optional_time(row.column_optional_int(6))};
}

// Every row of `stmt`, read by `read` (which may fail).
template <typename T, typename Read>
Result<std::vector<T>> read_all(Statement& stmt, Read&& read) {
  std::vector<T> out;
  while (true) {
    auto row = stmt.step();
    if (!row) return row.error();
    if (!*row) return out;
    auto value = read(stmt);
    if (!value) return value.error();
    out.push_back(std::move(*value));
  }
}

}  // namespace

// The email's blind index is unique: a second user with the same address (or the same id) is
// absorbed by ON CONFLICT and refused.
Result<void> SqliteStore::create_admin_user(const AdminUserRecord& user) {
  auto sealed = seal_admin_user(*cipher_, user);
  if (!sealed) return sealed.error();
  const SealedAdminUser& u = *sealed;
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO admin_users (") + kAdminUserColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, u.id)
                   .bind_blob(2, u.email)
                   .bind_blob(3, u.email_index)
                   .bind_blob(4, u.name)
                   .bind_int(5, u.platform_admin)
                   .bind_text(6, u.password_hash)
                   .bind_optional_blob(7, u.totp_secret)
                   .bind_int(8, u.totp_last_step)
                   .bind_int(9, u.failed_sign_ins)
                   .bind_optional_int(10, u.locked_until)
                   .bind_optional_int(11, u.enrolled_at)
                   .bind_optional_int(12, u.disabled_at)
                   .bind_int(13, u.created_at)
                   .run());
    if (db.changes() != 1) return failed_precondition("an admin user has that id or email");
    return ok();
  });
}

// totp_last_step only ever rises (use_totp_step moves it; a record read before a step was used
// must not take it back).
Result<void> SqliteStore::update_admin_user(const AdminUserRecord& user) {
  auto sealed = seal_admin_user(*cipher_, user);
  if (!sealed) return sealed.error();
  const SealedAdminUser& u = *sealed;
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE admin_users SET name = ?, platform_admin = ?, password_hash = ?, totp_secret = ?, "
        "totp_last_step = MAX(totp_last_step, ?), failed_sign_ins = ?, locked_until = ?, enrolled_at = ?, "
        "disabled_at = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_blob(1, u.name)
                   .bind_int(2, u.platform_admin)
                   .bind_text(3, u.password_hash)
                   .bind_optional_blob(4, u.totp_secret)
                   .bind_int(5, u.totp_last_step)
                   .bind_int(6, u.failed_sign_ins)
                   .bind_optional_int(7, u.locked_until)
                   .bind_optional_int(8, u.enrolled_at)
                   .bind_optional_int(9, u.disabled_at)
                   .bind_text(10, u.id)
                   .run());
    if (db.changes() != 1) return not_found("admin user " + u.id);
    return ok();
  });
}

Result<std::optional<AdminUserRecord>> SqliteStore::find_admin_user(Uuid id) {
  auto row = with_reader<std::optional<SealedAdminUser>>([&](Connection& db) -> Result<std::optional<SealedAdminUser>> {
    auto stmt = db.prepare(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users WHERE id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string());
    auto found = stmt->step();
    if (!found) return found.error();
    if (!*found) return std::optional<SealedAdminUser>();
    return std::optional<SealedAdminUser>(read_admin_user(*stmt));
  });
  if (!row) return row.error();
  if (!*row) return std::optional<AdminUserRecord>();
  auto opened = open_admin_user(*cipher_, **row);
  if (!opened) return opened.error();
  return std::optional<AdminUserRecord>(std::move(*opened));
}

Result<std::optional<AdminUserRecord>> SqliteStore::find_admin_user_by_email(std::string_view email) {
  auto index = admin_email_index(*cipher_, email, SystemClock().now());
  if (!index) return index.error();
  auto row = with_reader<std::optional<SealedAdminUser>>([&](Connection& db) -> Result<std::optional<SealedAdminUser>> {
    auto stmt = db.prepare(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users WHERE email_index = ?");
    if (!stmt) return stmt.error();
    stmt->bind_blob(1, *index);
    auto found = stmt->step();
    if (!found) return found.error();
    if (!*found) return std::optional<SealedAdminUser>();
    return std::optional<SealedAdminUser>(read_admin_user(*stmt));
  });
  if (!row) return row.error();
  if (!*row) return std::optional<AdminUserRecord>();
  auto opened = open_admin_user(*cipher_, **row);
  if (!opened) return opened.error();
  return std::optional<AdminUserRecord>(std::move(*opened));
}

Result<std::vector<AdminUserRecord>> SqliteStore::list_admin_users() {
  auto rows = with_reader<std::vector<SealedAdminUser>>([&](Connection& db) -> Result<std::vector<SealedAdminUser>> {
    auto stmt = db.prepare(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    return read_all<SealedAdminUser>(
        *stmt, [](const Statement& row) -> Result<SealedAdminUser> { return read_admin_user(row); });
  });
  if (!rows) return rows.error();
  std::vector<AdminUserRecord> out;
  out.reserve(rows->size());
  for (const SealedAdminUser& row : *rows) {
    auto opened = open_admin_user(*cipher_, row);
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<int> SqliteStore::count_sign_in_failure(Uuid user) {
  int count = 0;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE admin_users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ? RETURNING failed_sign_ins");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, user.to_string());
    auto counted = returned_count(*stmt);
    if (!counted) return counted.error();
    count = *counted;
    return ok();
  }));
  return count;
}

Result<void> SqliteStore::set_sign_in_lock(Uuid user, std::optional<Timestamp> locked_until, bool reset_failures) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(reset_failures ? "UPDATE admin_users SET locked_until = ?, failed_sign_ins = 0 WHERE id = ?"
                                          : "UPDATE admin_users SET locked_until = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    return stmt->bind_optional_int(1, optional_micros(locked_until)).bind_text(2, user.to_string()).run();
  });
}

Result<void> SqliteStore::set_admin_password_hash(Uuid user, std::string_view password_hash) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE admin_users SET password_hash = ? WHERE id = ?");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, password_hash).bind_text(2, user.to_string()).run();
  });
}

// One conditional UPDATE: of two nodes offered the same step, one changes the row.
Result<bool> SqliteStore::use_totp_step(Uuid user, std::int64_t step) {
  bool used = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE admin_users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, step).bind_text(2, user.to_string()).bind_int(3, step).run());
    used = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return used;
}

// A membership of an unknown user or service breaks a foreign key: kFailedPrecondition.
Result<void> SqliteStore::put_admin_membership(const AdminMembership& membership) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO admin_memberships (") + kAdminMembershipColumns +
                           ") VALUES (?, ?, ?, ?) ON CONFLICT (user_id, service_id) DO UPDATE SET "
                           "permissions = excluded.permissions");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_text(1, membership.user.to_string())
                      .bind_text(2, membership.service.to_string())
                      .bind_text(3, join_permissions(membership.permissions))
                      .bind_int(4, to_micros(membership.created_at))
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no admin user " + membership.user.to_string() + " or service " +
                                 membership.service.to_string());
    }
    return ok();
  });
}

Result<bool> SqliteStore::delete_admin_membership(Uuid user, ServiceId service) {
  bool deleted = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_memberships WHERE user_id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, user.to_string()).bind_text(2, service.to_string()).run());
    deleted = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

Result<std::vector<AdminMembership>> SqliteStore::admin_memberships(std::optional<Uuid> user,
                                                                    std::optional<ServiceId> service) {
  return with_reader<std::vector<AdminMembership>>([&](Connection& db) -> Result<std::vector<AdminMembership>> {
    const char* where = user && service ? " WHERE user_id = ? AND service_id = ?"
                        : user          ? " WHERE user_id = ?"
                        : service       ? " WHERE service_id = ?"
                                        : "";
    auto stmt = db.prepare(std::string("SELECT ") + kAdminMembershipColumns + " FROM admin_memberships" + where +
                           " ORDER BY created_at, user_id, service_id");
    if (!stmt) return stmt.error();
    int n = 0;
    if (user) stmt->bind_text(++n, user->to_string());
    if (service) stmt->bind_text(++n, service->to_string());
    return read_all<AdminMembership>(*stmt, read_admin_membership);
  });
}

// One transaction: the user's earlier links (and every expired one) go, the new one comes.
Result<void> SqliteStore::add_admin_enrolment(const AdminEnrolment& enrolment) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto earlier = db.prepare("DELETE FROM admin_enrolments WHERE user_id = ? OR expires_at <= ?");
    if (!earlier) return earlier.error();
    HERALD_TRY(earlier->bind_text(1, enrolment.user.to_string()).bind_int(2, to_micros(enrolment.created_at)).run());
    auto stmt =
        db.prepare(std::string("INSERT INTO admin_enrolments (") + kAdminEnrolmentColumns + ") VALUES (?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_text(1, enrolment.token_hash)
                      .bind_text(2, enrolment.user.to_string())
                      .bind_int(3, to_micros(enrolment.created_at))
                      .bind_int(4, to_micros(enrolment.expires_at))
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no admin user " + enrolment.user.to_string() + ", or the token exists");
    }
    return ok();
  });
}

Result<std::optional<AdminEnrolment>> SqliteStore::find_admin_enrolment(std::string_view token_hash, Timestamp now) {
  return with_reader<std::optional<AdminEnrolment>>([&](Connection& db) -> Result<std::optional<AdminEnrolment>> {
    auto stmt = db.prepare(std::string("SELECT ") + kAdminEnrolmentColumns +
                           " FROM admin_enrolments WHERE token_hash = ? AND expires_at > ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, token_hash).bind_int(2, to_micros(now));
    auto found = stmt->step();
    if (!found) return found.error();
    if (!*found) return std::optional<AdminEnrolment>();
    auto enrolment = read_admin_enrolment(*stmt);
    if (!enrolment) return enrolment.error();
    return std::optional<AdminEnrolment>(std::move(*enrolment));
  });
}

Result<bool> SqliteStore::take_admin_enrolment(std::string_view token_hash, Timestamp now) {
  bool taken = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_enrolments WHERE token_hash = ? AND expires_at > ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, token_hash).bind_int(2, to_micros(now)).run());
    taken = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return taken;
}

Result<void> SqliteStore::set_recovery_codes(Uuid user, const std::vector<std::string>& code_hashes) {
  return writer_->run([&](Connection& db) -> Result<void> {
    const std::string id = user.to_string();
    auto old_codes = db.prepare("DELETE FROM admin_recovery_codes WHERE user_id = ?");
    if (!old_codes) return old_codes.error();
    HERALD_TRY(old_codes->bind_text(1, id).run());
    for (const std::string& code_hash : code_hashes) {
      auto stmt =
          db.prepare("INSERT INTO admin_recovery_codes (user_id, code_hash) VALUES (?, ?) ON CONFLICT DO NOTHING");
      if (!stmt) return stmt.error();
      auto stored = stmt->bind_text(1, id).bind_text(2, code_hash).run();
      if (!stored) {
        if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
        return failed_precondition("no admin user " + id);
      }
    }
    return ok();
  });
}

Result<bool> SqliteStore::use_recovery_code(Uuid user, std::string_view code_hash) {
  bool used = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_recovery_codes WHERE user_id = ? AND code_hash = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, user.to_string()).bind_text(2, code_hash).run());
    used = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return used;
}

Result<int> SqliteStore::recovery_codes_left(Uuid user) {
  return with_reader<int>([&](Connection& db) -> Result<int> {
    auto stmt = db.prepare("SELECT COUNT(*) FROM admin_recovery_codes WHERE user_id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, user.to_string());
    auto row = stmt->step();
    if (!row) return row.error();
    return static_cast<int>(stmt->column_int(0));
  });
}

Result<void> SqliteStore::create_admin_session(const AdminSessionRecord& session) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt =
        db.prepare(std::string("INSERT INTO admin_sessions (") + kAdminSessionColumns + ") VALUES (?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_text(1, session.token_hash)
                      .bind_text(2, session.user.to_string())
                      .bind_int(3, to_micros(session.created_at))
                      .bind_int(4, to_micros(session.last_seen_at))
                      .bind_optional_int(5, optional_micros(session.second_factor_at))
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no admin user " + session.user.to_string() + ", or the session exists");
    }
    return ok();
  });
}

Result<std::optional<AdminSessionRecord>> SqliteStore::find_admin_session(std::string_view token_hash) {
  return with_reader<std::optional<AdminSessionRecord>>(
      [&](Connection& db) -> Result<std::optional<AdminSessionRecord>> {
        auto stmt =
            db.prepare(std::string("SELECT ") + kAdminSessionColumns + " FROM admin_sessions WHERE token_hash = ?");
        if (!stmt) return stmt.error();
        stmt->bind_text(1, token_hash);
        auto found = stmt->step();
        if (!found) return found.error();
        if (!*found) return std::optional<AdminSessionRecord>();
        auto session = read_admin_session(*stmt);
        if (!session) return session.error();
        return std::optional<AdminSessionRecord>(std::move(*session));
      });
}

// Only the session's own user's row: a token hash never moves a session to another user.
Result<bool> SqliteStore::update_admin_session(const AdminSessionRecord& session) {
  bool updated = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE admin_sessions SET last_seen_at = ?, second_factor_at = ? WHERE token_hash = ? AND user_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(session.last_seen_at))
                   .bind_optional_int(2, optional_micros(session.second_factor_at))
                   .bind_text(3, session.token_hash)
                   .bind_text(4, session.user.to_string())
                   .run());
    updated = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return updated;
}

Result<bool> SqliteStore::delete_admin_session(std::string_view token_hash) {
  bool deleted = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_sessions WHERE token_hash = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, token_hash).run());
    deleted = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

Result<int> SqliteStore::delete_admin_sessions(Uuid user) {
  int deleted = 0;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_sessions WHERE user_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, user.to_string()).run());
    deleted = static_cast<int>(db.changes());
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

Result<int> SqliteStore::delete_expired_admin_sessions(Timestamp idle_cutoff, Timestamp absolute_cutoff) {
  int deleted = 0;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM admin_sessions WHERE last_seen_at < ? OR created_at < ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(idle_cutoff)).bind_int(2, to_micros(absolute_cutoff)).run());
    deleted = static_cast<int>(db.changes());
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

// A credential id registered already (to anyone) is absorbed by ON CONFLICT and refused; one of
// an unknown user breaks the foreign key. Both kFailedPrecondition.
Result<void> SqliteStore::add_webauthn_credential(const WebAuthnCredential& credential) {
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO webauthn_credentials (") + kWebAuthnCredentialColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_blob(1, credential.credential_id)
                      .bind_text(2, credential.user.to_string())
                      .bind_blob(3, credential.public_key)
                      .bind_int(4, credential.sign_count)
                      .bind_text(5, credential.name)
                      .bind_int(6, to_micros(credential.created_at))
                      .bind_optional_int(7, optional_micros(credential.last_used_at))
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no admin user " + credential.user.to_string());
    }
    if (db.changes() != 1) return failed_precondition("that WebAuthn credential is registered already");
    return ok();
  });
}

Result<std::vector<WebAuthnCredential>> SqliteStore::webauthn_credentials(Uuid user) {
  return with_reader<std::vector<WebAuthnCredential>>([&](Connection& db) -> Result<std::vector<WebAuthnCredential>> {
    auto stmt = db.prepare(std::string("SELECT ") + kWebAuthnCredentialColumns +
                           " FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, credential_id");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, user.to_string());
    return read_all<WebAuthnCredential>(*stmt, read_webauthn_credential);
  });
}

Result<std::optional<WebAuthnCredential>> SqliteStore::find_webauthn_credential(std::string_view credential_id) {
  return with_reader<std::optional<WebAuthnCredential>>(
      [&](Connection& db) -> Result<std::optional<WebAuthnCredential>> {
        auto stmt = db.prepare(std::string("SELECT ") + kWebAuthnCredentialColumns +
                               " FROM webauthn_credentials WHERE credential_id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_blob(1, credential_id);
        auto found = stmt->step();
        if (!found) return found.error();
        if (!*found) return std::optional<WebAuthnCredential>();
        auto credential = read_webauthn_credential(*stmt);
        if (!credential) return credential.error();
        return std::optional<WebAuthnCredential>(std::move(*credential));
      });
}

// One conditional UPDATE: a counter that does not rise (a cloned authenticator, a replayed
// assertion, or the same assertion offered to two nodes) changes nothing.
Result<bool> SqliteStore::use_webauthn_credential(std::string_view credential_id, std::int64_t sign_count,
                                                  Timestamp at) {
  bool used = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ? WHERE credential_id = ? AND "
        "(sign_count < ? OR (sign_count = 0 AND ? = 0))");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, sign_count)
                   .bind_int(2, to_micros(at))
                   .bind_blob(3, credential_id)
                   .bind_int(4, sign_count)
                   .bind_int(5, sign_count)
                   .run());
    used = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return used;
}

Result<bool> SqliteStore::delete_webauthn_credential(Uuid user, std::string_view credential_id) {
  bool deleted = false;
  auto result = writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM webauthn_credentials WHERE credential_id = ? AND user_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_blob(1, credential_id).bind_text(2, user.to_string()).run());
    deleted = db.changes() == 1;
    return ok();
  });
  if (!result) return result.error();
  return deleted;
}

// JobStore.

namespace {

// A jobs row as selected by kJobColumns (contents NULL when the query left them out).
SealedJob read_job(const Statement& row) {
  SealedJob j;
  j.id = row.column_text(0);
  j.service = row.column_text(1);
  j.template_id = row.column_text(2);
  j.template_version = row.column_int(3);
  j.type = row.column_text(4);
  if (!row.column_is_null(5)) j.file_name = row.column_blob(5);
  if (!row.column_is_null(6)) j.contents = row.column_blob(6);
  j.row_count = row.column_int(7);
  j.next_row = row.column_int(8);
  j.status = row.column_text(9);
  j.created_by = row.column_text(10);
  j.created_at = row.column_int(11);
  j.started_at = row.column_optional_int(12);
  j.finished_at = row.column_optional_int(13);
  return j;
}

// kJobColumns with file_name and contents (or both) read as NULL: listings never read the file.
constexpr const char* kJobColumnsWithoutContents =
    "id, service_id, template_id, template_version, type, file_name, NULL, row_count, next_row, status, "
    "created_by, created_at, started_at, finished_at";
constexpr const char* kJobColumnsWithoutFile =
    "id, service_id, template_id, template_version, type, NULL, NULL, row_count, next_row, status, "
    "created_by, created_at, started_at, finished_at";

}  // namespace

Result<void> SqliteStore::create_job(const JobRecord& job) {
  if (job.row_count < 0) return invalid_argument("a job's row count is never negative");
  auto sealed = seal_job(*cipher_, as_new_job(job));
  if (!sealed) return sealed.error();
  const SealedJob& j = *sealed;
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(std::string("INSERT INTO jobs (") + kJobColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    auto stored = stmt->bind_text(1, j.id)
                      .bind_text(2, j.service)
                      .bind_text(3, j.template_id)
                      .bind_int(4, j.template_version)
                      .bind_text(5, j.type)
                      .bind_optional_blob(6, j.file_name)
                      .bind_optional_blob(7, j.contents)
                      .bind_int(8, j.row_count)
                      .bind_int(9, j.next_row)
                      .bind_text(10, j.status)
                      .bind_text(11, j.created_by)
                      .bind_int(12, j.created_at)
                      .bind_optional_int(13, j.started_at)
                      .bind_optional_int(14, j.finished_at)
                      .run();
    if (!stored) {
      if (stored.error().code != ErrorCode::kInvalidArgument) return stored.error();
      return failed_precondition("no service " + j.service);
    }
    if (db.changes() != 1) return failed_precondition("a job has that id");
    return ok();
  });
}

Result<std::optional<JobRecord>> SqliteStore::find_job(ServiceId service, Uuid id) {
  auto row = with_reader<std::optional<SealedJob>>([&](Connection& db) -> Result<std::optional<SealedJob>> {
    auto stmt = db.prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string());
    auto found = stmt->step();
    if (!found) return found.error();
    if (!*found) return std::optional<SealedJob>();
    return std::optional<SealedJob>(read_job(*stmt));
  });
  if (!row) return row.error();
  if (!*row) return std::optional<JobRecord>();
  auto opened = open_job(*cipher_, **row);
  // Its day's data key was destroyed: the file is gone, and the job with it.
  if (!opened && opened.error().code == ErrorCode::kNotFound) return std::optional<JobRecord>();
  if (!opened) return opened.error();
  return std::optional<JobRecord>(std::move(*opened));
}

Result<std::vector<JobRecord>> SqliteStore::jobs_for_service(ServiceId service, int limit) {
  auto rows = with_reader<std::vector<SealedJob>>([&](Connection& db) -> Result<std::vector<SealedJob>> {
    auto stmt = db.prepare(std::string("SELECT ") + kJobColumnsWithoutContents +
                           " FROM jobs WHERE service_id = ? ORDER BY created_at DESC, id DESC LIMIT ?");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, limit);
    return read_all<SealedJob>(*stmt, [](const Statement& row) -> Result<SealedJob> { return read_job(row); });
  });
  if (!rows) return rows.error();
  std::vector<JobRecord> out;
  out.reserve(rows->size());
  for (const SealedJob& row : *rows) {
    auto opened = open_job(*cipher_, row);
    if (!opened && opened.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<bool> SqliteStore::start_job(ServiceId service, Uuid id, Timestamp now) {
  bool started = false;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "UPDATE jobs SET status = 'in-progress', started_at = ? WHERE id = ? AND service_id = ? AND status = 'pending'");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(now)).bind_text(2, id.to_string()).bind_text(3, service.to_string()).run());
    started = db.changes() == 1;
    return ok();
  }));
  return started;
}

// A save_job_rows racing it is serialised by the writer: whichever runs second finds the status
// moved (a cancelled job takes no more rows; a finished one is not cancelled).
Result<bool> SqliteStore::cancel_job(ServiceId service, Uuid id, Timestamp now) {
  return changed_one_row(
      "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND service_id = ? "
      "AND status IN ('pending', 'in-progress')",
      id.to_string(), service.to_string(), now);
}

Result<std::vector<JobRecord>> SqliteStore::jobs_in_progress(int limit) {
  auto rows = with_reader<std::vector<SealedJob>>([&](Connection& db) -> Result<std::vector<SealedJob>> {
    auto stmt = db.prepare(std::string("SELECT ") + kJobColumnsWithoutFile +
                           " FROM jobs WHERE status = 'in-progress' ORDER BY created_at, id LIMIT ?");
    if (!stmt) return stmt.error();
    stmt->bind_int(1, limit);
    return read_all<SealedJob>(*stmt, [](const Statement& row) -> Result<SealedJob> { return read_job(row); });
  });
  if (!rows) return rows.error();
  std::vector<JobRecord> out;
  out.reserve(rows->size());
  for (const SealedJob& row : *rows) {
    auto opened = open_job(*cipher_, row);  // nothing sealed to open
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<bool> SqliteStore::save_job_rows(ServiceId service, Uuid job, int from_row, int to_row,
                                        const std::vector<NotificationRecord>& notifications,
                                        const std::vector<int>& rows, Timestamp now) {
  if (from_row < 0 || to_row < from_row || rows.size() != notifications.size()) {
    return invalid_argument("a job's rows are saved as a range, one row number per notification");
  }
  // Sealed here, on the caller's thread: the writer only writes.
  std::vector<SealedNotification> sealed;
  sealed.reserve(notifications.size());
  for (const NotificationRecord& record : notifications) {
    if (record.service != service) return invalid_argument("a job's notifications are its service's");
    auto row = seal_notification(*cipher_, record);
    if (!row) return row.error();
    sealed.push_back(std::move(*row));
  }
  const std::string job_id = job.to_string();
  bool saved = false;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    // Compare-and-set on next_row: of two workers saving the same rows, the second finds it moved.
    auto stmt = db.prepare(
        "UPDATE jobs SET next_row = ?, status = CASE WHEN ? = row_count THEN 'finished' ELSE status END, "
        "finished_at = CASE WHEN ? = row_count THEN ? ELSE finished_at END "
        "WHERE id = ? AND service_id = ? AND status = 'in-progress' AND next_row = ? RETURNING row_count");
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_row)
        .bind_int(2, to_row)
        .bind_int(3, to_row)
        .bind_int(4, to_micros(now))
        .bind_text(5, job_id)
        .bind_text(6, service.to_string())
        .bind_int(7, from_row);
    auto row_count = returned_count(*stmt);
    if (!row_count) return row_count.error();
    if (db.changes() != 1) return ok();
    // An error rolls the job's savepoint back, the update above with it.
    if (to_row > *row_count) return invalid_argument("rows past the end of job " + job_id);
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      HERALD_TRY(insert_sealed_notification(db, sealed[i], JobRowLink{job_id, rows[i]}));
    }
    saved = true;
    return ok();
  }));
  return saved;
}

Result<StatusCounts> SqliteStore::job_status_counts(ServiceId service, Uuid job) {
  return with_reader<StatusCounts>([&](Connection& db) -> Result<StatusCounts> {
    auto stmt = db.prepare(
        "SELECT status, count(*) FROM notifications WHERE service_id = ? AND job_id = ? GROUP BY status "
        "ORDER BY status");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_text(2, job.to_string());
    return read_all<std::pair<NotificationStatus, std::int64_t>>(
        *stmt, [](const Statement& row) -> Result<std::pair<NotificationStatus, std::int64_t>> {
          const auto status = parse_status(row.column_text(0));
          if (!status) return data_loss("unknown status in notifications: " + row.column_text(0));
          return std::make_pair(*status, row.column_int(1));
        });
  });
}

Result<std::vector<DailyStatusCount>> SqliteStore::daily_status_counts(ServiceId service, Timestamp from,
                                                                       Timestamp to) {
  return with_reader<std::vector<DailyStatusCount>>([&](Connection& db) -> Result<std::vector<DailyStatusCount>> {
    // created_at is integer microseconds since the epoch (UTC), so the day is a division; the
    // range is a scan of notifications_service_created_id. Nothing is left out: redacted rows
    // keep their statuses, and jobs', every key type's and NHS channels' notifications count too.
    auto stmt = db.prepare(
        "SELECT created_at / 86400000000 AS day, notification_type, status, count(*) FROM notifications "
        "WHERE service_id = ? AND created_at >= ? AND created_at < ? GROUP BY day, notification_type, status "
        "ORDER BY day, notification_type, status");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, to_micros(from)).bind_int(3, to_micros(to));
    return read_all<DailyStatusCount>(*stmt, [](const Statement& row) -> Result<DailyStatusCount> {
      const auto type = parse_channel(row.column_text(1));
      if (!type) return data_loss("unknown type in notifications: " + row.column_text(1));
      const auto status = parse_status(row.column_text(2));
      if (!status) return data_loss("unknown status in notifications: " + row.column_text(2));
      return DailyStatusCount{row.column_int(0), *type, *status, row.column_int(3)};
    });
  });
}

Result<std::vector<ProviderStats>> SqliteStore::provider_stats(ServiceId service, Timestamp from, Timestamp to) {
  return with_reader<std::vector<ProviderStats>>([&](Connection& db) -> Result<std::vector<ProviderStats>> {
    // The mean is taken in C++ from the sum and count of the delivered ones' durations (micros),
    // as the PostgreSQL backend does, so both divide the same integers.
    auto stmt = db.prepare(std::string("SELECT sent_by, count(*), ") + kProviderStatsColumns +
                           " FROM notifications WHERE service_id = ? AND created_at >= ? AND created_at < ? "
                           "AND sent_by IS NOT NULL GROUP BY sent_by ORDER BY sent_by");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_int(2, to_micros(from)).bind_int(3, to_micros(to));
    return read_all<ProviderStats>(*stmt, [](const Statement& row) -> Result<ProviderStats> {
      ProviderStats stats;
      stats.provider = row.column_text(0);
      stats.sent = row.column_int(1);
      stats.delivered = row.column_int(2);
      stats.failed = row.column_int(3);
      const std::int64_t timed = row.column_int(5);
      if (timed > 0) {
        stats.mean_seconds_to_delivered = static_cast<double>(row.column_int(4)) / static_cast<double>(timed) / 1e6;
      }
      return stats;
    });
  });
}

// SubjectStore.

namespace {

// Opened messages, those whose data key is gone left out.
Result<std::vector<NhsMessageRecord>> open_nhs_messages(const crypto::FieldCipher& cipher,
                                                        const std::vector<SealedNhsMessage>& rows) {
  std::vector<NhsMessageRecord> out;
  out.reserve(rows.size());
  for (const SealedNhsMessage& row : rows) {
    auto opened = open_nhs_message(cipher, row);
    if (!opened && opened.error().code == ErrorCode::kNotFound) continue;
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

// Each of `ids` once, in the order given.
template <typename Id>
std::vector<Id> distinct(const std::vector<Id>& ids) {
  std::vector<Id> out;
  for (const Id& id : ids) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// A job's file as an erasure found it (a job of the service whose contents retention has not
// emptied), and what it is to hold instead.
struct StoredJobContents {
  Uuid id;
  Timestamp created_at;
  std::string envelope;
  const std::string* replacement = nullptr;
};

// A job's contents as an erasure replaces them: sealed before the writer runs (as create_job
// seals them), and stored only if the job still holds `old` (the envelope read and compared).
struct ReplacedJobContents {
  std::string id, old, envelope;
};

// The new contents of each job (its first mention only) whose file would change
// (reseal_job_contents).
Result<std::vector<ReplacedJobContents>> replaced_job_contents(const crypto::FieldCipher& cipher, ServiceId service,
                                                               const std::vector<StoredJobContents>& stored) {
  std::vector<ReplacedJobContents> out;
  std::vector<Uuid> seen;
  for (const StoredJobContents& job : stored) {
    if (std::find(seen.begin(), seen.end(), job.id) != seen.end()) continue;
    seen.push_back(job.id);
    auto sealed = reseal_job_contents(cipher, service, job.id, job.created_at, job.envelope, *job.replacement);
    if (!sealed) return sealed.error();
    if (*sealed) out.push_back({job.id.to_string(), job.envelope, std::move(**sealed)});
  }
  return out;
}

// The erased notifications, each as retention redacts it (redact_notifications), and their PDFs.
Result<void> erase_notifications(Connection& db, const SubjectErasure& erasure, ErasureOutcome& outcome) {
  const std::string service = erasure.service.to_string();
  for (const NotificationId& id : erasure.notifications) {
    const std::string notification = id.to_string();
    auto redacted = redact_notifications(db, "id = ? AND service_id = ?", erasure.now, [&](Statement& stmt, int first) {
      stmt.bind_text(first, notification).bind_text(first + 1, service);
    });
    if (!redacted) return redacted.error();
    outcome.notifications += redacted->redacted;
    outcome.failed_pending += redacted->failed_pending;
    auto pdf = db.prepare("DELETE FROM letter_pdfs WHERE notification_id = ? AND service_id = ?");
    if (!pdf) return pdf.error();
    HERALD_TRY(pdf->bind_text(1, notification).bind_text(2, service).run());
  }
  return ok();
}

// What goes with an erased NHS Notify message of the service: the notifications that carry its
// channels (even one a step saved after the erasure's notifications were found) and their PDFs,
// its channel events and its callbacks (pending or dead).
Result<void> erase_with_nhs_message(Connection& db, const std::string& service, const std::string& id, Timestamp now,
                                    ErasureOutcome& outcome) {
  auto carried = redact_notifications(
      db, "nhs_message_id = ? AND service_id = ?", now,
      [&](Statement& stmt, int first) { stmt.bind_text(first, id).bind_text(first + 1, service); });
  if (!carried) return carried.error();
  outcome.notifications += carried->redacted;
  outcome.failed_pending += carried->failed_pending;
  auto pdfs = db.prepare(
      "DELETE FROM letter_pdfs WHERE service_id = ? AND notification_id IN (SELECT n.id FROM notifications n "
      "WHERE n.nhs_message_id = ? AND n.service_id = ?)");
  if (!pdfs) return pdfs.error();
  HERALD_TRY(pdfs->bind_text(1, service).bind_text(2, id).bind_text(3, service).run());
  // Events name no service: deleted only when the message is the service's.
  auto events = db.prepare(
      "DELETE FROM nhs_channel_events WHERE message_id = ? AND EXISTS (SELECT 1 FROM nhs_messages m "
      "WHERE m.id = ? AND m.service_id = ?)");
  if (!events) return events.error();
  HERALD_TRY(events->bind_text(1, id).bind_text(2, id).bind_text(3, service).run());
  auto callbacks = db.prepare("DELETE FROM nhs_callbacks WHERE message_id = ? AND service_id = ?");
  if (!callbacks) return callbacks.error();
  return callbacks->bind_text(1, id).bind_text(2, service).run();
}

// An erased NHS Notify message of the service: settled (failed, if it was not yet), its personal
// fields emptied (reference and personalisation are NOT NULL: empty blobs), never claimed or woken
// again; the lease goes too, so a step claimed before the erasure is never saved.
Result<void> erase_nhs_message(Connection& db, const SubjectErasure& erasure, const std::string& id,
                               ErasureOutcome& outcome) {
  const std::string service = erasure.service.to_string();
  const std::int64_t now = to_micros(erasure.now);
  auto fail = db.prepare(
      "UPDATE nhs_messages SET status = 'failed', status_description = ?, failure_reason_code = ?, failed_at = ? "
      "WHERE id = ? AND service_id = ? AND erased_at IS NULL AND status NOT IN ('delivered', 'failed')");
  if (!fail) return fail.error();
  HERALD_TRY(fail->bind_text(1, erasure.nhs_failure_description)
                 .bind_text(2, erasure.nhs_failure_code)
                 .bind_int(3, now)
                 .bind_text(4, id)
                 .bind_text(5, service)
                 .run());
  auto erase = db.prepare(
      "UPDATE nhs_messages SET reference = X'', reference_index = NULL, billing_reference = NULL, "
      "nhs_number = NULL, nhs_number_index = NULL, personalisation = X'', contact_details = NULL, recipient = NULL, "
      "next_step_at = NULL, lease_until = NULL, woken = 0, erased_at = ? "
      "WHERE id = ? AND service_id = ? AND erased_at IS NULL");
  if (!erase) return erase.error();
  HERALD_TRY(erase->bind_int(1, now).bind_text(2, id).bind_text(3, service).run());
  outcome.nhs_messages += db.changes();
  return erase_with_nhs_message(db, service, id, erasure.now, outcome);
}

// Deletes the service's rows of `table` (a constant) with these ids; returns how many.
Result<std::int64_t> delete_owned(Connection& db, const char* table, ServiceId service, const std::vector<Uuid>& ids) {
  std::int64_t deleted = 0;
  for (const Uuid& id : ids) {
    auto stmt = db.prepare(std::string("DELETE FROM ") + table + " WHERE id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, id.to_string()).bind_text(2, service.to_string()).run());
    deleted += db.changes();
  }
  return deleted;
}

}  // namespace

Result<std::vector<NhsMessageRecord>> SqliteStore::find_nhs_messages_by_nhs_number(ServiceId service,
                                                                                   std::string_view nhs_number) {
  auto index = nhs_number_index(*cipher_, service, nhs_number, SystemClock().now());
  if (!index) return index.error();
  auto rows = with_reader<std::vector<SealedNhsMessage>>([&](Connection& db) -> Result<std::vector<SealedNhsMessage>> {
    // No SQL index on the HMAC (migration 2): the service's messages are scanned in creation order.
    auto stmt = db.prepare(std::string("SELECT ") + kNhsMessageColumns +
                           " FROM nhs_messages WHERE service_id = ? AND nhs_number_index = ? AND erased_at IS NULL "
                           "ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_blob(2, *index);
    return read_all<SealedNhsMessage>(
        *stmt, [](const Statement& row) -> Result<SealedNhsMessage> { return read_nhs_message(row); });
  });
  if (!rows) return rows.error();
  return open_nhs_messages(*cipher_, *rows);
}

Result<std::vector<NhsMessageRecord>> SqliteStore::find_nhs_messages_by_id(ServiceId service,
                                                                           const std::vector<std::string>& ids) {
  auto rows = with_reader<std::vector<SealedNhsMessage>>([&](Connection& db) -> Result<std::vector<SealedNhsMessage>> {
    std::vector<SealedNhsMessage> out;
    for (const std::string& id : distinct(ids)) {
      auto stmt = db.prepare(std::string("SELECT ") + kNhsMessageColumns +
                             " FROM nhs_messages WHERE id = ? AND service_id = ? AND erased_at IS NULL");
      if (!stmt) return stmt.error();
      stmt->bind_text(1, id).bind_text(2, service.to_string());
      auto found = read_all<SealedNhsMessage>(
          *stmt, [](const Statement& row) -> Result<SealedNhsMessage> { return read_nhs_message(row); });
      if (!found) return found.error();
      out.insert(out.end(), found->begin(), found->end());
    }
    return out;
  });
  if (!rows) return rows.error();
  return open_nhs_messages(*cipher_, *rows);
}

Result<std::vector<NotificationRecord>> SqliteStore::notifications_for_nhs_messages(
    ServiceId service, const std::vector<std::string>& message_ids) {
  auto found =
      with_reader<std::vector<NotificationRecord>>([&](Connection& db) -> Result<std::vector<NotificationRecord>> {
        std::vector<NotificationRecord> out;
        for (const std::string& message : distinct(message_ids)) {
          auto stmt =
              db.prepare(std::string("SELECT ") + kNotificationColumns + kNotificationLinkColumns +
                         " FROM notifications WHERE nhs_message_id = ? AND service_id = ? AND redacted_at IS NULL");
          if (!stmt) return stmt.error();
          stmt->bind_text(1, message).bind_text(2, service.to_string());
          while (true) {
            auto row = stmt->step();
            if (!row) return row.error();
            if (!*row) break;
            auto record = read_linked_notification(*stmt);
            if (!record && record.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
            if (!record) return record.error();
            out.push_back(std::move(*record));
          }
        }
        return out;
      });
  if (!found) return found.error();
  std::sort(found->begin(), found->end(), [](const NotificationRecord& a, const NotificationRecord& b) {
    return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
  });
  return found;
}

Result<std::vector<InboundSms>> SqliteStore::find_inbound_sms_by_number(ServiceId service,
                                                                        std::string_view number_normalised) {
  auto index = cipher_->blind_index(service.to_string(), number_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_reader<std::vector<InboundSms>>([&](Connection& db) -> Result<std::vector<InboundSms>> {
    // No SQL index on the HMAC (migration 2): the service's texts are scanned, newest first.
    auto stmt = db.prepare(std::string("SELECT ") + kInboundColumns +
                           " FROM inbound_sms WHERE service_id = ? AND user_number_index = ? "
                           "ORDER BY created_at DESC, id DESC");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_blob(2, *index);
    std::vector<InboundSms> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*stmt));
      if (!sms && sms.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!sms) return sms.error();
      sms->user_number_normalised = std::string(number_normalised);
      out.push_back(std::move(*sms));
    }
  });
}

Result<std::vector<GuestListEntry>> SqliteStore::find_guest_list_entries(ServiceId service,
                                                                         std::string_view recipient_normalised) {
  auto index = cipher_->blind_index(service.to_string(), recipient_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_reader<std::vector<GuestListEntry>>([&](Connection& db) -> Result<std::vector<GuestListEntry>> {
    auto stmt = db.prepare(
        "SELECT id, recipient_type, recipient, created_at FROM service_guest_list WHERE service_id = ? "
        "AND recipient_index = ? ORDER BY created_at, id");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, service.to_string()).bind_blob(2, *index);
    std::vector<GuestListEntry> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      const std::string id = stmt->column_text(0);
      auto parsed = parse_id<Uuid>(id);
      if (!parsed) return parsed.error();
      auto recipient = cipher_->open(stmt->column_blob(2), {"service_guest_list", "recipient", id});
      if (!recipient && recipient.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!recipient) return recipient.error();
      out.push_back({*parsed, service, stmt->column_text(1), std::move(*recipient), std::string(recipient_normalised),
                     from_micros(stmt->column_int(3))});
    }
  });
}

Result<ErasureOutcome> SqliteStore::erase_subject(const SubjectErasure& erasure) {
  // The jobs' files as they are, read first: their new contents are sealed here, before the writer.
  auto stored =
      with_reader<std::vector<StoredJobContents>>([&](Connection& db) -> Result<std::vector<StoredJobContents>> {
        std::vector<StoredJobContents> out;
        for (const auto& [id, contents] : erasure.job_contents) {
          auto stmt = db.prepare(
              "SELECT created_at, contents FROM jobs WHERE id = ? AND service_id = ? AND contents IS NOT NULL");
          if (!stmt) return stmt.error();
          stmt->bind_text(1, id.to_string()).bind_text(2, erasure.service.to_string());
          auto row = stmt->step();
          if (!row) return row.error();
          if (*row) out.push_back({id, from_micros(stmt->column_int(0)), stmt->column_blob(1), &contents});
        }
        return out;
      });
  if (!stored) return stored.error();
  auto jobs = replaced_job_contents(*cipher_, erasure.service, *stored);
  if (!jobs) return jobs.error();
  // Every statement changes only what is not erased yet (or deletes), so an id named twice, or
  // erased before, is not counted again.
  ErasureOutcome outcome;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    outcome = ErasureOutcome{};
    HERALD_TRY(erase_notifications(db, erasure, outcome));
    for (const std::string& id : erasure.nhs_messages) HERALD_TRY(erase_nhs_message(db, erasure, id, outcome));
    auto inbound = delete_owned(db, "inbound_sms", erasure.service, erasure.inbound_sms);
    if (!inbound) return inbound.error();
    outcome.inbound_sms = *inbound;
    auto guests = delete_owned(db, "service_guest_list", erasure.service, erasure.guest_list_entries);
    if (!guests) return guests.error();
    outcome.guest_list_entries = *guests;
    auto documents = delete_owned(db, "documents", erasure.service, erasure.documents);
    if (!documents) return documents.error();
    outcome.documents = *documents;
    auto unsubscribes = delete_owned(db, "unsubscribe_requests", erasure.service, erasure.unsubscribe_requests);
    if (!unsubscribes) return unsubscribes.error();
    outcome.unsubscribe_requests = *unsubscribes;
    for (const ReplacedJobContents& job : *jobs) {
      auto stmt = db.prepare("UPDATE jobs SET contents = ? WHERE id = ? AND service_id = ? AND contents = ?");
      if (!stmt) return stmt.error();
      HERALD_TRY(stmt->bind_blob(1, job.envelope)
                     .bind_text(2, job.id)
                     .bind_text(3, erasure.service.to_string())
                     .bind_blob(4, job.old)
                     .run());
      outcome.jobs += db.changes();
    }
    return ok();
  }));
  return outcome;
}

namespace {

// A row of kUnsubscribeRequestSelect.
SealedUnsubscribeRequest read_unsubscribe_request(const Statement& row) {
  SealedUnsubscribeRequest r;
  r.id = row.column_text(0);
  r.service = row.column_text(1);
  r.notification = row.column_text(2);
  r.template_id = row.column_text(3);
  r.template_version = row.column_int(4);
  r.email = row.column_blob(5);
  r.created_at = row.column_int(6);
  r.report = row.column_optional_text(7);
  r.template_name = row.column_optional_text(8);
  r.notification_created_at = row.column_optional_int(9);
  r.job_id = row.column_optional_text(10);
  if (!row.column_is_null(11)) r.job_file_name = row.column_blob(11);
  return r;
}

// The requests kUnsubscribeRequestSelect finds with `where` (its one parameter bound by `bind`).
Result<std::vector<SealedUnsubscribeRequest>> select_unsubscribe_requests(Connection& db, const std::string& where,
                                                                          const std::function<void(Statement&)>& bind) {
  auto stmt = db.prepare(std::string(kUnsubscribeRequestSelect) + where + " ORDER BY r.created_at, r.id");
  if (!stmt) return stmt.error();
  bind(*stmt);
  return read_all<SealedUnsubscribeRequest>(
      *stmt, [](const Statement& row) -> Result<SealedUnsubscribeRequest> { return read_unsubscribe_request(row); });
}

// What a request takes from its notification (an email's, of any service, redacted or not).
struct UnsubscribeSource {
  std::string service, template_id;
  std::int64_t template_version = 1;
};

Result<std::optional<UnsubscribeSource>> unsubscribe_source(Connection& db, NotificationId notification) {
  auto stmt = db.prepare(
      "SELECT service_id, template_id, template_version FROM notifications WHERE id = ? AND notification_type = 'email'");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, notification.to_string());
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<UnsubscribeSource>();
  return std::optional<UnsubscribeSource>(
      UnsubscribeSource{stmt->column_text(0), stmt->column_text(1), stmt->column_int(2)});
}

}  // namespace

Result<std::vector<UnsubscribeRequest>> SqliteStore::find_unsubscribe_requests(ServiceId service,
                                                                               std::string_view email_normalised) {
  auto index = cipher_->blind_index(service.to_string(), email_normalised, SystemClock().now());
  if (!index) return index.error();
  auto rows = with_reader<std::vector<SealedUnsubscribeRequest>>(
      [&](Connection& db) -> Result<std::vector<SealedUnsubscribeRequest>> {
        // No SQL index on the HMAC (migration 2): the service's requests are scanned.
        return select_unsubscribe_requests(db, "WHERE r.service_id = ? AND r.email_index = ?", [&](Statement& stmt) {
          stmt.bind_text(1, service.to_string()).bind_blob(2, *index);
        });
      });
  if (!rows) return rows.error();
  return open_unsubscribe_requests(*cipher_, *rows, email_normalised);
}

Result<std::optional<bool>> SqliteStore::add_unsubscribe_request(const UnsubscribeRequest& request) {
  // The notification's service, read first: the address is sealed and indexed in its domain here,
  // before the writer. The transaction reads the notification again (its service, template and
  // version never change).
  auto source = with_reader<std::optional<UnsubscribeSource>>(
      [&](Connection& db) { return unsubscribe_source(db, request.notification); });
  if (!source) return source.error();
  if (!*source) return std::optional<bool>();
  auto service = parse_id<ServiceId>((*source)->service);
  auto template_id = parse_id<TemplateId>((*source)->template_id);
  if (!service) return service.error();
  if (!template_id) return template_id.error();
  auto sealed = seal_unsubscribe_request(*cipher_, request, *service, *template_id,
                                         static_cast<int>((*source)->template_version));
  if (!sealed) return sealed.error();
  std::optional<bool> added;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    added.reset();
    auto current = unsubscribe_source(db, request.notification);
    if (!current) return current.error();
    if (!*current) return ok();
    if ((*current)->service != sealed->service) return internal_error("a notification's service changed");
    // A request already waiting for the service: in no report, or in one not yet processed.
    auto waiting = db.prepare(
        "SELECT 1 FROM unsubscribe_requests r LEFT JOIN unsubscribe_reports p ON p.id = r.report_id "
        "WHERE r.service_id = ? AND r.notification_id = ? AND (r.report_id IS NULL OR p.processed_at IS NULL) "
        "LIMIT 1");
    if (!waiting) return waiting.error();
    waiting->bind_text(1, sealed->service).bind_text(2, sealed->notification);
    auto found = waiting->step();
    if (!found) return found.error();
    if (*found) {
      added = false;
      return ok();
    }
    auto insert = db.prepare(
        "INSERT INTO unsubscribe_requests (id, service_id, notification_id, template_id, template_version, email, "
        "email_index, created_at, report_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)");
    if (!insert) return insert.error();
    HERALD_TRY(insert->bind_text(1, sealed->id)
                   .bind_text(2, sealed->service)
                   .bind_text(3, sealed->notification)
                   .bind_text(4, (*current)->template_id)
                   .bind_int(5, (*current)->template_version)
                   .bind_blob(6, sealed->email)
                   .bind_optional_blob(7, sealed->email_index)
                   .bind_int(8, sealed->created_at)
                   .run());
    added = true;
    return ok();
  }));
  return added;
}

Result<std::vector<UnsubscribeReport>> SqliteStore::unsubscribe_reports(ServiceId service) {
  auto rows =
      with_reader<std::vector<UnsubscribeReportRow>>([&](Connection& db) -> Result<std::vector<UnsubscribeReportRow>> {
        // The requests in no report (a row only when there are some) first, then the reports.
        auto stmt = db.prepare(
            "SELECT NULL, n, earliest, latest, latest, NULL, 1 FROM (SELECT count(*) AS n, min(created_at) AS "
            "earliest, max(created_at) AS latest FROM unsubscribe_requests WHERE service_id = ? AND report_id IS NULL) "
            "AS pending WHERE n > 0 UNION ALL SELECT id, count, earliest, latest, created_at, processed_at, 0 "
            "FROM unsubscribe_reports WHERE service_id = ? ORDER BY 7 DESC, 5 DESC, 1 DESC");
        if (!stmt) return stmt.error();
        stmt->bind_text(1, service.to_string()).bind_text(2, service.to_string());
        return read_all<UnsubscribeReportRow>(*stmt, [](const Statement& row) -> Result<UnsubscribeReportRow> {
          return UnsubscribeReportRow{row.column_optional_text(0), row.column_int(1), row.column_int(2),
                                      row.column_int(3),           row.column_int(4), row.column_optional_int(5)};
        });
      });
  if (!rows) return rows.error();
  std::vector<UnsubscribeReport> out;
  for (const UnsubscribeReportRow& row : *rows) {
    auto report = read_unsubscribe_report(service, row);
    if (!report) return report.error();
    out.push_back(*report);
  }
  return out;
}

Result<std::optional<UnsubscribeReport>> SqliteStore::create_unsubscribe_report(ServiceId service, Uuid id,
                                                                                Timestamp now) {
  std::optional<UnsubscribeReportRow> made;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    made.reset();
    auto pending = db.prepare(
        "SELECT count(*), min(created_at), max(created_at) FROM unsubscribe_requests "
        "WHERE service_id = ? AND report_id IS NULL");
    if (!pending) return pending.error();
    pending->bind_text(1, service.to_string());
    auto row = pending->step();
    if (!row) return row.error();
    if (!*row || pending->column_int(0) == 0) return ok();
    UnsubscribeReportRow report{id.to_string(),         pending->column_int(0), pending->column_int(1),
                                pending->column_int(2), to_micros(now),         std::nullopt};
    auto insert = db.prepare("INSERT INTO unsubscribe_reports VALUES (?, ?, ?, ?, ?, ?, NULL)");
    if (!insert) return insert.error();
    HERALD_TRY(insert->bind_text(1, *report.id)
                   .bind_text(2, service.to_string())
                   .bind_int(3, report.count)
                   .bind_int(4, report.earliest)
                   .bind_int(5, report.latest)
                   .bind_int(6, report.created_at)
                   .run());
    auto assign =
        db.prepare("UPDATE unsubscribe_requests SET report_id = ? WHERE service_id = ? AND report_id IS NULL");
    if (!assign) return assign.error();
    HERALD_TRY(assign->bind_text(1, *report.id).bind_text(2, service.to_string()).run());
    made = std::move(report);
    return ok();
  }));
  if (!made) return std::optional<UnsubscribeReport>();
  auto report = read_unsubscribe_report(service, *made);
  if (!report) return report.error();
  return std::optional<UnsubscribeReport>(*report);
}

Result<std::vector<UnsubscribeRequest>> SqliteStore::unsubscribe_requests(ServiceId service, Uuid report) {
  const bool pending = report == Uuid{};
  auto rows = with_reader<std::vector<SealedUnsubscribeRequest>>(
      [&](Connection& db) -> Result<std::vector<SealedUnsubscribeRequest>> {
        return select_unsubscribe_requests(
            db,
            pending ? "WHERE r.service_id = ? AND r.report_id IS NULL" : "WHERE r.service_id = ? AND r.report_id = ?",
            [&](Statement& stmt) {
              stmt.bind_text(1, service.to_string());
              if (!pending) stmt.bind_text(2, report.to_string());
            });
      });
  if (!rows) return rows.error();
  return open_unsubscribe_requests(*cipher_, *rows);
}

Result<bool> SqliteStore::set_unsubscribe_report_processed(ServiceId service, Uuid report,
                                                           std::optional<Timestamp> at) {
  bool set = false;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("UPDATE unsubscribe_reports SET processed_at = ? WHERE id = ? AND service_id = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_optional_int(1, optional_micros(at))
                   .bind_text(2, report.to_string())
                   .bind_text(3, service.to_string())
                   .run());
    set = db.changes() == 1;
    return ok();
  }));
  return set;
}

Result<std::int64_t> SqliteStore::delete_old_unsubscribe_requests(Timestamp report_cutoff, Timestamp pending_cutoff) {
  std::int64_t deleted = 0;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    deleted = 0;
    // Each old report's requests through (service_id, report_id); those in no report by created_at.
    auto reported = db.prepare(
        "DELETE FROM unsubscribe_requests WHERE (service_id, report_id) IN "
        "(SELECT service_id, id FROM unsubscribe_reports WHERE created_at < ?)");
    if (!reported) return reported.error();
    HERALD_TRY(reported->bind_int(1, to_micros(report_cutoff)).run());
    deleted += db.changes();
    auto pending = db.prepare("DELETE FROM unsubscribe_requests WHERE report_id IS NULL AND created_at < ?");
    if (!pending) return pending.error();
    HERALD_TRY(pending->bind_int(1, to_micros(pending_cutoff)).run());
    deleted += db.changes();
    return ok();
  }));
  return deleted;
}

Result<QueueFigures> SqliteStore::queue_figures() {
  return with_reader<QueueFigures>([&](Connection& db) -> Result<QueueFigures> {
    QueueFigures figures;
    // One read transaction: both statements see the same committed state.
    auto tx = Transaction::begin_read(db);
    if (!tx) return tx.error();
    {
      auto stmt = db.prepare(kQueueChannelsSelect);
      if (!stmt) return stmt.error();
      while (true) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        const auto channel = parse_channel(stmt->column_text(0));
        if (!channel) continue;  // not a channel this release sends
        ChannelQueue& queue = figures.channels[static_cast<std::size_t>(*channel)];
        queue.waiting = stmt->column_int(1);
        queue.retrying = stmt->column_int(2);
        queue.oldest = optional_time(stmt->column_optional_int(3));
        queue.awaiting_receipt = stmt->column_int(4);
      }
    }
    {
      auto stmt = db.prepare(kQueueTotalsSelect);
      if (!stmt) return stmt.error();
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return internal_error("the queue figures' totals returned no row");
      figures.callbacks_due = stmt->column_int(0) + stmt->column_int(2);
      figures.oldest_callback_due =
          earliest(optional_time(stmt->column_optional_int(1)), optional_time(stmt->column_optional_int(3)));
      figures.callbacks_dead = stmt->column_int(4) + stmt->column_int(5);
      figures.nhs_callbacks_pending = stmt->column_int(6);
      figures.oldest_nhs_callback = optional_time(stmt->column_optional_int(7));
      figures.nhs_callbacks_dead = stmt->column_int(8);
      figures.nhs_messages_waiting = stmt->column_int(9);
      figures.oldest_nhs_message_step = optional_time(stmt->column_optional_int(10));
      HERALD_TRY(stmt->step());  // finish the statement
    }
    HERALD_TRY(tx->commit());
    return figures;
  });
}

Result<void> SqliteStore::set_mark(std::string_view name, Timestamp at) {
  HERALD_TRY(check_mark_name(name));
  return writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare(
        "INSERT INTO operation_marks (name, at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at");
    if (!stmt) return stmt.error();
    return stmt->bind_text(1, name).bind_int(2, to_micros(at)).run();
  });
}

Result<std::vector<std::pair<std::string, Timestamp>>> SqliteStore::marks(std::string_view prefix) {
  HERALD_TRY(check_mark_text(prefix, "a marks' prefix"));
  // The names starting with `prefix` are those in [prefix, the prefix's successor): names compare
  // bytewise (BINARY), so the successor is the prefix with its last byte below 0xFF raised by one
  // (the 0xFF bytes after it dropped). No successor (an empty prefix): every name from the prefix.
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  using Marks = std::vector<std::pair<std::string, Timestamp>>;
  return with_reader<Marks>([&](Connection& db) -> Result<Marks> {
    auto stmt =
        db.prepare(upper.empty() ? "SELECT name, at FROM operation_marks WHERE name >= ?1 ORDER BY name"
                                 : "SELECT name, at FROM operation_marks WHERE name >= ?1 AND name < ?2 ORDER BY name");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, prefix);
    if (!upper.empty()) stmt->bind_text(2, upper);
    Marks out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.emplace_back(stmt->column_text(0), from_micros(stmt->column_int(1)));
    }
  });
}

namespace {

// source_blocks' columns in the order read_source_block reads them.
constexpr const char* kSourceBlockColumns = "source, until, strikes, reason, updated_at";

SourceBlock read_source_block(const Statement& row) {
  return SourceBlock{row.column_text(0), from_micros(row.column_int(1)), static_cast<int>(row.column_int(2)),
                     row.column_text(3), from_micros(row.column_int(4))};
}

}  // namespace

Result<SourceBlock> SqliteStore::strike_source(std::string_view source, std::string_view reason, Timestamp now,
                                               Duration base, Duration cap, Timestamp forget_before) {
  HERALD_TRY(check_block_source(source));
  HERALD_TRY(check_block_reason(reason));
  SourceBlock saved;
  // Read and written in one job of the writer, inside its BEGIN IMMEDIATE transaction: no other
  // connection (another store on the file, another process) writes in between.
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    std::optional<SourceBlock> row;
    {
      auto select = db.prepare(std::string("SELECT ") + kSourceBlockColumns + " FROM source_blocks WHERE source = ?");
      if (!select) return select.error();
      select->bind_text(1, source);
      auto found = select->step();
      if (!found) return found.error();
      if (*found) row = read_source_block(*select);
    }
    saved = next_strike(row, source, reason, now, base, cap, forget_before);
    auto upsert = db.prepare(std::string("INSERT INTO source_blocks (") + kSourceBlockColumns +
                             ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET until = excluded.until, "
                             "strikes = excluded.strikes, reason = excluded.reason, updated_at = excluded.updated_at");
    if (!upsert) return upsert.error();
    return upsert->bind_text(1, saved.source)
        .bind_int(2, to_micros(saved.until))
        .bind_int(3, saved.strikes)
        .bind_text(4, saved.reason)
        .bind_int(5, to_micros(saved.updated_at))
        .run();
  }));
  return saved;
}

Result<std::vector<SourceBlock>> SqliteStore::running_blocks(Timestamp now) {
  return with_reader<std::vector<SourceBlock>>([&](Connection& db) -> Result<std::vector<SourceBlock>> {
    auto stmt = db.prepare(std::string("SELECT ") + kSourceBlockColumns +
                           " FROM source_blocks WHERE until > ? ORDER BY source");
    if (!stmt) return stmt.error();
    stmt->bind_int(1, to_micros(now));
    std::vector<SourceBlock> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read_source_block(*stmt));
    }
  });
}

Result<bool> SqliteStore::unblock_source(std::string_view source) {
  HERALD_TRY(check_block_source(source));
  bool deleted = false;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM source_blocks WHERE source = ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_text(1, source).run());
    deleted = db.changes() == 1;
    return ok();
  }));
  return deleted;
}

Result<std::int64_t> SqliteStore::forget_blocks(Timestamp before) {
  std::int64_t deleted = 0;
  HERALD_TRY(writer_->run([&](Connection& db) -> Result<void> {
    auto stmt = db.prepare("DELETE FROM source_blocks WHERE until < ?");
    if (!stmt) return stmt.error();
    HERALD_TRY(stmt->bind_int(1, to_micros(before)).run());
    deleted = db.changes();
    return ok();
  }));
  return deleted;
}

}  // namespace herald::store::sqlite
