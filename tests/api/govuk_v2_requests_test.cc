#include <gtest/gtest.h>

#include "api/govuk_v2/requests.h"
#include "core/json.h"

namespace herald::api::govuk_v2 {
namespace {

const std::string kTemplate = "f33517ff-2a88-4f6e-b855-c550268ce08a";

std::string errors_of(std::string_view body) {
  auto parsed = parse_body(body);
  if (auto* response = std::get_if<net::Response>(&parsed)) return response->body;
  auto request = parse_send_email(std::get<json::Value>(parsed), SystemClock().now());
  if (auto* response = std::get_if<net::Response>(&request)) return response->body;
  return "ok";
}

TEST(GovukRequests, FileObjectsAreCheckedAndCollected) {
  const std::string head = R"({"email_address":"a@example.com","template_id":")" + kTemplate + R"(","personalisation":)";
  auto parsed = parse_send_email(*json::parse(head + R"({"name":"Ada","doc":{"file":"YQ==","filename":null,
      "confirm_email_before_download":false,"retention_period":"3 weeks"}}})"), SystemClock().now());
  auto* request = std::get_if<domain::EmailRequest>(&parsed);
  ASSERT_TRUE(request);
  ASSERT_EQ(request->files.size(), 1u);
  EXPECT_EQ(request->files[0].key, "doc");
  EXPECT_EQ(request->files[0].file_base64, "YQ==");
  EXPECT_FALSE(request->files[0].confirm_email);
  EXPECT_EQ(request->files[0].retention_weeks, 3);
  // The first invalid file object is reported, every message of it, as GOV.UK's ValidationError.
  EXPECT_EQ(errors_of(head + R"({"a":{"file":"x","retention_period":"1 month","filename":"noext"},"b":{"file":2}}})"),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"retention_period Unsupported value )"
            R"(for retention_period: 1 month. Supported periods are from 1 to 78 weeks."},{"error":"ValidationError",)"
            R"("message":"filename `filename` must end with a file extension. For example, filename.csv"}]})");
  // An object without "file" is ordinary personalisation.
  EXPECT_EQ(errors_of(head + R"({"a":{"potato":"x"}}})"), "ok");
}

TEST(GovukRequests, TextsCannotCarryFiles) {
  auto parsed = parse_send_sms(*json::parse(R"({"phone_number":"07700900123","template_id":")" + kTemplate +
                                            R"(","personalisation":{"doc":{"file":"YQ=="}}})"), SystemClock().now());
  auto* refused = std::get_if<net::Response>(&parsed);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->body,
            R"({"status_code":400,"errors":[{"error":"BadRequestError","message":"Can only send a file by email"}]})");
}

TEST(GovukRequests, InvalidJson) {
  const std::string expected =
      R"({"status_code":400,"errors":[{"error":"BadRequestError","message":"Invalid JSON supplied in POST data"}]})";
  EXPECT_EQ(errors_of(""), expected);
  EXPECT_EQ(errors_of("{"), expected);
  EXPECT_EQ(errors_of("{'a': 1}"), expected);
}

TEST(GovukRequests, NullBodyIsAnEmptyObject) {
  EXPECT_EQ(errors_of("null"),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"email_address is a required property"},)"
            R"({"error":"ValidationError","message":"template_id is a required property"}]})");
}

TEST(GovukRequests, NotAnObject) {
  EXPECT_EQ(errors_of(R"([1, "a"])"),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"[1, a] is not of type object"}]})");
}

TEST(GovukRequests, FieldErrorsInSchemaOrder) {
  const std::string body = R"({"reference": 5, "email_address": "nope", "template_id": "x",
      "personalisation": "abc", "zzz": 1})";
  EXPECT_EQ(errors_of(body),
            R"({"status_code":400,"errors":[)"
            R"({"error":"ValidationError","message":"reference 5 is not of type string"},)"
            R"({"error":"ValidationError","message":"email_address Not a valid email address"},)"
            R"({"error":"ValidationError","message":"template_id is not a valid UUID"},)"
            R"({"error":"ValidationError","message":"personalisation abc is not of type object"},)"
            R"j({"error":"ValidationError","message":"Additional properties are not allowed (zzz was unexpected)"}]})j");
}

TEST(GovukRequests, ReferenceTooLongAndUnsubscribeUrl) {
  const std::string long_ref(1001, 'r');
  EXPECT_NE(errors_of(R"({"email_address":"a@example.com","template_id":")" + kTemplate + R"(","reference":")" +
                      long_ref + R"("})").find("is too long"), std::string::npos);
  EXPECT_NE(errors_of(R"({"email_address":"a@example.com","template_id":")" + kTemplate +
                      R"(","one_click_unsubscribe_url":"http://x.example"})")
                .find("one_click_unsubscribe_url is not a valid https url"),
            std::string::npos);
}

TEST(GovukRequests, ValidRequestParses) {
  auto parsed = parse_body(R"({"email_address":" a@example.com ","template_id":")" + kTemplate +
                           R"(","personalisation":{"Name":"Ada","n":1.50,"ok":true,"l":["x",null]},"reference":"r"})");
  auto request = parse_send_email(std::get<json::Value>(parsed), SystemClock().now());
  ASSERT_TRUE(std::holds_alternative<domain::EmailRequest>(request)) << std::get<net::Response>(request).body;
  const auto& r = std::get<domain::EmailRequest>(request);
  EXPECT_EQ(r.email_address, "a@example.com");
  EXPECT_EQ(r.template_id.to_string(), kTemplate);
  EXPECT_EQ(r.reference, "r");
  ASSERT_NE(r.personalisation.find("name"), nullptr);
  EXPECT_EQ(r.personalisation.find("n")->text, "1.5");
  EXPECT_EQ(r.personalisation.find("ok")->text, "True");
  EXPECT_EQ(r.personalisation.find("l")->items.size(), 2u);
}

TEST(GovukRequests, PythonReprOfValues) {
  EXPECT_EQ(python_repr_unquoted(*json::parse(R"({"a": [1, true, null, 2.0, "s'q"]})")), "{a: [1, True, None, 2.0, sq]}");
}

}  // namespace
}  // namespace herald::api::govuk_v2

namespace herald::api::govuk_v2 {
namespace {

std::string scheduled_errors(std::string_view when, Timestamp now) {
  const std::string body = std::string(R"({"email_address": "a@example.com", "template_id": ")") + kTemplate +
                           R"(", "scheduled_for": )" + std::string(when) + "}";
  auto request = parse_send_email(std::get<json::Value>(parse_body(body)), now);
  if (auto* response = std::get_if<net::Response>(&request)) return response->body;
  return "ok";
}

// GOV.UK checks scheduled_for (Python's fromisoformat, offset dropped; not past; at most 24 h
// ahead) and then sends at once.
TEST(GovukRequests, ScheduledForIsCheckedAsGovukChecksIt) {
  const Timestamp now = *parse_timestamp("2026-11-23T12:00:00.000000Z");
  EXPECT_EQ(scheduled_errors("null", now), "ok");
  EXPECT_EQ(scheduled_errors(R"("2026-11-23T13:00")", now), "ok");
  EXPECT_EQ(scheduled_errors(R"("2026-11-23 18:30:00.123+05:00")", now), "ok") << "offset dropped, as GOV.UK";
  EXPECT_EQ(scheduled_errors(R"("2026-11-24T11:59:59Z")", now), "ok");
  EXPECT_EQ(scheduled_errors(R"("2026-11-24")", now), "ok") << "a date alone is midnight";
  const auto one = [](const char* message) {
    return std::string(R"({"status_code":400,"errors":[{"error":"ValidationError","message":")") + message + "\"}]}";
  };
  EXPECT_EQ(scheduled_errors(R"("2026-11-23T11:00")", now), one("scheduled_for datetime can not be in the past"));
  EXPECT_EQ(scheduled_errors(R"("2026-11-24T12:00:01")", now),
            one("scheduled_for datetime can only be 24 hours in the future"));
  const char* invalid = "scheduled_for datetime format is invalid. It must be a valid ISO8601 date time format, "
                        "https://en.wikipedia.org/wiki/ISO_8601";
  for (const char* bad : {R"("tomorrow")", R"("2026-02-30T10:00")", R"("2026-11-23T25:00")", R"("2026-11-23T13:00x")",
                          R"("")"}) {
    EXPECT_EQ(scheduled_errors(bad, now), one(invalid)) << bad;
  }
  EXPECT_EQ(scheduled_errors("5", now), one("scheduled_for 5 is not of type string, null"));
}

}  // namespace
}  // namespace herald::api::govuk_v2
