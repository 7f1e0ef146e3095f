#pragma once
// GOV.UK Notify v2's errors: the envelope, and the one place where a Herald Error, or a refusal
// of GOV.UK's API's own, becomes an HTTP status and a GOV.UK class name (docs/architecture.md,
// "Conventions": errors):
//   {"status_code": 400, "errors": [{"error": "BadRequestError", "message": "..."}]}
// The responses every route shares (the router's 404/405/500, the HTTPS server's malformed
// requests) and the SMS providers' receipt endpoints, which imitate GOV.UK's, use it too.

#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"
#include "core/error.h"
#include "net/http.h"

namespace herald::api::govuk_v2 {

struct ErrorItem {
  std::string error;  // e.g. "ValidationError"
  std::string message;
};

// An Error, by its code and then its refusal:
//   kInvalidArgument   400 BadRequestError; kInvalidLetter ValidationError, kInvalidPhone
//                      InvalidPhoneError, kNotReady PDFNotReadyError
//   kNotFound          404 NoResultFound "No result found"
//   kUnauthenticated   401 AuthError
//   kPermissionDenied  403 AuthError; kRestricted BadRequestError
//   kResourceExhausted 429 TooManyRequestsError (kDailyLimit too); kRateLimit RateLimitError
//   kUnavailable       503 ServiceUnavailable "Service temporarily unavailable, try again"
//   the others         500 InternalServerError "Internal server error"
// A refusal the table does not pair with the code is ignored. The detail of a 503 or 500 goes to
// the log with the request id, never to the client.
net::Response error_response(const Error& error);

// Refusals of the API's own, before or beside the domain's:
net::Response bad_request(std::string message);                         // 400 BadRequestError
net::Response validation_error(std::string message);                    // 400 ValidationError
net::Response validation_errors(const std::vector<ErrorItem>& errors);  // 400, these items in order
net::Response no_result_found();                                        // 404 NoResultFound
net::Response unknown_url();            // 404 NotFound "The requested URL was not found on the server."
net::Response method_not_allowed();     // 405 MethodNotAllowed
net::Response internal_server_error();  // 500 InternalServerError "Internal server error"
// A request the HTTPS server could not read; `status` is the server's (400, or 413 when too large).
net::Response malformed_request(int status, std::string_view message);
// The router's own responses (unknown_url, method_not_allowed, internal_server_error).
RouterErrors router_errors();

}  // namespace herald::api::govuk_v2
