#pragma once
// NHS Notify's errors: the JSON:API error envelope of its `comms` API, the token endpoint's OAuth
// errors, and the one place where either chooses an HTTP status (docs/architecture.md,
// "Conventions": errors). Codes, titles and details are NHS's own, word for word, because
// clients match on them:
//   {"errors": [{"id": "<request id>.0", "code": "CM_INVALID_VALUE",
//                "links": {"about": "https://digital.nhs.uk/developer/api-catalogue/nhs-notify"},
//                "status": "400", "title": "Invalid value",
//                "detail": "The property at the specified location does not allow this value.",
//                "source": {"pointer": "/data/attributes/routingPlanId"}}]}
// A response with several errors takes the status of the first; at most 100 are returned.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"
#include "core/error.h"
#include "core/json.h"
#include "domain/nhs/token_issuer.h"
#include "net/http.h"

namespace herald::api::nhs_v1 {

enum class Cm {
  kMissingValue,
  kNullValue,
  kInvalidValue,
  kInvalidNhsNumber,
  kDuplicateValue,
  kTooFewItems,
  kOdsCodeRequired,
  kCannotSetOdsCode,
  kCannotSetContactDetails,
  kInvalidRequest,
  kDenied,
  kForbidden,
  kServiceBan,
  kNotFound,
  kNoSuchRoutingPlan,
  kNotAllowed,
  kNotAcceptable,
  kRequestTimeout,
  kTooLarge,
  kTooManyItems,
  kUnsupportedMedia,
  kDuplicateMessageRequest,
  kDuplicateBatchRequest,
  kRetryTooEarly,
  kQuota,
  kInternalServerError,
  kMissingRoutingPlanTemplate,
  kRoutingPlanDuplicateTemplates,
  kBadGateway,
  kServiceUnavailable,
  kGatewayTimeout,
};

// One error: its code, where it points (a JSON pointer into the body, or a header name), and a
// detail when the code's standard one is not what NHS says in this case.
struct Problem {
  Cm code = Cm::kInvalidValue;
  std::optional<std::string> pointer = std::nullopt;
  std::optional<std::string> header = std::nullopt;
  std::optional<std::string> detail = std::nullopt;
  std::optional<json::Value> meta = std::nullopt;  // the error's "meta" member, when NHS gives one

  static Problem at(Cm code, std::string pointer) {
    return {code, std::move(pointer), std::nullopt, std::nullopt, std::nullopt};
  }
  static Problem saying(Cm code, std::string detail) {
    return {code, std::nullopt, std::nullopt, std::move(detail), std::nullopt};
  }
};

// What every response of the API carries: the request's id (error ids are "<id>.<index>") and
// the response headers its request decides (correlation id, JSON media type).
struct Exchange {
  std::string request_id;
  std::string correlation_id;
  bool plain_json = false;                           // Accept was exactly application/json: answer in it
  std::optional<std::string> origin = std::nullopt;  // CORS: the request's Origin, reflected
};

// The exchange of a request: a new request id, the client's X-Correlation-Id or that id, and the
// media type its Accept asks for.
Exchange exchange_for(const net::Request& request);
// Sets the headers every response of the API has (Cache-Control no-store, nosniff,
// X-Correlation-Id, its media type unless the body is empty).
net::Response finish(const Exchange& exchange, net::Response response);
// A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) under the prefix:
// answered 200 with NHS's gateway's CORS headers; nullopt for any other request.
std::optional<net::Response> preflight(const net::Request& request);

net::Response problems(const Exchange& exchange, const std::vector<Problem>& problems);
net::Response problem(const Exchange& exchange, Problem p);
inline net::Response problem(const Exchange& exchange, Cm code) {
  return problem(exchange, Problem{code, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
}
// 429 CM_QUOTA with Retry-After, and 425 CM_RETRY_TOO_EARLY likewise.
net::Response quota(const Exchange& exchange, int retry_after_seconds);
net::Response retry_too_early(const Exchange& exchange, int retry_after_seconds);
// A Herald error: kUnavailable 503, anything else 500 (logged, never shown).
net::Response error_response(const Exchange& exchange, const Error& error);

// The HTTP status of a code.
int status_of(Cm code);
// At most this many errors are returned.
inline constexpr std::size_t kMaxProblems = 100;

// The token endpoint's errors: {"error": ..., "error_description": ..., "message_id": ...}.
net::Response token_refusal(const Exchange& exchange, domain::nhs::TokenRefusal refusal);
// Its body was not a form.
net::Response token_not_a_form(const Exchange& exchange);
net::Response token_error(const Exchange& exchange, const Error& error);

// A request the HTTPS server refused before any route saw it: 413 CM_TOO_LARGE (body over
// server.max_body_bytes), 408 CM_TIMEOUT (not whole within server.request_timeout_seconds),
// anything else CM_INVALID_VALUE at "/" with the server's status.
net::Response protocol_error(int status);

// The router's responses for paths under the API's prefix.
net::Response unknown_path(const net::Request& request);
net::Response wrong_method(const net::Request& request);

}  // namespace herald::api::nhs_v1
