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
                                            R"(","personalisation":{"doc":{"file":"YQ=="}}})"));
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
