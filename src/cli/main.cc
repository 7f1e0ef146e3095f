// herald: one binary, subcommands in the manner of vault/etcdctl (docs/architecture.md).

#include <CLI/CLI.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdlib>

#include "cli/commands.h"
#include "crypto/secret.h"

namespace {
// Core dumps could hold keys and personal data (SC-33): no core file, and no ptrace attach by
// other processes of the same user.
void disable_core_dumps() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}
}  // namespace

int main(int argc, char** argv) {
  ::umask(077);  // the database, WAL, keys and certificates are for this user only
  using namespace herald::cli;
  CLI::App app{"Herald: secure, self-hostable patient messaging (GOV.UK Notify v2 compatible)"};
  app.require_subcommand(1);
  const char* env_config = std::getenv("HERALD_CONFIG");
  std::string config = env_config != nullptr ? env_config : "data/herald.toml";
  app.add_option("--config", config, "configuration file (default $HERALD_CONFIG or data/herald.toml)");

  InitOptions init;
  auto* init_cmd = app.add_subcommand("init", "create a data directory: keyring, TLS certificate, config, database");
  init_cmd->add_option("--data-dir", init.data_dir, "directory to create")->required();
  init_cmd->add_option("--port", init.port, "HTTPS port to write into the new config");
  init_cmd->add_option("--smtp-port", init.smtp_port, "SMTP relay port to write into the new config");
  init_cmd->add_option("--pkcs11-token", init.pkcs11_token, "keep the key-encryption key on this PKCS#11 token (label)");
  init_cmd->add_option("--pkcs11-pin-file", init.pkcs11_pin_file, "file (mode 0600) holding the token's user PIN");
  init_cmd->add_option("--pkcs11-module", init.pkcs11_module, "PKCS#11 module (default SoftHSM2's)");
  init_cmd->add_option("--store-url", init.store_url, "keep data and data keys in this PostgreSQL database (postgresql://...)");

  auto* demo_cmd = app.add_subcommand("demo", "create a demo service, live API key and email template if absent");

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "run the HTTPS API and delivery workers");
  serve_cmd->add_option("--ready-file", serve.ready_file, "write the bound port here once listening");
  serve_cmd
      ->add_option("--role", serve.role,
                   "all (default), api (the API listener only), worker (delivery only) or admin (the admin web "
                   "UI only)")
      ->check(CLI::IsMember({"all", "api", "worker", "admin"}));

  auto* service_cmd = app.add_subcommand("service", "manage services");
  service_cmd->require_subcommand(1);
  std::string service_name;
  auto* service_create = service_cmd->add_subcommand("create", "create a service; prints its id");
  service_create->add_option("--name", service_name, "service name")->required();

  std::string retention_service;
  int retention_days = 7;
  auto* service_retention = service_cmd->add_subcommand("set-retention", "days personal data is kept (3..90)");
  service_retention->add_option("--service", retention_service, "service id or name")->required();
  service_retention->add_option("--days", retention_days, "days")->required();
  ServiceSettingsOptions service_settings;
  auto* service_set = service_cmd->add_subcommand("set", "change a service's permissions or SMS prefix");
  service_set->add_option("--service", service_settings.service, "service id or name")->required();
  service_set->add_option("--permissions", service_settings.permissions,
                          "comma-separated: email, sms, letter, international_sms, sms_to_uk_landlines, inbound_sms, "
                          "international_letters");
  service_set->add_option("--sms-prefix", service_settings.sms_prefix, "start texts with the service name (true/false)");
  service_set->add_option("--rate-limit", service_settings.rate_limit, "sends per minute per key type (GOV.UK: 3000)");
  service_set->add_option("--email-limit", service_settings.email_limit, "emails per day");
  service_set->add_option("--sms-limit", service_settings.sms_limit, "texts per day");
  service_set->add_option("--letter-limit", service_settings.letter_limit, "letters per day");
  service_set->add_option("--international-sms-limit", service_settings.international_sms_limit,
                          "texts to non-UK numbers per day");
  std::string live_service;
  auto* service_go_live = service_cmd->add_subcommand("go-live", "take a service out of trial mode");
  service_go_live->add_option("--service", live_service, "service id or name")->required();
  std::string go_live_email;
  auto* service_request_go_live =
      service_cmd->add_subcommand("request-go-live", "ask for a service in trial mode to go live (for a team member)");
  service_request_go_live->add_option("--service", live_service, "service id or name")->required();
  service_request_go_live->add_option("--email", go_live_email, "the admin user asking")->required();
  auto* service_go_live_requests =
      service_cmd->add_subcommand("go-live-requests", "services waiting to go live: id, name, asked at, user id");
  auto* service_decline_go_live =
      service_cmd->add_subcommand("decline-go-live", "turn a request to go live down (it stays in trial mode)");
  service_decline_go_live->add_option("--service", live_service, "service id or name")->required();
  std::string guest_service;
  std::string guest_recipient;
  auto* service_guest = service_cmd->add_subcommand(
      "add-to-guest-list", "let team keys (and the service in trial mode) send to this email address or mobile number");
  service_guest->add_option("--service", guest_service, "service id or name")->required();
  service_guest->add_option("--recipient", guest_recipient, "email address or mobile number")->required();
  std::string callback_service;
  std::string callback_kind;
  std::string callback_url;
  std::string callback_token_file;
  auto* service_callback = service_cmd->add_subcommand(
      "set-callback", "where the service is told of delivery statuses or received texts (HTTPS, bearer token)");
  service_callback->add_option("--service", callback_service, "service id or name")->required();
  service_callback->add_option("--kind", callback_kind, "delivery_status or inbound_sms")->required();
  service_callback->add_option("--url", callback_url, "the service's HTTPS URL")->required();
  service_callback->add_option("--bearer-token-file", callback_token_file,
                               "file holding the bearer token Herald sends (10+ characters)")->required();
  std::string contact_service;
  std::string contact_kind;
  std::string contact_value;
  bool contact_default = false;
  auto* service_contact = service_cmd->add_subcommand(
      "add-contact", "add an SMS sender id, reply-to email address or letter contact block; prints its id");
  service_contact->add_option("--service", contact_service, "service id or name")->required();
  service_contact->add_option("--kind", contact_kind, "sms_sender, email_reply_to or letter_contact")->required();
  service_contact->add_option("--value", contact_value, "the sender id, address or contact block")->required();
  service_contact->add_flag("--default", contact_default, "make it the service's default of its kind");
  ServiceItemOptions item;
  auto* service_guests = service_cmd->add_subcommand("guest-list", "print the guest list: id, type, recipient, added");
  service_guests->add_option("--service", item.service, "service id or name")->required();
  auto* service_guest_remove = service_cmd->add_subcommand("remove-from-guest-list", "remove a guest-list entry");
  service_guest_remove->add_option("--service", item.service, "service id or name")->required();
  service_guest_remove->add_option("--id", item.id, "the entry's id (from guest-list)")->required();
  auto* service_contacts = service_cmd->add_subcommand("contacts", "print the contacts of a kind: id, default, value");
  service_contacts->add_option("--service", item.service, "service id or name")->required();
  service_contacts->add_option("--kind", item.kind, "sms_sender, email_reply_to or letter_contact")->required();
  auto* service_contact_update =
      service_cmd->add_subcommand("update-contact", "change a contact's value or whether it is the default");
  service_contact_update->add_option("--service", item.service, "service id or name")->required();
  service_contact_update->add_option("--kind", item.kind, "sms_sender, email_reply_to or letter_contact")->required();
  service_contact_update->add_option("--id", item.id, "the contact's id")->required();
  service_contact_update->add_option("--value", item.value, "its new value");
  service_contact_update->add_option("--default", item.is_default, "whether it is the default (true/false)");
  auto* service_contact_remove = service_cmd->add_subcommand(
      "remove-contact", "remove a contact (a default one only when it is the last of its kind)");
  service_contact_remove->add_option("--service", item.service, "service id or name")->required();
  service_contact_remove->add_option("--kind", item.kind, "sms_sender, email_reply_to or letter_contact")->required();
  service_contact_remove->add_option("--id", item.id, "the contact's id")->required();
  auto* service_callbacks = service_cmd->add_subcommand("callbacks", "print the service's callbacks: kind, URL, set");
  service_callbacks->add_option("--service", item.service, "service id or name")->required();
  auto* service_callback_remove = service_cmd->add_subcommand("remove-callback", "stop a kind of callback");
  service_callback_remove->add_option("--service", item.service, "service id or name")->required();
  service_callback_remove->add_option("--kind", item.kind, "delivery_status or inbound_sms")->required();
  auto* service_dead_callbacks = service_cmd->add_subcommand(
      "dead-callbacks", "callbacks given up on: kind, notification or text id, attempts, when, last answer");
  service_dead_callbacks->add_option("--service", item.service, "service id or name")->required();
  auto* service_replay_callback =
      service_cmd->add_subcommand("replay-callback", "send a callback given up on again, as if new");
  service_replay_callback->add_option("--service", item.service, "service id or name")->required();
  service_replay_callback->add_option("--kind", item.kind, "delivery_status or inbound_sms")->required();
  service_replay_callback->add_option("--id", item.id, "the notification's or received text's id")->required();

  auto* retention_cmd = app.add_subcommand("retention", "personal-data retention");
  retention_cmd->require_subcommand(1);
  std::string retention_now;
  auto* retention_run = retention_cmd->add_subcommand("run", "redact expired notifications and destroy their data keys now");
  retention_run->add_option("--now", retention_now, "pretend the time is this (tests only: HERALD_TESTING=1)");

  auto* letters_cmd = app.add_subcommand("letters", "the print supplier");
  letters_cmd->require_subcommand(1);
  auto* letters_check = letters_cmd->add_subcommand(
      "check", "connect to the print supplier as a batch would and prove its drop writable; sends nothing");

  auto* subject_cmd = app.add_subcommand("subject", "a person's data (data-subject requests)");
  subject_cmd->require_subcommand(1);
  SubjectOptions subject;
  auto* subject_find =
      subject_cmd->add_subcommand("find", "list what a service holds about a person (ids, times, statuses)");
  auto* subject_export = subject_cmd->add_subcommand(
      "export", "everything a service holds about a person, as JSON (stdout, or a new 0600 file)");
  auto* subject_erase = subject_cmd->add_subcommand(
      "erase", "erase everything a service holds about a person (personal fields, files, list rows)");
  for (auto* sub : {subject_find, subject_export, subject_erase}) {
    sub->add_option("--service", subject.service, "service id or name")->required();
    sub->add_option("--email", subject.email, "the person's email address");
    sub->add_option("--phone", subject.phone, "the person's mobile number");
    sub->add_option("--nhs-number", subject.nhs_number, "the person's NHS number");
  }
  subject_export->add_option("--out", subject.out, "write to this new file (mode 0600) instead of stdout");
  subject_erase->add_flag("--yes", subject.yes, "erase (it cannot be undone)");

  auto* unsubscribe_cmd = app.add_subcommand("unsubscribe", "requests made through hosted unsubscribe links");
  unsubscribe_cmd->require_subcommand(1);
  std::string unsubscribe_service, unsubscribe_report = "pending";
  bool unsubscribe_undo = false;
  auto* unsubscribe_reports =
      unsubscribe_cmd->add_subcommand("reports", "a service's reports: id, count, period, status");
  auto* unsubscribe_download = unsubscribe_cmd->add_subcommand(
      "download", "a report as CSV (\"pending\", the default: the requests not yet downloaded, made a report)");
  auto* unsubscribe_done = unsubscribe_cmd->add_subcommand(
      "done", "mark a report completed: its addresses are off the service's mailing list");
  for (auto* sub : {unsubscribe_reports, unsubscribe_download, unsubscribe_done}) {
    sub->add_option("--service", unsubscribe_service, "service id or name")->required();
  }
  unsubscribe_download->add_option("--report", unsubscribe_report, "report id, or pending");
  unsubscribe_done->add_option("--report", unsubscribe_report, "report id")->required();
  unsubscribe_done->add_flag("--undo", unsubscribe_undo, "mark it not completed");

  auto* report_cmd = app.add_subcommand("report", "reports on a service's notifications");
  report_cmd->require_subcommand(1);
  std::string report_service, report_day;
  auto* report_day_cmd =
      report_cmd->add_subcommand("day", "a UTC day's notifications as CSV on stdout, recipients included (audited)");
  report_day_cmd->add_option("--service", report_service, "service id or name")->required();
  report_day_cmd->add_option("--day", report_day, "the day, like 2026-12-03")->required();

  auto* job_cmd = app.add_subcommand("job", "send a template to a list of people (a CSV file)");
  job_cmd->require_subcommand(1);
  std::string job_service, job_template, job_file, job_id;
  bool job_start = false;
  auto* job_send = job_cmd->add_subcommand(
      "send", "check a CSV file row by row (errors to stderr) and store it as a job; prints its id");
  job_send->add_option("--service", job_service, "service id or name")->required();
  job_send->add_option("--template", job_template, "email or text message template id")->required();
  job_send->add_option("--file", job_file, "CSV file: 'email address' or 'phone number', and a column per placeholder")
      ->required();
  job_send->add_flag("--start", job_start, "start sending the rows without errors at once");
  auto* job_list = job_cmd->add_subcommand("list", "the service's jobs, newest first");
  job_list->add_option("--service", job_service, "service id or name")->required();
  auto* job_status = job_cmd->add_subcommand("status", "a job's progress and its messages' statuses");
  job_status->add_option("--service", job_service, "service id or name")->required();
  job_status->add_option("--job", job_id, "job id")->required();
  auto* job_cancel = job_cmd->add_subcommand("cancel", "stop sending a job's remaining rows");
  job_cancel->add_option("--service", job_service, "service id or name")->required();
  job_cancel->add_option("--job", job_id, "job id")->required();

  auto* key_cmd = app.add_subcommand("key", "manage API keys");
  key_cmd->require_subcommand(1);
  std::string key_service, key_type, key_name;
  auto* key_create = key_cmd->add_subcommand("create", "create an API key; prints it once");
  key_create->add_option("--service", key_service, "service id or name")->required();
  key_create->add_option("--type", key_type, "live, team or test")->required();
  key_create->add_option("--name", key_name, "key name")->required();

  std::string revoke_key_id;
  auto* key_revoke = key_cmd->add_subcommand("revoke", "revoke an API key");
  key_revoke->add_option("--service", key_service, "service id or name")->required();
  key_revoke->add_option("--key-id", revoke_key_id, "the key's id (`key create` prints it on stderr; `audit export` lists it)")
      ->required();

  auto* template_cmd = app.add_subcommand("template", "manage templates");
  template_cmd->require_subcommand(1);
  TemplateCreateOptions tpl;
  auto* template_create = template_cmd->add_subcommand("create", "create a template; prints its id");
  template_create->add_option("--service", tpl.service, "service id or name")->required();
  template_create->add_option("--type", tpl.type, "template type: email, sms or letter")->required();
  template_create->add_option("--name", tpl.name, "template name")->required();
  template_create->add_option("--subject", tpl.subject, "email subject or letter heading, may hold ((placeholders))");
  template_create->add_option("--body-file", tpl.body_file, "file holding the template body")->required();
  template_create->add_option("--created-by", tpl.created_by, "author's email address (shown by the API)");
  template_create->add_option("--postage", tpl.postage, "letters: first, second (the default) or economy");
  template_create->add_option("--letter-contact", tpl.letter_contact_id,
                              "letters: id of the service's letter contact to print (default: the service's default)");
  template_create->add_flag("--unsubscribe-link", tpl.unsubscribe_link,
                            "emails: each one carries Herald's hosted unsubscribe link");
  TemplateUpdateOptions tpl_update;
  auto* template_update = template_cmd->add_subcommand("update", "save a new version of a template; prints it");
  template_update->add_option("--service", tpl_update.service, "service id or name")->required();
  template_update->add_option("--id", tpl_update.template_id, "template id")->required();
  template_update->add_option("--name", tpl_update.name, "new name");
  template_update->add_option("--subject", tpl_update.subject, "new email subject or letter heading");
  template_update->add_option("--body-file", tpl_update.body_file, "file holding the new body");
  template_update->add_option("--created-by", tpl_update.created_by, "author's email address (shown by the API)");
  template_update->add_option("--postage", tpl_update.postage, "letters: first, second or economy");
  template_update->add_option("--letter-contact", tpl_update.letter_contact_id,
                              "letters: id of the service's letter contact to print, or \"default\"");
  template_update->add_option("--unsubscribe-link", tpl_update.unsubscribe_link,
                              "emails: true to add Herald's hosted unsubscribe link, false to remove it");
  std::string archive_service;
  std::string archive_id;
  auto* template_archive = template_cmd->add_subcommand("archive", "archive a template: no longer listed or sendable");
  template_archive->add_option("--service", archive_service, "service id or name")->required();
  template_archive->add_option("--id", archive_id, "template id")->required();

  auto* keys_cmd = app.add_subcommand("keys", "key management: status, rotate, rewrap, retire, backup, restore");
  keys_cmd->require_subcommand(1);
  auto* keys_status = keys_cmd->add_subcommand("status", "list key-encryption and data keys, their ages and what each protects");
  auto* keys_rotate = keys_cmd->add_subcommand("rotate", "make a new key-encryption key and re-wrap every data key under it");
  auto* keys_rewrap = keys_cmd->add_subcommand("rewrap", "re-wrap data keys still under an older key-encryption key (resumes a rotation)");
  std::string retire_kek;
  std::string keys_file;
  auto* keys_backup = keys_cmd->add_subcommand(
      "backup", "write every data key to an encrypted, verified backup (safe while serve runs)");
  keys_backup->add_option("file", keys_file, "the key backup file to write (must not exist)")->required();
  auto* keys_restore =
      keys_cmd->add_subcommand("restore", "put a key backup's data keys into a fresh data directory's key store");
  keys_restore->add_option("file", keys_file, "the key backup file")->required();
  auto* keys_retire = keys_cmd->add_subcommand("retire", "destroy an old key-encryption key that wraps nothing");
  keys_retire->add_option("--kek", retire_kek, "its id, as `keys status` shows it")->required();

  auto* audit_cmd = app.add_subcommand("audit", "the tamper-evident audit log");
  audit_cmd->require_subcommand(1);
  auto* audit_verify = audit_cmd->add_subcommand("verify", "check the hash chain against the signed checkpoints");
  std::vector<std::string> audit_witnesses;
  audit_verify->add_option("--witness", audit_witnesses,
                           "a further copy of checkpoints to check (a syslog export, another node's checkpoint file)");
  std::string audit_since;
  auto* audit_export = audit_cmd->add_subcommand("export", "print entries as JSON Lines (for a SIEM)");
  audit_export->add_option("--since", audit_since, "only entries at or after this time (2026-01-31T00:00:00.000000Z)");
  auto* audit_checkpoint = audit_cmd->add_subcommand("checkpoint", "sign the chain head into the checkpoint file now");

  auto* backup_cmd = app.add_subcommand("backup", "encrypted backups of the database");
  backup_cmd->require_subcommand(1);
  std::string backup_file;
  auto* backup_create = backup_cmd->add_subcommand("create", "write an encrypted snapshot (safe while serve runs)");
  backup_create->add_option("file", backup_file, "the backup file to write (must not exist)")->required();
  auto* backup_verify = backup_cmd->add_subcommand("verify", "check a backup's integrity without restoring it");
  backup_verify->add_option("file", backup_file, "the backup file")->required();
  auto* backup_restore = backup_cmd->add_subcommand("restore", "restore into a data directory that holds no data");
  backup_restore->add_option("file", backup_file, "the backup file")->required();
  std::string restore_keys_file;
  backup_restore->add_option(
      "--keys", restore_keys_file,
      "a key backup (herald keys backup) taken after this backup: its data keys are restored first");

  herald::cli::MigrateStoreOptions migrate;
  auto* migrate_cmd = app.add_subcommand("migrate-store", "copy the SQLite store to PostgreSQL (offline: stop serve first)");
  migrate_cmd->add_option("--from", migrate.from, "sqlite://PATH of the database file")->required();
  migrate_cmd->add_option("--to", migrate.to, "postgresql:// URL of an empty database")->required();
  migrate_cmd->add_option("--keys-to", migrate.keys_to, "postgresql:// URL for the data keys (default: --to)");
  migrate_cmd->add_option("--sample", migrate.sample, "notifications to decrypt and compare (default 100)");

  auto* nhs_cmd = app.add_subcommand("nhs", "NHS Notify API clients (applications)");
  nhs_cmd->require_subcommand(1);
  NhsClientOptions nhs;
  std::string nhs_client_id;
  auto add_client_options = [&nhs](CLI::App* cmd) {
    cmd->add_option("--jwks", nhs.jwks_file, "file holding the client's JWKS (public keys)");
    cmd->add_option("--jwks-url", nhs.jwks_url, "or the https URL Herald fetches it from");
    cmd->add_option("--default-ods", nhs.default_ods_code, "originator ODS code used when a request names none");
    cmd->add_option("--allow-ods-override", nhs.allow_ods_override, "requests may name another ODS code (true/false)");
    cmd->add_option("--allow-contact-details", nhs.allow_contact_details,
                    "requests may supply the recipient's contact details (true/false)");
  };
  auto* nhs_client_cmd = nhs_cmd->add_subcommand("client", "register and change API clients");
  nhs_client_cmd->require_subcommand(1);
  auto* nhs_client_create = nhs_client_cmd->add_subcommand("create", "register a client; prints its API key once");
  nhs_client_create->add_option("--service", nhs.service, "the service it sends for (id or name)")->required();
  nhs_client_create->add_option("--name", nhs.name, "a name for the client")->required();
  add_client_options(nhs_client_create);
  auto* nhs_client_set = nhs_client_cmd->add_subcommand("set", "change a client (only what is given)");
  nhs_client_set->add_option("--client", nhs_client_id, "the client's application id")->required();
  nhs_client_set->add_option("--name", nhs.name, "a new name");
  add_client_options(nhs_client_set);
  nhs_client_set->add_option("--onboarded", nhs.onboarded, "false: its tokens are refused (403 CM_FORBIDDEN)");
  nhs_client_set->add_option("--banned", nhs.banned, "true: a service ban (403 CM_SERVICE_BAN)");
  auto* nhs_client_list = nhs_client_cmd->add_subcommand("list", "list clients");
  std::string keygen_kid;
  std::string keygen_out;
  auto* nhs_keygen = nhs_cmd->add_subcommand("keygen", "make a client key pair: private PEM to a file, JWKS to stdout");
  nhs_keygen->add_option("--kid", keygen_kid, "the key id")->required();
  nhs_keygen->add_option("--private-key-out", keygen_out, "file to create (mode 0600)")->required();

  auto* nhs_callback_cmd = nhs_cmd->add_subcommand("callback", "where clients' callbacks go, and dead callbacks");
  nhs_callback_cmd->require_subcommand(1);
  NhsCallbackOptions callback;
  std::string callback_target;
  std::int64_t callback_id = 0;
  auto* nhs_callback_add =
      nhs_callback_cmd->add_subcommand("add", "register a receiver; prints its id (and a new API key)");
  nhs_callback_add->add_option("--client", callback.client, "the client (application id)")->required();
  nhs_callback_add->add_option("--kind", callback.kind, "message (MessageStatus) or channel (ChannelStatus)");
  nhs_callback_add->add_option("--url", callback.url, "the receiver's https URL")->required();
  nhs_callback_add->add_option("--statuses", callback.statuses, "statuses that make a callback (default: outcomes)")
      ->delimiter(',');
  nhs_callback_add
      ->add_option("--supplier-statuses", callback.supplier_statuses,
                   "channel callbacks: supplier statuses that make one too")
      ->delimiter(',');
  nhs_callback_add->add_option("--header", callback.header, "the header carrying the API key (default x-api-key)");
  nhs_callback_add->add_option("--api-key-env", callback.api_key_env,
                               "variable holding an agreed API key (default: Herald makes one)");
  nhs_callback_add->add_option("--client-cert", callback.client_certificate, "PEM certificate for mutual TLS");
  nhs_callback_add->add_option("--client-key", callback.client_key, "its PEM private key");
  nhs_callback_add->add_option("--pin", callback.pin, "the receiver's key: base64 SHA-256 of its SubjectPublicKeyInfo");
  nhs_callback_add->add_option("--rate", callback.rate, "requests a second at most (burst as many; default 10)");
  nhs_callback_add->add_option("--retry-window", callback.retry_window_seconds,
                               "seconds to keep retrying (default 7200)");
  auto* nhs_callback_list = nhs_callback_cmd->add_subcommand("list", "list receivers");
  nhs_callback_list->add_option("--client", callback.client, "only this client's");
  auto* nhs_callback_remove = nhs_callback_cmd->add_subcommand("remove", "remove a receiver and its waiting callbacks");
  nhs_callback_remove->add_option("--target", callback_target, "the receiver's id")->required();
  auto* nhs_callback_dead = nhs_callback_cmd->add_subcommand("dead", "callbacks given up on");
  nhs_callback_dead->add_option("--client", callback.client, "only this client's");
  auto* nhs_callback_replay = nhs_callback_cmd->add_subcommand("replay", "send a dead callback again");
  nhs_callback_replay->add_option("--id", callback_id, "the dead callback's id")->required();
  auto* plan_cmd = app.add_subcommand("plan", "NHS Notify routing plans (message plans) of a client's own");
  plan_cmd->require_subcommand(1);
  PlanOptions plan;
  std::string plan_version;
  auto* plan_create = plan_cmd->add_subcommand("create", "check and save a new plan from a JSON definition");
  plan_create->add_option("--client", plan.client, "the client (application id) it belongs to")->required();
  plan_create->add_option("--file", plan.file, "the plan's definition (JSON)")->required();
  auto* plan_new_version = plan_cmd->add_subcommand("version", "check and save the next version of a plan");
  plan_new_version->add_option("--client", plan.client, "the client it belongs to")->required();
  plan_new_version->add_option("--plan", plan.plan, "the plan's id")->required();
  plan_new_version->add_option("--file", plan.file, "the new version's definition (JSON)")->required();
  auto* plan_list = plan_cmd->add_subcommand("list", "the built-in plans and the latest version of each plan");
  plan_list->add_option("--client", plan.client, "only this client's");
  auto* plan_show = plan_cmd->add_subcommand("show", "print a plan version's definition (JSON)");
  plan_show->add_option("--plan", plan.plan, "the plan's id")->required();
  plan_show->add_option("--version", plan_version, "the version (default: the latest)");
  auto* user_cmd = app.add_subcommand("user", "the admin web UI's users");
  user_cmd->require_subcommand(1);
  UserOptions user;
  auto* user_create = user_cmd->add_subcommand("create", "a new user; prints their one-time enrolment link");
  user_create->add_option("--email", user.email, "their email address (they sign in with it)")->required();
  user_create->add_option("--name", user.name, "their name")->required();
  user_create->add_flag("--platform-admin", user.platform_admin,
                        "every permission in every service, and Herald's own settings");
  auto* user_link =
      user_cmd->add_subcommand("link", "a new enrolment link (to reset a lost password or authenticator)");
  user_link->add_option("--email", user.email, "the user's email address")->required();
  auto* user_list = user_cmd->add_subcommand("list", "every user, with their services and permissions");
  auto* user_disable = user_cmd->add_subcommand("disable", "stop a user signing in, and end their sessions");
  user_disable->add_option("--email", user.email, "the user's email address")->required();
  auto* user_grant = user_cmd->add_subcommand("grant", "set a user's permissions in a service (none: remove them)");
  user_grant->add_option("--email", user.email, "the user's email address")->required();
  user_grant->add_option("--service", user.service, "the service id")->required();
  user_grant
      ->add_option("--permissions", user.permissions,
                   "view, send, manage_templates, manage_api_keys, manage_team, manage_settings")
      ->delimiter(',');

  auto* demographics_cmd = app.add_subcommand("demographics", "recipients' records for NHS-number lookups");
  demographics_cmd->require_subcommand(1);
  std::string demographics_file;
  auto* demographics_import =
      demographics_cmd->add_subcommand("import", "add or replace records from a CSV (header row names the columns)");
  demographics_import->add_option("--file", demographics_file, "the CSV file")->required();

  CLI11_PARSE(app, argc, argv);

  // Every command may hold keys: none may leave a core dump, and key memory is locked.
  disable_core_dumps();
  herald::crypto::init_secure_memory();

  if (*init_cmd) return run_init(init);
  if (*demo_cmd) return run_demo(config);
  if (*serve_cmd) {
    serve.config_path = config;
    return run_serve(serve);
  }
  if (*service_create) return run_service_create(config, service_name);
  if (*key_create) return run_key_create(config, key_service, key_type, key_name);
  if (*template_create) return run_template_create(config, tpl);
  if (*template_update) return run_template_update(config, tpl_update);
  if (*template_archive) return run_template_archive(config, archive_service, archive_id, true);
  if (*key_revoke) return run_key_revoke(config, key_service, revoke_key_id);
  if (*service_retention) return run_service_set_retention(config, retention_service, retention_days);
  if (*service_set) return run_service_set(config, service_settings);
  if (*service_go_live) return run_service_go_live(config, live_service);
  if (*service_request_go_live) return run_service_request_go_live(config, live_service, go_live_email);
  if (*service_go_live_requests) return run_service_go_live_requests(config);
  if (*service_decline_go_live) return run_service_decline_go_live(config, live_service);
  if (*service_guest) return run_service_guest_list_add(config, guest_service, guest_recipient);
  if (*service_callback) {
    return run_service_set_callback(config, callback_service, callback_kind, callback_url, callback_token_file);
  }
  if (*service_contact) return run_service_contact_add(config, contact_service, contact_kind, contact_value, contact_default);
  if (*service_guests) return run_service_guest_list(config, item);
  if (*service_guest_remove) return run_service_guest_list_remove(config, item);
  if (*service_contacts) return run_service_contacts(config, item);
  if (*service_contact_update) return run_service_contact_update(config, item);
  if (*service_contact_remove) return run_service_contact_remove(config, item);
  if (*service_callbacks) return run_service_callbacks(config, item);
  if (*service_callback_remove) return run_service_callback_remove(config, item);
  if (*service_dead_callbacks) return run_service_dead_callbacks(config, item);
  if (*service_replay_callback) return run_service_replay_callback(config, item);
  if (*retention_run) return run_retention(config, retention_now);
  if (*letters_check) return run_letters_check(config);
  if (*subject_find) return run_subject_find(config, subject);
  if (*subject_export) return run_subject_export(config, subject);
  if (*subject_erase) return run_subject_erase(config, subject);
  if (*unsubscribe_reports) return run_unsubscribe_reports(config, unsubscribe_service);
  if (*unsubscribe_download) return run_unsubscribe_download(config, unsubscribe_service, unsubscribe_report);
  if (*unsubscribe_done) return run_unsubscribe_done(config, unsubscribe_service, unsubscribe_report, unsubscribe_undo);
  if (*report_day_cmd) return run_report_day(config, report_service, report_day);
  if (*job_send) return run_job_send(config, job_service, job_template, job_file, job_start);
  if (*job_list) return run_job_list(config, job_service);
  if (*job_status) return run_job_status(config, job_service, job_id);
  if (*job_cancel) return run_job_cancel(config, job_service, job_id);
  if (*backup_create) return run_backup_create(config, backup_file);
  if (*backup_verify) return run_backup_verify(config, backup_file);
  if (*backup_restore) return run_backup_restore(config, backup_file, restore_keys_file);
  if (*audit_verify) return run_audit_verify(config, audit_witnesses);
  if (*audit_export) return run_audit_export(config, audit_since);
  if (*audit_checkpoint) return run_audit_checkpoint(config);
  if (*keys_status) return run_keys_status(config);
  if (*keys_rotate) return run_keys_rotate(config, true);
  if (*keys_rewrap) return run_keys_rotate(config, false);
  if (*keys_retire) return run_keys_retire(config, retire_kek);
  if (*keys_backup) return run_keys_backup(config, keys_file);
  if (*keys_restore) return run_keys_restore(config, keys_file);
  if (*migrate_cmd) return run_migrate_store(config, migrate);
  if (*nhs_client_create) return run_nhs_client_create(config, nhs);
  if (*nhs_client_set) return run_nhs_client_set(config, nhs_client_id, nhs);
  if (*nhs_client_list) return run_nhs_client_list(config);
  if (*demographics_import) return run_demographics_import(config, demographics_file);
  if (*nhs_callback_add) return run_nhs_callback_add(config, callback);
  if (*nhs_callback_list) return run_nhs_callback_list(config, callback.client);
  if (*nhs_callback_remove) return run_nhs_callback_remove(config, callback_target);
  if (*nhs_callback_dead) return run_nhs_callback_dead(config, callback.client);
  if (*nhs_callback_replay) return run_nhs_callback_replay(config, callback_id);
  if (*plan_create || *plan_new_version) return run_plan_save(config, plan);
  if (*plan_list) return run_plan_list(config, plan.client);
  if (*plan_show) return run_plan_show(config, plan.plan, plan_version);
  if (*nhs_keygen) return run_nhs_keygen(keygen_kid, keygen_out);
  if (*user_create) return run_user_create(config, user);
  if (*user_link) return run_user_link(config, user);
  if (*user_list) return run_user_list(config);
  if (*user_disable) return run_user_disable(config, user);
  if (*user_grant) return run_user_grant(config, user);
  return 2;
}
