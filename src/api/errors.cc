#include "api/errors.h"

#include "core/json.h"
#include "core/log.h"

namespace herald::api {

net::Response error_response(int status, const std::vector<ErrorItem>& errors) {
  json::Writer w;
  w.begin_object().key("status_code").integer(status).key("errors").begin_array();
  for (const auto& item : errors) {
    w.begin_object().key("error").string(item.error).key("message").string(item.message).end_object();
  }
  w.end_array().end_object();
  return net::Response{status, "application/json", w.take(), {}};
}

net::Response error_response(int status, std::string error, std::string message) {
  return error_response(status, {ErrorItem{std::move(error), std::move(message)}});
}

net::Response error_response(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return error_response(400, error.kind.empty() ? "BadRequestError" : error.kind, error.message);
    case ErrorCode::kNotFound: return error_response(404, "NoResultFound", "No result found");
    case ErrorCode::kUnauthenticated: return error_response(401, "AuthError", error.message);
    case ErrorCode::kPermissionDenied:
      return error_response(403, error.kind.empty() ? "AuthError" : error.kind, error.message);
    case ErrorCode::kResourceExhausted:
      return error_response(429, error.kind.empty() ? "TooManyRequestsError" : error.kind, error.message);
    case ErrorCode::kUnavailable:
      log::error("api.unavailable", {{"error", error.message}});
      return error_response(503, "ServiceUnavailable", "Service temporarily unavailable, try again");
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kDataLoss:
    case ErrorCode::kWouldBlock:  // the router repeats such calls on its pool; reaching here is a bug
    case ErrorCode::kInternal:
      log::error("api.internal_error", {{"code", error_code_name(error.code)}, {"error", error.message}});
      return error_response(500, "InternalServerError", "Internal server error");
  }
  return error_response(500, "InternalServerError", "Internal server error");
}

}  // namespace herald::api
