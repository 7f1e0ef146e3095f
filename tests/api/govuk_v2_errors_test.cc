// GOV.UK's error map and envelope, byte for byte: what each code and refusal of the domain, and
// each refusal of the API's own, looks like on the wire.
#include "api/govuk_v2/errors.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::api::govuk_v2 {
namespace {

std::string envelope(int status, const std::string& error, const std::string& message) {
  return R"({"status_code":)" + std::to_string(status) + R"(,"errors":[{"error":")" + error + R"(","message":")" +
         message + R"("}]})";
}

void expect(const net::Response& response, int status, const std::string& error, const std::string& message) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, envelope(status, error, message));
  EXPECT_TRUE(response.headers.empty());
}

TEST(GovukErrors, MapsEachCodeAndRefusal) {
  const auto as = [](ErrorCode code, Refusal refusal = Refusal::kNone) {
    return error_response(Error{code, "m", refusal});
  };
  expect(as(ErrorCode::kInvalidArgument), 400, "BadRequestError", "m");
  expect(as(ErrorCode::kInvalidArgument, Refusal::kInvalidLetter), 400, "ValidationError", "m");
  expect(as(ErrorCode::kInvalidArgument, Refusal::kInvalidPhone), 400, "InvalidPhoneError", "m");
  expect(as(ErrorCode::kInvalidArgument, Refusal::kNotReady), 400, "PDFNotReadyError", "m");
  expect(as(ErrorCode::kNotFound), 404, "NoResultFound", "No result found");
  expect(as(ErrorCode::kUnauthenticated), 401, "AuthError", "m");
  expect(as(ErrorCode::kPermissionDenied), 403, "AuthError", "m");
  expect(as(ErrorCode::kPermissionDenied, Refusal::kRestricted), 403, "BadRequestError", "m");
  expect(as(ErrorCode::kResourceExhausted), 429, "TooManyRequestsError", "m");
  expect(as(ErrorCode::kResourceExhausted, Refusal::kRateLimit), 429, "RateLimitError", "m");
  expect(as(ErrorCode::kResourceExhausted, Refusal::kDailyLimit), 429, "TooManyRequestsError", "m");
  expect(as(ErrorCode::kUnavailable), 503, "ServiceUnavailable", "Service temporarily unavailable, try again");
  for (auto code :
       {ErrorCode::kFailedPrecondition, ErrorCode::kDataLoss, ErrorCode::kWouldBlock, ErrorCode::kInternal}) {
    expect(as(code), 500, "InternalServerError", "Internal server error");
  }
  // A refusal the code has no class for changes nothing.
  expect(as(ErrorCode::kInvalidArgument, Refusal::kRateLimit), 400, "BadRequestError", "m");
  expect(as(ErrorCode::kNotFound, Refusal::kNotReady), 404, "NoResultFound", "No result found");
}

TEST(GovukErrors, RefusalsOfTheApisOwn) {
  expect(bad_request("b"), 400, "BadRequestError", "b");
  expect(validation_error("v"), 400, "ValidationError", "v");
  expect(no_result_found(), 404, "NoResultFound", "No result found");
  expect(unknown_url(), 404, "NotFound", "The requested URL was not found on the server.");
  expect(method_not_allowed(), 405, "MethodNotAllowed", "The method is not allowed for the requested URL.");
  expect(internal_server_error(), 500, "InternalServerError", "Internal server error");
  expect(malformed_request(400, "bad"), 400, "BadRequestError", "bad");
  expect(malformed_request(413, "big"), 413, "RequestEntityTooLarge", "big");
  const auto several = validation_errors({{"ValidationError", "a"}, {"ValidationError", "b"}});
  EXPECT_EQ(several.status, 400);
  EXPECT_EQ(several.body, R"({"status_code":400,"errors":[{"error":"ValidationError","message":"a"},)"
                          R"({"error":"ValidationError","message":"b"}]})");
  const RouterErrors router = router_errors();
  EXPECT_EQ(router.unknown_path().body, unknown_url().body);
  EXPECT_EQ(router.wrong_method().body, method_not_allowed().body);
  EXPECT_EQ(router.internal_error().body, internal_server_error().body);
}

}  // namespace
}  // namespace herald::api::govuk_v2
