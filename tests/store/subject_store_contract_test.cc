// The SubjectStore contract (store/store.h): what a service holds about one person, found through
// blind indexes, and its erasure in one transaction. Run against every backend as
// store_contract_test.cc runs the rest (SQLite, PostgreSQL, and the in-memory store other unit
// tests use); raw SQL and disk scans run where there is a database (`on_disk()`).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <type_traits>

#include "crypto/random.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNhsNumber = "9990548609";
constexpr const char* kOtherNhsNumber = "9434765919";
constexpr const char* kNumber = "447700900111";  // E.164 digits, as the domain normalises them
constexpr const char* kEmail = "subject.person@example.org";

template <typename Record>
std::vector<std::string> ids_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) {
    if constexpr (std::is_same_v<decltype(r.id), std::string>) {
      out.push_back(r.id);
    } else {
      out.push_back(r.id.to_string());
    }
  }
  return out;
}

class SubjectStoreContract : public testing::TwoServicesContract {
 protected:
  // The store opened again, with cipher_ as it is now (another process, or a restart).
  void reopen() {
    store_.reset();
    auto opened = backend_->open(cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  // The service's NHS Notify client (made on first use), with a callback target.
  Uuid client(const ServiceRecord& service) {
    auto it = clients_.find(service.id.to_string());
    if (it != clients_.end()) return it->second;
    NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service.id;
    c.name = "client of " + service.name;
    c.api_key_hash = crypto::random_uuid().to_string() + crypto::random_uuid().to_string();
    c.created_at = now_;
    EXPECT_TRUE(store_->create_nhs_client(c));
    NhsCallbackTarget target;
    target.id = crypto::random_uuid();
    target.client = c.id;
    target.url = "https://receiver.example/callbacks";
    target.api_key = "callback-api-key";
    target.created_at = now_;
    EXPECT_TRUE(store_->put_nhs_callback_target(target));
    targets_[c.id.to_string()] = target.id;
    clients_.emplace(service.id.to_string(), c.id);
    return c.id;
  }
  // A stored message of `service` to `nhs_number`, created `offset` after now_, due for its
  // cascade at `due` (never, by default: tests that claim say when).
  NhsMessageRecord message(const ServiceRecord& service, std::optional<std::string> nhs_number,
                           Duration offset = Duration::zero(), std::optional<Timestamp> due = std::nullopt,
                           std::string personalisation = R"({"name":"Ada"})") {
    NhsMessageRecord m;
    m.id = "msg-" + crypto::random_uuid().to_string();
    m.client = client(service);
    m.service = service.id;
    m.message_reference = "reference of " + m.id;
    m.billing_reference = "billing";
    m.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000003");
    m.routing_plan_version = "1";
    m.nhs_number = std::move(nhs_number);
    m.personalisation_json = std::move(personalisation);
    m.contact_details_json = R"({"email":"ada@example.org"})";
    m.created_at = now_ + offset;
    m.next_step_at = due;
    auto inserted = store_->insert_nhs_message(m, now_ - 24h);
    EXPECT_TRUE(inserted && *inserted) << (inserted ? "not stored" : inserted.error().message);
    return m;
  }
  // Claims `m` (the only message due at its next step) and saves a step that sends its SMS
  // channel through a new notification and makes two callbacks; returns that notification.
  NotificationRecord step_with_notification(const NhsMessageRecord& m) {
    auto claimed = store_->claim_nhs_messages(10, *m.next_step_at, 60s);
    EXPECT_TRUE(claimed && claimed->size() == 1u);
    if (!claimed || claimed->size() != 1u) return {};
    NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
    NotificationRecord sms = fakes::sample_email(m.service, *m.next_step_at, "07700900111");
    sms.type = Channel::kSms;
    sms.template_id = TemplateId{};
    sms.recipient_normalised = kNumber;
    NhsChannelRecord channel;
    channel.type = NhsChannel::kSms;
    channel.status = NhsChannelStatus::kSending;
    channel.created_at = *m.next_step_at;
    channel.notification_id = sms.id;
    step.message.status = NhsMessageStatus::kSending;
    step.message.channels = {channel};
    step.message.next_step_at = *m.next_step_at + 72h;
    step.notifications = {sms};
    for (const char* body : {R"({"data":[1]})", R"({"data":[2]})"}) {
      NhsCallbackRecord c;
      c.target = targets_.at(m.client.to_string());
      c.client = m.client;
      c.service = m.service;
      c.message_id = m.id;
      c.body = body;
      c.created_at = *m.next_step_at;
      c.next_attempt_at = *m.next_step_at;
      step.callbacks.push_back(c);
    }
    auto saved = store_->save_nhs_step(step, *m.next_step_at);
    EXPECT_TRUE(saved && *saved) << (saved ? "claim lost" : saved.error().message);
    return sms;
  }
  // A stored email notification of `service` to `recipient`, created `offset` after now_.
  NotificationRecord notification(const ServiceRecord& service, const std::string& recipient = kEmail,
                                  Duration offset = Duration::zero()) {
    NotificationRecord r = fakes::sample_email(service.id, now_ + offset, recipient);
    r.recipient_normalised = recipient;
    auto inserted = store_->insert_notification(r);
    EXPECT_TRUE(inserted) << inserted.error().message;
    return r;
  }
  InboundSms text(const ServiceRecord& service, const std::string& number_normalised, Duration offset,
                  const std::string& content = "a text") {
    InboundSms sms;
    sms.id = crypto::random_uuid();
    sms.service = service.id;
    sms.notify_number = "07700900000";
    sms.user_number = "+" + number_normalised;
    sms.user_number_normalised = number_normalised;
    sms.content = content;
    sms.provider = "mmg";
    sms.received_at = now_ + offset;
    sms.created_at = now_ + offset;
    auto inserted = store_->insert_inbound_sms(sms);
    EXPECT_TRUE(inserted) << inserted.error().message;
    return sms;
  }
  GuestListEntry guest(const ServiceRecord& service, const std::string& recipient, Duration offset) {
    GuestListEntry entry{crypto::random_uuid(), service.id, "email", recipient, recipient, now_ + offset};
    auto added = store_->add_guest_list_entry(entry);
    EXPECT_TRUE(added) << added.error().message;
    return entry;
  }
  DocumentRecord document(const ServiceRecord& service, const std::string& content = "opaque file") {
    DocumentRecord d;
    d.id = crypto::random_uuid();
    d.service = service.id;
    d.content = content;
    d.mime_type = "application/pdf";
    d.key_hash = std::string(32, 'h');
    d.created_at = now_;
    d.expires_at = now_ + 24h * 30;
    auto inserted = store_->insert_document(d);
    EXPECT_TRUE(inserted) << inserted.error().message;
    return d;
  }
  JobRecord job(const ServiceRecord& service, const std::string& contents, Duration offset = Duration::zero()) {
    JobRecord j;
    j.id = crypto::random_uuid();
    j.service = service.id;
    j.template_id = TemplateId{crypto::random_uuid()};
    j.type = Channel::kEmail;
    j.file_name = "list.csv";
    j.contents = contents;
    j.row_count = 2;
    j.created_by = crypto::random_uuid();
    j.created_at = now_ + offset;
    auto created = store_->create_job(j);
    EXPECT_TRUE(created) << created.error().message;
    return j;
  }
  // An erasure of service A's data at now_ + 1h (nothing named yet).
  SubjectErasure erasure() const {
    SubjectErasure e;
    e.service = service_a_.id;
    e.nhs_failure_code = "HRD_ERAS_0001";
    e.nhs_failure_description = "Failed reason: the recipient's personal data was erased";
    e.now = now_ + 1h;
    return e;
  }
  ErasureOutcome erase(const SubjectErasure& e) {
    auto outcome = store_->erase_subject(e);
    EXPECT_TRUE(outcome) << outcome.error().message;
    return outcome ? *outcome : ErasureOutcome{};
  }
  std::vector<std::string> by_nhs_number(const ServiceRecord& service, const std::string& number) {
    auto found = store_->find_nhs_messages_by_nhs_number(service.id, number);
    EXPECT_TRUE(found) << found.error().message;
    return found ? ids_of(*found) : std::vector<std::string>{};
  }
  bool nhs_message_found(const NhsMessageRecord& m) {
    auto found = store_->find_nhs_message(m.client, m.id);
    EXPECT_TRUE(found) << found.error().message;
    return found && found->has_value();
  }
  static void expect_counts(const ErasureOutcome& got, const ErasureOutcome& want) {
    EXPECT_EQ(got.notifications, want.notifications);
    EXPECT_EQ(got.failed_pending, want.failed_pending);
    EXPECT_EQ(got.nhs_messages, want.nhs_messages);
    EXPECT_EQ(got.inbound_sms, want.inbound_sms);
    EXPECT_EQ(got.guest_list_entries, want.guest_list_entries);
    EXPECT_EQ(got.jobs, want.jobs);
    EXPECT_EQ(got.documents, want.documents);
  }

  std::map<std::string, Uuid> clients_;  // by service id
  std::map<std::string, Uuid> targets_;  // by client id
};

TEST_P(SubjectStoreContract, NhsMessagesAreFoundByNhsNumberAndByIdOnlyInTheirService) {
  const NhsMessageRecord later = message(service_a_, kNhsNumber, 2h);
  const NhsMessageRecord earlier = message(service_a_, kNhsNumber, -3h);
  const NhsMessageRecord someone_else = message(service_a_, kOtherNhsNumber);
  const NhsMessageRecord no_number = message(service_a_, std::nullopt);
  const NhsMessageRecord of_b = message(service_b_, kNhsNumber);

  EXPECT_EQ(by_nhs_number(service_a_, kNhsNumber), (std::vector<std::string>{earlier.id, later.id}))
      << "the person's, oldest first";
  EXPECT_EQ(by_nhs_number(service_b_, kNhsNumber), (std::vector<std::string>{of_b.id}));
  EXPECT_EQ(by_nhs_number(service_a_, kOtherNhsNumber), (std::vector<std::string>{someone_else.id}));
  EXPECT_TRUE(by_nhs_number(service_a_, "9449310610").empty());
  EXPECT_TRUE(store_->find_nhs_messages_by_nhs_number(ServiceId{crypto::random_uuid()}, kNhsNumber)->empty());

  auto found = another()->find_nhs_messages_by_nhs_number(service_a_.id, kNhsNumber);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  const NhsMessageRecord& opened = (*found)[0];
  EXPECT_EQ(opened.nhs_number, std::optional<std::string>(kNhsNumber)) << "personal fields come opened";
  EXPECT_EQ(opened.message_reference, earlier.message_reference);
  EXPECT_EQ(opened.personalisation_json, earlier.personalisation_json);
  EXPECT_EQ(opened.client, earlier.client);
  EXPECT_EQ(opened.created_at, earlier.created_at);

  // By id: in the order given; absent ids and another service's left out.
  auto by_id = store_->find_nhs_messages_by_id(service_a_.id,
                                               {no_number.id, of_b.id, "msg-absent", later.id, earlier.id, later.id});
  ASSERT_TRUE(by_id) << by_id.error().message;
  EXPECT_EQ(ids_of(*by_id), (std::vector<std::string>{no_number.id, later.id, earlier.id}));
  EXPECT_EQ(ids_of(*store_->find_nhs_messages_by_id(service_b_.id, {later.id, of_b.id})),
            (std::vector<std::string>{of_b.id}));
  EXPECT_TRUE(store_->find_nhs_messages_by_id(service_a_.id, {})->empty());
}

TEST_P(SubjectStoreContract, NotificationsAreReadBackWithWhereTheyCameFrom) {
  // An NHS message's channel, a row of a job and one sent through the API, all to one number.
  const NhsMessageRecord m = message(service_a_, kNhsNumber, Duration::zero(), now_);
  const NotificationRecord carried = step_with_notification(m);
  const NhsMessageRecord m_of_b = message(service_b_, kNhsNumber, Duration::zero(), now_ + 1min);
  const NotificationRecord carried_of_b = step_with_notification(m_of_b);
  JobRecord list = job(service_a_, "phone number\n07700900111\n07700900222\n");
  ASSERT_TRUE(*store_->start_job(service_a_.id, list.id, now_));
  NotificationRecord row = fakes::sample_email(service_a_.id, now_ + 2min, "07700900111");
  row.type = Channel::kSms;
  row.recipient_normalised = kNumber;
  NotificationRecord other_row = fakes::sample_email(service_a_.id, now_ + 2min, "07700900222");
  other_row.recipient_normalised = "447700900222";
  ASSERT_TRUE(*store_->save_job_rows(service_a_.id, list.id, 0, 2, {row, other_row}, {0, 1}, now_));
  NotificationRecord direct = fakes::sample_email(service_a_.id, now_ + 3min, "07700900111");
  direct.type = Channel::kSms;
  direct.recipient_normalised = kNumber;
  direct.nhs_message_id = "msg-not-its-own";  // inserts ignore the links
  direct.job_id = list.id;
  direct.job_row = 7;
  ASSERT_TRUE(store_->insert_notification(direct));

  auto found = another()->find_by_recipient(service_a_.id, kNumber);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 3u);
  std::map<std::string, NotificationRecord> by_id;
  for (const NotificationRecord& r : *found) by_id[r.id.to_string()] = r;
  const NotificationRecord& c = by_id.at(carried.id.to_string());
  EXPECT_EQ(c.nhs_message_id, std::optional<std::string>(m.id));
  EXPECT_FALSE(c.job_id);
  EXPECT_FALSE(c.job_row);
  const NotificationRecord& j = by_id.at(row.id.to_string());
  EXPECT_FALSE(j.nhs_message_id);
  EXPECT_EQ(j.job_id, std::optional<Uuid>(list.id));
  EXPECT_EQ(j.job_row, std::optional<int>(0));
  const NotificationRecord& d = by_id.at(direct.id.to_string());
  EXPECT_FALSE(d.nhs_message_id);
  EXPECT_FALSE(d.job_id);
  EXPECT_FALSE(d.job_row);

  // The notifications carrying the messages' channels: only the service's, with their message.
  auto carrying = store_->notifications_for_nhs_messages(service_a_.id, {m.id, m_of_b.id, "msg-absent"});
  ASSERT_TRUE(carrying) << carrying.error().message;
  ASSERT_EQ(carrying->size(), 1u);
  EXPECT_EQ((*carrying)[0].id, carried.id);
  EXPECT_EQ((*carrying)[0].recipient, "07700900111") << "personal fields come opened";
  EXPECT_EQ((*carrying)[0].nhs_message_id, std::optional<std::string>(m.id));
  carrying = store_->notifications_for_nhs_messages(service_b_.id, {m.id, m_of_b.id});
  ASSERT_TRUE(carrying);
  ASSERT_EQ(carrying->size(), 1u);
  EXPECT_EQ((*carrying)[0].id, carried_of_b.id);
  EXPECT_TRUE(store_->notifications_for_nhs_messages(service_a_.id, {})->empty());
}

TEST_P(SubjectStoreContract, NotificationsCarryingAMessageAreOldestFirstAndRedactedOnesLeftOut) {
  const NhsMessageRecord m = message(service_a_, kNhsNumber, Duration::zero(), now_);
  const NotificationRecord first = step_with_notification(m);
  // The cascade's next step (due again at once after the first step's outcome) sends another.
  DeliveryOutcome outcome{
      first.id, NotificationStatus::kTechnicalFailure, now_ + 1h, std::nullopt, std::nullopt, std::string("mmg"), true};
  ASSERT_TRUE(store_->record_outcome(outcome));
  NhsMessageRecord again = m;
  again.next_step_at = now_ + 1h;
  const NotificationRecord second = step_with_notification(again);
  auto carrying = store_->notifications_for_nhs_messages(service_a_.id, {m.id});
  ASSERT_TRUE(carrying) << carrying.error().message;
  EXPECT_EQ(ids_of(*carrying), (std::vector<std::string>{first.id.to_string(), second.id.to_string()}));

  ASSERT_TRUE(store_->redact_before(service_a_.id, now_ + 30min, now_ + 2h));
  carrying = store_->notifications_for_nhs_messages(service_a_.id, {m.id});
  ASSERT_TRUE(carrying);
  EXPECT_EQ(ids_of(*carrying), (std::vector<std::string>{second.id.to_string()})) << "redacted ones are gone";
}

TEST_P(SubjectStoreContract, ReceivedTextsAndGuestListEntriesAreFoundByTheNumberOrAddress) {
  const InboundSms older = text(service_a_, kNumber, -2h);
  const InboundSms newer = text(service_a_, kNumber, 1h);
  text(service_a_, "447700900999", Duration::zero());
  text(service_b_, kNumber, Duration::zero());
  text(service_a_, "", Duration::zero());  // not indexed: never found

  auto texts = another()->find_inbound_sms_by_number(service_a_.id, kNumber);
  ASSERT_TRUE(texts) << texts.error().message;
  EXPECT_EQ(ids_of(*texts), (std::vector<std::string>{newer.id.to_string(), older.id.to_string()}))
      << "the person's, newest first";
  ASSERT_EQ(texts->size(), 2u);
  EXPECT_EQ((*texts)[0].user_number, "+447700900111") << "personal fields come opened";
  EXPECT_EQ((*texts)[0].content, "a text");
  EXPECT_TRUE(store_->find_inbound_sms_by_number(service_a_.id, "")->empty());
  EXPECT_TRUE(store_->find_inbound_sms_by_number(ServiceId{crypto::random_uuid()}, kNumber)->empty());
  // What lists them says nothing of the index.
  auto listed = store_->list_inbound_sms(service_a_.id, std::nullopt, now_ - 24h, 10);
  ASSERT_TRUE(listed);
  for (const InboundSms& sms : *listed) EXPECT_EQ(sms.user_number_normalised, "");

  const GuestListEntry later = guest(service_a_, kEmail, 1h);
  const GuestListEntry earlier = guest(service_a_, kEmail, -1h);
  guest(service_a_, "someone.else@example.org", Duration::zero());
  guest(service_b_, kEmail, Duration::zero());
  auto entries = another()->find_guest_list_entries(service_a_.id, kEmail);
  ASSERT_TRUE(entries) << entries.error().message;
  EXPECT_EQ(ids_of(*entries), (std::vector<std::string>{earlier.id.to_string(), later.id.to_string()}))
      << "the person's, oldest first";
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].recipient, kEmail);
  EXPECT_EQ((*entries)[0].recipient_type, "email");
  EXPECT_EQ((*entries)[0].service, service_a_.id);
  EXPECT_EQ((*entries)[0].created_at, earlier.created_at);
  EXPECT_TRUE(store_->find_guest_list_entries(service_b_.id, "someone.else@example.org")->empty());
}

// Messages stored before schema 23 have an NHS number but no index yet (the migration marks them
// with an empty one): the store indexes them when it opens. An index retention cleared stays
// cleared.
TEST_P(SubjectStoreContract, NhsNumbersStoredBeforeTheIndexAreIndexedWhenTheStoreOpens) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored rows; the in-memory store has none";
  const NhsMessageRecord legacy = message(service_a_, kNhsNumber, -2h);
  const NhsMessageRecord legacy_of_b = message(service_b_, kNhsNumber, -2h);
  const NhsMessageRecord retained = message(service_a_, kNhsNumber, -1h);
  for (const NhsMessageRecord* m : {&legacy, &legacy_of_b}) {
    ASSERT_TRUE(backend_->raw_exec("UPDATE nhs_messages SET nhs_number_index = ? WHERE id = ?",
                                   {{std::string(), true}, {m->id}}));
  }
  ASSERT_TRUE(backend_->raw_exec("UPDATE nhs_messages SET nhs_number_index = NULL WHERE id = ?", {{retained.id}}));
  EXPECT_TRUE(by_nhs_number(service_a_, kNhsNumber).empty()) << "not indexed yet";

  reopen();
  EXPECT_EQ(by_nhs_number(service_a_, kNhsNumber), (std::vector<std::string>{legacy.id}))
      << "indexed now; the one whose index was cleared stays unfound";
  EXPECT_EQ(by_nhs_number(service_b_, kNhsNumber), (std::vector<std::string>{legacy_of_b.id}))
      << "in its own service's domain";
  EXPECT_TRUE(nhs_message_found(legacy));
  reopen();
  EXPECT_EQ(by_nhs_number(service_a_, kNhsNumber), (std::vector<std::string>{legacy.id}));
}

TEST_P(SubjectStoreContract, RetentionClearsTheNhsNumbersIndexOfOldMessages) {
  const NhsMessageRecord old_one = message(service_a_, kNhsNumber, -48h);
  const NhsMessageRecord recent = message(service_a_, kNhsNumber, -1h);
  const NhsMessageRecord of_b = message(service_b_, kNhsNumber, -48h);
  auto outcome = store_->redact_before(service_a_.id, now_ - 24h, now_);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(by_nhs_number(service_a_, kNhsNumber), (std::vector<std::string>{recent.id}));
  EXPECT_EQ(by_nhs_number(service_b_, kNhsNumber), (std::vector<std::string>{of_b.id})) << "another service's";
  EXPECT_TRUE(nhs_message_found(old_one)) << "the message stays until its data key goes";
  if (backend_->on_disk()) {
    reopen();
    EXPECT_EQ(by_nhs_number(service_a_, kNhsNumber), (std::vector<std::string>{recent.id}))
        << "opening the store never indexes again what retention un-indexed";
  }
}

TEST_P(SubjectStoreContract, ErasureEmptiesNotificationsAndFailsUndeliveredOnesForGood) {
  ASSERT_TRUE(store_->set_service_callback(
      {service_a_.id, CallbackKind::kDeliveryStatus, "https://hooks.example/", "token-123456789", now_}));
  const NotificationRecord undelivered = notification(service_a_);
  const NotificationRecord delivered = notification(service_a_);
  ASSERT_TRUE(store_->record_outcome(
      {delivered.id, NotificationStatus::kDelivered, now_ + 1s, now_, std::nullopt, std::string("smtp"), true}));
  const NotificationRecord letter = [&] {
    NotificationRecord r = fakes::sample_email(service_a_.id, now_, "1 Example Road\nLondon");
    r.type = Channel::kLetter;
    EXPECT_TRUE(store_->put_letter_pdf(service_a_.id, r.id, r.created_at, "%PDF-1.7 letter"));
    EXPECT_TRUE(store_->insert_notification(r));
    return r;
  }();
  const NotificationRecord kept = notification(service_a_, "someone.else@example.org");
  const NotificationRecord of_b = notification(service_b_);

  SubjectErasure e = erasure();
  e.notifications = {undelivered.id, delivered.id, letter.id, of_b.id, NotificationId{crypto::random_uuid()}};
  expect_counts(erase(e), {.notifications = 3, .failed_pending = 2});

  for (const NotificationRecord* r : {&undelivered, &delivered, &letter}) {
    EXPECT_FALSE(*store_->find_notification(service_a_.id, r->id)) << "no longer found by id";
  }
  EXPECT_FALSE(*store_->find_letter_pdf(service_a_.id, letter.id)) << "its PDF is deleted";
  EXPECT_TRUE(store_->find_by_recipient(service_a_.id, kEmail)->empty()) << "nor by its blind index";
  NotificationQuery query;
  query.service = service_a_.id;
  EXPECT_EQ(ids_of(*store_->list_notifications(query)), (std::vector<std::string>{kept.id.to_string()}));
  // The undelivered ones failed for good: never claimed, no callback due for any of them.
  auto due = store_->claim_due(10, now_ + 24h, 60s);
  ASSERT_TRUE(due) << due.error().message;
  std::vector<std::string> claimed = ids_of(*due);
  std::sort(claimed.begin(), claimed.end());
  std::vector<std::string> still_due = {kept.id.to_string(), of_b.id.to_string()};
  std::sort(still_due.begin(), still_due.end());
  EXPECT_EQ(claimed, still_due);
  EXPECT_TRUE(store_->claim_callbacks(10, now_ + 24h, 60s)->empty());
  // Ids, statuses and times stay, for counts.
  auto daily = store_->daily_status_counts(service_a_.id, now_ - 24h, now_ + 24h);
  ASSERT_TRUE(daily) << daily.error().message;
  std::map<NotificationStatus, std::int64_t> counts;
  for (const DailyStatusCount& c : *daily) counts[c.status] += c.count;
  EXPECT_EQ(counts[NotificationStatus::kTechnicalFailure], 2);
  EXPECT_EQ(counts[NotificationStatus::kDelivered], 1);
  EXPECT_EQ(counts[NotificationStatus::kSending], 1) << "the one claimed above";

  // Another service's notification named in the erasure is untouched.
  auto b = store_->find_notification(service_b_.id, of_b.id);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->recipient, kEmail);
  EXPECT_EQ((*b)->status, NotificationStatus::kSending) << "claimed above, as any other";
  EXPECT_EQ(store_->find_by_recipient(service_b_.id, kEmail)->size(), 1u);

  SCOPED_TRACE("erasing twice changes nothing the second time");
  expect_counts(erase(e), {});
}

TEST_P(SubjectStoreContract, ErasedNhsMessageIsSettledNeverClaimedOrFoundAndLosesItsEventsAndCallbacks) {
  const NhsMessageRecord m = message(service_a_, kNhsNumber, Duration::zero(), now_);
  const NotificationRecord carried = step_with_notification(m);
  // Another, claimed by a cascade step that is still running when the erasure comes.
  const NhsMessageRecord in_step = message(service_a_, kNhsNumber, 1s, now_ + 2h);
  auto held = store_->claim_nhs_messages(10, now_ + 2h, 10min);
  ASSERT_TRUE(held && held->size() == 1u);
  ASSERT_EQ((*held)[0].message.id, in_step.id);
  ASSERT_TRUE(*store_->add_nhs_channel_event({0, m.id, NhsChannel::kNhsApp, "read", now_ + 1min}));
  // One of its callbacks given up (dead), the other still pending.
  auto callbacks = store_->claim_nhs_callbacks(10, now_, 60s);
  ASSERT_TRUE(callbacks && callbacks->size() == 2u);
  ASSERT_TRUE(store_->finish_nhs_callback(
      {(*callbacks)[0].id, NhsCallbackAttempt::Outcome::kDead, now_, std::nullopt, std::string("HTTP 500")}));
  ASSERT_TRUE(store_->finish_nhs_callback(
      {(*callbacks)[1].id, NhsCallbackAttempt::Outcome::kRetry, now_, now_ + 1min, std::string("HTTP 503")}));
  const NhsMessageRecord of_b = message(service_b_, kNhsNumber, Duration::zero(), now_ + 3h);

  SubjectErasure e = erasure();
  e.nhs_messages = {m.id, in_step.id, of_b.id, "msg-absent"};
  // The notification that carries m's channel goes with m, named or not.
  expect_counts(erase(e), {.notifications = 1, .failed_pending = 1, .nhs_messages = 2});

  for (const NhsMessageRecord* erased : {&m, &in_step}) EXPECT_FALSE(nhs_message_found(*erased));
  EXPECT_TRUE(store_->find_nhs_messages_by_id(service_a_.id, {m.id, in_step.id})->empty());
  EXPECT_TRUE(by_nhs_number(service_a_, kNhsNumber).empty());
  EXPECT_TRUE(store_->notifications_for_nhs_messages(service_a_.id, {m.id})->empty());
  EXPECT_FALSE(*store_->find_notification(service_a_.id, carried.id));
  // Settled: never claimed again, not even once woken, and the step that held one saves nothing.
  EXPECT_FALSE(*store_->add_nhs_channel_event({0, m.id, NhsChannel::kNhsApp, "read", now_ + 4h}))
      << "an erased message takes no events";
  NhsCascadeStep late{(*held)[0].message, (*held)[0].claim, {}};
  late.message.status = NhsMessageStatus::kSending;
  late.message.next_step_at = now_ + 5h;
  EXPECT_FALSE(*store_->save_nhs_step(late, now_ + 2h + 1min)) << "its claim is gone";
  auto claimed = store_->claim_nhs_messages(10, now_ + 24h * 30, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::vector<std::string> due;
  for (const NhsMessageClaim& c : *claimed) due.push_back(c.message.id);
  EXPECT_EQ(due, (std::vector<std::string>{of_b.id})) << "only another service's message is still due";
  EXPECT_TRUE(store_->claim_nhs_callbacks(10, now_ + 24h, 60s)->empty()) << "its pending callback is gone";
  EXPECT_TRUE(store_->dead_nhs_callbacks(std::nullopt, 10)->empty()) << "and its dead one";

  // Another service's message named in the erasure is untouched.
  auto b = store_->find_nhs_message(of_b.client, of_b.id);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->nhs_number, std::optional<std::string>(kNhsNumber));
  EXPECT_EQ(by_nhs_number(service_b_, kNhsNumber), (std::vector<std::string>{of_b.id}));

  SCOPED_TRACE("erasing twice changes nothing the second time");
  expect_counts(erase(e), {});
}

TEST_P(SubjectStoreContract, ErasureDeletesTextsGuestListEntriesAndDocumentsOfItsServiceOnly) {
  const InboundSms sms = text(service_a_, kNumber, Duration::zero());
  const InboundSms sms_of_b = text(service_b_, kNumber, Duration::zero());
  const GuestListEntry entry = guest(service_a_, kEmail, Duration::zero());
  const GuestListEntry entry_of_b = guest(service_b_, kEmail, Duration::zero());
  const DocumentRecord file = document(service_a_);
  const DocumentRecord file_of_b = document(service_b_);

  SubjectErasure e = erasure();
  e.inbound_sms = {sms.id, sms_of_b.id, crypto::random_uuid()};
  e.guest_list_entries = {entry.id, entry_of_b.id};
  e.documents = {file.id, file_of_b.id, file.id};
  expect_counts(erase(e), {.inbound_sms = 1, .guest_list_entries = 1, .documents = 1});

  EXPECT_TRUE(store_->find_inbound_sms_by_number(service_a_.id, kNumber)->empty());
  EXPECT_TRUE(store_->list_inbound_sms(service_a_.id, std::nullopt, now_ - 24h, 10)->empty());
  EXPECT_FALSE(*store_->on_guest_list(service_a_.id, kEmail));
  EXPECT_TRUE(store_->find_guest_list_entries(service_a_.id, kEmail)->empty());
  EXPECT_FALSE(*store_->find_document(service_a_.id, file.id, now_));

  EXPECT_EQ(store_->find_inbound_sms_by_number(service_b_.id, kNumber)->size(), 1u);
  EXPECT_TRUE(*store_->on_guest_list(service_b_.id, kEmail));
  EXPECT_TRUE(*store_->find_document(service_b_.id, file_of_b.id, now_));

  SCOPED_TRACE("erasing twice changes nothing the second time");
  expect_counts(erase(e), {});
}

TEST_P(SubjectStoreContract, ErasureReplacesAJobsContentsAsCreateJobSealsThem) {
  // Retention emptied this one's file already (created before its cutoff).
  const JobRecord emptied = job(service_a_, "email address\nsubject.person@example.org\n", -48h);
  ASSERT_TRUE(store_->redact_before(service_a_.id, now_ - 24h, now_));
  const JobRecord list = job(service_a_, "email address\nsubject.person@example.org\nother@example.org\n");
  const JobRecord list_of_b = job(service_b_, "email address\nsubject.person@example.org\n");
  const std::string blanked = "email address\n\nother@example.org\n";

  SubjectErasure e = erasure();
  e.job_contents = {{list.id, blanked},
                    {list_of_b.id, "email address\n\n"},
                    {emptied.id, "email address\n\n"},
                    {crypto::random_uuid(), "no such job"},
                    {list.id, "a second mention is ignored"}};
  expect_counts(erase(e), {.jobs = 1});

  auto found = another()->find_job(service_a_.id, list.id);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  EXPECT_EQ((*found)->contents, blanked) << "sealed as create_job seals it: it opens";
  EXPECT_EQ((*found)->file_name, "list.csv");
  EXPECT_EQ((*found)->row_count, 2);
  EXPECT_EQ((*found)->status, JobStatus::kPending);
  auto left = store_->find_job(service_a_.id, emptied.id);
  ASSERT_TRUE(left && *left);
  EXPECT_EQ((*left)->contents, "") << "retention emptied it: left as it is";
  auto of_b = store_->find_job(service_b_.id, list_of_b.id);
  ASSERT_TRUE(of_b && *of_b);
  EXPECT_EQ((*of_b)->contents, list_of_b.contents) << "another service's job is untouched";

  SCOPED_TRACE("the same contents again change nothing");
  expect_counts(erase(e), {});
}

// The erased person's plain text must not stay in the database file: SQLite overwrites what an
// update frees (secure_delete) and folds the WAL in on close. Shown with a cipher that stores
// plain text, so that the scan would see what is left (it does, before the erasure).
TEST_P(SubjectStoreContract, ErasedPlainTextIsGoneFromTheSqliteFile) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "about SQLite's file; PostgreSQL keeps old row versions until VACUUM";
  cipher_ = std::make_shared<crypto::FieldCipher>(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                                  crypto::FieldCipher::Mode::kPlaintextForTest);
  reopen();
  const std::vector<std::string> canaries = {"canary-recipient-4e1a", "canary-nhs-5f2b", "canary-text-6a3c",
                                             "canary-guest-7b4d",     "canary-row-8c5e", "canary-pdf-9d6f"};
  NotificationRecord letter = fakes::sample_email(service_a_.id, now_, "1 Canary Road canary-recipient-4e1a");
  letter.type = Channel::kLetter;
  letter.recipient_normalised = "canary-recipient-4e1a";
  ASSERT_TRUE(store_->put_letter_pdf(service_a_.id, letter.id, now_, "%PDF-1.7 canary-pdf-9d6f"));
  ASSERT_TRUE(store_->insert_notification(letter));
  const NhsMessageRecord m =
      message(service_a_, kNhsNumber, Duration::zero(), std::nullopt, R"({"name":"canary-nhs-5f2b"})");
  const InboundSms sms = text(service_a_, kNumber, Duration::zero(), "canary-text-6a3c");
  const GuestListEntry entry = guest(service_a_, "canary-guest-7b4d@example.org", Duration::zero());
  const JobRecord list = job(service_a_, "email address\ncanary-row-8c5e@example.org\n");
  const std::string before = backend_->raw_bytes();
  for (const std::string& canary : canaries) {
    EXPECT_NE(before.find(canary), std::string::npos) << "the scan must see " << canary << " before the erasure";
  }

  SubjectErasure e = erasure();
  e.notifications = {letter.id};
  e.nhs_messages = {m.id};
  e.inbound_sms = {sms.id};
  e.guest_list_entries = {entry.id};
  e.job_contents = {{list.id, "email address\n\n"}};
  expect_counts(erase(e), {.notifications = 1,
                           .failed_pending = 1,
                           .nhs_messages = 1,
                           .inbound_sms = 1,
                           .guest_list_entries = 1,
                           .jobs = 1});
  store_.reset();  // checkpoints the WAL into the file and truncates it
  const std::string after = backend_->raw_bytes();
  for (const std::string& canary : canaries) {
    EXPECT_EQ(after.find(canary), std::string::npos) << canary << " is still in the database's files";
  }
  reopen();
}

INSTANTIATE_TEST_SUITE_P(Backends, SubjectStoreContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
