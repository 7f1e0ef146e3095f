#include "api/nhs_v1/sandbox.h"

#include <algorithm>
#include <array>
#include <optional>
#include <thread>

#include "api/nhs_v1/errors.h"
#include "api/nhs_v1/handlers.h"
#include "api/nhs_v1/requests.h"
#include "api/nhs_v1/responses.h"
#include "core/json.h"
#include "core/ksuid.h"
#include "core/url.h"
#include "crypto/random.h"

namespace herald::api::nhs_v1 {
namespace {

using store::NhsChannel;
using store::NhsChannelStatus;
using store::NhsMessageStatus;

// The sandbox's plans are fixed: NHS's name and creation date for all of them.
constexpr const char* kPlanName = "routing-plan-name";
constexpr std::int64_t kPlanCreatedMicros = 1'640'995'200'000'000;  // 2022-01-01T00:00:00Z

struct SandboxPlan {
  const char* id;
  const char* version;  // as a single message's 201 shows it (a batch's says "1")
};
constexpr std::array<SandboxPlan, 8> kPlans = {{
    {"b838b13c-f98c-4def-93f0-515d4e4f4ee1", "ztoe2qRAM8M8vS0bqajhyEBcvXacrGPp"},
    {"49e43b98-70cb-47a9-a55e-fe70c9a6f77c", "G.uwELAFAGMsKEBk2iIeRCBOB6kj6OkE"},
    {"b402cd20-b62a-4357-8e02-2952959531c8", "J7ZPQIf1yyUB4CiBpUBoy.1ahfOTCCQ7"},
    {"936e9d45-15de-4a95-bb36-ae163c33ae53", "riOAKoN4ajoVyUf9U2xwHVNRHc5V52A."},
    {"9ba00d23-cd6f-4aca-8688-00abc85a7980", "nkz2osS_oc8IZ5GqeN_1yXKSXe9VEUjV"},
    {"00000000-0000-0000-0000-000000000001", "odbGpMQvYRM7sp7jueU2lRHQiueKujVO"},
    {"00000000-0000-0000-0000-000000000002", "HXdzlIX2Rv2qy7j9MR3FxbPHhJM7Jjzt"},
    {"00000000-0000-0000-0000-000000000003", "xoERWoahq12cq8WMXya4yed9hZtZbMxJ"},
}};

// The routing plans that make errors, each as NHS's sandbox answers it.
enum class PlanTrigger { kNone, kMissingTemplates, kDuplicateTemplates, kInvalidConfig, kInternal, kTooEarly };
PlanTrigger plan_trigger(std::string_view id) {
  if (id == "aeb16ab8-cb9c-4d23-92e9-87c78119175c" || id == "c8857ccf-06ec-483f-9b3a-7fc732d9ad48") {
    return PlanTrigger::kMissingTemplates;
  }
  if (id == "a3a4e55d-7a21-45a6-9286-8eb595c872a8") return PlanTrigger::kDuplicateTemplates;
  if (id == "4ead415a-c033-4b39-9b05-326ac237a3be") return PlanTrigger::kInvalidConfig;
  if (id == "3bb82e6a-9873-4683-b2b9-fdf33c9ba86f") return PlanTrigger::kInternal;
  if (id == "d895ade5-0029-4fc3-9fb5-86e1e5370854") return PlanTrigger::kTooEarly;
  return PlanTrigger::kNone;
}

const SandboxPlan* plan_of(const Uuid& id) {
  const std::string text = id.to_string();
  auto it = std::find_if(kPlans.begin(), kPlans.end(), [&](const SandboxPlan& p) { return text == p.id; });
  return it == kPlans.end() ? nullptr : &*it;
}

// The templates NHS's sandbox names as duplicated in its duplicate-templates plan, in its
// error's meta.duplicateTemplates.
json::Value duplicate_templates() {
  json::Array templates;
  for (const char* type : {"EMAIL", "SMS", "LETTER", "LETTER_PDF", "NHSAPP"}) {
    templates.push_back(json::Value::object(
        {{"name", json::Value::string(std::string(type) + "_TEMPLATE")}, {"type", json::Value::string(type)}}));
  }
  return json::Value::object({{"duplicateTemplates", json::Value::array(std::move(templates))}});
}

// nullopt: the plan may be used; else the response that refuses it.
std::optional<net::Response> refuse_plan(const Exchange& exchange, const Uuid& id) {
  switch (plan_trigger(id.to_string())) {
    case PlanTrigger::kMissingTemplates: return problem(exchange, Cm::kMissingRoutingPlanTemplate);
    case PlanTrigger::kDuplicateTemplates: {
      Problem duplicates;
      duplicates.code = Cm::kRoutingPlanDuplicateTemplates;
      duplicates.meta = duplicate_templates();
      return problem(exchange, std::move(duplicates));
    }
    case PlanTrigger::kInvalidConfig:
      return problem(exchange, Problem::at(Cm::kInvalidValue, "/data/attributes/routingPlanId"));
    case PlanTrigger::kInternal: return problem(exchange, Cm::kInternalServerError);
    case PlanTrigger::kTooEarly: return retry_too_early(exchange, 300);
    case PlanTrigger::kNone: break;
  }
  if (plan_of(id) == nullptr) return problem(exchange, Cm::kNoSuchRoutingPlan);
  return std::nullopt;
}

domain::nhs::PlanPtr fixed_plan(const Uuid& id, std::string version) {
  auto plan = std::make_shared<domain::nhs::RoutingPlan>();
  plan->id = id;
  plan->name = kPlanName;
  plan->version = std::move(version);
  plan->created = from_micros(kPlanCreatedMicros);
  return plan;
}

std::string new_id(Timestamp now) {
  std::array<unsigned char, 16> random{};
  crypto::public_random(random.data(), random.size());
  return make_ksuid(now, random);
}

// The sandbox's client: its Authorization header names what it may not do.
struct SandboxClient {
  bool banned = false;
  bool no_default_ods = false;
  bool no_ods_change = false;
  bool no_contact_details = false;
};
SandboxClient client_of(const net::Request& request) {
  const std::string_view auth = request.header("Authorization").value_or("");
  return {auth == "banned", auth == "noDefaultOds", auth == "noOdsChange", auth == "notAllowedContactDetailOverride"};
}

// The client's refusal of one message's originator or contact details, NHS's way.
std::optional<net::Response> refuse_message(const Exchange& exchange, const SandboxClient& client,
                                            const domain::nhs::MessageRequest& m, const std::string& at) {
  if (client.no_default_ods && (!m.ods_code || m.ods_code->empty())) {
    return problem(exchange, Cm::kOdsCodeRequired);
  }
  if (client.no_ods_change && m.ods_code && !m.ods_code->empty()) return problem(exchange, Cm::kCannotSetOdsCode);
  if (client.no_contact_details && m.contact_details_json) {
    return problem(exchange, Problem::at(Cm::kCannotSetContactDetails, at + "/recipient/contactDetails"));
  }
  return std::nullopt;
}

// --- The fixed messages GET knows (NHS's sandbox/messages, one per outcome) -----------------

struct FixedChannel {
  NhsChannel type;
  bool primary;
  int order;
  NhsChannelStatus status;
  const char* code;  // the channel's failure reason code, or nullptr
  int retries;
};

struct FixedMessage {
  const char* id;
  NhsMessageStatus status;
  const char* code;  // the message's failure reason code, or nullptr
  std::vector<FixedChannel> channels;
  bool override_plan = false;
};

constexpr auto kApp = NhsChannel::kNhsApp;
constexpr auto kEmail = NhsChannel::kEmail;
constexpr auto kSms = NhsChannel::kSms;
constexpr auto kLetter = NhsChannel::kLetter;
constexpr auto kDelivered = NhsChannelStatus::kDelivered;
constexpr auto kFailed = NhsChannelStatus::kFailed;
constexpr auto kSending = NhsChannelStatus::kSending;
constexpr auto kCreated = NhsChannelStatus::kCreated;

const std::vector<FixedMessage>& fixed_messages() {
  using S = NhsMessageStatus;
  static const std::vector<FixedMessage> all = {
      {"2WL3qFTEFM0qMY8xjRbt1LIKCzM", S::kDelivered, nullptr, {{kApp, true, 1, kDelivered, nullptr, 1}}},
      {"2WL3wwFhpZ6blJNIoh747bDEFNv", S::kDelivered, nullptr, {{kEmail, true, 1, kDelivered, nullptr, 1}}},
      {"2WL3ydEEk37IzREoWRhuAdolFCE", S::kDelivered, nullptr, {{kSms, true, 1, kDelivered, nullptr, 0}}},
      {"2WL3zxCY9e5vm2VP1ZfYMb53WPF", S::kDelivered, nullptr, {{kLetter, true, 1, kDelivered, nullptr, 0}}},
      {"2WL44QP7vrKxKKBZdTtUQoB2bWl", S::kSending, nullptr, {{kApp, true, 1, kSending, nullptr, 0}}},
      {"2WL45YuHOLATvC3GspEu0oSioux", S::kFailed, "MFR_PDSV_0004", {{kApp, true, 1, kFailed, "CFR_PDSV_0004", 0}}},
      {"2WL4GEeFVxXG9S57nRlefBwwKxp", S::kSending, nullptr, {{kEmail, true, 1, kSending, nullptr, 0}}},
      {"2WL4JXrfauCaQnSFbAujoImSKwo", S::kSending, nullptr, {{kSms, true, 1, kSending, nullptr, 0}}},
      {"2WL4JtCiOe7l2TT4szwPjNJah3z", S::kFailed, "MFR_SUPE_0007", {{kSms, true, 1, kFailed, "CFR_SUPE_0007", 1}}},
      {"2WL4LuyNMtoGAsJQIpTxZLl8e3e", S::kSending, nullptr, {{kLetter, true, 1, kSending, nullptr, 0}}},
      {"2WL4MOuSeCTODDAScFG7KIq9a5r", S::kFailed, "MFR_SUPE_0007", {{kLetter, true, 1, kFailed, "CFR_SUPE_0007", 1}}},
      {"2WL4QcKGjNHvHFQeKgYbapZJGHK", S::kFailed, "MFR_PDSV_0006", {}},
      {"2WL4W9RgbuLLByXdR77H8vjKSDd", S::kFailed, "MFR_SUPE_0007", {{kEmail, true, 1, kFailed, "CFR_SUPE_0007", 1}}},
      {"2WL4cPfBRuPKa44JxhyXYf2kr1E", S::kFailed, "MFR_PDSV_0008", {}},
      {"2WL4ibGoigirgbH4yQwqbPaJXyQ", S::kFailed, "MFR_PDSV_0112", {}},
      {"2WL4khXn32dOOj4bB4bi8Tkllrq", S::kFailed, "MFR_PDSV_0111", {}},
      {"2WL4mvx6eBva8dcIK60VEGIfcgZ", S::kFailed, "MFR_PDSV_0110", {}},
      {"2WL4pcpmKxYYblm3PSKVEqcmEPX", S::kFailed, "MFR_PDSV_0001", {}},
      {"2WL4vHFZzInmaYwq6HRNDqTX8dH", S::kFailed, "MFR_PDSV_0002", {{kApp, true, 1, kFailed, "CFR_PDSV_0002", 1}}},
      {"2WL4xcWKvz4F32g0htBEl8DINzn", S::kFailed, "MFR_PDSV_0002", {{kEmail, true, 1, kFailed, "CFR_PDSV_0002", 1}}},
      {"2WL50w41YaZXcyFCNT346LY8rlz", S::kFailed, "MFR_PDSV_0002", {{kSms, true, 1, kFailed, "CFR_PDSV_0002", 1}}},
      {"2WL54x0XQjCbWeE5lN0DKQZcokU", S::kFailed, "MFR_PDSV_0002", {{kLetter, true, 1, kFailed, "CFR_PDSV_0002", 1}}},
      {"2WL5TWl7F7PondWbZ1vctlEtOZ3",
       S::kDelivered,
       nullptr,
       {{kApp, true, 1, kDelivered, nullptr, 0},
        {kEmail, true, 2, kCreated, nullptr, 0},
        {kSms, true, 3, kCreated, nullptr, 0},
        {kLetter, true, 4, kCreated, nullptr, 0}}},
      {"2WL5eDefrbW31uw1il84WdF8ndH",
       S::kDelivered,
       nullptr,
       {{kApp, true, 1, kFailed, "CFR_PDSV_0004", 0},
        {kEmail, true, 2, kDelivered, nullptr, 0},
        {kSms, true, 3, kCreated, nullptr, 0},
        {kLetter, true, 4, kCreated, nullptr, 0}}},
      {"2WL5eYSWGzCHlGmzNxuqVusPxDg",
       S::kDelivered,
       nullptr,
       {{kApp, true, 1, kFailed, "CFR_PDSV_0004", 0},
        {kEmail, true, 2, kFailed, "CFR_SUPE_0007", 1},
        {kSms, true, 3, kDelivered, nullptr, 0},
        {kLetter, true, 4, kCreated, nullptr, 0}}},
      {"2WL5f8j4XVxUPgd3OOqXVYvVFIW",
       S::kDelivered,
       nullptr,
       {{kApp, true, 1, kFailed, "CFR_PDSV_0004", 0},
        {kEmail, true, 2, kFailed, "CFR_SUPE_0007", 1},
        {kSms, true, 3, kFailed, "CFR_SUPE_0007", 1},
        {kLetter, true, 4, kDelivered, nullptr, 0}}},
      {"2WL5qbEa7TzSWZXU2IAOCCrLXVL", S::kDelivered, nullptr, {{kApp, true, 1, kDelivered, nullptr, 0}}},
      {"2bBBpsiMl2rnQt99qm6JLZ6w1vq",
       S::kFailed,
       "MFR_PDSV_0002",
       {{kSms, true, 1, kFailed, "CFR_PDSV_0002", 1}},
       true},
      {"2n7C5wdJ9JSOSeCJTyd50GvtZeR",
       S::kDelivered,
       nullptr,
       {{kApp, true, 1, kFailed, nullptr, 1},
        {kSms, false, 1, kDelivered, nullptr, 1},
        {kLetter, true, 2, kDelivered, nullptr, 0}}},
  };
  return all;
}

// NHS's wording for each failure reason (spec §7.4; the supplier failure's depends on the channel).
std::string failure_text(std::string_view code, std::optional<NhsChannel> channel) {
  const std::string_view reason = code.substr(4);
  if (reason == "PDSV_0001") return "Failed reason: Name response is invalid: Contact detail is malformed";
  if (reason == "PDSV_0002") return "Failed reason: Contact detail is missing";
  if (reason == "PDSV_0004") return "Failed reason: NHS number not found";
  if (reason == "PDSV_0006") return "Failed reason: Patient does not exist in PDS";
  if (reason == "PDSV_0008") return "Failed reason: patient record invalidated";
  if (reason == "PDSV_0110") return "Failed reason: Patient has exit code";
  if (reason == "PDSV_0111") return "Failed reason: Patient is informally dead";
  if (reason == "PDSV_0112") return "Failed reason: Patient is formally dead";
  switch (channel.value_or(NhsChannel::kEmail)) {
    case NhsChannel::kSms:
      return "Failed reason: The provider could not deliver the message. This can happen when the recipient\u2019s "
             "phone is off, has no signal, or their text message inbox is full. You can try to send the message "
             "again. You\u2019ll still be charged for text messages to phones that are not accepting messages.";
    case NhsChannel::kLetter:
      return "Failed reason: We had an unexpected error while sending the letter to our printing provider.";
    default:
      return "Failed reason: The provider could not deliver the message. This can happen when the recipient\u2019s "
             "inbox is full or their anti-spam filter rejects your email. Check your content does not look like "
             "spam before you try to send the message again.";
  }
}

domain::nhs::AcceptedMessage fixed_record(const FixedMessage& f) {
  // 2023-10-09T10:31:37Z, enriched 22 s later, settled a minute after that.
  const Timestamp created = from_micros(1'696'847'497'000'000);
  store::NhsMessageRecord r;
  r.id = f.id;
  r.message_reference = "sandbox-" + std::string(f.id);
  r.routing_plan_id = *Uuid::parse(kPlans[0].id);
  r.routing_plan_version = "1";
  r.nhs_number = "9990548609";  // never shown: it only says a lookup was made
  r.status = f.status;
  r.created_at = created;
  // Every one was looked up (its metadata says when), as NHS's show.
  r.enriched_at = created + std::chrono::seconds(22);
  if (f.status == NhsMessageStatus::kDelivered) r.delivered_at = created + std::chrono::seconds(82);
  if (f.status == NhsMessageStatus::kFailed) r.failed_at = created + std::chrono::seconds(82);
  std::optional<NhsChannel> failed_channel;
  for (const FixedChannel& c : f.channels) {
    store::NhsChannelRecord channel;
    channel.type = c.type;
    channel.primary = c.primary;
    channel.order = c.order;
    channel.status = c.status;
    channel.retry_count = c.retries;
    channel.created_at = created + std::chrono::seconds(22);
    if (c.code != nullptr) {
      channel.failure_reason_code = c.code;
      channel.status_description = failure_text(c.code, c.type);
      failed_channel = c.type;
    } else if (c.status == kFailed) {
      channel.status_description = "Message not read in specified time frame";
    }
    if (c.status == kDelivered) channel.delivered_at = r.delivered_at;
    if (c.status == kFailed) channel.failed_at = created + std::chrono::seconds(60);
    if (f.override_plan) {
      channel.override_plan_id = *Uuid::parse("9ba00d23-cd6f-4aca-8688-00abc85a7980");
      channel.override_plan_version = "5";
    }
    r.channels.push_back(std::move(channel));
  }
  r.demographics_version = r.channels.empty() ? "1" : "23";
  if (f.code != nullptr) {
    r.failure_reason_code = f.code;
    r.status_description = failure_text(f.code, failed_channel);
  }
  return domain::nhs::AcceptedMessage{std::move(r), fixed_plan(*Uuid::parse(kPlans[0].id), "1")};
}

// --- NHS App accounts ---------------------------------------------------------------------

constexpr std::array<const char*, 10> kPagedAccounts = {"9999999018", "9999999026", "9999999034", "9999999042",
                                                        "9999999050", "9999999069", "9999999077", "9999999085",
                                                        "9999999093", "9999999107"};
constexpr int kPagedPages = 8;

net::Response accounts(const SandboxDependencies& deps, const Exchange& exchange, const net::Request& request,
                       const SandboxClient& client) {
  if (client.banned) return problem(exchange, Cm::kServiceBan);
  std::optional<std::string> ods, page;
  for (const auto& [key, value] : parse_form(request.query)) {
    if (key == "ods-organisation-code") ods = value;
    if (key == "page") page = value;
  }
  if (!ods || ods->empty()) return problem(exchange, Problem::saying(Cm::kInvalidRequest, "Missing ODS Code"));
  std::string code = *ods;
  std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return std::toupper(c); });
  if (code == "T00502") return problem(exchange, Cm::kBadGateway);
  if (code == "T00404") return problem(exchange, Problem::saying(Cm::kNotFound, "Report not found"));
  if (code == "T00429") {
    return problem(exchange, Problem::saying(Cm::kQuota,
                                             "This endpoint is currently receiving a high volume of requests and is "
                                             "being rate limited."));
  }
  if (!valid_practice_code(code)) return problem(exchange, Problem::saying(Cm::kInvalidRequest, "Invalid ODS Code"));
  int number = 1;
  if (page && !page->empty()) {
    const bool numeric = page->size() <= 9 && std::all_of(page->begin(), page->end(), [](char c) {
                           return (c >= '0' && c <= '9') || c == '.' || c == '-';
                         });
    const double value = numeric ? std::strtod(page->c_str(), nullptr) : 0;
    if (!numeric || value <= 0) {
      return problem(exchange, Problem::saying(Cm::kInvalidRequest, "page must be a positive non-zero integer"));
    }
    const bool whole =
        std::all_of(page->begin(), page->end(), [](char c) { return c >= '0' && c <= '9'; }) && page->front() != '0';
    number = whole ? std::stoi(*page) : 0;
  }
  const bool paged = code == "T00001";
  const int last = paged ? kPagedPages : 1;
  if (number < 1 || number > last) return problem(exchange, Problem::saying(Cm::kNotFound, "Report not found"));
  const std::string self = api_root(deps.public_root, deps.prefix, request) +
                           "/channels/nhsapp/accounts?ods-organisation-code=" + code + "&page=";
  json::Writer w;
  w.begin_object().key("data").begin_object().key("id").string(code).key("type").string("NhsAppAccounts");
  w.key("attributes").begin_object().key("accounts").begin_array();
  if (paged) {
    for (std::size_t i = 0; i < kPagedAccounts.size(); ++i) {
      w.begin_object()
          .key("nhsNumber")
          .string(kPagedAccounts[i])
          .key("notificationsEnabled")
          .boolean(i == 0)
          .end_object();
    }
  } else {
    w.begin_object().key("nhsNumber").string("9074662803").key("notificationsEnabled").boolean(true).end_object();
    w.begin_object().key("nhsNumber").string("9903002157").key("notificationsEnabled").boolean(false).end_object();
  }
  w.end_array().end_object().end_object();
  w.key("links").begin_object().key("last").string(self + std::to_string(last));
  if (number < last) w.key("next").string(self + std::to_string(number + 1));
  w.key("self").string(self + std::to_string(number)).end_object();
  w.end_object();
  return finish(exchange, net::Response{200, "", w.take(), {}});
}

// --- The requests ---------------------------------------------------------------------------

net::Response create_message(const SandboxDependencies& deps, const Exchange& exchange, const net::Request& request,
                             const SandboxClient& client) {
  auto parsed = parse_create_message(request.body);
  if (auto* invalid = std::get_if<std::vector<Problem>>(&parsed)) return problems(exchange, *invalid);
  auto& m = std::get<domain::nhs::MessageRequest>(parsed);
  if (client.banned) return problem(exchange, Cm::kServiceBan);
  if (auto refused = refuse_plan(exchange, m.routing_plan_id)) return std::move(*refused);
  if (auto refused = refuse_message(exchange, client, m, "/data/attributes")) return std::move(*refused);
  const Timestamp now = deps.clock.now();
  domain::nhs::AcceptedMessage accepted;
  accepted.record.id = new_id(now);
  accepted.record.message_reference = m.message_reference;
  accepted.record.routing_plan_id = m.routing_plan_id;
  accepted.record.routing_plan_version = plan_of(m.routing_plan_id)->version;
  accepted.record.created_at = now;
  accepted.plan = fixed_plan(m.routing_plan_id, accepted.record.routing_plan_version);
  net::Response response{201, "", message_created_json(accepted, api_root(deps.public_root, deps.prefix, request)), {}};
  response.headers.emplace_back("Location", "/v1/messages/" + accepted.record.id);
  return finish(exchange, std::move(response));
}

net::Response create_batch(const SandboxDependencies& deps, const Exchange& exchange, const net::Request& request,
                           const SandboxClient& client) {
  auto parsed = parse_create_batch(request.body);
  if (auto* invalid = std::get_if<std::vector<Problem>>(&parsed)) return problems(exchange, *invalid);
  auto& batch = std::get<domain::nhs::BatchRequest>(parsed);
  if (client.banned) return problem(exchange, Cm::kServiceBan);
  // NHS's sandbox checks each message's originator before the plan, and contact details after.
  for (const auto& m : batch.messages) {
    SandboxClient ods_only = client;
    ods_only.no_contact_details = false;
    if (auto refused = refuse_message(exchange, ods_only, m, "")) return std::move(*refused);
  }
  if (auto refused = refuse_plan(exchange, batch.routing_plan_id)) return std::move(*refused);
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    const std::string at = "/data/attributes/messages/" + std::to_string(i);
    if (auto refused = refuse_message(exchange, client, batch.messages[i], at)) return std::move(*refused);
  }
  const Timestamp now = deps.clock.now();
  domain::nhs::AcceptedBatch accepted;
  accepted.record =
      store::NhsBatchRecord{new_id(now), Uuid{}, ServiceId{}, batch.batch_reference, batch.routing_plan_id, "1", now};
  accepted.plan = fixed_plan(batch.routing_plan_id, "1");
  accepted.messages.reserve(batch.messages.size());
  for (auto& m : batch.messages) accepted.messages.emplace_back(std::move(m.message_reference), new_id(now));
  return finish(exchange, net::Response{201, "", batch_created_json(accepted), {}});
}

net::Response get_message(const SandboxDependencies& deps, const Exchange& exchange, const net::Request& request,
                          const SandboxClient& client, std::string_view id) {
  if (client.banned) return problem(exchange, Cm::kServiceBan);
  for (const FixedMessage& f : fixed_messages()) {
    if (id != f.id) continue;
    net::Response response{
        200, "", message_json(fixed_record(f), api_root(deps.public_root, deps.prefix, request)), {}};
    if (request.method == "HEAD") response.body.clear();
    return finish(exchange, std::move(response));
  }
  return problem(exchange, Cm::kNotFound);
}

// GET /_timeout?sleep=ms: answers {} after the wait, or 504 when the wait passes the gateway's limit.
net::Response timeout_path(const SandboxDependencies& deps, const Exchange& exchange, const net::Request& request) {
  long sleep_ms = 3000;
  for (const auto& [key, value] : parse_form(request.query)) {
    if (key == "sleep") sleep_ms = std::strtol(value.c_str(), nullptr, 10);
  }
  const auto wait = std::chrono::milliseconds(std::max(0L, sleep_ms));
  if (wait >= deps.gateway_timeout) {
    std::this_thread::sleep_for(deps.gateway_timeout);
    return problem(exchange, Cm::kGatewayTimeout);
  }
  std::this_thread::sleep_for(wait);
  return finish(exchange, net::Response{200, "", "{}", {}});
}

// The whole sandbox, in its gateway's order.
net::Response sandbox(const SandboxDependencies& deps, const net::Request& request) {
  const Exchange exchange = exchange_for(request);
  const std::string_view prefer = request.header("Prefer").value_or("");
  const std::string_view auth = request.header("Authorization").value_or("");
  if (prefer == "code=408") return problem(exchange, Cm::kRequestTimeout);
  if (prefer == "code=504") return problem(exchange, Cm::kGatewayTimeout);
  if (prefer == "code=503") return problem(exchange, Cm::kServiceUnavailable);
  if (prefer == "code=500") return problem(exchange, Cm::kInternalServerError);
  if (prefer == "code=401" || auth == "Bearer InvalidMockToken") return problem(exchange, Cm::kDenied);
  if (prefer == "code=403" || auth == "Bearer ClientNotRecognised") return problem(exchange, Cm::kForbidden);
  if (prefer == "code=403.1") return problem(exchange, Cm::kServiceBan);
  if (prefer == "code=425") return retry_too_early(exchange, 300);
  if (prefer == "code=422_batch") return problem(exchange, Cm::kDuplicateBatchRequest);
  if (prefer == "code=422_message") return problem(exchange, Cm::kDuplicateMessageRequest);
  if (auto answered = preflight(request)) return std::move(*answered);
  if (!acceptable(request)) return problem(exchange, Cm::kNotAcceptable);
  const std::string& method = request.method;
  if ((method == "POST" || method == "PUT" || method == "PATCH") && !json_body(request)) {
    return problem(exchange, Cm::kUnsupportedMedia);
  }
  if (prefer == "code=429") return quota(exchange, 5);

  // The path under the prefix, double slashes collapsed.
  std::string path;
  for (std::size_t i = deps.prefix.size(); i < request.path.size(); ++i) {
    if (request.path[i] == '/' && !path.empty() && path.back() == '/') continue;
    path += request.path[i];
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const SandboxClient client = client_of(request);
  auto only = [&](std::initializer_list<std::string_view> methods) {
    return std::find(methods.begin(), methods.end(), method) != methods.end();
  };
  if (path == "/v1/messages") {
    return only({"POST"}) ? create_message(deps, exchange, request, client) : problem(exchange, Cm::kNotAllowed);
  }
  if (path == "/v1/message-batches") {
    return only({"POST"}) ? create_batch(deps, exchange, request, client) : problem(exchange, Cm::kNotAllowed);
  }
  if (path.starts_with("/v1/messages/")) {
    return only({"GET", "HEAD"}) ? get_message(deps, exchange, request, client, path.substr(13))
                                 : problem(exchange, Cm::kNotAllowed);
  }
  if (path == "/channels/nhsapp/accounts") {
    return only({"GET"}) ? accounts(deps, exchange, request, client) : problem(exchange, Cm::kNotAllowed);
  }
  if (path == "/_timeout" || path == "/_timeout_504" || path == "/_timeout_408" || path == "/_invalid_certificate") {
    if (!only({"GET"})) return problem(exchange, Cm::kNotAllowed);
    if (path == "/_timeout") return timeout_path(deps, exchange, request);
    // NHS's gateway turns the backend's 408 into a 504 too, and a refused certificate into a 503.
    return problem(exchange, path == "/_invalid_certificate" ? Cm::kServiceUnavailable : Cm::kGatewayTimeout);
  }
  return problem(exchange, Cm::kNotFound);
}

}  // namespace

void register_sandbox_routes(Router& router, const SandboxDependencies& deps) {
  router.add_prefix_handler(deps.prefix,
                            [deps](const net::Request& request, const PathParams&) { return sandbox(deps, request); });
}

}  // namespace herald::api::nhs_v1
