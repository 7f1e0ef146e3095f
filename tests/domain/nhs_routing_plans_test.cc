// NHS Notify routing plans of a client's own: checked when saved (templates of the client's
// service and of the channel's type, one channel per type, time limits, overrides), immutable
// versions with their templates' versions pinned, and only the owner may send with them.
#include "domain/nhs/routing_plans.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::domain::nhs {
namespace {

class RoutingPlansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::ServiceRecord service;
    service.id = ServiceId{crypto::random_uuid()};
    service.name = "GP surgery";
    ASSERT_TRUE(memory_.create_service(service));
    client_ = client_of(service.id, "practice system");
    other_client_ = client_of(service.id, "another system");
    email_ = add_template(service.id, store::Channel::kEmail, "Your appointment", "Dear ((firstName))");
    sms_ = add_template(service.id, store::Channel::kSms, "", "Your appointment is ((when))");
    letter_ = add_template(service.id, store::Channel::kLetter, "Your appointment", "Dear ((fullName))");
    braille_ = add_template(service.id, store::Channel::kLetter, "Your appointment (braille)", "Dear ((fullName))");
    service_ = service.id;
  }

  store::NhsClientRecord client_of(ServiceId service, std::string name) {
    store::NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service;
    c.name = std::move(name);
    c.api_key_hash = c.id.to_string();
    c.created_at = clock_.now();
    EXPECT_TRUE(memory_.create_nhs_client(c));
    return c;
  }

  TemplateId add_template(ServiceId service, store::Channel type, std::string subject, std::string body) {
    const store::TemplateRecord t =
        fakes::sample_template(service, type, std::move(subject), std::move(body), clock_.now());
    EXPECT_TRUE(memory_.create_template(t));
    return t.id;
  }

  std::string sms_then_email() const {
    return R"({"name":"Appointments","channels":[)"
           R"({"type":"nhsapp","timeLimitHours":24,"message":"Dear ((firstName)), see your appointment"},)"
           R"({"type":"sms","template":")" +
           sms_.to_string() + R"(","timeLimitHours":48},)" + R"({"type":"email","cascade":"secondary","template":")" +
           email_.to_string() + R"("}]})";
  }

  // The message of a refused save, or "" when it was saved.
  std::string refusal(const std::string& definition, std::optional<Uuid> plan = std::nullopt) {
    auto saved = plans_.save(client_.id, plan, definition);
    if (saved) return "";
    EXPECT_EQ(saved.error().code, ErrorCode::kInvalidArgument) << saved.error().message;
    return saved.error().message;
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore memory_;
  RoutingPlans plans_{memory_, memory_, memory_, clock_};
  ServiceId service_;
  store::NhsClientRecord client_, other_client_;
  TemplateId email_, sms_, letter_, braille_;
};

TEST_F(RoutingPlansTest, APlanIsSavedWithItsTemplatesPinnedAndItsChannelsInOrder) {
  auto saved = plans_.save(client_.id, std::nullopt, sms_then_email());
  ASSERT_TRUE(saved) << saved.error().message;
  const RoutingPlan& plan = **saved;
  EXPECT_EQ(plan.version, "1");
  EXPECT_EQ(plan.client, client_.id);
  EXPECT_EQ(plan.name, "Appointments");
  ASSERT_EQ(plan.channels.size(), 3u);
  EXPECT_EQ(plan.channels[0].type, NhsChannel::kNhsApp);
  EXPECT_EQ(plan.channels[0].order, 1);
  EXPECT_EQ(plan.channels[0].time_limit, std::chrono::hours(24));
  EXPECT_EQ(plan.channels[1].type, NhsChannel::kSms);
  EXPECT_EQ(plan.channels[1].order, 2);
  EXPECT_EQ(plan.channels[1].template_version, 1) << "pinned to the template's version when saved";
  EXPECT_EQ(plan.channels[2].type, NhsChannel::kEmail);
  EXPECT_FALSE(plan.channels[2].primary);
  EXPECT_EQ(plan.channels[2].order, 1);
  EXPECT_EQ(plan.channels[2].time_limit, std::chrono::hours(72)) << "the default";
  // What is stored reads back the same.
  auto again = parse_plan_definition(plan_definition_json(plan));
  ASSERT_TRUE(again);
  EXPECT_EQ(plan_definition_json(*again), plan_definition_json(plan));
}

TEST_F(RoutingPlansTest, EditsAreNewVersionsAndMessagesKeepTheirs) {
  auto first = plans_.save(client_.id, std::nullopt, sms_then_email());
  ASSERT_TRUE(first);
  // The SMS template changes after the plan was saved: version 1 of the plan keeps version 1.
  store::TemplateRecord changed = **memory_.find_template(service_, sms_, std::nullopt);
  changed.version = 2;
  changed.body = "Changed: ((when))";
  ASSERT_TRUE(memory_.add_template_version(changed));
  auto second = plans_.save(client_.id, (*first)->id, sms_then_email());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ((*second)->id, (*first)->id);
  EXPECT_EQ((*second)->version, "2");
  EXPECT_EQ((*second)->channel(NhsChannel::kSms)->template_version, 2);

  auto v1 = plans_.version((*first)->id, "1");
  ASSERT_TRUE(v1 && *v1);
  EXPECT_EQ((*v1)->channel(NhsChannel::kSms)->template_version, 1);
  EXPECT_EQ(*plans_.version((*first)->id, "3"), nullptr);
  EXPECT_EQ(*plans_.version((*first)->id, "x"), nullptr);
  auto latest = plans_.for_client(client_.id, (*first)->id);
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->version, "2");
  EXPECT_EQ(plans_.list(client_.id)->size(), 1u);

  // The admin UI's view: the latest version of any client's plan, and when each was saved.
  EXPECT_EQ((*plans_.latest((*first)->id))->version, "2");
  EXPECT_EQ(*plans_.latest(crypto::random_uuid()), nullptr);
  clock_.advance(std::chrono::hours(1));
  ASSERT_TRUE(plans_.save(client_.id, (*first)->id, sms_then_email()));
  auto history = plans_.history((*first)->id, 2);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u) << "at most the limit, newest first";
  EXPECT_EQ((*history)[0].first, 3);
  EXPECT_EQ((*history)[0].second, clock_.now());
  EXPECT_EQ((*history)[1].first, 2);
  EXPECT_EQ((*history)[1].second, clock_.now() - std::chrono::hours(1));
  EXPECT_TRUE(plans_.history(crypto::random_uuid(), 5)->empty());
}

TEST_F(RoutingPlansTest, OnlyTheOwningClientMaySendWithAPlanAndBuiltInsAreEveryones) {
  auto saved = plans_.save(client_.id, std::nullopt, sms_then_email());
  ASSERT_TRUE(saved);
  EXPECT_EQ(*plans_.for_client(other_client_.id, (*saved)->id), nullptr);
  EXPECT_EQ(*plans_.for_client(other_client_.id, crypto::random_uuid()), nullptr);
  const Uuid free_text_sms = *Uuid::parse("00000000-0000-0000-0000-000000000003");
  ASSERT_NE(*plans_.for_client(other_client_.id, free_text_sms), nullptr);
  // Another client cannot version it either, nor anyone a built-in plan.
  auto other = plans_.save(other_client_.id, (*saved)->id, sms_then_email());
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  EXPECT_NE(refusal(sms_then_email(), free_text_sms), "");
}

TEST_F(RoutingPlansTest, APlanThatCouldNotSendIsRefusedWithTheReason) {
  const std::string email = email_.to_string();
  const std::string sms = sms_.to_string();
  const std::string letter = letter_.to_string();
  auto plan = [](const std::string& channels) { return R"({"name":"P","channels":[)" + channels + "]}"; };
  EXPECT_EQ(refusal("[]"), "The plan must be a JSON object");
  EXPECT_EQ(refusal(R"({"channels":[]})"), "name is required (at most 200 characters)");
  EXPECT_EQ(refusal(plan("")), "channels must be a non-empty array");
  EXPECT_EQ(refusal(plan(R"({"type":"fax","template":")" + email + R"("})")),
            "channels[0].type must be one of nhsapp, email, sms, letter");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","timeLimitHours":0})")),
            "channels[0].timeLimitHours must be a whole number from 1 to 72");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","timeLimitHours":73})")),
            "channels[0].timeLimitHours must be a whole number from 1 to 72");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","timeLimitHours":1.5})")),
            "channels[0].timeLimitHours must be a whole number from 1 to 72");
  EXPECT_EQ(refusal(plan(R"({"type":"email"})")), "channels[0].template is required");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + sms + R"("})")),
            "channels[0]: template " + sms + " is an SMS template, not an email one");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"("},{"type":"email","template":")" + email +
                         R"(","cascade":"secondary"})")),
            "channels[1] is a second email channel: a plan has at most one channel of each type");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","cascade":"secondary"})")),
            "channels must include a primary channel");
  EXPECT_EQ(refusal(plan(R"({"type":"nhsapp","template":")" + email + R"("})")),
            "channels[0]: an NHS App channel carries its text in \"message\", not a template");
  EXPECT_EQ(refusal(plan(R"({"type":"nhsapp","message":")" + std::string(5001, 'x') + R"("})")),
            "channels[0].message is longer than 5000 characters");
  EXPECT_EQ(refusal(plan(R"({"type":"sms","template":")" + sms + R"(","variants":[]})")),
            "channels[0].variants are for letter channels only");
  EXPECT_EQ(refusal(plan(R"({"type":"letter","template":")" + letter +
                         R"(","variants":[{"accessibleFormat":"smoke signals","template":")" + letter + R"("}]})")),
            "channels[0].variants[0].accessibleFormat must be one of braille, large_print, audio");
  EXPECT_EQ(refusal(plan(R"({"type":"letter","template":")" + letter +
                         R"(","variants":[{"language":"cy","template":")" + email + R"("}]})")),
            "channels[0].variants[0]: template " + email + " is an email template, not a letter one");
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","colour":"blue"})")),
            "channels[0] has an unknown member \"colour\"");
  const std::string unknown = crypto::random_uuid().to_string();
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + unknown + R"("})")),
            "channels[0]: the service has no template " + unknown);
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"(","templateVersion":9})")),
            "channels[0]: the service has no template " + email + " at version 9");
  ASSERT_TRUE(memory_.set_template_archived(service_, email_, true));
  EXPECT_EQ(refusal(plan(R"({"type":"email","template":")" + email + R"("})")),
            "channels[0]: template " + email + " has been deleted");
  // Another service's template is not found.
  store::ServiceRecord elsewhere;
  elsewhere.id = ServiceId{crypto::random_uuid()};
  elsewhere.name = "Elsewhere";
  ASSERT_TRUE(memory_.create_service(elsewhere));
  const std::string theirs = add_template(elsewhere.id, store::Channel::kSms, "", "Hi").to_string();
  EXPECT_EQ(refusal(plan(R"({"type":"sms","template":")" + theirs + R"("})")),
            "channels[0]: the service has no template " + theirs);
  EXPECT_TRUE(plans_.list(client_.id)->empty()) << "nothing refused was stored";
}

TEST_F(RoutingPlansTest, OverridesNameAnotherPlanOfTheSameClient) {
  auto welsh = plans_.save(client_.id, std::nullopt, sms_then_email());
  ASSERT_TRUE(welsh);
  auto theirs = plans_.save(other_client_.id, std::nullopt, sms_then_email());
  ASSERT_TRUE(theirs);
  auto with_override = [this](const Uuid& target) {
    return R"({"name":"P","channels":[{"type":"sms","template":")" + sms_.to_string() +
           R"("}],"overrides":[{"language":"cy","plan":")" + target.to_string() + R"("}]})";
  };
  auto saved = plans_.save(client_.id, std::nullopt, with_override((*welsh)->id));
  ASSERT_TRUE(saved) << saved.error().message;
  ASSERT_EQ((*saved)->overrides.size(), 1u);
  EXPECT_EQ((*saved)->overrides[0].value, "cy");
  EXPECT_EQ(refusal(with_override((*theirs)->id)),
            "overrides[0].plan " + (*theirs)->id.to_string() + " is not one of this client's plans");
  EXPECT_EQ(refusal(R"({"name":"P","channels":[{"type":"sms","template":")" + sms_.to_string() +
                    R"("}],"overrides":[{"language":"Welsh!","plan":")" + (*welsh)->id.to_string() + R"("}]})"),
            "overrides[0].language must be a language tag such as \"cy\" or \"pl\"");
  EXPECT_EQ(refusal(with_override((*saved)->id), (*saved)->id), "overrides[0].plan is this plan");
}

TEST_F(RoutingPlansTest, TheBuiltInPlansAreNhssSeven) {
  ASSERT_EQ(built_in_plans().size(), 7u);
  for (const PlanPtr& plan : built_in_plans()) {
    EXPECT_FALSE(plan->client.has_value());
    EXPECT_FALSE(plan->free_text_fields.empty());
    EXPECT_EQ(find_built_in_plan(plan->id), plan);
  }
}

}  // namespace
}  // namespace herald::domain::nhs
