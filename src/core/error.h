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

// What the domain refused, where the code alone does not tell an API enough to name the error
// the way its clients expect. Each API's errors module maps it (with the code) to its own class
// names and statuses (api/govuk_v2/errors.cc); the domain never names an API's classes.
enum class Refusal {
  kNone,           // nothing finer than the code
  kInvalidLetter,  // a letter's address, postage or PDF is not one that can be printed and posted
  kInvalidPhone,   // a phone number the service may not text, or one with no known price
  kNotReady,       // what was asked for exists but is not ready yet: ask again later (a letter's PDF)
  kRestricted,     // closed to this caller: its key type or the service's trial mode forbids it
  kRateLimit,      // the key's per-minute rate limit is spent
  kDailyLimit,     // the service's daily send limit for the kind of message is spent
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  Refusal refusal = Refusal::kNone;
};

inline Error with_refusal(Error error, Refusal refusal) {
  error.refusal = refusal;
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
