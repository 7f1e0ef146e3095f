#include <gtest/gtest.h>

#include "api/govuk_v2/queries.h"
#include "api/govuk_v2/requests.h"

namespace herald::api::govuk_v2 {
namespace {

template <typename T>
std::string errors_of(const std::variant<T, net::Response>& parsed) {
  if (const auto* response = std::get_if<net::Response>(&parsed)) return response->body;
  return "ok";
}

TEST(GovukQueries, DecodesAsWerkzeugDoes) {
  const auto params = parse_query("a=1&b=x+y&c=%41%2b%zz&&d&a=2&e=%ff");
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0], std::make_pair(std::string("a"), std::string("1")));
  EXPECT_EQ(params[1].second, "x y");
  EXPECT_EQ(params[2].second, "A+%zz") << "a bad escape stays as written";
  EXPECT_EQ(params[3], std::make_pair(std::string("d"), std::string()));
  EXPECT_EQ(params[4].second, "2");
  EXPECT_EQ(params[5].second, "\xEF\xBF\xBD") << "invalid UTF-8 becomes U+FFFD";
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_EQ(encode_query({{"reference", "a b&c=d/é"}}), "reference=a%20b%26c%3Dd%2F%C3%A9");
}

TEST(GovukQueries, ListNotificationsExpandsAliasesAndEchoesFilters) {
  auto parsed = parse_list_notifications("status=failed&template_type=sms&status=accepted&reference=r1&reference=r2"
                                         "&older_than=740E5834-3A29-46B4-9A6F-16142FDE533A&status=received");
  ASSERT_EQ(errors_of(parsed), "ok");
  const auto& request = std::get<ListNotificationsRequest>(parsed);
  using S = store::NotificationStatus;
  EXPECT_EQ(request.statuses,
            (std::vector<S>{S::kTechnicalFailure, S::kTemporaryFailure, S::kPermanentFailure, S::kValidationFailed,
                            S::kVirusScanFailed, S::kReturnedLetter, S::kCreated, S::kSending, S::kDelivered}));
  EXPECT_EQ(request.types, std::vector<store::Channel>{store::Channel::kSms});
  EXPECT_EQ(request.reference, "r1") << "the first value only";
  ASSERT_TRUE(request.older_than);
  EXPECT_EQ(request.older_than->to_string(), "740e5834-3a29-46b4-9a6f-16142fde533a");
  EXPECT_EQ(page_link("https://h/v2/notifications", request.echo, std::nullopt),
            "https://h/v2/notifications?status=failed&template_type=sms&status=accepted&reference=r1&status=received");
  EXPECT_EQ(page_link("https://h/v2/notifications", {}, "id-1"), "https://h/v2/notifications?older_than=id-1");
  EXPECT_EQ(page_link("https://h/v2/notifications", {}, std::nullopt), "https://h/v2/notifications");
}

TEST(GovukQueries, ListNotificationsErrorsInSchemaOrder) {
  EXPECT_EQ(errors_of(parse_list_notifications("foo=1&template_type=fax&status=elephant&older_than=x&include_jobs=no&bar=2")),
            R"({"status_code":400,"errors":[)"
            R"({"error":"ValidationError","message":"status elephant is not one of [cancelled, created, sending, sent, )"
            R"(delivered, pending, failed, technical-failure, temporary-failure, permanent-failure, pending-virus-check, )"
            R"(validation-failed, virus-scan-failed, returned-letter, accepted, received]"},)"
            R"({"error":"ValidationError","message":"template_type fax is not one of [sms, email, letter]"},)"
            R"({"error":"ValidationError","message":"include_jobs no is not one of [true, True]"},)"
            R"({"error":"ValidationError","message":"older_than is not a valid UUID"},)"
            R"j({"error":"ValidationError","message":"Additional properties are not allowed (foo, bar were unexpected)"}]})j");
  EXPECT_EQ(errors_of(parse_list_notifications("include_jobs=True")), "ok");
}

TEST(GovukQueries, ListTemplatesAndOlderThanOnly) {
  auto sms = parse_list_templates("type=sms");
  ASSERT_EQ(errors_of(sms), "ok");
  EXPECT_EQ(std::get<std::optional<store::Channel>>(sms), store::Channel::kSms);
  EXPECT_FALSE(std::get<std::optional<store::Channel>>(parse_list_templates("")));
  EXPECT_EQ(errors_of(parse_list_templates("type=fax&x=1")),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"type fax is not one of [sms, email, letter]"},)"
            R"j({"error":"ValidationError","message":"Additional properties are not allowed (x was unexpected)"}]})j");
  EXPECT_EQ(errors_of(parse_older_than_only("older_than=nope")),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"older_than is not a valid UUID"}]})");
}

TEST(GovukQueries, PreviewBody) {
  EXPECT_EQ(errors_of(parse_preview("")), "ok") << "an empty body is {}";
  EXPECT_EQ(errors_of(parse_preview("null")), "ok");
  EXPECT_EQ(errors_of(parse_preview(R"({"personalisation": {"a": 1}, "other": true})")), "ok");
  auto parsed = parse_preview(R"({"personalisation": {"Name": "Ada"}})");
  ASSERT_EQ(errors_of(parsed), "ok");
  ASSERT_NE(std::get<domain::Personalisation>(parsed).find("name"), nullptr);
  EXPECT_EQ(errors_of(parse_preview(R"({"personalisation": "x"})")),
            R"({"status_code":400,"errors":[{"error":"ValidationError","message":"personalisation x is not of type object"}]})");
  EXPECT_EQ(errors_of(parse_preview("{")),
            R"({"status_code":400,"errors":[{"error":"BadRequestError","message":"Invalid JSON supplied in POST data"}]})");
}

}  // namespace
}  // namespace herald::api::govuk_v2
