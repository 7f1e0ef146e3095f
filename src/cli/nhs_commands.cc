// `herald nhs ...`: NHS Notify API clients (applications) and their keys.

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "crypto/jwk.h"
#include "crypto/secret.h"
#include "domain/admin.h"
#include "domain/nhs/callbacks.h"
#include "domain/nhs/clients.h"
#include "domain/nhs/demographics.h"
#include "domain/nhs/routing_plans.h"

namespace herald::cli {
namespace {

Result<store::NhsClientRecord> find_client(Context& context, const std::string& id_text) {
  auto id = Uuid::parse(id_text);
  if (!id) return invalid_argument("--client must be a client id");
  auto found = context.store->find_nhs_client(*id);
  if (!found) return found.error();
  if (!*found) return not_found("no NHS client " + id_text);
  return std::move(**found);
}

// A --client filter: nullopt when none was given, else the client (which must exist).
Result<std::optional<Uuid>> client_filter(Context& context, const std::string& id_text) {
  if (id_text.empty()) return std::optional<Uuid>();
  auto found = find_client(context, id_text);
  if (!found) return found.error();
  return std::optional<Uuid>(found->id);
}

// --networks, when given, as the client's allowed networks (canonical; "" for any).
Result<void> take_networks(const std::optional<std::string>& given, std::vector<std::string>& networks) {
  if (!given) return ok();
  auto parsed = parse_network_list(*given);
  if (!parsed) return invalid_argument("--networks: " + parsed.error().message);
  networks = std::move(*parsed);
  return ok();
}

void print_client(const store::NhsClientRecord& c) {
  std::cout << c.id.to_string() << "  service " << c.service.to_string() << "  \"" << c.name << "\"  keys "
            << (c.jwks.empty() ? c.jwks_url : "registered JWKS") << "  ods "
            << (c.default_ods_code ? *c.default_ods_code : "-") << (c.allow_ods_override ? " (may override)" : "")
            << (c.allow_contact_details ? "  contact details allowed" : "") << (c.onboarded ? "" : "  NOT ONBOARDED")
            << (c.service_ban ? "  BANNED" : "");
  std::string networks;
  for (const auto& n : c.allowed_networks) networks += (networks.empty() ? "" : ",") + n;
  if (!networks.empty()) std::cout << "  networks " << networks;
  std::cout << "\n";
}

void print_plan(const domain::nhs::RoutingPlan& plan) {
  std::cout << plan.id.to_string() << "  version " << plan.version << "  client "
            << (plan.client ? plan.client->to_string() : "(built in)") << "  \"" << plan.name << "\"  ";
  for (bool primary : {true, false}) {
    bool first = true;
    for (const domain::nhs::PlanChannel& c : plan.channels) {
      if (c.primary != primary) continue;
      std::cout << (first ? (primary ? "" : "  alongside: ") : " -> ") << store::nhs_channel_name(c.type) << " ("
                << c.time_limit.count() << " h)";
      first = false;
    }
  }
  if (!plan.overrides.empty()) std::cout << "  " << plan.overrides.size() << " override(s)";
  std::cout << "\n";
}

}  // namespace

int run_nhs_callback_add(const std::string& config_path, const NhsCallbackOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = find_client(*context, options.client);
  if (!client) return fail(client.error());
  auto kind = store::parse_nhs_callback_kind(options.kind);
  if (!kind) return fail(invalid_argument("--kind must be message or channel"));
  domain::nhs::NewCallbackTarget in;
  in.client = client->id;
  in.kind = *kind;
  in.url = options.url;
  in.statuses = options.statuses;
  in.supplier_statuses = options.supplier_statuses;
  in.api_key_header = options.header;
  if (!options.api_key_env.empty()) {
    const char* value = std::getenv(options.api_key_env.c_str());
    if (value == nullptr || *value == '\0') return fail(invalid_argument(options.api_key_env + " is not set"));
    in.api_key = value;
  }
  auto optional_text = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional<std::string>(v); };
  in.client_certificate_file = optional_text(options.client_certificate);
  in.client_key_file = optional_text(options.client_key);
  in.pinned_key_sha256 = optional_text(options.pin);
  in.rate_per_second = options.rate;
  in.retry_window_seconds = options.retry_window_seconds;
  const bool made_key = !in.api_key;
  SystemClock clock;
  auto target = domain::nhs::make_callback_target(std::move(in), clock.now());
  if (!target) return fail(target.error());
  if (auto saved = context->store->put_nhs_callback_target(*target); !saved) return fail(saved.error());
  auto recorded = context->record(
      {security::cli_actor(),
       "nhs_callback.added",
       {{"client_id", client->id.to_string()}, {"target_id", target->id.to_string()}, {"kind", options.kind}}});
  if (!recorded) return fail(recorded.error());
  std::cout << target->id.to_string() << "\n";
  if (made_key) std::cout << target->api_key << "\n";
  crypto::wipe_string(target->api_key);
  return 0;
}

int run_nhs_callback_list(const std::string& config_path, const std::string& client_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = client_filter(*context, client_id);
  if (!client) return fail(client.error());
  auto targets = context->store->nhs_callback_targets(*client);
  if (!targets) return fail(targets.error());
  for (store::NhsCallbackTarget& t : *targets) {
    crypto::wipe_string(t.api_key);
    std::string statuses;
    for (const auto& v : t.statuses) statuses += (statuses.empty() ? "" : ",") + v;
    for (const auto& v : t.supplier_statuses) statuses += (statuses.empty() ? "supplier:" : ",supplier:") + v;
    std::cout << t.id.to_string() << "  client " << t.client.to_string() << "  "
              << store::nhs_callback_kind_name(t.kind) << "  " << t.url << "  "
              << (statuses.empty() ? "(default statuses)" : statuses) << "  " << t.rate_per_second << "/s"
              << (t.client_certificate_file ? "  mTLS" : "") << (t.pinned_key_sha256 ? "  pinned" : "") << "\n";
  }
  return 0;
}

int run_nhs_callback_remove(const std::string& config_path, const std::string& target) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto id = Uuid::parse(target);
  if (!id) return fail(invalid_argument("--target must be a target id"));
  auto removed = context->store->delete_nhs_callback_target(*id);
  if (!removed) return fail(removed.error());
  if (!*removed) return fail(not_found("no callback target " + target));
  auto recorded = context->record({security::cli_actor(), "nhs_callback.removed", {{"target_id", target}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_nhs_callback_dead(const std::string& config_path, const std::string& client_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = client_filter(*context, client_id);
  if (!client) return fail(client.error());
  auto dead = context->store->dead_nhs_callbacks(*client, 1000);
  if (!dead) return fail(dead.error());
  for (const store::NhsCallbackRecord& d : *dead) {
    std::cout << d.id << "  message " << d.message_id << "  target " << d.target.to_string() << "  attempts "
              << d.attempts << "  created " << format_timestamp(d.created_at) << "  " << d.last_error.value_or("")
              << "\n";
  }
  return 0;
}

int run_nhs_callback_replay(const std::string& config_path, std::int64_t id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  SystemClock clock;
  auto replayed = context->store->replay_nhs_callback(id, clock.now());
  if (!replayed) return fail(replayed.error());
  if (!*replayed) return fail(not_found("no dead callback " + std::to_string(id)));
  auto recorded =
      context->record({security::cli_actor(), "nhs_callback.replayed", {{"callback_id", std::to_string(id)}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_plan_save(const std::string& config_path, const PlanOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = find_client(*context, options.client);
  if (!client) return fail(client.error());
  std::optional<Uuid> plan_id;
  if (!options.plan.empty()) {
    plan_id = Uuid::parse(options.plan);
    if (!plan_id) return fail(invalid_argument("--plan must be a plan id"));
  }
  auto definition = read_text_file(options.file);
  if (!definition) return fail(definition.error());
  SystemClock clock;
  domain::nhs::RoutingPlans plans(*context->store, *context->store, *context->store, clock);
  auto saved = plans.save(client->id, plan_id, *definition);
  if (!saved) return fail(saved.error());
  auto recorded = context->record(
      {security::cli_actor(),
       plan_id ? "routing_plan.versioned" : "routing_plan.created",
       {{"client_id", client->id.to_string()}, {"plan_id", (*saved)->id.to_string()}, {"version", (*saved)->version}}});
  if (!recorded) return fail(recorded.error());
  print_plan(**saved);  // the plan's id first, for scripts
  return 0;
}

int run_plan_list(const std::string& config_path, const std::string& client_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = client_filter(*context, client_id);
  if (!client) return fail(client.error());
  for (const domain::nhs::PlanPtr& plan : domain::nhs::built_in_plans()) print_plan(*plan);
  SystemClock clock;
  auto plans = domain::nhs::RoutingPlans(*context->store, *context->store, *context->store, clock).list(*client);
  if (!plans) return fail(plans.error());
  for (const auto& plan : *plans) print_plan(plan);
  return 0;
}

int run_plan_show(const std::string& config_path, const std::string& plan_text, const std::string& version) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto id = Uuid::parse(plan_text);
  if (!id) return fail(invalid_argument("--plan must be a plan id"));
  SystemClock clock;
  domain::nhs::RoutingPlans plans(*context->store, *context->store, *context->store, clock);
  domain::nhs::PlanPtr plan;
  if (version.empty()) {
    plan = domain::nhs::find_built_in_plan(*id);
    if (plan == nullptr) {
      auto latest = context->store->find_routing_plan(*id, std::nullopt);
      if (!latest) return fail(latest.error());
      if (*latest) {
        auto read = plans.version(*id, std::to_string((*latest)->version));
        if (!read) return fail(read.error());
        plan = *read;
      }
    }
  } else {
    auto read = plans.version(*id, version);
    if (!read) return fail(read.error());
    plan = *read;
  }
  if (plan == nullptr)
    return fail(not_found("no routing plan " + plan_text + (version.empty() ? "" : " version " + version)));
  std::cout << domain::nhs::plan_definition_json(*plan) << "\n";
  return 0;
}

int run_nhs_client_create(const std::string& config_path, const NhsClientOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto service = domain::Admin(*context->store).find_service(options.service);
  if (!service) return fail(service.error());
  domain::nhs::NewClient client;
  client.service = service->id;
  client.name = options.name;
  if (options.jwks_file) {
    auto document = read_text_file(*options.jwks_file);
    if (!document) return fail(document.error());
    client.jwks = std::move(*document);
  }
  client.jwks_url = options.jwks_url.value_or("");
  client.default_ods_code = options.default_ods_code;
  client.allow_ods_override = options.allow_ods_override.value_or(false);
  client.allow_contact_details = options.allow_contact_details.value_or(false);
  if (auto set = take_networks(options.networks, client.allowed_networks); !set) return fail(set.error());
  SystemClock clock;
  auto created = domain::nhs::NhsClients(*context->store, clock).create(client);
  if (!created) return fail(created.error());
  auto recorded =
      context->record({security::cli_actor(),
                       "nhs_client.created",
                       {{"client_id", created->record.id.to_string()}, {"service_id", service->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cerr << "application id " << created->record.id.to_string()
            << " (NHS's APIM application id: callback signatures use it)\n";
  std::cout << created->api_key << "\n";
  crypto::wipe_string(created->api_key);
  return 0;
}

int run_nhs_client_set(const std::string& config_path, const std::string& client_id, const NhsClientOptions& options) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto client = find_client(*context, client_id);
  if (!client) return fail(client.error());
  if (options.jwks_file || options.jwks_url) {
    std::string jwks;
    if (options.jwks_file) {
      auto document = read_text_file(*options.jwks_file);
      if (!document) return fail(document.error());
      jwks = std::move(*document);
    }
    const std::string url = options.jwks_url.value_or("");
    if (auto checked = domain::nhs::check_key_source(jwks, url); !checked) return fail(checked.error());
    client->jwks = jwks;
    client->jwks_url = url;
  }
  if (!options.name.empty()) client->name = options.name;
  if (options.default_ods_code) {
    client->default_ods_code = options.default_ods_code->empty() ? std::nullopt : options.default_ods_code;
  }
  if (options.allow_ods_override) client->allow_ods_override = *options.allow_ods_override;
  if (options.allow_contact_details) client->allow_contact_details = *options.allow_contact_details;
  if (options.onboarded) client->onboarded = *options.onboarded;
  if (options.banned) client->service_ban = *options.banned;
  if (auto set = take_networks(options.networks, client->allowed_networks); !set) return fail(set.error());
  if (auto saved = context->store->update_nhs_client(*client); !saved) return fail(saved.error());
  auto recorded = context->record({security::cli_actor(),
                                   "nhs_client.changed",
                                   {{"client_id", client->id.to_string()},
                                    {"banned", client->service_ban ? "true" : "false"},
                                    {"onboarded", client->onboarded ? "true" : "false"}}});
  if (!recorded) return fail(recorded.error());
  print_client(*client);
  return 0;
}

int run_nhs_client_list(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto clients = context->store->list_nhs_clients();
  if (!clients) return fail(clients.error());
  for (const auto& c : *clients) print_client(c);
  return 0;
}

int run_nhs_keygen(const std::string& kid, const std::string& private_key_out) {
  auto key = crypto::RsaPrivateKey::generate(4096);
  if (!key) return fail(key.error());
  const int fd = ::open(private_key_out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return fail(invalid_argument("cannot create " + private_key_out + " (it must not exist)"));
  std::string pem = key->private_pem();
  const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  crypto::wipe_string(pem);
  if (::close(fd) != 0 || !written) return fail(Error{ErrorCode::kUnavailable, "cannot write " + private_key_out});
  std::cout << "{\"keys\":[" << key->public_jwk_json(kid) << "]}\n";
  return 0;
}

int run_demographics_import(const std::string& config_path, const std::string& file) {
  auto csv = read_text_file(file);
  if (!csv) return fail(csv.error());
  auto parsed = domain::nhs::parse_demographics_csv(*csv);
  crypto::wipe_string(*csv);
  if (!parsed) return fail(parsed.error());
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  const Timestamp now = SystemClock().now();
  std::vector<store::DemographicsRow> rows;
  rows.reserve(parsed->size());
  for (const auto& item : *parsed) rows.push_back({item.nhs_number, domain::nhs::to_json(item.record), now});
  auto stored = context->store->put_demographics(rows);
  for (auto& row : rows) {
    crypto::wipe_string(row.nhs_number);
    crypto::wipe_string(row.record_json);
  }
  if (!stored) return fail(stored.error());
  auto recorded =
      context->record({security::cli_actor(), "demographics.imported", {{"records", std::to_string(parsed->size())}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "imported " << parsed->size() << " demographics records\n";
  return 0;
}

}  // namespace herald::cli
