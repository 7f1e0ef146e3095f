// The GOV.UK v2 response bodies (api/govuk_v2/responses.cc) byte for byte: what the official
// clients read, without a server in the way.
#include "api/govuk_v2/responses.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace herald::api::govuk_v2 {
namespace {

const std::string kRoot = "https://herald.test/";
const ServiceId kService{*Uuid::parse("11111111-1111-4111-8111-111111111111")};
const TemplateId kTemplate{*Uuid::parse("22222222-2222-4222-8222-222222222222")};
const NotificationId kId{*Uuid::parse("33333333-3333-4333-8333-333333333333")};
const Timestamp kCreated = *parse_timestamp("2026-11-30T09:15:00.123456Z");

store::NotificationRecord record(store::Channel type) {
  store::NotificationRecord r;
  r.id = kId;
  r.service = kService;
  r.template_id = kTemplate;
  r.template_version = 3;
  r.type = type;
  r.status = store::NotificationStatus::kCreated;
  r.body = "Hello Ada";
  r.created_at = kCreated;
  return r;
}

// A member of a JSON object, serialised again (compact; numbers are compared in the raw body).
std::string member(const std::string& body, const char* key) {
  auto parsed = json::parse(body);
  if (!parsed || !parsed->is_object() || parsed->find(key) == nullptr) return "<absent>";
  return json::serialize(*parsed->find(key));
}

TEST(GovukResponses, CreatedEmailHasEveryFieldAndAnEmptySanitisedContent) {
  domain::AcceptedEmail accepted{record(store::Channel::kEmail), "clinic@notifications.herald.test", {}};
  accepted.record.subject = "Your appointment";
  accepted.record.reference = "ref-1";
  EXPECT_EQ(created_email_json(accepted, kRoot),
            R"({"id":"33333333-3333-4333-8333-333333333333","reference":"ref-1","content":{)"
            R"("from_email":"clinic@notifications.herald.test","body":"Hello Ada","subject":"Your appointment",)"
            R"("one_click_unsubscribe_url":null},)"
            R"("uri":"https://herald.test/v2/notifications/33333333-3333-4333-8333-333333333333",)"
            R"("template":{"id":"22222222-2222-4222-8222-222222222222","version":3,)"
            R"("uri":"https://herald.test/services/11111111-1111-4111-8111-111111111111/templates/)"
            R"(22222222-2222-4222-8222-222222222222"},"scheduled_for":null,"sanitised_content":{}})");
  accepted.sanitised_content.push_back({"Name", "=cmd()", "'=cmd()"});
  EXPECT_EQ(member(created_email_json(accepted, kRoot), "sanitised_content"),
            R"j({"Name":{"unsanitised":"=cmd()","sanitised":"'=cmd()"}})j");
}

TEST(GovukResponses, CreatedSmsAndPrecompiledLetterShapes) {
  domain::AcceptedSms sms{record(store::Channel::kSms), false};
  sms.record.sender = "Clinic";
  const std::string body = created_sms_json(sms, kRoot);
  EXPECT_EQ(member(body, "content"), R"({"body":"Hello Ada","from_number":"Clinic"})");
  EXPECT_EQ(member(body, "reference"), "null");
  EXPECT_EQ(member(body, "sanitised_content"), "<absent>") << "only emails carry it";

  domain::AcceptedLetter letter{record(store::Channel::kLetter)};
  letter.record.postage = "first";
  EXPECT_EQ(created_precompiled_letter_json(letter),
            R"({"id":"33333333-3333-4333-8333-333333333333","reference":null,"postage":"first"})");
}

TEST(GovukResponses, AnEmailAsGetShowsIt) {
  auto r = record(store::Channel::kEmail);
  r.recipient = "ada@example.com";
  r.subject = "Hi";
  EXPECT_EQ(notification_json(r, kRoot, {}),
            R"({"id":"33333333-3333-4333-8333-333333333333","reference":null,"email_address":"ada@example.com",)"
            R"("phone_number":null,"line_1":null,"line_2":null,"line_3":null,"line_4":null,"line_5":null,)"
            R"("line_6":null,"postcode":null,"type":"email","status":"created",)"
            R"("template":{"id":"22222222-2222-4222-8222-222222222222","version":3,)"
            R"("uri":"https://herald.test/v2/template/22222222-2222-4222-8222-222222222222/version/3"},)"
            R"("body":"Hello Ada","subject":"Hi","created_at":"2026-11-30T09:15:00.123456Z","created_by_name":null,)"
            R"("sent_at":null,"completed_at":null,"scheduled_for":null,"postage":null,)"
            R"("one_click_unsubscribe_url":null,"cost_in_pounds":0.0,"is_cost_data_ready":true,"cost_details":{}})");
}

TEST(GovukResponses, CompletedAtOnlyOnceTheStatusIsFinal) {
  auto r = record(store::Channel::kEmail);
  r.sent_at = kCreated + std::chrono::seconds(1);
  r.updated_at = kCreated + std::chrono::seconds(2);
  r.status = store::NotificationStatus::kSending;
  EXPECT_EQ(member(notification_json(r, kRoot, {}), "sent_at"), R"("2026-11-30T09:15:01.123456Z")");
  EXPECT_EQ(member(notification_json(r, kRoot, {}), "completed_at"), "null");
  for (auto status : {store::NotificationStatus::kDelivered, store::NotificationStatus::kPermanentFailure,
                      store::NotificationStatus::kTechnicalFailure}) {
    r.status = status;
    EXPECT_EQ(member(notification_json(r, kRoot, {}), "completed_at"), R"("2026-11-30T09:15:02.123456Z")")
        << store::status_name(status);
  }
}

TEST(GovukResponses, TextsCostFragmentsTimesMultiplierTimesRate) {
  auto r = record(store::Channel::kSms);
  r.recipient = "07700900123";
  r.billable_units = 2;
  r.rate_multiplier = 2;
  const std::string body = notification_json(r, kRoot, Prices{0.0227, {}});
  EXPECT_EQ(member(body, "phone_number"), R"("07700900123")");
  EXPECT_EQ(member(body, "email_address"), "null");
  EXPECT_EQ(member(body, "subject"), "null");
  EXPECT_NE(body.find(R"("cost_in_pounds":0.0908,)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("cost_details":{"billable_sms_fragments":2,"international_rate_multiplier":2.0,)"
                      R"("sms_rate":0.0227})"),
            std::string::npos)
      << body;
}

TEST(GovukResponses, LettersShowCoarseStatusesAddressAndCostWhenPriced) {
  auto r = record(store::Channel::kLetter);
  r.personalisation_json = R"({"Address_Line_1":"Ada Lovelace","address_line_2":"1 Street","POSTCODE":"SW1A 1AA"})";
  r.postage = "second";
  std::string body = notification_json(r, kRoot, {});
  EXPECT_EQ(member(body, "status"), R"("accepted")");
  EXPECT_EQ(member(body, "line_1"), R"("Ada Lovelace")") << "address keys match without regard to case";
  EXPECT_EQ(member(body, "line_2"), R"("1 Street")");
  EXPECT_EQ(member(body, "line_3"), "null");
  EXPECT_EQ(member(body, "postcode"), R"("SW1A 1AA")");
  EXPECT_EQ(member(body, "cost_in_pounds"), "null") << "sheets not counted yet";
  EXPECT_EQ(member(body, "is_cost_data_ready"), "false");
  EXPECT_EQ(member(body, "estimated_delivery").size(), 29u);

  r.billable_units = 2;
  r.status = store::NotificationStatus::kDelivered;
  Prices prices;
  prices.letters.by_postage["second"] = {0.5, 0.75};
  body = notification_json(r, kRoot, prices);
  EXPECT_EQ(member(body, "status"), R"("received")");
  EXPECT_NE(body.find(R"("cost_in_pounds":0.75,)"), std::string::npos) << body;
  EXPECT_EQ(member(body, "cost_details"), R"({"billable_sheets_of_paper":2,"postage":"second"})");
  EXPECT_EQ(member(notification_json(r, kRoot, {}), "cost_in_pounds"), "null") << "no price configured: not ready";

  r.status = store::NotificationStatus::kCancelled;
  body = notification_json(r, kRoot, prices);
  EXPECT_EQ(member(body, "status"), R"("cancelled")");
  EXPECT_NE(body.find(R"("cost_in_pounds":0.0,)"), std::string::npos) << "never sent: " << body;
  EXPECT_EQ(member(body, "cost_details"), R"({"billable_sheets_of_paper":0,"postage":"second"})");
}

TEST(GovukResponses, PagesCarryNextOnlyWhenThereIsOne) {
  const auto page = notifications_page_json({record(store::Channel::kEmail)}, kRoot, {},
                                            "https://herald.test/v2/notifications", std::nullopt);
  EXPECT_EQ(member(page, "links"), R"({"current":"https://herald.test/v2/notifications"})");
  const auto empty =
      notifications_page_json({}, kRoot, {}, "https://herald.test/v2/notifications", std::string("https://next"));
  EXPECT_EQ(empty.rfind(R"({"notifications":[],"links":{"current":)", 0), 0u);
  EXPECT_EQ(member(empty, "links"), R"({"current":"https://herald.test/v2/notifications","next":"https://next"})");
}

TEST(GovukResponses, TemplatesShowTheirOwnContactBlockAndPlaceholders) {
  store::TemplateRecord t;
  t.id = kTemplate;
  t.type = store::Channel::kLetter;
  t.created_at = kCreated;
  t.created_by = "admin";
  t.version = 2;
  t.name = "Letter";
  t.subject = "About ((thing))";
  t.body = "Dear ((name))";
  const std::string letter = template_json(t, std::nullopt);
  EXPECT_EQ(member(letter, "letter_contact_block"), "null") << "the version's own: none";
  EXPECT_EQ(member(letter, "postage"), R"("second")") << "templates stored before postage was kept";
  EXPECT_EQ(member(letter, "personalisation"), R"({"thing":{"required":true},"name":{"required":true}})");
  EXPECT_EQ(member(template_json(t, std::string("The Clinic")), "letter_contact_block"), R"("The Clinic")");

  t.type = store::Channel::kSms;
  const std::string sms = template_json(t, std::string("ignored"));
  EXPECT_EQ(member(sms, "subject"), "null");
  EXPECT_EQ(member(sms, "postage"), "null");
  EXPECT_EQ(member(sms, "letter_contact_block"), "null");
  EXPECT_EQ(member(templates_json({t}, {}), "templates").front(), '[');
}

TEST(GovukResponses, FloatsAsPythonPrintsThem) {
  EXPECT_EQ(python_float(0), "0.0");
  EXPECT_EQ(python_float(1), "1.0");
  EXPECT_EQ(python_float(0.0227), "0.0227");
  EXPECT_EQ(python_float(0.0454), "0.0454");
  EXPECT_EQ(python_float(1e-05), "1e-05");
  EXPECT_EQ(python_float(2.5e-10), "2.5e-10");
}

}  // namespace
}  // namespace herald::api::govuk_v2
