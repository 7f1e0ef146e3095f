#include "cli/commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/context.h"
#include "core/cidr.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "crypto/self_signed.h"
#include "domain/admin.h"
#include "domain/users/users.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoServiceName = "Herald demo";
constexpr const char* kDemoSubject = "Your appointment on ((date))";
constexpr const char* kDemoBody =
    "Dear ((name)),\n\nYour appointment is on ((date)) at ((place)).\n\n"
    "Reply to this email if you need to change it.";

}  // namespace

int fail(const Error& error) {
  std::cerr << "herald: " << error.message << "\n";
  return error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kNotFound ? 2 : 1;
}

namespace {

// The keyring, the TLS certificate and the database a configuration names, each made unless it
// exists; then the key-encryption key is checked against the store's.
int make_what_config_names(const std::string& config_path) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  std::error_code ec;
  for (const std::string& file : {config->keyring_path, config->server.certificate_file}) {
    const fs::path dir = fs::path(file).parent_path();
    if (!dir.empty() && !fs::exists(dir)) {
      fs::create_directories(dir, ec);
      if (ec) return fail(unavailable("cannot create " + dir.string()));
      ::chmod(dir.c_str(), 0700);
    }
  }
  if (!fs::exists(config->keyring_path)) {
    if (auto made = crypto::Keyring::create_file(config->keyring_path, SystemClock().now(),
                                                 /*with_kek=*/config->kek_source == "keyring");
        !made) {
      return fail(made.error());
    }
    std::cout << "created keyring " << config->keyring_path << " (mode 0600)\n";
  }
  const std::string& cert = config->server.certificate_file;
  const std::string& key = config->server.private_key_file;
  if (!fs::exists(cert) || !fs::exists(key)) {
    fs::remove(cert, ec);
    fs::remove(key, ec);
    if (auto made = crypto::write_self_signed_certificate(cert, key, 365); !made) return fail(made.error());
    std::cout << "created self-signed TLS certificate " << cert << " for localhost\n";
  }
  auto context = open_context(std::move(*config));  // creates the database and runs migrations
  if (!context) return fail(context.error());
  // Joining a shared database with a keyring of one's own would split the data keys.
  if (auto matches = context->keys->check_kek_matches_store(); !matches) return fail(matches.error());
  std::cout << "database ready: "
            << (context->config.store_url.empty() ? context->config.database_path
                                                  : without_password(context->config.store_url))
            << "\n";
  if (!context->config.store_url.empty()) {
    // Each process role may connect as a database role of its own (docs/postgres-roles.md).
    std::cout << "least-privilege database roles: `herald store grants` prints the grants for your DBA, "
                 "`herald store grants --apply` applies them as this owner; then set store.api_url, "
                 "worker_url, admin_url and retention_url\n";
  }
  return 0;
}

}  // namespace

int run_init(const InitOptions& options) {
  if (!options.store_url.empty() && !is_postgres_url(options.store_url)) {
    return fail(invalid_argument("--store-url must be a postgresql:// URL"));
  }
  if (options.data_dir.empty()) {
    // An installed configuration (the Debian package's /etc/herald/herald.toml) names the files.
    if (!fs::exists(options.config_path)) return fail(invalid_argument("no configuration at " + options.config_path));
    return make_what_config_names(options.config_path);
  }
  const fs::path dir(options.data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(unavailable("cannot create " + dir.string()));
  ::chmod(dir.c_str(), 0700);
  const fs::path config = dir / "herald.toml";
  if (!fs::exists(config)) {
    std::string pin_file = options.pkcs11_pin_file;
    if (!pin_file.empty()) pin_file = fs::absolute(pin_file).string();
    std::ofstream(config) << default_config_text(options.port, options.smtp_port,
                                                 {options.pkcs11_module, options.pkcs11_token, pin_file},
                                                 options.store_url);
    ::chmod(config.c_str(), 0600);  // it may hold a database URL
    std::cout << "created configuration " << config.string() << "\n";
  }
  return make_what_config_names(config.string());
}

namespace {

constexpr const char* kDemoAdminEmail = "demo-admin@example.org";

// The demo's platform admin: made once; until enrolled, each run prints a new one-time link.
int print_demo_admin(Context& context) {
  SystemClock clock;
  domain::users::Users users(*context.store, clock);
  const std::string url = context.config.admin.url(context.config.admin.port);
  auto existing = context.store->find_admin_user_by_email(kDemoAdminEmail);
  if (!existing) return fail(existing.error());
  if (*existing && (*existing)->enrolled_at) {
    std::cout << "Admin web UI:  " << url << " (sign in as " << kDemoAdminEmail << ")\n";
    return 0;
  }
  std::string token;
  if (*existing) {
    auto issued = users.issue_enrolment((*existing)->id);
    if (!issued) return fail(issued.error());
    token = std::move(*issued);
  } else {
    auto created = users.create_user(kDemoAdminEmail, "Demo admin", true);
    if (!created) return fail(created.error());
    if (auto recorded = context.record({security::cli_actor(),
                                        "user.created",
                                        {{"user_id", created->user.id.to_string()}, {"platform_admin", "true"}}});
        !recorded) {
      return fail(recorded.error());
    }
    token = std::move(created->enrolment_token);
  }
  std::cout << "Admin web UI:  " << url << "\n"
            << "Demo admin " << kDemoAdminEmail << ": set a password and an authenticator app at this one-time link:\n"
            << url << "enrol/" << token << "\n";
  return 0;
}

}  // namespace

int run_demo(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  if (int printed = print_demo_admin(*context); printed != 0) return printed;
  domain::Admin admin(*context->store);
  const Timestamp now = SystemClock().now();
  if (auto existing = admin.find_service(kDemoServiceName)) {
    auto templates = context->store->templates_for_service(existing->id);
    std::cout << "Demo service:  " << existing->id.to_string() << " (already exists)\n";
    if (templates && !templates->empty()) std::cout << "Demo template: " << templates->front().id.to_string() << "\n";
    std::cout << "Its API key was printed when it was created. For a new one:\n"
              << "  herald key create --config " << config_path << " --service " << existing->id.to_string()
              << " --type live --name demo\n";
    return 0;
  }
  auto created_service = admin.create_service(kDemoServiceName, now);
  if (!created_service) return fail(created_service.error());
  // The demo sends to any address: live, not in trial mode.
  auto service = admin.go_live(created_service->id);
  if (!service) return fail(service.error());
  auto key = admin.create_api_key(service->id, store::KeyType::kNormal, "demo live key", now);
  if (!key) return fail(key.error());
  auto created = admin.create_template({service->id, "email", "Appointment reminder", kDemoSubject, kDemoBody, "herald-demo"}, now);
  if (!created) return fail(created.error());
  const std::string sid = service->id.to_string();
  for (auto event : {security::AuditEvent{security::cli_actor(), "service.created", {{"service_id", sid}}},
                     security::AuditEvent{security::cli_actor(), "api_key.created",
                                          {{"service_id", sid}, {"api_key_id", key->record.id.to_string()}, {"key_type", "normal"}}},
                     security::AuditEvent{security::cli_actor(), "template.created",
                                          {{"service_id", sid}, {"template_id", created->id.to_string()}}}}) {
    if (auto recorded = context->record(std::move(event)); !recorded) return fail(recorded.error());
  }
  std::cout << "Demo service:  " << service->id.to_string() << "\n"
            << "Demo template: " << created->id.to_string() << " (placeholders: name, date, place)\n"
            << "Live API key (shown once, keep it secret):\n" << key->full_key << "\n";
  return 0;
}

int run_service_create(const std::string& config_path, const std::string& name) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto service = domain::Admin(*context->store).create_service(name, SystemClock().now());
  if (!service) return fail(service.error());
  auto recorded = context->record({security::cli_actor(), "service.created", {{"service_id", service->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << service->id.to_string() << "\n";
  return 0;
}

int run_key_create(const std::string& config_path, const std::string& service,
                   const std::string& type, const std::string& name) {
  auto key_type = store::parse_key_type(type);
  if (!key_type || type == "normal") return fail(invalid_argument("--type must be live, team or test"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto key = admin.create_api_key(found->id, *key_type, name, SystemClock().now());
  if (!key) return fail(key.error());
  auto recorded = context->record({security::cli_actor(), "api_key.created",
                                   {{"service_id", found->id.to_string()}, {"api_key_id", key->record.id.to_string()},
                                    {"key_type", store::key_type_name(*key_type)}}});
  if (!recorded) return fail(recorded.error());
  std::cerr << "key id " << key->record.id.to_string() << " (for `herald key revoke`)\n";
  std::cout << key->full_key << "\n";
  return 0;
}

int run_key_revoke(const std::string& config_path, const std::string& service, const std::string& key_id) {
  auto id = ApiKeyId::parse(key_id);
  if (!id) return fail(invalid_argument("--key-id must be the key's id (a UUID)"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  if (auto revoked = admin.revoke_api_key(found->id, *id, SystemClock().now()); !revoked) {
    return fail(revoked.error());
  }
  auto recorded = context->record({security::cli_actor(), "api_key.revoked",
                                   {{"service_id", found->id.to_string()}, {"api_key_id", id->to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "revoked " << id->to_string() << " (running servers refuse it within seconds)\n";
  return 0;
}

Result<std::vector<std::string>> parse_network_list(const std::string& list) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    std::string entry = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (!entry.empty()) entries.push_back(std::move(entry));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto set = cidr::NetworkSet::parse(entries);
  if (!set) return set.error();
  return set->texts();
}

int run_key_restrict(const std::string& config_path, const std::string& service, const std::string& key_id,
                     const std::string& networks_text) {
  auto id = ApiKeyId::parse(key_id);
  if (!id) return fail(invalid_argument("--key-id must be the key's id (a UUID)"));
  auto networks = parse_network_list(networks_text);
  if (!networks) return fail(invalid_argument("--networks: " + networks.error().message));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  if (auto saved = context->store->set_api_key_networks(found->id, *id, *networks); !saved) return fail(saved.error());
  std::string joined;
  for (const auto& n : *networks) joined += (joined.empty() ? "" : ",") + n;
  auto recorded = context->record({security::cli_actor(),
                                   "api_key.restricted",
                                   {{"service_id", found->id.to_string()},
                                    {"api_key_id", id->to_string()},
                                    {"networks", joined.empty() ? "any" : joined}}});
  if (!recorded) return fail(recorded.error());
  std::cout << id->to_string() << " may be used from " << (joined.empty() ? "any network" : joined)
            << " (running servers apply it within a minute)\n";
  return 0;
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_argument("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_template_create(const std::string& config_path, const TemplateCreateOptions& options) {
  auto body = read_text_file(options.body_file);
  if (!body) return fail(body.error());
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(options.service);
  if (!found) return fail(found.error());
  auto created =
      admin.create_template({found->id, options.type, options.name, options.subject, *body, options.created_by,
                             options.postage, options.letter_contact_id, options.unsubscribe_link},
                            SystemClock().now());
  if (!created) return fail(created.error());
  auto recorded = context->record({security::cli_actor(), "template.created",
                                   {{"service_id", found->id.to_string()}, {"template_id", created->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << created->id.to_string() << "\n";
  return 0;
}

int run_template_update(const std::string& config_path, const TemplateUpdateOptions& options) {
  auto id = TemplateId::parse(options.template_id);
  if (!id) return fail(invalid_argument("not a template id: " + options.template_id));
  domain::TemplateChanges changes{options.name, options.subject, std::nullopt, options.created_by, options.postage,
                                  options.letter_contact_id};
  if (changes.letter_contact_id == "default") changes.letter_contact_id = "";
  changes.has_unsubscribe_link = options.unsubscribe_link;
  if (options.body_file) {
    auto body = read_text_file(*options.body_file);
    if (!body) return fail(body.error());
    changes.body = std::move(*body);
  }
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(options.service);
  if (!found) return fail(found.error());
  auto updated = admin.update_template(found->id, *id, changes, SystemClock().now());
  if (!updated) return fail(updated.error());
  auto recorded = context->record({security::cli_actor(), "template.updated",
                                   {{"service_id", found->id.to_string()}, {"template_id", id->to_string()},
                                    {"version", std::to_string(updated->version)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "version " << updated->version << "\n";
  return 0;
}

int run_template_archive(const std::string& config_path, const std::string& service, const std::string& template_id,
                         bool archived) {
  auto id = TemplateId::parse(template_id);
  if (!id) return fail(invalid_argument("not a template id: " + template_id));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  if (auto done = context->store->set_template_archived(found->id, *id, archived); !done) return fail(done.error());
  auto recorded = context->record({security::cli_actor(), archived ? "template.archived" : "template.restored",
                                   {{"service_id", found->id.to_string()}, {"template_id", id->to_string()}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

}  // namespace herald::cli
