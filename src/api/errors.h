#pragma once
// The GOV.UK Notify v2 error envelope, and the one place where a Herald Error becomes an HTTP
// status (docs/architecture.md, "Conventions": errors):
//   {"status_code": 400, "errors": [{"error": "BadRequestError", "message": "..."}]}

#include <string>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace herald::api {

struct ErrorItem {
  std::string error;    // e.g. "ValidationError"
  std::string message;
};

net::Response error_response(int status, const std::vector<ErrorItem>& errors);
net::Response error_response(int status, std::string error, std::string message);

// kInvalidArgument -> 400 BadRequestError (or Error::kind when set, also for 403 and 429); kNotFound -> 404 NoResultFound "No result found";
// kUnauthenticated -> 401 / kPermissionDenied -> 403 AuthError; kResourceExhausted -> 429;
// kUnavailable -> 503; kDataLoss and kInternal -> 500 with a generic message (the detail goes
// to the log with the request id, never to the client).
net::Response error_response(const Error& error);

}  // namespace herald::api
