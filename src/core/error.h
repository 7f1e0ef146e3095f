#pragma once
// Error: why a fallible operation failed, chosen by what the caller should do.
// `message` never holds personal data or secrets; put ids in it instead.

#include <string>

namespace herald {

enum class ErrorCode {
  kInvalidArgument,    // fix the input
  kUnauthenticated,    // credentials missing
  kPermissionDenied,   // credentials present but not good enough
  kNotFound,
  kResourceExhausted,  // limits: retry later
  kFailedPrecondition, // refused in the current state (e.g. retiring a key still in use)
  kUnavailable,        // transient: back off and retry
  kDataLoss,           // integrity failure: alert
  kInternal,           // a bug
  kWouldBlock,         // needs to wait on I/O and was told not to (core/blocking.h): repeat where it may
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Optional finer class an API names the error by when the code alone cannot tell (e.g. GOV.UK's
  // "InvalidPhoneError" or "ValidationError" beside the usual BadRequestError for bad input).
  std::string kind = {};
};

inline Error with_kind(Error error, std::string kind) {
  error.kind = std::move(kind);
  return error;
}

inline Error invalid_argument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
inline Error not_found(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Error unavailable(std::string message) {
  return {ErrorCode::kUnavailable, std::move(message)};
}
inline Error failed_precondition(std::string message) {
  return {ErrorCode::kFailedPrecondition, std::move(message)};
}
inline Error data_loss(std::string message) { return {ErrorCode::kDataLoss, std::move(message)}; }
inline Error would_block() { return {ErrorCode::kWouldBlock, "would block"}; }
inline Error internal_error(std::string message) {
  return {ErrorCode::kInternal, std::move(message)};
}

const char* error_code_name(ErrorCode code);

}  // namespace herald
