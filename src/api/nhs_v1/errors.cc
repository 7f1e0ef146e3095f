#include "api/nhs_v1/errors.h"

#include "core/hex.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/random.h"

namespace herald::api::nhs_v1 {
namespace {

using domain::nhs::TokenRefusal;

constexpr std::string_view kAbout = "https://digital.nhs.uk/developer/api-catalogue/nhs-notify";
constexpr std::string_view kNhsNumbers = "https://www.datadictionary.nhs.uk/attributes/nhs_number.html";
constexpr std::string_view kVndApiJson = "application/vnd.api+json";

struct CodeText {
  int status;
  const char* code;
  const char* title;
  const char* detail;
};

CodeText text_of(Cm code) {
  switch (code) {
    case Cm::kMissingValue:
      return {400, "CM_MISSING_VALUE", "Missing property",
              "The property at the specified location is required, but was not present in the request."};
    case Cm::kNullValue:
      return {400, "CM_NULL_VALUE", "Property cannot be null",
              "The property at the specified location is required, but a null value was passed in the request."};
    case Cm::kInvalidValue:
      return {400, "CM_INVALID_VALUE", "Invalid value",
              "The property at the specified location does not allow this value."};
    case Cm::kInvalidNhsNumber:
      return {400, "CM_INVALID_NHS_NUMBER", "Invalid nhs number",
              "The value provided in this nhsNumber field is not a valid NHS number."};
    case Cm::kDuplicateValue:
      return {400, "CM_DUPLICATE_VALUE", "Duplicate value",
              "The property at the specified location is a duplicate, duplicated values are not allowed."};
    case Cm::kTooFewItems:
      return {400, "CM_TOO_FEW_ITEMS", "Too few items",
              "The property at the specified location contains too few items."};
    case Cm::kOdsCodeRequired:
      return {400, "CM_ODS_CODE_REQUIRED", "Originator odsCode must be provided",
              "An originator with odsCode must be provided, as your account does not have a default ODS code."};
    case Cm::kCannotSetOdsCode:
      return {400, "CM_CANNOT_SET_ODS_CODE", "Cannot set ODS code",
              "Your account is not permitted to set originator ODS codes."};
    case Cm::kCannotSetContactDetails:
      return {400, "CM_CANNOT_SET_CONTACT_DETAILS", "Cannot set contact details",
              "Client is not allowed to provide alternative contact details."};
    case Cm::kInvalidRequest: return {400, "CM_INVALID_REQUEST", "Invalid Request", "Invalid ODS Code"};
    case Cm::kDenied:
      return {401, "CM_DENIED", "Access denied",
              "Access token missing, invalid or expired, or calling application not configured for this "
              "operation."};
    case Cm::kForbidden: return {403, "CM_FORBIDDEN", "Forbidden", "Client not recognised or not yet onboarded."};
    case Cm::kServiceBan:
      return {403, "CM_SERVICE_BAN", "Service ban in effect", "A service ban is in effect on your account."};
    case Cm::kNotFound:
      return {404, "CM_NOT_FOUND", "Resource not found", "The resource at the requested URI was not found."};
    case Cm::kNoSuchRoutingPlan:
      return {404, "CM_NO_SUCH_ROUTING_PLAN", "No such routing plan",
              "The routing plan specified either does not exist or is not in a usable state."};
    case Cm::kNotAllowed:
      return {405, "CM_NOT_ALLOWED", "Method not allowed", "The method at the requested URI was not allowed."};
    case Cm::kNotAcceptable:
      return {406, "CM_NOT_ACCEPTABLE", "Not acceptable",
              "This service can only generate application/vnd.api+json or application/json."};
    case Cm::kRequestTimeout:
      return {408, "CM_TIMEOUT", "Request timeout",
              "The service was unable to receive your request within the timeout period."};
    case Cm::kTooLarge:
      return {413, "CM_TOO_LARGE", "Request too large", "Request message was larger than the service limit"};
    case Cm::kTooManyItems:
      return {413, "CM_TOO_MANY_ITEMS", "Too many items",
              "The property at the specified location contains too many items."};
    case Cm::kUnsupportedMedia:
      return {415, "CM_UNSUPPORTED_MEDIA", "Unsupported media",
              "Invalid content-type, this API only supports application/vnd.api+json or application/json."};
    case Cm::kDuplicateMessageRequest:
      return {422, "CM_DUPLICATE_REQUEST", "Duplicate message request",
              "Request exists with identical messageReference"};
    case Cm::kDuplicateBatchRequest:
      return {422, "CM_DUPLICATE_REQUEST", "Duplicate batch request",
              "Request exists with identical messageBatchReference"};
    case Cm::kRetryTooEarly:
      return {425, "CM_RETRY_TOO_EARLY", "Retried too early",
              "You have retried this request too early, the previous request is still being processed. Re-send "
              "the request after the time (in seconds) specified `Retry-After` header."};
    case Cm::kQuota:
      return {429, "CM_QUOTA", "Too many requests",
              "You have made too many requests. Re-send the request after the time (in seconds) specified "
              "`Retry-After` header."};
    case Cm::kInternalServerError:
      return {500, "CM_INTERNAL_SERVER_ERROR", "Error processing request",
              "There was an internal error whilst processing this request."};
    case Cm::kMissingRoutingPlanTemplate:
      return {500, "CM_MISSING_ROUTING_PLAN_TEMPLATE", "Templates missing",
              "The templates required to use the routing plan were not found."};
    case Cm::kRoutingPlanDuplicateTemplates:
      return {500, "CM_ROUTING_PLAN_DUPLICATE_TEMPLATES", "Duplicate templates",
              "The routing plan specified contains duplicate templates."};
    case Cm::kBadGateway:
      return {502, "CM_BAD_GATEWAY", "Unable to call service", "A downstream service is not responding."};
    case Cm::kServiceUnavailable:
      return {503, "CM_SERVICE_UNAVAILABLE", "The service is currently unavailable",
              "The service is currently not able to process this request, try again later."};
    case Cm::kGatewayTimeout:
      return {504, "CM_TIMEOUT", "Unable to call service",
              "The downstream service has not responded within the configured timeout period."};
  }
  return text_of(Cm::kInternalServerError);
}

// Where a code points when the caller does not say.
std::optional<std::string> default_header(Cm code) {
  switch (code) {
    case Cm::kDenied:
    case Cm::kForbidden:
    case Cm::kServiceBan: return "Authorization";
    case Cm::kNotAcceptable: return "Accept";
    case Cm::kUnsupportedMedia: return "Content-Type";
    default: return std::nullopt;
  }
}

std::optional<std::string> default_pointer(Cm code) {
  switch (code) {
    case Cm::kTooLarge: return "/";
    case Cm::kTooManyItems:
    case Cm::kOdsCodeRequired:
    case Cm::kCannotSetOdsCode:
    case Cm::kCannotSetContactDetails: return "/data/attributes/messages";
    case Cm::kNoSuchRoutingPlan:
    case Cm::kMissingRoutingPlanTemplate:
    case Cm::kRoutingPlanDuplicateTemplates: return "/data/attributes/routingPlanId";
    case Cm::kDuplicateMessageRequest: return "/data/attributes/messageReference";
    case Cm::kDuplicateBatchRequest: return "/data/attributes/messageBatchReference";
    default: return std::nullopt;
  }
}

// A request id shaped like NHS's gateway ids, "rrt-<digits>-<letter>-<region>-...", which NHS's
// own tests expect a generated X-Correlation-Id to start with ("rrt"): unique, opaque, no dots
// (error ids append ".<index>").
std::string new_request_id() {
  std::uint64_t number = 0;
  unsigned char tail[6];
  crypto::public_random(reinterpret_cast<unsigned char*>(&number), sizeof number);
  crypto::public_random(tail, sizeof tail);
  return "rrt-" + std::to_string(number % 10'000'000'000'000'000'000ULL) + "-h-herald-" +
         hex_encode(std::string_view(reinterpret_cast<const char*>(tail), sizeof tail));
}

net::Response with_retry_after(net::Response response, int seconds) {
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

struct TokenText {
  int status;
  const char* error;
  const char* description;
};

TokenText text_of(TokenRefusal refusal) {
  constexpr const char* kInvalid = "invalid_request";
  switch (refusal) {
    case TokenRefusal::kGrantTypeMissing: return {400, kInvalid, "grant_type is missing"};
    case TokenRefusal::kGrantTypeInvalid: return {400, "unsupported_grant_type", "grant_type is invalid"};
    case TokenRefusal::kAssertionTypeInvalid:
      return {400, kInvalid,
              "Missing or invalid client_assertion_type - must be "
              "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'"};
    case TokenRefusal::kAssertionMissing: return {400, kInvalid, "Missing client_assertion"};
    case TokenRefusal::kAssertionMalformed: return {400, kInvalid, "Malformed JWT in client_assertion"};
    case TokenRefusal::kKidMissing: return {400, kInvalid, "Missing 'kid' header in client_assertion JWT"};
    case TokenRefusal::kTypInvalid:
      return {400, kInvalid, "Invalid 'typ' header in client_assertion JWT - must be 'JWT'"};
    case TokenRefusal::kIssSubInvalid:
      return {400, kInvalid, "Missing or non-matching 'iss'/'sub' claims in client_assertion JWT"};
    case TokenRefusal::kJtiMissing: return {400, kInvalid, "Missing 'jti' claim in client_assertion JWT"};
    case TokenRefusal::kJtiNotString:
      return {400, kInvalid,
              "Invalid 'jti' claim in client_assertion JWT - must be a unique string value such as a GUID"};
    case TokenRefusal::kExpMissing: return {400, kInvalid, "Missing 'exp' claim in client_assertion JWT"};
    case TokenRefusal::kExpNotInteger:
      return {400, kInvalid, "Invalid 'exp' claim in client_assertion JWT - must be an integer"};
    case TokenRefusal::kExpTooFarAhead:
      return {400, kInvalid, "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future"};
    case TokenRefusal::kJtiReused: return {400, kInvalid, "Non-unique 'jti' claim in client_assertion JWT"};
    case TokenRefusal::kIssUnknown: return {401, kInvalid, "Invalid 'iss'/'sub' claims in client_assertion JWT"};
    case TokenRefusal::kNoPublicKey:
      return {403, "public_key error",
              "You need to register a public key to use this authentication method - please contact support to "
              "configure"};
    case TokenRefusal::kJwksUnreachable:
      return {403, "public_key error", "The JWKS endpoint, for your client_assertion can't be reached"};
    case TokenRefusal::kAlgInvalid:
      return {400, kInvalid,
              "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'"};
    case TokenRefusal::kExpired:
      return {400, kInvalid, "Invalid 'exp' claim in client_assertion JWT - JWT has expired"};
    case TokenRefusal::kAudInvalid: return {401, kInvalid, "Missing or invalid 'aud' claim in client_assertion JWT"};
    case TokenRefusal::kKidUnknown:
      return {401, kInvalid, "Invalid 'kid' header in client_assertion JWT - no matching public key"};
    case TokenRefusal::kSignatureInvalid: return {401, "public_key error", "JWT signature verification failed"};
  }
  return {500, "server_error", "An unexpected error occurred"};
}

net::Response token_body(const Exchange& exchange, int status, std::string_view error, std::string_view description) {
  json::Writer w;
  w.begin_object()
      .key("error")
      .string(error)
      .key("error_description")
      .string(description)
      .key("message_id")
      .string(exchange.request_id)
      .end_object();
  net::Response response{status, "application/json", w.take(), {}};
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace

int status_of(Cm code) { return text_of(code).status; }

Exchange exchange_for(const net::Request& request) {
  Exchange exchange;
  exchange.request_id = new_request_id();
  const auto correlation = request.header("X-Correlation-Id");
  exchange.correlation_id = correlation && !correlation->empty() ? std::string(*correlation) : exchange.request_id;
  const auto accept = request.header("Accept");
  exchange.plain_json = accept && *accept == "application/json";
  if (const auto origin = request.header("Origin"); origin && !origin->empty()) exchange.origin = std::string(*origin);
  return exchange;
}

net::Response finish(const Exchange& exchange, net::Response response) {
  // On every response, HEAD and empty ones too, as NHS's gateway sets it.
  response.content_type = exchange.plain_json ? "application/json" : kVndApiJson;
  response.headers.emplace_back("Cache-Control", "no-cache, no-store, must-revalidate");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Correlation-Id", exchange.correlation_id);
  // CORS as NHS's gateway answers it: the origin reflected, no credentials (bearer tokens are not
  // cookies, so a page elsewhere gains nothing it could not send itself).
  if (exchange.origin) {
    response.headers.emplace_back("Access-Control-Allow-Origin", *exchange.origin);
    response.headers.emplace_back("Access-Control-Expose-Headers", "x-correlation-id");
    response.headers.emplace_back("Cross-Origin-Resource-Policy", "cross-origin");
  }
  return response;
}

std::optional<net::Response> preflight(const net::Request& request) {
  const auto origin = request.header("Origin");
  if (request.method != "OPTIONS" || !origin || origin->empty() || !request.header("Access-Control-Request-Method")) {
    return std::nullopt;
  }
  net::Response response{200, "", "", {}};
  response.headers = {{"Access-Control-Allow-Origin", std::string(*origin)},
                      {"Access-Control-Allow-Headers",
                       "origin, x-requested-with, accept, content-type, nhsd-session-urid, x-correlation-id, "
                       "authorization"},
                      {"Access-Control-Max-Age", "3628800"},
                      {"Access-Control-Allow-Methods", "GET, PUT, POST, PATCH, DELETE"},
                      {"Cross-Origin-Resource-Policy", "cross-origin"}};
  if (const auto correlation = request.header("X-Correlation-Id")) {
    response.headers.emplace_back("X-Correlation-Id", std::string(*correlation));
  }
  return response;
}

net::Response problems(const Exchange& exchange, const std::vector<Problem>& list) {
  const int status = list.empty() ? 500 : status_of(list.front().code);
  json::Writer w;
  w.begin_object().key("errors").begin_array();
  std::size_t index = 0;
  for (const Problem& p : list) {
    if (index == kMaxProblems) break;
    const CodeText text = text_of(p.code);
    w.begin_object().key("id").string(exchange.request_id + "." + std::to_string(index++));
    w.key("code").string(text.code);
    w.key("links").begin_object().key("about").string(kAbout);
    if (p.code == Cm::kInvalidNhsNumber) w.key("nhsNumbers").string(kNhsNumbers);
    w.end_object();
    w.key("status").string(std::to_string(text.status));
    w.key("title").string(text.title);
    w.key("detail").string(p.detail ? *p.detail : std::string(text.detail));
    const auto header = p.header ? p.header : default_header(p.code);
    const auto pointer = p.pointer ? p.pointer : default_pointer(p.code);
    if (header) {
      w.key("source").begin_object().key("header").string(*header).end_object();
    } else if (pointer) {
      w.key("source").begin_object().key("pointer").string(*pointer).end_object();
    }
    if (p.meta) w.key("meta").value(*p.meta);
    w.end_object();
  }
  w.end_array().end_object();
  return finish(exchange, net::Response{status, std::string(kVndApiJson), w.take(), {}});
}

net::Response problem(const Exchange& exchange, Problem p) { return problems(exchange, {std::move(p)}); }

net::Response quota(const Exchange& exchange, int retry_after_seconds) {
  return with_retry_after(problem(exchange, Cm::kQuota), retry_after_seconds);
}

net::Response retry_too_early(const Exchange& exchange, int retry_after_seconds) {
  return with_retry_after(problem(exchange, Cm::kRetryTooEarly), retry_after_seconds);
}

net::Response error_response(const Exchange& exchange, const Error& error) {
  if (error.code == ErrorCode::kUnavailable) {
    log::error("nhs_api.unavailable", {{"request", exchange.request_id}, {"error", error.message}});
    return with_retry_after(problem(exchange, Cm::kServiceUnavailable), 1);
  }
  log::error("nhs_api.internal_error",
             {{"request", exchange.request_id}, {"code", error_code_name(error.code)}, {"error", error.message}});
  return problem(exchange, Cm::kInternalServerError);
}

net::Response token_refusal(const Exchange& exchange, TokenRefusal refusal) {
  const TokenText text = text_of(refusal);
  return token_body(exchange, text.status, text.error, text.description);
}

net::Response token_not_a_form(const Exchange& exchange) {
  return token_body(exchange, 415, "invalid_request", "Content-Type header must be application/x-www-form-urlencoded");
}

net::Response token_error(const Exchange& exchange, const Error& error) {
  log::error("nhs_api.token_error",
             {{"request", exchange.request_id}, {"code", error_code_name(error.code)}, {"error", error.message}});
  if (error.code == ErrorCode::kUnavailable) {
    return with_retry_after(token_body(exchange, 503, "server_error", "Service temporarily unavailable"), 1);
  }
  return token_body(exchange, 500, "server_error", "An unexpected error occurred");
}

net::Response protocol_error(int status) {
  Exchange exchange;
  exchange.request_id = new_request_id();
  exchange.correlation_id = exchange.request_id;
  if (status == 413) return problem(exchange, Cm::kTooLarge);
  if (status == 408) return problem(exchange, Cm::kRequestTimeout);
  net::Response response = problem(exchange, Problem::at(Cm::kInvalidValue, "/"));
  response.status = status;
  return response;
}

net::Response unknown_path(const net::Request& request) {
  if (auto answered = preflight(request)) return std::move(*answered);
  return problem(exchange_for(request), Cm::kNotFound);
}
net::Response wrong_method(const net::Request& request) {
  if (auto answered = preflight(request)) return std::move(*answered);
  return problem(exchange_for(request), Cm::kNotAllowed);
}

}  // namespace herald::api::nhs_v1
