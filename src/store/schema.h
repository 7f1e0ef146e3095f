#pragma once
// The schema version every backend's migrations reach (store/sqlite/migrations.cc and
// store/postgres/migrations.cc express the same numbered migrations; both check this), and the
// list of the data tables they create.

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/utf8.h"
#include "store/records.h"
#include "store/store.h"

namespace herald::store {

inline constexpr int kSchemaVersion = 28;

// Every table the migrations create except schema_migrations, with the same names and columns
// on both backends, in foreign-key order (a table after every table it references). What a
// PostgreSQL backup holds (store/transfer/postgres_to_sqlite.cc) and what `herald
// migrate-store` copies (store/transfer/sqlite_to_postgres.cc), in this order; columns are read
// from the SQLite schema. A new table goes here: tests/store/schema_test.cc fails otherwise.
// source_blocks (intrusion prevention's blocks) is short-lived but copied too: a restored or
// migrated store keeps refusing the sources it refused, and the strikes lengthen their next blocks.
// (std::to_array: an explicit size with a name left out would pad the list with "".)
// clang-format off
inline constexpr auto kDataTables = std::to_array<std::string_view>(
    {"services",              "api_keys",              "templates",             "template_versions",
     "jobs",                  "service_contacts",      "service_callbacks",     "notifications",
     "audit_log",             "rate_buckets",          "daily_counts",          "inbound_sms",
     "service_guest_list",    "letter_pdfs",           "documents",             "nhs_clients",
     "nhs_access_tokens",     "nhs_assertion_ids",     "nhs_messages",          "nhs_message_batches",
     "demographics",          "nhs_channel_events",    "nhs_routing_plans",     "nhs_callback_targets",
     "nhs_callbacks",         "admin_users",           "admin_memberships",     "admin_enrolments",
     "admin_recovery_codes",  "admin_sessions",        "webauthn_credentials",  "unsubscribe_reports",
     "unsubscribe_requests",  "operation_marks",       "source_blocks"});
// clang-format on

// The columns of the NHS Notify tables in the order both backends read and write them.
inline constexpr const char* kNhsClientColumns =
    "id, service_id, name, api_key_hash, jwks, jwks_url, default_ods_code, allow_ods_override, "
    "allow_contact_details, onboarded, service_ban, created_at, allowed_networks";
inline constexpr const char* kNhsMessageColumns =
    "id, client_id, service_id, batch_id, reference, reference_index, billing_reference, routing_plan_id, "
    "routing_plan_version, nhs_number, ods_code, personalisation, contact_details, status, status_description, "
    "failure_reason_code, created_at, enriched_at, delivered_at, failed_at, channels, recipient, demographics_version, "
    "next_step_at";
inline constexpr const char* kRoutingPlanColumns = "id, version, client_id, name, definition, created_at";
inline constexpr const char* kNhsCallbackTargetColumns =
    "id, client_id, kind, url, statuses, supplier_statuses, api_key_header, api_key, client_certificate_file, "
    "client_key_file, pinned_key_sha256, rate_per_second, retry_window_seconds, created_at";
inline constexpr const char* kNhsCallbackColumns =
    "id, target_id, client_id, service_id, message_id, seal_id, body, state, attempts, created_at, next_attempt_at, "
    "first_attempt_at, last_error";

// The columns of the admin UI's tables in the order both backends read and write them.
inline constexpr const char* kAdminUserColumns =
    "id, email, email_index, name, platform_admin, password_hash, totp_secret, totp_last_step, failed_sign_ins, "
    "locked_until, enrolled_at, disabled_at, created_at";
inline constexpr const char* kAdminMembershipColumns = "user_id, service_id, permissions, created_at";
inline constexpr const char* kAdminEnrolmentColumns = "token_hash, user_id, created_at, expires_at";
inline constexpr const char* kAdminSessionColumns = "token_hash, user_id, created_at, last_seen_at, second_factor_at";
inline constexpr const char* kWebAuthnCredentialColumns =
    "credential_id, user_id, public_key, sign_count, name, created_at, last_used_at";

// The columns of sending-to-a-list jobs in the order both backends read and write them.
inline constexpr const char* kJobColumns =
    "id, service_id, template_id, template_version, type, file_name, contents, row_count, next_row, status, "
    "created_by, created_at, started_at, finished_at";

// Unsubscribe requests as both backends read them back (sealed_row.h, SealedUnsubscribeRequest),
// with their template's name, their notification's time and its job's sealed file name; the
// caller appends its WHERE and ORDER BY (the joins are the same SQL in both dialects).
inline constexpr const char* kUnsubscribeRequestSelect =
    "SELECT r.id, r.service_id, r.notification_id, r.template_id, r.template_version, r.email, r.created_at, "
    "r.report_id, v.name, n.created_at, n.job_id, j.file_name FROM unsubscribe_requests r "
    "LEFT JOIN template_versions v ON v.template_id = r.template_id AND v.version = r.template_version "
    "LEFT JOIN notifications n ON n.id = r.notification_id AND n.service_id = r.service_id "
    "LEFT JOIN jobs j ON j.id = n.job_id AND j.service_id = r.service_id ";

// One data table and its columns, in the schema's order (for copies between backends).
struct TableColumns {
  std::string table;
  std::vector<std::string> columns;
  // "a, b, c"
  std::string column_list() const {
    std::string out;
    for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + c;
    return out;
  }
};

// What an outcome or receipt does to its notification's delivery-status callback, as SET
// assignments, the same in both dialects. The callback becomes due at `at` when `wanted` (the
// statement's flag: an outcome services hear of) holds and the service has a delivery-status
// callback, unless the notification carries an NHS Notify message's channel (that message's
// cascade is woken instead). Made due, it is off the dead list (CallbackQueue::kill_callback); a
// dead callback is never due, so the common row, not dead, is passed over without the condition.
// Otherwise the three columns stay. `row` is how the statement names the notification
// ("notifications", or its alias); `wanted` and `at` are bound parameters or columns.
inline std::string callback_due_assignments(std::string_view wanted, std::string_view at, std::string_view row) {
  const std::string r(row);
  const std::string due = std::string(wanted) + " AND " + r + ".nhs_message_id IS NULL AND EXISTS (SELECT 1 FROM " +
                          "service_callbacks c WHERE c.service_id = " + r +
                          ".service_id AND c.kind = 'delivery_status')";
  const std::string stays_dead = r + ".callback_dead_at IS NULL OR NOT (" + due + ")";
  return "callback_due_at = CASE WHEN " + due + " THEN " + std::string(at) + " ELSE " + r + ".callback_due_at END, " +
         "callback_dead_at = CASE WHEN " + stays_dead + " THEN " + r + ".callback_dead_at END, " +
         "callback_error = CASE WHEN " + stays_dead + " THEN " + r + ".callback_error END";
}

// The table that holds a service callback of `kind` (callback_due_at, callback_attempts,
// callback_dead_at, callback_error; both tables have service_id).
inline const char* callback_table(CallbackKind kind) {
  return kind == CallbackKind::kInboundSms ? "inbound_sms" : "notifications";
}

// A service's dead callbacks of both kinds (CallbackQueue::dead_callbacks), the most recently dead
// first, ties by id: kind, id, attempts, dead_at, error (sealed_row.h, DeadCallbackRow). The same
// in both dialects but for the placeholders of the service and the limit. Each table's part reads
// its partial index of the dead (service_id, callback_dead_at).
inline std::string dead_callbacks_select(std::string_view service, std::string_view limit) {
  std::string sql = "SELECT kind, id, attempts, dead_at, error FROM (";
  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    if (kind == CallbackKind::kInboundSms) sql += " UNION ALL ";
    sql += std::string("SELECT '") + callback_kind_name(kind) +
           "' AS kind, id, callback_attempts AS attempts, callback_dead_at AS dead_at, callback_error AS error FROM " +
           callback_table(kind) + " WHERE service_id = " + std::string(service) + " AND callback_dead_at IS NOT NULL";
  }
  return sql + ") AS dead ORDER BY dead_at DESC, id LIMIT " + std::string(limit);
}

// OperationsStore::queue_figures, the same in both dialects and read in one transaction. Per
// channel: notification_type, the waiting (due_at set: queued, in flight or due again), those of
// them with attempts > 0, their earliest created_at, and those handed over awaiting a receipt
// (sending, due_at unset). Read through the partial index notifications_due (its WHERE is this
// one's), so a scrape visits the unfinished rows, never the past ones.
inline constexpr const char* kQueueChannelsSelect =
    "SELECT notification_type, count(CASE WHEN due_at IS NOT NULL THEN 1 END), "
    "count(CASE WHEN due_at IS NOT NULL AND attempts > 0 THEN 1 END), "
    "min(CASE WHEN due_at IS NOT NULL THEN created_at END), "
    "count(CASE WHEN due_at IS NULL AND status = 'sending' THEN 1 END) "
    "FROM notifications WHERE status IN ('created', 'sending') GROUP BY notification_type";
// Then one row of the rest, each part read through its partial or leading-column index (an NHS
// callback is deleted once sent, so nhs_callbacks holds only pending and dead ones): GOV.UK
// callbacks due (count, earliest callback_due_at) of notifications, then of received texts; dead
// (callback_dead_at set; kill_callback clears callback_due_at, so a dead one is never due) of
// notifications, then of received texts; NHS callbacks pending (count, earliest created_at), dead;
// NHS messages with a next step (count, earliest next_step_at).
inline constexpr const char* kQueueTotalsSelect =
    "SELECT nd.due, nd.oldest, sd.due, sd.oldest, nx.dead, sx.dead, cp.pending, cp.oldest, cx.dead, m.waiting, "
    "m.oldest FROM "
    "(SELECT count(*) AS due, min(callback_due_at) AS oldest FROM notifications WHERE callback_due_at IS NOT NULL) "
    "AS nd, "
    "(SELECT count(*) AS due, min(callback_due_at) AS oldest FROM inbound_sms WHERE callback_due_at IS NOT NULL) AS sd, "
    "(SELECT count(*) AS dead FROM notifications WHERE callback_dead_at IS NOT NULL) AS nx, "
    "(SELECT count(*) AS dead FROM inbound_sms WHERE callback_dead_at IS NOT NULL) AS sx, "
    "(SELECT count(*) AS pending, min(created_at) AS oldest FROM nhs_callbacks WHERE state = 'pending') AS cp, "
    "(SELECT count(*) AS dead FROM nhs_callbacks WHERE state = 'dead') AS cx, "
    "(SELECT count(*) AS waiting, min(next_step_at) AS oldest FROM nhs_messages WHERE next_step_at IS NOT NULL) AS m";

// The earlier of two optional times (nullopt: neither).
inline std::optional<Timestamp> earliest(std::optional<Timestamp> a, std::optional<Timestamp> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// OperationsStore's mark names, as every backend checks them: 1 to kMaxMarkName bytes of UTF-8
// text without NUL (PostgreSQL's text holds neither NUL nor malformed UTF-8: refused alike
// everywhere, rather than cut short or failing on one backend only). A prefix given to marks()
// must be UTF-8 text without NUL too, of any length, empty included.
inline constexpr std::size_t kMaxMarkName = 200;
inline Result<void> check_mark_text(std::string_view text, std::string_view what) {
  std::vector<std::uint32_t> code_points;
  if (text.find('\0') != std::string_view::npos || !decode_utf8(text, code_points)) {
    return invalid_argument(std::string(what) + " is not UTF-8 text without NUL");
  }
  return ok();
}
inline Result<void> check_mark_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMarkName) {
    return invalid_argument("a mark's name is 1 to " + std::to_string(kMaxMarkName) + " bytes, not " +
                            std::to_string(name.size()));
  }
  return check_mark_text(name, "a mark's name");
}

// ApiKeyRecord's and NhsClientRecord's allowed_networks as every backend checks them: at most
// kMaxNetworks entries, each 1 to kMaxNetworkText bytes of printable ASCII without a comma (the
// stored form's separator) or space. CIDR texts are all of that; the caller has canonicalised them.
inline constexpr std::size_t kMaxNetworks = 100;
inline constexpr std::size_t kMaxNetworkText = 64;
inline Result<void> check_networks(const std::vector<std::string>& networks) {
  if (networks.size() > kMaxNetworks) {
    return invalid_argument("at most " + std::to_string(kMaxNetworks) + " networks, not " +
                            std::to_string(networks.size()));
  }
  for (const std::string& network : networks) {
    if (network.empty() || network.size() > kMaxNetworkText) {
      return invalid_argument("a network is 1 to " + std::to_string(kMaxNetworkText) + " bytes, not " +
                              std::to_string(network.size()));
    }
    for (const char c : network) {
      if (c <= ' ' || c > '~' || c == ',') {
        return invalid_argument("a network is printable ASCII without a comma or space");
      }
    }
  }
  return ok();
}
// Their stored form (column allowed_networks): the entries joined by commas ("" = any network).
inline std::string join_networks(const std::vector<std::string>& networks) {
  std::string out;
  for (const std::string& network : networks) out += (out.empty() ? "" : ",") + network;
  return out;
}
inline std::vector<std::string> split_networks(std::string_view stored) {
  std::vector<std::string> out;
  while (!stored.empty()) {
    const std::size_t comma = std::min(stored.find(','), stored.size());
    if (comma > 0) out.emplace_back(stored.substr(0, comma));
    stored.remove_prefix(std::min(comma + 1, stored.size()));
  }
  return out;
}

// SourceBlockStore's sources and reasons, as every backend checks them. A source is an IP address
// as the listener reports it: 1 to kMaxBlockSource bytes of printable ASCII without a space. A
// reason names a detector: 1 to kMaxBlockReason bytes of UTF-8 without NUL.
inline constexpr std::size_t kMaxBlockSource = 64;
inline constexpr std::size_t kMaxBlockReason = 64;
inline Result<void> check_block_source(std::string_view source) {
  if (source.empty() || source.size() > kMaxBlockSource) {
    return invalid_argument("a blocked source is 1 to " + std::to_string(kMaxBlockSource) + " bytes, not " +
                            std::to_string(source.size()));
  }
  for (const char c : source) {
    if (c <= ' ' || c > '~') return invalid_argument("a blocked source is printable ASCII without a space");
  }
  return ok();
}
inline Result<void> check_block_reason(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxBlockReason) {
    return invalid_argument("a block's reason is 1 to " + std::to_string(kMaxBlockReason) + " bytes, not " +
                            std::to_string(reason.size()));
  }
  return check_mark_text(reason, "a block's reason");
}
// How long the block of a source's `strikes`-th strike in a row lasts: `base` doubled for each
// strike after the first, at most `cap` (never negative, never overflowing).
inline Duration block_length(int strikes, Duration base, Duration cap) {
  Duration length = std::max(std::min(base, cap), Duration::zero());
  for (int i = 1; i < strikes && length > Duration::zero() && length < cap; ++i) {
    length = length > cap / 2 ? cap : length * 2;
  }
  return length;
}
// SourceBlockStore::strike_source's new row from the source's row as it is (nullopt: none), for the
// backends that compute it under their write lock (SQLite, the in-memory store; PostgreSQL says the
// same in one statement, pg_store.cc's kStrikeSource).
inline SourceBlock next_strike(const std::optional<SourceBlock>& row, std::string_view source, std::string_view reason,
                               Timestamp now, Duration base, Duration cap, Timestamp forget_before) {
  const bool fresh = !row || row->until < forget_before;
  SourceBlock next;
  next.source = std::string(source);
  next.strikes = fresh ? 1 : std::min(row->strikes, std::numeric_limits<int>::max() - 1) + 1;
  next.until = std::max(fresh ? now : row->until, now + block_length(next.strikes, base, cap));
  next.reason = std::string(reason);
  next.updated_at = now;
  return next;
}

// A receipt's transitions as SQL, the same in both dialects: the new status
// ("CASE status WHEN 'sending' THEN 'delivered' ... END") and the statuses it applies in
// ("('sending', 'pending')"). The names are Herald's own (status_name), never input, so they are
// written into the statement rather than bound. Only for a receipt with transitions.
inline std::string receipt_status_case(const DeliveryReceipt& receipt) {
  std::string sql = "CASE status";
  for (const auto& [from, to] : receipt.transitions) {
    sql += std::string(" WHEN '") + status_name(from) + "' THEN '" + status_name(to) + "'";
  }
  return sql + " END";
}
inline std::string receipt_status_list(const DeliveryReceipt& receipt) {
  std::string sql = "(";
  for (const auto& [from, to] : receipt.transitions) {
    sql += std::string(sql.size() > 1 ? ", '" : "'") + status_name(from) + "'";
  }
  return sql + ")";
}

}  // namespace herald::store
