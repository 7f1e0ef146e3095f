#include "store/postgres/pg_store.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>
#include <unordered_map>

#include "core/check.h"
#include "core/log.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_batch.h"
#include "store/schema.h"
#include "store/sealed_row.h"

namespace herald::store::postgres {
namespace {

constexpr const char* kNotificationColumns =
    "id, service_id, api_key_id, key_type, template_id, template_version, notification_type, "
    "status, reference_sealed, recipient, personalisation, subject, body, one_click_unsubscribe_url, "
    "created_at, sent_at, updated_at, attempts, sender, billable_units, rate_multiplier, sent_by, callback_attempts, postage";

// The same, of an UPDATE ... AS n ... FROM (...) whose RETURNING must name the table.
constexpr const char* kNotificationColumnsOfN =
    "n.id, n.service_id, n.api_key_id, n.key_type, n.template_id, n.template_version, n.notification_type, "
    "n.status, n.reference_sealed, n.recipient, n.personalisation, n.subject, n.body, n.one_click_unsubscribe_url, "
    "n.created_at, n.sent_at, n.updated_at, n.attempts, n.sender, n.billable_units, n.rate_multiplier, n.sent_by, "
    "n.callback_attempts, n.postage";
constexpr int kNotificationColumnCount = 24;
// After kNotificationColumns: where the notification came from (link_notification).
constexpr const char* kNotificationLinkColumns = ", nhs_message_id, job_id, job_row";

// provider_stats' aggregates after sent_by and count(*), as SQLite's: delivered (or sent, for
// international texts), failed (every failure status, letters' included), then the sum and count
// of the delivered ones' microseconds from created_at to updated_at. sum(bigint) is numeric here:
// cast back, the mean is taken in C++.
constexpr const char* kProviderStatsColumns =
    "count(CASE WHEN status IN ('delivered', 'sent') THEN 1 END), "
    "count(CASE WHEN status IN ('permanent-failure', 'temporary-failure', 'technical-failure', "
    "'validation-failed', 'virus-scan-failed', 'returned-letter') THEN 1 END), "
    "coalesce(sum(CASE WHEN status IN ('delivered', 'sent') THEN updated_at - created_at END), 0)::bigint, "
    "count(CASE WHEN status IN ('delivered', 'sent') THEN updated_at END)";

// References an earlier release stored in plain text, sealed in batches (sealed_row.h). Each
// row is one UPDATE guarded by `reference IS NOT NULL`, so nodes opening at once, or a crash
// part-way, leave nothing half done.
Result<void> seal_legacy_references(PgConnection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  std::int64_t sealed_rows = 0;
  while (true) {
    auto rows = db.exec(
        "SELECT id, service_id, reference, recipient FROM notifications WHERE reference IS NOT NULL LIMIT 1000");
    if (!rows) return rows.error();
    if (rows->rows() == 0) {
      if (sealed_rows > 0) {
        log::warn("store.legacy_references_sealed",
                  {{"rows", std::to_string(sealed_rows)},
                   {"action", "run VACUUM FULL notifications once: old row versions still hold the plain text"}});
      }
      return ok();
    }
    sealed_rows += rows->rows();
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string id = rows->text(i, 0);
      auto sealed = seal_legacy_reference(cipher, id, rows->text(i, 1), rows->text(i, 2), rows->bytes(i, 3), now);
      if (!sealed) return sealed.error();
      Params params;
      if (*sealed) {
        params.bytes((*sealed)->envelope).bytes((*sealed)->index);
      } else {
        params.null().null();
      }
      HERALD_TRY(
          db.run("UPDATE notifications SET reference = NULL, reference_sealed = $1, reference_index = $2 "
                 "WHERE id = $3 AND reference IS NOT NULL",
                 params.text(id)));
    }
  }
}

// Callback URLs an earlier release stored in plain text (column url), sealed into url_sealed;
// each UPDATE is guarded, so nodes opening at once do nothing twice.
Result<void> seal_legacy_callback_urls(PgConnection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    auto rows = db.exec("SELECT service_id, url FROM service_callbacks WHERE kind = $1 AND url_sealed IS NULL",
                        Params().text(callback_kind_name(kind)));
    if (!rows) return rows.error();
    for (int i = 0; i < rows->rows(); ++i) {
      auto id = ServiceId::parse(rows->text(i, 0));
      if (!id) return data_loss("malformed service id in service_callbacks");
      auto sealed = seal_callback_field(cipher, *id, kind, "url", rows->text(i, 1), now);
      if (!sealed) return sealed.error();
      HERALD_TRY(
          db.run("UPDATE service_callbacks SET url = '', url_sealed = $1 "
                 "WHERE service_id = $2 AND kind = $3 AND url_sealed IS NULL",
                 Params().bytes(*sealed).text(id->to_string()).text(callback_kind_name(kind))));
    }
  }
  return ok();
}

// NHS numbers of messages stored before schema 23 (marked '' by the migration), indexed in
// batches in id order. Each row is one UPDATE guarded by its mark, so nodes opening at once, or
// a crash part-way, leave nothing half done. A number whose data key is gone has nothing left to
// index; one that does not open (tampering, a wrong key) is logged and left unindexed rather than
// keeping the store shut: that message does not open either.
Result<void> index_legacy_nhs_numbers(PgConnection& db, const crypto::FieldCipher& cipher, Timestamp now) {
  std::string after;  // the last id done
  while (true) {
    auto rows = db.exec(
        "SELECT id, service_id, nhs_number FROM nhs_messages WHERE id > $1 AND nhs_number_index = ''::bytea "
        "ORDER BY id LIMIT 1000",
        Params().text(after));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return ok();
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string id = rows->text(i, 0);
      auto index = index_sealed_nhs_number(cipher, id, rows->text(i, 1), rows->bytes(i, 2), now);
      if (!index) log::error("store.unindexable_nhs_number", {{"message_id", id}, {"error", index.error().message}});
      HERALD_TRY(db.run("UPDATE nhs_messages SET nhs_number_index = $1 WHERE id = $2 AND nhs_number_index = ''::bytea",
                        Params().optional_bytes(index ? *index : std::nullopt).text(id)));
    }
    after = rows->text(rows->rows() - 1, 0);
    log::info("store.legacy_nhs_numbers_indexed", {{"rows", std::to_string(rows->rows())}});
  }
}

constexpr const char* kServiceColumns =
    "SELECT id, name, email_sender_local_part, active, restricted, created_at, retention_days, permissions, "
    "prefix_sms, rate_limit, email_limit, sms_limit, letter_limit, international_sms_limit, go_live_requested_at, "
    "go_live_requested_by FROM services ";

constexpr const char* kTemplateSelect =
    "SELECT t.id, t.service_id, t.archived, v.version, v.name, v.template_type, v.subject, "
    "v.content, v.created_at, v.created_by, (SELECT f.created_at FROM template_versions f "
    "WHERE f.template_id = t.id AND f.version = 1), v.postage, v.letter_contact_id, v.has_unsubscribe_link "
    "FROM templates t "
    "JOIN template_versions v ON v.template_id = t.id ";

// pg_advisory_xact_lock key of the audit chain's head: appenders on every node take it.
constexpr const char* kAuditLock = "SELECT pg_advisory_xact_lock(7235827441003)";

ServiceRecord read_service(const PgResult& rows, int i) {
  ServiceRecord s;
  s.id = ServiceId::parse(rows.text(i, 0)).value_or(ServiceId{});
  s.name = rows.text(i, 1);
  s.email_sender_local_part = rows.text(i, 2);
  s.active = rows.boolean(i, 3);
  s.restricted = rows.boolean(i, 4);
  s.created_at = from_micros(rows.integer(i, 5));
  s.retention_days = static_cast<int>(rows.integer(i, 6));
  s.permissions = split_permissions(rows.text(i, 7));
  s.prefix_sms = rows.boolean(i, 8);
  s.rate_limit = static_cast<int>(rows.integer(i, 9));
  s.email_limit = rows.integer(i, 10);
  s.sms_limit = rows.integer(i, 11);
  s.letter_limit = rows.integer(i, 12);
  s.international_sms_limit = rows.integer(i, 13);
  s.go_live_requested_at = optional_time(rows.optional_integer(i, 14));
  s.go_live_requested_by = optional_id(rows.optional_text(i, 15));
  return s;
}

TemplateRecord read_template(const PgResult& rows, int i) {
  TemplateRecord t;
  t.id = TemplateId::parse(rows.text(i, 0)).value_or(TemplateId{});
  t.service = ServiceId::parse(rows.text(i, 1)).value_or(ServiceId{});
  t.archived = rows.boolean(i, 2);
  t.version = static_cast<int>(rows.integer(i, 3));
  t.name = rows.text(i, 4);
  const auto type = parse_channel(rows.text(i, 5));
  HERALD_CHECK(type.has_value(), "template_versions row with an unknown template_type");
  t.type = *type;
  t.subject = rows.text(i, 6);
  t.body = rows.text(i, 7);
  t.created_by = rows.text(i, 9);
  // GOV.UK: created_at is the template's; updated_at the time this version was made.
  t.created_at = from_micros(rows.integer(i, 10));
  if (t.version > 1) t.updated_at = from_micros(rows.integer(i, 8));
  t.postage = rows.optional_text(i, 11);
  t.letter_contact_id = rows.optional_text(i, 12);
  t.has_unsubscribe_link = rows.boolean(i, 13);
  return t;
}

SealedNotification sealed_from(const PgResult& rows, int i) {
  SealedNotification s;
  s.id = rows.text(i, 0);
  s.service = rows.text(i, 1);
  s.api_key = rows.text(i, 2);
  s.key_type = rows.text(i, 3);
  s.template_id = rows.text(i, 4);
  s.template_version = rows.integer(i, 5);
  s.type = rows.text(i, 6);
  s.status = rows.text(i, 7);
  s.reference = rows.optional_bytes(i, 8);
  s.recipient = rows.bytes(i, 9);
  s.personalisation = rows.bytes(i, 10);
  s.subject = rows.bytes(i, 11);
  s.body = rows.bytes(i, 12);
  s.unsubscribe = rows.optional_bytes(i, 13);
  s.created_at = rows.integer(i, 14);
  s.sent_at = rows.optional_integer(i, 15);
  s.updated_at = rows.optional_integer(i, 16);
  s.attempts = rows.integer(i, 17);
  s.sender = rows.optional_text(i, 18);
  s.billable_units = rows.integer(i, 19);
  s.rate_multiplier = rows.integer(i, 20);
  s.sent_by = rows.optional_text(i, 21);
  s.callback_attempts = rows.integer(i, 22);
  s.postage = rows.optional_text(i, 23);
  return s;
}

template <typename Start>
Result<void> wait_for(Start&& start) {
  std::promise<Result<void>> promise;
  auto future = promise.get_future();
  start([&promise](Result<void> result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace

PgStore::PgStore(std::shared_ptr<const crypto::FieldCipher> cipher, std::unique_ptr<PgPool> pool,
                 std::unique_ptr<PgBatchWriter> writer)
    : cipher_(std::move(cipher)), pool_(std::move(pool)), writer_(std::move(writer)) {}

PgStore::~PgStore() { writer_.reset(); }  // writes what is queued

Result<std::unique_ptr<PgStore>> PgStore::open(const PgConfig& config, std::shared_ptr<const crypto::FieldCipher> cipher,
                                               Timestamp now) {
  auto pool = PgPool::open(config.url, config.connections);
  if (!pool) return pool.error();
  if (config.migrate) {
    HERALD_TRY((*pool)->with<int>([&](PgConnection& db) { return apply_migrations(db, to_micros(now)); }));
    HERALD_TRY((*pool)->with<int>([&](PgConnection& db) -> Result<int> {
      HERALD_TRY(seal_legacy_references(db, *cipher, now));
      HERALD_TRY(seal_legacy_callback_urls(db, *cipher, now));
      HERALD_TRY(index_legacy_nhs_numbers(db, *cipher, now));
      return 0;
    }));
  } else {
    // The owner's migration ran the legacy upgrades above too.
    HERALD_TRY((*pool)->with<void>([&](PgConnection& db) { return check_schema_current(db); }));
  }
  std::vector<std::unique_ptr<PgConnection>> writers;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, config.writers); ++i) {
    auto connection = PgConnection::open(config.url);
    if (!connection) return connection.error();
    writers.push_back(std::move(*connection));
  }
  auto writer = std::make_unique<PgBatchWriter>(std::move(writers), config.max_batch, config.commit_gather);
  return std::unique_ptr<PgStore>(new PgStore(std::move(cipher), std::move(*pool), std::move(writer)));
}

Result<void> PgStore::create_service(const ServiceRecord& s) {
  return with_connection<void>([&](PgConnection& db) {
    return db.run(
        "INSERT INTO services (id, name, email_sender_local_part, active, restricted, created_at, retention_days, "
        "permissions, prefix_sms, rate_limit, email_limit, sms_limit, letter_limit, international_sms_limit, "
        "go_live_requested_at, go_live_requested_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        Params()
            .text(s.id.to_string())
            .text(s.name)
            .text(s.email_sender_local_part)
            .text(s.active ? "true" : "false")
            .text(s.restricted ? "true" : "false")
            .integer(to_micros(s.created_at))
            .integer(s.retention_days)
            .text(join_permissions(s.permissions))
            .text(s.prefix_sms ? "true" : "false")
            .integer(s.rate_limit)
            .integer(s.email_limit)
            .integer(s.sms_limit)
            .integer(s.letter_limit)
            .integer(s.international_sms_limit)
            .optional_integer(optional_micros(s.go_live_requested_at))
            .optional_text(optional_id_text(s.go_live_requested_by)));
  });
}

Result<std::optional<ServiceRecord>> PgStore::find_service_where(const char* where, std::string_view key) {
  return with_connection<std::optional<ServiceRecord>>([&](PgConnection& db) -> Result<std::optional<ServiceRecord>> {
    auto rows = db.exec(std::string(kServiceColumns) + where, Params().text(key));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<ServiceRecord>();
    return std::optional<ServiceRecord>(read_service(*rows, 0));
  });
}

Result<std::optional<ServiceRecord>> PgStore::find_service(ServiceId id) {
  return find_service_where("WHERE id = $1", id.to_string());
}

Result<std::optional<ServiceRecord>> PgStore::find_service_by_name(const std::string& name) {
  return find_service_where("WHERE name = $1", name);
}

Result<std::vector<ServiceRecord>> PgStore::list_services() {
  return with_connection<std::vector<ServiceRecord>>([&](PgConnection& db) -> Result<std::vector<ServiceRecord>> {
    auto rows = db.exec(std::string(kServiceColumns) + "ORDER BY created_at");
    if (!rows) return rows.error();
    std::vector<ServiceRecord> out;
    for (int i = 0; i < rows->rows(); ++i) out.push_back(read_service(*rows, i));
    return out;
  });
}

Result<void> PgStore::set_service_retention(ServiceId service, int days) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto updated = db.exec("UPDATE services SET retention_days = $1 WHERE id = $2",
                           Params().integer(days).text(service.to_string()));
    if (!updated) return updated.error();
    if (updated->affected() != 1) return not_found("service " + service.to_string());
    return ok();
  });
}

Result<void> PgStore::update_service(const ServiceRecord& s) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto updated = db.exec(
        "UPDATE services SET active = $1, restricted = $2, retention_days = $3, permissions = $4, prefix_sms = $5, "
        "rate_limit = $7, email_limit = $8, sms_limit = $9, letter_limit = $10, international_sms_limit = $11, "
        "go_live_requested_at = $12, go_live_requested_by = $13 WHERE id = $6",
        Params()
            .text(s.active ? "true" : "false")
            .text(s.restricted ? "true" : "false")
            .integer(s.retention_days)
            .text(join_permissions(s.permissions))
            .text(s.prefix_sms ? "true" : "false")
            .text(s.id.to_string())
            .integer(s.rate_limit)
            .integer(s.email_limit)
            .integer(s.sms_limit)
            .integer(s.letter_limit)
            .integer(s.international_sms_limit)
            .optional_integer(optional_micros(s.go_live_requested_at))
            .optional_text(optional_id_text(s.go_live_requested_by)),
        PgConnection::Retry::kYes);
    if (!updated) return updated.error();
    if (updated->affected() != 1) return not_found("no service " + s.id.to_string());
    return ok();
  });
}

Result<void> PgStore::add_service_contact(const ServiceContact& c) {
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      if (c.is_default) {
        HERALD_TRY(db.run("UPDATE service_contacts SET is_default = false WHERE service_id = $1 AND kind = $2",
                          Params().text(c.service.to_string()).text(contact_kind_name(c.kind))));
      }
      return db.run("INSERT INTO service_contacts VALUES ($1, $2, $3, $4, $5, $6)",
                    Params().text(c.id.to_string()).text(c.service.to_string()).text(contact_kind_name(c.kind))
                        .text(c.value).text(c.is_default ? "true" : "false").integer(to_micros(c.created_at)));
    });
  });
}

// The contact is found by id, service and kind, so no statement touches another service's rows
// (nor another kind's default); a miss rolls the transaction back.
Result<void> PgStore::update_service_contact(const ServiceContact& c) {
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      auto updated = db.exec(
          "UPDATE service_contacts SET value = $1, is_default = $2 WHERE id = $3 AND service_id = $4 AND kind = $5",
          Params()
              .text(c.value)
              .text(c.is_default ? "true" : "false")
              .text(c.id.to_string())
              .text(c.service.to_string())
              .text(contact_kind_name(c.kind)));
      if (!updated) return updated.error();
      if (updated->affected() != 1) {
        return not_found("no " + std::string(contact_kind_name(c.kind)) + " contact " + c.id.to_string());
      }
      if (!c.is_default) return ok();
      return db.run("UPDATE service_contacts SET is_default = false WHERE service_id = $1 AND kind = $2 AND id <> $3",
                    Params().text(c.service.to_string()).text(contact_kind_name(c.kind)).text(c.id.to_string()));
    });
  });
}

Result<bool> PgStore::remove_service_contact(ServiceId service, Uuid id) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM service_contacts WHERE id = $1 AND service_id = $2",
                        Params().text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<std::vector<ServiceContact>> PgStore::service_contacts(ServiceId service, ContactKind kind) {
  return with_connection<std::vector<ServiceContact>>([&](PgConnection& db) -> Result<std::vector<ServiceContact>> {
    auto rows = db.exec(
        "SELECT id, value, is_default, created_at FROM service_contacts WHERE service_id = $1 AND kind = $2 "
        "ORDER BY created_at, id",
        Params().text(service.to_string()).text(contact_kind_name(kind)));
    if (!rows) return rows.error();
    std::vector<ServiceContact> out;
    for (int i = 0; i < rows->rows(); ++i) {
      auto id = Uuid::parse(rows->text(i, 0));
      if (!id) return data_loss("malformed id in database");
      out.push_back({*id, service, kind, rows->text(i, 1), rows->boolean(i, 2), from_micros(rows->integer(i, 3))});
    }
    return out;
  });
}

Result<std::optional<NotificationRecord>> PgStore::apply_receipt(const DeliveryReceipt& receipt) {
  if (receipt.transitions.empty()) return std::optional<NotificationRecord>();
  return with_connection<std::optional<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::optional<NotificationRecord>> {
        // The transitions are the domain's rule (domain::status_after_receipt), applied in one
        // update. Safe to re-send after a broken connection: whether a second run still finds the
        // notification in a status the receipt applies in is the rule's to say (a final status
        // never moves again, and returned-letter follows only delivered). A notification that
        // carries an NHS Notify message's channel makes no callback due: the same statement wakes
        // its message's cascade instead (due at once, unless it already is).
        auto rows = db.exec(
            "WITH u AS (UPDATE notifications SET status = " + receipt_status_case(receipt) + ", updated_at = $1, " +
                callback_due_assignments("$4", "$1", "notifications") +
                " WHERE id = $2 AND sent_by = $3 AND status IN " + receipt_status_list(receipt) +
                " AND redacted_at IS NULL RETURNING " + kNotificationColumns +
                ", nhs_message_id), w AS (UPDATE nhs_messages SET woken = 1, next_step_at = CASE WHEN next_step_at "
                "IS NULL OR next_step_at > $1 THEN $1 ELSE next_step_at END "
                "WHERE id = (SELECT nhs_message_id FROM u) AND erased_at IS NULL) SELECT " +
                kNotificationColumns + " FROM u",
            Params()
                .integer(to_micros(receipt.received_at))
                .text(receipt.id.to_string())
                .text(receipt.provider)
                .text(receipt.callback ? "true" : "false"),
            PgConnection::Retry::kYes);
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<NotificationRecord>();
        auto record = open_notification(*cipher_, sealed_from(*rows, 0));
        if (!record) return std::optional<NotificationRecord>();
        return std::optional<NotificationRecord>(std::move(*record));
      });
}

Result<void> PgStore::set_service_callback(const ServiceCallback& callback) {
  auto token = seal_callback_field(*cipher_, callback.service, callback.kind, "bearer_token", callback.bearer_token,
                                   callback.updated_at);
  if (!token) return token.error();
  auto url = seal_callback_field(*cipher_, callback.service, callback.kind, "url", callback.url, callback.updated_at);
  if (!url) return url.error();
  return with_connection<void>([&](PgConnection& db) {
    return db.run(
        "INSERT INTO service_callbacks (service_id, kind, url, bearer_token, updated_at, url_sealed) "
        "VALUES ($1, $2, '', $3, $4, $5) ON CONFLICT (service_id, kind) DO UPDATE SET url = '', "
        "url_sealed = excluded.url_sealed, bearer_token = excluded.bearer_token, updated_at = excluded.updated_at",
        Params()
            .text(callback.service.to_string())
            .text(callback_kind_name(callback.kind))
            .bytes(*token)
            .integer(to_micros(callback.updated_at))
            .bytes(*url));
  });
}

Result<std::optional<ServiceCallback>> PgStore::find_service_callback(ServiceId service, CallbackKind kind) {
  return with_connection<std::optional<ServiceCallback>>(
      [&](PgConnection& db) -> Result<std::optional<ServiceCallback>> {
        auto rows = db.exec(
            "SELECT url_sealed, bearer_token, updated_at FROM service_callbacks WHERE service_id = $1 AND kind = $2",
            Params().text(service.to_string()).text(callback_kind_name(kind)));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<ServiceCallback>();
        auto url = open_callback_field(*cipher_, service, kind, "url", rows->bytes(0, 0));
        if (!url) return url.error();
        auto token = open_callback_field(*cipher_, service, kind, "bearer_token", rows->bytes(0, 1));
        if (!token) return token.error();
        return std::optional<ServiceCallback>(
            ServiceCallback{service, kind, std::move(*url), std::move(*token), from_micros(rows->integer(0, 2))});
      });
}

Result<bool> PgStore::delete_service_callback(ServiceId service, CallbackKind kind) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM service_callbacks WHERE service_id = $1 AND kind = $2",
                        Params().text(service.to_string()).text(callback_kind_name(kind)));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<std::vector<NotificationRecord>> PgStore::claim_callbacks(int limit, Timestamp now, Duration lease) {
  return with_connection<std::vector<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NotificationRecord>> {
        auto rows = db.exec(
            std::string("UPDATE notifications AS n SET callback_due_at = $1, callback_attempts = n.callback_attempts + 1 "
                        "FROM (SELECT id FROM notifications WHERE callback_due_at <= $2 AND redacted_at IS NULL "
                        "ORDER BY callback_due_at LIMIT $3 FOR UPDATE SKIP LOCKED) AS c WHERE n.id = c.id RETURNING ") +
                kNotificationColumnsOfN,
            Params().integer(to_micros(now + lease)).integer(to_micros(now)).integer(limit));
        if (!rows) return rows.error();
        std::vector<std::string> unreadable;
        return read_notifications(*rows, &unreadable);
      });
}

Result<void> PgStore::finish_callback(NotificationId id, std::optional<Timestamp> retry_at) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto done = db.exec(
        "UPDATE notifications SET callback_due_at = $1, callback_dead_at = NULL, callback_error = NULL WHERE id = $2",
        Params().optional_integer(optional_micros(retry_at)).text(id.to_string()), PgConnection::Retry::kYes);
    if (!done) return done.error();
    return ok();
  });
}

Result<void> PgStore::kill_callback(NotificationId id, Timestamp now, std::string_view error) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    // A redacted notification has nothing left to send: it never goes on the dead list.
    auto done = db.exec(
        "UPDATE notifications SET callback_due_at = NULL, callback_dead_at = $1, callback_error = $2 "
        "WHERE id = $3 AND redacted_at IS NULL",
        Params().integer(to_micros(now)).text(error).text(id.to_string()), PgConnection::Retry::kYes);
    if (!done) return done.error();
    return ok();
  });
}

Result<int> PgStore::take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                                 double capacity) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    int granted = 0;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      // Created full on first use; the row lock serialises the nodes drawing from one bucket.
      HERALD_TRY(db.run("INSERT INTO rate_buckets VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
                        Params().text(bucket).text(std::to_string(capacity)).integer(to_micros(now))));
      auto rows = db.exec("SELECT tokens, updated_at FROM rate_buckets WHERE key = $1 FOR UPDATE", Params().text(bucket));
      if (!rows) return rows.error();
      const double tokens = refill(std::stod(rows->text(0, 0)), from_micros(rows->integer(0, 1)), now,
                                   refill_per_second, capacity);
      granted = static_cast<int>(std::min<double>(want, std::floor(tokens)));
      return db.run("UPDATE rate_buckets SET tokens = $2, updated_at = $3 WHERE key = $1",
                    Params().text(bucket).text(std::to_string(tokens - granted)).integer(to_micros(now)));
    }));
    return granted;
  });
}

Result<std::int64_t> PgStore::reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) {
  return with_connection<std::int64_t>([&](PgConnection& db) -> Result<std::int64_t> {
    std::int64_t granted = 0;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      // The row lock makes concurrent reservations from several nodes add up.
      HERALD_TRY(db.run("INSERT INTO daily_counts VALUES ($1, 0) ON CONFLICT (key) DO NOTHING", Params().text(counter)));
      auto rows = db.exec("SELECT used FROM daily_counts WHERE key = $1 FOR UPDATE", Params().text(counter));
      if (!rows) return rows.error();
      const std::int64_t used = rows->integer(0, 0);
      granted = std::clamp<std::int64_t>(limit - used, 0, want);
      if (granted == 0) return ok();
      return db.run("UPDATE daily_counts SET used = $2 WHERE key = $1", Params().text(counter).integer(used + granted));
    }));
    return granted;
  });
}

namespace {

constexpr const char* kInboundColumns =
    "id, service_id, notify_number, user_number, content, provider, provider_reference, received_at, created_at, "
    "callback_attempts";

SealedInboundSms sealed_inbound(const PgResult& rows, int i) {
  SealedInboundSms s;
  s.id = rows.text(i, 0);
  s.service = rows.text(i, 1);
  s.notify_number = rows.text(i, 2);
  s.user_number = rows.bytes(i, 3);
  s.content = rows.bytes(i, 4);
  s.provider = rows.text(i, 5);
  s.provider_reference = rows.optional_text(i, 6);
  s.received_at = rows.integer(i, 7);
  s.created_at = rows.integer(i, 8);
  s.callback_attempts = rows.integer(i, 9);
  return s;
}

}  // namespace

Result<void> PgStore::add_guest_list_entry(const GuestListEntry& entry) {
  auto key_id = cipher_->keys().key_for_scope(crypto::kSecretsScope, entry.created_at);
  if (!key_id) return key_id.error();
  const std::string id = entry.id.to_string();
  auto sealed = cipher_->seal(entry.recipient, {"service_guest_list", "recipient", id}, *key_id);
  if (!sealed) return sealed.error();
  auto index = cipher_->blind_index(entry.service.to_string(), entry.recipient_normalised, entry.created_at);
  if (!index) return index.error();
  return with_connection<void>([&](PgConnection& db) {
    return db.run("INSERT INTO service_guest_list VALUES ($1, $2, $3, $4, $5, $6)",
                  Params().text(id).text(entry.service.to_string()).text(entry.recipient_type).bytes(*sealed)
                      .bytes(*index).integer(to_micros(entry.created_at)));
  });
}

Result<void> PgStore::put_letter_pdf(ServiceId service, NotificationId id, Timestamp created_at,
                                     std::string_view pdf) {
  auto sealed = seal_letter_pdf(*cipher_, service, id, created_at, pdf);
  if (!sealed) return sealed.error();
  return with_connection<void>([&](PgConnection& db) {
    return db.run("INSERT INTO letter_pdfs (notification_id, service_id, created_at, pdf) VALUES ($1, $2, $3, $4)",
                  Params().text(id.to_string()).text(service.to_string()).integer(to_micros(created_at)).bytes(*sealed));
  });
}

Result<std::optional<std::string>> PgStore::find_letter_pdf(ServiceId service, NotificationId id) {
  auto envelope = with_connection<std::optional<std::string>>([&](PgConnection& db) -> Result<std::optional<std::string>> {
    auto rows = db.exec("SELECT pdf FROM letter_pdfs WHERE notification_id = $1 AND service_id = $2",
                        Params().text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<std::string>{};
    return std::optional<std::string>(rows->bytes(0, 0));
  });
  if (!envelope) return envelope.error();
  if (!*envelope) return std::optional<std::string>{};
  return open_letter_pdf(*cipher_, **envelope, id);
}

// On the guest list, or (an email address) a team member: an admin user of that email (the
// blind index of the "admin-users" domain, as the user was stored under: the domain's
// normalised, lower-cased address, the form callers pass here) with a membership of the service,
// not disabled. One round trip, by index, nothing opened.
Result<bool> PgStore::on_guest_list(ServiceId service, std::string_view recipient_normalised) {
  const Timestamp now = SystemClock().now();
  auto index = cipher_->blind_index(service.to_string(), recipient_normalised, now);
  if (!index) return index.error();
  if (recipient_normalised.find('@') == std::string_view::npos) {
    return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
      auto rows = db.exec("SELECT 1 FROM service_guest_list WHERE service_id = $1 AND recipient_index = $2",
                          Params().text(service.to_string()).bytes(*index));
      if (!rows) return rows.error();
      return rows->rows() > 0;
    });
  }
  auto team_index = admin_email_index(*cipher_, recipient_normalised, now);
  if (!team_index) return team_index.error();
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "SELECT 1 FROM service_guest_list WHERE service_id = $1 AND recipient_index = $2 "
        "UNION ALL SELECT 1 FROM admin_users u JOIN admin_memberships m ON m.user_id = u.id "
        "WHERE u.email_index = $3 AND m.service_id = $1 AND u.disabled_at IS NULL LIMIT 1",
        Params().text(service.to_string()).bytes(*index).bytes(*team_index));
    if (!rows) return rows.error();
    return rows->rows() > 0;
  });
}

// recipient_normalised stays empty: only its blind index is stored.
Result<std::vector<GuestListEntry>> PgStore::guest_list(ServiceId service) {
  return with_connection<std::vector<GuestListEntry>>([&](PgConnection& db) -> Result<std::vector<GuestListEntry>> {
    auto rows = db.exec(
        "SELECT id, recipient_type, recipient, created_at FROM service_guest_list WHERE service_id = $1 "
        "ORDER BY created_at, id",
        Params().text(service.to_string()));
    if (!rows) return rows.error();
    std::vector<GuestListEntry> out;
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string id = rows->text(i, 0);
      auto parsed = Uuid::parse(id);
      if (!parsed) return data_loss("malformed id in service_guest_list");
      auto recipient = cipher_->open(rows->bytes(i, 2), {"service_guest_list", "recipient", id});
      if (!recipient && recipient.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!recipient) return recipient.error();
      out.push_back(GuestListEntry{*parsed, service, rows->text(i, 1), std::move(*recipient), std::string(),
                                   from_micros(rows->integer(i, 3))});
    }
    return out;
  });
}

// The blind index is a column of the row: it goes with it.
Result<bool> PgStore::remove_guest_list_entry(ServiceId service, Uuid id) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM service_guest_list WHERE id = $1 AND service_id = $2",
                        Params().text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<void> PgStore::insert_document(const DocumentRecord& document) {
  auto sealed = seal_document(*cipher_, document);
  if (!sealed) return sealed.error();
  const SealedDocument& row = *sealed;
  return with_connection<void>([&](PgConnection& db) {
    return db.run("INSERT INTO documents VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                  Params().text(row.id).text(row.service).bytes(row.content).optional_bytes(row.filename)
                      .text(row.mime_type).bytes(row.key_hash).optional_bytes(row.confirm_email_hash)
                      .integer(row.created_at).integer(row.expires_at).integer(row.failed_confirmations));
  });
}

Result<std::optional<DocumentRecord>> PgStore::find_document(ServiceId service, Uuid id, Timestamp now) {
  return with_connection<std::optional<DocumentRecord>>([&](PgConnection& db) -> Result<std::optional<DocumentRecord>> {
    auto rows = db.exec(
        "SELECT id, service_id, content, filename, mime_type, key_hash, confirm_email_hash, created_at, expires_at, "
        "failed_confirmations FROM documents WHERE id = $1 AND service_id = $2 AND expires_at > $3",
        Params().text(id.to_string()).text(service.to_string()).integer(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<DocumentRecord>();
    SealedDocument sealed;
    sealed.id = rows->text(0, 0);
    sealed.service = rows->text(0, 1);
    sealed.content = rows->bytes(0, 2);
    sealed.filename = rows->optional_bytes(0, 3);
    sealed.mime_type = rows->text(0, 4);
    sealed.key_hash = rows->bytes(0, 5);
    sealed.confirm_email_hash = rows->optional_bytes(0, 6);
    sealed.created_at = rows->integer(0, 7);
    sealed.expires_at = rows->integer(0, 8);
    sealed.failed_confirmations = rows->integer(0, 9);
    auto document = open_document(*cipher_, sealed);
    if (!document && document.error().code == ErrorCode::kNotFound) return std::optional<DocumentRecord>();
    if (!document) return document.error();
    return std::optional<DocumentRecord>(std::move(*document));
  });
}

Result<int> PgStore::count_document_failure(ServiceId service, Uuid id) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    auto rows = db.exec(
        "UPDATE documents SET failed_confirmations = failed_confirmations + 1 WHERE id = $1 AND service_id = $2 "
        "RETURNING failed_confirmations",
        Params().text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return 0;
    return static_cast<int>(rows->integer(0, 0));
  });
}

Result<std::int64_t> PgStore::delete_expired_documents(Timestamp now) {
  return with_connection<std::int64_t>([&](PgConnection& db) -> Result<std::int64_t> {
    auto rows = db.exec("DELETE FROM documents WHERE expires_at <= $1", Params().integer(to_micros(now)));
    if (!rows) return rows.error();
    return rows->affected();
  });
}

Result<void> PgStore::insert_inbound_sms(const InboundSms& sms) {
  auto sealed = seal_inbound_sms(*cipher_, sms);
  if (!sealed) return sealed.error();
  return with_connection<void>([&](PgConnection& db) {
    return db.run(
        "INSERT INTO inbound_sms (id, service_id, notify_number, user_number, content, provider, provider_reference, "
        "received_at, created_at, callback_due_at, user_number_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "CASE WHEN EXISTS (SELECT 1 FROM service_callbacks c WHERE c.service_id = $2 AND c.kind = 'inbound_sms') "
        "THEN $9::bigint END, $10)",
        Params()
            .text(sealed->id)
            .text(sealed->service)
            .text(sealed->notify_number)
            .bytes(sealed->user_number)
            .bytes(sealed->content)
            .text(sealed->provider)
            .optional_text(sealed->provider_reference)
            .integer(sealed->received_at)
            .integer(sealed->created_at)
            .optional_bytes(sealed->user_number_index));
  });
}

Result<std::vector<InboundSms>> PgStore::list_inbound_sms(ServiceId service, std::optional<Uuid> older_than,
                                                          Timestamp not_before, int limit) {
  return with_connection<std::vector<InboundSms>>([&](PgConnection& db) -> Result<std::vector<InboundSms>> {
    Params params;
    params.text(service.to_string()).integer(to_micros(not_before)).integer(limit);
    std::string sql = std::string("SELECT ") + kInboundColumns + " FROM inbound_sms WHERE service_id = $1 AND created_at >= $2";
    if (older_than) {
      params.text(older_than->to_string());
      sql += " AND (created_at, id) < (SELECT o.created_at, o.id FROM inbound_sms o WHERE o.id = $4 AND o.service_id = $1)";
    }
    sql += " ORDER BY created_at DESC, id DESC LIMIT $3";
    auto rows = db.exec(sql, params);
    if (!rows) return rows.error();
    std::vector<InboundSms> out;
    for (int i = 0; i < rows->rows(); ++i) {
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*rows, i));
      if (!sms && sms.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!sms) return sms.error();
      out.push_back(std::move(*sms));
    }
    return out;
  });
}

Result<std::vector<InboundSms>> PgStore::claim_inbound_callbacks(int limit, Timestamp now, Duration lease) {
  return with_connection<std::vector<InboundSms>>([&](PgConnection& db) -> Result<std::vector<InboundSms>> {
    auto rows = db.exec(
        std::string("UPDATE inbound_sms AS n SET callback_due_at = $1, callback_attempts = n.callback_attempts + 1 "
                    "FROM (SELECT id FROM inbound_sms WHERE callback_due_at <= $2 ORDER BY callback_due_at LIMIT $3 "
                    "FOR UPDATE SKIP LOCKED) AS c WHERE n.id = c.id RETURNING ") +
            "n.id, n.service_id, n.notify_number, n.user_number, n.content, n.provider, n.provider_reference, "
            "n.received_at, n.created_at, n.callback_attempts",
        Params().integer(to_micros(now + lease)).integer(to_micros(now)).integer(limit));
    if (!rows) return rows.error();
    std::vector<InboundSms> out;
    for (int i = 0; i < rows->rows(); ++i) {
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*rows, i));
      if (sms) out.push_back(std::move(*sms));
    }
    return out;
  });
}

Result<void> PgStore::finish_inbound_callback(Uuid id, std::optional<Timestamp> retry_at) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto done = db.exec(
        "UPDATE inbound_sms SET callback_due_at = $1, callback_dead_at = NULL, callback_error = NULL WHERE id = $2",
        Params().optional_integer(optional_micros(retry_at)).text(id.to_string()), PgConnection::Retry::kYes);
    if (!done) return done.error();
    return ok();
  });
}

Result<void> PgStore::kill_inbound_callback(Uuid id, Timestamp now, std::string_view error) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto done = db.exec(
        "UPDATE inbound_sms SET callback_due_at = NULL, callback_dead_at = $1, callback_error = $2 WHERE id = $3",
        Params().integer(to_micros(now)).text(error).text(id.to_string()), PgConnection::Retry::kYes);
    if (!done) return done.error();
    return ok();
  });
}

Result<std::vector<DeadCallback>> PgStore::dead_callbacks(ServiceId service, int limit) {
  return with_connection<std::vector<DeadCallback>>([&](PgConnection& db) -> Result<std::vector<DeadCallback>> {
    static const std::string sql = dead_callbacks_select("$1", "$2");
    auto rows = db.exec(sql, Params().text(service.to_string()).integer(limit));
    if (!rows) return rows.error();
    std::vector<DeadCallback> out;
    for (int i = 0; i < rows->rows(); ++i) {
      auto dead = read_dead_callback(
          {rows->text(i, 0), rows->text(i, 1), rows->integer(i, 2), rows->integer(i, 3), rows->text(i, 4)});
      if (!dead) return dead.error();
      out.push_back(std::move(*dead));
    }
    return out;
  });
}

Result<bool> PgStore::replay_callback(ServiceId service, CallbackKind kind, Uuid id, Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto replayed =
        db.exec(std::string("UPDATE ") + callback_table(kind) +
                    " SET callback_dead_at = NULL, callback_error = NULL, callback_attempts = 0, "
                    "callback_due_at = $1 WHERE id = $2 AND service_id = $3 AND callback_dead_at IS NOT NULL",
                Params().integer(to_micros(now)).text(id.to_string()).text(service.to_string()));
    if (!replayed) return replayed.error();
    return replayed->affected() == 1;
  });
}

Result<void> PgStore::create_api_key(const ApiKeyRecord& key) {
  HERALD_TRY(check_networks(key.allowed_networks));
  auto sealed = seal_api_key_secret(*cipher_, key);
  if (!sealed) return sealed.error();
  return with_connection<void>([&](PgConnection& db) {
    return db.run(
        "INSERT INTO api_keys (id, service_id, name, key_type, secret, created_at, revoked_at, allowed_networks) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        Params()
            .text(key.id.to_string())
            .text(key.service.to_string())
            .text(key.name)
            .text(key_type_name(key.type))
            .bytes(*sealed)
            .integer(to_micros(key.created_at))
            .optional_integer(optional_micros(key.revoked_at))
            .text(join_networks(key.allowed_networks)));
  });
}

Result<std::vector<ApiKeyRecord>> PgStore::api_keys_for_service(ServiceId service) {
  return with_connection<std::vector<ApiKeyRecord>>([&](PgConnection& db) -> Result<std::vector<ApiKeyRecord>> {
    auto rows = db.exec(
        "SELECT id, name, key_type, secret, created_at, revoked_at, allowed_networks FROM api_keys "
        "WHERE service_id = $1 ORDER BY created_at",
        Params().text(service.to_string()));
    if (!rows) return rows.error();
    std::vector<ApiKeyRecord> keys;
    for (int i = 0; i < rows->rows(); ++i) {
      ApiKeyRecord key;
      auto id = ApiKeyId::parse(rows->text(i, 0));
      if (!id) return data_loss("malformed id in api_keys row");
      key.id = *id;
      key.service = service;
      key.name = rows->text(i, 1);
      key.type = parse_key_type(rows->text(i, 2)).value_or(KeyType::kNormal);
      auto secret = open_api_key_secret(*cipher_, rows->bytes(i, 3), rows->text(i, 0));
      if (!secret) return secret.error();
      key.secret = std::move(*secret);
      key.created_at = from_micros(rows->integer(i, 4));
      key.revoked_at = optional_time(rows->optional_integer(i, 5));
      key.allowed_networks = split_networks(rows->text(i, 6));
      keys.push_back(std::move(key));
    }
    return keys;
  });
}

Result<void> PgStore::revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto updated = db.exec(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND service_id = $3 AND revoked_at IS NULL",
        Params().integer(to_micros(now)).text(key.to_string()).text(service.to_string()));
    if (!updated) return updated.error();
    if (updated->affected() != 1) {
      return not_found("no live API key " + key.to_string() + " in service " + service.to_string());
    }
    return ok();
  });
}

Result<void> PgStore::set_api_key_networks(ServiceId service, ApiKeyId key, const std::vector<std::string>& networks) {
  HERALD_TRY(check_networks(networks));
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    // Sent again after a broken connection: setting the same networks twice is setting them once.
    auto updated = db.exec("UPDATE api_keys SET allowed_networks = $1 WHERE id = $2 AND service_id = $3",
                           Params().text(join_networks(networks)).text(key.to_string()).text(service.to_string()),
                           PgConnection::Retry::kYes);
    if (!updated) return updated.error();
    if (updated->affected() != 1) {
      return not_found("no API key " + key.to_string() + " in service " + service.to_string());
    }
    return ok();
  });
}

Result<void> PgStore::create_template(const TemplateRecord& record) {
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      const std::string id = record.id.to_string();
      HERALD_TRY(db.run("INSERT INTO templates VALUES ($1, $2, 1, false)",
                        Params().text(id).text(record.service.to_string())));
      return db.run("INSERT INTO template_versions VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    Params()
                        .text(id)
                        .text(record.name)
                        .text(channel_name(record.type))
                        .text(record.subject)
                        .text(record.body)
                        .integer(to_micros(record.created_at))
                        .text(record.created_by)
                        .optional_text(record.postage)
                        .optional_text(record.letter_contact_id)
                        .text(record.has_unsubscribe_link ? "true" : "false"));
    });
  });
}

Result<std::optional<TemplateRecord>> PgStore::find_template(ServiceId service, TemplateId id,
                                                             std::optional<int> version) {
  return with_connection<std::optional<TemplateRecord>>([&](PgConnection& db) -> Result<std::optional<TemplateRecord>> {
    Params params;
    params.text(id.to_string()).text(service.to_string());
    if (version) params.integer(*version);
    auto rows = db.exec(std::string(kTemplateSelect) + "WHERE t.id = $1 AND t.service_id = $2 AND v.version = " +
                            (version ? "$3" : "t.current_version"),
                        params);
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<TemplateRecord>();
    return std::optional<TemplateRecord>(read_template(*rows, 0));
  });
}

Result<std::vector<TemplateRecord>> PgStore::templates_for_service(ServiceId service) {
  return with_connection<std::vector<TemplateRecord>>([&](PgConnection& db) -> Result<std::vector<TemplateRecord>> {
    auto rows = db.exec(std::string(kTemplateSelect) +
                            "WHERE t.service_id = $1 AND v.version = t.current_version AND NOT t.archived "
                            "ORDER BY v.name",
                        Params().text(service.to_string()));
    if (!rows) return rows.error();
    std::vector<TemplateRecord> out;
    for (int i = 0; i < rows->rows(); ++i) out.push_back(read_template(*rows, i));
    return out;
  });
}

Result<void> PgStore::add_template_version(const TemplateRecord& record) {
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      const std::string id = record.id.to_string();
      auto head = db.exec("UPDATE templates SET current_version = $1 WHERE id = $2 AND service_id = $3 "
                          "AND current_version = $4",
                          Params().integer(record.version).text(id).text(record.service.to_string())
                              .integer(record.version - 1));
      if (!head) return head.error();
      if (head->affected() != 1) {
        auto exists = db.exec("SELECT 1 FROM templates WHERE id = $1 AND service_id = $2",
                              Params().text(id).text(record.service.to_string()));
        if (!exists) return exists.error();
        if (exists->rows() == 0) return not_found("no template " + id + " in service " + record.service.to_string());
        return failed_precondition("template " + id + " is no longer at version " + std::to_string(record.version - 1));
      }
      return db.run("INSERT INTO template_versions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    Params()
                        .text(id)
                        .integer(record.version)
                        .text(record.name)
                        .text(channel_name(record.type))
                        .text(record.subject)
                        .text(record.body)
                        .integer(to_micros(record.created_at))
                        .text(record.created_by)
                        .optional_text(record.postage)
                        .optional_text(record.letter_contact_id)
                        .text(record.has_unsubscribe_link ? "true" : "false"));
    });
  });
}

Result<void> PgStore::set_template_archived(ServiceId service, TemplateId id, bool archived) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto updated = db.exec("UPDATE templates SET archived = $1 WHERE id = $2 AND service_id = $3",
                           Params().text(archived ? "true" : "false").text(id.to_string()).text(service.to_string()),
                           PgConnection::Retry::kYes);
    if (!updated) return updated.error();
    if (updated->affected() != 1) return not_found("no template " + id.to_string() + " in service " + service.to_string());
    return ok();
  });
}

Result<void> PgStore::insert_notification(const NotificationRecord& record) {
  return wait_for([&](Completion done) { insert_notification_async(record, std::move(done)); });
}

void PgStore::insert_notification_async(const NotificationRecord& record, Completion done) {
  // Sealed here, on the caller's thread: the writer and the server only ever see envelopes.
  auto sealed = seal_notification(*cipher_, record);
  if (!sealed) {
    done(sealed.error());
    return;
  }
  writer_->insert(std::move(*sealed), std::move(done));
}

Result<std::vector<NotificationRecord>> PgStore::read_notifications(const PgResult& rows,
                                                                    std::vector<std::string>* unreadable) const {
  std::vector<NotificationRecord> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    auto record = open_notification(*cipher_, sealed_from(rows, i));
    if (record) {
      out.push_back(std::move(*record));
    } else if (unreadable != nullptr) {
      unreadable->push_back(rows.text(i, 0));
      log::error("store.unreadable_notification",
                 {{"notification_id", unreadable->back()}, {"error", record.error().message}});
    } else {
      return record.error();
    }
  }
  return out;
}

Result<std::optional<NotificationRecord>> PgStore::find_notification(ServiceId service, NotificationId id) {
  return with_connection<std::optional<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::optional<NotificationRecord>> {
        auto rows = db.exec(std::string("SELECT ") + kNotificationColumns +
                                " FROM notifications WHERE id = $1 AND service_id = $2 AND redacted_at IS NULL",
                            Params().text(id.to_string()).text(service.to_string()));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<NotificationRecord>();
        auto record = open_notification(*cipher_, sealed_from(*rows, 0));
        // Its data key was destroyed: the personal data is gone, as after retention.
        if (!record && record.error().code == ErrorCode::kNotFound) return std::optional<NotificationRecord>();
        if (!record) return record.error();
        return std::optional<NotificationRecord>(std::move(*record));
      });
}

namespace {

// A PostgreSQL text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Result<std::vector<NotificationRecord>> PgStore::list_notifications(const NotificationQuery& query) {
  return with_connection<std::vector<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NotificationRecord>> {
        const std::string service = query.service.to_string();
        Params params;
        params.text(service);
        std::string sql =
            std::string("SELECT ") + kNotificationColumns +
            " FROM notifications WHERE service_id = $1 AND redacted_at IS NULL AND nhs_message_id IS NULL";
        const auto next = [&params] { return "$" + std::to_string(params.size()); };
        if (!query.any_key_type) {
          params.text(key_type_name(query.key_type));
          sql += " AND key_type = " + next();
        }
        if (!query.include_jobs) sql += " AND job_id IS NULL";
        if (!query.types.empty()) {
          std::vector<std::string> names;
          for (Channel type : query.types) names.emplace_back(channel_name(type));
          params.text(text_array(names));
          sql += " AND notification_type = ANY(" + next() + "::text[])";
        }
        if (!query.statuses.empty()) {
          std::vector<std::string> names;
          for (NotificationStatus status : query.statuses) names.emplace_back(status_name(status));
          params.text(text_array(names));
          sql += " AND status = ANY(" + next() + "::text[])";
        }
        if (query.reference) {
          auto index = reference_index(*cipher_, query.service, *query.reference, Timestamp{});
          if (!index) return index.error();
          params.bytes(*index);
          sql += " AND reference_index = " + next();
        }
        if (query.created_from) {
          params.integer(to_micros(*query.created_from));
          sql += " AND created_at >= " + next();
        }
        if (query.created_before) {
          params.integer(to_micros(*query.created_before));
          sql += " AND created_at < " + next();
        }
        if (query.older_than) {
          // Compared with the named notification's own (created_at, id); none of the service's
          // (or redacted): no row qualifies, an empty page.
          params.text(query.older_than->to_string());
          const std::string id = next();
          sql += " AND (created_at, id) < (SELECT o.created_at, o.id FROM notifications o WHERE o.id = " + id +
                 " AND o.service_id = $1 AND o.redacted_at IS NULL)";
        }
        params.integer(query.limit);
        sql += " ORDER BY created_at DESC, id DESC LIMIT " + next();
        auto rows = db.exec(sql, params);
        if (!rows) return rows.error();
        std::vector<NotificationRecord> out;
        out.reserve(static_cast<std::size_t>(rows->rows()));
        for (int i = 0; i < rows->rows(); ++i) {
          auto record = open_notification(*cipher_, sealed_from(*rows, i));
          // Its data key was destroyed: gone, as after retention.
          if (!record && record.error().code == ErrorCode::kNotFound) continue;
          if (!record) return record.error();
          out.push_back(std::move(*record));
        }
        return out;
      });
}

Result<std::vector<NotificationRecord>> PgStore::claim_due(int limit, Timestamp now, Duration lease) {
  return with_connection<std::vector<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NotificationRecord>> {
        // SKIP LOCKED: rows another node is claiming right now are passed over, not waited for
        // and never claimed twice; a claim is "sending" with due_at = its lease's end, so a
        // claim whose node died becomes due again when the lease runs out.
        auto rows = db.exec(
            std::string("UPDATE notifications AS n SET status = 'sending', attempts = n.attempts + 1, due_at = $1 "
                        "FROM (SELECT id FROM notifications WHERE status IN ('created', 'sending') AND due_at <= $2 "
                        "AND redacted_at IS NULL ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) AS c "
                        "WHERE n.id = c.id RETURNING ") +
                kNotificationColumnsOfN,
            Params().integer(to_micros(now + lease)).integer(to_micros(now)).integer(limit));
        if (!rows) return rows.error();
        std::vector<std::string> unreadable;
        auto claimed = read_notifications(*rows, &unreadable);
        if (!claimed) return claimed.error();
        // A row that cannot be decrypted must not block the rest: it fails for good.
        for (const std::string& id : unreadable) {
          HERALD_TRY(db.run("UPDATE notifications SET status = 'technical-failure', due_at = NULL, updated_at = $1 "
                            "WHERE id = $2",
                            Params().integer(to_micros(now)).text(id)));
        }
        return claimed;
      });
}

Result<void> PgStore::record_outcome(const DeliveryOutcome& outcome) {
  return wait_for([&](Completion done) { record_outcome_async(outcome, std::move(done)); });
}

void PgStore::record_outcome_async(DeliveryOutcome outcome, Completion done) {
  writer_->outcome(std::move(outcome), std::move(done));
}

namespace {

// Where a notification read with kNotificationLinkColumns (after kNotificationColumns) came from.
Result<void> link_notification(NotificationRecord& record, const PgResult& rows, int i) {
  record.nhs_message_id = rows.optional_text(i, kNotificationColumnCount);
  if (const auto job = rows.optional_text(i, kNotificationColumnCount + 1)) {
    auto id = Uuid::parse(*job);
    if (!id) return data_loss("malformed job id in notifications");
    record.job_id = *id;
  }
  if (const auto job_row = rows.optional_integer(i, kNotificationColumnCount + 2)) {
    record.job_row = static_cast<int>(*job_row);
  }
  return ok();
}

// What retention and erasure do to the notifications that `where` picks (`params`: $1 is now,
// then `where`'s own): one definition for both. Still undelivered (created, sending), they have
// failed: never sent without their data. Then their personal fields and blind indexes are
// emptied, and no callback is due any more (none would be claimed) nor on the dead list (none could
// be replayed). The old row versions (with the ciphertexts) are left for VACUUM.
Result<RetentionOutcome> redact_notifications(PgConnection& db, const std::string& where, const Params& params) {
  RetentionOutcome outcome;
  auto pending =
      db.exec("UPDATE notifications SET status = 'technical-failure', due_at = NULL, updated_at = $1 WHERE " + where +
                  " AND redacted_at IS NULL AND status IN ('created', 'sending')",
              params);
  if (!pending) return pending.error();
  outcome.failed_pending = pending->affected();
  auto redacted = db.exec(
      "UPDATE notifications SET recipient = '', personalisation = '', subject = '', body = '', "
      "one_click_unsubscribe_url = NULL, recipient_index = NULL, reference = NULL, reference_sealed = NULL, "
      "reference_index = NULL, callback_due_at = NULL, callback_dead_at = NULL, callback_error = NULL, "
      "redacted_at = $1 WHERE " +
          where + " AND redacted_at IS NULL",
      params);
  if (!redacted) return redacted.error();
  outcome.redacted = redacted->affected();
  return outcome;
}

}  // namespace

Result<std::vector<NotificationRecord>> PgStore::find_by_recipient(ServiceId service,
                                                                   std::string_view recipient_normalised) {
  const std::string service_id = service.to_string();
  auto index = cipher_->blind_index(service_id, recipient_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_connection<std::vector<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NotificationRecord>> {
        auto rows = db.exec(std::string("SELECT ") + kNotificationColumns + kNotificationLinkColumns +
                                " FROM notifications WHERE service_id = $1 AND recipient_index = $2 AND "
                                "redacted_at IS NULL ORDER BY created_at DESC",
                            Params().text(service_id).bytes(*index));
        if (!rows) return rows.error();
        auto records = read_notifications(*rows, nullptr);
        if (!records) return records.error();
        for (int i = 0; i < rows->rows(); ++i) {
          HERALD_TRY(link_notification((*records)[static_cast<std::size_t>(i)], *rows, i));
        }
        return records;
      });
}

Result<RetentionOutcome> PgStore::redact_before(ServiceId service, Timestamp cutoff, Timestamp now) {
  RetentionOutcome outcome;
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      const std::string id = service.to_string();
      // The old ciphertexts left for VACUUM are unreadable once the day's data key is destroyed,
      // which retention does next.
      auto redacted = redact_notifications(db, "service_id = $2 AND created_at < $3",
                                           Params().integer(to_micros(now)).text(id).integer(to_micros(cutoff)));
      if (!redacted) return redacted.error();
      outcome = *redacted;
      // NHS Notify messages stay (their sealed fields go with the day's key): no longer found by
      // their NHS numbers.
      HERALD_TRY(
          db.run("UPDATE nhs_messages SET nhs_number_index = NULL WHERE service_id = $1 AND created_at < $2 "
                 "AND nhs_number_index IS NOT NULL",
                 Params().text(id).integer(to_micros(cutoff))));
      HERALD_TRY(db.run("DELETE FROM letter_pdfs WHERE service_id = $1 AND created_at < $2",
                        Params().text(id).integer(to_micros(cutoff))));
      HERALD_TRY(db.run("DELETE FROM inbound_sms WHERE service_id = $1 AND created_at < $2",
                        Params().text(id).integer(to_micros(cutoff))));
      // NHS Notify callbacks made that long ago (pending or dead): their bodies go with the day's key.
      HERALD_TRY(db.run("DELETE FROM nhs_callbacks WHERE service_id = $1 AND created_at < $2",
                        Params().text(id).integer(to_micros(cutoff))));
      // Jobs stay (their counts and progress), their files emptied.
      return db.run(
          "UPDATE jobs SET file_name = NULL, contents = NULL WHERE service_id = $1 AND created_at < $2 "
          "AND (file_name IS NOT NULL OR contents IS NOT NULL)",
          Params().text(id).integer(to_micros(cutoff)));
    });
  }));
  return outcome;
}

Result<bool> PgStore::holds_personal_data(ServiceId service, Timestamp from, Timestamp to) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE service_id = $1 AND created_at >= $2 AND created_at < $3 "
        "AND redacted_at IS NULL)",
        Params().text(service.to_string()).integer(to_micros(from)).integer(to_micros(to)));
    if (!rows) return rows.error();
    return rows->rows() == 1 && rows->boolean(0, 0);
  });
}

Result<std::optional<StillSealed>> PgStore::next_sealed_notification(ServiceId service, Timestamp from) {
  return with_connection<std::optional<StillSealed>>([&](PgConnection& db) -> Result<std::optional<StillSealed>> {
    auto rows = db.exec(
        "SELECT id, created_at FROM notifications WHERE service_id = $1 AND created_at >= $2 "
        "AND redacted_at IS NULL ORDER BY created_at LIMIT 1",
        Params().text(service.to_string()).integer(to_micros(from)));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<StillSealed>();
    auto id = Uuid::parse(rows->text(0, 0));
    if (!id) return data_loss("notification id is not a UUID");
    return std::optional(StillSealed{NotificationId{*id}, from_micros(rows->integer(0, 1))});
  });
}

Result<void> PgStore::snapshot_to(const std::string& path) {
  if (!snapshot_writer_) return failed_precondition("this PostgreSQL store was opened without a snapshot writer");
  return snapshot_writer_(*this, path);
}

Result<void> PgStore::read_snapshot(const std::vector<TableColumns>& tables, const SnapshotVisitor& visit) {
  constexpr int kFetch = 1000;
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction(
        [&]() -> Result<void> {
          for (const TableColumns& table : tables) {
            // A cursor, so a large table never sits in memory at once.
            HERALD_TRY(db.execute("DECLARE snapshot_rows NO SCROLL CURSOR FOR SELECT " + table.column_list() +
                                  " FROM " + table.table));
            while (true) {
              auto rows = db.exec("FETCH " + std::to_string(kFetch) + " FROM snapshot_rows");
              if (!rows) return rows.error();
              HERALD_TRY(visit(table, *rows));
              if (rows->rows() < kFetch) break;
            }
            HERALD_TRY(db.execute("CLOSE snapshot_rows"));
          }
          return ok();
        },
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  });
}

Result<std::vector<crypto::AuditEntry>> PgStore::append_audit(std::vector<crypto::AuditEntry> entries) {
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      // Every node appends under this lock, so the chain never forks; it is released at COMMIT.
      HERALD_TRY(db.run(kAuditLock));
      std::int64_t seq = 0;
      std::string prev;
      auto head = db.exec("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
      if (!head) return head.error();
      if (head->rows() == 1) {
        seq = head->integer(0, 0);
        prev = head->bytes(0, 1);
      }
      HERALD_TRY(crypto::chain_entries(entries, seq, prev));
      for (const crypto::AuditEntry& entry : entries) {
        HERALD_TRY(db.run("INSERT INTO audit_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                          Params().integer(entry.seq).integer(to_micros(entry.at)).text(entry.actor)
                              .text(entry.action).text(encode_audit_objects(entry.objects)).text(entry.outcome)
                              .text(entry.source).bytes(entry.prev_hash).bytes(entry.hash)));
      }
      return ok();
    });
  }));
  return entries;
}

Result<void> PgStore::read_audit(std::int64_t after_seq, std::optional<Timestamp> since,
                                 const std::function<Result<void>(const crypto::AuditEntry&)>& visit) {
  std::int64_t next = after_seq;
  while (true) {
    std::vector<crypto::AuditEntry> page;
    HERALD_TRY(with_connection<void>([&](PgConnection& db) -> Result<void> {
      auto rows = db.exec(
          "SELECT seq, at, actor, action, objects, outcome, source, prev_hash, hash FROM audit_log "
          "WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT 1000",
          Params().integer(next).integer(since ? to_micros(*since) : std::numeric_limits<std::int64_t>::min()));
      if (!rows) return rows.error();
      for (int i = 0; i < rows->rows(); ++i) {
        crypto::AuditEntry e;
        e.seq = rows->integer(i, 0);
        e.at = from_micros(rows->integer(i, 1));
        e.actor = rows->text(i, 2);
        e.action = rows->text(i, 3);
        auto objects = decode_audit_objects(rows->text(i, 4));
        if (!objects) return objects.error();
        e.objects = std::move(*objects);
        e.outcome = rows->text(i, 5);
        e.source = rows->text(i, 6);
        e.prev_hash = rows->bytes(i, 7);
        e.hash = rows->bytes(i, 8);
        page.push_back(std::move(e));
      }
      return ok();
    }));
    if (page.empty()) return ok();
    for (const auto& e : page) HERALD_TRY(visit(e));
    next = page.back().seq;
  }
}

namespace {

NhsClientRecord read_nhs_client(const PgResult& rows, int i) {
  NhsClientRecord c;
  c.id = *Uuid::parse(rows.text(i, 0));
  c.service = *ServiceId::parse(rows.text(i, 1));
  c.name = rows.text(i, 2);
  c.api_key_hash = rows.text(i, 3);
  c.jwks = rows.text(i, 4);
  c.jwks_url = rows.text(i, 5);
  c.default_ods_code = rows.optional_text(i, 6);
  c.allow_ods_override = rows.integer(i, 7) != 0;
  c.allow_contact_details = rows.integer(i, 8) != 0;
  c.onboarded = rows.integer(i, 9) != 0;
  c.service_ban = rows.integer(i, 10) != 0;
  c.created_at = from_micros(rows.integer(i, 11));
  c.allowed_networks = split_networks(rows.text(i, 12));
  return c;
}

}  // namespace

Result<void> PgStore::create_nhs_client(const NhsClientRecord& client) {
  HERALD_TRY(check_networks(client.allowed_networks));
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(std::string("INSERT INTO nhs_clients (") + kNhsClientColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
                        Params()
                            .text(client.id.to_string())
                            .text(client.service.to_string())
                            .text(client.name)
                            .text(client.api_key_hash)
                            .text(client.jwks)
                            .text(client.jwks_url)
                            .optional_text(client.default_ods_code)
                            .integer(client.allow_ods_override ? 1 : 0)
                            .integer(client.allow_contact_details ? 1 : 0)
                            .integer(client.onboarded ? 1 : 0)
                            .integer(client.service_ban ? 1 : 0)
                            .integer(to_micros(client.created_at))
                            .text(join_networks(client.allowed_networks)));
    if (!rows) return rows.error();
    if (rows->affected() != 1) return Error{ErrorCode::kFailedPrecondition, "an NHS client has that id or API key"};
    return ok();
  });
}

Result<void> PgStore::update_nhs_client(const NhsClientRecord& client) {
  HERALD_TRY(check_networks(client.allowed_networks));
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(
        "UPDATE nhs_clients SET name = $1, jwks = $2, jwks_url = $3, default_ods_code = $4, allow_ods_override = $5, "
        "allow_contact_details = $6, onboarded = $7, service_ban = $8, allowed_networks = $9 WHERE id = $10",
        Params()
            .text(client.name)
            .text(client.jwks)
            .text(client.jwks_url)
            .optional_text(client.default_ods_code)
            .integer(client.allow_ods_override ? 1 : 0)
            .integer(client.allow_contact_details ? 1 : 0)
            .integer(client.onboarded ? 1 : 0)
            .integer(client.service_ban ? 1 : 0)
            .text(join_networks(client.allowed_networks))
            .text(client.id.to_string()));
    if (!rows) return rows.error();
    if (rows->affected() != 1) return not_found("NHS client " + client.id.to_string());
    return ok();
  });
}

Result<std::vector<NhsClientRecord>> PgStore::list_nhs_clients() {
  return with_connection<std::vector<NhsClientRecord>>([&](PgConnection& db) -> Result<std::vector<NhsClientRecord>> {
    auto rows = db.exec(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients ORDER BY created_at, id");
    if (!rows) return rows.error();
    std::vector<NhsClientRecord> out;
    for (int i = 0; i < rows->rows(); ++i) out.push_back(read_nhs_client(*rows, i));
    return out;
  });
}

Result<std::optional<NhsClientRecord>> PgStore::find_nhs_client(Uuid id) {
  return with_connection<std::optional<NhsClientRecord>>(
      [&](PgConnection& db) -> Result<std::optional<NhsClientRecord>> {
        auto rows = db.exec(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients WHERE id = $1",
                            Params().text(id.to_string()));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<NhsClientRecord>();
        return std::optional<NhsClientRecord>(read_nhs_client(*rows, 0));
      });
}

Result<std::optional<NhsClientRecord>> PgStore::find_nhs_client_by_key(std::string_view api_key_hash) {
  return with_connection<std::optional<NhsClientRecord>>(
      [&](PgConnection& db) -> Result<std::optional<NhsClientRecord>> {
        auto rows = db.exec(std::string("SELECT ") + kNhsClientColumns + " FROM nhs_clients WHERE api_key_hash = $1",
                            Params().text(api_key_hash));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<NhsClientRecord>();
        return std::optional<NhsClientRecord>(read_nhs_client(*rows, 0));
      });
}

Result<bool> PgStore::remember_assertion_id(Uuid client, std::string_view jti_hash, Timestamp expires_at,
                                            Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    HERALD_TRY(db.run("DELETE FROM nhs_assertion_ids WHERE expires_at <= $1", Params().integer(to_micros(now))));
    // The primary key decides between nodes racing with the same id: one insert wins.
    auto rows = db.exec("INSERT INTO nhs_assertion_ids VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        Params().text(client.to_string()).text(jti_hash).integer(to_micros(expires_at)));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<void> PgStore::insert_access_token(const NhsAccessToken& token) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    HERALD_TRY(
        db.run("DELETE FROM nhs_access_tokens WHERE expires_at <= $1", Params().integer(to_micros(token.issued_at))));
    return db.run("INSERT INTO nhs_access_tokens VALUES ($1, $2, $3, $4)", Params()
                                                                               .text(token.token_hash)
                                                                               .text(token.client.to_string())
                                                                               .integer(to_micros(token.issued_at))
                                                                               .integer(to_micros(token.expires_at)));
  });
}

Result<std::optional<NhsAccessToken>> PgStore::find_access_token(std::string_view token_hash, Timestamp now) {
  return with_connection<std::optional<NhsAccessToken>>([&](PgConnection& db) -> Result<std::optional<NhsAccessToken>> {
    auto rows = db.exec(
        "SELECT token_hash, client_id, issued_at, expires_at FROM nhs_access_tokens WHERE token_hash = $1 AND "
        "expires_at > $2",
        Params().text(token_hash).integer(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<NhsAccessToken>();
    return std::optional<NhsAccessToken>(NhsAccessToken{rows->text(0, 0), *Uuid::parse(rows->text(0, 1)),
                                                        from_micros(rows->integer(0, 2)),
                                                        from_micros(rows->integer(0, 3))});
  });
}

namespace {

SealedNhsMessage read_nhs_message(const PgResult& rows, int i) {
  SealedNhsMessage m;
  m.id = rows.text(i, 0);
  m.client = rows.text(i, 1);
  m.service = rows.text(i, 2);
  m.batch_id = rows.optional_text(i, 3);
  m.reference = rows.bytes(i, 4);
  m.reference_index = rows.optional_bytes(i, 5);
  m.billing_reference = rows.optional_bytes(i, 6);
  m.routing_plan_id = rows.text(i, 7);
  m.routing_plan_version = rows.text(i, 8);
  m.nhs_number = rows.optional_bytes(i, 9);
  m.ods_code = rows.optional_text(i, 10);
  m.personalisation = rows.bytes(i, 11);
  m.contact_details = rows.optional_bytes(i, 12);
  m.status = rows.text(i, 13);
  m.status_description = rows.optional_text(i, 14);
  m.failure_reason_code = rows.optional_text(i, 15);
  m.created_at = rows.integer(i, 16);
  m.enriched_at = rows.optional_integer(i, 17);
  m.delivered_at = rows.optional_integer(i, 18);
  m.failed_at = rows.optional_integer(i, 19);
  m.channels = rows.text(i, 20);
  m.recipient = rows.optional_bytes(i, 21);
  m.demographics_version = rows.optional_text(i, 22);
  m.next_step_at = rows.optional_integer(i, 23);
  return m;
}

// Adds one sealed message's 25 values: kNhsMessageColumns' order, then the NHS number's index.
void add_message_params(Params& params, const SealedNhsMessage& row) {
  params.text(row.id)
      .text(row.client)
      .text(row.service)
      .optional_text(row.batch_id)
      .bytes(row.reference)
      .optional_bytes(row.reference_index)
      .optional_bytes(row.billing_reference)
      .text(row.routing_plan_id)
      .text(row.routing_plan_version)
      .optional_bytes(row.nhs_number)
      .optional_text(row.ods_code)
      .bytes(row.personalisation)
      .optional_bytes(row.contact_details)
      .text(row.status)
      .optional_text(row.status_description)
      .optional_text(row.failure_reason_code)
      .integer(row.created_at)
      .optional_integer(row.enriched_at)
      .optional_integer(row.delivered_at)
      .optional_integer(row.failed_at)
      .text(row.channels)
      .optional_bytes(row.recipient)
      .optional_text(row.demographics_version)
      .optional_integer(row.next_step_at)
      .optional_bytes(row.nhs_number_index);
}

constexpr int kNhsMessageValues = 25;

// "INSERT ... VALUES ($1..$25), ($26..$50), ..." for `rows` messages (kNhsMessageColumns, then the
// NHS number's index).
std::string insert_messages_sql(std::size_t rows) {
  std::string sql = std::string("INSERT INTO nhs_messages (") + kNhsMessageColumns + ", nhs_number_index) VALUES ";
  int n = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < kNhsMessageValues; ++c) sql += (c == 0 ? "$" : ", $") + std::to_string(n++);
    sql += ")";
  }
  return sql + " ON CONFLICT DO NOTHING";
}

constexpr const char* kNhsCallbackInsertColumns =
    "target_id, client_id, service_id, message_id, seal_id, body, state, attempts, created_at, next_attempt_at, "
    "first_attempt_at, last_error";
constexpr int kNhsCallbackValues = 12;

// "INSERT INTO nhs_callbacks (...) VALUES ($1..$12), ..." for `rows` callbacks (ids assigned here).
std::string insert_callbacks_sql(std::size_t rows) {
  std::string sql = std::string("INSERT INTO nhs_callbacks (") + kNhsCallbackInsertColumns + ") VALUES ";
  int n = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < kNhsCallbackValues; ++c) sql += (c == 0 ? "$" : ", $") + std::to_string(n++);
    sql += ")";
  }
  return sql;
}

// Adds one sealed callback's 12 values, in kNhsCallbackInsertColumns' order.
void add_callback_params(Params& params, const SealedNhsCallback& row) {
  params.text(row.target)
      .text(row.client)
      .text(row.service)
      .text(row.message_id)
      .text(row.seal_id)
      .bytes(row.body)
      .text(row.state)
      .integer(row.attempts)
      .integer(row.created_at)
      .integer(row.next_attempt_at)
      .optional_integer(row.first_attempt_at)
      .optional_text(row.last_error);
}

Result<void> forget_reference(PgConnection& db, const char* table, const std::string& client, const std::string& index,
                              Timestamp cutoff) {
  return db.run(std::string("UPDATE ") + table +
                    " SET reference_index = NULL WHERE client_id = $1 AND reference_index = $2 AND created_at < $3",
                Params().text(client).bytes(index).integer(to_micros(cutoff)));
}

}  // namespace

Result<bool> PgStore::insert_nhs_message(const NhsMessageRecord& message, Timestamp reference_cutoff) {
  auto sealed = seal_nhs_message(*cipher_, message);
  if (!sealed) return sealed.error();
  const SealedNhsMessage& row = *sealed;
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    bool stored = false;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      if (row.reference_index) {
        HERALD_TRY(forget_reference(db, "nhs_messages", row.client, *row.reference_index, reference_cutoff));
      }
      Params params;
      add_message_params(params, row);
      auto inserted = db.exec(insert_messages_sql(1), params);
      if (!inserted) return inserted.error();
      stored = inserted->affected() == 1;
      return ok();
    }));
    return stored;
  });
}

Result<bool> PgStore::insert_nhs_batch(const NhsBatchRecord& batch, const std::vector<NhsMessageRecord>& messages,
                                       Timestamp reference_cutoff) {
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
  // Multi-row inserts of up to 1,000 messages (25,000 parameters; PostgreSQL allows 65,535).
  constexpr std::size_t kChunk = 1000;
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    bool stored = false;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      HERALD_TRY(forget_reference(db, "nhs_message_batches", b.client, b.reference_index, reference_cutoff));
      auto inserted = db.exec(
          "INSERT INTO nhs_message_batches (id, client_id, service_id, reference, reference_index, routing_plan_id, "
          "routing_plan_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
          Params()
              .text(b.id)
              .text(b.client)
              .text(b.service)
              .bytes(b.reference)
              .bytes(b.reference_index)
              .text(b.routing_plan_id)
              .text(b.routing_plan_version)
              .integer(b.created_at));
      if (!inserted) return inserted.error();
      if (inserted->affected() != 1) return ok();  // the reference is taken: nothing stored
      for (std::size_t start = 0; start < rows.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, rows.size() - start);
        Params params;
        for (std::size_t i = start; i < start + count; ++i) add_message_params(params, rows[i]);
        auto chunk = db.exec(insert_messages_sql(count), params);
        if (!chunk) return chunk.error();
        if (chunk->affected() != static_cast<std::int64_t>(count)) {
          return internal_error("a message id of batch " + b.id + " was already stored");
        }
      }
      stored = true;
      return ok();
    }));
    return stored;
  });
}

Result<std::optional<NhsMessageRecord>> PgStore::find_nhs_message(Uuid client, std::string_view id) {
  auto sealed = with_connection<std::optional<SealedNhsMessage>>(
      [&](PgConnection& db) -> Result<std::optional<SealedNhsMessage>> {
        auto rows = db.exec(std::string("SELECT ") + kNhsMessageColumns +
                                " FROM nhs_messages WHERE id = $1 AND client_id = $2 AND erased_at IS NULL",
                            Params().text(id).text(client.to_string()));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<SealedNhsMessage>();
        return std::optional<SealedNhsMessage>(read_nhs_message(*rows, 0));
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

Result<std::vector<NhsMessageClaim>> PgStore::claim_nhs_messages(int limit, Timestamp now, Duration lease) {
  return with_connection<std::vector<NhsMessageClaim>>([&](PgConnection& db) -> Result<std::vector<NhsMessageClaim>> {
    std::vector<NhsMessageClaim> out;
    // One transaction: the messages' channel events are read as of their claim (an event added
    // later wakes the message again, and waits for its next step).
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      // SKIP LOCKED, as in claim_due: messages another node is claiming right now are passed
      // over, never claimed twice; a claim's lease ends at lease_until, and its number (claim)
      // is what its step must name to be saved.
      auto rows = db.exec(
          std::string("UPDATE nhs_messages AS m SET lease_until = $1, claim = m.claim + 1, woken = 0 FROM (SELECT id "
                      "AS claimed_id FROM nhs_messages WHERE next_step_at <= $2 AND (lease_until IS NULL OR "
                      "lease_until <= $2) AND erased_at IS NULL ORDER BY next_step_at LIMIT $3 FOR UPDATE SKIP LOCKED) "
                      "AS c "
                      "WHERE m.id = c.claimed_id RETURNING ") +
              kNhsMessageColumns + ", claim",
          Params().integer(to_micros(now + lease)).integer(to_micros(now)).integer(limit));
      if (!rows) return rows.error();
      if (rows->rows() == 0) return ok();
      std::vector<std::string> ids;
      for (int i = 0; i < rows->rows(); ++i) ids.push_back(rows->text(i, 0));
      auto event_rows = db.exec(
          "SELECT id, message_id, channel, supplier_status, at FROM nhs_channel_events WHERE message_id = "
          "ANY($1::text[]) ORDER BY id",
          Params().text(text_array(ids)));
      if (!event_rows) return event_rows.error();
      std::unordered_map<std::string, std::vector<NhsChannelEvent>> events;
      for (int i = 0; i < event_rows->rows(); ++i) {
        const std::string message = event_rows->text(i, 1);
        const std::string channel = event_rows->text(i, 2);
        const auto parsed = parse_nhs_channel(channel);
        if (!parsed) {
          // A channel this release does not know: passed over (its step deletes it with the rest).
          log::error("store.unreadable_nhs_channel_event",
                     {{"message_id", message}, {"event_id", event_rows->text(i, 0)}, {"channel", channel}});
          continue;
        }
        events[message].push_back(NhsChannelEvent{event_rows->integer(i, 0), message, *parsed, event_rows->text(i, 3),
                                                  from_micros(event_rows->integer(i, 4))});
      }
      std::vector<std::string> gone;
      for (int i = 0; i < rows->rows(); ++i) {
        const SealedNhsMessage sealed = read_nhs_message(*rows, i);
        auto opened = open_nhs_message(*cipher_, sealed);
        if (opened) {
          auto it = events.find(sealed.id);
          out.push_back(NhsMessageClaim{std::move(*opened), rows->integer(i, 24),
                                        it == events.end() ? std::vector<NhsChannelEvent>{} : std::move(it->second)});
          continue;
        }
        // Its data key is gone (retention) or it does not open: nothing more can be done for it.
        log::error("store.unreadable_nhs_message", {{"message_id", sealed.id}, {"error", opened.error().message}});
        gone.push_back(sealed.id);
      }
      for (const std::string& id : gone) {
        HERALD_TRY(
            db.run("UPDATE nhs_messages SET next_step_at = NULL, lease_until = NULL, status = 'failed', "
                   "status_description = $2, failure_reason_code = $3, failed_at = $4 WHERE id = $1",
                   Params()
                       .text(id)
                       .text(kNhsRetentionFailureDescription)
                       .text(kNhsRetentionFailureCode)
                       .integer(to_micros(now))));
        HERALD_TRY(db.run("DELETE FROM nhs_channel_events WHERE message_id = $1", Params().text(id)));
      }
      return ok();
    }));
    return out;
  });
}

Result<bool> PgStore::save_nhs_step(const NhsCascadeStep& step, Timestamp now) {
  // Sealed here, on the caller's thread, before a connection is taken.
  auto sealed = seal_nhs_message(*cipher_, step.message);
  if (!sealed) return sealed.error();
  std::vector<SealedNotification> notifications;
  notifications.reserve(step.notifications.size());
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
  // Multi-row inserts of up to 1,000 notifications (25,000 parameters; PostgreSQL allows 65,535)
  // and as many callbacks (12,000).
  constexpr std::size_t kChunk = 1000;
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    bool saved = false;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      // A notification of the message that changed status since the claim set woken: the
      // message is due again at once rather than when the step says.
      auto updated = db.exec(
          "UPDATE nhs_messages SET status = $1, status_description = $2, failure_reason_code = $3, enriched_at = $4, "
          "delivered_at = $5, failed_at = $6, channels = $7, recipient = $8, demographics_version = $9, "
          "next_step_at = CASE WHEN woken = 1 THEN $10::bigint ELSE $11::bigint END, woken = 0, lease_until = NULL "
          "WHERE id = $12 AND claim = $13 AND lease_until IS NOT NULL",
          Params()
              .text(m.status)
              .optional_text(m.status_description)
              .optional_text(m.failure_reason_code)
              .optional_integer(m.enriched_at)
              .optional_integer(m.delivered_at)
              .optional_integer(m.failed_at)
              .text(m.channels)
              .optional_bytes(m.recipient)
              .optional_text(m.demographics_version)
              .integer(to_micros(now))
              .optional_integer(m.next_step_at)
              .text(m.id)
              .integer(step.claim));
      if (!updated) return updated.error();
      if (updated->affected() != 1) return ok();  // the claim was lost: another step saves this message
      for (std::size_t start = 0; start < notifications.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, notifications.size() - start);
        Params params;
        for (std::size_t i = start; i < start + count; ++i) {
          add_notification_values(params, notifications[i]);
          params.text(m.id);
        }
        HERALD_TRY(db.run(notification_insert_sql(count, NotificationLink::kNhsMessage), params));
      }
      if (step.events_through > 0) {
        // The events the step took into account; later ones (which woke it) wait for the next.
        HERALD_TRY(db.run("DELETE FROM nhs_channel_events WHERE message_id = $1 AND id <= $2",
                          Params().text(m.id).integer(step.events_through)));
      }
      for (std::size_t start = 0; start < callbacks.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, callbacks.size() - start);
        Params params;
        for (std::size_t i = start; i < start + count; ++i) add_callback_params(params, callbacks[i]);
        HERALD_TRY(db.run(insert_callbacks_sql(count), params));
      }
      saved = true;
      return ok();
    }));
    return saved;
  });
}

Result<bool> PgStore::add_nhs_channel_event(const NhsChannelEvent& event) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    // One statement: the message is woken as by a notification's outcome (due at once, unless
    // it already is), and the event stored only when there is such a message. Not re-sent after
    // a broken connection: the event might be stored twice.
    auto rows = db.exec(
        "WITH w AS (UPDATE nhs_messages SET woken = 1, next_step_at = CASE WHEN next_step_at IS NULL OR "
        "next_step_at > $4::bigint THEN $4::bigint ELSE next_step_at END WHERE id = $1 AND erased_at IS NULL "
        "RETURNING id) "
        "INSERT INTO nhs_channel_events (message_id, channel, supplier_status, at) SELECT id, $2::text, $3::text, "
        "$4::bigint FROM w",
        Params()
            .text(event.message_id)
            .text(nhs_channel_name(event.channel))
            .text(event.supplier_status)
            .integer(to_micros(event.at)));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<void> PgStore::put_demographics(const std::vector<DemographicsRow>& rows) {
  std::vector<SealedDemographics> sealed;
  sealed.reserve(rows.size());
  for (const DemographicsRow& row : rows) {
    auto s = seal_demographics(*cipher_, row);
    if (!s) return s.error();
    sealed.push_back(std::move(*s));
  }
  // One statement may not update a row twice (ON CONFLICT DO UPDATE): of rows with the same NHS
  // number, the last one given is stored, as if they were written one after another.
  std::unordered_map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < sealed.size(); ++i) last[sealed[i].nhs_number_index] = i;
  std::vector<const SealedDemographics*> unique;
  unique.reserve(last.size());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    if (last[sealed[i].nhs_number_index] == i) unique.push_back(&sealed[i]);
  }
  if (unique.empty()) return ok();
  // Multi-row upserts of up to 1,000 records (3,000 parameters).
  constexpr std::size_t kChunk = 1000;
  return with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      for (std::size_t start = 0; start < unique.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, unique.size() - start);
        std::string sql = "INSERT INTO demographics (nhs_number_index, record, updated_at) VALUES ";
        Params params;
        for (std::size_t i = 0; i < count; ++i) {
          const SealedDemographics& row = *unique[start + i];
          const std::size_t n = params.size();
          sql += (i == 0 ? "($" : ", ($") + std::to_string(n + 1) + ", $" + std::to_string(n + 2) + ", $" +
                 std::to_string(n + 3) + ")";
          params.bytes(row.nhs_number_index).bytes(row.record).integer(row.updated_at);
        }
        sql +=
            " ON CONFLICT (nhs_number_index) DO UPDATE SET record = excluded.record, "
            "updated_at = excluded.updated_at";
        HERALD_TRY(db.run(sql, params));
      }
      return ok();
    });
  });
}

Result<std::optional<DemographicsRow>> PgStore::find_demographics(std::string_view nhs_number) {
  auto index = demographics_index(*cipher_, nhs_number, Timestamp{});
  if (!index) return index.error();
  auto sealed = with_connection<std::optional<SealedDemographics>>(
      [&](PgConnection& db) -> Result<std::optional<SealedDemographics>> {
        auto rows =
            db.exec("SELECT record, updated_at FROM demographics WHERE nhs_number_index = $1", Params().bytes(*index));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<SealedDemographics>();
        return std::optional<SealedDemographics>(SealedDemographics{*index, rows->bytes(0, 0), rows->integer(0, 1)});
      });
  if (!sealed) return sealed.error();
  if (!*sealed) return std::optional<DemographicsRow>();
  auto opened = open_demographics(*cipher_, **sealed, nhs_number);
  if (!opened) return opened.error();
  return std::optional<DemographicsRow>(std::move(*opened));
}

namespace {

RoutingPlanRecord read_routing_plan(const PgResult& rows, int i) {
  RoutingPlanRecord p;
  p.id = *Uuid::parse(rows.text(i, 0));
  p.version = static_cast<int>(rows.integer(i, 1));
  p.client = *Uuid::parse(rows.text(i, 2));
  p.name = rows.text(i, 3);
  p.definition_json = rows.text(i, 4);
  p.created_at = from_micros(rows.integer(i, 5));
  return p;
}

}  // namespace

// The primary key decides between operators saving the same version at once: one insert wins,
// the other is told false and the stored version is left as it is. A plan of a client that does
// not exist breaks the foreign key (23503): kFailedPrecondition, as on the other backends.
Result<bool> PgStore::add_routing_plan(const RoutingPlanRecord& plan) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(std::string("INSERT INTO nhs_routing_plans (") + kRoutingPlanColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                        Params()
                            .text(plan.id.to_string())
                            .integer(plan.version)
                            .text(plan.client.to_string())
                            .text(plan.name)
                            .text(plan.definition_json)
                            .integer(to_micros(plan.created_at)));
    if (!rows) {
      if (!rows.error().message.ends_with("[23503]")) return rows.error();
      return failed_precondition("no NHS client " + plan.client.to_string());
    }
    return rows->affected() == 1;
  });
}

Result<std::optional<RoutingPlanRecord>> PgStore::find_routing_plan(Uuid id, std::optional<int> version) {
  return with_connection<std::optional<RoutingPlanRecord>>(
      [&](PgConnection& db) -> Result<std::optional<RoutingPlanRecord>> {
        Params params;
        params.text(id.to_string());
        if (version) params.integer(*version);
        auto rows = db.exec(std::string("SELECT ") + kRoutingPlanColumns + " FROM nhs_routing_plans WHERE id = $1 " +
                                (version ? "AND version = $2" : "ORDER BY version DESC LIMIT 1"),
                            params);
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<RoutingPlanRecord>();
        return std::optional<RoutingPlanRecord>(read_routing_plan(*rows, 0));
      });
}

Result<std::vector<RoutingPlanRecord>> PgStore::list_routing_plans(std::optional<Uuid> client) {
  return with_connection<std::vector<RoutingPlanRecord>>(
      [&](PgConnection& db) -> Result<std::vector<RoutingPlanRecord>> {
        Params params;
        if (client) params.text(client->to_string());
        // Each plan's latest version, the plans in the order of their first versions.
        auto rows = db.exec(
            std::string("SELECT ") + kRoutingPlanColumns +
                " FROM nhs_routing_plans p WHERE version = (SELECT MAX(v.version) FROM nhs_routing_plans v WHERE "
                "v.id = p.id)" +
                (client ? " AND client_id = $1" : "") +
                " ORDER BY (SELECT f.created_at FROM nhs_routing_plans f WHERE f.id = p.id ORDER BY f.version LIMIT "
                "1), id",
            params);
        if (!rows) return rows.error();
        std::vector<RoutingPlanRecord> out;
        for (int i = 0; i < rows->rows(); ++i) out.push_back(read_routing_plan(*rows, i));
        return out;
      });
}

namespace {

SealedNhsCallbackTarget read_nhs_callback_target(const PgResult& rows, int i) {
  SealedNhsCallbackTarget t;
  t.id = rows.text(i, 0);
  t.client = rows.text(i, 1);
  t.kind = rows.text(i, 2);
  t.url = rows.text(i, 3);
  t.statuses = rows.text(i, 4);
  t.supplier_statuses = rows.text(i, 5);
  t.api_key_header = rows.text(i, 6);
  t.api_key = rows.bytes(i, 7);
  t.client_certificate_file = rows.optional_text(i, 8);
  t.client_key_file = rows.optional_text(i, 9);
  t.pinned_key_sha256 = rows.optional_text(i, 10);
  t.rate_per_second = rows.integer(i, 11);
  t.retry_window_seconds = rows.integer(i, 12);
  t.created_at = rows.integer(i, 13);
  return t;
}

SealedNhsCallback read_nhs_callback(const PgResult& rows, int i) {
  SealedNhsCallback c;
  c.id = rows.integer(i, 0);
  c.target = rows.text(i, 1);
  c.client = rows.text(i, 2);
  c.service = rows.text(i, 3);
  c.message_id = rows.text(i, 4);
  c.seal_id = rows.text(i, 5);
  c.body = rows.bytes(i, 6);
  c.state = rows.text(i, 7);
  c.attempts = rows.integer(i, 8);
  c.created_at = rows.integer(i, 9);
  c.next_attempt_at = rows.integer(i, 10);
  c.first_attempt_at = rows.optional_integer(i, 11);
  c.last_error = rows.optional_text(i, 12);
  return c;
}

}  // namespace

// Replaces every column but the id in place. A target of a client that does not exist breaks
// the foreign key (23503): kFailedPrecondition, as on the other backends.
Result<void> PgStore::put_nhs_callback_target(const NhsCallbackTarget& target) {
  auto sealed = seal_nhs_callback_target(*cipher_, target);
  if (!sealed) return sealed.error();
  const SealedNhsCallbackTarget& t = *sealed;
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(
        std::string("INSERT INTO nhs_callback_targets (") + kNhsCallbackTargetColumns +
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO UPDATE SET "
            "client_id = excluded.client_id, kind = excluded.kind, url = excluded.url, statuses = excluded.statuses, "
            "supplier_statuses = excluded.supplier_statuses, api_key_header = excluded.api_key_header, "
            "api_key = excluded.api_key, client_certificate_file = excluded.client_certificate_file, "
            "client_key_file = excluded.client_key_file, pinned_key_sha256 = excluded.pinned_key_sha256, "
            "rate_per_second = excluded.rate_per_second, retry_window_seconds = excluded.retry_window_seconds, "
            "created_at = excluded.created_at",
        Params()
            .text(t.id)
            .text(t.client)
            .text(t.kind)
            .text(t.url)
            .text(t.statuses)
            .text(t.supplier_statuses)
            .text(t.api_key_header)
            .bytes(t.api_key)
            .optional_text(t.client_certificate_file)
            .optional_text(t.client_key_file)
            .optional_text(t.pinned_key_sha256)
            .integer(t.rate_per_second)
            .integer(t.retry_window_seconds)
            .integer(t.created_at),
        PgConnection::Retry::kYes);  // an upsert: harmless to repeat
    if (!rows) {
      if (!rows.error().message.ends_with("[23503]")) return rows.error();
      return failed_precondition("no NHS client " + t.client);
    }
    return ok();
  });
}

Result<bool> PgStore::delete_nhs_callback_target(Uuid id) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    bool deleted = false;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      HERALD_TRY(db.run("DELETE FROM nhs_callbacks WHERE target_id = $1", Params().text(id.to_string())));
      auto rows = db.exec("DELETE FROM nhs_callback_targets WHERE id = $1", Params().text(id.to_string()));
      if (!rows) return rows.error();
      deleted = rows->affected() == 1;
      return ok();
    }));
    return deleted;
  });
}

Result<std::vector<NhsCallbackTarget>> PgStore::nhs_callback_targets(std::optional<Uuid> client) {
  auto rows = with_connection<std::vector<SealedNhsCallbackTarget>>(
      [&](PgConnection& db) -> Result<std::vector<SealedNhsCallbackTarget>> {
        Params params;
        if (client) params.text(client->to_string());
        auto result = db.exec(std::string("SELECT ") + kNhsCallbackTargetColumns + " FROM nhs_callback_targets " +
                                  (client ? "WHERE client_id = $1 " : "") + "ORDER BY created_at, id",
                              params);
        if (!result) return result.error();
        std::vector<SealedNhsCallbackTarget> out;
        for (int i = 0; i < result->rows(); ++i) out.push_back(read_nhs_callback_target(*result, i));
        return out;
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

Result<std::vector<NhsCallbackRecord>> PgStore::claim_nhs_callbacks(int limit, Timestamp now, Duration lease) {
  return with_connection<std::vector<NhsCallbackRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NhsCallbackRecord>> {
        std::vector<NhsCallbackRecord> out;
        HERALD_TRY(db.transaction([&]() -> Result<void> {
          // SKIP LOCKED, as in claim_due: callbacks another node is claiming right now are passed
          // over, never claimed twice.
          auto rows = db.exec(
              std::string("UPDATE nhs_callbacks AS c SET lease_until = $1 FROM (SELECT id AS claimed_id FROM "
                          "nhs_callbacks WHERE state = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL "
                          "OR lease_until <= $2) ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) AS d "
                          "WHERE c.id = d.claimed_id RETURNING ") +
                  kNhsCallbackColumns,
              Params().integer(to_micros(now + lease)).integer(to_micros(now)).integer(limit));
          if (!rows) return rows.error();
          std::vector<SealedNhsCallback> sealed;
          for (int i = 0; i < rows->rows(); ++i) sealed.push_back(read_nhs_callback(*rows, i));
          // RETURNING gives no order: earliest due first, as claimed.
          std::sort(sealed.begin(), sealed.end(), [](const SealedNhsCallback& a, const SealedNhsCallback& b) {
            return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at : a.id < b.id;
          });
          for (const SealedNhsCallback& row : sealed) {
            auto opened = open_nhs_callback(*cipher_, row);
            if (opened) {
              out.push_back(std::move(*opened));
            } else if (opened.error().code == ErrorCode::kNotFound) {
              // Its day's data key is gone (retention): so is the callback.
              HERALD_TRY(db.run("DELETE FROM nhs_callbacks WHERE id = $1", Params().integer(row.id)));
            } else {
              // Does not open (corrupt): left to its lease, like an unreadable notification.
              log::error("store.unreadable_nhs_callback",
                         {{"callback_id", std::to_string(row.id)}, {"error", opened.error().message}});
            }
          }
          return ok();
        }));
        return out;
      });
}

Result<void> PgStore::finish_nhs_callback(const NhsCallbackAttempt& attempt) {
  using Outcome = NhsCallbackAttempt::Outcome;
  if (attempt.outcome == Outcome::kRetry && !attempt.retry_at) {
    return invalid_argument("a callback to retry needs retry_at");
  }
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    if (attempt.outcome == Outcome::kSent) {
      return db.run("DELETE FROM nhs_callbacks WHERE id = $1", Params().integer(attempt.id));
    }
    // Not re-sent after a broken connection: the attempt might be counted twice.
    if (attempt.outcome == Outcome::kDead) {
      return db.run(
          "UPDATE nhs_callbacks SET attempts = attempts + 1, last_error = $1, first_attempt_at = "
          "COALESCE(first_attempt_at, $2::bigint), lease_until = NULL, state = 'dead' WHERE id = $3",
          Params().optional_text(attempt.error).integer(to_micros(attempt.at)).integer(attempt.id));
    }
    return db.run(
        "UPDATE nhs_callbacks SET attempts = attempts + 1, last_error = $1, first_attempt_at = "
        "COALESCE(first_attempt_at, $2::bigint), lease_until = NULL, next_attempt_at = $3 WHERE id = $4",
        Params()
            .optional_text(attempt.error)
            .integer(to_micros(attempt.at))
            .integer(to_micros(*attempt.retry_at))
            .integer(attempt.id));
  });
}

Result<std::vector<NhsCallbackRecord>> PgStore::dead_nhs_callbacks(std::optional<Uuid> client, int limit) {
  auto rows =
      with_connection<std::vector<SealedNhsCallback>>([&](PgConnection& db) -> Result<std::vector<SealedNhsCallback>> {
        Params params;
        if (client) params.text(client->to_string());
        params.integer(limit);
        auto result = db.exec(
            std::string("SELECT ") + kNhsCallbackColumns + " FROM nhs_callbacks WHERE state = 'dead' " +
                (client ? "AND client_id = $1 ORDER BY created_at, id LIMIT $2" : "ORDER BY created_at, id LIMIT $1"),
            params);
        if (!result) return result.error();
        std::vector<SealedNhsCallback> out;
        for (int i = 0; i < result->rows(); ++i) out.push_back(read_nhs_callback(*result, i));
        return out;
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

Result<bool> PgStore::replay_nhs_callback(std::int64_t id, Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE nhs_callbacks SET state = 'pending', attempts = 0, first_attempt_at = NULL, last_error = NULL, "
        "next_attempt_at = $1, lease_until = NULL WHERE id = $2 AND state = 'dead'",
        Params().integer(to_micros(now)).integer(id));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

namespace {

SealedAdminUser read_admin_user(const PgResult& rows, int i) {
  SealedAdminUser u;
  u.id = rows.text(i, 0);
  u.email = rows.bytes(i, 1);
  u.email_index = rows.bytes(i, 2);
  u.name = rows.bytes(i, 3);
  u.platform_admin = rows.integer(i, 4);
  u.password_hash = rows.text(i, 5);
  u.totp_secret = rows.optional_bytes(i, 6);
  u.totp_last_step = rows.integer(i, 7);
  u.failed_sign_ins = rows.integer(i, 8);
  u.locked_until = rows.optional_integer(i, 9);
  u.enrolled_at = rows.optional_integer(i, 10);
  u.disabled_at = rows.optional_integer(i, 11);
  u.created_at = rows.integer(i, 12);
  return u;
}

Result<AdminMembership> read_admin_membership(const PgResult& rows, int i) {
  auto user = Uuid::parse(rows.text(i, 0));
  auto service = ServiceId::parse(rows.text(i, 1));
  if (!user || !service) return data_loss("malformed id in admin_memberships row");
  return AdminMembership{*user, *service, split_permissions(rows.text(i, 2)), from_micros(rows.integer(i, 3))};
}

Result<AdminEnrolment> read_admin_enrolment(const PgResult& rows, int i) {
  auto user = Uuid::parse(rows.text(i, 1));
  if (!user) return data_loss("malformed id in admin_enrolments row");
  return AdminEnrolment{rows.text(i, 0), *user, from_micros(rows.integer(i, 2)), from_micros(rows.integer(i, 3))};
}

Result<AdminSessionRecord> read_admin_session(const PgResult& rows, int i) {
  auto user = Uuid::parse(rows.text(i, 1));
  if (!user) return data_loss("malformed id in admin_sessions row");
  return AdminSessionRecord{rows.text(i, 0), *user, from_micros(rows.integer(i, 2)), from_micros(rows.integer(i, 3)),
                            optional_time(rows.optional_integer(i, 4))};
}

Result<WebAuthnCredential> read_webauthn_credential(const PgResult& rows, int i) {
  auto user = Uuid::parse(rows.text(i, 1));
  if (!user) return data_loss("malformed id in webauthn_credentials row");
  return WebAuthnCredential{rows.bytes(i, 0),
                            *user,
                            rows.bytes(i, 2),
                            rows.integer(i, 3),
                            rows.text(i, 4),
                            from_micros(rows.integer(i, 5)),
                            optional_time(rows.optional_integer(i, 6))};
}

// Every row of `rows`, read by `read` (which may fail).
template <typename T, typename Read>
Result<std::vector<T>> read_all(const PgResult& rows, Read&& read) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    auto value = read(rows, i);
    if (!value) return value.error();
    out.push_back(std::move(*value));
  }
  return out;
}

// A foreign key (23503) or unique (23505) violation: the caller's kFailedPrecondition.
bool is_constraint_violation(const Error& error) {
  return error.message.ends_with("[23503]") || is_unique_violation(error);
}

}  // namespace

// The email's blind index is unique: a second user with the same address (or the same id) is
// absorbed by ON CONFLICT and refused. Of two nodes creating the same address at once, one wins.
Result<void> PgStore::create_admin_user(const AdminUserRecord& user) {
  auto sealed = seal_admin_user(*cipher_, user);
  if (!sealed) return sealed.error();
  const SealedAdminUser& u = *sealed;
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(std::string("INSERT INTO admin_users (") + kAdminUserColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
                        Params()
                            .text(u.id)
                            .bytes(u.email)
                            .bytes(u.email_index)
                            .bytes(u.name)
                            .integer(u.platform_admin)
                            .text(u.password_hash)
                            .optional_bytes(u.totp_secret)
                            .integer(u.totp_last_step)
                            .integer(u.failed_sign_ins)
                            .optional_integer(u.locked_until)
                            .optional_integer(u.enrolled_at)
                            .optional_integer(u.disabled_at)
                            .integer(u.created_at));
    if (!rows) return rows.error();
    if (rows->affected() != 1) return failed_precondition("an admin user has that id or email");
    return ok();
  });
}

// totp_last_step only ever rises (use_totp_step moves it; a record read before a step was used
// must not take it back).
Result<void> PgStore::update_admin_user(const AdminUserRecord& user) {
  auto sealed = seal_admin_user(*cipher_, user);
  if (!sealed) return sealed.error();
  const SealedAdminUser& u = *sealed;
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(
        "UPDATE admin_users SET name = $1, platform_admin = $2, password_hash = $3, totp_secret = $4, "
        "totp_last_step = GREATEST(totp_last_step, $5::bigint), failed_sign_ins = $6, locked_until = $7, "
        "enrolled_at = $8, disabled_at = $9 WHERE id = $10",
        Params()
            .bytes(u.name)
            .integer(u.platform_admin)
            .text(u.password_hash)
            .optional_bytes(u.totp_secret)
            .integer(u.totp_last_step)
            .integer(u.failed_sign_ins)
            .optional_integer(u.locked_until)
            .optional_integer(u.enrolled_at)
            .optional_integer(u.disabled_at)
            .text(u.id));
    if (!rows) return rows.error();
    if (rows->affected() != 1) return not_found("admin user " + u.id);
    return ok();
  });
}

Result<std::optional<AdminUserRecord>> PgStore::find_admin_user(Uuid id) {
  auto row =
      with_connection<std::optional<SealedAdminUser>>([&](PgConnection& db) -> Result<std::optional<SealedAdminUser>> {
        auto rows = db.exec(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users WHERE id = $1",
                            Params().text(id.to_string()));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<SealedAdminUser>();
        return std::optional<SealedAdminUser>(read_admin_user(*rows, 0));
      });
  if (!row) return row.error();
  if (!*row) return std::optional<AdminUserRecord>();
  auto opened = open_admin_user(*cipher_, **row);
  if (!opened) return opened.error();
  return std::optional<AdminUserRecord>(std::move(*opened));
}

Result<std::optional<AdminUserRecord>> PgStore::find_admin_user_by_email(std::string_view email) {
  auto index = admin_email_index(*cipher_, email, SystemClock().now());
  if (!index) return index.error();
  auto row =
      with_connection<std::optional<SealedAdminUser>>([&](PgConnection& db) -> Result<std::optional<SealedAdminUser>> {
        auto rows = db.exec(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users WHERE email_index = $1",
                            Params().bytes(*index));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<SealedAdminUser>();
        return std::optional<SealedAdminUser>(read_admin_user(*rows, 0));
      });
  if (!row) return row.error();
  if (!*row) return std::optional<AdminUserRecord>();
  auto opened = open_admin_user(*cipher_, **row);
  if (!opened) return opened.error();
  return std::optional<AdminUserRecord>(std::move(*opened));
}

Result<std::vector<AdminUserRecord>> PgStore::list_admin_users() {
  auto rows =
      with_connection<std::vector<SealedAdminUser>>([&](PgConnection& db) -> Result<std::vector<SealedAdminUser>> {
        auto result = db.exec(std::string("SELECT ") + kAdminUserColumns + " FROM admin_users ORDER BY created_at, id");
        if (!result) return result.error();
        std::vector<SealedAdminUser> out;
        for (int i = 0; i < result->rows(); ++i) out.push_back(read_admin_user(*result, i));
        return out;
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

Result<int> PgStore::count_sign_in_failure(Uuid user) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    auto rows =
        db.exec("UPDATE admin_users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 RETURNING failed_sign_ins",
                Params().text(user.to_string()));
    if (!rows) return rows.error();
    return rows->rows() == 0 ? 0 : static_cast<int>(rows->integer(0, 0));
  });
}

Result<void> PgStore::set_sign_in_lock(Uuid user, std::optional<Timestamp> locked_until, bool reset_failures) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(reset_failures ? "UPDATE admin_users SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2"
                                       : "UPDATE admin_users SET locked_until = $1 WHERE id = $2",
                        Params().optional_integer(optional_micros(locked_until)).text(user.to_string()));
    if (!rows) return rows.error();
    return ok();
  });
}

Result<void> PgStore::set_admin_password_hash(Uuid user, std::string_view password_hash) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec("UPDATE admin_users SET password_hash = $1 WHERE id = $2",
                        Params().text(std::string(password_hash)).text(user.to_string()));
    if (!rows) return rows.error();
    return ok();
  });
}

// One conditional UPDATE: of two nodes offered the same step, the row lock lets one change it;
// the other re-checks the condition against the new value and changes nothing.
Result<bool> PgStore::use_totp_step(Uuid user, std::int64_t step) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("UPDATE admin_users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
                        Params().integer(step).text(user.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

// A membership of an unknown user or service breaks a foreign key (23503): kFailedPrecondition.
Result<void> PgStore::put_admin_membership(const AdminMembership& membership) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(std::string("INSERT INTO admin_memberships (") + kAdminMembershipColumns +
                            ") VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, service_id) DO UPDATE SET "
                            "permissions = excluded.permissions",
                        Params()
                            .text(membership.user.to_string())
                            .text(membership.service.to_string())
                            .text(join_permissions(membership.permissions))
                            .integer(to_micros(membership.created_at)),
                        PgConnection::Retry::kYes);  // an upsert: harmless to repeat
    if (!rows) {
      if (!is_constraint_violation(rows.error())) return rows.error();
      return failed_precondition("no admin user " + membership.user.to_string() + " or service " +
                                 membership.service.to_string());
    }
    return ok();
  });
}

Result<bool> PgStore::delete_admin_membership(Uuid user, ServiceId service) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM admin_memberships WHERE user_id = $1 AND service_id = $2",
                        Params().text(user.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<std::vector<AdminMembership>> PgStore::admin_memberships(std::optional<Uuid> user,
                                                                std::optional<ServiceId> service) {
  return with_connection<std::vector<AdminMembership>>([&](PgConnection& db) -> Result<std::vector<AdminMembership>> {
    const char* where = user && service ? " WHERE user_id = $1 AND service_id = $2"
                        : user          ? " WHERE user_id = $1"
                        : service       ? " WHERE service_id = $1"
                                        : "";
    Params params;
    if (user) params.text(user->to_string());
    if (service) params.text(service->to_string());
    auto rows = db.exec(std::string("SELECT ") + kAdminMembershipColumns + " FROM admin_memberships" + where +
                            " ORDER BY created_at, user_id, service_id",
                        params);
    if (!rows) return rows.error();
    return read_all<AdminMembership>(*rows, read_admin_membership);
  });
}

// One transaction: the user's earlier links (and every expired one) go, the new one comes.
Result<void> PgStore::add_admin_enrolment(const AdminEnrolment& enrolment) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto added = db.transaction([&]() -> Result<void> {
      HERALD_TRY(db.run("DELETE FROM admin_enrolments WHERE user_id = $1 OR expires_at <= $2",
                        Params().text(enrolment.user.to_string()).integer(to_micros(enrolment.created_at))));
      return db.run(
          std::string("INSERT INTO admin_enrolments (") + kAdminEnrolmentColumns + ") VALUES ($1, $2, $3, $4)",
          Params()
              .text(enrolment.token_hash)
              .text(enrolment.user.to_string())
              .integer(to_micros(enrolment.created_at))
              .integer(to_micros(enrolment.expires_at)));
    });
    if (!added && is_constraint_violation(added.error())) {
      return failed_precondition("no admin user " + enrolment.user.to_string() + ", or the token exists");
    }
    return added;
  });
}

Result<std::optional<AdminEnrolment>> PgStore::find_admin_enrolment(std::string_view token_hash, Timestamp now) {
  return with_connection<std::optional<AdminEnrolment>>([&](PgConnection& db) -> Result<std::optional<AdminEnrolment>> {
    auto rows = db.exec(std::string("SELECT ") + kAdminEnrolmentColumns +
                            " FROM admin_enrolments WHERE token_hash = $1 AND expires_at > $2",
                        Params().text(token_hash).integer(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<AdminEnrolment>();
    auto enrolment = read_admin_enrolment(*rows, 0);
    if (!enrolment) return enrolment.error();
    return std::optional<AdminEnrolment>(std::move(*enrolment));
  });
}

// One conditional DELETE: of two nodes taking the same link, one deletes the row.
Result<bool> PgStore::take_admin_enrolment(std::string_view token_hash, Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM admin_enrolments WHERE token_hash = $1 AND expires_at > $2",
                        Params().text(token_hash).integer(to_micros(now)));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<void> PgStore::set_recovery_codes(Uuid user, const std::vector<std::string>& code_hashes) {
  const std::string id = user.to_string();
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto set = db.transaction([&]() -> Result<void> {
      HERALD_TRY(db.run("DELETE FROM admin_recovery_codes WHERE user_id = $1", Params().text(id)));
      for (const std::string& code_hash : code_hashes) {
        HERALD_TRY(
            db.run("INSERT INTO admin_recovery_codes (user_id, code_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                   Params().text(id).text(code_hash)));
      }
      return ok();
    });
    if (!set && is_constraint_violation(set.error())) return failed_precondition("no admin user " + id);
    return set;
  });
}

Result<bool> PgStore::use_recovery_code(Uuid user, std::string_view code_hash) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM admin_recovery_codes WHERE user_id = $1 AND code_hash = $2",
                        Params().text(user.to_string()).text(code_hash));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<int> PgStore::recovery_codes_left(Uuid user) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    auto rows =
        db.exec("SELECT COUNT(*) FROM admin_recovery_codes WHERE user_id = $1", Params().text(user.to_string()));
    if (!rows) return rows.error();
    return static_cast<int>(rows->integer(0, 0));
  });
}

Result<void> PgStore::create_admin_session(const AdminSessionRecord& session) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows =
        db.exec(std::string("INSERT INTO admin_sessions (") + kAdminSessionColumns + ") VALUES ($1, $2, $3, $4, $5)",
                Params()
                    .text(session.token_hash)
                    .text(session.user.to_string())
                    .integer(to_micros(session.created_at))
                    .integer(to_micros(session.last_seen_at))
                    .optional_integer(optional_micros(session.second_factor_at)));
    if (!rows) {
      if (!is_constraint_violation(rows.error())) return rows.error();
      return failed_precondition("no admin user " + session.user.to_string() + ", or the session exists");
    }
    return ok();
  });
}

Result<std::optional<AdminSessionRecord>> PgStore::find_admin_session(std::string_view token_hash) {
  return with_connection<std::optional<AdminSessionRecord>>(
      [&](PgConnection& db) -> Result<std::optional<AdminSessionRecord>> {
        auto rows =
            db.exec(std::string("SELECT ") + kAdminSessionColumns + " FROM admin_sessions WHERE token_hash = $1",
                    Params().text(token_hash));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<AdminSessionRecord>();
        auto session = read_admin_session(*rows, 0);
        if (!session) return session.error();
        return std::optional<AdminSessionRecord>(std::move(*session));
      });
}

// Only the session's own user's row: a token hash never moves a session to another user.
Result<bool> PgStore::update_admin_session(const AdminSessionRecord& session) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE admin_sessions SET last_seen_at = $1, second_factor_at = $2 WHERE token_hash = $3 AND user_id = $4",
        Params()
            .integer(to_micros(session.last_seen_at))
            .optional_integer(optional_micros(session.second_factor_at))
            .text(session.token_hash)
            .text(session.user.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<bool> PgStore::delete_admin_session(std::string_view token_hash) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM admin_sessions WHERE token_hash = $1", Params().text(token_hash));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<int> PgStore::delete_admin_sessions(Uuid user) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    auto rows = db.exec("DELETE FROM admin_sessions WHERE user_id = $1", Params().text(user.to_string()));
    if (!rows) return rows.error();
    return static_cast<int>(rows->affected());
  });
}

Result<int> PgStore::delete_expired_admin_sessions(Timestamp idle_cutoff, Timestamp absolute_cutoff) {
  return with_connection<int>([&](PgConnection& db) -> Result<int> {
    auto rows = db.exec("DELETE FROM admin_sessions WHERE last_seen_at < $1 OR created_at < $2",
                        Params().integer(to_micros(idle_cutoff)).integer(to_micros(absolute_cutoff)));
    if (!rows) return rows.error();
    return static_cast<int>(rows->affected());
  });
}

// A credential id registered already (to anyone) is absorbed by ON CONFLICT and refused; one of
// an unknown user breaks the foreign key (23503). Both kFailedPrecondition.
Result<void> PgStore::add_webauthn_credential(const WebAuthnCredential& credential) {
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(std::string("INSERT INTO webauthn_credentials (") + kWebAuthnCredentialColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                        Params()
                            .bytes(credential.credential_id)
                            .text(credential.user.to_string())
                            .bytes(credential.public_key)
                            .integer(credential.sign_count)
                            .text(credential.name)
                            .integer(to_micros(credential.created_at))
                            .optional_integer(optional_micros(credential.last_used_at)));
    if (!rows) {
      if (!is_constraint_violation(rows.error())) return rows.error();
      return failed_precondition("no admin user " + credential.user.to_string());
    }
    if (rows->affected() != 1) return failed_precondition("that WebAuthn credential is registered already");
    return ok();
  });
}

Result<std::vector<WebAuthnCredential>> PgStore::webauthn_credentials(Uuid user) {
  return with_connection<std::vector<WebAuthnCredential>>(
      [&](PgConnection& db) -> Result<std::vector<WebAuthnCredential>> {
        auto rows = db.exec(std::string("SELECT ") + kWebAuthnCredentialColumns +
                                " FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, credential_id",
                            Params().text(user.to_string()));
        if (!rows) return rows.error();
        return read_all<WebAuthnCredential>(*rows, read_webauthn_credential);
      });
}

Result<std::optional<WebAuthnCredential>> PgStore::find_webauthn_credential(std::string_view credential_id) {
  return with_connection<std::optional<WebAuthnCredential>>(
      [&](PgConnection& db) -> Result<std::optional<WebAuthnCredential>> {
        auto rows = db.exec(
            std::string("SELECT ") + kWebAuthnCredentialColumns + " FROM webauthn_credentials WHERE credential_id = $1",
            Params().bytes(credential_id));
        if (!rows) return rows.error();
        if (rows->rows() == 0) return std::optional<WebAuthnCredential>();
        auto credential = read_webauthn_credential(*rows, 0);
        if (!credential) return credential.error();
        return std::optional<WebAuthnCredential>(std::move(*credential));
      });
}

// One conditional UPDATE: a counter that does not rise (a cloned authenticator, a replayed
// assertion, or the same assertion offered to two nodes) changes nothing.
Result<bool> PgStore::use_webauthn_credential(std::string_view credential_id, std::int64_t sign_count, Timestamp at) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE webauthn_credentials SET sign_count = $1, last_used_at = $2 WHERE credential_id = $3 AND "
        "(sign_count < $1 OR (sign_count = 0 AND $1 = 0))",
        Params().integer(sign_count).integer(to_micros(at)).bytes(credential_id));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<bool> PgStore::delete_webauthn_credential(Uuid user, std::string_view credential_id) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM webauthn_credentials WHERE credential_id = $1 AND user_id = $2",
                        Params().bytes(credential_id).text(user.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

// JobStore.

namespace {

// A jobs row as selected by kJobColumns (contents NULL when the query left them out).
SealedJob read_job(const PgResult& rows, int i) {
  SealedJob j;
  j.id = rows.text(i, 0);
  j.service = rows.text(i, 1);
  j.template_id = rows.text(i, 2);
  j.template_version = rows.integer(i, 3);
  j.type = rows.text(i, 4);
  j.file_name = rows.optional_bytes(i, 5);
  j.contents = rows.optional_bytes(i, 6);
  j.row_count = rows.integer(i, 7);
  j.next_row = rows.integer(i, 8);
  j.status = rows.text(i, 9);
  j.created_by = rows.text(i, 10);
  j.created_at = rows.integer(i, 11);
  j.started_at = rows.optional_integer(i, 12);
  j.finished_at = rows.optional_integer(i, 13);
  return j;
}

// kJobColumns with contents (or the whole file) read as NULL: listings never read the file.
constexpr const char* kJobColumnsWithoutContents =
    "id, service_id, template_id, template_version, type, file_name, NULL::bytea, row_count, next_row, status, "
    "created_by, created_at, started_at, finished_at";
constexpr const char* kJobColumnsWithoutFile =
    "id, service_id, template_id, template_version, type, NULL::bytea, NULL::bytea, row_count, next_row, status, "
    "created_by, created_at, started_at, finished_at";

}  // namespace

Result<void> PgStore::create_job(const JobRecord& job) {
  if (job.row_count < 0) return invalid_argument("a job's row count is never negative");
  auto sealed = seal_job(*cipher_, as_new_job(job));
  if (!sealed) return sealed.error();
  const SealedJob& j = *sealed;
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    auto rows = db.exec(std::string("INSERT INTO jobs (") + kJobColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
                            "ON CONFLICT DO NOTHING",
                        Params()
                            .text(j.id)
                            .text(j.service)
                            .text(j.template_id)
                            .integer(j.template_version)
                            .text(j.type)
                            .optional_bytes(j.file_name)
                            .optional_bytes(j.contents)
                            .integer(j.row_count)
                            .integer(j.next_row)
                            .text(j.status)
                            .text(j.created_by)
                            .integer(j.created_at)
                            .optional_integer(j.started_at)
                            .optional_integer(j.finished_at));
    if (!rows) {
      if (!is_constraint_violation(rows.error())) return rows.error();
      return failed_precondition("no service " + j.service);
    }
    if (rows->affected() != 1) return failed_precondition("a job has that id");
    return ok();
  });
}

Result<std::optional<JobRecord>> PgStore::find_job(ServiceId service, Uuid id) {
  auto row = with_connection<std::optional<SealedJob>>([&](PgConnection& db) -> Result<std::optional<SealedJob>> {
    auto rows = db.exec(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1 AND service_id = $2",
                        Params().text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    if (rows->rows() == 0) return std::optional<SealedJob>();
    return std::optional<SealedJob>(read_job(*rows, 0));
  });
  if (!row) return row.error();
  if (!*row) return std::optional<JobRecord>();
  auto opened = open_job(*cipher_, **row);
  // Its day's data key was destroyed: the file is gone, and the job with it.
  if (!opened && opened.error().code == ErrorCode::kNotFound) return std::optional<JobRecord>();
  if (!opened) return opened.error();
  return std::optional<JobRecord>(std::move(*opened));
}

Result<std::vector<JobRecord>> PgStore::jobs_for_service(ServiceId service, int limit) {
  auto rows = with_connection<std::vector<SealedJob>>([&](PgConnection& db) -> Result<std::vector<SealedJob>> {
    auto result = db.exec(std::string("SELECT ") + kJobColumnsWithoutContents +
                              " FROM jobs WHERE service_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                          Params().text(service.to_string()).integer(limit));
    if (!result) return result.error();
    return read_all<SealedJob>(*result, [](const PgResult& r, int i) -> Result<SealedJob> { return read_job(r, i); });
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

Result<bool> PgStore::start_job(ServiceId service, Uuid id, Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE jobs SET status = 'in-progress', started_at = $1 WHERE id = $2 AND service_id = $3 "
        "AND status = 'pending'",
        Params().integer(to_micros(now)).text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

// A save_job_rows racing it waits for the job's row lock (or makes it wait), then finds the
// status moved: a cancelled job takes no more rows; a finished one is not cancelled.
Result<bool> PgStore::cancel_job(ServiceId service, Uuid id, Timestamp now) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND service_id = $3 "
        "AND status IN ('pending', 'in-progress')",
        Params().integer(to_micros(now)).text(id.to_string()).text(service.to_string()));
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<std::vector<JobRecord>> PgStore::jobs_in_progress(int limit) {
  auto rows = with_connection<std::vector<SealedJob>>([&](PgConnection& db) -> Result<std::vector<SealedJob>> {
    auto result = db.exec(std::string("SELECT ") + kJobColumnsWithoutFile +
                              " FROM jobs WHERE status = 'in-progress' ORDER BY created_at, id LIMIT $1",
                          Params().integer(limit));
    if (!result) return result.error();
    return read_all<SealedJob>(*result, [](const PgResult& r, int i) -> Result<SealedJob> { return read_job(r, i); });
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

Result<bool> PgStore::save_job_rows(ServiceId service, Uuid job, int from_row, int to_row,
                                    const std::vector<NotificationRecord>& notifications, const std::vector<int>& rows,
                                    Timestamp now) {
  if (from_row < 0 || to_row < from_row || rows.size() != notifications.size()) {
    return invalid_argument("a job's rows are saved as a range, one row number per notification");
  }
  // Sealed here, on the caller's thread, before a connection is taken.
  std::vector<SealedNotification> sealed;
  sealed.reserve(notifications.size());
  for (const NotificationRecord& record : notifications) {
    if (record.service != service) return invalid_argument("a job's notifications are its service's");
    auto row = seal_notification(*cipher_, record);
    if (!row) return row.error();
    sealed.push_back(std::move(*row));
  }
  const std::string job_id = job.to_string();
  // Multi-row inserts of up to 1,000 notifications (26,000 parameters; PostgreSQL allows 65,535).
  constexpr std::size_t kChunk = 1000;
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    bool saved = false;
    HERALD_TRY(db.transaction([&]() -> Result<void> {
      // Compare-and-set on next_row: of two nodes saving the same rows, the second waits for the
      // first's row lock, then finds next_row moved and changes nothing.
      auto updated = db.exec(
          "UPDATE jobs SET next_row = $1, status = CASE WHEN $1 = row_count THEN 'finished' ELSE status END, "
          "finished_at = CASE WHEN $1 = row_count THEN $2::bigint ELSE finished_at END "
          "WHERE id = $3 AND service_id = $4 AND status = 'in-progress' AND next_row = $5 RETURNING row_count",
          Params().integer(to_row).integer(to_micros(now)).text(job_id).text(service.to_string()).integer(from_row));
      if (!updated) return updated.error();
      if (updated->rows() != 1) return ok();
      // An error rolls the transaction back, the update above with it.
      if (to_row > updated->integer(0, 0)) return invalid_argument("rows past the end of job " + job_id);
      for (std::size_t start = 0; start < sealed.size(); start += kChunk) {
        const std::size_t count = std::min(kChunk, sealed.size() - start);
        Params params;
        for (std::size_t i = start; i < start + count; ++i) {
          add_notification_values(params, sealed[i]);
          params.text(job_id).integer(rows[i]);
        }
        HERALD_TRY(db.run(notification_insert_sql(count, NotificationLink::kJob), params));
      }
      saved = true;
      return ok();
    }));
    return saved;
  });
}

Result<StatusCounts> PgStore::job_status_counts(ServiceId service, Uuid job) {
  return with_connection<StatusCounts>([&](PgConnection& db) -> Result<StatusCounts> {
    auto rows = db.exec(
        "SELECT status, count(*) FROM notifications WHERE service_id = $1 AND job_id = $2 GROUP BY status "
        "ORDER BY status",
        Params().text(service.to_string()).text(job.to_string()));
    if (!rows) return rows.error();
    return read_all<std::pair<NotificationStatus, std::int64_t>>(
        *rows, [](const PgResult& r, int i) -> Result<std::pair<NotificationStatus, std::int64_t>> {
          const auto status = parse_status(r.text(i, 0));
          if (!status) return data_loss("unknown status in notifications: " + r.text(i, 0));
          return std::make_pair(*status, r.integer(i, 1));
        });
  });
}

Result<std::vector<DailyStatusCount>> PgStore::daily_status_counts(ServiceId service, Timestamp from, Timestamp to) {
  return with_connection<std::vector<DailyStatusCount>>([&](PgConnection& db) -> Result<std::vector<DailyStatusCount>> {
    // created_at is bigint microseconds since the epoch (UTC): the day is an integer division, as
    // on SQLite, over a range of notifications_service_created_id. Names sort bytewise (COLLATE
    // "C"), whatever the database's collation, so both backends list in one order.
    auto rows = db.exec(
        "SELECT created_at / 86400000000 AS day, notification_type, status, count(*) FROM notifications "
        "WHERE service_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY day, notification_type, status "
        "ORDER BY day, notification_type COLLATE \"C\", status COLLATE \"C\"",
        Params().text(service.to_string()).integer(to_micros(from)).integer(to_micros(to)));
    if (!rows) return rows.error();
    return read_all<DailyStatusCount>(*rows, [](const PgResult& r, int i) -> Result<DailyStatusCount> {
      const auto type = parse_channel(r.text(i, 1));
      if (!type) return data_loss("unknown type in notifications: " + r.text(i, 1));
      const auto status = parse_status(r.text(i, 2));
      if (!status) return data_loss("unknown status in notifications: " + r.text(i, 2));
      return DailyStatusCount{r.integer(i, 0), *type, *status, r.integer(i, 3)};
    });
  });
}

Result<std::vector<ProviderStats>> PgStore::provider_stats(ServiceId service, Timestamp from, Timestamp to) {
  return with_connection<std::vector<ProviderStats>>([&](PgConnection& db) -> Result<std::vector<ProviderStats>> {
    auto rows = db.exec(std::string("SELECT sent_by, count(*), ") + kProviderStatsColumns +
                            " FROM notifications WHERE service_id = $1 AND created_at >= $2 AND created_at < $3 "
                            "AND sent_by IS NOT NULL GROUP BY sent_by ORDER BY sent_by COLLATE \"C\"",
                        Params().text(service.to_string()).integer(to_micros(from)).integer(to_micros(to)));
    if (!rows) return rows.error();
    return read_all<ProviderStats>(*rows, [](const PgResult& r, int i) -> Result<ProviderStats> {
      ProviderStats stats;
      stats.provider = r.text(i, 0);
      stats.sent = r.integer(i, 1);
      stats.delivered = r.integer(i, 2);
      stats.failed = r.integer(i, 3);
      const std::int64_t timed = r.integer(i, 5);
      if (timed > 0) {
        stats.mean_seconds_to_delivered = static_cast<double>(r.integer(i, 4)) / static_cast<double>(timed) / 1e6;
      }
      return stats;
    });
  });
}

// SubjectStore.

namespace {

// Opened messages, those whose data key is gone left out.
Result<std::vector<NhsMessageRecord>> open_nhs_messages(const crypto::FieldCipher& cipher, const PgResult& rows) {
  std::vector<NhsMessageRecord> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    auto opened = open_nhs_message(cipher, read_nhs_message(rows, i));
    if (!opened && opened.error().code == ErrorCode::kNotFound) continue;
    if (!opened) return opened.error();
    out.push_back(std::move(*opened));
  }
  return out;
}

template <typename Id>
std::string id_array(const std::vector<Id>& ids) {
  std::vector<std::string> texts;
  texts.reserve(ids.size());
  for (const Id& id : ids) texts.push_back(id.to_string());
  return text_array(texts);
}

// The erased NHS Notify messages (the service's, in `ids`: a text[]). The notifications that carry
// their channels go with them (even one a step saved after the erasure's notifications were
// found), locked before the messages as outcomes and receipts lock them. The messages are settled
// (failed, if they were not yet), their personal fields emptied (reference and personalisation are
// NOT NULL: empty), never claimed or woken again (the lease goes too, so a step claimed before is
// never saved); their channel events and callbacks (pending or dead) are deleted.
Result<void> erase_nhs_messages(PgConnection& db, const SubjectErasure& erasure, const std::string& ids,
                                ErasureOutcome& outcome) {
  const std::string service = erasure.service.to_string();
  const std::int64_t now = to_micros(erasure.now);
  auto carried = redact_notifications(db, "service_id = $2 AND nhs_message_id = ANY($3::text[])",
                                      Params().integer(now).text(service).text(ids));
  if (!carried) return carried.error();
  outcome.notifications += carried->redacted;
  outcome.failed_pending += carried->failed_pending;
  HERALD_TRY(
      db.run("DELETE FROM letter_pdfs WHERE service_id = $1 AND notification_id IN (SELECT n.id FROM notifications n "
             "WHERE n.service_id = $1 AND n.nhs_message_id = ANY($2::text[]))",
             Params().text(service).text(ids)));
  HERALD_TRY(db.run(
      "UPDATE nhs_messages SET status = 'failed', status_description = $1, failure_reason_code = $2, failed_at = $3 "
      "WHERE service_id = $4 AND id = ANY($5::text[]) AND erased_at IS NULL AND status NOT IN ('delivered', 'failed')",
      Params()
          .text(erasure.nhs_failure_description)
          .text(erasure.nhs_failure_code)
          .integer(now)
          .text(service)
          .text(ids)));
  auto erased = db.exec(
      "UPDATE nhs_messages SET reference = '', reference_index = NULL, billing_reference = NULL, nhs_number = NULL, "
      "nhs_number_index = NULL, personalisation = '', contact_details = NULL, recipient = NULL, next_step_at = NULL, "
      "lease_until = NULL, woken = 0, erased_at = $1 WHERE service_id = $2 AND id = ANY($3::text[]) "
      "AND erased_at IS NULL",
      Params().integer(now).text(service).text(ids));
  if (!erased) return erased.error();
  outcome.nhs_messages += erased->affected();
  // Events name no service: deleted only for the service's messages.
  HERALD_TRY(db.run(
      "DELETE FROM nhs_channel_events WHERE message_id IN (SELECT m.id FROM nhs_messages m WHERE m.service_id = $1 "
      "AND m.id = ANY($2::text[]))",
      Params().text(service).text(ids)));
  return db.run("DELETE FROM nhs_callbacks WHERE service_id = $1 AND message_id = ANY($2::text[])",
                Params().text(service).text(ids));
}

// Deletes the service's rows of `table` (a constant) whose ids are in `ids` (a uuid[]); returns
// how many.
Result<std::int64_t> delete_owned(PgConnection& db, const char* table, const std::string& service,
                                  const std::string& ids) {
  auto deleted = db.exec(std::string("DELETE FROM ") + table + " WHERE service_id = $1 AND id = ANY($2::uuid[])",
                         Params().text(service).text(ids));
  if (!deleted) return deleted.error();
  return deleted->affected();
}

// A job's contents as an erasure replaces them: sealed before a connection is taken for the
// erasure, and stored only if the job still holds `old` (the envelope read and compared).
struct ReplacedJobContents {
  std::string id, old, envelope;
};

// The new contents of each job in `stored` (id, created_at, contents) whose file would change
// (reseal_job_contents), as the erasure names it first.
Result<std::vector<ReplacedJobContents>> replaced_job_contents(const crypto::FieldCipher& cipher,
                                                               const SubjectErasure& erasure, const PgResult& stored) {
  std::vector<ReplacedJobContents> out;
  for (int i = 0; i < stored.rows(); ++i) {
    const std::string id = stored.text(i, 0);
    const auto job = std::find_if(erasure.job_contents.begin(), erasure.job_contents.end(),
                                  [&](const auto& entry) { return entry.first.to_string() == id; });
    if (job == erasure.job_contents.end()) continue;
    auto sealed = reseal_job_contents(cipher, erasure.service, job->first, from_micros(stored.integer(i, 1)),
                                      stored.bytes(i, 2), job->second);
    if (!sealed) return sealed.error();
    if (*sealed) out.push_back({id, stored.bytes(i, 2), std::move(**sealed)});
  }
  return out;
}

}  // namespace

Result<std::vector<NhsMessageRecord>> PgStore::find_nhs_messages_by_nhs_number(ServiceId service,
                                                                               std::string_view nhs_number) {
  auto index = nhs_number_index(*cipher_, service, nhs_number, SystemClock().now());
  if (!index) return index.error();
  return with_connection<std::vector<NhsMessageRecord>>([&](PgConnection& db) -> Result<std::vector<NhsMessageRecord>> {
    // No SQL index on the HMAC (migration 2): the service's messages are scanned. Ids in byte
    // order, as the other backends sort them.
    auto rows = db.exec(std::string("SELECT ") + kNhsMessageColumns +
                            " FROM nhs_messages WHERE service_id = $1 AND nhs_number_index = $2 AND erased_at IS NULL "
                            "ORDER BY created_at, id COLLATE \"C\"",
                        Params().text(service.to_string()).bytes(*index));
    if (!rows) return rows.error();
    return open_nhs_messages(*cipher_, *rows);
  });
}

Result<std::vector<NhsMessageRecord>> PgStore::find_nhs_messages_by_id(ServiceId service,
                                                                       const std::vector<std::string>& ids) {
  return with_connection<std::vector<NhsMessageRecord>>([&](PgConnection& db) -> Result<std::vector<NhsMessageRecord>> {
    // In the order given: each id's first place in the array.
    auto rows = db.exec(std::string("SELECT ") + kNhsMessageColumns +
                            " FROM nhs_messages WHERE service_id = $1 AND id = ANY($2::text[]) AND erased_at IS NULL "
                            "ORDER BY array_position($2::text[], id)",
                        Params().text(service.to_string()).text(text_array(ids)));
    if (!rows) return rows.error();
    return open_nhs_messages(*cipher_, *rows);
  });
}

Result<std::vector<NotificationRecord>> PgStore::notifications_for_nhs_messages(
    ServiceId service, const std::vector<std::string>& message_ids) {
  return with_connection<std::vector<NotificationRecord>>(
      [&](PgConnection& db) -> Result<std::vector<NotificationRecord>> {
        auto rows = db.exec(std::string("SELECT ") + kNotificationColumns + kNotificationLinkColumns +
                                " FROM notifications WHERE service_id = $1 AND nhs_message_id = ANY($2::text[]) "
                                "AND redacted_at IS NULL ORDER BY created_at, id",
                            Params().text(service.to_string()).text(text_array(message_ids)));
        if (!rows) return rows.error();
        std::vector<NotificationRecord> out;
        for (int i = 0; i < rows->rows(); ++i) {
          auto record = open_notification(*cipher_, sealed_from(*rows, i));
          if (!record && record.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
          if (!record) return record.error();
          HERALD_TRY(link_notification(*record, *rows, i));
          out.push_back(std::move(*record));
        }
        return out;
      });
}

Result<std::vector<InboundSms>> PgStore::find_inbound_sms_by_number(ServiceId service,
                                                                    std::string_view number_normalised) {
  auto index = cipher_->blind_index(service.to_string(), number_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_connection<std::vector<InboundSms>>([&](PgConnection& db) -> Result<std::vector<InboundSms>> {
    // No SQL index on the HMAC (migration 2): the service's texts are scanned, newest first.
    auto rows = db.exec(std::string("SELECT ") + kInboundColumns +
                            " FROM inbound_sms WHERE service_id = $1 AND user_number_index = $2 "
                            "ORDER BY created_at DESC, id DESC",
                        Params().text(service.to_string()).bytes(*index));
    if (!rows) return rows.error();
    std::vector<InboundSms> out;
    for (int i = 0; i < rows->rows(); ++i) {
      auto sms = open_inbound_sms(*cipher_, sealed_inbound(*rows, i));
      if (!sms && sms.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!sms) return sms.error();
      sms->user_number_normalised = std::string(number_normalised);
      out.push_back(std::move(*sms));
    }
    return out;
  });
}

Result<std::vector<GuestListEntry>> PgStore::find_guest_list_entries(ServiceId service,
                                                                     std::string_view recipient_normalised) {
  auto index = cipher_->blind_index(service.to_string(), recipient_normalised, SystemClock().now());
  if (!index) return index.error();
  return with_connection<std::vector<GuestListEntry>>([&](PgConnection& db) -> Result<std::vector<GuestListEntry>> {
    auto rows = db.exec(
        "SELECT id, recipient_type, recipient, created_at FROM service_guest_list WHERE service_id = $1 "
        "AND recipient_index = $2 ORDER BY created_at, id",
        Params().text(service.to_string()).bytes(*index));
    if (!rows) return rows.error();
    std::vector<GuestListEntry> out;
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string id = rows->text(i, 0);
      auto parsed = Uuid::parse(id);
      if (!parsed) return data_loss("malformed id in service_guest_list");
      auto recipient = cipher_->open(rows->bytes(i, 2), {"service_guest_list", "recipient", id});
      if (!recipient && recipient.error().code == ErrorCode::kNotFound) continue;  // its data key is gone
      if (!recipient) return recipient.error();
      out.push_back({*parsed, service, rows->text(i, 1), std::move(*recipient), std::string(recipient_normalised),
                     from_micros(rows->integer(i, 3))});
    }
    return out;
  });
}

Result<ErasureOutcome> PgStore::erase_subject(const SubjectErasure& erasure) {
  const std::string service = erasure.service.to_string();
  std::vector<std::string> job_ids;
  for (const auto& [id, contents] : erasure.job_contents) job_ids.push_back(id.to_string());
  // The jobs' files as they are, read first: their new contents are sealed here, before the
  // erasure's transaction.
  auto stored = with_connection<PgResult>([&](PgConnection& db) {
    return db.exec(
        "SELECT id, created_at, contents FROM jobs WHERE service_id = $1 AND id = ANY($2::text[]) "
        "AND contents IS NOT NULL",
        Params().text(service).text(text_array(job_ids)));
  });
  if (!stored) return stored.error();
  auto jobs = replaced_job_contents(*cipher_, erasure, *stored);
  if (!jobs) return jobs.error();
  // Every statement changes only what is not erased yet (or deletes), so an id named twice, or
  // erased before, is not counted again. The old row versions keep their ciphertexts until VACUUM
  // reclaims them (their data key lives on, for everyone else's rows of the day).
  ErasureOutcome outcome;
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      outcome = ErasureOutcome{};
      const std::string notifications = id_array(erasure.notifications);
      auto redacted = redact_notifications(db, "service_id = $2 AND id = ANY($3::uuid[])",
                                           Params().integer(to_micros(erasure.now)).text(service).text(notifications));
      if (!redacted) return redacted.error();
      outcome.notifications = redacted->redacted;
      outcome.failed_pending = redacted->failed_pending;
      HERALD_TRY(db.run("DELETE FROM letter_pdfs WHERE service_id = $1 AND notification_id = ANY($2::uuid[])",
                        Params().text(service).text(notifications)));
      HERALD_TRY(erase_nhs_messages(db, erasure, text_array(erasure.nhs_messages), outcome));
      auto inbound = delete_owned(db, "inbound_sms", service, id_array(erasure.inbound_sms));
      if (!inbound) return inbound.error();
      outcome.inbound_sms = *inbound;
      auto guests = delete_owned(db, "service_guest_list", service, id_array(erasure.guest_list_entries));
      if (!guests) return guests.error();
      outcome.guest_list_entries = *guests;
      auto documents = delete_owned(db, "documents", service, id_array(erasure.documents));
      if (!documents) return documents.error();
      outcome.documents = *documents;
      auto unsubscribes = delete_owned(db, "unsubscribe_requests", service, id_array(erasure.unsubscribe_requests));
      if (!unsubscribes) return unsubscribes.error();
      outcome.unsubscribe_requests = *unsubscribes;
      for (const ReplacedJobContents& job : *jobs) {
        auto replaced = db.exec("UPDATE jobs SET contents = $1 WHERE id = $2 AND service_id = $3 AND contents = $4",
                                Params().bytes(job.envelope).text(job.id).text(service).bytes(job.old));
        if (!replaced) return replaced.error();
        outcome.jobs += replaced->affected();
      }
      return ok();
    });
  }));
  return outcome;
}

namespace {

// A row of kUnsubscribeRequestSelect.
SealedUnsubscribeRequest read_unsubscribe_request(const PgResult& rows, int i) {
  SealedUnsubscribeRequest r;
  r.id = rows.text(i, 0);
  r.service = rows.text(i, 1);
  r.notification = rows.text(i, 2);
  r.template_id = rows.text(i, 3);
  r.template_version = rows.integer(i, 4);
  r.email = rows.bytes(i, 5);
  r.created_at = rows.integer(i, 6);
  r.report = rows.optional_text(i, 7);
  r.template_name = rows.optional_text(i, 8);
  r.notification_created_at = rows.optional_integer(i, 9);
  r.job_id = rows.optional_text(i, 10);
  r.job_file_name = rows.optional_bytes(i, 11);
  return r;
}

// The requests kUnsubscribeRequestSelect finds with `where`.
Result<std::vector<SealedUnsubscribeRequest>> select_unsubscribe_requests(PgConnection& db, const std::string& where,
                                                                          const Params& params) {
  auto rows = db.exec(std::string(kUnsubscribeRequestSelect) + where + " ORDER BY r.created_at, r.id", params);
  if (!rows) return rows.error();
  std::vector<SealedUnsubscribeRequest> out;
  out.reserve(static_cast<std::size_t>(rows->rows()));
  for (int i = 0; i < rows->rows(); ++i) out.push_back(read_unsubscribe_request(*rows, i));
  return out;
}

// What a request takes from its notification (an email's, of any service, redacted or not).
struct UnsubscribeSource {
  std::string service, template_id;
  std::int64_t template_version = 1;
};

Result<std::optional<UnsubscribeSource>> unsubscribe_source(PgConnection& db, const std::string& notification) {
  auto rows = db.exec(
      "SELECT service_id, template_id, template_version FROM notifications WHERE id = $1 AND notification_type = 'email'",
      Params().text(notification));
  if (!rows) return rows.error();
  if (rows->rows() == 0) return std::optional<UnsubscribeSource>();
  return std::optional<UnsubscribeSource>(UnsubscribeSource{rows->text(0, 0), rows->text(0, 1), rows->integer(0, 2)});
}

// pg_advisory_xact_lock's keys for one notification's unsubscribe requests: this constant and the
// hash of its id (the two-key form: a lock space apart from the single-key locks above).
constexpr const char* kUnsubscribeLock = "SELECT pg_advisory_xact_lock(72358274, hashtext($1))";

}  // namespace

Result<std::vector<UnsubscribeRequest>> PgStore::find_unsubscribe_requests(ServiceId service,
                                                                           std::string_view email_normalised) {
  auto index = cipher_->blind_index(service.to_string(), email_normalised, SystemClock().now());
  if (!index) return index.error();
  auto rows = with_connection<std::vector<SealedUnsubscribeRequest>>([&](PgConnection& db) {
    // No SQL index on the HMAC (migration 2): the service's requests are scanned.
    return select_unsubscribe_requests(db, "WHERE r.service_id = $1 AND r.email_index = $2",
                                       Params().text(service.to_string()).bytes(*index));
  });
  if (!rows) return rows.error();
  return open_unsubscribe_requests(*cipher_, *rows, email_normalised);
}

Result<std::optional<bool>> PgStore::add_unsubscribe_request(const UnsubscribeRequest& request) {
  const std::string notification = request.notification.to_string();
  // The notification's service, read first: the address is sealed and indexed in its domain here,
  // before the transaction, which reads the notification again (its service, template and
  // version never change).
  auto source = with_connection<std::optional<UnsubscribeSource>>(
      [&](PgConnection& db) { return unsubscribe_source(db, notification); });
  if (!source) return source.error();
  if (!*source) return std::optional<bool>();
  auto service = ServiceId::parse((*source)->service);
  auto template_id = TemplateId::parse((*source)->template_id);
  if (!service || !template_id) return data_loss("malformed id in notifications row");
  auto sealed = seal_unsubscribe_request(*cipher_, request, *service, *template_id,
                                         static_cast<int>((*source)->template_version));
  if (!sealed) return sealed.error();
  std::optional<bool> added;
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      added.reset();
      // Two clicks at once, on two nodes, make one request: they take turns from here.
      HERALD_TRY(db.run(kUnsubscribeLock, Params().text(notification)));
      auto current = unsubscribe_source(db, notification);
      if (!current) return current.error();
      if (!*current) return ok();
      if ((*current)->service != sealed->service) return internal_error("a notification's service changed");
      // A request already waiting for the service: in no report, or in one not yet processed.
      auto waiting = db.exec(
          "SELECT 1 FROM unsubscribe_requests r LEFT JOIN unsubscribe_reports p ON p.id = r.report_id "
          "WHERE r.service_id = $1 AND r.notification_id = $2 AND (r.report_id IS NULL OR p.processed_at IS NULL) "
          "LIMIT 1",
          Params().text(sealed->service).text(notification));
      if (!waiting) return waiting.error();
      if (waiting->rows() > 0) {
        added = false;
        return ok();
      }
      HERALD_TRY(db.run(
          "INSERT INTO unsubscribe_requests (id, service_id, notification_id, template_id, template_version, email, "
          "email_index, created_at, report_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
          Params()
              .text(sealed->id)
              .text(sealed->service)
              .text(notification)
              .text((*current)->template_id)
              .integer((*current)->template_version)
              .bytes(sealed->email)
              .optional_bytes(sealed->email_index)
              .integer(sealed->created_at)));
      added = true;
      return ok();
    });
  }));
  return added;
}

Result<std::vector<UnsubscribeReport>> PgStore::unsubscribe_reports(ServiceId service) {
  auto rows = with_connection<PgResult>([&](PgConnection& db) {
    // The requests in no report (a row only when there are some) first, then the reports.
    return db.exec(
        "SELECT NULL, n, earliest, latest, latest, NULL, 1 FROM (SELECT count(*) AS n, min(created_at) AS "
        "earliest, max(created_at) AS latest FROM unsubscribe_requests WHERE service_id = $1 AND report_id IS NULL) "
        "AS pending WHERE n > 0 UNION ALL SELECT id, count, earliest, latest, created_at, processed_at, 0 "
        "FROM unsubscribe_reports WHERE service_id = $1 ORDER BY 7 DESC, 5 DESC, 1 DESC",
        Params().text(service.to_string()));
  });
  if (!rows) return rows.error();
  return read_all<UnsubscribeReport>(*rows, [&](const PgResult& r, int i) {
    return read_unsubscribe_report(
        service, UnsubscribeReportRow{r.optional_text(i, 0), r.integer(i, 1), r.integer(i, 2), r.integer(i, 3),
                                      r.integer(i, 4), r.optional_integer(i, 5)});
  });
}

Result<std::optional<UnsubscribeReport>> PgStore::create_unsubscribe_report(ServiceId service, Uuid id, Timestamp now) {
  std::optional<UnsubscribeReportRow> made;
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      made.reset();
      // Locked: a report made at the same time (on another node) takes none of them, and a
      // request added meanwhile waits for the next report.
      auto pending = db.exec(
          "SELECT id, created_at FROM unsubscribe_requests WHERE service_id = $1 AND report_id IS NULL FOR UPDATE",
          Params().text(service.to_string()));
      if (!pending) return pending.error();
      if (pending->rows() == 0) return ok();
      UnsubscribeReportRow report{id.to_string(),
                                  pending->rows(),
                                  std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::int64_t>::min(),
                                  to_micros(now),
                                  std::nullopt};
      std::vector<std::string> ids;
      for (int i = 0; i < pending->rows(); ++i) {
        ids.push_back(pending->text(i, 0));
        report.earliest = std::min(report.earliest, pending->integer(i, 1));
        report.latest = std::max(report.latest, pending->integer(i, 1));
      }
      HERALD_TRY(db.run("INSERT INTO unsubscribe_reports VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                        Params()
                            .text(*report.id)
                            .text(service.to_string())
                            .integer(report.count)
                            .integer(report.earliest)
                            .integer(report.latest)
                            .integer(report.created_at)));
      HERALD_TRY(db.run("UPDATE unsubscribe_requests SET report_id = $1 WHERE id = ANY($2::uuid[])",
                        Params().text(*report.id).text(text_array(ids))));
      made = std::move(report);
      return ok();
    });
  }));
  if (!made) return std::optional<UnsubscribeReport>();
  auto report = read_unsubscribe_report(service, *made);
  if (!report) return report.error();
  return std::optional<UnsubscribeReport>(*report);
}

Result<std::vector<UnsubscribeRequest>> PgStore::unsubscribe_requests(ServiceId service, Uuid report) {
  const bool pending = report == Uuid{};
  auto rows = with_connection<std::vector<SealedUnsubscribeRequest>>([&](PgConnection& db) {
    Params params;
    params.text(service.to_string());
    if (!pending) params.text(report.to_string());
    return select_unsubscribe_requests(
        db,
        pending ? "WHERE r.service_id = $1 AND r.report_id IS NULL" : "WHERE r.service_id = $1 AND r.report_id = $2",
        params);
  });
  if (!rows) return rows.error();
  return open_unsubscribe_requests(*cipher_, *rows);
}

Result<bool> PgStore::set_unsubscribe_report_processed(ServiceId service, Uuid report, std::optional<Timestamp> at) {
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto updated =
        db.exec("UPDATE unsubscribe_reports SET processed_at = $1 WHERE id = $2 AND service_id = $3",
                Params().optional_integer(optional_micros(at)).text(report.to_string()).text(service.to_string()),
                PgConnection::Retry::kYes);
    if (!updated) return updated.error();
    return updated->affected() == 1;
  });
}

Result<std::int64_t> PgStore::delete_old_unsubscribe_requests(Timestamp report_cutoff, Timestamp pending_cutoff) {
  std::int64_t deleted = 0;
  HERALD_TRY(with_connection<void>([&](PgConnection& db) {
    return db.transaction([&]() -> Result<void> {
      deleted = 0;
      // Each old report's requests through (service_id, report_id); those in no report by created_at.
      auto reported = db.exec(
          "DELETE FROM unsubscribe_requests WHERE (service_id, report_id) IN "
          "(SELECT service_id, id FROM unsubscribe_reports WHERE created_at < $1)",
          Params().integer(to_micros(report_cutoff)));
      if (!reported) return reported.error();
      deleted += reported->affected();
      auto pending = db.exec("DELETE FROM unsubscribe_requests WHERE report_id IS NULL AND created_at < $1",
                             Params().integer(to_micros(pending_cutoff)));
      if (!pending) return pending.error();
      deleted += pending->affected();
      return ok();
    });
  }));
  return deleted;
}

Result<QueueFigures> PgStore::queue_figures() {
  return with_connection<QueueFigures>([&](PgConnection& db) -> Result<QueueFigures> {
    QueueFigures figures;
    // One snapshot for both statements, as a backup's (read_snapshot).
    HERALD_TRY(db.transaction(
        [&]() -> Result<void> {
          auto channels = db.exec(kQueueChannelsSelect);
          if (!channels) return channels.error();
          for (int i = 0; i < channels->rows(); ++i) {
            const auto channel = parse_channel(channels->text(i, 0));
            if (!channel) continue;  // not a channel this release sends
            ChannelQueue& queue = figures.channels[static_cast<std::size_t>(*channel)];
            queue.waiting = channels->integer(i, 1);
            queue.retrying = channels->integer(i, 2);
            queue.oldest = optional_time(channels->optional_integer(i, 3));
            queue.awaiting_receipt = channels->integer(i, 4);
          }
          auto totals = db.exec(kQueueTotalsSelect);
          if (!totals) return totals.error();
          if (totals->rows() != 1) return internal_error("the queue figures' totals returned no row");
          figures.callbacks_due = totals->integer(0, 0) + totals->integer(0, 2);
          figures.oldest_callback_due =
              earliest(optional_time(totals->optional_integer(0, 1)), optional_time(totals->optional_integer(0, 3)));
          figures.callbacks_dead = totals->integer(0, 4) + totals->integer(0, 5);
          figures.nhs_callbacks_pending = totals->integer(0, 6);
          figures.oldest_nhs_callback = optional_time(totals->optional_integer(0, 7));
          figures.nhs_callbacks_dead = totals->integer(0, 8);
          figures.nhs_messages_waiting = totals->integer(0, 9);
          figures.oldest_nhs_message_step = optional_time(totals->optional_integer(0, 10));
          return ok();
        },
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return figures;
  });
}

Result<void> PgStore::set_mark(std::string_view name, Timestamp at) {
  HERALD_TRY(check_mark_name(name));
  return with_connection<void>([&](PgConnection& db) -> Result<void> {
    // Sent again after a broken connection: setting the same mark twice is setting it once.
    auto set = db.exec(
        "INSERT INTO operation_marks (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at",
        Params().text(name).integer(to_micros(at)), PgConnection::Retry::kYes);
    if (!set) return set.error();
    return ok();
  });
}

Result<std::vector<std::pair<std::string, Timestamp>>> PgStore::marks(std::string_view prefix) {
  HERALD_TRY(check_mark_text(prefix, "a marks' prefix"));
  // LIKE with the prefix's own wildcards and escape character (backslash, LIKE's default, so that
  // no string literal depends on standard_conforming_strings) escaped: it matches only itself.
  // Names ordered bytewise, as SQLite orders them, whatever the database's collation.
  std::string pattern;
  for (const char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  using Marks = std::vector<std::pair<std::string, Timestamp>>;
  return with_connection<Marks>([&](PgConnection& db) -> Result<Marks> {
    auto rows = db.exec("SELECT name, at FROM operation_marks WHERE name LIKE $1 ORDER BY name COLLATE \"C\"",
                        Params().text(pattern));
    if (!rows) return rows.error();
    Marks out;
    for (int i = 0; i < rows->rows(); ++i) out.emplace_back(rows->text(i, 0), from_micros(rows->integer(i, 1)));
    return out;
  });
}

namespace {

// source_blocks' columns in the order read_source_block reads them.
constexpr const char* kSourceBlockColumns = "source, until, strikes, reason, updated_at";

SourceBlock read_source_block(const PgResult& rows, int i) {
  return SourceBlock{rows.text(i, 0), from_micros(rows.integer(i, 1)), static_cast<int>(rows.integer(i, 2)),
                     rows.text(i, 3), from_micros(rows.integer(i, 4))};
}

// SourceBlockStore::strike_source in one statement, so that nodes striking at once queue on the
// row's lock (or on the insert of a new one) and none of their strikes is lost. As store/schema.h's
// next_strike: $1 source, $2 reason, $3 now, $4 base, $5 cap, $6 forget_before (microseconds).
// The row is fresh when its block ended before forget_before: 1 strike, counted from now. The
// block's length is base doubled (strikes - 1) times, at most cap, computed in numeric (the
// exponent bounded by 63, where any bigint base above 0 passes any bigint cap) so it never
// overflows; strikes stop short of integer's end.
constexpr const char* kStrikeSource =
    "INSERT INTO source_blocks AS b (source, until, strikes, reason, updated_at) "
    "VALUES ($1, $3::bigint + GREATEST(LEAST($4::bigint, $5::bigint), 0), 1, $2, $3::bigint) "
    "ON CONFLICT (source) DO UPDATE SET "
    "strikes = CASE WHEN b.until < $6::bigint THEN 1 ELSE LEAST(b.strikes, 2147483646) + 1 END, "
    "until = GREATEST(CASE WHEN b.until < $6::bigint THEN $3::bigint ELSE b.until END, $3::bigint + "
    "GREATEST(LEAST($5::bigint::numeric, $4::bigint::numeric * 2::numeric ^ "
    "(CASE WHEN b.until < $6::bigint THEN 0 ELSE LEAST(b.strikes, 63) END)), 0)::bigint), "
    "reason = excluded.reason, updated_at = excluded.updated_at "
    "RETURNING source, until, strikes, reason, updated_at";

}  // namespace

Result<SourceBlock> PgStore::strike_source(std::string_view source, std::string_view reason, Timestamp now,
                                           Duration base, Duration cap, Timestamp forget_before) {
  HERALD_TRY(check_block_source(source));
  HERALD_TRY(check_block_reason(reason));
  return with_connection<SourceBlock>([&](PgConnection& db) -> Result<SourceBlock> {
    // Not sent again after a broken connection: a strike that did commit would count twice.
    auto rows = db.exec(kStrikeSource, Params()
                                           .text(source)
                                           .text(reason)
                                           .integer(to_micros(now))
                                           .integer(base.count())
                                           .integer(cap.count())
                                           .integer(to_micros(forget_before)));
    if (!rows) return rows.error();
    if (rows->rows() != 1) return internal_error("a strike returned no row");
    return read_source_block(*rows, 0);
  });
}

Result<std::vector<SourceBlock>> PgStore::running_blocks(Timestamp now) {
  return with_connection<std::vector<SourceBlock>>([&](PgConnection& db) -> Result<std::vector<SourceBlock>> {
    // Sources ordered bytewise, as SQLite orders them, whatever the database's collation.
    auto rows = db.exec(std::string("SELECT ") + kSourceBlockColumns +
                            " FROM source_blocks WHERE until > $1 ORDER BY source COLLATE \"C\"",
                        Params().integer(to_micros(now)));
    if (!rows) return rows.error();
    std::vector<SourceBlock> out;
    for (int i = 0; i < rows->rows(); ++i) out.push_back(read_source_block(*rows, i));
    return out;
  });
}

Result<bool> PgStore::unblock_source(std::string_view source) {
  HERALD_TRY(check_block_source(source));
  return with_connection<bool>([&](PgConnection& db) -> Result<bool> {
    auto deleted = db.exec("DELETE FROM source_blocks WHERE source = $1", Params().text(source));
    if (!deleted) return deleted.error();
    return deleted->affected() == 1;
  });
}

Result<std::int64_t> PgStore::forget_blocks(Timestamp before) {
  return with_connection<std::int64_t>([&](PgConnection& db) -> Result<std::int64_t> {
    auto deleted = db.exec("DELETE FROM source_blocks WHERE until < $1", Params().integer(to_micros(before)));
    if (!deleted) return deleted.error();
    return deleted->affected();
  });
}

}  // namespace herald::store::postgres
