#include "domain/nhs/routing_plans.h"

#include <algorithm>
#include <set>

#include "core/json.h"
#include "core/utf8.h"
#include "crypto/random.h"
#include "domain/nhs/json_fields.h"

namespace herald::domain::nhs {
namespace {

using std::chrono::hours;

// When these built-in versions were written (fixed, so that responses do not change with the
// date a server started).
constexpr std::int64_t kBuiltInCreatedMicros = 1'764'547'200'000'000;  // 2025-12-01T00:00:00Z
constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxOverrides = 20;
constexpr int kMaxTimeLimitHours = 72;

PlanPtr free_text(int n, std::string name, std::vector<PlanChannel> channels, std::vector<std::string> fields) {
  RoutingPlan plan;
  plan.id = *Uuid::parse("00000000-0000-0000-0000-00000000000" + std::to_string(n));
  plan.name = std::move(name);
  plan.version = "1";
  plan.created = from_micros(kBuiltInCreatedMicros);
  plan.channels = std::move(channels);
  plan.free_text_fields = std::move(fields);
  return std::make_shared<const RoutingPlan>(std::move(plan));
}

const std::vector<PlanPtr>& plans() {
  static const std::vector<PlanPtr> all = [] {
    const PlanChannel app24{NhsChannel::kNhsApp, true, 1, hours(24)};
    const PlanChannel app4{NhsChannel::kNhsApp, true, 1, hours(4)};
    return std::vector<PlanPtr>{
        free_text(1, "Free text: NHS App", {app24}, {"body"}),
        free_text(2, "Free text: email", {{NhsChannel::kEmail, true, 1, hours(72)}}, {"email_subject", "email_body"}),
        free_text(3, "Free text: text message", {{NhsChannel::kSms, true, 1, hours(72)}}, {"sms_body"}),
        free_text(4, "Free text: NHS App, then email after 24 hours", {app24, {NhsChannel::kEmail, true, 2, hours(72)}},
                  {"nhsapp_body", "email_subject", "email_body"}),
        free_text(5, "Free text: NHS App, then email after 4 hours", {app4, {NhsChannel::kEmail, true, 2, hours(72)}},
                  {"nhsapp_body", "email_subject", "email_body"}),
        free_text(6, "Free text: NHS App, then text message after 24 hours",
                  {app24, {NhsChannel::kSms, true, 2, hours(72)}}, {"nhsapp_body", "sms_body"}),
        free_text(7, "Free text: NHS App, then text message after 4 hours",
                  {app4, {NhsChannel::kSms, true, 2, hours(72)}}, {"nhsapp_body", "sms_body"}),
    };
  }();
  return all;
}

const char* kind_key(PlanVariant::Kind kind) {
  return kind == PlanVariant::Kind::kLanguage ? "language" : "accessibleFormat";
}

// The accessible formats PDS records (demographics.h) and a language tag's shape (BCP 47: a
// primary language of 2-3 letters, then subtags).
Result<std::string> preference_value(PlanVariant::Kind kind, const json::Value& value, const std::string& where) {
  if (!value.is_string()) return invalid_argument(where + " must be a string");
  const std::string& text = value.as_string();
  if (kind == PlanVariant::Kind::kAccessibleFormat) {
    if (text != "braille" && text != "large_print" && text != "audio") {
      return invalid_argument(where + " must be one of braille, large_print, audio");
    }
    return text;
  }
  std::size_t letters = 0;
  while (letters < text.size() && text[letters] >= 'a' && text[letters] <= 'z') ++letters;
  bool ok = letters >= 2 && letters <= 3;
  for (std::size_t i = letters; ok && i < text.size(); ++i) {
    const char c = text[i];
    ok = c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  if (!ok || (!text.empty() && text.back() == '-')) {
    return invalid_argument(where + " must be a language tag such as \"cy\" or \"pl\"");
  }
  return text;
}

// Which preference an object names ("language" or "accessibleFormat", exactly one).
Result<std::pair<PlanVariant::Kind, std::string>> preference_of(const json::Value& item, const std::string& where) {
  const json::Value* language = item.find("language");
  const json::Value* format = item.find("accessibleFormat");
  if ((language == nullptr) == (format == nullptr)) {
    return invalid_argument(where + " must name one of \"language\" or \"accessibleFormat\"");
  }
  const auto kind = language != nullptr ? PlanVariant::Kind::kLanguage : PlanVariant::Kind::kAccessibleFormat;
  auto value = preference_value(kind, language != nullptr ? *language : *format, where + "." + kind_key(kind));
  if (!value) return value.error();
  return std::pair{kind, std::move(*value)};
}

Result<void> only_members(const json::Value& object, std::initializer_list<std::string_view> allowed,
                          const std::string& where) {
  for (const auto& [key, value] : object.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return invalid_argument(where + " has an unknown member \"" + key + "\"");
    }
  }
  return ok();
}

Result<Uuid> uuid_member(const json::Value& object, std::string_view key, const std::string& where) {
  const json::Value* value = object.find(key);
  if (value == nullptr) return invalid_argument(where + "." + std::string(key) + " is required");
  auto id = value->is_string() ? Uuid::parse(value->as_string()) : std::nullopt;
  if (!id) return invalid_argument(where + "." + std::string(key) + " must be a UUID");
  return *id;
}

// A positive integer member, or `fallback` when absent.
Result<int> int_member(const json::Value& object, std::string_view key, int fallback, int max,
                       const std::string& where) {
  const json::Value* value = object.find(key);
  if (value == nullptr) return fallback;
  const auto n = value->is_number() ? value->as_int64() : std::nullopt;
  if (!n || *n < 1 || *n > max) {
    return invalid_argument(where + "." + std::string(key) + " must be a whole number from 1 to " +
                            std::to_string(max));
  }
  return static_cast<int>(*n);
}

Result<PlanChannel> parse_channel(const json::Value& item, const std::string& where) {
  if (!item.is_object()) return invalid_argument(where + " must be an object");
  HERALD_TRY(only_members(
      item, {"type", "cascade", "timeLimitHours", "template", "templateVersion", "message", "variants"}, where));
  PlanChannel channel;
  const auto type = string_member(item, "type");
  auto parsed = type ? store::parse_nhs_channel(*type) : std::nullopt;
  if (!parsed) return invalid_argument(where + ".type must be one of nhsapp, email, sms, letter");
  channel.type = *parsed;
  const auto cascade = string_member(item, "cascade").value_or("primary");
  if (cascade != "primary" && cascade != "secondary") {
    return invalid_argument(where + ".cascade must be \"primary\" or \"secondary\"");
  }
  channel.primary = cascade == "primary";
  auto limit = int_member(item, "timeLimitHours", kMaxTimeLimitHours, kMaxTimeLimitHours, where);
  if (!limit) return limit.error();
  channel.time_limit = hours(*limit);
  if (channel.type == NhsChannel::kNhsApp) {
    if (item.find("template") != nullptr || item.find("templateVersion") != nullptr) {
      return invalid_argument(where + ": an NHS App channel carries its text in \"message\", not a template");
    }
    const auto message = string_member(item, "message");
    if (!message || message->empty()) return invalid_argument(where + ".message is required for the NHS App");
    std::vector<std::uint32_t> characters;
    if (!decode_utf8(*message, characters) || characters.size() > kMaxNhsAppCharacters) {
      return invalid_argument(where + ".message is longer than 5000 characters");
    }
    channel.message = *message;
  } else {
    if (item.find("message") != nullptr) {
      return invalid_argument(where + ": only NHS App channels have a \"message\"; this one needs a template");
    }
    auto id = uuid_member(item, "template", where);
    if (!id) return id.error();
    channel.template_id = TemplateId{*id};
    auto version = int_member(item, "templateVersion", 0, 1'000'000, where);
    if (!version) return version.error();
    channel.template_version = *version;
  }
  if (const json::Value* variants = item.find("variants")) {
    if (channel.type != NhsChannel::kLetter) return invalid_argument(where + ".variants are for letter channels only");
    if (!variants->is_array()) return invalid_argument(where + ".variants must be an array");
    for (std::size_t i = 0; i < variants->as_array().size(); ++i) {
      const json::Value& v = variants->as_array()[i];
      const std::string at = where + ".variants[" + std::to_string(i) + "]";
      if (!v.is_object()) return invalid_argument(at + " must be an object");
      HERALD_TRY(only_members(v, {"language", "accessibleFormat", "template", "templateVersion"}, at));
      auto preference = preference_of(v, at);
      if (!preference) return preference.error();
      auto id = uuid_member(v, "template", at);
      if (!id) return id.error();
      auto version = int_member(v, "templateVersion", 0, 1'000'000, at);
      if (!version) return version.error();
      for (const PlanVariant& other : channel.variants) {
        if (other.kind == preference->first && other.value == preference->second) {
          return invalid_argument(at + " repeats " + kind_key(other.kind) + " \"" + other.value + "\"");
        }
      }
      channel.variants.push_back({preference->first, std::move(preference->second), TemplateId{*id}, *version});
    }
  }
  return channel;
}

}  // namespace

const PlanChannel* RoutingPlan::channel(NhsChannel type) const {
  auto it = std::find_if(channels.begin(), channels.end(), [&](const PlanChannel& c) { return c.type == type; });
  return it == channels.end() ? nullptr : &*it;
}

std::span<const PlanPtr> built_in_plans() { return plans(); }

PlanPtr find_built_in_plan(const Uuid& id) {
  for (const PlanPtr& plan : plans()) {
    if (plan->id == id) return plan;
  }
  return nullptr;
}

Result<RoutingPlan> parse_plan_definition(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_object()) return invalid_argument("The plan must be a JSON object");
  const json::Value& root = *parsed;
  HERALD_TRY(only_members(root, {"name", "channels", "overrides"}, "The plan"));
  RoutingPlan plan;
  const auto name = string_member(root, "name");
  if (!name || name->empty() || name->size() > kMaxNameLength) {
    return invalid_argument("name is required (at most 200 characters)");
  }
  plan.name = *name;
  const json::Value* channels = root.find("channels");
  if (channels == nullptr || !channels->is_array() || channels->as_array().empty()) {
    return invalid_argument("channels must be a non-empty array");
  }
  int primaries = 0;
  int secondaries = 0;
  for (std::size_t i = 0; i < channels->as_array().size(); ++i) {
    const std::string where = "channels[" + std::to_string(i) + "]";
    auto channel = parse_channel(channels->as_array()[i], where);
    if (!channel) return channel.error();
    // A message has one status per channel type (GET shows channels by type, and supplier
    // receipts name the type), so a plan has each type once: NHS's
    // CM_ROUTING_PLAN_DUPLICATE_TEMPLATES is this mistake, caught when the plan is saved.
    if (plan.channel(channel->type) != nullptr) {
      return invalid_argument(where + " is a second " + std::string(nhs_channel_name(channel->type)) +
                              " channel: a plan has at most one channel of each type");
    }
    channel->order = channel->primary ? ++primaries : ++secondaries;
    plan.channels.push_back(std::move(*channel));
  }
  if (primaries == 0) return invalid_argument("channels must include a primary channel");
  if (const json::Value* overrides = root.find("overrides")) {
    if (!overrides->is_array() || overrides->as_array().size() > kMaxOverrides) {
      return invalid_argument("overrides must be an array of at most 20");
    }
    for (std::size_t i = 0; i < overrides->as_array().size(); ++i) {
      const json::Value& item = overrides->as_array()[i];
      const std::string where = "overrides[" + std::to_string(i) + "]";
      if (!item.is_object()) return invalid_argument(where + " must be an object");
      HERALD_TRY(only_members(item, {"language", "accessibleFormat", "plan"}, where));
      auto preference = preference_of(item, where);
      if (!preference) return preference.error();
      auto target = uuid_member(item, "plan", where);
      if (!target) return target.error();
      for (const PlanOverride& other : plan.overrides) {
        if (other.when == preference->first && other.value == preference->second) {
          return invalid_argument(where + " repeats " + kind_key(other.when) + " \"" + other.value + "\"");
        }
      }
      plan.overrides.push_back({preference->first, std::move(preference->second), *target});
    }
  }
  return plan;
}

std::string plan_definition_json(const RoutingPlan& plan) {
  json::Writer w;
  w.begin_object().key("name").string(plan.name).key("channels").begin_array();
  for (bool primary : {true, false}) {
    for (const PlanChannel& c : plan.channels) {
      if (c.primary != primary) continue;
      w.begin_object().key("type").string(nhs_channel_name(c.type));
      w.key("cascade").string(c.primary ? "primary" : "secondary");
      w.key("timeLimitHours").integer(c.time_limit.count());
      // Saved plans have every version pinned; a definition not yet checked may have none (0).
      if (c.template_id) w.key("template").string(c.template_id->to_string());
      if (c.template_id && c.template_version > 0) w.key("templateVersion").integer(c.template_version);
      if (c.type == NhsChannel::kNhsApp) w.key("message").string(c.message);
      if (!c.variants.empty()) {
        w.key("variants").begin_array();
        for (const PlanVariant& v : c.variants) {
          w.begin_object().key(kind_key(v.kind)).string(v.value);
          w.key("template").string(v.template_id.to_string());
          if (v.template_version > 0) w.key("templateVersion").integer(v.template_version);
          w.end_object();
        }
        w.end_array();
      }
      w.end_object();
    }
  }
  w.end_array();
  if (!plan.overrides.empty()) {
    w.key("overrides").begin_array();
    for (const PlanOverride& o : plan.overrides) {
      w.begin_object().key(kind_key(o.when)).string(o.value).key("plan").string(o.plan.to_string()).end_object();
    }
    w.end_array();
  }
  w.end_object();
  return w.take();
}

Result<RoutingPlan> plan_from_record(const store::RoutingPlanRecord& record) {
  auto plan = parse_plan_definition(record.definition_json);
  if (!plan)
    return data_loss("stored routing plan " + record.id.to_string() + " is unreadable: " + plan.error().message);
  plan->id = record.id;
  plan->client = record.client;
  plan->name = record.name;
  plan->version = std::to_string(record.version);
  plan->created = record.created_at;
  return plan;
}

PlanPtr RoutingPlans::remember(RoutingPlan plan) {
  auto shared = std::make_shared<const RoutingPlan>(std::move(plan));
  std::lock_guard lock(mutex_);
  if (versions_.size() >= 4096) versions_.clear();  // versions are small; a bound, not an eviction policy
  versions_[{shared->id, shared->version}] = shared;
  return shared;
}

Result<PlanPtr> RoutingPlans::for_client(const Uuid& client, const Uuid& id) {
  if (PlanPtr built_in = find_built_in_plan(id)) return built_in;
  auto found = plans_.find_routing_plan(id, std::nullopt);
  if (!found) return found.error();
  if (!*found || (*found)->client != client) return PlanPtr();
  {
    std::lock_guard lock(mutex_);
    auto it = versions_.find({id, std::to_string((*found)->version)});
    if (it != versions_.end()) return it->second;
  }
  auto plan = plan_from_record(**found);
  if (!plan) return plan.error();
  return remember(std::move(*plan));
}

Result<PlanPtr> RoutingPlans::version(const Uuid& id, std::string_view version) {
  if (PlanPtr built_in = find_built_in_plan(id)) return built_in->version == version ? built_in : PlanPtr();
  {
    std::lock_guard lock(mutex_);
    auto it = versions_.find({id, std::string(version)});
    if (it != versions_.end()) return it->second;
  }
  int number = 0;
  for (char c : version) {
    if (c < '0' || c > '9' || number > 100'000'000) return PlanPtr();
    number = number * 10 + (c - '0');
  }
  auto found = plans_.find_routing_plan(id, number);
  if (!found) return found.error();
  if (!*found) return PlanPtr();
  auto plan = plan_from_record(**found);
  if (!plan) return plan.error();
  return remember(std::move(*plan));
}

Result<void> RoutingPlans::pin_template(ServiceId service, const TemplateId& id, int& version, store::Channel type,
                                        std::string_view where) {
  auto found = services_.find_template(service, id, version > 0 ? std::optional<int>(version) : std::nullopt);
  if (!found) return found.error();
  const std::string at(where);
  if (!*found) {
    return invalid_argument(at + ": the service has no template " + id.to_string() +
                            (version > 0 ? " at version " + std::to_string(version) : ""));
  }
  if ((*found)->type != type) {
    // "an email template, not an SMS one"
    auto kind = [](store::Channel channel) {
      return channel == store::Channel::kEmail ? std::string("an email")
             : channel == store::Channel::kSms ? std::string("an SMS")
                                               : "a " + std::string(store::channel_name(channel));
    };
    return invalid_argument(at + ": template " + id.to_string() + " is " + kind((*found)->type) + " template, not " +
                            kind(type) + " one");
  }
  if ((*found)->archived) return invalid_argument(at + ": template " + id.to_string() + " has been deleted");
  version = (*found)->version;
  return ok();
}

Result<void> RoutingPlans::check(const store::NhsClientRecord& client, RoutingPlan& plan) {
  for (std::size_t i = 0; i < plan.channels.size(); ++i) {
    PlanChannel& channel = plan.channels[i];
    const std::string where = "channels[" + std::to_string(i) + "]";
    if (channel.template_id) {
      const store::Channel type = channel.type == NhsChannel::kEmail ? store::Channel::kEmail
                                  : channel.type == NhsChannel::kSms ? store::Channel::kSms
                                                                     : store::Channel::kLetter;
      HERALD_TRY(pin_template(client.service, *channel.template_id, channel.template_version, type, where));
    }
    for (std::size_t v = 0; v < channel.variants.size(); ++v) {
      PlanVariant& variant = channel.variants[v];
      HERALD_TRY(pin_template(client.service, variant.template_id, variant.template_version, store::Channel::kLetter,
                              where + ".variants[" + std::to_string(v) + "]"));
    }
  }
  for (std::size_t i = 0; i < plan.overrides.size(); ++i) {
    const PlanOverride& o = plan.overrides[i];
    const std::string where = "overrides[" + std::to_string(i) + "]";
    if (o.plan == plan.id) return invalid_argument(where + ".plan is this plan");
    if (find_built_in_plan(o.plan) != nullptr) continue;
    auto target = plans_.find_routing_plan(o.plan, std::nullopt);
    if (!target) return target.error();
    if (!*target || (*target)->client != client.id) {
      return invalid_argument(where + ".plan " + o.plan.to_string() + " is not one of this client's plans");
    }
  }
  return ok();
}

Result<PlanPtr> RoutingPlans::save(const Uuid& client_id, std::optional<Uuid> plan_id, std::string_view definition) {
  auto client = clients_.find_nhs_client(client_id);
  if (!client) return client.error();
  if (!*client) return not_found("no NHS Notify client " + client_id.to_string());
  auto plan = parse_plan_definition(definition);
  if (!plan) return plan.error();
  int version = 1;
  if (plan_id) {
    if (find_built_in_plan(*plan_id) != nullptr) return invalid_argument("the built-in plans cannot be changed");
    auto latest = plans_.find_routing_plan(*plan_id, std::nullopt);
    if (!latest) return latest.error();
    if (!*latest || (*latest)->client != client_id) {
      return not_found("client " + client_id.to_string() + " has no routing plan " + plan_id->to_string());
    }
    version = (*latest)->version + 1;
    plan->id = *plan_id;
  } else {
    plan->id = crypto::random_uuid();
  }
  plan->client = client_id;
  HERALD_TRY(check(**client, *plan));
  store::RoutingPlanRecord record{plan->id, client_id, version, plan->name, plan_definition_json(*plan), clock_.now()};
  auto added = plans_.add_routing_plan(record);
  if (!added) return added.error();
  if (!*added) return failed_precondition("the plan was changed at the same time; try again");
  auto saved = plan_from_record(record);
  if (!saved) return saved.error();
  return remember(std::move(*saved));
}

Result<PlanPtr> RoutingPlans::latest(const Uuid& id) {
  auto found = plans_.find_routing_plan(id, std::nullopt);
  if (!found) return found.error();
  if (!*found) return PlanPtr();
  return version(id, std::to_string((*found)->version));
}

Result<std::vector<std::pair<int, Timestamp>>> RoutingPlans::history(const Uuid& id, int limit) {
  auto found = plans_.find_routing_plan(id, std::nullopt);
  if (!found) return found.error();
  std::vector<std::pair<int, Timestamp>> out;
  if (!*found) return out;
  out.emplace_back((*found)->version, (*found)->created_at);
  for (int v = (*found)->version - 1; v >= 1 && static_cast<int>(out.size()) < limit; --v) {
    auto older = plans_.find_routing_plan(id, v);
    if (!older) return older.error();
    if (*older) out.emplace_back(v, (*older)->created_at);
  }
  return out;
}

Result<std::vector<RoutingPlan>> RoutingPlans::list(std::optional<Uuid> client) {
  auto records = plans_.list_routing_plans(client);
  if (!records) return records.error();
  std::vector<RoutingPlan> out;
  for (const store::RoutingPlanRecord& record : *records) {
    auto plan = plan_from_record(record);
    if (!plan) return plan.error();
    out.push_back(std::move(*plan));
  }
  return out;
}

}  // namespace herald::domain::nhs
