#include "delivery/nhs_app/nhs_app_client.h"

#include "core/json.h"
#include "crypto/random.h"

namespace herald::delivery::nhs_app {
namespace {

using domain::nhs::NhsAppResult;

constexpr const char* kRequestIdSystem = "https://fhir.nhs.uk/NHSApp/request-id";
constexpr const char* kCommunicationIdSystem = "https://fhir.nhs.uk/Id/nhs-app-communication-id";

NhsAppResult result(NhsAppResult::Outcome outcome, std::string detail, std::string reference = "") {
  return NhsAppResult{outcome, std::move(reference), std::move(detail)};
}

// The first issue's diagnostics of a FHIR OperationOutcome (no personal data: NHS's wording).
std::string diagnostics(std::string_view body) {
  auto parsed = json::parse(body);
  if (!parsed || !parsed->is_object()) return "";
  const json::Value* issues = parsed->find("issue");
  if (issues == nullptr || !issues->is_array() || issues->as_array().empty()) return "";
  const json::Value* text = issues->as_array()[0].find("diagnostics");
  return text != nullptr && text->is_string() ? text->as_string().substr(0, 200) : "";
}

}  // namespace

std::string communication_request_json(const domain::nhs::NhsAppMessage& m) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType").string("CommunicationRequest");
  w.key("identifier").begin_array();
  w.begin_object().key("system").string(kRequestIdSystem).key("value").string(m.message_id).end_object();
  w.end_array();
  w.key("status").string("active");
  w.key("payload").begin_array().begin_object().key("contentString").string(m.body).end_object().end_array();
  w.key("recipient").begin_array().begin_object().key("type").string("Patient").key("identifier").begin_object();
  w.key("system").string("https://fhir.nhs.uk/Id/nhs-number").key("value").string(m.nhs_number);
  w.end_object().end_object().end_array();
  w.key("requester").begin_object().key("type").string("Organization").key("identifier").begin_object();
  w.key("system").string("https://fhir.nhs.uk/Id/ods-organization-code").key("value").string(m.ods_code);
  w.end_object().end_object();
  w.end_object();
  return w.take();
}

NhsAppResult NhsAppClient::send(const domain::nhs::NhsAppMessage& message) {
  auto bearer = token_->get();
  if (!bearer) return result(NhsAppResult::Outcome::kUnavailable, bearer.error().message);
  auto response = net::https_request("POST", base_url_ + "/communication/in-app/FHIR/R4/CommunicationRequest",
                                     {{"Content-Type", "application/fhir+json"},
                                      {"Accept", "application/fhir+json"},
                                      {"Authorization", "Bearer " + *bearer},
                                      {"X-Correlation-ID", crypto::random_uuid().to_string()}},
                                     communication_request_json(message), http_);
  if (!response) return result(NhsAppResult::Outcome::kUnavailable, "NHS App: " + response.error().message);
  const int status = response->status;
  if (status == 201 || status == 200) {
    auto body = json::parse(response->body);
    const json::Value* ids = body && body->is_object() ? body->find("identifier") : nullptr;
    if (ids != nullptr && ids->is_array()) {
      for (const json::Value& id : ids->as_array()) {
        const json::Value* system = id.find("system");
        const json::Value* value = id.find("value");
        if (system != nullptr && system->is_string() && system->as_string() == kCommunicationIdSystem &&
            value != nullptr && value->is_string()) {
          return result(NhsAppResult::Outcome::kAccepted, "queued", value->as_string());
        }
      }
    }
    return result(NhsAppResult::Outcome::kUnavailable, "NHS App answered 201 without a communication id");
  }
  if (status == 401) token_->forget();
  // Throttled, its token refused, or its own trouble: later. Anything else is about this request.
  if (status == 401 || status == 408 || status == 429 || status >= 500) {
    return result(NhsAppResult::Outcome::kUnavailable, "NHS App answered " + std::to_string(status));
  }
  const std::string why = diagnostics(response->body);
  return result(NhsAppResult::Outcome::kRejected,
                "NHS App answered " + std::to_string(status) + (why.empty() ? "" : ": " + why));
}

}  // namespace herald::delivery::nhs_app
