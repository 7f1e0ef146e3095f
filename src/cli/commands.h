#pragma once
// The `herald` subcommands. Each returns the process exit code and prints for a human (or, for
// `key create`, the key on its own line so scripts can capture it).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/result.h"

namespace herald::cli {

// Prints "herald: <message>" to stderr; the exit code: 2 for bad input or an unknown name, else 1.
int fail(const Error& error);
// A whole file a command was pointed at (a template body, a JWKS); kInvalidArgument if unreadable.
Result<std::string> read_text_file(const std::string& path);

struct InitOptions {
  std::string data_dir;  // empty: make what the existing configuration at config_path names
  std::string config_path;
  std::uint16_t port = 8443;
  std::uint16_t smtp_port = 2525;
  std::string pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string pkcs11_token;  // set: the KEK is made on this token instead of in the keyring
  std::string pkcs11_pin_file;
  // Set: the node keeps its data in this PostgreSQL database (store and data keys) instead of
  // the SQLite file. Every node of a deployment must share the first node's keyring.
  std::string store_url;
};
int run_init(const InitOptions& options);

// Creates the demo service, a live key and an email template unless the service exists.
int run_demo(const std::string& config_path);
int run_service_create(const std::string& config_path, const std::string& name);
int run_key_create(const std::string& config_path, const std::string& service,
                   const std::string& type, const std::string& name);
// Revokes a key; running servers refuse it once their key cache expires (5 s).
int run_key_revoke(const std::string& config_path, const std::string& service, const std::string& key_id);
// `herald key restrict --networks "192.0.2.0/24, 2001:db8::/32"` (empty: any network again).
int run_key_restrict(const std::string& config_path, const std::string& service, const std::string& key_id,
                     const std::string& networks);
// A comma-separated list of CIDR networks, canonical; kInvalidArgument naming the first bad one.
Result<std::vector<std::string>> parse_network_list(const std::string& list);
struct TemplateCreateOptions {
  std::string service;
  std::string type;
  std::string name;
  std::string subject;
  std::string body_file;
  std::string created_by = "herald-cli";  // GOV.UK shows the author's email address
  std::optional<std::string> postage;            // letters: first, second (default) or economy
  std::optional<std::string> letter_contact_id;  // letters: one of the service's letter contacts
  bool unsubscribe_link = false;                 // emails: Herald's hosted unsubscribe link
};
int run_template_create(const std::string& config_path, const TemplateCreateOptions& options);
// A new version of a template: only the given parts change; earlier versions stay.
struct TemplateUpdateOptions {
  std::string service;
  std::string template_id;
  std::optional<std::string> name;
  std::optional<std::string> subject;
  std::optional<std::string> body_file;
  std::string created_by = "herald-cli";
  std::optional<std::string> postage;
  std::optional<std::string> letter_contact_id;  // "default": the service's default contact block
  std::optional<bool> unsubscribe_link;          // emails: add (true) or remove the hosted link
};
int run_template_update(const std::string& config_path, const TemplateUpdateOptions& options);
int run_template_archive(const std::string& config_path, const std::string& service, const std::string& template_id,
                         bool archived);

// Key management (keys_commands.cc): list KEKs and data keys with ages and what each protects
// (never key material); rotate = a new KEK, then every data key re-wrapped under it (online,
// resumable); rewrap = only the second step; retire = destroy an old KEK nothing uses.
int run_keys_status(const std::string& config_path);
int run_keys_rotate(const std::string& config_path, bool new_kek);
int run_keys_retire(const std::string& config_path, const std::string& kek_id);

// Personal data (data_commands.cc): a service's retention period (3..90 days); one run of the
// retention job (`now` only under HERALD_TESTING=1); a person's notifications by blind index.
int run_service_set_retention(const std::string& config_path, const std::string& service, int days);
// Channel permissions and the SMS prefix setting of a service (only the options given change).
struct ServiceSettingsOptions {
  std::string service;
  std::optional<std::string> permissions;  // comma-separated, e.g. "email,sms,international_sms"
  std::optional<bool> sms_prefix;
  std::optional<int> rate_limit;  // sends per minute per key type
  std::optional<std::int64_t> email_limit, sms_limit, letter_limit, international_sms_limit;  // per day
};
int run_service_set(const std::string& config_path, const ServiceSettingsOptions& options);
// Adds a sender id, reply-to address or letter contact block; prints its id (sms_sender_id,
// email_reply_to_id in the API).
// Where the service is told of statuses (kind delivery_status) or received texts (inbound_sms):
// an HTTPS URL whose host resolves to public addresses only (unless the configuration allows
// private ones), and a bearer token of 10 characters or more read from a file.
int run_service_set_callback(const std::string& config_path, const std::string& service, const std::string& kind,
                             const std::string& url, const std::string& token_file);
// Takes the service out of trial mode: it may send to anyone, with GOV.UK's live limits.
int run_service_go_live(const std::string& config_path, const std::string& service);
// A request to go live made for an admin user (`email`), as the UI's "Request to go live"; the
// requests waiting (id, name, asked at, by whom); turning one down.
int run_service_request_go_live(const std::string& config_path, const std::string& service, const std::string& email);
int run_service_go_live_requests(const std::string& config_path);
int run_service_decline_go_live(const std::string& config_path, const std::string& service);
// Adds a team member's or guest's email address or mobile number to the service's guest list.
int run_service_guest_list_add(const std::string& config_path, const std::string& service, const std::string& recipient);
int run_service_contact_add(const std::string& config_path, const std::string& service, const std::string& kind,
                            const std::string& value, bool is_default);
// The guest list, contacts and callbacks as the admin UI's settings pages show and change them.
struct ServiceItemOptions {
  std::string service;
  std::string kind;  // a contact kind, or a callback kind
  std::string id;    // a guest-list entry or a contact
  std::optional<std::string> value = std::nullopt;
  std::optional<bool> is_default = std::nullopt;
};
// Prints the guest list: id, type, recipient, when added (personal data: the operator's own view).
int run_service_guest_list(const std::string& config_path, const ServiceItemOptions& options);
int run_service_guest_list_remove(const std::string& config_path, const ServiceItemOptions& options);
// Prints the contacts of a kind: id, "default" or "-", value (a contact block on one line, "\n").
int run_service_contacts(const std::string& config_path, const ServiceItemOptions& options);
int run_service_contact_update(const std::string& config_path, const ServiceItemOptions& options);
int run_service_contact_remove(const std::string& config_path, const ServiceItemOptions& options);
// Prints each callback: kind, URL, when set (never the token).
int run_service_callbacks(const std::string& config_path, const ServiceItemOptions& options);
// The callbacks given up on (kind, id, attempts, when, last answer) and sending one again.
int run_service_dead_callbacks(const std::string& config_path, const ServiceItemOptions& options);
int run_service_replay_callback(const std::string& config_path, const ServiceItemOptions& options);
int run_service_callback_remove(const std::string& config_path, const ServiceItemOptions& options);
// Checks the configured print supplier (connects, logs in, proves the drop writable) without
// sending anything; exit 0 when it can take letters.
int run_letters_check(const std::string& config_path);
int run_retention(const std::string& config_path, const std::string& now_text);
// Data-subject requests: a person named by one of email, phone, nhs_number, in one service.
struct SubjectOptions {
  std::string service, email, phone, nhs_number;
  std::string out;   // export: a new file (0600) rather than stdout
  bool yes = false;  // erase: confirmed
};
int run_subject_find(const std::string& config_path, const SubjectOptions& options);
int run_subject_export(const std::string& config_path, const SubjectOptions& options);
int run_subject_erase(const std::string& config_path, const SubjectOptions& options);
// Hosted unsubscribe: the service's reports; one as CSV on stdout ("pending": the requests not
// yet downloaded, which become a report); a report marked completed (or, with undo, not).
int run_unsubscribe_reports(const std::string& config_path, const std::string& service);
int run_unsubscribe_download(const std::string& config_path, const std::string& service, const std::string& report);
int run_unsubscribe_done(const std::string& config_path, const std::string& service, const std::string& report,
                         bool undo);
// A day's notifications as CSV on stdout, as the admin UI's report download.
int run_report_day(const std::string& config_path, const std::string& service, const std::string& day);
// job_commands.cc: a template sent to a list (a CSV file), as the admin UI's "Send to a list".
int run_job_send(const std::string& config_path, const std::string& service, const std::string& template_id,
                 const std::string& file, bool start);
int run_job_list(const std::string& config_path, const std::string& service);
// Stops sending a pending or in-progress job's remaining rows (fails when it has finished).
int run_job_cancel(const std::string& config_path, const std::string& service, const std::string& job_id);
int run_job_status(const std::string& config_path, const std::string& service, const std::string& job_id);

// The audit log (audit_commands.cc): verify the chain against its signed checkpoints (exit 1
// on any problem), export JSON Lines for a SIEM, sign the head now.
int run_audit_verify(const std::string& config_path, const std::vector<std::string>& witnesses);
// Only entries whose action starts with `action_prefix` (`herald security events`: "security.").
int run_audit_export(const std::string& config_path, const std::string& since_text,
                     std::string_view action_prefix = {});
int run_audit_checkpoint(const std::string& config_path);

// Backups (backup_commands.cc): an encrypted snapshot taken while serve runs; verify without
// restoring; restore into a data directory without data (refuses a database that holds any).
int run_backup_create(const std::string& config_path, const std::string& file);
// With restore_drill: the backup also restored into a scratch data directory and checked (SQLite
// integrity, migrations, the key store opening its data, its audit chain); marks
// "backup.restore_drill" and records it in the audit log.
int run_backup_verify(const std::string& config_path, const std::string& file, bool restore_drill);
// `keys_file`: a key backup (run_keys_backup) whose data keys go into the key store first; empty:
// the key store is used as it is.
int run_backup_restore(const std::string& config_path, const std::string& file, const std::string& keys_file = {});
// The data keys, consistent while serve runs (one read of the key store, WAL included), in an
// encrypted backup file that is read back before the command succeeds.
int run_keys_backup(const std::string& config_path, const std::string& file);
// Puts a key backup's data keys, under their own ids, into a SQLite key store that has no
// conflicting keys (a fresh `herald init`); then `backup restore` checks that they open the data.
int run_keys_restore(const std::string& config_path, const std::string& file);

// Moving the store from SQLite to PostgreSQL (store_commands.cc), offline: rows copied as stored,
// checked by counts and a decrypted sample.
struct MigrateStoreOptions {
  std::string from;     // sqlite://PATH
  std::string to;       // postgresql://...
  std::string keys_to;  // the PostgreSQL key store (default: `to`, schema herald_keys)
  int sample = 100;     // notifications decrypted and compared on both sides
};
int run_migrate_store(const std::string& config_path, const MigrateStoreOptions& options);

// `herald store grants`: the least-privilege GRANT/REVOKE statements for the four database roles
// (store/postgres/roles.h), printed for a DBA or, with --apply, run as the owner (store.url).
struct StoreGrantsOptions {
  bool apply = false;
  std::string api_role = "herald_api";
  std::string worker_role = "herald_worker";
  std::string admin_role = "herald_admin";
  std::string retention_role = "herald_retention";
  bool markdown = false;  // the grants as a Markdown table (docs/postgres-roles.md)
};
int run_store_grants(const std::string& config_path, const StoreGrantsOptions& options);

// NHS Notify API clients (nhs_commands.cc). `create` prints the API key once (the application id
// on stderr); `set` changes only what is given; `keygen` writes a new 4096-bit RSA private key
// (mode 0600, for the client's side) and prints its public JWKS.
struct NhsClientOptions {
  std::string service;
  std::string name;
  std::optional<std::string> jwks_file;
  std::optional<std::string> jwks_url;
  std::optional<std::string> default_ods_code;  // "" in `set`: none
  std::optional<bool> allow_ods_override;
  std::optional<bool> allow_contact_details;
  std::optional<bool> onboarded;
  std::optional<bool> banned;
  std::optional<std::string> networks;  // comma-separated CIDR networks it may be used from ("": any)
};
int run_nhs_client_create(const std::string& config_path, const NhsClientOptions& options);
int run_nhs_client_set(const std::string& config_path, const std::string& client_id, const NhsClientOptions& options);
int run_nhs_client_list(const std::string& config_path);
int run_nhs_keygen(const std::string& kid, const std::string& private_key_out);
// `herald nhs callback add|list|remove|dead|replay`: where a client's NHS Notify callbacks go
// (nhs_commands.cc; domain/nhs/callbacks.h). `add` prints the target id, and the callback API
// key once when Herald made it (else it uses the one in --api-key-env's variable).
struct NhsCallbackOptions {
  std::string client;
  std::string kind = "message";
  std::string url;
  std::vector<std::string> statuses;
  std::vector<std::string> supplier_statuses;
  std::string header = "x-api-key";
  std::string api_key_env;
  std::string client_certificate, client_key, pin;
  int rate = 10;
  int retry_window_seconds = 7200;
};
int run_nhs_callback_add(const std::string& config_path, const NhsCallbackOptions& options);
int run_nhs_callback_list(const std::string& config_path, const std::string& client);
int run_nhs_callback_remove(const std::string& config_path, const std::string& target);
int run_nhs_callback_dead(const std::string& config_path, const std::string& client);
int run_nhs_callback_replay(const std::string& config_path, std::int64_t id);
// `herald plan create|version|list|show`: NHS Notify routing plans of a client's own
// (nhs_commands.cc; the definition file's JSON in domain/nhs/routing_plans.h). create and version
// check the plan against the client's templates, save it as a new immutable version and print it.
struct PlanOptions {
  std::string client;
  std::string plan;  // version: the plan to version
  std::string file;
};
int run_plan_save(const std::string& config_path, const PlanOptions& options);
int run_plan_list(const std::string& config_path, const std::string& client_id);
// Prints the version's definition (the latest when `version` is empty) as JSON.
int run_plan_show(const std::string& config_path, const std::string& plan, const std::string& version);
// `herald demographics import --file F`: adds or replaces the recipients' records NHS Notify
// messages are enriched from (nhs_commands.cc; CSV columns in domain/nhs/demographics.h). Every
// row is checked before any is stored.
int run_demographics_import(const std::string& config_path, const std::string& file);

// `herald user ...`: the admin web UI's users (user_commands.cc). Each prints what it did; create
// and link print a one-time enrolment link (the only time its token is shown).
struct UserOptions {
  std::string email;
  std::string name;
  bool platform_admin = false;
  std::string service;                   // grant
  std::vector<std::string> permissions;  // grant: empty removes the user from the service
};
int run_user_create(const std::string& config_path, const UserOptions& options);
int run_user_link(const std::string& config_path, const UserOptions& options);
int run_user_list(const std::string& config_path);
int run_user_disable(const std::string& config_path, const UserOptions& options);
int run_user_grant(const std::string& config_path, const UserOptions& options);

// The code chain (release_commands.cc, docs/releases.md).
// A signing key: an Ed25519 private key file encrypted under a passphrase read from an
// environment variable (never from the command line, which other users can see).
struct SigningKeyOptions {
  std::string key_file;
  std::string passphrase_env = "HERALD_RELEASE_KEY_PASSPHRASE";
};
// `herald release keygen --out KEY --public-out KEY.pub`: prints the key id.
struct ReleaseKeygenOptions {
  std::string out;
  std::string public_out;
  SigningKeyOptions key;
};
int run_release_keygen(const ReleaseKeygenOptions& options);
// A commit range whose every commit (and tag, when named) must be signed by an allowed signer
// (git's SSH signing, gpg.ssh.allowedSignersFile).
struct CommitRangeOptions {
  std::string repo = ".";
  std::string commit = "HEAD";
  std::string since;  // empty: every commit reachable from `commit`
  std::string tag;
  std::string allowed_signers;
};
int run_release_verify_commits(const CommitRangeOptions& options);
// `herald release build`: the signed range checked, the commit built `builds` times in clean
// directories and compared byte for byte, then the SBOM, provenance and release metadata signed.
struct ReleaseBuildOptions {
  CommitRangeOptions range;
  SigningKeyOptions key;
  std::string out;
  std::string work_dir;     // empty: a directory under the system's temporary directory
  std::string third_party;  // what `make deps` unpacked (libphonenumber's headers); empty: <repo>/build/third_party
  std::vector<std::string> targets{"herald"};  // "herald": the binary and the Debian package
  int builds = 2;
  int jobs = 2;
  int valid_days = 90;  // the release metadata's expiry
  bool keep_work = false;
  bool verbose = false;
};
int run_release_build(const ReleaseBuildOptions& options);
// `herald release assemble`: signs a binary built elsewhere (provenance says so: no reproduced
// builds) — for trying the chain out; `herald release build` is how releases are made.
struct ReleaseAssembleOptions {
  std::string binary;
  std::vector<std::string> extra;  // more files to carry (a .deb)
  std::string version;
  std::string commit;
  std::string repository = "unknown";
  std::string package_lock;
  std::string out;
  int valid_days = 90;
  SigningKeyOptions key;
};
int run_release_assemble(const ReleaseAssembleOptions& options);
struct ReleaseVerifyOptions {
  std::string release_dir;
  std::string trust;
  std::string stage = "staging";
};
int run_release_verify(const ReleaseVerifyOptions& options);
// `herald promote --to staging|live RELEASE --channels DIR`: copies a release that verifies for
// the stage into DIR/<stage>/<version>, where hosts poll for it.
struct PromoteOptions {
  std::string to;
  std::string release_dir;
  std::string channels;
  std::string trust;
};
int run_promote(const PromoteOptions& options);
// `herald acceptance run`: the smoke suite against a staging instance, recorded and signed.
struct AcceptanceOptions {
  std::string release_dir;
  std::string api_url;  // the staging instance's API, https://host:port
  std::string ops_url;  // its health listener (reports the binary it runs)
  std::string ca_file;  // to trust the instance's certificate
  std::string api_key_env = "HERALD_ACCEPTANCE_API_KEY";
  std::string template_id;    // an email template of the staging service
  std::string email_address;  // a mailbox staging delivers to; a simulated address skips delivery
  std::string node;           // names the staging node in the record
  std::string trust;
  int timeout_seconds = 60;
  SigningKeyOptions key{"", "HERALD_STAGING_KEY_PASSPHRASE"};
};
int run_acceptance(const AcceptanceOptions& options);
// `herald deploy`: installs a release that verifies for the stage, never an older one, and
// audits it (when the host's configuration is given); with --watch, polls a channel directory.
struct DeployOptions {
  std::string config_path;  // the host's Herald (audit log); empty: not audited
  std::string release_dir;
  std::string watch;
  std::string stage = "live";
  std::string install_dir;
  std::string trust;
  int interval_seconds = 60;
  int rounds = 0;  // --watch: how many polls (0: for ever)
};
int run_deploy(const DeployOptions& options);

struct ServeOptions {
  std::string config_path;
  std::string ready_file;  // written with the bound port once listening (tests)
  std::string role = "all";  // all | api | worker
};
int run_serve(const ServeOptions& options);

}  // namespace herald::cli
