#include "cli/config_check.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/json.h"
#include "crypto/self_signed.h"

namespace herald::cli {
namespace {

constexpr auto kDay = std::chrono::hours(24);

std::int64_t days(Duration d) { return std::chrono::duration_cast<std::chrono::hours>(d).count() / 24; }

ConfigCheck pass(std::string id, std::string found) {
  return {std::move(id), true, Severity::kLow, std::move(found), ""};
}
ConfigCheck finding(std::string id, Severity severity, std::string found, std::string fix) {
  return {std::move(id), false, severity, std::move(found), std::move(fix)};
}

bool loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" || address.starts_with("127.");
}

// A node serves beyond this machine: its API listens on another address or has a public URL.
bool in_production(const Config& config) { return !loopback(config.server.address) || !config.public_url.empty(); }

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

// A file holding a secret: owned by the running user, no access for others, and for group at
// most reading (`group_read`: the packaged config is root:herald 0640).
ConfigCheck secret_file(const std::string& id, const std::string& path, unsigned running_user, bool group_read) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return finding(id, Severity::kHigh, path + " is missing or unreadable",
                   "restore it, or correct its path in the configuration");
  }
  const unsigned mode = st.st_mode & 07777;
  const std::string found = path + " mode " + octal(mode) + " owner uid " + std::to_string(st.st_uid);
  if ((mode & 0007) != 0) {
    return finding(id, Severity::kHigh, found + ": other users can read or change it", "chmod 0600 " + path);
  }
  if ((mode & 0070) != 0 && (!group_read || (mode & 0030) != 0)) {
    return finding(id, Severity::kMedium, found + ": its group can " + ((mode & 0020) != 0 ? "change" : "read") + " it",
                   "chmod 0600 " + path);
  }
  if (st.st_uid != running_user && st.st_uid != 0) {
    return finding(id, Severity::kMedium, found + ": owned by another user than the one running Herald",
                   "chown it to the user Herald runs as");
  }
  return pass(id, found);
}

void check_tls(const Config& config, Timestamp now, std::vector<ConfigCheck>& out) {
  out.push_back(pass("tls.protocols",
                     "TLS 1.2 minimum (1.3 preferred); TLS 1.2 only with ECDHE and AES-GCM or ChaCha20-Poly1305; no "
                     "compression or renegotiation (fixed in Herald)"));
  auto cert = crypto::read_certificate(config.server.certificate_file);
  if (!cert) {
    out.push_back(finding("tls.certificate", Severity::kHigh, cert.error().message,
                          "point server.certificate at your certificate chain (PEM)"));
    return;
  }
  const std::string what = cert->subject + ", issued by " + cert->issuer + ", valid until " +
                           format_timestamp(cert->not_after).substr(0, 10);
  if (cert->not_after <= now) {
    out.push_back(
        finding("tls.certificate", Severity::kHigh, what + ": expired", "renew it, then `systemctl reload herald`"));
  } else if (cert->not_after - now < 14 * kDay) {
    out.push_back(finding("tls.certificate", Severity::kHigh,
                          what + ": expires in " + std::to_string(days(cert->not_after - now)) + " days",
                          "renew it, then `systemctl reload herald` (SIGHUP reloads it without dropping connections)"));
  } else if (cert->not_after - now < 30 * kDay) {
    out.push_back(finding("tls.certificate", Severity::kMedium,
                          what + ": expires in " + std::to_string(days(cert->not_after - now)) + " days",
                          "renew it, then `systemctl reload herald`"));
  } else if (cert->self_signed) {
    const bool production = in_production(config);
    out.push_back(
        finding("tls.certificate", production ? Severity::kHigh : Severity::kLow,
                what + ": self-signed (the demo certificate `herald init` makes)" +
                    (production ? ", on a node that serves beyond this machine" : ", on a loopback-only node"),
                "use a certificate from your organisation's or a public CA (server.certificate, "
                "server.private_key)"));
  } else {
    out.push_back(pass("tls.certificate", what));
  }
  const bool weak =
      (cert->key_type == "RSA" && cert->key_bits < 2048) || (cert->key_type == "EC" && cert->key_bits < 256);
  if (weak) {
    out.push_back(finding("tls.key", Severity::kHigh, cert->key_type + " " + std::to_string(cert->key_bits) + " bits",
                          "a new key: EC P-256 or RSA 2048 bits or more"));
  } else {
    out.push_back(pass("tls.key", cert->key_type + " " + std::to_string(cert->key_bits) + " bits"));
  }
}

void check_listeners(const Config& config, std::vector<ConfigCheck>& out) {
  if (loopback(config.admin.address)) {
    out.push_back(pass("listeners.admin", "admin web UI on " + config.admin.address + " (loopback)"));
  } else {
    out.push_back(finding("listeners.admin", Severity::kMedium, "admin web UI listens on " + config.admin.address,
                          "keep [admin] address on loopback behind a VPN or reverse proxy, or firewall it to your "
                          "administrators' network"));
  }
  if (!config.metrics.enabled || loopback(config.metrics.address)) {
    out.push_back(pass("listeners.metrics", config.metrics.enabled
                                                ? "health and metrics on " + config.metrics.address + " (loopback)"
                                                : "health and metrics listener off"));
  } else {
    out.push_back(finding("listeners.metrics", Severity::kMedium,
                          "health and metrics listen on " + config.metrics.address,
                          "keep [metrics] address on loopback, or firewall it to the Prometheus server"));
  }
}

void check_files(const Config& config, unsigned running_user, std::vector<ConfigCheck>& out) {
  out.push_back(secret_file("files.config", config.path, running_user, true));
  out.push_back(secret_file("files.keyring", config.keyring_path, running_user, false));  // audit signing keys too
  if (config.kek_source == "pkcs11") {
    out.push_back(secret_file("files.pkcs11_pin", config.pkcs11_pin_file, running_user, false));
  }
  out.push_back(secret_file("files.tls_private_key", config.server.private_key_file, running_user, false));
  if (config.store_url.empty()) {
    out.push_back(secret_file("files.database", config.database_path, running_user, false));
    out.push_back(secret_file("files.data_keys", config.key_store_path, running_user, false));
  }
  if (config.letters.sftp) {
    out.push_back(secret_file("files.sftp_private_key", config.letters.sftp->private_key_file, running_user, false));
  }
  if (!config.nhs_platform.private_key_file.empty()) {
    out.push_back(
        secret_file("files.nhs_platform_private_key", config.nhs_platform.private_key_file, running_user, false));
  }
}

void check_secrets(const Config& config, std::vector<ConfigCheck>& out) {
  std::vector<std::string> inline_keys = config.inline_secret_keys;
  for (auto [key, url] :
       {std::pair{"store.url", &config.store_url}, std::pair{"store.api_url", &config.store_api_url},
        std::pair{"store.worker_url", &config.store_worker_url}, std::pair{"store.admin_url", &config.store_admin_url},
        std::pair{"store.retention_url", &config.store_retention_url}}) {
    if (!url->empty() && without_password(*url) != *url)
      inline_keys.push_back(std::string(key) + " (a password in the URL)");
  }
  if (inline_keys.empty()) {
    out.push_back(pass("secrets.inline", "no secret written in the configuration file"));
    return;
  }
  std::string keys;
  for (const auto& key : inline_keys) keys += (keys.empty() ? "" : ", ") + key;
  out.push_back(finding("secrets.inline", Severity::kHigh, "secrets written in the configuration: " + keys,
                        "remove them; give passwords and keys in the environment (the *_env keys) or in 0600 files "
                        "(*_file keys); PostgreSQL's in a passfile (PGPASSFILE) or PGPASSWORD"));
}

void check_operations(Context& context, Timestamp now, std::vector<ConfigCheck>& out) {
  const Config& config = context.config;
  if (config.retention_interval_minutes > 24 * 60) {
    out.push_back(finding("retention.interval", Severity::kMedium,
                          "retention runs every " + std::to_string(config.retention_interval_minutes) + " minutes",
                          "[retention] interval_minutes = 60: personal data must go within a day of its period"));
  } else {
    out.push_back(pass("retention.interval",
                       "retention runs every " + std::to_string(config.retention_interval_minutes) + " minutes"));
  }
  auto marks = context.store->marks("backup.");
  std::optional<Timestamp> created;
  std::optional<Timestamp> verified;
  std::optional<Timestamp> drilled;
  if (marks) {
    for (const auto& [name, at] : *marks) {
      if (name == "backup.created") created = at;
      if (name == "backup.verified") verified = at;
      if (name == "backup.restore_drill") drilled = at;
    }
  }
  if (!marks) {
    out.push_back(finding("backups.recent", Severity::kHigh, "cannot read the store: " + marks.error().message,
                          "check the store"));
  } else if (!created) {
    out.push_back(finding("backups.recent", Severity::kHigh, "no backup has been made",
                          "`herald backup create FILE` daily (a timer), off the host"));
  } else if (now - *created > std::chrono::hours(26)) {
    out.push_back(finding("backups.recent", Severity::kHigh,
                          "the last backup is " + std::to_string(days(now - *created)) + " days old",
                          "`herald backup create FILE` daily"));
  } else {
    out.push_back(pass("backups.recent", "last backup " + format_timestamp(*created)));
  }
  if (marks && (!verified || now - *verified > 8 * kDay)) {
    out.push_back(
        finding("backups.verified", Severity::kMedium,
                verified ? "no backup verified since " + format_timestamp(*verified) : "no backup has been verified",
                "`herald backup verify FILE` weekly, and a restore drill"));
  } else if (marks) {
    out.push_back(pass("backups.verified", "last verified " + format_timestamp(*verified)));
  }
  // A verification reads every byte; only a restore shows the copy opens. Monthly, as a drill.
  if (marks && (!drilled || now - *drilled > 35 * kDay)) {
    out.push_back(
        finding("backups.restore_drill", Severity::kMedium,
                drilled ? "no restore drill since " + format_timestamp(*drilled) : "no restore drill has passed",
                "`herald backup verify --restore-drill FILE` monthly"));
  } else if (marks) {
    out.push_back(pass("backups.restore_drill", "last restore drill passed " + format_timestamp(*drilled)));
  }
  auto versions = context.keys->kek().versions();
  if (!versions) {
    out.push_back(
        finding("keys.kek_age", Severity::kHigh, versions.error().message, "check the key-encryption key's source"));
  } else {
    for (const auto& v : *versions) {
      if (!v.active) continue;
      if (now - v.created > 365 * kDay) {
        out.push_back(finding("keys.kek_age", Severity::kMedium,
                              v.id + " is " + std::to_string(days(now - v.created)) + " days old",
                              "`herald keys rotate` (new key-encryption key, data keys rewrapped)"));
      } else {
        out.push_back(pass("keys.kek_age", v.id + " is " + std::to_string(days(now - v.created)) + " days old"));
      }
    }
  }
  auto audit = context.audit->checkpoint_status();
  if (!audit) {
    out.push_back(finding("audit.checkpoints", Severity::kHigh, audit.error().message, "check audit.checkpoints"));
  } else if (audit->oldest_unchecked && now - *audit->oldest_unchecked > std::chrono::hours(1)) {
    out.push_back(
        finding("audit.checkpoints", Severity::kHigh,
                std::to_string(audit->unchecked) + " audit entries have waited over an hour for a signed checkpoint",
                "run `herald serve` (it checkpoints each minute) or `herald audit checkpoint`"));
  } else {
    out.push_back(pass("audit.checkpoints", audit->last_checkpoint
                                                ? "last checkpoint " + format_timestamp(*audit->last_checkpoint)
                                                : "nothing to checkpoint yet"));
  }
  if (config.audit_syslog) {
    out.push_back(pass("audit.witness", "checkpoints also go to syslog (LOG_AUTHPRIV)"));
  } else {
    out.push_back(finding("audit.witness", Severity::kMedium, "checkpoints go to the local file only",
                          "[audit] syslog = true, and ship syslog off the host"));
  }
}

void check_process_and_peers(const Config& config, unsigned running_user, std::vector<ConfigCheck>& out) {
  rlimit core{};
  ::getrlimit(RLIMIT_CORE, &core);
  const bool dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0;
  if (core.rlim_cur == 0 && !dumpable) {
    out.push_back(pass("process.core_dumps", "off (no core file, not dumpable, no ptrace by the same user)"));
  } else {
    out.push_back(finding("process.core_dumps", Severity::kHigh, "core dumps are possible", "LimitCORE=0 in the unit"));
  }
  if (running_user == 0) {
    out.push_back(finding("process.user", Severity::kHigh, "running as root",
                          "run as the herald user (the Debian package's units do)"));
  } else {
    out.push_back(pass("process.user", "uid " + std::to_string(running_user)));
  }
  if (!config.smtp.require_starttls && !loopback(config.smtp.host)) {
    out.push_back(finding("smtp.tls", Severity::kHigh, "email goes to " + config.smtp.host + " without STARTTLS",
                          "[smtp] require_starttls = true"));
  } else {
    out.push_back(pass("smtp.tls", config.smtp.require_starttls ? "STARTTLS required" : "relay on loopback"));
  }
  if (config.callbacks.http.policy == net::AddressPolicy::kAny) {
    out.push_back(finding("callbacks.private_addresses", Severity::kMedium,
                          "callbacks may go to private and loopback addresses (SSRF guard off)",
                          "remove callbacks.allow_private_addresses unless this is a closed network"));
  } else {
    out.push_back(pass("callbacks.private_addresses", "callbacks go to public addresses only"));
  }
  if (config.nhs.sandbox || config.nhs.trigger_numbers) {
    out.push_back(finding("nhs.test_modes", in_production(config) ? Severity::kHigh : Severity::kLow,
                          config.nhs.sandbox ? "NHS Notify's API is the sandbox" : "NHS sandbox trigger numbers are on",
                          "[nhs] sandbox = false and trigger_numbers = false in production"));
  } else {
    out.push_back(pass("nhs.test_modes", "off"));
  }
  if (!config.security.intrusion_detection) {
    out.push_back(finding("security.intrusion_detection", Severity::kMedium,
                          "off: no blocks of guessing or enumerating addresses, no security events",
                          "[security] intrusion_detection = true"));
  } else {
    const auto loopback_only = [](const std::string& n) { return n == "127.0.0.0/8" || n == "::1/128"; };
    const bool wide =
        !std::all_of(config.security.never_block.begin(), config.security.never_block.end(), loopback_only);
    out.push_back(wide ? finding("security.intrusion_detection", Severity::kLow,
                                 "on, but security.never_block exempts networks beyond this machine",
                                 "leave never_block to the loopback unless a proxy on another host sends all traffic")
                       : pass("security.intrusion_detection", config.security.webhook_url.empty()
                                                                  ? "on (events to the audit log and syslog)"
                                                                  : "on (events also to the SIEM webhook)"));
  }
  if (config.log_level == "debug") {
    out.push_back(finding("log.level", Severity::kLow, "debug", "[log] level = \"info\""));
  } else {
    out.push_back(pass("log.level", config.log_level));
  }
}

}  // namespace

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::kHigh: return "high";
    case Severity::kMedium: return "medium";
    case Severity::kLow: break;
  }
  return "low";
}

std::vector<ConfigCheck> check_configuration(const Config& config, Context* context, const std::string& open_error,
                                             Timestamp now, unsigned running_user) {
  std::vector<ConfigCheck> out;
  check_tls(config, now, out);
  check_listeners(config, out);
  check_files(config, running_user, out);
  check_secrets(config, out);
  if (context != nullptr) {
    out.push_back(pass("store.open", "the store and the data keys open"));
    check_operations(*context, now, out);
  } else {
    out.push_back(finding("store.open", Severity::kHigh, "the store or keys would not open: " + open_error,
                          "put right what the message names (a keyring must be mode 0600), then check again"));
  }
  check_process_and_peers(config, running_user, out);
  return out;
}

bool any_high(const std::vector<ConfigCheck>& checks) {
  for (const auto& check : checks) {
    if (!check.passed && check.severity == Severity::kHigh) return true;
  }
  return false;
}

std::string config_report_text(const std::vector<ConfigCheck>& checks) {
  std::string text;
  int findings = 0;
  for (const auto& check : checks) {
    std::string label = check.passed ? "PASS" : severity_name(check.severity);
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    label.resize(7, ' ');
    text += label + check.id + ": " + check.found + "\n";
    if (!check.passed) {
      text += "       fix: " + check.fix + "\n";
      ++findings;
    }
  }
  text += std::to_string(checks.size()) + " checks, " + std::to_string(findings) + " findings\n";
  return text;
}

std::string config_report_json(const std::vector<ConfigCheck>& checks) {
  json::Array items;
  for (const auto& check : checks) {
    json::Object item{{"id", json::Value::string(check.id)},
                      {"result", json::Value::string(check.passed ? "pass" : severity_name(check.severity))},
                      {"found", json::Value::string(check.found)}};
    if (!check.passed) item.emplace_back("fix", json::Value::string(check.fix));
    items.push_back(json::Value::object(std::move(item)));
  }
  return json::serialize(json::Value::object(
             {{"checks", json::Value::array(std::move(items))}, {"high", json::Value::boolean(any_high(checks))}})) +
         "\n";
}

int run_config_check(const std::string& config_path, bool json) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  auto context = open_context(*config);
  const auto checks =
      check_configuration(*config, context ? &*context : nullptr, context ? std::string() : context.error().message,
                          SystemClock().now(), ::geteuid());
  std::cout << (json ? config_report_json(checks) : config_report_text(checks));
  return any_high(checks) ? 1 : 0;
}

}  // namespace herald::cli
