#pragma once
// Herald's configuration file (TOML), with secure defaults for anything left out (SC-34).
// Relative paths are resolved against the directory of the configuration file.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "delivery/callbacks.h"
#include "delivery/letters/sftp_supplier.h"
#include "delivery/nhs_callbacks.h"
#include "delivery/sms/sms_router.h"
#include "delivery/sms_provider.h"
#include "delivery/smtp/smtp_client.h"
#include "delivery/worker.h"
#include "domain/letters/letters.h"
#include "net/https_server.h"

namespace herald::cli {

// An SMS provider Herald sends through, and the credentials its receipts must carry.
struct SmsProviderConfig {
  const delivery::sms::SmsProviderKind* kind = nullptr;  // from cli/sms_providers.h
  std::string name;                                      // kind->name
  delivery::sms::HttpProviderOptions options;
  std::string receipt_username;
  std::string receipt_password;  // from the environment, never the file
  std::string api_key_env;       // the variable options.api_key came from
};

struct SmsConfig {
  std::vector<SmsProviderConfig> providers;  // in order of preference; empty: texts are not sent
  std::string default_sender = "Herald";
  double rate_in_pounds = 0.0227;  // per fragment, for cost_in_pounds: set your provider's price
  delivery::sms::FailoverOptions failover;
};

// Letters go to a print supplier in batches ([letters], [letters.sftp]). With no supplier
// configured, letters are not handed to anyone and stay "created".
struct LettersConfig {
  std::optional<delivery::letters::SftpSupplierOptions> sftp;  // supplier = "sftp"
  int batch_size = 500;  // letters per batch handed over at once
  int report_interval_seconds = 300;  // how often the supplier's reports are collected
  // A PNG printed top left of every templated letter (the service's or organisation's logo).
  std::optional<std::string> logo_png;
  // [letters.prices]: pounds per letter by postage, one figure per sheet count from 1.
  domain::LetterPrices prices;
};

// NHS Notify's API ([nhs]): where its paths start, and the URL client assertions must name as
// their audience (default: public_url's /oauth2/token, else the URL the client called).
struct NhsConfig {
  std::string prefix = "/comms";
  std::string token_url;
  int rate_limit_per_minute = 1200;    // per client (NHS's quota)
  int spike_arrest_per_minute = 6000;  // per client (NHS's spike arrest)
  // How often delivery nodes look for messages whose cascade is due (new ones, woken ones,
  // channel time limits), and where recipients' NHS numbers are looked up: "local" (the table
  // `herald demographics import` fills), "pds" (PDS FHIR, [pds]) or "none" (only the request's
  // contact details).
  int cascade_interval_ms = 250;
  std::string demographics = "local";
  // NHS's public sandbox instead of the API (api/nhs_v1/sandbox.h): stateless, no tokens, fixed
  // data and NHS's triggers, for integrators.
  bool sandbox = false;
  // Herald's trigger NHS numbers (domain/nhs/demographics.h TriggerDemographics) answer before the
  // demographics source: for integration environments, never for live ones.
  bool trigger_numbers = false;
  // Callbacks to clients' receivers ([nhs] callback_threads, callback_timeout_ms; the address
  // policy and CA file are [callbacks]'s).
  delivery::NhsCallbackOptions callbacks;
};

// Herald as an application of the NHS API platform ([nhs_platform]), for the NHS App and PDS:
// the token URL, the application's API key (from the environment), the key id it registered and
// its private key (a PEM file), and how to reach the platform.
struct NhsPlatformConfig {
  std::string token_url;
  std::string api_key;
  std::string api_key_env = "HERALD_NHS_PLATFORM_API_KEY";
  std::string kid;
  std::string private_key_file;
  net::HttpClientOptions http;
};

// The NHS App channel ([nhs_app]): where Herald posts in-app messages, and who may post receipts
// back. No url: the channel is not configured (NHS App channels fail at once).
struct NhsAppConfig {
  std::string url;
  std::string receipt_path = "/nhs-app/FHIR/R4/Task";
  std::vector<std::string> receipt_sources;
  std::string receipt_username = "nhs-app";
  std::string receipt_password;
};

// The admin web UI's listener ([admin]): its own port, on loopback unless configured.
struct AdminConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8444;
  std::string public_url;  // where browsers reach it, ending in '/'; empty: https://localhost:<port>/
  // public_url, or the default for `bound_port` (the listener's, when port is 0).
  std::string url(std::uint16_t bound_port) const {
    return public_url.empty() ? "https://localhost:" + std::to_string(bound_port) + "/" : public_url;
  }
};

// The operations listener ([metrics]): /health/live, /health/ready and /metrics, on every role,
// loopback unless configured (HTTPS with the server's certificate).
struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  // Role all's port (default: the API's port + 2, 0 when that is 0); roles api, worker and admin
  // take the next three (8446, 8447, 8448 by default).
  std::uint16_t port = 8445;
  std::int64_t max_backlog_seconds = 900;  // /health/ready fails past this (0: not checked)
  std::int64_t min_free_disk_mb = 512;
};

// [security]: intrusion detection and prevention (security/intrusion.h) and the egress allow-list.
struct SecurityConfig {
  bool intrusion_detection = true;
  int auth_failures = 20;  // refused authentications per source or credential within the window
  int not_found = 50;      // 404s on ids per source within the window
  std::int64_t window_seconds = 300;
  std::int64_t block_seconds = 60;  // the first block; each one in a row doubles
  std::int64_t block_max_seconds = 86400;
  // Every security event POSTed as JSON, signed (X-Herald-Signature: sha256=HMAC of the body with
  // the secret in the environment variable `webhook_secret_env`), under the callbacks' outbound
  // rules. Empty: none.
  std::string webhook_url;
  std::string webhook_secret_env = "HERALD_SECURITY_WEBHOOK_SECRET";
  std::string webhook_secret;
  // Sources never blocked (events are still raised); by default this machine's loopback.
  std::vector<std::string> never_block = {"127.0.0.0/8", "::1/128"};
  // CIDR networks outbound connections may reach (empty: any the SSRF guard allows).
  std::vector<std::string> egress_allow;
};

// [compliance]: the evidence `herald compliance report` and the daily advisory check read
// (docs/compliance.md). Herald fetches nothing: the operator supplies the advisory feed.
struct ComplianceConfig {
  std::string advisory_feed;  // a Debian security tracker JSON or OSV file; empty: not checked
  std::string sbom;           // the running build's SPDX SBOM; empty: release_dir's sbom.spdx.json
  std::string debian_release = "bookworm";
  std::string release_dir;      // the release the running binary was deployed from
  std::string release_trust;    // the trust file its signatures are checked against
  std::string pentest_results;  // a directory of dated penetration-test results (pentest/results)
  int pentest_max_age_days = 365;
};

struct Config {
  std::string path;  // of the file itself
  ComplianceConfig compliance;
  AdminConfig admin;
  MetricsConfig metrics;
  SecurityConfig security;
  NhsConfig nhs;
  NhsPlatformConfig nhs_platform;
  NhsAppConfig nhs_app;
  std::string pds_url;  // [pds] url: PDS FHIR's base, for [nhs] demographics = "pds"
  net::ServerOptions server;
  std::string public_url;  // optional; absolute URLs otherwise follow the Host header
  std::string database_path;
  // PostgreSQL instead of the embedded SQLite file: a libpq URI (sslmode=verify-full and
  // sslrootcert=... for TLS; keep the password in a passfile or PGPASSWORD, not here).
  std::string store_url;
  // PostgreSQL, per process role (store/postgres/roles.h, `herald store grants`): the URL that
  // role's processes connect with, as a database role holding only its grants; empty: store_url.
  // store_url stays the owner's (migrations, the CLI). with_store_role() picks one.
  std::string store_api_url;        // serve --role api
  std::string store_worker_url;     // serve --role worker
  std::string store_admin_url;      // serve --role admin
  std::string store_retention_url;  // herald retention run
  // False once with_store_role() put a role's URL in store_url: that process checks the schema
  // version and never migrates (its role may not).
  bool store_migrate = true;
  std::size_t store_connections = 8;  // PostgreSQL: pooled connections for reads and admin writes
  std::size_t store_writers = 2;      // PostgreSQL: batch-writer connections
  Duration commit_gather = Duration::zero();  // store.commit_gather_us (PostgreSQL: 1000 us)
  std::string keyring_path;
  std::string key_store_path;  // keys.db, or a postgresql:// URL (schema herald_keys): data keys, wrapped under the KEK
  // Where the key-encryption key lives: "keyring" (the keyring file) or "pkcs11" (a token;
  // the KEK never leaves it). The PIN is read from a 0600 file, never from the config.
  std::string kek_source = "keyring";
  std::string pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string pkcs11_token;
  std::string pkcs11_pin_file;
  int retention_interval_minutes = 60;  // how often `serve` runs the retention job
  // [retention] in_serve: whether `serve` on a delivery role runs retention. false: it runs as
  // `herald retention run` from a timer (with store.retention_url, its own database role).
  bool retention_in_serve = true;
  std::string audit_checkpoint_path;    // append-only file of signed chain heads
  bool audit_syslog = true;
  int audit_checkpoint_seconds = 60;    // how often `serve` signs the chain head
  std::string email_domain = "notifications.herald.localhost";
  delivery::smtp::SmtpOptions smtp;
  SmsConfig sms;
  LettersConfig letters;
  // Callbacks to services' URLs; callbacks.http.policy refuses private addresses unless
  // callbacks.allow_private_addresses (an operator setting for closed networks and tests).
  delivery::CallbackOptions callbacks;
  delivery::WorkerOptions worker;
  std::size_t api_threads = 4;
  std::size_t delivery_connections = 4;  // relay connections, one delivery thread each
  std::string log_level = "info";
  bool store_plaintext_for_test = false;  // honoured only with HERALD_TESTING=1
  // Keys of the file whose names say they hold a secret written inline (never read: secrets come
  // from the environment or files); `herald config check` reports them.
  std::vector<std::string> inline_secret_keys;
};

Result<Config> load_config(const std::string& path);
// kInvalidArgument naming the variable when an SMS provider in `config` has no API key. Only what
// sends through the providers checks it (`serve` with a delivery role), so administration never
// needs a provider's secrets.
Result<void> check_sms_provider_secrets(const Config& config);
bool is_postgres_url(std::string_view value);
// `config` as a process of `role` ("api", "worker", "admin", "retention"; anything else, e.g.
// "all", changes nothing) uses it: that role's store URL, when set, replaces store_url (and
// keys.store when that was the same URL), and store_migrate becomes false.
Config with_store_role(Config config, std::string_view role);
// A connection URL fit to print: any password replaced by ***.
std::string without_password(std::string_view url);

// The configuration `herald init` writes for a new data directory.
struct Pkcs11Init {
  std::string module;
  std::string token;  // empty: the KEK goes in the keyring file
  std::string pin_file;
};
// `store_url`: PostgreSQL for the store and the data keys (empty: the SQLite files).
std::string default_config_text(std::uint16_t port, std::uint16_t smtp_port, const Pkcs11Init& pkcs11,
                                const std::string& store_url = "");

}  // namespace herald::cli
