// The NHS Notify cascade: the rules driven by a fake clock (time limits, skips, technical
// failures, secondary channels, the first delivery ending it), and NhsCascade over the fake
// store: enrichment from a demographics source and its refusals, channels sent as ordinary
// notifications whose outcomes wake the message.
#include "domain/nhs/cascade.h"

#include <gtest/gtest.h>

#include <map>

#include "crypto/random.h"
#include "domain/letters/letters.h"
#include "domain/nhs/messages.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::domain::nhs {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using store::NhsChannel;
using store::NhsChannelStatus;
using store::NhsMessageStatus;

const Uuid kAppThenSms24h = *Uuid::parse("00000000-0000-0000-0000-000000000006");
const Uuid kEmailOnly = *Uuid::parse("00000000-0000-0000-0000-000000000002");
const Uuid kSmsOnly = *Uuid::parse("00000000-0000-0000-0000-000000000003");

RoutingPlan plan_of(std::vector<PlanChannel> channels) {
  RoutingPlan plan;
  plan.id = crypto::random_uuid();
  plan.version = "1";
  plan.channels = std::move(channels);
  return plan;
}

store::NhsMessageRecord laid_out(const RoutingPlan& plan, Timestamp now) {
  store::NhsMessageRecord m;
  m.id = "2WL3qFTEFM0qMY8xjRbt1LIKCzM";
  m.status = NhsMessageStatus::kEnriched;
  lay_out_channels(m, plan, now);
  return m;
}

CascadeRecipient reachable_by(bool email, bool sms) {
  CascadeRecipient r;
  if (email) r.email = "patient@example.com";
  if (sms) r.sms = "07700900123";
  return r;
}

TEST(NhsCascadeRules, NhsAppUnreadAfterItsLimitStartsTheSmsAtThatMoment) {
  fakes::FakeClock clock;
  const Timestamp t0 = clock.now();
  const RoutingPlan& plan = *find_built_in_plan(kAppThenSms24h);
  auto m = laid_out(plan, t0);
  const CascadeRecipient recipient = reachable_by(false, true);

  EXPECT_EQ(advance(m, recipient, plan, t0), std::vector<std::size_t>{0});
  EXPECT_EQ(m.status, NhsMessageStatus::kSending);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kSending);
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);
  EXPECT_EQ(m.next_step_at, t0 + hours(24));

  // A second before the limit: nothing moves.
  EXPECT_TRUE(advance(m, recipient, plan, t0 + hours(24) - seconds(1)).empty());
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);

  // At the limit the app channel fails unread and the SMS starts, with a 72-hour limit of its own.
  EXPECT_EQ(advance(m, recipient, plan, t0 + hours(24)), std::vector<std::size_t>{1});
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].status_description, "Message not read in specified time frame");
  EXPECT_EQ(m.channels[0].failed_at, t0 + hours(24));
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending);
  EXPECT_EQ(m.channels[1].deadline_at, t0 + hours(24 + 72));
  EXPECT_EQ(m.next_step_at, t0 + hours(24 + 72));
  EXPECT_EQ(m.status, NhsMessageStatus::kSending);
}

TEST(NhsCascadeRules, AnAppMessageReadInTimeMeansNoSms) {
  fakes::FakeClock clock;
  const Timestamp t0 = clock.now();
  const RoutingPlan& plan = *find_built_in_plan(kAppThenSms24h);
  auto m = laid_out(plan, t0);
  const CascadeRecipient recipient = reachable_by(false, true);
  advance(m, recipient, plan, t0);
  channel_delivered(m.channels[0], "read", t0 + hours(3));
  EXPECT_TRUE(advance(m, recipient, plan, t0 + hours(3)).empty());
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered);
  EXPECT_EQ(m.delivered_at, t0 + hours(3));
  EXPECT_EQ(m.channels[0].supplier_status, "read");
  // Channels after the delivered one stay "created", as NHS shows them; nothing is due.
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);
  EXPECT_FALSE(m.next_step_at.has_value());
  // Long after, still nothing.
  EXPECT_TRUE(advance(m, recipient, plan, t0 + hours(200)).empty());
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);
}

TEST(NhsCascadeRules, NoMobileNumberSkipsTheSmsForTheNextChannel) {
  fakes::FakeClock clock;
  const RoutingPlan plan = plan_of({{NhsChannel::kSms, true, 1, hours(72)}, {NhsChannel::kEmail, true, 2, hours(72)}});
  auto m = laid_out(plan, clock.now());
  EXPECT_EQ(advance(m, reachable_by(true, false), plan, clock.now()), std::vector<std::size_t>{1});
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kSkipped);
  EXPECT_EQ(m.channels[0].failure_reason_code, "CFR_PDSV_0002");
  EXPECT_EQ(m.channels[0].status_description, "Failed reason: Contact detail is missing");
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending);
}

TEST(NhsCascadeRules, NoContactDetailForAnyChannelFailsTheMessage) {
  fakes::FakeClock clock;
  const RoutingPlan plan = plan_of({{NhsChannel::kSms, true, 1, hours(72)}, {NhsChannel::kEmail, true, 2, hours(72)}});
  auto m = laid_out(plan, clock.now());
  EXPECT_TRUE(advance(m, reachable_by(false, false), plan, clock.now()).empty());
  EXPECT_EQ(m.status, NhsMessageStatus::kFailed);
  EXPECT_EQ(m.failure_reason_code, "MFR_PDSV_0002");
  EXPECT_EQ(m.failed_at, clock.now());
  EXPECT_FALSE(m.next_step_at.has_value());
}

TEST(NhsCascadeRules, ATechnicalFailureMovesToTheNextChannelAtOnce) {
  fakes::FakeClock clock;
  const Timestamp t0 = clock.now();
  const RoutingPlan plan = plan_of({{NhsChannel::kEmail, true, 1, hours(72)}, {NhsChannel::kSms, true, 2, hours(72)}});
  auto m = laid_out(plan, t0);
  const CascadeRecipient both = reachable_by(true, true);
  advance(m, both, plan, t0);
  apply_notification(m.channels[0], store::NotificationStatus::kTechnicalFailure, 5, t0 + hours(1));
  EXPECT_EQ(advance(m, both, plan, t0 + hours(1)), std::vector<std::size_t>{1});
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].supplier_status, "technical_failure");
  EXPECT_EQ(m.channels[0].failure_reason_code, "CFR_SUPE_0007");
  EXPECT_EQ(m.channels[0].retry_count, 4);
  // The last channel failing too fails the message with its reason.
  apply_notification(m.channels[1], store::NotificationStatus::kPermanentFailure, 1, t0 + hours(2));
  EXPECT_TRUE(advance(m, both, plan, t0 + hours(2)).empty());
  EXPECT_EQ(m.status, NhsMessageStatus::kFailed);
  EXPECT_EQ(m.failure_reason_code, "MFR_SUPE_0007");
  EXPECT_EQ(m.channels[1].supplier_status, "permanent_failure");
}

TEST(NhsCascadeRules, SecondaryChannelsAreSentAlongsideWithoutFallback) {
  fakes::FakeClock clock;
  const Timestamp t0 = clock.now();
  const RoutingPlan plan = plan_of({{NhsChannel::kEmail, true, 1, hours(72)},
                                    {NhsChannel::kLetter, true, 2, hours(72)},
                                    {NhsChannel::kSms, false, 1, hours(72)}});
  auto m = laid_out(plan, t0);
  const CascadeRecipient both = reachable_by(true, true);
  auto started = advance(m, both, plan, t0);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(m.channels[started[0]].type, NhsChannel::kSms);
  EXPECT_FALSE(m.channels[started[0]].primary);
  EXPECT_EQ(m.channels[started[1]].type, NhsChannel::kEmail);
  // The secondary SMS delivered: the message is delivered, but the primary cascade is not ended
  // by it; the email is still in progress.
  channel_delivered(m.channels[2], "delivered", t0 + seconds(5));
  EXPECT_TRUE(advance(m, both, plan, t0 + seconds(5)).empty());
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered);
  // The primary email failing still moves the primary cascade on (letter: no address, skipped).
  apply_notification(m.channels[0], store::NotificationStatus::kPermanentFailure, 1, t0 + seconds(9));
  EXPECT_TRUE(advance(m, both, plan, t0 + seconds(9)).empty());
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSkipped);
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered);
}

// A demographics source of fixed records; "unavailable" answers kUnavailable.
class FixedDemographics final : public DemographicsProvider {
 public:
  Result<std::optional<DemographicsRecord>> lookup(std::string_view nhs_number, Timestamp now) override {
    ++lookups;
    if (unavailable) return herald::unavailable("PDS is down");
    auto it = records.find(std::string(nhs_number));
    if (it == records.end()) return std::optional<DemographicsRecord>();
    DemographicsRecord r = it->second;
    r.queried_at = now;
    return std::optional<DemographicsRecord>(r);
  }
  std::map<std::string, DemographicsRecord> records;
  bool unavailable = false;
  int lookups = 0;
};

// The NHS App as the cascade sees it: answers as told, remembers what it was given.
class FakeNhsApp final : public NhsAppSender {
 public:
  NhsAppResult send(const NhsAppMessage& message) override {
    sent.push_back(message);
    NhsAppResult r;
    r.outcome = next;
    r.reference = "app-ref-" + std::to_string(sent.size());
    r.detail = "as told";
    return r;
  }
  NhsAppResult::Outcome next = NhsAppResult::Outcome::kAccepted;
  std::vector<NhsAppMessage> sent;
};

class NhsCascadeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.id = crypto::random_uuid();
    client_.service = ServiceId{crypto::random_uuid()};
    client_.default_ods_code = "A12345";
    client_.allow_contact_details = true;
    DemographicsRecord r;
    r.given_name = "Ada";
    r.family_name = "Lovelace";
    r.email = "ada@example.com";
    r.mobile = "07700900456";
    r.version = "3";
    demographics_.records["9990548609"] = r;
  }

  std::string send(const Uuid& plan, std::string personalisation, std::string nhs_number = "9990548609",
                   std::optional<std::string> contact_details = std::nullopt) {
    MessageRequest r;
    r.routing_plan_id = plan;
    r.message_reference = "ref-" + std::to_string(++sent_);
    r.nhs_number = std::move(nhs_number);
    r.personalisation_json = std::move(personalisation);
    r.contact_details_json = std::move(contact_details);
    auto accepted = messages_.send(client_, std::move(r));
    EXPECT_TRUE(accepted && std::holds_alternative<AcceptedMessage>(*accepted));
    return std::get<AcceptedMessage>(*accepted).record.id;
  }
  store::NhsMessageRecord message(const std::string& id) { return **memory_.find_nhs_message(client_.id, id); }
  store::NotificationRecord notification_of(const store::NhsChannelRecord& channel) {
    return **memory_.find_notification(client_.service, *channel.notification_id);
  }
  void outcome(const store::NhsChannelRecord& channel, store::NotificationStatus status) {
    store::DeliveryOutcome o;
    o.id = *channel.notification_id;
    o.status = status;
    o.updated_at = clock_.now();
    o.callback = true;
    ASSERT_TRUE(memory_.record_outcome(o));
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore memory_;
  FixedDemographics demographics_;
  RoutingPlans plans_{memory_, memory_, memory_, clock_};
  NhsMessages messages_{memory_, plans_, clock_};
  NhsCascade cascade_{memory_, memory_,         memory_, CascadeChannels{plans_, &demographics_, nullptr, nullptr},
                      clock_,  CascadeOptions{}};
  FakeNhsApp app_;
  NhsCascade with_app_{memory_, memory_,         memory_, CascadeChannels{plans_, &demographics_, &app_, nullptr},
                       clock_,  CascadeOptions{}};
  store::NhsClientRecord client_;
  int sent_ = 0;
};

TEST_F(NhsCascadeTest, AnEmailMessageIsEnrichedSentAsANotificationAndDeliveredByItsOutcome) {
  int queued = 0;
  cascade_.on_queued([&] { ++queued; });
  const std::string id = send(kEmailOnly, R"j({"email_subject":"Your appointment","email_body":"See you ((soon))"})j");
  EXPECT_EQ(*cascade_.run_once(), 1);
  EXPECT_EQ(queued, 1);
  auto m = message(id);
  EXPECT_EQ(m.status, NhsMessageStatus::kSending);
  EXPECT_EQ(m.enriched_at, clock_.now());
  EXPECT_EQ(m.demographics_version, "3");
  ASSERT_EQ(m.channels.size(), 1u);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kSending);
  const store::NotificationRecord email = notification_of(m.channels[0]);
  EXPECT_EQ(email.type, store::Channel::kEmail);
  EXPECT_EQ(email.recipient, "ada@example.com");
  EXPECT_EQ(email.subject, "Your appointment");
  EXPECT_EQ(email.body, "See you ((soon))") << "free text: no placeholders";
  EXPECT_TRUE(store::is_free_text(email));
  EXPECT_TRUE(email.queued);
  // Not one of the service's GOV.UK notifications.
  store::NotificationQuery query;
  query.service = client_.service;
  EXPECT_TRUE(memory_.list_notifications(query)->empty());
  // Nothing is due until the email's outcome (or its 72-hour limit).
  EXPECT_EQ(m.next_step_at, clock_.now() + hours(72));
  clock_.advance(seconds(1));
  EXPECT_EQ(*cascade_.run_once(), 0);

  outcome(m.channels[0], store::NotificationStatus::kDelivered);
  EXPECT_EQ(*cascade_.run_once(), 1) << "the outcome woke the message";
  m = message(id);
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kDelivered);
  EXPECT_EQ(m.channels[0].supplier_status, "delivered");
  EXPECT_FALSE(m.next_step_at.has_value());
  EXPECT_EQ(demographics_.lookups, 1) << "the demographics source is asked once per message";
}

TEST_F(NhsCascadeTest, AChannelsOutcomeTellsNoGovukCallback) {
  ASSERT_TRUE(memory_.set_service_callback({client_.service, store::CallbackKind::kDeliveryStatus,
                                            "https://callback.example/", "secret-token-123", clock_.now()}));
  const std::string id = send(kSmsOnly, R"({"sms_body":"Hello"})");
  ASSERT_EQ(*cascade_.run_once(), 1);
  outcome(message(id).channels[0], store::NotificationStatus::kDelivered);
  EXPECT_TRUE(memory_.claim_callbacks(10, clock_.now() + hours(1), seconds(60))->empty());
}

TEST_F(NhsCascadeTest, RecipientsWhoMustNotBeMessagedFailWithNhsReasonCodes) {
  struct Case {
    std::string nhs_number;
    std::function<void(DemographicsRecord&)> make;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"9434765919", [](DemographicsRecord& r) { r.deceased = DemographicsRecord::Deceased::kFormal; },
       "MFR_PDSV_0112"},
      {"9434765870", [](DemographicsRecord& r) { r.deceased = DemographicsRecord::Deceased::kInformal; },
       "MFR_PDSV_0111"},
      {"9449304130", [](DemographicsRecord& r) { r.exit_code = "SCT"; }, "MFR_PDSV_0110"},
      {"9449305552", [](DemographicsRecord& r) { r.status = DemographicsRecord::Status::kInvalidated; },
       "MFR_PDSV_0008"},
      {"9449310394", [](DemographicsRecord& r) { r.restricted = true; }, "HRD_PDSV_0001"},
  };
  std::vector<std::pair<std::string, std::string>> sent;
  for (const Case& c : cases) {
    ASSERT_TRUE(valid_nhs_number(c.nhs_number)) << c.nhs_number;
    DemographicsRecord r = demographics_.records["9990548609"];
    c.make(r);
    demographics_.records[c.nhs_number] = r;
    sent.emplace_back(send(kSmsOnly, R"({"sms_body":"Hello"})", c.nhs_number), c.code);
  }
  sent.emplace_back(send(kSmsOnly, R"({"sms_body":"Hello"})", "9449310610"), "MFR_PDSV_0004");  // unknown
  EXPECT_EQ(*cascade_.run_once(), static_cast<int>(sent.size()));
  for (const auto& [id, code] : sent) {
    auto m = message(id);
    EXPECT_EQ(m.status, NhsMessageStatus::kFailed) << code;
    EXPECT_EQ(m.failure_reason_code, code);
    EXPECT_TRUE(m.channels.empty()) << code;
    EXPECT_FALSE(m.next_step_at.has_value());
    EXPECT_FALSE(m.recipient_json.has_value()) << "nothing of a refused record is kept";
  }
  store::NotificationQuery query;
  query.service = client_.service;
  EXPECT_EQ(*cascade_.run_once(), 0);
}

TEST_F(NhsCascadeTest, TriggerNumbersDriveMessagesThroughEachOutcomeWithoutSendingAnything) {
  TriggerDemographics triggers(&demographics_);
  NhsCascade cascade{memory_, memory_,         memory_, CascadeChannels{plans_, &triggers, nullptr, nullptr},
                     clock_,  CascadeOptions{}};
  const std::string dead = send(kSmsOnly, R"({"sms_body":"Hello"})", "9990000026");
  const std::string unknown = send(kSmsOnly, R"({"sms_body":"Hello"})", "9990000077");
  const std::string unreachable = send(kSmsOnly, R"({"sms_body":"Hello"})", "9990000085");
  const std::string read = send(kAppThenSms24h, R"({"nhsapp_body":"Hi","sms_body":"Hello"})", "9990000018");
  const std::string bounced = send(kEmailOnly, R"({"email_subject":"Hi","email_body":"Hello"})", "9990000093");
  const std::string real = send(kSmsOnly, R"({"sms_body":"Hello"})");  // not a trigger: the real source
  ASSERT_EQ(*cascade.run_once(), 6);
  EXPECT_EQ(message(dead).failure_reason_code, "MFR_PDSV_0112");
  EXPECT_EQ(message(unknown).failure_reason_code, "MFR_PDSV_0004");
  EXPECT_EQ(message(unreachable).failure_reason_code, "MFR_PDSV_0002");
  auto m = message(read);
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered) << "the app message is read at once, with no NHS App";
  EXPECT_EQ(m.channels[0].supplier_status, "read");
  EXPECT_FALSE(m.channels[1].notification_id.has_value());
  m = message(bounced);
  const store::NotificationRecord email = notification_of(m.channels[0]);
  EXPECT_EQ(email.recipient, "perm-fail@simulator.notify");
  EXPECT_EQ(email.key_type, store::KeyType::kTest) << "simulated as a test key's: never handed to a provider";
  EXPECT_EQ(notification_of(message(real).channels[0]).key_type, store::KeyType::kNormal);
  EXPECT_EQ(demographics_.lookups, 1) << "only the real number reached the real source";
}

TEST_F(NhsCascadeTest, AnUnavailableDemographicsSourceIsAskedAgainLater) {
  demographics_.unavailable = true;
  const std::string id = send(kSmsOnly, R"({"sms_body":"Hello"})");
  EXPECT_EQ(*cascade_.run_once(), 1);
  EXPECT_EQ(message(id).status, NhsMessageStatus::kPendingEnrichment);
  clock_.advance(seconds(29));
  EXPECT_EQ(*cascade_.run_once(), 0);
  demographics_.unavailable = false;
  clock_.advance(seconds(1));
  EXPECT_EQ(*cascade_.run_once(), 1);
  EXPECT_EQ(message(id).status, NhsMessageStatus::kSending);
}

TEST_F(NhsCascadeTest, TheRequestsContactDetailsWinOverTheRecords) {
  const std::string id = send(kSmsOnly, R"({"sms_body":"Hello"})", "9990548609", R"({"sms":"07700900789"})");
  ASSERT_EQ(*cascade_.run_once(), 1);
  EXPECT_EQ(notification_of(message(id).channels[0]).recipient, "07700900789");
}

TEST_F(NhsCascadeTest, WithoutAnNhsAppAdapterTheAppChannelFailsAndTheSmsGoesAtOnce) {
  const std::string id = send(kAppThenSms24h, R"({"nhsapp_body":"Hi","sms_body":"Hello"})");
  ASSERT_EQ(*cascade_.run_once(), 1);
  auto m = message(id);
  ASSERT_EQ(m.channels.size(), 2u);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].failure_reason_code, "HRD_SEND_0001");
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending);
  const store::NotificationRecord sms = notification_of(m.channels[1]);
  EXPECT_EQ(sms.type, store::Channel::kSms);
  EXPECT_EQ(sms.recipient, "07700900456");
  EXPECT_EQ(sms.body, "Hello");
  EXPECT_EQ(sms.billable_units, 1);
}

TEST_F(NhsCascadeTest, AMissingPersonalisationFieldFailsTheChannelNotTheRequest) {
  const std::string id = send(kEmailOnly, R"({"email_subject":"Hi"})");
  ASSERT_EQ(*cascade_.run_once(), 1);
  auto m = message(id);
  EXPECT_EQ(m.status, NhsMessageStatus::kFailed);
  EXPECT_EQ(m.channels[0].status_description, "Failed reason: Personalisation field 'email_body' is missing");
  EXPECT_EQ(m.failure_reason_code, "HRD_SEND_0001");
}

TEST_F(NhsCascadeTest, AStepForALostClaimIsNotSaved) {
  const std::string id = send(kSmsOnly, R"({"sms_body":"Hello"})");
  auto first = memory_.claim_nhs_messages(10, clock_.now(), seconds(60));
  ASSERT_EQ(first->size(), 1u);
  // The lease runs out and another worker claims it.
  clock_.advance(seconds(61));
  auto second = memory_.claim_nhs_messages(10, clock_.now(), seconds(60));
  ASSERT_EQ(second->size(), 1u);
  store::NhsCascadeStep stale{(*first)[0].message, (*first)[0].claim, {}};
  stale.message.status = NhsMessageStatus::kFailed;
  EXPECT_FALSE(*memory_.save_nhs_step(stale, clock_.now()));
  EXPECT_EQ(message(id).status, NhsMessageStatus::kCreated);
}

TEST_F(NhsCascadeTest, AnNhsAppMessageReadInTimeEndsTheCascadeWithNoSms) {
  const std::string id = send(kAppThenSms24h, R"({"nhsapp_body":"Your **results** are in","sms_body":"Hello"})");
  ASSERT_EQ(*with_app_.run_once(), 1);
  ASSERT_EQ(app_.sent.size(), 1u);
  EXPECT_EQ(app_.sent[0].message_id, id);
  EXPECT_EQ(app_.sent[0].nhs_number, "9990548609");
  EXPECT_EQ(app_.sent[0].ods_code, "A12345");
  EXPECT_EQ(app_.sent[0].body, "Your **results** are in");
  auto m = message(id);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kSending);
  EXPECT_EQ(m.channels[0].supplier_status, "received");
  EXPECT_EQ(m.channels[0].supplier_reference, "app-ref-1");
  EXPECT_EQ(m.next_step_at, clock_.now() + hours(24));

  clock_.advance(hours(2));
  ASSERT_TRUE(*memory_.add_nhs_channel_event({0, id, NhsChannel::kNhsApp, "notified", clock_.now()}));
  ASSERT_EQ(*with_app_.run_once(), 1) << "a receipt wakes the message";
  EXPECT_EQ(message(id).channels[0].supplier_status, "notified");
  EXPECT_EQ(message(id).status, NhsMessageStatus::kSending);
  clock_.advance(hours(1));
  ASSERT_TRUE(*memory_.add_nhs_channel_event({0, id, NhsChannel::kNhsApp, "read", clock_.now()}));
  ASSERT_EQ(*with_app_.run_once(), 1);
  m = message(id);
  EXPECT_EQ(m.status, NhsMessageStatus::kDelivered);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kDelivered);
  EXPECT_EQ(m.channels[0].supplier_status, "read");
  EXPECT_EQ(m.delivered_at, clock_.now());
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);
  EXPECT_FALSE(m.channels[1].notification_id.has_value()) << "no SMS";
  clock_.advance(hours(30));
  EXPECT_EQ(*with_app_.run_once(), 0);
}

TEST_F(NhsCascadeTest, AnNhsAppMessageUnreadAfterItsLimitSendsTheSmsThen) {
  const std::string id = send(kAppThenSms24h, R"({"nhsapp_body":"Hi","sms_body":"Hello"})");
  ASSERT_EQ(*with_app_.run_once(), 1);
  ASSERT_TRUE(*memory_.add_nhs_channel_event({0, id, NhsChannel::kNhsApp, "delivered", clock_.now()}));
  ASSERT_EQ(*with_app_.run_once(), 1);
  EXPECT_FALSE(message(id).channels[1].notification_id.has_value());
  clock_.advance(hours(24) - seconds(1));
  EXPECT_EQ(*with_app_.run_once(), 0) << "not yet";
  clock_.advance(seconds(1));
  ASSERT_EQ(*with_app_.run_once(), 1);
  auto m = message(id);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].status_description, "Message not read in specified time frame");
  EXPECT_EQ(m.channels[0].supplier_status, "delivered");
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending);
  EXPECT_EQ(m.channels[1].started_at, clock_.now());
  EXPECT_EQ(notification_of(m.channels[1]).created_at, clock_.now()) << "the SMS goes at that moment";
  // A receipt for the app message after its limit changes nothing.
  ASSERT_TRUE(*memory_.add_nhs_channel_event({0, id, NhsChannel::kNhsApp, "read", clock_.now()}));
  ASSERT_EQ(*with_app_.run_once(), 1);
  EXPECT_EQ(message(id).channels[0].status, NhsChannelStatus::kFailed);
}

TEST_F(NhsCascadeTest, AnNhsAppRejectionOrOutageIsHandled) {
  app_.next = NhsAppResult::Outcome::kRejected;
  const std::string rejected = send(kAppThenSms24h, R"({"nhsapp_body":"Hi","sms_body":"Hello"})");
  ASSERT_EQ(*with_app_.run_once(), 1);
  auto m = message(rejected);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].supplier_status, "rejected");
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending) << "the SMS goes at once";

  app_.next = NhsAppResult::Outcome::kUnavailable;
  const std::string waiting = send(kAppThenSms24h, R"({"nhsapp_body":"Hi","sms_body":"Hello"})");
  ASSERT_EQ(*with_app_.run_once(), 1);
  m = message(waiting);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kSending);
  EXPECT_FALSE(m.channels[0].supplier_reference.has_value());
  EXPECT_EQ(m.next_step_at, clock_.now() + seconds(60));
  app_.next = NhsAppResult::Outcome::kAccepted;
  clock_.advance(seconds(60));
  ASSERT_EQ(*with_app_.run_once(), 1);
  m = message(waiting);
  EXPECT_EQ(m.channels[0].supplier_reference, "app-ref-3");
  EXPECT_EQ(m.channels[0].retry_count, 1);
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kCreated);
}

// Plans of the client's own: the service's templates filled with the request's personalisation
// and the demographics record's fields, the NHS App message from the plan, letters through the
// print pipeline with the recipient's format, overrides for the recipient's language.
class NhsTemplatePlanTest : public NhsCascadeTest {
 protected:
  void SetUp() override {
    NhsCascadeTest::SetUp();
    store::ServiceRecord service;
    service.id = client_.service;
    service.name = "Surgery";
    ASSERT_TRUE(memory_.create_service(service));
    client_.name = "practice system";
    client_.api_key_hash = "hash";
    client_.created_at = clock_.now();
    ASSERT_TRUE(memory_.create_nhs_client(client_));
    DemographicsRecord& ada = demographics_.records["9990548609"];
    ada.address_lines = {"1 High Street", "Leeds"};
    ada.postcode = "LS1 1AA";
  }
  TemplateId add_template(store::Channel type, std::string subject, std::string body) {
    const store::TemplateRecord t =
        fakes::sample_template(client_.service, type, std::move(subject), std::move(body), clock_.now());
    EXPECT_TRUE(memory_.create_template(t));
    return t.id;
  }
  Uuid save_plan(const std::string& definition) {
    auto saved = plans_.save(client_.id, std::nullopt, definition);
    EXPECT_TRUE(saved) << saved.error().message;
    return saved ? (*saved)->id : Uuid{};
  }

  domain::Notifications notifications_{memory_, NotificationsConfig{}};
  domain::Letters letters_{memory_, notifications_};
  NhsCascade full_{memory_, memory_,         memory_, CascadeChannels{plans_, &demographics_, &app_, &letters_},
                   clock_,  CascadeOptions{}};
};

TEST_F(NhsTemplatePlanTest, EmailAndSmsTemplatesAreFilledWithPersonalisationAndTheRecordsFields) {
  const TemplateId email = add_template(store::Channel::kEmail, "Appointment for ((fullName))",
                                        "Dear ((firstName)), come on ((when)). NHS number ((nhsNumber)).");
  const TemplateId sms = add_template(store::Channel::kSms, "", "((firstName)): ((when))");
  const Uuid plan = save_plan(R"({"name":"A","channels":[{"type":"email","template":")" + email.to_string() +
                              R"("},{"type":"sms","cascade":"secondary","template":")" + sms.to_string() + R"("}]})");
  const std::string id = send(plan, R"({"when":"Monday","firstName":"Not from the request"})");
  ASSERT_EQ(*full_.run_once(), 1);
  auto m = message(id);
  ASSERT_EQ(m.channels.size(), 2u);
  const store::NotificationRecord sent_email = notification_of(m.channels[0]);
  EXPECT_EQ(sent_email.subject, "Appointment for Ada Lovelace");
  EXPECT_EQ(sent_email.body, "Dear Ada, come on Monday. NHS number 9990548609.") << "the record's names win";
  EXPECT_EQ(sent_email.template_id, email);
  EXPECT_EQ(sent_email.personalisation_json, "{}") << "the request's values stay sealed with the message";
  const store::NotificationRecord sent_sms = notification_of(m.channels[1]);
  EXPECT_EQ(sent_sms.body, "Ada: Monday");
  EXPECT_EQ(sent_sms.template_id, sms);
}

TEST_F(NhsTemplatePlanTest, AMissingPlaceholderFailsTheChannelAndTheCascadeMovesOn) {
  const TemplateId email = add_template(store::Channel::kEmail, "Hi", "Come on ((when))");
  const TemplateId sms = add_template(store::Channel::kSms, "", "Hello ((firstName))");
  const Uuid plan = save_plan(R"({"name":"A","channels":[{"type":"email","template":")" + email.to_string() +
                              R"("},{"type":"sms","template":")" + sms.to_string() + R"("}]})");
  const std::string id = send(plan, "{}");
  ASSERT_EQ(*full_.run_once(), 1);
  auto m = message(id);
  EXPECT_EQ(m.channels[0].status, NhsChannelStatus::kFailed);
  EXPECT_EQ(m.channels[0].status_description, "Failed reason: Missing personalisation: when");
  EXPECT_EQ(m.channels[1].status, NhsChannelStatus::kSending);
  EXPECT_EQ(notification_of(m.channels[1]).body, "Hello Ada");
}

TEST_F(NhsTemplatePlanTest, TheNhsAppMessageComesFromThePlan) {
  const Uuid plan = save_plan(
      R"({"name":"A","channels":[{"type":"nhsapp","timeLimitHours":4,"message":"Dear ((firstName)), **((what))**"}]})");
  const std::string id = send(plan, R"({"what":"your results are in"})");
  ASSERT_EQ(*full_.run_once(), 1);
  ASSERT_EQ(app_.sent.size(), 1u);
  EXPECT_EQ(app_.sent[0].body, "Dear Ada, **your results are in**");
  EXPECT_EQ(message(id).next_step_at, clock_.now() + hours(4));
}

TEST_F(NhsTemplatePlanTest, ALetterGoesThroughThePrintPipelineInTheRecipientsFormat) {
  const TemplateId standard = add_template(store::Channel::kLetter, "Your appointment", "Dear ((fullName))");
  const TemplateId braille = add_template(store::Channel::kLetter, "Your appointment (braille)", "Dear ((fullName))");
  const Uuid plan =
      save_plan(R"({"name":"A","channels":[{"type":"letter","template":")" + standard.to_string() +
                R"(","variants":[{"accessibleFormat":"braille","template":")" + braille.to_string() + R"("}]}]})");
  const std::string plain = send(plan, "{}");
  demographics_.records["9434765919"] = demographics_.records["9990548609"];
  demographics_.records["9434765919"].accessible_format = "braille";
  const std::string for_braille = send(plan, "{}", "9434765919");
  ASSERT_EQ(*full_.run_once(), 2);
  const store::NotificationRecord letter = notification_of(message(plain).channels[0]);
  EXPECT_EQ(letter.type, store::Channel::kLetter);
  EXPECT_EQ(letter.template_id, standard);
  EXPECT_EQ(letter.recipient, "Ada Lovelace\n1 High Street\nLeeds\nLS1 1AA");
  EXPECT_TRUE(letter.queued);
  EXPECT_GE(letter.billable_units, 1) << "rendered: its sheets are known";
  EXPECT_TRUE(*memory_.find_letter_pdf(letter.service, letter.id)) << "the PDF that prints is stored";
  EXPECT_EQ(notification_of(message(for_braille).channels[0]).template_id, braille);
}

TEST_F(NhsTemplatePlanTest, ARecipientWithAnOverriddenLanguageGetsTheOverridePlan) {
  const TemplateId english = add_template(store::Channel::kSms, "", "Your appointment");
  const TemplateId welsh = add_template(store::Channel::kSms, "", "Eich apwyntiad");
  const Uuid welsh_plan =
      save_plan(R"({"name":"Welsh","channels":[{"type":"sms","template":")" + welsh.to_string() + R"("}]})");
  const Uuid plan = save_plan(R"({"name":"English","channels":[{"type":"sms","template":")" + english.to_string() +
                              R"("}],"overrides":[{"language":"cy","plan":")" + welsh_plan.to_string() + R"("}]})");
  demographics_.records["9434765919"] = demographics_.records["9990548609"];
  demographics_.records["9434765919"].language = "cy";
  const std::string in_english = send(plan, "{}");
  const std::string in_welsh = send(plan, "{}", "9434765919");
  ASSERT_EQ(*full_.run_once(), 2);
  auto m = message(in_welsh);
  EXPECT_EQ(notification_of(m.channels[0]).body, "Eich apwyntiad");
  EXPECT_EQ(m.channels[0].override_plan_id, welsh_plan);
  EXPECT_EQ(m.channels[0].override_plan_version, "1");
  EXPECT_EQ(m.routing_plan_id, plan) << "the message keeps the plan it was sent with";
  m = message(in_english);
  EXPECT_EQ(notification_of(m.channels[0]).body, "Your appointment");
  EXPECT_FALSE(m.channels[0].override_plan_id.has_value());
  // Its outcome is read against the override plan's channels.
  outcome(message(in_welsh).channels[0], store::NotificationStatus::kDelivered);
  ASSERT_EQ(*full_.run_once(), 1);
  EXPECT_EQ(message(in_welsh).status, NhsMessageStatus::kDelivered);
}

TEST_F(NhsTemplatePlanTest, AnotherClientsPlanIsNoSuchRoutingPlan) {
  const TemplateId sms = add_template(store::Channel::kSms, "", "Hello");
  const Uuid plan = save_plan(R"({"name":"A","channels":[{"type":"sms","template":")" + sms.to_string() + R"("}]})");
  store::NhsClientRecord other = client_;
  other.id = crypto::random_uuid();
  MessageRequest r;
  r.routing_plan_id = plan;
  r.message_reference = "other";
  auto refused = messages_.send(other, std::move(r));
  ASSERT_TRUE(refused);
  EXPECT_EQ(std::get<MessageRefusal>(*refused), MessageRefusal::kNoSuchRoutingPlan);
}

}  // namespace
}  // namespace herald::domain::nhs
