#include "delivery/nhs_app/nhs_app_client.h"

#include "core/json.h"
#include "core/url.h"
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

Result<std::string> NhsAppClient::token() {
  const Timestamp now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && now + std::chrono::minutes(1) < token_expires_) return token_;
  }
  json::Writer header;
  header.begin_object()
      .key("alg")
      .string("RS512")
      .key("typ")
      .string("JWT")
      .key("kid")
      .string(options_.kid)
      .end_object();
  const std::int64_t seconds = to_micros(now) / 1'000'000;
  json::Writer claims;
  claims.begin_object()
      .key("iss")
      .string(options_.api_key)
      .key("sub")
      .string(options_.api_key)
      .key("aud")
      .string(options_.token_url)
      .key("jti")
      .string(crypto::random_uuid().to_string())
      .key("exp")
      .integer(seconds + 300)
      .end_object();
  const std::string assertion = crypto::sign_jwt_rs512(key_, header.str(), claims.str());
  const std::string form = "grant_type=client_credentials&client_assertion_type=" +
                           percent_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                           "&client_assertion=" + percent_encode(assertion);
  auto response = net::https_request("POST", options_.token_url,
                                     {{"Content-Type", "application/x-www-form-urlencoded"}}, form, options_.http);
  if (!response) return unavailable("NHS App token: " + response.error().message);
  if (response->status != 200)
    return unavailable("NHS App token endpoint answered " + std::to_string(response->status));
  auto body = json::parse(response->body);
  const json::Value* access = body && body->is_object() ? body->find("access_token") : nullptr;
  if (access == nullptr || !access->is_string()) return unavailable("NHS App token endpoint answered no token");
  std::int64_t lifetime = 599;
  if (const json::Value* expires = body->find("expires_in")) {
    if (expires->is_string()) lifetime = std::atoll(expires->as_string().c_str());
    if (expires->is_number()) lifetime = expires->as_int64().value_or(599);
  }
  std::lock_guard lock(mutex_);
  token_ = access->as_string();
  token_expires_ = now + std::chrono::seconds(lifetime);
  return token_;
}

void NhsAppClient::forget_token() {
  std::lock_guard lock(mutex_);
  token_.clear();
}

NhsAppResult NhsAppClient::send(const domain::nhs::NhsAppMessage& message) {
  auto bearer = token();
  if (!bearer) return result(NhsAppResult::Outcome::kUnavailable, bearer.error().message);
  auto response = net::https_request("POST", options_.base_url + "/communication/in-app/FHIR/R4/CommunicationRequest",
                                     {{"Content-Type", "application/fhir+json"},
                                      {"Accept", "application/fhir+json"},
                                      {"Authorization", "Bearer " + *bearer},
                                      {"X-Correlation-ID", crypto::random_uuid().to_string()}},
                                     communication_request_json(message), options_.http);
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
  if (status == 401) forget_token();
  // Throttled, its token refused, or its own trouble: later. Anything else is about this request.
  if (status == 401 || status == 408 || status == 429 || status >= 500) {
    return result(NhsAppResult::Outcome::kUnavailable, "NHS App answered " + std::to_string(status));
  }
  const std::string why = diagnostics(response->body);
  return result(NhsAppResult::Outcome::kRejected,
                "NHS App answered " + std::to_string(status) + (why.empty() ? "" : ": " + why));
}

}  // namespace herald::delivery::nhs_app
