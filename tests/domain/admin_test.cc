// domain::Admin's rules for what a service may be set to, on the in-memory store: what the CLI
// uses today and the admin web UI will next.
#include "domain/admin.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

class AdminRules : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = admin_.create_service("Clinic", clock_.now());
    ASSERT_TRUE(created) << created.error().message;
    service_ = *created;
  }
  std::string refusal(const Result<store::ServiceRecord>& r) { return r ? "saved" : r.error().message; }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  Admin admin_{store_};
  store::ServiceRecord service_;
};

TEST_F(AdminRules, ANewServiceStartsInTrialModeUnderGovuksDefaults) {
  EXPECT_TRUE(service_.restricted);
  EXPECT_EQ(service_.email_sender_local_part, "clinic");
  EXPECT_EQ(admin_.create_service("Clinic", clock_.now()).error().message, "a service with that name already exists");
  EXPECT_EQ(admin_.create_service("", clock_.now()).error().code, ErrorCode::kInvalidArgument);
  auto live = admin_.go_live(service_.id);
  ASSERT_TRUE(live);
  EXPECT_FALSE(live->restricted);
}

TEST_F(AdminRules, AServiceAsksToGoLiveAndAPlatformAdminAnswers) {
  const Uuid ada = crypto::random_uuid();
  // Nothing to review yet.
  EXPECT_EQ(refusal(admin_.request_go_live(service_.id, ada, clock_.now())),
            "add a template first: it is what a reviewer looks at");
  store::TemplateRecord t;
  t.id = TemplateId{crypto::random_uuid()};
  t.service = service_.id;
  t.name = "Hello";
  t.body = "Hello";
  t.created_at = clock_.now();
  ASSERT_TRUE(store_.create_template(t));
  const Timestamp asked = clock_.now();
  auto requested = admin_.request_go_live(service_.id, ada, asked);
  ASSERT_TRUE(requested) << requested.error().message;
  EXPECT_EQ(requested->go_live_requested_at, asked);
  EXPECT_EQ(requested->go_live_requested_by, ada);
  EXPECT_TRUE(requested->restricted);  // still in trial mode until approved
  clock_.advance(std::chrono::hours(1));
  // Asking again keeps the first request.
  EXPECT_EQ(admin_.request_go_live(service_.id, crypto::random_uuid(), clock_.now())->go_live_requested_at, asked);
  auto other = admin_.create_service("Other clinic", clock_.now());
  ASSERT_TRUE(other);
  auto waiting = admin_.go_live_requests();
  ASSERT_TRUE(waiting);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(waiting->front().id, service_.id);

  // Turned down: back to trial mode without a request, and it may ask again.
  auto declined = admin_.decline_go_live(service_.id);
  ASSERT_TRUE(declined);
  EXPECT_FALSE(declined->go_live_requested_at);
  EXPECT_FALSE(declined->go_live_requested_by);
  EXPECT_TRUE(admin_.go_live_requests()->empty());
  EXPECT_EQ(refusal(admin_.decline_go_live(service_.id)), "the service has not asked to go live");
  ASSERT_TRUE(admin_.request_go_live(service_.id, ada, clock_.now()));

  // Approved: live, and the request answered.
  auto live = admin_.go_live(service_.id);
  ASSERT_TRUE(live);
  EXPECT_FALSE(live->restricted);
  EXPECT_FALSE((*store_.find_service(service_.id))->go_live_requested_at);
  EXPECT_TRUE(admin_.go_live_requests()->empty());
  EXPECT_EQ(refusal(admin_.request_go_live(service_.id, ada, clock_.now())), "the service is live already");
}

TEST_F(AdminRules, SettingsChangeOnlyWhatIsSetAndRefuseWhatGovukWouldNot) {
  ServiceSettings settings;
  settings.permissions = std::vector<std::string>{"email", "international_sms"};
  settings.rate_limit = 60;
  settings.sms_limit = 0;
  auto changed = admin_.change_settings(service_.id, settings);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->permissions, (std::vector<std::string>{"email", "international_sms"}));
  EXPECT_EQ(changed->rate_limit, 60);
  EXPECT_EQ(changed->sms_limit, 0);
  EXPECT_EQ(changed->email_limit, service_.email_limit) << "unset: kept";
  EXPECT_EQ((*store_.find_service(service_.id))->rate_limit, 60) << "saved";

  ServiceSettings bad;
  bad.permissions = std::vector<std::string>{"email", "fax"};
  EXPECT_EQ(refusal(admin_.change_settings(service_.id, bad)),
            "unknown permission fax (known: email, sms, letter, international_sms, sms_to_uk_landlines, inbound_sms, "
            "international_letters)");
  bad = {};
  bad.rate_limit = 0;
  EXPECT_EQ(refusal(admin_.change_settings(service_.id, bad)), "the rate limit must be at least 1");
  bad = {};
  bad.letter_limit = -1;
  bad.rate_limit = 5;
  EXPECT_EQ(refusal(admin_.change_settings(service_.id, bad)), "daily limits must not be negative");
  EXPECT_EQ((*store_.find_service(service_.id))->rate_limit, 60) << "a refused change saves nothing";
  EXPECT_EQ(admin_.change_settings(ServiceId{crypto::random_uuid()}, {}).error().code, ErrorCode::kNotFound);
}

TEST_F(AdminRules, RetentionIsThreeToNinetyDays) {
  EXPECT_FALSE(admin_.set_retention(service_.id, 2));
  EXPECT_FALSE(admin_.set_retention(service_.id, 91));
  ASSERT_TRUE(admin_.set_retention(service_.id, 3));
  ASSERT_TRUE(admin_.set_retention(service_.id, 90));
  EXPECT_EQ((*store_.find_service(service_.id))->retention_days, 90);
}

TEST_F(AdminRules, ContactsAreCheckedByKind) {
  using store::ContactKind;
  auto reply = admin_.add_contact(service_.id, ContactKind::kEmailReplyTo, "Help@Example.com", true, clock_.now());
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->service, service_.id);
  EXPECT_FALSE(admin_.add_contact(service_.id, ContactKind::kEmailReplyTo, "not an address", false, clock_.now()));
  EXPECT_TRUE(admin_.add_contact(service_.id, ContactKind::kSmsSender, "CLINIC", true, clock_.now()));
  EXPECT_TRUE(admin_.add_contact(service_.id, ContactKind::kSmsSender, "07700900123", false, clock_.now()));
  EXPECT_FALSE(admin_.add_contact(service_.id, ContactKind::kSmsSender, "AB", false, clock_.now()));
  EXPECT_FALSE(admin_.add_contact(service_.id, ContactKind::kSmsSender, "TWELVECHARSX", false, clock_.now()));
  EXPECT_FALSE(admin_.add_contact(service_.id, ContactKind::kSmsSender, "NO SPACES", false, clock_.now()));
  EXPECT_TRUE(admin_.add_contact(service_.id, ContactKind::kLetterContact, "The Clinic\n1 Street", true, clock_.now()));
  EXPECT_FALSE(admin_.add_contact(service_.id, ContactKind::kLetterContact, "", false, clock_.now()));
  EXPECT_FALSE(
      admin_.add_contact(service_.id, ContactKind::kLetterContact, std::string(1001, 'x'), false, clock_.now()));
  auto senders = store_.service_contacts(service_.id, ContactKind::kSmsSender);
  ASSERT_TRUE(senders);
  EXPECT_EQ(senders->size(), 2u) << "refused contacts are not stored";
}

TEST_F(AdminRules, CallbacksNeedHttpsAndALongEnoughToken) {
  using store::CallbackKind;
  EXPECT_FALSE(admin_.set_callback(service_.id, CallbackKind::kDeliveryStatus, "http://hooks.example/x", "0123456789",
                                   clock_.now()));
  EXPECT_FALSE(admin_.set_callback(service_.id, CallbackKind::kDeliveryStatus, "https://hooks.example/x", "short",
                                   clock_.now()));
  ASSERT_TRUE(admin_.set_callback(service_.id, CallbackKind::kDeliveryStatus, "https://hooks.example/x", "0123456789",
                                  clock_.now()));
  auto saved = store_.find_service_callback(service_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ((*saved)->bearer_token, "0123456789");

  ASSERT_TRUE(admin_.remove_callback(service_.id, CallbackKind::kDeliveryStatus));
  EXPECT_FALSE(*store_.find_service_callback(service_.id, CallbackKind::kDeliveryStatus));
  auto again = admin_.remove_callback(service_.id, CallbackKind::kDeliveryStatus);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(AdminRules, ContactsChangeUnderTheSameRulesAndTheDefaultGoesLast) {
  using store::ContactKind;
  auto first = admin_.add_contact(service_.id, ContactKind::kEmailReplyTo, "help@example.com", true, clock_.now());
  auto second = admin_.add_contact(service_.id, ContactKind::kEmailReplyTo, "other@example.com", false, clock_.now());
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(admin_.update_contact(service_.id, ContactKind::kEmailReplyTo, second->id, "not an address", false))
      << "checked as when added";
  auto changed = admin_.update_contact(service_.id, ContactKind::kEmailReplyTo, second->id, "New@Example.com", true);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->value, "New@Example.com");
  auto listed = *store_.service_contacts(service_.id, ContactKind::kEmailReplyTo);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_FALSE(listed[0].is_default) << "one default of a kind";
  EXPECT_TRUE(listed[1].is_default);
  // Another kind, or another service: not found.
  EXPECT_EQ(admin_.update_contact(service_.id, ContactKind::kSmsSender, second->id, "CLINIC", true).error().code,
            ErrorCode::kNotFound);
  auto other = admin_.create_service("Other", clock_.now());
  ASSERT_TRUE(other);
  EXPECT_EQ(admin_.remove_contact(other->id, ContactKind::kEmailReplyTo, first->id).error().code, ErrorCode::kNotFound);

  // GOV.UK's rule: the default goes only when it is the last of its kind.
  EXPECT_EQ(admin_.remove_contact(service_.id, ContactKind::kEmailReplyTo, second->id).error().code,
            ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(admin_.remove_contact(service_.id, ContactKind::kEmailReplyTo, first->id));
  ASSERT_TRUE(admin_.remove_contact(service_.id, ContactKind::kEmailReplyTo, second->id));
  EXPECT_TRUE(store_.service_contacts(service_.id, ContactKind::kEmailReplyTo)->empty());
}

TEST_F(AdminRules, TheGuestListIsListedAndEntriesRemoved) {
  auto email = admin_.add_to_guest_list(service_.id, "Guest@Example.org", clock_.now());
  ASSERT_TRUE(email) << email.error().message;
  clock_.advance(std::chrono::seconds(1));
  auto phone = admin_.add_to_guest_list(service_.id, "07700 900123", clock_.now());
  ASSERT_TRUE(phone);
  EXPECT_FALSE(admin_.add_to_guest_list(service_.id, "nobody", clock_.now()));
  auto listed = admin_.guest_list(service_.id);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].recipient_type, "email");
  EXPECT_EQ((*listed)[1].recipient, "07700 900123");

  auto other = admin_.create_service("Other", clock_.now());
  ASSERT_TRUE(other);
  EXPECT_EQ(admin_.remove_from_guest_list(other->id, email->id).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(admin_.remove_from_guest_list(service_.id, email->id));
  EXPECT_FALSE(*store_.on_guest_list(service_.id, email->recipient_normalised));
  EXPECT_TRUE(*store_.on_guest_list(service_.id, phone->recipient_normalised));
  EXPECT_EQ(admin_.remove_from_guest_list(service_.id, email->id).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace herald::domain
