#include "cli/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "cli/sms_providers.h"
#include "core/cidr.h"
#include "core/url.h"

namespace herald::cli {
namespace {

std::string resolve(const std::filesystem::path& base, const std::string& value) {
  if (value.empty()) return value;
  std::filesystem::path p(value);
  return p.is_absolute() ? value : (base / p).lexically_normal().string();
}

template <typename T>
T get(const toml::table& table, std::string_view path, T fallback) {
  return table.at_path(path).value_or(fallback);
}

void read_server(const toml::table& t, const std::filesystem::path& base, Config& c) {
  c.server.address = get<std::string>(t, "server.listen", c.server.address);
  c.server.port = static_cast<std::uint16_t>(get<std::int64_t>(t, "server.port", c.server.port));
  c.server.certificate_file = resolve(base, get<std::string>(t, "server.certificate", "tls/cert.pem"));
  c.server.private_key_file = resolve(base, get<std::string>(t, "server.private_key", "tls/key.pem"));
  c.server.threads = static_cast<std::size_t>(get<std::int64_t>(t, "server.threads", 2));
  c.server.max_body_bytes = static_cast<std::size_t>(get<std::int64_t>(t, "server.max_body_bytes",
                                                                       static_cast<std::int64_t>(c.server.max_body_bytes)));
  c.server.request_timeout = std::chrono::seconds(get<std::int64_t>(t, "server.request_timeout_seconds", 30));
  c.server.handshake_timeout = std::chrono::seconds(get<std::int64_t>(t, "server.handshake_timeout_seconds", 10));
  c.server.idle_timeout = std::chrono::seconds(get<std::int64_t>(t, "server.idle_timeout_seconds", 30));
  c.server.max_connections = static_cast<std::size_t>(
      get<std::int64_t>(t, "server.max_connections", static_cast<std::int64_t>(c.server.max_connections)));
  c.server.max_connections_per_source = static_cast<std::size_t>(get<std::int64_t>(
      t, "server.max_connections_per_source", static_cast<std::int64_t>(c.server.max_connections_per_source)));
  c.public_url = get<std::string>(t, "server.public_url", "");
  if (!c.public_url.empty() && c.public_url.back() != '/') c.public_url += '/';
  c.api_threads = static_cast<std::size_t>(get<std::int64_t>(t, "server.api_threads", 4));
}

void read_smtp(const toml::table& t, const std::filesystem::path& base, Config& c) {
  auto& s = c.smtp;
  s.host = get<std::string>(t, "smtp.host", "127.0.0.1");
  s.port = static_cast<std::uint16_t>(get<std::int64_t>(t, "smtp.port", 25));
  s.require_starttls = get<bool>(t, "smtp.require_starttls", false);
  s.ca_file = resolve(base, get<std::string>(t, "smtp.ca_file", ""));
  s.tls_server_name = get<std::string>(t, "smtp.tls_server_name", "");
  s.username = get<std::string>(t, "smtp.username", "");
  // The password is never in the file: it comes from the environment variable named here.
  const std::string password_env = get<std::string>(t, "smtp.password_env", "HERALD_SMTP_PASSWORD");
  if (const char* password = std::getenv(password_env.c_str())) s.password = password;
  s.helo_name = get<std::string>(t, "smtp.helo_name", "localhost");
  s.timeout = std::chrono::milliseconds(get<std::int64_t>(t, "smtp.timeout_ms", 10000));
  s.message_id_domain = c.email_domain;
}

std::string env_or_empty(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value != nullptr ? value : "";
}

std::string upper(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

// [sms] providers = ["firetext", "mmg"], then one [sms.<name>] table each. Secrets (API keys,
// receipt passwords) come from environment variables named in the file, never the file itself.
Result<void> read_sms(const toml::table& t, const std::filesystem::path& base, Config& c, const std::string& path) {
  auto& sms = c.sms;
  sms.default_sender = get<std::string>(t, "sms.default_sender", sms.default_sender);
  sms.rate_in_pounds = get<double>(t, "sms.rate_in_pounds", sms.rate_in_pounds);
  sms.failover.failures_to_switch = static_cast<int>(get<std::int64_t>(t, "sms.failures_to_switch", 3));
  sms.failover.retry_after = std::chrono::seconds(get<std::int64_t>(t, "sms.retry_after_seconds", 30));
  // Where providers post receipts: this server's public URL unless given.
  std::string receipt_base = get<std::string>(t, "sms.receipt_base_url", c.public_url);
  if (!receipt_base.empty() && receipt_base.back() != '/') receipt_base += '/';
  const toml::array* names = t.at_path("sms.providers").as_array();
  if (names == nullptr) return ok();
  for (const auto& entry : *names) {
    const auto name = entry.value<std::string>();
    const delivery::sms::SmsProviderKind* kind = name ? find_sms_provider_kind(*name) : nullptr;
    if (kind == nullptr) {
      std::string known;
      for (const auto* k : sms_provider_kinds()) known += (known.empty() ? "\"" : ", \"") + std::string(k->name) + "\"";
      return invalid_argument("config " + path + ": sms.providers may list " + known);
    }
    const std::string at = "sms." + *name + ".";
    SmsProviderConfig p;
    p.kind = kind;
    p.name = *name;
    p.options.url = get<std::string>(t, at + "url", "");
    p.options.api_key = env_or_empty(get<std::string>(t, at + "api_key_env", "HERALD_" + upper(*name) + "_API_KEY"));
    p.options.international_api_key =
        env_or_empty(get<std::string>(t, at + "international_api_key_env", "HERALD_" + upper(*name) + "_INTERNATIONAL_API_KEY"));
    p.options.http.ca_file = resolve(base, get<std::string>(t, at + "ca_file", ""));
    p.options.http.timeout = std::chrono::milliseconds(get<std::int64_t>(t, at + "timeout_ms", 10000));
    // The provider is the operator's choice, not a service's: any address it resolves to.
    p.options.http.policy = net::AddressPolicy::kAny;
    p.receipt_username = get<std::string>(t, at + "receipt_username", *name);
    p.receipt_password =
        env_or_empty(get<std::string>(t, at + "receipt_password_env", "HERALD_" + upper(*name) + "_RECEIPT_PASSWORD"));
    // A missing key is reported by check_sms_provider_secrets, to the commands that talk to
    // the provider: administration from the shell must not need a provider's secrets.
    p.api_key_env = get<std::string>(t, at + "api_key_env", "HERALD_" + upper(*name) + "_API_KEY");
    if (!receipt_base.empty() && !p.receipt_password.empty() && receipt_base.rfind("https://", 0) == 0) {
      p.options.receipt_url = "https://" + percent_encode(p.receipt_username) + ":" + percent_encode(p.receipt_password) +
                              "@" + receipt_base.substr(8) + "notifications/sms/" + *name;
    }
    sms.providers.push_back(std::move(p));
  }
  return ok();
}

// [letters] supplier = "sftp" with a [letters.sftp] table. The server's host key fingerprint is
// required: Herald never trusts a print supplier's key on first use.
Result<void> read_letters(const toml::table& t, const std::filesystem::path& base, Config& c, const std::string& path) {
  const auto batch_size = get<std::int64_t>(t, "letters.batch_size", c.letters.batch_size);
  if (batch_size < 1 || batch_size > 100'000) return invalid_argument("config " + path + ": letters.batch_size must be 1..100000");
  c.letters.batch_size = static_cast<int>(batch_size);
  const auto report_interval = get<std::int64_t>(t, "letters.report_interval_seconds", c.letters.report_interval_seconds);
  if (report_interval < 1 || report_interval > 86'400) {
    return invalid_argument("config " + path + ": letters.report_interval_seconds must be 1..86400");
  }
  c.letters.report_interval_seconds = static_cast<int>(report_interval);
  if (const std::string logo = get<std::string>(t, "letters.logo_png", ""); !logo.empty()) {
    c.letters.logo_png = resolve(base, logo);
    if (!std::filesystem::is_regular_file(*c.letters.logo_png)) {
      return invalid_argument("config " + path + ": letters.logo_png " + *c.letters.logo_png + " is not a file");
    }
  }
  if (const toml::table* prices = t.at_path("letters.prices").as_table()) {
    for (const auto& [postage, figures] : *prices) {
      const std::string name(postage.str());
      if (name != "first" && name != "second" && name != "economy" && name != "europe" && name != "rest-of-world") {
        return invalid_argument("config " + path + ": letters.prices." + name +
                                ": postage must be first, second, economy, europe or rest-of-world");
      }
      const toml::array* list = figures.as_array();
      if (list == nullptr || list->empty() || list->size() > 5) {
        return invalid_argument("config " + path + ": letters.prices." + name +
                                " must list the price of 1 to 5 sheets, e.g. [0.85, 0.92, 0.99]");
      }
      std::vector<double> by_sheets;
      for (const auto& figure : *list) {
        const auto pounds = figure.value<double>();
        if (!pounds || *pounds < 0 || *pounds > 100) {
          return invalid_argument("config " + path + ": letters.prices." + name + " holds a price that is not 0-100 pounds");
        }
        by_sheets.push_back(*pounds);
      }
      c.letters.prices.by_postage[name] = std::move(by_sheets);
    }
  }
  const std::string supplier = get<std::string>(t, "letters.supplier", "");
  if (supplier.empty()) return ok();
  if (supplier != "sftp") {
    return invalid_argument("config " + path + ": letters.supplier may be \"sftp\" (or left out: letters stay created)");
  }
  delivery::letters::SftpSupplierOptions sftp;
  sftp.host = get<std::string>(t, "letters.sftp.host", "");
  const auto port = get<std::int64_t>(t, "letters.sftp.port", sftp.port);
  sftp.username = get<std::string>(t, "letters.sftp.username", "");
  sftp.private_key_file = resolve(base, get<std::string>(t, "letters.sftp.private_key_file", ""));
  sftp.host_key_sha256 = get<std::string>(t, "letters.sftp.host_key_sha256", "");
  sftp.remote_dir = get<std::string>(t, "letters.sftp.remote_dir", "");
  const auto timeout_ms = get<std::int64_t>(t, "letters.sftp.timeout_ms", sftp.timeout.count());
  if (sftp.host.empty() || sftp.username.empty() || sftp.private_key_file.empty()) {
    return invalid_argument("config " + path + ": letters.sftp needs host, username and private_key_file");
  }
  if (port < 1 || port > 65535) return invalid_argument("config " + path + ": letters.sftp.port must be 1..65535");
  sftp.port = static_cast<std::uint16_t>(port);
  if (!delivery::letters::is_sha256_fingerprint(sftp.host_key_sha256)) {
    return invalid_argument("config " + path + ": letters.sftp.host_key_sha256 must be the server's host key "
                            "fingerprint, \"SHA256:...\" as `ssh-keygen -lf <key.pub> -E sha256` prints it");
  }
  if (timeout_ms < 1 || timeout_ms > 600'000) return invalid_argument("config " + path + ": letters.sftp.timeout_ms must be 1..600000");
  sftp.timeout = std::chrono::milliseconds(timeout_ms);
  c.letters.sftp = std::move(sftp);
  return ok();
}

void read_callbacks(const toml::table& t, const std::filesystem::path& base, Config& c) {
  auto& cb = c.callbacks;
  cb.http.policy = get<bool>(t, "callbacks.allow_private_addresses", false) ? net::AddressPolicy::kAny
                                                                          : net::AddressPolicy::kPublicOnly;
  cb.http.ca_file = resolve(base, get<std::string>(t, "callbacks.ca_file", ""));
  cb.http.timeout = std::chrono::milliseconds(get<std::int64_t>(t, "callbacks.timeout_ms", 5000));
  cb.http.max_response_bytes = 64 * 1024;
  cb.retry_delay = std::chrono::milliseconds(get<std::int64_t>(t, "callbacks.retry_ms", 300000));
  cb.max_retries = static_cast<int>(get<std::int64_t>(t, "callbacks.max_retries", 5));
}

void read_delivery(const toml::table& t, Config& c) {
  auto& w = c.worker;
  w.batch_size = static_cast<int>(get<std::int64_t>(t, "delivery.batch_size", 50));
  c.delivery_connections = static_cast<std::size_t>(get<std::int64_t>(t, "delivery.connections", 4));
  w.lease = std::chrono::seconds(get<std::int64_t>(t, "delivery.lease_seconds", 120));
  w.retry.max_attempts = static_cast<int>(get<std::int64_t>(t, "delivery.max_attempts", 5));
  w.retry.first_delay = std::chrono::milliseconds(get<std::int64_t>(t, "delivery.first_retry_ms", 30000));
  w.retry.max_delay = std::chrono::milliseconds(get<std::int64_t>(t, "delivery.max_retry_ms", 1800000));
}

}  // namespace

bool is_postgres_url(std::string_view value) {
  return value.starts_with("postgresql://") || value.starts_with("postgres://");
}

std::string without_password(std::string_view url) {
  std::string out(url);
  // postgresql://user:PASSWORD@host/...
  const auto scheme = out.find("://");
  const auto at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const auto colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ...?password=PASSWORD&...
  for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const auto end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
  }
  return out;
}

Result<void> check_sms_provider_secrets(const Config& config) {
  for (const SmsProviderConfig& p : config.sms.providers) {
    if (p.options.api_key.empty()) {
      return invalid_argument("no API key for SMS provider " + p.name + " (set " + p.api_key_env + ")");
    }
  }
  return ok();
}

namespace {

// Keys whose names say they hold a secret, written in the file itself rather than named by an
// A list of CIDR networks at `key`, canonical, replacing `out` when the key is present.
Result<void> read_networks(const toml::table& t, const std::string& path, const std::string& key,
                           std::vector<std::string>& out) {
  const toml::node_view<const toml::node> node = t.at_path(key);
  if (!node) return ok();
  const toml::array* list = node.as_array();
  if (list == nullptr) return invalid_argument("config " + path + ": " + key + " must be a list of CIDR strings");
  out.clear();
  for (const auto& entry : *list) {
    auto text = entry.value<std::string>();
    if (!text) return invalid_argument("config " + path + ": " + key + " must be a list of CIDR strings");
    auto network = cidr::parse_network(*text);
    if (!network) return invalid_argument("config " + path + ": " + key + ": " + network.error().message);
    out.push_back(cidr::to_string(*network));
  }
  return ok();
}

Result<void> read_security(const toml::table& t, const std::string& path, SecurityConfig& sec) {
  sec.intrusion_detection = get<bool>(t, "security.intrusion_detection", sec.intrusion_detection);
  const auto auth_failures = get<std::int64_t>(t, "security.auth_failures", sec.auth_failures);
  const auto not_found = get<std::int64_t>(t, "security.not_found", sec.not_found);
  sec.window_seconds = get<std::int64_t>(t, "security.window_seconds", sec.window_seconds);
  sec.block_seconds = get<std::int64_t>(t, "security.block_seconds", sec.block_seconds);
  sec.block_max_seconds = get<std::int64_t>(t, "security.block_max_seconds", sec.block_max_seconds);
  if (auth_failures < 1 || auth_failures > 1000000 || not_found < 1 || not_found > 1000000) {
    return invalid_argument("config " + path + ": security.auth_failures and not_found must be 1-1000000");
  }
  sec.auth_failures = static_cast<int>(auth_failures);
  sec.not_found = static_cast<int>(not_found);
  if (sec.window_seconds < 1 || sec.block_seconds < 1 || sec.block_max_seconds < sec.block_seconds) {
    return invalid_argument("config " + path +
                            ": security.window_seconds and block_seconds must be 1 or more, and block_max_seconds "
                            "at least block_seconds");
  }
  sec.webhook_url = get<std::string>(t, "security.webhook_url", "");
  sec.webhook_secret_env = get<std::string>(t, "security.webhook_secret_env", sec.webhook_secret_env);
  sec.webhook_secret = env_or_empty(sec.webhook_secret_env);
  if (!sec.webhook_url.empty() && (!sec.webhook_url.starts_with("https://") || sec.webhook_secret.size() < 16)) {
    return invalid_argument("config " + path + ": security.webhook_url must be https:// and needs a secret of 16 " +
                            "or more characters in $" + sec.webhook_secret_env);
  }
  HERALD_TRY(read_networks(t, path, "security.egress_allow", sec.egress_allow));
  HERALD_TRY(read_networks(t, path, "security.never_block", sec.never_block));
  return ok();
}

// _env or _file key (`herald config check` reports them; Herald reads none of them).
void find_inline_secrets(const toml::table& table, const std::string& at, std::vector<std::string>& out) {
  for (const auto& [key, value] : table) {
    const std::string name = at.empty() ? std::string(key.str()) : at + "." + std::string(key.str());
    if (const auto* inner = value.as_table()) {
      find_inline_secrets(*inner, name, out);
      continue;
    }
    if (const auto* items = value.as_array()) {
      for (const auto& item : *items) {
        if (const auto* inner = item.as_table()) find_inline_secrets(*inner, name, out);
      }
      continue;
    }
    const std::string_view leaf = key.str();
    const bool secret_name = leaf.find("password") != std::string_view::npos ||
                             leaf.find("secret") != std::string_view::npos ||
                             leaf.find("api_key") != std::string_view::npos || leaf == "token" ||
                             leaf.ends_with("_token") || leaf == "pin" || leaf.ends_with("_pin");
    const bool named_elsewhere = leaf.ends_with("_env") || leaf.ends_with("_file");
    if (secret_name && !named_elsewhere && leaf != "pkcs11_token") out.push_back(name);
  }
}

}  // namespace

Result<Config> load_config(const std::string& path) {
  toml::table t;
  try {  // toml++ reports parse errors as exceptions: caught here, where they enter (rule 3)
    t = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return invalid_argument("config " + path + ": " + std::string(err.description()) + " (line " +
                            std::to_string(err.source().begin.line) + ")");
  }
  const std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  Config c;
  c.path = path;
  find_inline_secrets(t, "", c.inline_secret_keys);
  c.email_domain = get<std::string>(t, "email.domain", c.email_domain);
  read_server(t, base, c);
  c.admin.address = get<std::string>(t, "admin.address", c.admin.address);
  const std::int64_t admin_port = get<std::int64_t>(t, "admin.port", c.admin.port);
  if (admin_port < 0 || admin_port > 65535) return invalid_argument("config " + path + ": admin.port must be 0-65535");
  c.admin.port = static_cast<std::uint16_t>(admin_port);
  c.metrics.enabled = get<bool>(t, "metrics.enabled", c.metrics.enabled);
  c.metrics.address = get<std::string>(t, "metrics.address", c.metrics.address);
  const std::int64_t metrics_port =
      get<std::int64_t>(t, "metrics.port", c.server.port == 0 || c.server.port > 65533 ? 0 : c.server.port + 2);
  if (metrics_port < 0 || metrics_port > 65535) {
    return invalid_argument("config " + path + ": metrics.port must be 0-65535");
  }
  c.metrics.port = static_cast<std::uint16_t>(metrics_port);
  HERALD_TRY(read_security(t, path, c.security));
  c.compliance.advisory_feed = resolve(base, get<std::string>(t, "compliance.advisory_feed", ""));
  c.compliance.sbom = resolve(base, get<std::string>(t, "compliance.sbom", ""));
  c.compliance.debian_release = get<std::string>(t, "compliance.debian_release", c.compliance.debian_release);
  c.compliance.release_dir = resolve(base, get<std::string>(t, "compliance.release_dir", ""));
  c.compliance.release_trust = resolve(base, get<std::string>(t, "compliance.release_trust", ""));
  c.compliance.pentest_results = resolve(base, get<std::string>(t, "compliance.pentest_results", ""));
  const auto pentest_age = get<std::int64_t>(t, "compliance.pentest_max_age_days", c.compliance.pentest_max_age_days);
  if (pentest_age < 1 || pentest_age > 3650) {
    return invalid_argument("config " + path + ": compliance.pentest_max_age_days must be 1-3650");
  }
  c.compliance.pentest_max_age_days = static_cast<int>(pentest_age);
  c.metrics.max_backlog_seconds = get<std::int64_t>(t, "metrics.max_backlog_seconds", c.metrics.max_backlog_seconds);
  c.metrics.min_free_disk_mb = get<std::int64_t>(t, "metrics.min_free_disk_mb", c.metrics.min_free_disk_mb);
  if (c.metrics.max_backlog_seconds < 0 || c.metrics.min_free_disk_mb < 0) {
    return invalid_argument("config " + path + ": metrics.max_backlog_seconds and min_free_disk_mb must be 0 or more");
  }
  c.admin.public_url = get<std::string>(t, "admin.public_url", "");
  if (!c.admin.public_url.empty() &&
      (!c.admin.public_url.starts_with("https://") || !c.admin.public_url.ends_with("/"))) {
    return invalid_argument("config " + path + ": admin.public_url must be an https:// URL ending in '/'");
  }
  c.nhs.prefix = get<std::string>(t, "nhs.prefix", "/comms");
  if (c.nhs.prefix.size() < 2 || c.nhs.prefix.front() != '/' || c.nhs.prefix.back() == '/' ||
      c.nhs.prefix.starts_with("/v2") || c.nhs.prefix.starts_with("/oauth2")) {
    return invalid_argument("config " + path + ": nhs.prefix must be a path such as \"/comms\" (no trailing '/')");
  }
  c.nhs.token_url = get<std::string>(t, "nhs.token_url", c.public_url.empty() ? "" : c.public_url + "oauth2/token");
  c.nhs.rate_limit_per_minute = static_cast<int>(get<std::int64_t>(t, "nhs.rate_limit_per_minute", 1200));
  c.nhs.spike_arrest_per_minute = static_cast<int>(get<std::int64_t>(t, "nhs.spike_arrest_per_minute", 6000));
  if (c.nhs.rate_limit_per_minute < 1 || c.nhs.spike_arrest_per_minute < 1) {
    return invalid_argument("config " + path +
                            ": nhs.rate_limit_per_minute and nhs.spike_arrest_per_minute must be positive");
  }
  c.nhs.cascade_interval_ms = static_cast<int>(get<std::int64_t>(t, "nhs.cascade_interval_ms", 250));
  if (c.nhs.cascade_interval_ms < 10 || c.nhs.cascade_interval_ms > 60'000) {
    return invalid_argument("config " + path + ": nhs.cascade_interval_ms must be between 10 and 60000");
  }
  c.nhs.demographics = get<std::string>(t, "nhs.demographics", "local");
  c.nhs.sandbox = get<bool>(t, "nhs.sandbox", false);
  c.nhs.trigger_numbers = get<bool>(t, "nhs.trigger_numbers", false);
  if (c.nhs.demographics != "local" && c.nhs.demographics != "pds" && c.nhs.demographics != "none") {
    return invalid_argument("config " + path + ": nhs.demographics must be \"local\", \"pds\" or \"none\"");
  }
  {
    NhsPlatformConfig& p = c.nhs_platform;
    p.token_url = get<std::string>(t, "nhs_platform.token_url", "");
    p.api_key_env = get<std::string>(t, "nhs_platform.api_key_env", p.api_key_env);
    p.api_key = env_or_empty(p.api_key_env);
    p.kid = get<std::string>(t, "nhs_platform.kid", "");
    p.private_key_file = resolve(base, get<std::string>(t, "nhs_platform.private_key", ""));
    p.http.ca_file = resolve(base, get<std::string>(t, "nhs_platform.ca_file", ""));
    p.http.timeout = std::chrono::milliseconds(get<std::int64_t>(t, "nhs_platform.timeout_ms", 10000));
    p.http.policy = net::AddressPolicy::kAny;  // the operator's choice, as an SMS provider
    NhsAppConfig& a = c.nhs_app;
    a.url = get<std::string>(t, "nhs_app.url", "");
    while (!a.url.empty() && a.url.back() == '/') a.url.pop_back();
    a.receipt_path = get<std::string>(t, "nhs_app.receipt_path", a.receipt_path);
    if (const toml::array* sources = t.at_path("nhs_app.receipt_sources").as_array()) {
      for (const auto& entry : *sources) {
        if (auto source = entry.value<std::string>()) a.receipt_sources.push_back(*source);
      }
    }
    a.receipt_username = get<std::string>(t, "nhs_app.receipt_username", a.receipt_username);
    a.receipt_password =
        env_or_empty(get<std::string>(t, "nhs_app.receipt_password_env", "HERALD_NHS_APP_RECEIPT_PASSWORD"));
    if (a.receipt_path.empty() || a.receipt_path.front() != '/') {
      return invalid_argument("config " + path + ": nhs_app.receipt_path must start with '/'");
    }
    c.pds_url = get<std::string>(t, "pds.url", "");
    while (!c.pds_url.empty() && c.pds_url.back() == '/') c.pds_url.pop_back();
    if (c.nhs.demographics == "pds" && c.pds_url.empty()) {
      return invalid_argument("config " + path + ": nhs.demographics = \"pds\" needs pds.url");
    }
    if ((!a.url.empty() || !c.pds_url.empty()) &&
        (p.token_url.empty() || p.kid.empty() || p.private_key_file.empty())) {
      return invalid_argument("config " + path +
                              ": nhs_app.url and pds.url need nhs_platform.token_url, nhs_platform.kid and "
                              "nhs_platform.private_key");
    }
  }
  c.database_path = resolve(base, get<std::string>(t, "store.path", "herald.db"));
  // SQLite commits what queued meanwhile (a fixed wait cost 20% of the accept rate at 64
  // connections, issue 22); PostgreSQL's writers gather while another commits (issue 6).
  const bool on_postgres = is_postgres_url(get<std::string>(t, "store.url", ""));
  const auto gather_us = get<std::int64_t>(t, "store.commit_gather_us", on_postgres ? 1000 : 0);
  if (gather_us < 0 || gather_us > 100'000) {
    return invalid_argument("config " + path + ": store.commit_gather_us must be 0..100000");
  }
  c.commit_gather = std::chrono::microseconds(gather_us);
  c.store_url = get<std::string>(t, "store.url", "");
  if (!c.store_url.empty() && !is_postgres_url(c.store_url)) {
    return invalid_argument("config " + path + ": store.url must start with postgresql:// (leave it out for the "
                            "embedded SQLite store at store.path)");
  }
  for (auto [key, url] :
       {std::pair{"store.api_url", &c.store_api_url}, std::pair{"store.worker_url", &c.store_worker_url},
        std::pair{"store.admin_url", &c.store_admin_url}, std::pair{"store.retention_url", &c.store_retention_url}}) {
    *url = get<std::string>(t, key, "");
    if (!url->empty() && (c.store_url.empty() || !is_postgres_url(*url))) {
      return invalid_argument("config " + path + ": " + key + " must be a postgresql:// URL, beside store.url");
    }
  }
  c.store_connections = static_cast<std::size_t>(get<std::int64_t>(t, "store.connections", 8));
  c.store_writers = static_cast<std::size_t>(get<std::int64_t>(t, "store.writers", 2));
  if (c.store_connections < 1 || c.store_connections > 100 || c.store_writers < 1 || c.store_writers > 16) {
    return invalid_argument("config " + path + ": store.connections must be 1..100 and store.writers 1..16");
  }
  c.keyring_path = resolve(base, get<std::string>(t, "keys.keyring", "keyring"));
  const std::string key_store = get<std::string>(t, "keys.store", "keys.db");
  c.key_store_path = is_postgres_url(key_store) ? key_store : resolve(base, key_store);
  if (!c.store_url.empty() && !is_postgres_url(c.key_store_path)) {
    // Every node must see the same data keys, or one node cannot read what another wrote.
    return invalid_argument("config " + path + ": with store.url on PostgreSQL, keys.store must be a postgresql:// "
                            "URL too (the same URL keeps the keys in schema herald_keys; see README)");
  }
  c.kek_source = get<std::string>(t, "keys.kek", c.kek_source);
  if (c.kek_source != "keyring" && c.kek_source != "pkcs11") {
    return invalid_argument("config " + path + ": keys.kek must be \"keyring\" or \"pkcs11\"");
  }
  c.pkcs11_module = get<std::string>(t, "keys.pkcs11_module", c.pkcs11_module);
  c.pkcs11_token = get<std::string>(t, "keys.pkcs11_token", "");
  c.pkcs11_pin_file = resolve(base, get<std::string>(t, "keys.pkcs11_pin_file", ""));
  if (c.kek_source == "pkcs11" && (c.pkcs11_token.empty() || c.pkcs11_pin_file.empty())) {
    return invalid_argument("config " + path + ": keys.kek = \"pkcs11\" needs keys.pkcs11_token and keys.pkcs11_pin_file");
  }
  c.audit_checkpoint_path = resolve(base, get<std::string>(t, "audit.checkpoints", "audit-checkpoints"));
  c.audit_syslog = get<bool>(t, "audit.syslog", true);
  c.audit_checkpoint_seconds = static_cast<int>(get<std::int64_t>(t, "audit.checkpoint_interval_seconds", 60));
  if (c.audit_checkpoint_seconds < 1) return invalid_argument("config " + path + ": audit.checkpoint_interval_seconds must be positive");
  c.retention_interval_minutes = static_cast<int>(get<std::int64_t>(t, "retention.interval_minutes", 60));
  if (c.retention_interval_minutes < 1) return invalid_argument("config " + path + ": retention.interval_minutes must be positive");
  c.retention_in_serve = get<bool>(t, "retention.in_serve", true);
  read_smtp(t, base, c);
  read_delivery(t, c);
  HERALD_TRY(read_sms(t, base, c, path));
  HERALD_TRY(read_letters(t, base, c, path));
  read_callbacks(t, base, c);
  // NHS Notify callbacks share GOV.UK callbacks' address policy and CA file; NHS's time-out is 30 s.
  c.nhs.callbacks.http = c.callbacks.http;
  c.nhs.callbacks.http.timeout = std::chrono::milliseconds(get<std::int64_t>(t, "nhs.callback_timeout_ms", 30000));
  c.nhs.callbacks.threads = static_cast<int>(get<std::int64_t>(t, "nhs.callback_threads", 2));
  if (c.nhs.callbacks.threads < 1 || c.nhs.callbacks.threads > 32 || c.nhs.callbacks.http.timeout.count() < 1) {
    return invalid_argument("config " + path +
                            ": nhs.callback_threads must be 1-32 and nhs.callback_timeout_ms positive");
  }
  c.log_level = get<std::string>(t, "log.level", "info");
  c.store_plaintext_for_test = get<bool>(t, "testing.store_plaintext", false);
  if (c.server.threads == 0 || c.api_threads == 0 || c.worker.batch_size <= 0 ||
      c.delivery_connections == 0 || c.delivery_connections > 64) {
    return invalid_argument("config " + path + ": thread counts and batch size must be positive (delivery.connections at most 64)");
  }
  if (c.server.max_connections < 1 || c.server.max_connections_per_source < 1 ||
      c.server.handshake_timeout.count() < 1 || c.server.idle_timeout.count() < 1 ||
      c.server.request_timeout.count() < 1) {
    return invalid_argument("config " + path +
                            ": server.max_connections, max_connections_per_source, handshake_timeout_seconds, "
                            "idle_timeout_seconds and request_timeout_seconds must be positive");
  }
  return c;
}

Config with_store_role(Config config, std::string_view role) {
  const std::string* url = role == "api"         ? &config.store_api_url
                           : role == "worker"    ? &config.store_worker_url
                           : role == "admin"     ? &config.store_admin_url
                           : role == "retention" ? &config.store_retention_url
                                                 : nullptr;
  if (url == nullptr || url->empty()) return config;
  if (config.key_store_path == config.store_url) config.key_store_path = *url;
  config.store_url = *url;
  config.store_migrate = false;
  return config;
}

std::string default_config_text(std::uint16_t port, std::uint16_t smtp_port, const Pkcs11Init& pkcs11,
                                const std::string& store_url) {
  // On PostgreSQL, the data keys live in the same database, schema herald_keys, so that every
  // node shares them (README: "Several nodes on PostgreSQL").
  const std::string store_lines =
      store_url.empty() ? "path = \"herald.db\"\n"
                        : "url = \"" + store_url + "\"\n# pooled connections for reads, and batch writers\n"
                          "connections = 8\nwriters = 2\n";
  const std::string key_store = store_url.empty() ? "keys.db" : store_url;
  std::string kek = "# The key-encryption key is in the keyring file. For a PKCS#11 token (HSM) instead:\n"
                    "# kek = \"pkcs11\", pkcs11_module, pkcs11_token, pkcs11_pin_file (a 0600 file).\n"
                    "kek = \"keyring\"\n";
  if (!pkcs11.token.empty()) {
    kek = "# The key-encryption key is on this PKCS#11 token and never leaves it.\nkek = \"pkcs11\"\n"
          "pkcs11_module = \"" + pkcs11.module + "\"\npkcs11_token = \"" + pkcs11.token +
          "\"\npkcs11_pin_file = \"" + pkcs11.pin_file + "\"\n";
  }
  return "# Herald configuration. Relative paths are relative to this file.\n"
         "[server]\n"
         "listen = \"127.0.0.1\"\n"
         "port = " +
         std::to_string(port) +
         "\n"
         "certificate = \"tls/cert.pem\"\n"
         "private_key = \"tls/key.pem\"\n"
         "threads = 2\n"
         "api_threads = 4\n"
         "# public_url = \"https://notify.example.org/\"\n\n"
         "[admin]\n# The admin web UI: its own listener, on loopback unless you change it (then put it behind\n"
         "# a VPN or an allow-list). public_url: where browsers reach it (enrolment links use it).\n"
         "address = \"127.0.0.1\"\n"
         "port = " +
         std::to_string(port == 0 || port == 65535 ? 0 : port + 1) +
         "\n"
         "# public_url = \"https://admin.notify.example.org/\"\n\n"
         "[metrics]\n# /health/live, /health/ready and /metrics (Prometheus) on every role, loopback unless\n"
         "# you change it: this port for serve's role all, the next three for --role api, worker, admin.\n"
         "# Readiness fails when an email or text has waited longer than max_backlog_seconds.\n"
         "address = \"127.0.0.1\"\n"
         "port = " +
         std::to_string(port == 0 || port > 65533 ? 0 : port + 2) +
         "\n"
         "max_backlog_seconds = 900\nmin_free_disk_mb = 512\n\n"
         "[store]\n" +
         store_lines +
         "# Under load, wait up to this long for more writes to share a commit (0: never; SQLite\n"
         "# commits what queued during the last commit, which measured faster: bench/RESULTS.md).\n"
         "commit_gather_us = " +
         std::string(store_url.empty() ? "0" : "1000") +
         "\n\n"
         "[keys]\n# Key-encryption keys and audit signing keys (mode 0600).\nkeyring = \"keyring\"\n"
         "# Data keys, wrapped under the key-encryption key. Never in backups: back it up with the keyring.\n"
         "store = \"" +
         key_store + "\"\n" + kek +
         "\n"
         "[retention]\n# Personal data is kept for each service's retention period (default 7 days); the job runs this often.\n"
         "interval_minutes = 60\n\n"
         "[audit]\n# Signed checkpoints of the audit chain go to this append-only file and, as a second witness,\n"
         "# to syslog (LOG_AUTHPRIV): ship that off the host; `audit verify --witness EXPORT` checks it.\n"
         "checkpoints = \"audit-checkpoints\"\nsyslog = true\ncheckpoint_interval_seconds = 60\n\n"
         "[email]\ndomain = \"notifications.herald.localhost\"\n\n"
         "[smtp]\n"
         "# The local sink that `make run` starts. For a real relay set host/port, set\n"
         "# require_starttls = true, and username plus the password in $HERALD_SMTP_PASSWORD.\n"
         "host = \"127.0.0.1\"\n"
         "port = " +
         std::to_string(smtp_port) +
         "\n"
         "require_starttls = false\n\n"
         "[delivery]\nbatch_size = 50\n# Relay connections kept open, one delivery thread each.\nconnections = 4\n"
         "max_attempts = 5\nfirst_retry_ms = 30000\n\n"
         "[letters]\n# Letters go to a print supplier in batches; without a supplier they stay \"created\".\n"
         "# supplier = \"sftp\"\nbatch_size = 500\n"
         "# The supplier's reports (posted, returned, failed) are collected this often.\n"
         "report_interval_seconds = 300\n"
         "# Your print supplier's price per letter by postage, for 1, 2, 3... sheets (cost_in_pounds).\n"
         "# [letters.prices]\n# second = [0.85, 0.92, 0.99, 1.06, 1.13]\n"
         "# [letters.sftp]\n# host = \"sftp.print-supplier.example\"\n# port = 22\n# username = \"herald\"\n"
         "# private_key_file = \"sftp/id_ed25519\"  # mode 0600\n"
         "# host_key_sha256 = \"SHA256:...\"  # ssh-keygen -lf <server key.pub> -E sha256; required\n"
         "# remote_dir = \"/incoming\"\n# timeout_ms = 30000\n\n"
         "[log]\nlevel = \"info\"\n";
}

}  // namespace herald::cli
