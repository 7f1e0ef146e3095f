#include "core/check.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace herald {
namespace detail {

void check_failed(const char* condition, const char* message, const char* file, int line) {
  std::fprintf(stderr, "{\"level\":\"fatal\",\"event\":\"check_failed\",\"condition\":\"%s\","
               "\"message\":\"%s\",\"file\":\"%s\",\"line\":%d}\n",
               condition, message, file, line);
  std::abort();
}

}  // namespace detail

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kDataLoss: return "data_loss";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kWouldBlock: return "would_block";
  }
  return "unknown";
}

}  // namespace herald
