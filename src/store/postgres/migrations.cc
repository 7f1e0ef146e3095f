#include "store/postgres/migrations.h"

#include <array>

#include "store/schema.h"

namespace herald::store::postgres {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Keep in step with store/sqlite/migrations.cc: one entry per version there.
constexpr std::array kMigrations{
    Migration{1, "initial schema", R"sql(
CREATE TABLE services (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  email_sender_local_part text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  restricted boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL
);
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  name text NOT NULL,
  key_type text NOT NULL CHECK (key_type IN ('normal', 'team', 'test')),
  secret bytea NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX api_keys_service ON api_keys(service_id);
CREATE TABLE templates (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  current_version integer NOT NULL,
  archived boolean NOT NULL DEFAULT false
);
CREATE INDEX templates_service ON templates(service_id);
CREATE TABLE template_versions (
  template_id uuid NOT NULL REFERENCES templates(id),
  version integer NOT NULL,
  name text NOT NULL,
  template_type text NOT NULL,
  subject text NOT NULL,
  content text NOT NULL,
  created_at bigint NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (template_id, version)
);
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL,
  api_key_id uuid NOT NULL,
  key_type text NOT NULL,
  template_id uuid NOT NULL,
  template_version integer NOT NULL,
  notification_type text NOT NULL,
  status text NOT NULL,
  reference text,
  recipient bytea NOT NULL,
  personalisation bytea NOT NULL,
  subject bytea NOT NULL,
  body bytea NOT NULL,
  one_click_unsubscribe_url bytea,
  created_at bigint NOT NULL,
  sent_at bigint,
  updated_at bigint,
  attempts integer NOT NULL DEFAULT 0,
  due_at bigint
);
CREATE INDEX notifications_due ON notifications(due_at) WHERE status IN ('created', 'sending');
CREATE INDEX notifications_service_created ON notifications(service_id, created_at);
)sql"},
    // As SQLite's version 2 (and, as there, deliberately no index on the random HMAC).
    Migration{2, "retention and blind index", R"sql(
ALTER TABLE services ADD COLUMN retention_days integer NOT NULL DEFAULT 7;
ALTER TABLE notifications ADD COLUMN recipient_index bytea;
ALTER TABLE notifications ADD COLUMN redacted_at bigint;
)sql"},
    Migration{3, "audit log", R"sql(
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  objects text NOT NULL,
  outcome text NOT NULL,
  source text NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
)sql"},
    Migration{4, "notification listing order", R"sql(
DROP INDEX notifications_service_created;
CREATE INDEX notifications_service_created_id ON notifications(service_id, created_at, id);
)sql"},
    Migration{5, "service settings and text messages", R"sql(
ALTER TABLE services ADD COLUMN permissions text NOT NULL DEFAULT 'email,sms,letter';
ALTER TABLE services ADD COLUMN prefix_sms boolean NOT NULL DEFAULT true;
CREATE TABLE service_contacts (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  kind text NOT NULL CHECK (kind IN ('email_reply_to', 'sms_sender', 'letter_contact')),
  value text NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL
);
CREATE INDEX service_contacts_service ON service_contacts(service_id, kind);
ALTER TABLE notifications ADD COLUMN sender text;
ALTER TABLE notifications ADD COLUMN billable_units integer NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN rate_multiplier integer NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN sent_by text;
)sql"},
    Migration{6, "service callbacks", R"sql(
CREATE TABLE service_callbacks (
  service_id uuid NOT NULL REFERENCES services(id),
  kind text NOT NULL CHECK (kind IN ('delivery_status', 'inbound_sms')),
  url text NOT NULL,
  bearer_token bytea NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (service_id, kind)
);
ALTER TABLE notifications ADD COLUMN callback_due_at bigint;
ALTER TABLE notifications ADD COLUMN callback_attempts integer NOT NULL DEFAULT 0;
CREATE INDEX notifications_callback_due ON notifications(callback_due_at) WHERE callback_due_at IS NOT NULL;
)sql"},
    Migration{7, "limits", R"sql(
ALTER TABLE services ADD COLUMN rate_limit integer NOT NULL DEFAULT 3000;
ALTER TABLE services ADD COLUMN email_limit integer NOT NULL DEFAULT 250000;
ALTER TABLE services ADD COLUMN sms_limit integer NOT NULL DEFAULT 250000;
ALTER TABLE services ADD COLUMN letter_limit integer NOT NULL DEFAULT 20000;
ALTER TABLE services ADD COLUMN international_sms_limit integer NOT NULL DEFAULT 100;
CREATE TABLE rate_buckets (
  key text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE daily_counts (
  key text PRIMARY KEY,
  used bigint NOT NULL
);
)sql"},
    Migration{8, "received texts", R"sql(
CREATE TABLE inbound_sms (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  notify_number text NOT NULL,
  user_number bytea NOT NULL,
  content bytea NOT NULL,
  provider text NOT NULL,
  provider_reference text,
  received_at bigint NOT NULL,
  created_at bigint NOT NULL,
  callback_due_at bigint,
  callback_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX inbound_sms_service_created ON inbound_sms(service_id, created_at, id);
CREATE INDEX inbound_sms_callback_due ON inbound_sms(callback_due_at) WHERE callback_due_at IS NOT NULL;
)sql"},
    Migration{9, "guest list", R"sql(
CREATE TABLE service_guest_list (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  recipient_type text NOT NULL CHECK (recipient_type IN ('email', 'mobile')),
  recipient bytea NOT NULL,
  recipient_index bytea NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX service_guest_list_index ON service_guest_list(service_id, recipient_index);
)sql"},
    Migration{10, "letters", R"sql(
ALTER TABLE notifications ADD COLUMN postage text;
CREATE TABLE letter_pdfs (
  notification_id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  created_at bigint NOT NULL,
  pdf bytea NOT NULL
);
CREATE INDEX letter_pdfs_service_created ON letter_pdfs(service_id, created_at);
)sql"},
    Migration{11, "documents", R"sql(
CREATE TABLE documents (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  content bytea NOT NULL,
  filename bytea,
  mime_type text NOT NULL,
  key_hash bytea NOT NULL,
  confirm_email_hash bytea,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  failed_confirmations integer NOT NULL DEFAULT 0
);
CREATE INDEX documents_expires ON documents(expires_at);
)sql"},
    Migration{12, "template_postage", R"sql(
ALTER TABLE template_versions ADD COLUMN postage text;
ALTER TABLE template_versions ADD COLUMN letter_contact_id uuid;
UPDATE template_versions SET postage = 'second' WHERE template_type = 'letter';
)sql"},
    Migration{13, "sealed reference", R"sql(
ALTER TABLE notifications ADD COLUMN reference_sealed bytea;
ALTER TABLE notifications ADD COLUMN reference_index bytea;
)sql"},
    Migration{14, "sealed callback url", R"sql(
ALTER TABLE service_callbacks ADD COLUMN url_sealed bytea;
)sql"},
    Migration{15, "nhs clients", R"sql(
CREATE TABLE nhs_clients (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  name text NOT NULL,
  api_key_hash text NOT NULL UNIQUE,
  jwks text NOT NULL,
  jwks_url text NOT NULL,
  default_ods_code text,
  allow_ods_override integer NOT NULL,
  allow_contact_details integer NOT NULL,
  onboarded integer NOT NULL,
  service_ban integer NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE nhs_access_tokens (
  token_hash text PRIMARY KEY,
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX nhs_access_tokens_expires ON nhs_access_tokens(expires_at);
CREATE TABLE nhs_assertion_ids (
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  jti_hash text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (client_id, jti_hash)
);
CREATE INDEX nhs_assertion_ids_expires ON nhs_assertion_ids(expires_at);
)sql"},
    Migration{16, "nhs messages", R"sql(
CREATE TABLE nhs_messages (
  id text PRIMARY KEY,
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  service_id uuid NOT NULL REFERENCES services(id),
  batch_id text,
  reference bytea NOT NULL,
  reference_index bytea,
  billing_reference bytea,
  routing_plan_id text NOT NULL,
  routing_plan_version text NOT NULL,
  nhs_number bytea,
  ods_code text,
  personalisation bytea NOT NULL,
  contact_details bytea,
  status text NOT NULL,
  status_description text,
  failure_reason_code text,
  created_at bigint NOT NULL,
  enriched_at bigint,
  delivered_at bigint,
  failed_at bigint
);
CREATE UNIQUE INDEX nhs_messages_reference ON nhs_messages(client_id, reference_index) WHERE reference_index IS NOT NULL;
CREATE INDEX nhs_messages_service_created ON nhs_messages(service_id, created_at);
)sql"},
    Migration{17, "nhs message batches", R"sql(
CREATE TABLE nhs_message_batches (
  id text PRIMARY KEY,
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  service_id uuid NOT NULL REFERENCES services(id),
  reference bytea NOT NULL,
  reference_index bytea,
  routing_plan_id text NOT NULL,
  routing_plan_version text NOT NULL,
  created_at bigint NOT NULL
);
CREATE UNIQUE INDEX nhs_message_batches_reference ON nhs_message_batches(client_id, reference_index)
  WHERE reference_index IS NOT NULL;
CREATE INDEX nhs_messages_batch ON nhs_messages(batch_id) WHERE batch_id IS NOT NULL;
)sql"},
    // NHS Notify's cascade (issue 18): a message's channels, its enriched recipient (sealed),
    // when it is next due and who holds it; notifications that carry a message's channel point
    // back to it; demographics records for NHS-number lookups.
    Migration{18, "nhs cascade", R"sql(
ALTER TABLE nhs_messages ADD COLUMN channels text NOT NULL DEFAULT '[]';
ALTER TABLE nhs_messages ADD COLUMN recipient bytea;
ALTER TABLE nhs_messages ADD COLUMN demographics_version text;
ALTER TABLE nhs_messages ADD COLUMN next_step_at bigint;
ALTER TABLE nhs_messages ADD COLUMN lease_until bigint;
ALTER TABLE nhs_messages ADD COLUMN claim bigint NOT NULL DEFAULT 0;
ALTER TABLE nhs_messages ADD COLUMN woken bigint NOT NULL DEFAULT 0;
UPDATE nhs_messages SET next_step_at = created_at WHERE status = 'created';
CREATE INDEX nhs_messages_due ON nhs_messages(next_step_at) WHERE next_step_at IS NOT NULL;
ALTER TABLE notifications ADD COLUMN nhs_message_id text;
CREATE TABLE demographics (
  nhs_number_index bytea PRIMARY KEY,
  record bytea NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE nhs_channel_events (
  id bigserial PRIMARY KEY,
  message_id text NOT NULL,
  channel text NOT NULL,
  supplier_status text NOT NULL,
  at bigint NOT NULL
);
CREATE INDEX nhs_channel_events_message ON nhs_channel_events(message_id, id);
)sql"},
    Migration{19, "nhs routing plans", R"sql(
CREATE TABLE nhs_routing_plans (
  id uuid NOT NULL,
  version integer NOT NULL,
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  name text NOT NULL,
  definition text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (id, version)
);
CREATE INDEX nhs_routing_plans_client ON nhs_routing_plans(client_id, id);
)sql"},
    Migration{20, "nhs callbacks", R"sql(
CREATE TABLE nhs_callback_targets (
  id uuid PRIMARY KEY,
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  kind text NOT NULL CHECK (kind IN ('message', 'channel')),
  url text NOT NULL,
  statuses text NOT NULL,
  supplier_statuses text NOT NULL,
  api_key_header text NOT NULL,
  api_key bytea NOT NULL,
  client_certificate_file text,
  client_key_file text,
  pinned_key_sha256 text,
  rate_per_second integer NOT NULL,
  retry_window_seconds integer NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX nhs_callback_targets_client ON nhs_callback_targets(client_id, created_at);
CREATE TABLE nhs_callbacks (
  id bigserial PRIMARY KEY,
  target_id uuid NOT NULL REFERENCES nhs_callback_targets(id),
  client_id uuid NOT NULL REFERENCES nhs_clients(id),
  service_id uuid NOT NULL REFERENCES services(id),
  message_id text NOT NULL,
  seal_id text NOT NULL,
  body bytea NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'dead')),
  attempts integer NOT NULL,
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  first_attempt_at bigint,
  last_error text,
  lease_until bigint
);
CREATE INDEX nhs_callbacks_due ON nhs_callbacks(state, next_attempt_at);
CREATE INDEX nhs_callbacks_client ON nhs_callbacks(client_id, state);
CREATE INDEX nhs_callbacks_target ON nhs_callbacks(target_id);
CREATE INDEX nhs_callbacks_service_created ON nhs_callbacks(service_id, created_at);
)sql"},
    Migration{21, "admin users", R"sql(
CREATE TABLE admin_users (
  id uuid PRIMARY KEY,
  email bytea NOT NULL,
  email_index bytea NOT NULL UNIQUE,
  name bytea NOT NULL,
  platform_admin integer NOT NULL,
  password_hash text NOT NULL,
  totp_secret bytea,
  totp_last_step bigint NOT NULL,
  failed_sign_ins integer NOT NULL,
  locked_until bigint,
  enrolled_at bigint,
  disabled_at bigint,
  created_at bigint NOT NULL
);
CREATE TABLE admin_memberships (
  user_id uuid NOT NULL REFERENCES admin_users(id),
  service_id uuid NOT NULL REFERENCES services(id),
  permissions text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (user_id, service_id)
);
CREATE INDEX admin_memberships_service ON admin_memberships(service_id);
CREATE TABLE admin_enrolments (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES admin_users(id),
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX admin_enrolments_user ON admin_enrolments(user_id);
CREATE INDEX admin_enrolments_expires ON admin_enrolments(expires_at);
CREATE TABLE admin_recovery_codes (
  user_id uuid NOT NULL REFERENCES admin_users(id),
  code_hash text NOT NULL,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE admin_sessions (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES admin_users(id),
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  second_factor_at bigint
);
CREATE INDEX admin_sessions_user ON admin_sessions(user_id);
CREATE INDEX admin_sessions_last_seen ON admin_sessions(last_seen_at);
CREATE INDEX admin_sessions_created ON admin_sessions(created_at);
CREATE TABLE webauthn_credentials (
  credential_id bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES admin_users(id),
  public_key bytea NOT NULL,
  sign_count bigint NOT NULL,
  name text NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id, created_at);
)sql"},
    // As SQLite's version 22. The job's id is text, as the notifications' job_id that points to it.
    Migration{22, "jobs", R"sql(
CREATE TABLE jobs (
  id text PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  template_id uuid NOT NULL,
  template_version integer NOT NULL,
  type text NOT NULL,
  file_name bytea,
  contents bytea,
  row_count integer NOT NULL,
  next_row integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'in-progress', 'finished', 'cancelled')),
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint
);
CREATE INDEX jobs_service_created ON jobs(service_id, created_at, id);
CREATE INDEX jobs_status ON jobs(status, created_at);
ALTER TABLE notifications ADD COLUMN job_id text;
ALTER TABLE notifications ADD COLUMN job_row integer;
CREATE INDEX notifications_job ON notifications(job_id) WHERE job_id IS NOT NULL;
)sql"},
    // As SQLite's version 23: blind indexes for data-subject requests (no SQL index on them, as
    // decided in migration 2), existing NHS numbers marked for indexing at open (''), erasure.
    Migration{23, "data subject requests", R"sql(
ALTER TABLE nhs_messages ADD COLUMN nhs_number_index bytea;
ALTER TABLE nhs_messages ADD COLUMN erased_at bigint;
UPDATE nhs_messages SET nhs_number_index = '' WHERE nhs_number IS NOT NULL;
ALTER TABLE inbound_sms ADD COLUMN user_number_index bytea;
CREATE INDEX notifications_nhs_message ON notifications(nhs_message_id) WHERE nhs_message_id IS NOT NULL;
)sql"},
    // As SQLite's version 24: hosted unsubscribe (a template version's flag, the requests with their
    // sealed address and its blind index, no SQL index on it, and the reports they are batched in).
    Migration{24, "unsubscribe requests", R"sql(
ALTER TABLE template_versions ADD COLUMN has_unsubscribe_link boolean NOT NULL DEFAULT false;
CREATE TABLE unsubscribe_reports (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  count bigint NOT NULL,
  earliest bigint NOT NULL,
  latest bigint NOT NULL,
  created_at bigint NOT NULL,
  processed_at bigint
);
CREATE INDEX unsubscribe_reports_service ON unsubscribe_reports(service_id, created_at);
CREATE TABLE unsubscribe_requests (
  id uuid PRIMARY KEY,
  service_id uuid NOT NULL REFERENCES services(id),
  notification_id uuid NOT NULL,
  template_id uuid NOT NULL,
  template_version integer NOT NULL,
  email bytea NOT NULL,
  email_index bytea,
  created_at bigint NOT NULL,
  report_id uuid REFERENCES unsubscribe_reports(id)
);
CREATE INDEX unsubscribe_requests_report ON unsubscribe_requests(service_id, report_id);
CREATE INDEX unsubscribe_requests_created ON unsubscribe_requests(created_at);
)sql"},
    // As SQLite's version 25: a service's go-live request (no foreign key to admin_users), and
    // service callbacks given up on, with their partial indexes for a service's dead list.
    Migration{25, "go-live requests and dead callbacks", R"sql(
ALTER TABLE services ADD COLUMN go_live_requested_at bigint;
ALTER TABLE services ADD COLUMN go_live_requested_by uuid;
ALTER TABLE notifications ADD COLUMN callback_dead_at bigint;
ALTER TABLE notifications ADD COLUMN callback_error text;
CREATE INDEX notifications_callback_dead ON notifications(service_id, callback_dead_at)
  WHERE callback_dead_at IS NOT NULL;
ALTER TABLE inbound_sms ADD COLUMN callback_dead_at bigint;
ALTER TABLE inbound_sms ADD COLUMN callback_error text;
CREATE INDEX inbound_sms_callback_dead ON inbound_sms(service_id, callback_dead_at) WHERE callback_dead_at IS NOT NULL;
)sql"},
    // As SQLite's version 26: operations' named marks (no personal data).
    Migration{26, "operation marks", R"sql(
CREATE TABLE operation_marks (
  name text PRIMARY KEY,
  at bigint NOT NULL
);
)sql"},
    // As SQLite's version 27: intrusion prevention's blocked sources, read by until or by source.
    Migration{27, "source blocks", R"sql(
CREATE TABLE source_blocks (
  source text PRIMARY KEY,
  until bigint NOT NULL,
  strikes integer NOT NULL,
  reason text NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX source_blocks_until ON source_blocks(until);
)sql"},
    // As SQLite's version 28: the networks an API key or NHS Notify client may be used from.
    Migration{28, "allowed networks", R"sql(
ALTER TABLE api_keys ADD COLUMN allowed_networks text NOT NULL DEFAULT '';
ALTER TABLE nhs_clients ADD COLUMN allowed_networks text NOT NULL DEFAULT '';
)sql"},
};

static_assert(kMigrations.back().version == kSchemaVersion, "add the PostgreSQL form of every SQLite migration");

// pg_advisory_lock key for "herald migrations" (any fixed 64-bit number).
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7235827441001)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7235827441001)";

}  // namespace

int latest_schema_version() { return kMigrations.back().version; }

Result<void> check_schema_current(PgConnection& connection) {
  auto current_row = connection.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current_row) return current_row.error();
  const int current = static_cast<int>(current_row->integer(0, 0));
  const int latest = latest_schema_version();
  if (current == latest) return ok();
  const std::string versions =
      "the database schema is at " + std::to_string(current) + ", this binary needs " + std::to_string(latest);
  if (current > latest) return failed_precondition(versions + ": upgrade this node's Herald");
  return failed_precondition(versions +
                             ": this node's role may not migrate it; run `herald store grants --apply` "
                             "(or any herald command) with the owner's store.url first");
}

Result<int> apply_migrations(PgConnection& connection, std::int64_t now_micros) {
  HERALD_TRY(connection.exec(kMigrationLock));
  auto applied = [&]() -> Result<int> {
    HERALD_TRY(connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at bigint NOT NULL)"));
    auto current_row = connection.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current_row) return current_row.error();
    const int current = static_cast<int>(current_row->integer(0, 0));
    if (current > latest_schema_version()) {
      return internal_error("database schema version " + std::to_string(current) +
                            " is newer than this binary supports");
    }
    int count = 0;
    for (const Migration& migration : kMigrations) {
      if (migration.version <= current) continue;
      HERALD_TRY(connection.transaction([&]() -> Result<void> {
        HERALD_TRY(connection.execute(migration.sql));
        return connection.run("INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                               Params().integer(migration.version).text(migration.name).integer(now_micros));
      }));
      ++count;
    }
    return count;
  }();
  (void)connection.exec(kMigrationUnlock);
  return applied;
}

}  // namespace herald::store::postgres
