#include "store/sqlite/migrations.h"

#include <array>

#include "store/schema.h"

namespace herald::store::sqlite {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Personal columns (BLOB) hold ciphertext envelopes (docs/formats/ciphertext.md).
constexpr std::array kMigrations{
    Migration{1, "initial schema", R"sql(
CREATE TABLE services (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  email_sender_local_part TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  restricted INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  name TEXT NOT NULL,
  key_type TEXT NOT NULL CHECK (key_type IN ('normal', 'team', 'test')),
  secret BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX api_keys_service ON api_keys(service_id);
CREATE TABLE templates (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  current_version INTEGER NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX templates_service ON templates(service_id);
CREATE TABLE template_versions (
  template_id TEXT NOT NULL REFERENCES templates(id),
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  template_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (template_id, version)
) STRICT;
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  api_key_id TEXT NOT NULL,
  key_type TEXT NOT NULL,
  template_id TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  notification_type TEXT NOT NULL,
  status TEXT NOT NULL,
  reference TEXT,
  recipient BLOB NOT NULL,
  personalisation BLOB NOT NULL,
  subject BLOB NOT NULL,
  body BLOB NOT NULL,
  one_click_unsubscribe_url BLOB,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  updated_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER
) STRICT;
CREATE INDEX notifications_due ON notifications(due_at) WHERE status IN ('created', 'sending');
CREATE INDEX notifications_service_created ON notifications(service_id, created_at);
)sql"},
    // Retention (issue 5): per-service period; redacted rows keep ids, statuses and times for
    // reporting, their personal fields emptied. Blind index: HMAC of the normalised recipient.
    // Deliberately no SQL index on it: HMACs are random, so an index would dirty a random page
    // per insert (with it, and a slower data-key lookup, a before/after run measured 92% of the
    // previous accept rate; without, 99%), while lookups by recipient are rare
    // (data-subject requests) and scan one service's retained rows via (service_id, created_at).
    Migration{2, "retention and blind index", R"sql(
ALTER TABLE services ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE notifications ADD COLUMN recipient_index BLOB;
ALTER TABLE notifications ADD COLUMN redacted_at INTEGER;
)sql"},
    // The audit chain (crypto/audit_chain.h): append-only by Herald; `objects` is a JSON array of
    // [name, value] pairs, in order, so the entry re-encodes exactly for verification.
    Migration{3, "audit log", R"sql(
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  objects TEXT NOT NULL,
  outcome TEXT NOT NULL,
  source TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log(at);
)sql"},
    // GET /v2/notifications pages newest first by (created_at, id): ids break ties between
    // notifications created in the same microsecond, so paging never skips one. The wider index
    // replaces the old one (still a prefix for retention's scans), so inserts keep one index.
    Migration{4, "notification listing order", R"sql(
DROP INDEX notifications_service_created;
CREATE INDEX notifications_service_created_id ON notifications(service_id, created_at, id);
)sql"},
    // Text messages (issue 7): a service's channel permissions and SMS prefix setting; its
    // senders, reply-to addresses and letter contact blocks; what a notification was sent as,
    // by whom, and what it bills.
    Migration{5, "service settings and text messages", R"sql(
ALTER TABLE services ADD COLUMN permissions TEXT NOT NULL DEFAULT 'email,sms,letter';
ALTER TABLE services ADD COLUMN prefix_sms INTEGER NOT NULL DEFAULT 1;
CREATE TABLE service_contacts (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  kind TEXT NOT NULL CHECK (kind IN ('email_reply_to', 'sms_sender', 'letter_contact')),
  value TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX service_contacts_service ON service_contacts(service_id, kind);
ALTER TABLE notifications ADD COLUMN sender TEXT;
ALTER TABLE notifications ADD COLUMN billable_units INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN rate_multiplier INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN sent_by TEXT;
)sql"},
    // Callbacks to services (issue 7): where and with which bearer token (sealed, like API key
    // secrets); a notification whose status the service must be told of is due for a callback.
    // The payload is built from the notification when sent, so no personal data is copied.
    Migration{6, "service callbacks", R"sql(
CREATE TABLE service_callbacks (
  service_id TEXT NOT NULL REFERENCES services(id),
  kind TEXT NOT NULL CHECK (kind IN ('delivery_status', 'inbound_sms')),
  url TEXT NOT NULL,
  bearer_token BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (service_id, kind)
) STRICT;
ALTER TABLE notifications ADD COLUMN callback_due_at INTEGER;
ALTER TABLE notifications ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_callback_due ON notifications(callback_due_at) WHERE callback_due_at IS NOT NULL;
)sql"},
    // Limits (issue 7): per-service settings, and the shared state every node draws from: token
    // buckets for the per-minute rate limit and per-day counters for the daily limits.
    Migration{7, "limits", R"sql(
ALTER TABLE services ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 3000;
ALTER TABLE services ADD COLUMN email_limit INTEGER NOT NULL DEFAULT 250000;
ALTER TABLE services ADD COLUMN sms_limit INTEGER NOT NULL DEFAULT 250000;
ALTER TABLE services ADD COLUMN letter_limit INTEGER NOT NULL DEFAULT 20000;
ALTER TABLE services ADD COLUMN international_sms_limit INTEGER NOT NULL DEFAULT 100;
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE daily_counts (
  key TEXT PRIMARY KEY,
  used INTEGER NOT NULL
) STRICT;
)sql"},
    // Received texts (issue 7): the sender's number and the message are personal, so sealed like a
    // notification's fields; due_at for the service's inbound callback as for delivery statuses.
    Migration{8, "received texts", R"sql(
CREATE TABLE inbound_sms (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  notify_number TEXT NOT NULL,
  user_number BLOB NOT NULL,
  content BLOB NOT NULL,
  provider TEXT NOT NULL,
  provider_reference TEXT,
  received_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  callback_due_at INTEGER,
  callback_attempts INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX inbound_sms_service_created ON inbound_sms(service_id, created_at, id);
CREATE INDEX inbound_sms_callback_due ON inbound_sms(callback_due_at) WHERE callback_due_at IS NOT NULL;
)sql"},
    // Team members and the guest list (issue 7): who team keys and trial services may send to.
    // Contact details are personal: sealed, and matched through the blind index only.
    Migration{9, "guest list", R"sql(
CREATE TABLE service_guest_list (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  recipient_type TEXT NOT NULL CHECK (recipient_type IN ('email', 'mobile')),
  recipient BLOB NOT NULL,
  recipient_index BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX service_guest_list_index ON service_guest_list(service_id, recipient_index);
)sql"},
    // Letters (issue 7): a letter's postage, and the PDF that is printed (rendered from the template
    // or sent precompiled). The PDF shows the address: sealed under the notification's data key,
    // and deleted with the notification's personal fields at retention.
    Migration{10, "letters", R"sql(
ALTER TABLE notifications ADD COLUMN postage TEXT;
CREATE TABLE letter_pdfs (
  notification_id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  created_at INTEGER NOT NULL,
  pdf BLOB NOT NULL
) STRICT;
CREATE INDEX letter_pdfs_service_created ON letter_pdfs(service_id, created_at);
)sql"},
    // Files sent by email: content and filename sealed under the data key of the
    // service and the expiry day; the link's key and the confirming address only as keyed hashes.
    Migration{11, "documents", R"sql(
CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  content BLOB NOT NULL,
  filename BLOB,
  mime_type TEXT NOT NULL,
  key_hash BLOB NOT NULL,
  confirm_email_hash BLOB,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  failed_confirmations INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX documents_expires ON documents(expires_at);
)sql"},
    // Letter templates' own postage and letter contact block (GOV.UK keeps both per template
    // version). Existing letter templates were sent second class.
    Migration{12, "template_postage", R"sql(
ALTER TABLE template_versions ADD COLUMN postage TEXT;
ALTER TABLE template_versions ADD COLUMN letter_contact_id TEXT;
UPDATE template_versions SET postage = 'second' WHERE template_type = 'letter';
)sql"},
    // Services put patient identifiers in `reference`: sealed like the other personal fields,
    // and filtered through a blind index. The old plain-text column stays for rows written
    // before; the store seals those when it opens (seal_legacy_references) and empties it.
    Migration{13, "sealed reference", R"sql(
ALTER TABLE notifications ADD COLUMN reference_sealed BLOB;
ALTER TABLE notifications ADD COLUMN reference_index BLOB;
)sql"},
    // Callback URLs sit beside their bearer tokens and can carry secrets of their own (a token in
    // the query, an internal host name): sealed in url_sealed; the old column is left empty.
    // Rows written before are sealed when the store opens (seal_legacy_callback_urls).
    Migration{14, "sealed callback url", R"sql(
ALTER TABLE service_callbacks ADD COLUMN url_sealed BLOB;
)sql"},
    // NHS Notify's API clients (issue 18): no personal data. The API key only as its hash; the
    // access tokens likewise; assertion ids (jti) remembered until their assertion expires.
    Migration{15, "nhs clients", R"sql(
CREATE TABLE nhs_clients (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  name TEXT NOT NULL,
  api_key_hash TEXT NOT NULL UNIQUE,
  jwks TEXT NOT NULL,
  jwks_url TEXT NOT NULL,
  default_ods_code TEXT,
  allow_ods_override INTEGER NOT NULL,
  allow_contact_details INTEGER NOT NULL,
  onboarded INTEGER NOT NULL,
  service_ban INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE nhs_access_tokens (
  token_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX nhs_access_tokens_expires ON nhs_access_tokens(expires_at);
CREATE TABLE nhs_assertion_ids (
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  jti_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (client_id, jti_hash)
) STRICT;
CREATE INDEX nhs_assertion_ids_expires ON nhs_assertion_ids(expires_at);
)sql"},
    // NHS Notify messages (issue 18): one row per message; personal fields sealed; the reference's
    // blind index is unique per client among single messages (a batch's are not).
    Migration{16, "nhs messages", R"sql(
CREATE TABLE nhs_messages (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  batch_id TEXT,
  reference BLOB NOT NULL,
  reference_index BLOB,
  billing_reference BLOB,
  routing_plan_id TEXT NOT NULL,
  routing_plan_version TEXT NOT NULL,
  nhs_number BLOB,
  ods_code TEXT,
  personalisation BLOB NOT NULL,
  contact_details BLOB,
  status TEXT NOT NULL,
  status_description TEXT,
  failure_reason_code TEXT,
  created_at INTEGER NOT NULL,
  enriched_at INTEGER,
  delivered_at INTEGER,
  failed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX nhs_messages_reference ON nhs_messages(client_id, reference_index) WHERE reference_index IS NOT NULL;
CREATE INDEX nhs_messages_service_created ON nhs_messages(service_id, created_at);
)sql"},
    Migration{17, "nhs message batches", R"sql(
CREATE TABLE nhs_message_batches (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  reference BLOB NOT NULL,
  reference_index BLOB,
  routing_plan_id TEXT NOT NULL,
  routing_plan_version TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX nhs_message_batches_reference ON nhs_message_batches(client_id, reference_index)
  WHERE reference_index IS NOT NULL;
CREATE INDEX nhs_messages_batch ON nhs_messages(batch_id) WHERE batch_id IS NOT NULL;
)sql"},
    // NHS Notify's cascade (issue 18): a message's channels, its enriched recipient (sealed),
    // when it is next due and who holds it; notifications that carry a message's channel point
    // back to it; demographics records for NHS-number lookups.
    Migration{18, "nhs cascade", R"sql(
ALTER TABLE nhs_messages ADD COLUMN channels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE nhs_messages ADD COLUMN recipient BLOB;
ALTER TABLE nhs_messages ADD COLUMN demographics_version TEXT;
ALTER TABLE nhs_messages ADD COLUMN next_step_at INTEGER;
ALTER TABLE nhs_messages ADD COLUMN lease_until INTEGER;
ALTER TABLE nhs_messages ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nhs_messages ADD COLUMN woken INTEGER NOT NULL DEFAULT 0;
UPDATE nhs_messages SET next_step_at = created_at WHERE status = 'created';
CREATE INDEX nhs_messages_due ON nhs_messages(next_step_at) WHERE next_step_at IS NOT NULL;
ALTER TABLE notifications ADD COLUMN nhs_message_id TEXT;
CREATE TABLE demographics (
  nhs_number_index BLOB PRIMARY KEY,
  record BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE nhs_channel_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  supplier_status TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX nhs_channel_events_message ON nhs_channel_events(message_id, id);
)sql"},
    // NHS Notify routing plans of clients' own (issue 18): one row per version, never changed once
    // written (the primary key refuses a version saved twice); the latest version is the plan.
    // No personal data: a plan names channels and templates, not people.
    Migration{19, "nhs routing plans", R"sql(
CREATE TABLE nhs_routing_plans (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (id, version)
) STRICT;
CREATE INDEX nhs_routing_plans_client ON nhs_routing_plans(client_id, id);
)sql"},
    // NHS Notify callbacks (issue 18): clients' receivers, each with its API key (a secret: sealed
    // under the "secrets" key), and the outbox of callbacks to send, each added with the cascade
    // step that made it. A callback's body is personal (it names the message's reference): sealed
    // under the service's data key for its day, bound to its seal_id (a random id chosen before
    // the row exists, as the row's own id is only assigned by the insert).
    Migration{20, "nhs callbacks", R"sql(
CREATE TABLE nhs_callback_targets (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  kind TEXT NOT NULL CHECK (kind IN ('message', 'channel')),
  url TEXT NOT NULL,
  statuses TEXT NOT NULL,
  supplier_statuses TEXT NOT NULL,
  api_key_header TEXT NOT NULL,
  api_key BLOB NOT NULL,
  client_certificate_file TEXT,
  client_key_file TEXT,
  pinned_key_sha256 TEXT,
  rate_per_second INTEGER NOT NULL,
  retry_window_seconds INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX nhs_callback_targets_client ON nhs_callback_targets(client_id, created_at);
CREATE TABLE nhs_callbacks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target_id TEXT NOT NULL REFERENCES nhs_callback_targets(id),
  client_id TEXT NOT NULL REFERENCES nhs_clients(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  message_id TEXT NOT NULL,
  seal_id TEXT NOT NULL,
  body BLOB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  first_attempt_at INTEGER,
  last_error TEXT,
  lease_until INTEGER
) STRICT;
CREATE INDEX nhs_callbacks_due ON nhs_callbacks(state, next_attempt_at);
CREATE INDEX nhs_callbacks_client ON nhs_callbacks(client_id, state);
CREATE INDEX nhs_callbacks_target ON nhs_callbacks(target_id);
CREATE INDEX nhs_callbacks_service_created ON nhs_callbacks(service_id, created_at);
)sql"},
    // The admin web UI's users (issue 19). Email and name are personal and the TOTP secret is a
    // credential: sealed under the "secrets" key; the email is found through its blind index
    // (unique: one user per address). Passwords, enrolment links, sessions and recovery codes are
    // stored only as hashes. Every "use" (a TOTP step, a recovery code, an enrolment link, a
    // WebAuthn signature counter) is one conditional UPDATE or DELETE, so it succeeds once.
    Migration{21, "admin users", R"sql(
CREATE TABLE admin_users (
  id TEXT PRIMARY KEY,
  email BLOB NOT NULL,
  email_index BLOB NOT NULL UNIQUE,
  name BLOB NOT NULL,
  platform_admin INTEGER NOT NULL,
  password_hash TEXT NOT NULL,
  totp_secret BLOB,
  totp_last_step INTEGER NOT NULL,
  failed_sign_ins INTEGER NOT NULL,
  locked_until INTEGER,
  enrolled_at INTEGER,
  disabled_at INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE admin_memberships (
  user_id TEXT NOT NULL REFERENCES admin_users(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  permissions TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, service_id)
) STRICT;
CREATE INDEX admin_memberships_service ON admin_memberships(service_id);
CREATE TABLE admin_enrolments (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES admin_users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_enrolments_user ON admin_enrolments(user_id);
CREATE INDEX admin_enrolments_expires ON admin_enrolments(expires_at);
CREATE TABLE admin_recovery_codes (
  user_id TEXT NOT NULL REFERENCES admin_users(id),
  code_hash TEXT NOT NULL,
  PRIMARY KEY (user_id, code_hash)
) STRICT;
CREATE TABLE admin_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES admin_users(id),
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  second_factor_at INTEGER
) STRICT;
CREATE INDEX admin_sessions_user ON admin_sessions(user_id);
CREATE INDEX admin_sessions_last_seen ON admin_sessions(last_seen_at);
CREATE INDEX admin_sessions_created ON admin_sessions(created_at);
CREATE TABLE webauthn_credentials (
  credential_id BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES admin_users(id),
  public_key BLOB NOT NULL,
  sign_count INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id, created_at);
)sql"},
    // Sending to a list: a file uploaded in the admin UI, one notification per data
    // row. Its name and contents are personal (recipients and their personalisation): sealed under
    // the service's data key for the day, NULL once retention has emptied them. The worker's
    // progress (next_row) moves in the same transaction as the rows' notifications, which point
    // back to the job and their row; GOV.UK's API leaves those out of its listings.
    Migration{22, "jobs", R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  template_id TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  type TEXT NOT NULL,
  file_name BLOB,
  contents BLOB,
  row_count INTEGER NOT NULL,
  next_row INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'in-progress', 'finished', 'cancelled')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
) STRICT;
CREATE INDEX jobs_service_created ON jobs(service_id, created_at, id);
CREATE INDEX jobs_status ON jobs(status, created_at);
ALTER TABLE notifications ADD COLUMN job_id TEXT;
ALTER TABLE notifications ADD COLUMN job_row INTEGER;
CREATE INDEX notifications_job ON notifications(job_id) WHERE job_id IS NOT NULL;
)sql"},
    // Data-subject requests (GDPR): what is held about one person is found through blind indexes,
    // never by opening every row. An NHS Notify message's NHS number and a received text's sender
    // get one (HMACs, as a notification's recipient_index); as decided in migration 2, no SQL
    // index on them: a request scans the service's rows through (service_id, created_at). The
    // messages already stored with an NHS number are marked for indexing with an empty index
    // (X''), which the store replaces with the HMAC when it opens (index_legacy_nhs_numbers):
    // NULL then always means "not indexed" (none, erased, or retention cleared it), so a reopen
    // never indexes again what retention un-indexed. Texts already stored are not indexed (the
    // normalised number was never kept). An erased message keeps its row (ids, statuses, times),
    // its personal fields emptied (erased_at). The notifications that carry a message's channels
    // are found through their nhs_message_id: a KSUID (time-ordered, not random), indexed only
    // where set, so the API's inserts (never an NHS message's) do not touch the index.
    Migration{23, "data subject requests", R"sql(
ALTER TABLE nhs_messages ADD COLUMN nhs_number_index BLOB;
ALTER TABLE nhs_messages ADD COLUMN erased_at INTEGER;
UPDATE nhs_messages SET nhs_number_index = X'' WHERE nhs_number IS NOT NULL;
ALTER TABLE inbound_sms ADD COLUMN user_number_index BLOB;
CREATE INDEX notifications_nhs_message ON notifications(nhs_message_id) WHERE nhs_message_id IS NOT NULL;
)sql"},
    // Hosted one-click unsubscribe (GOV.UK Notify's): an email template's version says whether its
    // emails carry Herald's unsubscribe link (versions made before: not). A recipient's request
    // names the notification it came through, and takes its service, template and version from
    // it. The address is personal and outlives the notification's retention (the link works for
    // a year), so it is sealed under the long-lived "secrets" key, bound to the request's id;
    // email_index is its blind index as a notification's recipient_index (so a data-subject
    // request finds it), with no SQL index on it (migration 2). A service downloads its requests
    // in reports, which keep their counts after the requests are deleted; requests are found by
    // (service_id, report_id) (NULL: in no report yet) and deleted by created_at.
    Migration{24, "unsubscribe requests", R"sql(
ALTER TABLE template_versions ADD COLUMN has_unsubscribe_link INTEGER NOT NULL DEFAULT 0;
CREATE TABLE unsubscribe_reports (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  count INTEGER NOT NULL,
  earliest INTEGER NOT NULL,
  latest INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  processed_at INTEGER
) STRICT;
CREATE INDEX unsubscribe_reports_service ON unsubscribe_reports(service_id, created_at);
CREATE TABLE unsubscribe_requests (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  notification_id TEXT NOT NULL,
  template_id TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  email BLOB NOT NULL,
  email_index BLOB,
  created_at INTEGER NOT NULL,
  report_id TEXT REFERENCES unsubscribe_reports(id)
) STRICT;
CREATE INDEX unsubscribe_requests_report ON unsubscribe_requests(service_id, report_id);
CREATE INDEX unsubscribe_requests_created ON unsubscribe_requests(created_at);
)sql"},
    // A trial service's request to go live: when, and which admin user asked (no personal data; no
    // foreign key, as kDataTables lists services before admin_users). Service callbacks given up on
    // (CallbackQueue::kill_callback): when, and what the last attempt got ("HTTP 404", "timed
    // out": not personal), until replayed, made due by a newer status, or emptied by retention. A
    // service's dead list is read through partial indexes, which hold only the dead ones.
    Migration{25, "go-live requests and dead callbacks", R"sql(
ALTER TABLE services ADD COLUMN go_live_requested_at INTEGER;
ALTER TABLE services ADD COLUMN go_live_requested_by TEXT;
ALTER TABLE notifications ADD COLUMN callback_dead_at INTEGER;
ALTER TABLE notifications ADD COLUMN callback_error TEXT;
CREATE INDEX notifications_callback_dead ON notifications(service_id, callback_dead_at)
  WHERE callback_dead_at IS NOT NULL;
ALTER TABLE inbound_sms ADD COLUMN callback_dead_at INTEGER;
ALTER TABLE inbound_sms ADD COLUMN callback_error TEXT;
CREATE INDEX inbound_sms_callback_dead ON inbound_sms(service_id, callback_dead_at) WHERE callback_dead_at IS NOT NULL;
)sql"},
    // Operations (OperationsStore): named marks of when something last happened ("backup.created",
    // "heartbeat:<node>"), shared by every node of the store. No personal data. Read by name
    // prefix, through the primary key. The queue figures need no index of their own: each reads
    // a partial index that exists already (notifications_due, the callbacks' due and dead ones,
    // nhs_messages_due) or nhs_callbacks_due's leading state column.
    Migration{26, "operation marks", R"sql(
CREATE TABLE operation_marks (
  name TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) STRICT;
)sql"},
    // Intrusion prevention (SourceBlockStore): source addresses blocked until a time, shared by
    // every node; strikes counts the blocks in a row (each doubles the next), reason names the
    // detector that struck last. An IP address is not kept past its block's end plus the
    // detector's memory (forget_blocks, by until). Read by until (the running ones) or by source.
    Migration{27, "source blocks", R"sql(
CREATE TABLE source_blocks (
  source TEXT PRIMARY KEY,
  until INTEGER NOT NULL,
  strikes INTEGER NOT NULL,
  reason TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX source_blocks_until ON source_blocks(until);
)sql"},
    // The networks an API key or an NHS Notify client may be used from: CIDR texts joined by
    // commas, '' for any network (store/schema.h, join_networks). Not personal data.
    Migration{28, "allowed networks", R"sql(
ALTER TABLE api_keys ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
ALTER TABLE nhs_clients ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
)sql"},
};

static_assert(kMigrations.back().version == kSchemaVersion, "a new migration raises store::kSchemaVersion");

}  // namespace

int latest_schema_version() { return kMigrations.back().version; }

Result<int> apply_migrations(Connection& connection, std::int64_t now_micros) {
  HERALD_TRY(connection.execute_script(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
      "NULL, applied_at INTEGER NOT NULL) STRICT;"));
  int current = 0;
  {
    auto current_stmt = connection.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current_stmt) return current_stmt.error();
    auto has_row = current_stmt->step();
    if (!has_row) return has_row.error();
    current = static_cast<int>(current_stmt->column_int(0));
  }
  if (current > latest_schema_version()) {
    return Error{ErrorCode::kInternal, "database schema version " + std::to_string(current) +
                                           " is newer than this binary supports"};
  }
  int applied = 0;
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    auto tx = Transaction::begin_immediate(connection);
    if (!tx) return tx.error();
    HERALD_TRY(connection.execute_script(migration.sql));
    auto record = connection.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)");
    if (!record) return record.error();
    HERALD_TRY(record->bind_int(1, migration.version).bind_text(2, migration.name).bind_int(3, now_micros).run());
    HERALD_TRY(tx->commit());
    ++applied;
  }
  return applied;
}

}  // namespace herald::store::sqlite
