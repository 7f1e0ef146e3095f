#include "api/nhs_v1/requests.h"

#include <algorithm>
#include <regex>
#include <set>

#include "core/json.h"
#include "domain/recipients/phone_number.h"
#include "domain/recipients/postal_address.h"

namespace herald::api::nhs_v1 {
namespace {

using domain::nhs::MessageRequest;
using Problems = std::vector<Problem>;

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// NHS's three outcomes for a required member: missing, null, or present.
const json::Value* required(Problems& problems, const json::Value* v, const std::string& pointer) {
  if (v == nullptr) {
    problems.push_back(Problem::at(Cm::kMissingValue, pointer));
    return nullptr;
  }
  if (v->is_null()) {
    problems.push_back(Problem::at(Cm::kNullValue, pointer));
    return nullptr;
  }
  return v;
}

const json::Value* object(Problems& problems, const json::Value* v, const std::string& pointer) {
  v = required(problems, v, pointer);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    problems.push_back(Problem::at(Cm::kInvalidValue, pointer));
    return nullptr;
  }
  return v;
}

// A string that is not blank once trimmed.
std::optional<std::string> text(Problems& problems, const json::Value* v, const std::string& pointer) {
  v = required(problems, v, pointer);
  if (v == nullptr) return std::nullopt;
  const bool blank = v->is_string() && std::all_of(v->as_string().begin(), v->as_string().end(),
                                                   [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (!v->is_string() || blank) {
    problems.push_back(Problem::at(Cm::kInvalidValue, pointer));
    return std::nullopt;
  }
  return v->as_string();
}

void invalid(Problems& problems, const std::string& pointer, std::string detail) {
  problems.push_back(Problem{Cm::kInvalidValue, pointer, std::nullopt, std::move(detail), std::nullopt});
}

// recipient.contactDetails, as NHS's backend checks overrides.
void check_contact_details(Problems& problems, const json::Value& details, const std::string& pointer) {
  if (const json::Value* email = details.find("email")) {
    const std::string at = pointer + "/email";
    static const std::regex kEmail("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");
    if (!email->is_string()) {
      invalid(problems, at, "'email' is not a string");
    } else if (email->as_string().size() < 6 || email->as_string().size() > 90 ||
               !std::regex_match(email->as_string(), kEmail)) {
      invalid(problems, at, "Invalid email address");
    }
  }
  if (const json::Value* sms = details.find("sms")) {
    const std::string at = pointer + "/sms";
    if (!sms->is_string()) {
      invalid(problems, at, "'sms' is not a string");
    } else if (!domain::parse_phone_number(sms->as_string())) {
      invalid(problems, at, "Invalid phone number");
    }
  }
  if (const json::Value* address = details.find("address")) {
    const std::string at = pointer + "/address";
    if (!address->is_object()) {
      invalid(problems, at, "'address' is not an object");
    } else {
      const json::Value* lines = address->find("lines");
      const bool string_array = lines != nullptr && lines->is_array() &&
                                std::all_of(lines->as_array().begin(), lines->as_array().end(),
                                            [](const json::Value& l) { return l.is_string(); });
      if (!string_array) {
        invalid(problems, at + "/lines", "'lines' is not a string array");
      } else if (lines->as_array().size() > 5) {
        invalid(problems, at + "/lines", "Too many address lines were provided");
      } else if (lines->as_array().size() < 2) {
        invalid(problems, at + "/lines", "Too few address lines were provided");
      }
      const json::Value* postcode = address->find("postcode");
      if (postcode == nullptr || !postcode->is_string()) {
        invalid(problems, at + "/postcode", "'postcode' is not a string");
      } else if (!domain::format_uk_postcode(postcode->as_string())) {
        invalid(problems, at + "/postcode", "Invalid postcode");
      }
    }
  }
  if (const json::Value* name = details.find("name")) {
    const std::string at = pointer + "/name";
    if (!name->is_object()) {
      invalid(problems, at, "'name' is not an object");
    } else {
      for (const char* part : {"prefix", "firstName", "middleNames", "lastName", "suffix"}) {
        const json::Value* value = name->find(part);
        if (value != nullptr && !value->is_string()) {
          invalid(problems, at + "/" + part, std::string("'") + part + "' is not a string");
        }
      }
      if (name->find("lastName") == nullptr) invalid(problems, at + "/lastName", "'lastName' is required");
    }
  }
}

void check_recipient(Problems& problems, const json::Value* recipient, const std::string& base,
                     MessageRequest& request) {
  const std::string at = base + "/recipient";
  recipient = object(problems, recipient, at);
  if (recipient == nullptr) return;
  const json::Value* details = recipient->find("contactDetails");
  if (details != nullptr && !details->is_null()) {
    if (!details->is_object()) {
      invalid(problems, at + "/contactDetails", "'contactDetails' is not an object");
    } else {
      check_contact_details(problems, *details, at + "/contactDetails");
      request.contact_details_json = json::serialize(*details);
    }
  }
  const json::Value* nhs_number = recipient->find("nhsNumber");
  if (nhs_number == nullptr && request.contact_details_json) return;  // contact details alone
  nhs_number = required(problems, nhs_number, at + "/nhsNumber");
  if (nhs_number == nullptr) return;
  if (!nhs_number->is_string() || !domain::nhs::valid_nhs_number(nhs_number->as_string())) {
    problems.push_back(Problem::at(Cm::kInvalidNhsNumber, at + "/nhsNumber"));
    return;
  }
  request.nhs_number = nhs_number->as_string();
}

// The members a message has alone or in a batch, under `base` ("/data/attributes" or
// "/data/attributes/messages/<i>").
void check_message_fields(Problems& problems, const json::Value& message, const std::string& base,
                          MessageRequest& request) {
  if (auto reference = text(problems, message.find("messageReference"), base + "/messageReference")) {
    request.message_reference = std::move(*reference);
  }
  check_recipient(problems, message.find("recipient"), base, request);
  if (const json::Value* originator = message.find("originator")) {
    const json::Value* o = object(problems, originator, base + "/originator");
    if (o != nullptr) {
      if (const json::Value* ods = o->find("odsCode")) {
        if (ods->is_null()) {
          problems.push_back(Problem::at(Cm::kNullValue, base + "/originator/odsCode"));
        } else if (!ods->is_string()) {
          problems.push_back(Problem::at(Cm::kInvalidValue, base + "/originator/odsCode"));
        } else {
          request.ods_code = ods->as_string();
        }
      }
    }
  }
  if (const json::Value* personalisation = message.find("personalisation")) {
    if (object(problems, personalisation, base + "/personalisation") != nullptr) {
      request.personalisation_json = json::serialize(*personalisation);
    }
  }
  if (const json::Value* billing = message.find("billingReference")) {
    if (!billing->is_null()) {
      if (!billing->is_string()) {
        problems.push_back(Problem::at(Cm::kInvalidValue, base + "/billingReference"));
      } else {
        request.billing_reference = billing->as_string();
      }
    }
  }
}

// /data/attributes/routingPlanId, as a UUID.
void check_plan(Problems& problems, const json::Value& attributes, Uuid& plan_id) {
  const json::Value* plan = required(problems, attributes.find("routingPlanId"), "/data/attributes/routingPlanId");
  if (plan == nullptr) return;
  if (!plan->is_string() || !is_uuid(plan->as_string())) {
    problems.push_back(Problem::at(Cm::kInvalidValue, "/data/attributes/routingPlanId"));
    return;
  }
  plan_id = *Uuid::parse(plan->as_string());
}

// /data and its type.
const json::Value* check_data(Problems& problems, const json::Value& document, std::string_view type_name) {
  const json::Value* data = object(problems, document.find("data"), "/data");
  if (data == nullptr) return nullptr;
  const json::Value* type = required(problems, data->find("type"), "/data/type");
  if (type != nullptr && (!type->is_string() || type->as_string() != type_name)) {
    problems.push_back(Problem::at(Cm::kInvalidValue, "/data/type"));
  }
  return data;
}

Result<json::Value> parse_body(std::string_view body) {
  json::ParseLimits limits;
  limits.max_depth = 32;
  limits.max_bytes = kMaxBatchBytes;
  auto parsed = json::parse(body, limits);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return invalid_argument("not an object");
  return parsed;
}

}  // namespace

std::variant<MessageRequest, std::vector<Problem>> parse_create_message(std::string_view body) {
  auto parsed = parse_body(body);
  if (!parsed) return Problems{Problem::at(Cm::kInvalidValue, "/")};
  Problems problems;
  MessageRequest request;
  if (const json::Value* data = check_data(problems, *parsed, "Message")) {
    if (const json::Value* attributes = object(problems, data->find("attributes"), "/data/attributes")) {
      check_plan(problems, *attributes, request.routing_plan_id);
      check_message_fields(problems, *attributes, "/data/attributes", request);
    }
  }
  if (!problems.empty()) return problems;
  return request;
}

std::variant<domain::nhs::BatchRequest, std::vector<Problem>> parse_create_batch(std::string_view body) {
  if (body.size() > kMaxBatchBytes) return Problems{Problem::at(Cm::kTooLarge, "/")};
  auto parsed = parse_body(body);
  if (!parsed) return Problems{Problem::at(Cm::kInvalidValue, "/")};
  Problems problems;
  domain::nhs::BatchRequest request;
  const json::Value* data = check_data(problems, *parsed, "MessageBatch");
  if (data == nullptr) return problems;
  const json::Value* attributes = object(problems, data->find("attributes"), "/data/attributes");
  if (attributes == nullptr) return problems;
  check_plan(problems, *attributes, request.routing_plan_id);
  if (auto reference =
          text(problems, attributes->find("messageBatchReference"), "/data/attributes/messageBatchReference")) {
    request.batch_reference = std::move(*reference);
  }
  const std::string at = "/data/attributes/messages";
  const json::Value* messages = required(problems, attributes->find("messages"), at);
  if (messages == nullptr) return problems;
  if (!messages->is_array()) {
    problems.push_back(Problem::at(Cm::kInvalidValue, at));
    return problems;
  }
  const auto& items = messages->as_array();
  // Too many: refused as a whole, without looking at any message.
  if (items.size() > kMaxBatchMessages) return Problems{Problem::at(Cm::kTooManyItems, at)};
  if (items.empty()) {
    problems.push_back(Problem::at(Cm::kTooFewItems, at));
    return problems;
  }
  std::set<std::string> references;
  request.messages.reserve(items.size());
  for (std::size_t i = 0; i < items.size() && problems.size() < kMaxProblems; ++i) {
    const std::string base = at + "/" + std::to_string(i);
    domain::nhs::MessageRequest message;
    if (object(problems, &items[i], base) == nullptr) continue;
    const std::size_t before = problems.size();
    check_message_fields(problems, items[i], base, message);
    if (problems.size() == before && !references.insert(message.message_reference).second) {
      problems.push_back(Problem::at(Cm::kDuplicateValue, base + "/messageReference"));
    }
    message.routing_plan_id = request.routing_plan_id;
    request.messages.push_back(std::move(message));
  }
  if (!problems.empty()) return problems;
  return request;
}

}  // namespace herald::api::nhs_v1
