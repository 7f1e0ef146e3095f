// domain::Subjects, data-subject requests, on the in-memory store (which passes the SubjectStore
// contract suite): a person is found by email address, mobile number or NHS number across both
// APIs and uploaded lists, only in the service asked about; the export holds all of it; erasure
// leaves nothing of them behind, fails what was not yet sent and keeps everyone else's data.
#include "domain/subjects.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/json.h"
#include "crypto/random.h"
#include "domain/admin.h"
#include "domain/jobs.h"
#include "domain/recipients/email_address.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::domain {
namespace {

constexpr const char* kCanary = "Canary.Person@Example.com";
constexpr const char* kNhsNumber = "9434765919";

class SubjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = add_service("Clinic");
    other_ = add_service("Other clinic");
    email_ = fakes::sample_template(service_.id, store::Channel::kEmail, "Hello", "Dear ((name))", clock_.now());
    ASSERT_TRUE(store_.create_template(email_));
  }

  store::ServiceRecord add_service(std::string name) {
    store::ServiceRecord s;
    s.id = ServiceId{crypto::random_uuid()};
    s.name = std::move(name);
    s.email_sender_local_part = "clinic";
    s.created_at = clock_.now();
    s.permissions = {"email", "sms"};
    EXPECT_TRUE(store_.create_service(s));
    return s;
  }

  store::NotificationRecord email_to(const store::ServiceRecord& service, std::string to) {
    auto n = fakes::sample_email(service.id, clock_.now(), to);
    n.recipient_normalised = normalise_email_for_index(to);
    n.personalisation_json = R"({"name":"secret-personalisation-)" + to + "\"}";
    EXPECT_TRUE(store_.insert_notification(n));
    return n;
  }

  // An NHS Notify message to kNhsNumber whose first step sent one email to `to`.
  store::NhsMessageRecord nhs_message(std::string id, std::string to) {
    store::NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_.id;
    c.name = "client";
    c.api_key_hash = std::string(64, id.back());
    c.created_at = clock_.now();
    EXPECT_TRUE(store_.create_nhs_client(c));
    store::NhsMessageRecord m;
    m.id = std::move(id);
    m.client = c.id;
    m.service = service_.id;
    m.message_reference = "ref-" + m.id;
    m.routing_plan_id = crypto::random_uuid();
    m.routing_plan_version = "1";
    m.nhs_number = kNhsNumber;
    m.created_at = clock_.now();
    m.next_step_at = clock_.now();
    EXPECT_TRUE(*store_.insert_nhs_message(m, clock_.now() - std::chrono::hours(1)));
    auto claimed = store_.claim_nhs_messages(10, clock_.now(), std::chrono::seconds(60));
    EXPECT_EQ(claimed->size(), 1u);
    store::NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
    step.message.status = store::NhsMessageStatus::kSending;
    step.message.recipient_json = R"({"email":")" + to + "\"}";
    step.message.next_step_at = clock_.now() + std::chrono::hours(72);
    auto n = fakes::sample_email(service_.id, clock_.now(), to);
    n.recipient_normalised = normalise_email_for_index(to);
    store::NhsChannelRecord channel;
    channel.type = store::NhsChannel::kEmail;
    channel.status = store::NhsChannelStatus::kSending;
    channel.created_at = clock_.now();
    channel.notification_id = n.id;
    step.message.channels = {channel};
    step.notifications = {n};
    EXPECT_TRUE(*store_.save_nhs_step(step, clock_.now()));
    return step.message;
  }

  std::vector<store::NotificationRecord> listed(const store::ServiceRecord& service) {
    store::NotificationQuery query;
    query.service = service.id;
    query.include_jobs = true;
    query.any_key_type = true;
    auto found = store_.list_notifications(query);
    EXPECT_TRUE(found);
    return found ? *found : std::vector<store::NotificationRecord>{};
  }

  Subject subject(std::string_view text) {
    auto parsed = parse_subject(text);
    EXPECT_TRUE(parsed) << text;
    return parsed ? *parsed : Subject{};
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  Notifications notifications_{store_, {}};
  Jobs jobs_{store_, store_, notifications_};
  Subjects subjects_{store_};
  store::ServiceRecord service_, other_;
  store::TemplateRecord email_;
};

TEST(SubjectIdentifiers, AnNhsNumberAnEmailAddressOrAMobileNumber) {
  auto nhs = parse_subject("943 476 5919");
  ASSERT_TRUE(nhs);
  EXPECT_EQ(nhs->kind, Subject::Kind::kNhsNumber);
  EXPECT_EQ(nhs->value, "9434765919");
  auto email = parse_subject("  Ada@Example.COM ");
  ASSERT_TRUE(email);
  EXPECT_EQ(email->kind, Subject::Kind::kEmail);
  EXPECT_EQ(email->normalised, "ada@example.com");
  auto phone = parse_subject("07700 900123");
  ASSERT_TRUE(phone);
  EXPECT_EQ(phone->kind, Subject::Kind::kPhone);
  EXPECT_EQ(phone->normalised, "447700900123");
  EXPECT_FALSE(parse_subject("not anyone"));
  // Stated kinds are not guessed: a wrong check digit is not an NHS number.
  EXPECT_FALSE(parse_subject(Subject::Kind::kNhsNumber, "9434765918"));
  EXPECT_FALSE(parse_subject(Subject::Kind::kEmail, "07700900123"));
}

TEST_F(SubjectsTest, AnEmailAddressFindsItsMessagesGuestListAndListRowsInThisServiceOnly) {
  const auto mine = email_to(service_, kCanary);
  email_to(service_, "someone.else@example.com");
  email_to(other_, kCanary);
  ASSERT_TRUE(Admin(store_).add_to_guest_list(service_.id, "canary.person@example.com", clock_.now()));
  ASSERT_TRUE(Admin(store_).add_to_guest_list(other_.id, kCanary, clock_.now()));
  auto job = jobs_.upload(service_.id, email_, "people.csv",
                          "email address,name\nfirst@example.com,First\ncanary.person@EXAMPLE.com,Canary\n",
                          crypto::random_uuid(), clock_.now());
  ASSERT_TRUE(job) << job.error().message;

  auto found = subjects_.find(service_.id, subject(kCanary));
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->notifications.size(), 1u);
  EXPECT_EQ(found->notifications[0].id, mine.id);
  EXPECT_EQ(found->guest_list.size(), 1u);
  ASSERT_EQ(found->list_rows.size(), 1u);
  EXPECT_EQ(found->list_rows[0].row, 3);  // the header is row 1
  EXPECT_EQ(found->list_rows[0].cells[1], (std::pair<std::string, std::string>{"name", "Canary"}));
  EXPECT_TRUE(found->nhs_messages.empty());

  // The export is JSON with every field readable, and nothing of anyone else.
  const std::string exported = Subjects::export_json(service_, subject(kCanary), *found, clock_.now());
  auto parsed = json::parse(exported);
  ASSERT_TRUE(parsed) << exported;
  EXPECT_EQ(parsed->find("notifications")->as_array().size(), 1u);
  EXPECT_NE(exported.find("secret-personalisation-Canary.Person@Example.com"), std::string::npos);
  EXPECT_EQ(exported.find("someone.else"), std::string::npos);
  EXPECT_EQ(exported.find("first@example.com"), std::string::npos);
}

TEST_F(SubjectsTest, ErasureLeavesNothingOfThePersonAndEveryoneElsesDataAsItWas) {
  const auto mine = email_to(service_, kCanary);
  const auto someone = email_to(service_, "someone.else@example.com");
  const auto theirs = email_to(other_, kCanary);
  ASSERT_TRUE(Admin(store_).add_to_guest_list(service_.id, kCanary, clock_.now()));
  auto job = jobs_.upload(service_.id, email_, "people.csv",
                          "email address,name\ncanary.person@example.com,Canary\nfirst@example.com,First\n",
                          crypto::random_uuid(), clock_.now());
  ASSERT_TRUE(job);

  auto erased = subjects_.erase(service_.id, subject(kCanary), clock_.now());
  ASSERT_TRUE(erased) << erased.error().message;
  EXPECT_EQ(erased->notifications, 1);
  EXPECT_EQ(erased->failed_pending, 1);  // it was not yet sent: it never will be
  EXPECT_EQ(erased->guest_list_entries, 1);
  EXPECT_EQ(erased->jobs, 1);

  auto after = subjects_.find(service_.id, subject(kCanary));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->total(), 0u);
  EXPECT_FALSE(*store_.find_notification(service_.id, mine.id));
  EXPECT_TRUE(*store_.find_notification(service_.id, someone.id));
  EXPECT_TRUE(*store_.find_notification(other_.id, theirs.id));
  EXPECT_EQ(subjects_.find(other_.id, subject(kCanary))->notifications.size(), 1u);
  EXPECT_FALSE(*store_.on_guest_list(service_.id, "canary.person@example.com"));

  // The list keeps its other row where it was, and sending it sends only that one.
  auto kept = store_.find_job(service_.id, job->id);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->contents.find("canary"), std::string::npos);
  EXPECT_NE((*kept)->contents.find("first@example.com,First"), std::string::npos);
  ASSERT_TRUE(*jobs_.start(service_.id, job->id, clock_.now()));
  ASSERT_TRUE(jobs_.run_once(clock_.now()));
  std::vector<std::string> recipients;
  for (const auto& n : listed(service_)) recipients.push_back(n.recipient);
  std::sort(recipients.begin(), recipients.end());
  EXPECT_EQ(recipients, (std::vector<std::string>{"first@example.com", "someone.else@example.com"}));

  // Nothing left to erase: a second request changes nothing.
  auto again = subjects_.erase(service_.id, subject(kCanary), clock_.now());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->notifications + again->guest_list_entries + again->jobs, 0);
}

TEST_F(SubjectsTest, AnNhsNumberFindsItsMessagesAndTheirChannelsAndTheirEmailFindsTheMessage) {
  const auto message = nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzM", kCanary);
  auto by_number = subjects_.find(service_.id, subject(kNhsNumber));
  ASSERT_TRUE(by_number) << by_number.error().message;
  ASSERT_EQ(by_number->nhs_messages.size(), 1u);
  EXPECT_EQ(by_number->nhs_messages[0].id, message.id);
  ASSERT_EQ(by_number->notifications.size(), 1u);
  EXPECT_EQ(by_number->notifications[0].nhs_message_id, std::optional(message.id));
  EXPECT_TRUE(subjects_.find(other_.id, subject(kNhsNumber))->nhs_messages.empty());

  auto by_email = subjects_.find(service_.id, subject(kCanary));
  ASSERT_TRUE(by_email);
  ASSERT_EQ(by_email->nhs_messages.size(), 1u);
  const std::string exported = Subjects::export_json(service_, subject(kCanary), *by_email, clock_.now());
  EXPECT_NE(exported.find("\"api\":\"nhs_notify\""), std::string::npos);
  EXPECT_NE(exported.find(kNhsNumber), std::string::npos);

  // Erased: the message is failed (its client can be told why) and no longer found.
  auto erased = subjects_.erase(service_.id, subject(kNhsNumber), clock_.now());
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->nhs_messages, 1);
  EXPECT_EQ(erased->notifications, 1);
  EXPECT_FALSE(*store_.find_nhs_message(message.client, message.id));
  EXPECT_TRUE(store_.claim_nhs_messages(10, clock_.now() + std::chrono::hours(100), std::chrono::seconds(60))->empty());
  EXPECT_EQ(subjects_.find(service_.id, subject(kCanary))->total(), 0u);
}

TEST_F(SubjectsTest, AMobileNumberFindsTheTextsReceivedFromIt) {
  store::InboundSms text{crypto::random_uuid(), service_.id,  "07700900000", "447700900123", "secret reply", "mmg",
                         std::nullopt,          clock_.now(), clock_.now()};
  text.user_number_normalised = "447700900123";
  ASSERT_TRUE(store_.insert_inbound_sms(text));
  auto found = subjects_.find(service_.id, subject("07700 900123"));
  ASSERT_TRUE(found);
  ASSERT_EQ(found->received_texts.size(), 1u);
  EXPECT_EQ(found->received_texts[0].content, "secret reply");
  auto erased = subjects_.erase(service_.id, subject("+44 7700 900123"), clock_.now());
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->inbound_sms, 1);
  EXPECT_TRUE(store_.list_inbound_sms(service_.id, std::nullopt, clock_.now() - std::chrono::hours(1), 10)->empty());
}

}  // namespace
}  // namespace herald::domain
