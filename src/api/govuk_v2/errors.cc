#include "api/govuk_v2/errors.h"

#include "core/json.h"
#include "core/log.h"

namespace herald::api::govuk_v2 {
namespace {

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

// GOV.UK's class for bad input, by what the domain refused.
const char* invalid_argument_class(Refusal refusal) {
  switch (refusal) {
    case Refusal::kInvalidLetter: return "ValidationError";
    case Refusal::kInvalidPhone: return "InvalidPhoneError";
    case Refusal::kNotReady: return "PDFNotReadyError";
    case Refusal::kNone:
    case Refusal::kRestricted:
    case Refusal::kRateLimit:
    case Refusal::kDailyLimit: break;
  }
  return "BadRequestError";
}

}  // namespace

net::Response error_response(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument: return error_response(400, invalid_argument_class(error.refusal), error.message);
    case ErrorCode::kNotFound: return no_result_found();
    case ErrorCode::kUnauthenticated: return error_response(401, "AuthError", error.message);
    case ErrorCode::kPermissionDenied:
      return error_response(403, error.refusal == Refusal::kRestricted ? "BadRequestError" : "AuthError",
                            error.message);
    case ErrorCode::kResourceExhausted:
      return error_response(429, error.refusal == Refusal::kRateLimit ? "RateLimitError" : "TooManyRequestsError",
                            error.message);
    case ErrorCode::kUnavailable:
      log::error("api.unavailable", {{"error", error.message}});
      return error_response(503, "ServiceUnavailable", "Service temporarily unavailable, try again");
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kDataLoss:
    case ErrorCode::kWouldBlock:  // the router repeats such calls on its pool; reaching here is a bug
    case ErrorCode::kInternal:
      log::error("api.internal_error", {{"code", error_code_name(error.code)}, {"error", error.message}});
      return internal_server_error();
  }
  return internal_server_error();
}

net::Response bad_request(std::string message) { return error_response(400, "BadRequestError", std::move(message)); }

net::Response validation_error(std::string message) {
  return error_response(400, "ValidationError", std::move(message));
}

net::Response validation_errors(const std::vector<ErrorItem>& errors) { return error_response(400, errors); }

net::Response no_result_found() { return error_response(404, "NoResultFound", "No result found"); }

net::Response unknown_url() {
  return error_response(404, "NotFound", "The requested URL was not found on the server.");
}

net::Response method_not_allowed() {
  return error_response(405, "MethodNotAllowed", "The method is not allowed for the requested URL.");
}

net::Response internal_server_error() { return error_response(500, "InternalServerError", "Internal server error"); }

net::Response malformed_request(int status, std::string_view message) {
  return error_response(status, status == 413 ? "RequestEntityTooLarge" : "BadRequestError", std::string(message));
}

RouterErrors router_errors() { return {&unknown_url, &method_not_allowed, &internal_server_error}; }

}  // namespace herald::api::govuk_v2
