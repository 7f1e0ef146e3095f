// domain::Notifications, the accept path's use cases, on the in-memory store (which passes the
// store contract suite) and a fake clock: what is stored, what is refused and in which order,
// what counts towards limits, and when the delivery worker is woken.
#include "domain/notifications.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

Personalisation with_name(std::string name) {
  Personalisation p;
  p.entries.push_back({"name", PersonalisationValue{PersonalisationValue::Kind::kText, std::move(name), {}}});
  return p;
}

class NotificationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = clock_.now();
    service_.permissions = {"email", "sms"};
    ASSERT_TRUE(store_.create_service(service_));
    caller_ = {service_.id, ApiKeyId{crypto::random_uuid()}, store::KeyType::kNormal};
    email_template_ = add_template(store::Channel::kEmail, "Hello ((name))", "Dear ((name)), see you soon.");
    sms_template_ = add_template(store::Channel::kSms, "", "Hi ((name))");
    notifications_.on_queued([this] { ++wakes_; });
  }

  TemplateId add_template(store::Channel type, std::string subject, std::string body) {
    store::TemplateRecord t;
    t.id = TemplateId{crypto::random_uuid()};
    t.service = service_.id;
    t.name = "T " + t.id.to_string();
    t.type = type;
    t.subject = std::move(subject);
    t.body = std::move(body);
    t.created_at = clock_.now();
    EXPECT_TRUE(store_.create_template(t));
    return t.id;
  }

  EmailRequest email(std::string to = "person@example.com") {
    EmailRequest r;
    r.email_address = std::move(to);
    r.template_id = email_template_;
    r.personalisation = with_name("Ada");
    r.personalisation_json = R"({"name":"Ada"})";
    r.reference = "ref-1";
    return r;
  }

  SmsRequest sms(std::string number = "07700900123") {
    SmsRequest r;
    r.phone_number = number;
    auto parsed = parse_phone_number(number);
    EXPECT_TRUE(parsed) << number;
    if (parsed) r.parsed = *parsed;
    r.template_id = sms_template_;
    r.personalisation = with_name("Ada");
    r.personalisation_json = R"({"name":"Ada"})";
    return r;
  }

  // send_sms_async run to completion (the memory store completes at once).
  Result<AcceptedSms> send_sms(SmsRequest request) {
    std::optional<Result<AcceptedSms>> out;
    auto started = notifications_.send_sms_async(caller_, std::move(request), clock_.now(), Blocking::kAllowed,
                                                 [&out](Result<AcceptedSms> r) { out.emplace(std::move(r)); });
    if (!started) return started.error();
    if (!out) return internal_error("done never ran");
    return std::move(*out);
  }

  std::string error_of(const Result<AcceptedEmail>& r) { return r ? "accepted" : r.error().message; }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  Notifications notifications_{store_, {}};
  store::ServiceRecord service_;
  Caller caller_;
  TemplateId email_template_;
  TemplateId sms_template_;
  int wakes_ = 0;
};

TEST_F(NotificationsTest, AnAcceptedEmailIsStoredAsRenderedCountedOnceAndWakesDelivery) {
  auto accepted = notifications_.send_email(caller_, email(), clock_.now());
  ASSERT_TRUE(accepted) << accepted.error().message;
  const store::NotificationRecord& r = accepted->record;
  EXPECT_EQ(r.status, store::NotificationStatus::kCreated);
  EXPECT_EQ(r.type, store::Channel::kEmail);
  EXPECT_EQ(r.subject, "Hello Ada");
  EXPECT_EQ(r.body, "Dear Ada, see you soon.");
  EXPECT_EQ(r.recipient_normalised, "person@example.com");
  EXPECT_EQ(r.reference, "ref-1");
  EXPECT_EQ(r.created_at, clock_.now());
  EXPECT_TRUE(r.queued);
  EXPECT_EQ(accepted->from_email, "clinic@notifications.herald.localhost");

  auto stored = notifications_.get(caller_, r.id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->body, r.body) << "what is stored is what was rendered";
  EXPECT_EQ((*stored)->personalisation_json, R"({"name":"Ada"})");
  EXPECT_EQ(wakes_, 1);
}

TEST_F(NotificationsTest, ASimulatedRecipientIsStoredButNeverWakesDelivery) {
  auto accepted =
      notifications_.send_email(caller_, email("simulate-delivered@notifications.service.gov.uk"), clock_.now());
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_FALSE(accepted->record.queued);
  EXPECT_EQ(wakes_, 0);
  EXPECT_TRUE(*notifications_.get(caller_, accepted->record.id));
}

TEST_F(NotificationsTest, RefusalsUseGovukMessagesAndStoreNothing) {
  auto r = email();
  r.template_id = TemplateId{crypto::random_uuid()};
  EXPECT_EQ(error_of(notifications_.send_email(caller_, std::move(r), clock_.now())), "Template not found");
  r = email();
  r.template_id = sms_template_;
  EXPECT_EQ(error_of(notifications_.send_email(caller_, std::move(r), clock_.now())),
            "sms template is not suitable for email notification");
  r = email();
  r.personalisation = {};
  EXPECT_EQ(error_of(notifications_.send_email(caller_, std::move(r), clock_.now())), "Missing personalisation: name");
  r = email();
  const Uuid reply_to = crypto::random_uuid();
  r.email_reply_to_id = reply_to;
  EXPECT_EQ(error_of(notifications_.send_email(caller_, std::move(r), clock_.now())),
            "email_reply_to_id " + reply_to.to_string() + " does not exist in database for service id " +
                service_.id.to_string());
  ASSERT_TRUE(store_.set_template_archived(service_.id, email_template_, true));
  clock_.advance(std::chrono::hours(1));  // past the lookup cache's lifetime
  EXPECT_EQ(error_of(notifications_.send_email(caller_, email(), clock_.now())), "Template has been deleted");

  store::NotificationQuery all;
  EXPECT_TRUE(notifications_.list(caller_, all)->empty());
  EXPECT_EQ(wakes_, 0);
}

TEST_F(NotificationsTest, TheDailyLimitCountsOnlyAcceptedNotifications) {
  service_.email_limit = 2;
  ASSERT_TRUE(store_.update_service(service_));
  const auto admit = [this] {
    return notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kAllowed);
  };
  ASSERT_TRUE(admit());
  ASSERT_TRUE(notifications_.send_email(caller_, email(), clock_.now()));
  ASSERT_TRUE(admit());
  auto refused = email();
  refused.template_id = TemplateId{crypto::random_uuid()};
  ASSERT_FALSE(notifications_.send_email(caller_, std::move(refused), clock_.now()));
  ASSERT_TRUE(admit()) << "the refused send took nothing from the day";
  ASSERT_TRUE(notifications_.send_email(caller_, email(), clock_.now()));
  auto full = admit();
  ASSERT_FALSE(full) << "two accepted: the day is full";
  EXPECT_EQ(full.error().refusal, Refusal::kDailyLimit);
  EXPECT_EQ(full.error().message, "Exceeded send limits (email: 2) for today");
}

TEST_F(NotificationsTest, TeamKeysAndTrialModeSendOnlyToTheGuestList) {
  Caller team = caller_;
  team.key_type = store::KeyType::kTeam;
  EXPECT_EQ(error_of(notifications_.send_email(team, email("stranger@example.com"), clock_.now())),
            "Can\u2019t send to this recipient using a team-only API key");
  ASSERT_TRUE(store_.add_guest_list_entry(
      {crypto::random_uuid(), service_.id, "email", "Guest@Example.com", "guest@example.com", clock_.now()}));
  EXPECT_TRUE(notifications_.send_email(team, email("GUEST@example.com"), clock_.now()));

  service_.restricted = true;
  ASSERT_TRUE(store_.update_service(service_));
  clock_.advance(std::chrono::hours(1));  // past the lookup cache's lifetime
  auto refused = notifications_.send_email(caller_, email("stranger@example.com"), clock_.now());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("Can\u2019t send to this recipient when service is in trial mode", 0), 0u);
  Caller test = caller_;
  test.key_type = store::KeyType::kTest;
  EXPECT_TRUE(notifications_.send_email(test, email("stranger@example.com"), clock_.now()))
      << "test keys send anywhere";
}

TEST_F(NotificationsTest, ACacheMissOnTheNetworkThreadWouldBlockAndLeavesTheRequestWhole) {
  bool called = false;
  EmailRequest request = email();
  auto first = notifications_.send_email_async(caller_, std::move(request), clock_.now(), Blocking::kNotAllowed,
                                               [&called](Result<AcceptedEmail>) { called = true; });
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kWouldBlock);
  EXPECT_FALSE(called);
  EXPECT_EQ(request.email_address, "person@example.com") << "not consumed";  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(request.personalisation_json, R"({"name":"Ada"})");              // NOLINT(bugprone-use-after-move)

  std::optional<Result<AcceptedEmail>> done;
  ASSERT_TRUE(notifications_.send_email_async(caller_, std::move(request), clock_.now(), Blocking::kAllowed,
                                              [&done](Result<AcceptedEmail> r) { done.emplace(std::move(r)); }));
  ASSERT_TRUE(done && *done);
  EXPECT_EQ((*done)->record.recipient, "person@example.com");

  // Now everything it needs is cached: the network thread finishes it without blocking.
  done.reset();
  ASSERT_TRUE(notifications_.send_email_async(caller_, email(), clock_.now(), Blocking::kNotAllowed,
                                              [&done](Result<AcceptedEmail> r) { done.emplace(std::move(r)); }));
  ASSERT_TRUE(done && *done);
}

TEST_F(NotificationsTest, TheRateLimitIsCountedOnceAcrossAResumedAdmission) {
  service_.rate_limit = 2;
  ASSERT_TRUE(store_.update_service(service_));
  Admission admission;
  auto first = notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kNotAllowed, admission);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kWouldBlock) << "the service is not cached yet";
  ASSERT_TRUE(notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kAllowed, admission));
  ASSERT_TRUE(notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kAllowed, admission))
      << "admitted once already: nothing more is counted";
  ASSERT_TRUE(notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kAllowed));
  auto third = notifications_.admit(caller_, store::Channel::kEmail, clock_.now(), Blocking::kAllowed);
  ASSERT_FALSE(third) << "two tokens a minute: the third request is refused";
  EXPECT_EQ(third.error().refusal, Refusal::kRateLimit);
}

TEST_F(NotificationsTest, TextsCheckPermissionSenderAndNumberInGovuksOrder) {
  auto accepted = send_sms(sms());
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_EQ(accepted->record.body, "Hi Ada");
  EXPECT_EQ(accepted->record.sender, "Herald") << "the default sender id";
  EXPECT_EQ(accepted->record.recipient, "07700900123") << "as submitted";
  EXPECT_EQ(accepted->record.recipient_normalised, "447700900123");
  EXPECT_EQ(accepted->record.billable_units, 1);
  EXPECT_FALSE(accepted->international);
  EXPECT_EQ(wakes_, 1);

  auto international = send_sms(sms("+1 202 555 0123"));
  ASSERT_FALSE(international);
  EXPECT_EQ(international.error().message, "Cannot send to international mobile numbers");

  SmsRequest unknown_sender = sms();
  unknown_sender.sms_sender_id = crypto::random_uuid();
  auto refused = send_sms(std::move(unknown_sender));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("sms_sender_id ", 0), 0u);

  service_.permissions = {"email"};
  ASSERT_TRUE(store_.update_service(service_));
  clock_.advance(std::chrono::hours(1));
  auto no_sms = send_sms(sms("+1 202 555 0123"));
  ASSERT_FALSE(no_sms);
  EXPECT_EQ(no_sms.error().message, "Service is not allowed to send text messages") << "permission comes first";
  EXPECT_EQ(wakes_, 1);
}

TEST_F(NotificationsTest, AnotherServiceSeesNothing) {
  auto accepted = notifications_.send_email(caller_, email(), clock_.now());
  ASSERT_TRUE(accepted);
  Caller stranger{ServiceId{crypto::random_uuid()}, ApiKeyId{crypto::random_uuid()}, store::KeyType::kNormal};
  EXPECT_FALSE(*notifications_.get(stranger, accepted->record.id));
  store::NotificationQuery all;
  EXPECT_TRUE(notifications_.list(stranger, all)->empty());
  Caller test_key = caller_;
  test_key.key_type = store::KeyType::kTest;
  EXPECT_TRUE(notifications_.list(test_key, all)->empty()) << "a key sees only what its kind sent";
  EXPECT_EQ(notifications_.list(caller_, all)->size(), 1u);
}

}  // namespace
}  // namespace herald::domain
