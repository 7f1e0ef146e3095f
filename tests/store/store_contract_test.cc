// The Store contract (store/store.h), run against every backend: SQLite, PostgreSQL, and the
// in-memory store other unit tests use (tests/fakes/memory_store.h). Checks of what reaches the
// disk (canary scans, raw SQL, key tables) run where there is one (`on_disk()`).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/random.h"
#include "domain/lifecycle.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;
using testing::RawParam;

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = testing::make_backend(GetParam());
    cipher_ = std::make_shared<crypto::FieldCipher>(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                                    crypto::FieldCipher::Mode::kEncrypt);
    reopen();
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Service A";
    service_.email_sender_local_part = "service.a";
    service_.created_at = now_;
    ASSERT_TRUE(store_->create_service(service_));
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
  }
  void reopen() {
    store_.reset();
    auto opened = backend_->open(cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  // PostgreSQL: rewrites `table` (VACUUM FULL, as an operator does once after upgrading) until
  // `needle` is gone from its file, or 5 s pass. VACUUM FULL keeps a row version any transaction
  // might still see, and under ctest -j another test's connection being set up holds that horizon
  // back for a moment (CI failed on it once); the operator's rewrite does not race that.
  // SQLite: nothing to do (secure_delete, and the WAL checkpointed when the store closes).
  void rewrite_until_gone(const std::string& table, const std::string& needle) {
    if (GetParam() != "postgres") return;
    for (int pass = 0; pass < 25; ++pass) {
      if (pass > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ASSERT_TRUE(backend_->raw_exec("VACUUM FULL " + table, {}));
      if (backend_->table_bytes(table).find(needle) == std::string::npos) return;
    }
  }
  // Another store on the same database: what another process or node sees.
  std::shared_ptr<Store> another() {
    auto opened = backend_->open(cipher_, now_);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  // The database's bytes on disk for a canary scan; nullopt for the in-memory store.
  std::optional<std::string> disk() {
    if (!backend_->on_disk()) return std::nullopt;
    return backend_->raw_bytes();
  }
  NotificationRecord notification(std::string recipient = "person@example.com") {
    return fakes::sample_email(service_.id, now_, std::move(recipient));
  }
  // A new NHS client's message `id`, stored and due for its cascade at now_ (id empty on failure).
  NhsMessageRecord due_nhs_message(std::string id) {
    NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_.id;
    c.name = "client";
    c.api_key_hash = std::string(64, id.back());
    c.created_at = now_;
    NhsMessageRecord m;
    m.id = std::move(id);
    m.client = c.id;
    m.service = service_.id;
    m.message_reference = "ref-1";
    m.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000003");
    m.routing_plan_version = "1";
    m.nhs_number = "9990548609";
    m.created_at = now_;
    m.next_step_at = now_;
    auto inserted = store_->create_nhs_client(c) ? store_->insert_nhs_message(m, now_ - std::chrono::hours(1))
                                                 : Result<bool>(false);
    if (!inserted || !*inserted) m.id.clear();
    return m;
  }

  std::unique_ptr<testing::Backend> backend_;
  std::shared_ptr<crypto::FieldCipher> cipher_;
  std::shared_ptr<Store> store_;
  ServiceRecord service_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_P(StoreContract, NotificationRoundTripsAndIsEncryptedOnDisk) {
  auto r = notification("canary.7f3a@example.org");
  r.reference = "NHS-943-476-5919";                           // services put patient identifiers here
  r.postage = "marker-" + crypto::random_uuid().to_string();  // plain text, to find the row on disk
  ASSERT_TRUE(store_->insert_notification(r));
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->recipient, "canary.7f3a@example.org");
  EXPECT_EQ((*found)->reference, r.reference);
  EXPECT_EQ((*found)->personalisation_json, R"({"name":"Ada"})");
  EXPECT_EQ((*found)->status, NotificationStatus::kCreated);
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("canary.7f3a"), std::string::npos);
    EXPECT_EQ(disk->find("943-476-5919"), std::string::npos);
    EXPECT_NE(disk->find(*r.postage), std::string::npos)
        << "the row itself must be on disk, or the scan proves nothing";
  }
}

// Every status and channel is stored under its one name and read back as itself, and a filter
// on one status finds exactly the notification in it.
TEST_P(StoreContract, EveryStatusAndChannelRoundTrips) {
  std::vector<std::pair<NotificationId, NotificationStatus>> stored;
  std::size_t i = 0;
  for (NotificationStatus status : kAllStatuses) {
    auto r = notification("round.trip@example.org");
    r.status = status;
    r.type = kAllChannels[i++ % std::size(kAllChannels)];
    r.created_at = now_ + std::chrono::seconds(i);
    ASSERT_TRUE(store_->insert_notification(r)) << status_name(status);
    auto found = store_->find_notification(service_.id, r.id);
    ASSERT_TRUE(found && *found) << status_name(status);
    EXPECT_EQ((*found)->status, status) << status_name(status);
    EXPECT_EQ((*found)->type, r.type) << status_name(status);
    stored.emplace_back(r.id, status);
  }
  for (const auto& [id, status] : stored) {
    NotificationQuery query;
    query.service = service_.id;
    query.statuses = {status};
    auto page = store_->list_notifications(query);
    ASSERT_TRUE(page) << status_name(status);
    ASSERT_EQ(page->size(), 1u) << status_name(status);
    EXPECT_EQ((*page)[0].id, id) << status_name(status);
  }
  for (NotificationStatus status : kAllStatuses) EXPECT_EQ(parse_status(status_name(status)), status);
  for (Channel channel : kAllChannels) EXPECT_EQ(parse_channel(channel_name(channel)), channel);
  EXPECT_FALSE(parse_status("failed")) << "an API alias, not a status";
  EXPECT_FALSE(parse_channel("Email"));
}

TEST_P(StoreContract, OtherServiceCannotSeeNotification) {
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  auto found = store_->find_notification(ServiceId{crypto::random_uuid()}, r.id);
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_P(StoreContract, ClaimLeaseRetryAndOutcome) {
  auto a = notification();
  auto simulated = notification();
  simulated.queued = false;
  ASSERT_TRUE(store_->insert_notification(a));
  ASSERT_TRUE(store_->insert_notification(simulated));
  auto claimed = store_->claim_due(10, now_, 60s);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u) << "simulated recipients are never queued";
  EXPECT_EQ((*claimed)[0].id, a.id);
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].status, NotificationStatus::kSending);
  EXPECT_TRUE(store_->claim_due(10, now_ + 59s, 60s)->empty()) << "held by its lease";
  auto again = store_->claim_due(10, now_ + 61s, 60s);  // the worker died: lease expired
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);

  ASSERT_TRUE(store_->record_outcome(
      {a.id, NotificationStatus::kSending, now_ + 62s, std::nullopt, now_ + 100s, std::nullopt}));
  EXPECT_TRUE(store_->claim_due(10, now_ + 99s, 60s)->empty()) << "retry not yet due";
  ASSERT_EQ(store_->claim_due(10, now_ + 100s, 60s)->size(), 1u);
  ASSERT_TRUE(
      store_->record_outcome({a.id, NotificationStatus::kDelivered, now_ + 101s, now_ + 101s, std::nullopt, "smtp"}));
  EXPECT_TRUE(store_->claim_due(10, now_ + 1000s, 60s)->empty()) << "final statuses are never claimed";
  auto done = *store_->find_notification(service_.id, a.id);
  EXPECT_EQ(done->status, NotificationStatus::kDelivered);
  EXPECT_EQ(done->sent_at, now_ + 101s);
}

TEST_P(StoreContract, SurvivesReopenAndMigrationsAreIdempotent) {
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  reopen();
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_TRUE(found && *found);
}

TEST_P(StoreContract, ApiKeySecretEncryptedAndReadBack) {
  ApiKeyRecord key{ApiKeyId{crypto::random_uuid()}, service_.id, "k", KeyType::kTeam,
                   "8b3f3c1e-aaaa-bbbb-cccc-000011112222", now_, std::nullopt};
  ASSERT_TRUE(store_->create_api_key(key));
  auto keys = store_->api_keys_for_service(service_.id);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].secret, key.secret);
  EXPECT_EQ((*keys)[0].type, KeyType::kTeam);
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("8b3f3c1e-aaaa"), std::string::npos);
  }
}

TEST_P(StoreContract, TemplatesAreScopedToTheirService) {
  TemplateRecord t{TemplateId{crypto::random_uuid()},
                   service_.id,
                   "T",
                   Channel::kEmail,
                   "S ((x))",
                   "B ((y))",
                   1,
                   false,
                   now_,
                   std::nullopt,
                   "cli"};
  ASSERT_TRUE(store_->create_template(t));
  auto found = store_->find_template(service_.id, t.id, std::nullopt);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->body, "B ((y))");
  EXPECT_TRUE(*store_->find_template(service_.id, t.id, 1));
  EXPECT_FALSE(*store_->find_template(service_.id, t.id, 2));
  EXPECT_FALSE(*store_->find_template(ServiceId{crypto::random_uuid()}, t.id, std::nullopt));
}

TEST_P(StoreContract, LetterTemplatesKeepPostageAndContactPerVersion) {
  const std::string contact = crypto::random_uuid().to_string();
  TemplateRecord t{TemplateId{crypto::random_uuid()},
                   service_.id,
                   "Letter",
                   Channel::kLetter,
                   "Heading",
                   "Body",
                   1,
                   false,
                   now_,
                   std::nullopt,
                   "cli",
                   "first",
                   contact};
  ASSERT_TRUE(store_->create_template(t));
  TemplateRecord v2 = t;
  v2.version = 2;
  v2.postage = "economy";
  v2.letter_contact_id.reset();
  v2.created_at = now_ + 1s;
  ASSERT_TRUE(store_->add_template_version(v2));
  auto first = *store_->find_template(service_.id, t.id, 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->postage, "first");
  EXPECT_EQ(first->letter_contact_id, contact);
  auto listed = *store_->templates_for_service(service_.id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].postage, "economy");
  EXPECT_FALSE(listed[0].letter_contact_id);
}

TEST_P(StoreContract, TemplateVersionsAreKeptAndArchivedTemplatesAreNotListed) {
  TemplateRecord t{TemplateId{crypto::random_uuid()},
                   service_.id,
                   "B name",
                   Channel::kEmail,
                   "S1",
                   "Body 1",
                   1,
                   false,
                   now_,
                   std::nullopt,
                   "one@example.com"};
  ASSERT_TRUE(store_->create_template(t));
  TemplateRecord v2 = t;
  v2.version = 2;
  v2.body = "Body 2";
  v2.name = "A name";
  v2.created_at = now_ + 1h;
  v2.created_by = "two@example.com";
  ASSERT_TRUE(store_->add_template_version(v2));
  auto again = store_->add_template_version(v2);
  ASSERT_FALSE(again) << "a second edit from the same base version must not overwrite the first";
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  TemplateRecord foreign = v2;
  foreign.service = ServiceId{crypto::random_uuid()};
  foreign.version = 3;
  EXPECT_EQ(store_->add_template_version(foreign).error().code, ErrorCode::kNotFound);

  auto latest = *store_->find_template(service_.id, t.id, std::nullopt);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->body, "Body 2");
  EXPECT_EQ(latest->created_by, "two@example.com");
  EXPECT_EQ(latest->created_at, now_) << "created_at is the template's";
  EXPECT_EQ(latest->updated_at, now_ + 1h) << "updated_at is this version's";
  auto first = *store_->find_template(service_.id, t.id, 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "Body 1");
  EXPECT_EQ(first->name, "B name");
  EXPECT_FALSE(first->updated_at);

  TemplateRecord other{TemplateId{crypto::random_uuid()},
                       service_.id,
                       "C name",
                       Channel::kSms,
                       "",
                       "Text",
                       1,
                       false,
                       now_,
                       std::nullopt,
                       "one@example.com"};
  ASSERT_TRUE(store_->create_template(other));
  auto listed = *store_->templates_for_service(service_.id);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, t.id) << "by name, latest versions";
  EXPECT_EQ(listed[0].version, 2);
  EXPECT_EQ(listed[1].type, Channel::kSms);

  ASSERT_TRUE(store_->set_template_archived(service_.id, t.id, true));
  listed = *store_->templates_for_service(service_.id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, other.id);
  auto archived = *store_->find_template(service_.id, t.id, std::nullopt);
  ASSERT_TRUE(archived);
  EXPECT_TRUE(archived->archived);
  EXPECT_EQ(store_->set_template_archived(ServiceId{crypto::random_uuid()}, t.id, false).error().code,
            ErrorCode::kNotFound);
}

TEST_P(StoreContract, NotificationPagesAreNewestFirstFilteredAndScoped) {
  // 7 live notifications, two of them in the same microsecond, plus others that must not show.
  std::vector<NotificationRecord> live;
  for (int i = 0; i < 7; ++i) {
    auto r = notification();
    r.created_at = now_ + std::chrono::seconds(i == 6 ? 5 : i);
    r.type = i % 2 == 0 ? Channel::kEmail : Channel::kSms;
    r.status = i < 3 ? NotificationStatus::kDelivered : NotificationStatus::kCreated;
    r.reference = i == 4 ? std::optional<std::string>("wanted") : std::nullopt;
    r.queued = false;
    ASSERT_TRUE(store_->insert_notification(r));
    live.push_back(r);
  }
  auto test_key = notification();
  test_key.key_type = KeyType::kTest;
  auto foreign = notification();
  foreign.service = ServiceId{crypto::random_uuid()};
  auto old = notification();
  old.created_at = now_ - 10 * 24h;
  for (const auto* r : {&test_key, &foreign, &old}) ASSERT_TRUE(store_->insert_notification(*r));
  ASSERT_TRUE(store_->redact_before(service_.id, now_ - 24h, now_));

  const auto ids = [](const std::vector<NotificationRecord>& rows) {
    std::vector<NotificationId> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  // Expected order: created_at desc, then id desc among the two at +5 s.
  std::vector<NotificationRecord> expected = live;
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
  });

  NotificationQuery q;
  q.service = service_.id;
  auto all = store_->list_notifications(q);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(ids(*all), ids(expected));
  EXPECT_EQ((*all)[0].recipient, "person@example.com") << "rows come back decrypted";

  // Paging by older_than, 2 at a time, never skips or repeats (ties included).
  std::vector<NotificationId> paged;
  q.limit = 2;
  while (true) {
    auto page = *store_->list_notifications(q);
    if (page.empty()) break;
    for (const auto& r : page) paged.push_back(r.id);
    q.older_than = page.back().id;
  }
  EXPECT_EQ(paged, ids(expected));

  NotificationQuery sms;
  sms.service = service_.id;
  sms.types = {Channel::kSms};
  sms.statuses = {NotificationStatus::kCreated, NotificationStatus::kSending};
  const auto texts = store_->list_notifications(sms);
  ASSERT_TRUE(texts);
  for (const auto& r : *texts) {
    EXPECT_EQ(r.type, Channel::kSms);
    EXPECT_EQ(r.status, NotificationStatus::kCreated);
  }
  EXPECT_EQ(texts->size(), 2u);

  NotificationQuery by_reference;
  by_reference.service = service_.id;
  by_reference.reference = "wanted";
  EXPECT_EQ(ids(*store_->list_notifications(by_reference)), std::vector<NotificationId>{live[4].id});

  NotificationQuery test_keys;
  test_keys.service = service_.id;
  test_keys.key_type = KeyType::kTest;
  EXPECT_EQ(ids(*store_->list_notifications(test_keys)), std::vector<NotificationId>{test_key.id});

  NotificationQuery unknown;
  unknown.service = service_.id;
  unknown.older_than = foreign.id;  // another service's notification: as if unknown
  EXPECT_TRUE(store_->list_notifications(unknown)->empty());
  unknown.older_than = old.id;  // redacted
  EXPECT_TRUE(store_->list_notifications(unknown)->empty());
}

TEST_P(StoreContract, ServiceSettingsAndContacts) {
  ServiceRecord changed = service_;
  changed.permissions = {"email", "sms", "international_sms"};
  changed.prefix_sms = false;
  changed.restricted = true;
  ASSERT_TRUE(store_->update_service(changed));
  auto found = *store_->find_service(service_.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->permissions, changed.permissions);
  EXPECT_FALSE(found->prefix_sms);
  EXPECT_TRUE(found->restricted);
  EXPECT_TRUE(found->has_permission("international_sms"));
  EXPECT_FALSE(found->has_permission("letter"));
  ServiceRecord unknown = service_;
  unknown.id = ServiceId{crypto::random_uuid()};
  EXPECT_EQ(store_->update_service(unknown).error().code, ErrorCode::kNotFound);

  ServiceContact first{crypto::random_uuid(), service_.id, ContactKind::kSmsSender, "HERALD", true, now_};
  ServiceContact second{crypto::random_uuid(), service_.id, ContactKind::kSmsSender, "07700900123", true, now_ + 1s};
  ServiceContact reply{crypto::random_uuid(), service_.id, ContactKind::kEmailReplyTo, "desk@example.org", false, now_};
  for (const auto* c : {&first, &second, &reply}) ASSERT_TRUE(store_->add_service_contact(*c));
  auto senders = *store_->service_contacts(service_.id, ContactKind::kSmsSender);
  ASSERT_EQ(senders.size(), 2u);
  EXPECT_EQ(senders[0].value, "HERALD");
  EXPECT_FALSE(senders[0].is_default) << "a new default replaces the old one";
  EXPECT_TRUE(senders[1].is_default);
  EXPECT_EQ(store_->service_contacts(service_.id, ContactKind::kEmailReplyTo)->size(), 1u);
  EXPECT_TRUE(store_->service_contacts(ServiceId{crypto::random_uuid()}, ContactKind::kSmsSender)->empty());
}

TEST_P(StoreContract, SmsFieldsAndReceiptsApplyOnlyFromTheSendingProviderWhileWaiting) {
  auto sms = notification("447700900123");
  sms.type = Channel::kSms;
  sms.sender = "HERALD";
  sms.billable_units = 2;
  sms.rate_multiplier = 3;
  ASSERT_TRUE(store_->insert_notification(sms));
  auto claimed = store_->claim_due(10, now_, 60s);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].sender, "HERALD");
  EXPECT_EQ((*claimed)[0].billable_units, 2);
  EXPECT_EQ((*claimed)[0].rate_multiplier, 3);
  // Handed to the provider: "sending", waiting for a receipt, never claimed again.
  ASSERT_TRUE(
      store_->record_outcome({sms.id, NotificationStatus::kSending, now_ + 1s, now_ + 1s, std::nullopt, "firetext"}));
  EXPECT_TRUE(store_->claim_due(10, now_ + 1000s, 60s)->empty());

  EXPECT_FALSE(*store_->apply_receipt(domain::receipt_for(sms.id, "mmg", NotificationStatus::kDelivered, now_ + 2s)))
      << "not the provider that sent it";
  EXPECT_FALSE(*store_->apply_receipt(
      domain::receipt_for(NotificationId{crypto::random_uuid()}, "firetext", NotificationStatus::kDelivered, now_)));
  auto pending =
      *store_->apply_receipt(domain::receipt_for(sms.id, "firetext", NotificationStatus::kPending, now_ + 3s));
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->status, NotificationStatus::kPending);
  EXPECT_EQ(pending->recipient, "447700900123") << "returned decrypted, for the service's callback";
  auto failed =
      *store_->apply_receipt(domain::receipt_for(sms.id, "firetext", NotificationStatus::kPermanentFailure, now_ + 4s));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, NotificationStatus::kTemporaryFailure) << "declined after pending counts as temporary";
  EXPECT_FALSE(
      *store_->apply_receipt(domain::receipt_for(sms.id, "firetext", NotificationStatus::kDelivered, now_ + 5s)))
      << "final statuses stay";
  auto stored = *store_->find_notification(service_.id, sms.id);
  EXPECT_EQ(stored->status, NotificationStatus::kTemporaryFailure);
  EXPECT_EQ(stored->sent_by, "firetext");
  EXPECT_EQ(stored->updated_at, now_ + 4s);
}

TEST_P(StoreContract, LetterReportsPostThenMayReturnALetter) {
  auto letter = notification("1 High Street\nLeeds\nLS1 1AA");
  letter.type = Channel::kLetter;
  ASSERT_TRUE(store_->insert_notification(letter));
  ASSERT_EQ(store_->claim_due(10, now_, 60s)->size(), 1u);
  ASSERT_TRUE(store_->record_outcome(
      {letter.id, NotificationStatus::kSending, now_ + 1s, now_ + 1s, std::nullopt, "sftp-print"}));
  auto posted =
      *store_->apply_receipt(domain::receipt_for(letter.id, "sftp-print", NotificationStatus::kDelivered, now_ + 3s));
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, NotificationStatus::kDelivered);
  EXPECT_FALSE(*store_->apply_receipt(
      domain::receipt_for(letter.id, "sftp-print", NotificationStatus::kTechnicalFailure, now_ + 4s)))
      << "posted stays posted";
  auto returned = *store_->apply_receipt(
      domain::receipt_for(letter.id, "sftp-print", NotificationStatus::kReturnedLetter, now_ + 5s));
  ASSERT_TRUE(returned);
  EXPECT_EQ(returned->status, NotificationStatus::kReturnedLetter);
  EXPECT_FALSE(*store_->apply_receipt(
      domain::receipt_for(letter.id, "sftp-print", NotificationStatus::kReturnedLetter, now_ + 6s)))
      << "once";
  EXPECT_EQ((*store_->find_notification(service_.id, letter.id))->updated_at, now_ + 5s);
}

TEST_P(StoreContract, CallbacksAreSealedClaimedAndFinished) {
  ServiceCallback callback{service_.id, CallbackKind::kDeliveryStatus, "https://hooks.example/status",
                           "bearer-canary-5d1e9f", now_};
  ASSERT_TRUE(store_->set_service_callback(callback));
  callback.url = "https://hooks-canary-71b2.example/v2?sig=s3cr3t";
  ASSERT_TRUE(store_->set_service_callback(callback)) << "setting again replaces";
  auto found = *store_->find_service_callback(service_.id, CallbackKind::kDeliveryStatus);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->url, "https://hooks-canary-71b2.example/v2?sig=s3cr3t");
  EXPECT_EQ(found->bearer_token, "bearer-canary-5d1e9f");
  EXPECT_FALSE(*store_->find_service_callback(service_.id, CallbackKind::kInboundSms));
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("bearer-canary-5d1e9f"), std::string::npos) << "the token is sealed";
    EXPECT_EQ(disk->find("hooks-canary-71b2"), std::string::npos) << "the URL is sealed";
  }
  if (backend_->on_disk()) {
    // A URL stored in plain text by an earlier release is sealed when the store opens.
    ASSERT_TRUE(backend_->raw_exec("UPDATE service_callbacks SET url = ?, url_sealed = NULL WHERE service_id = ?",
                                   {{"https://legacy-hook-9c4d.example/cb"}, {service_.id.to_string()}}));
    reopen();
    found = *store_->find_service_callback(service_.id, CallbackKind::kDeliveryStatus);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->url, "https://legacy-hook-9c4d.example/cb");
    EXPECT_EQ(found->bearer_token, "bearer-canary-5d1e9f");
    store_.reset();  // SQLite: the WAL checkpointed into the file
    rewrite_until_gone("service_callbacks", "legacy-hook-9c4d");
    EXPECT_EQ(backend_->table_bytes("service_callbacks").find("legacy-hook-9c4d"), std::string::npos);
    reopen();
  }

  auto a = notification();
  auto b = notification();
  ASSERT_TRUE(store_->insert_notification(a));
  ASSERT_TRUE(store_->insert_notification(b));
  ASSERT_TRUE(store_->claim_due(10, now_, 60s));
  DeliveryOutcome told{a.id, NotificationStatus::kDelivered, now_ + 1s, now_ + 1s, std::nullopt, "smtp"};
  told.callback = true;
  ASSERT_TRUE(store_->record_outcome(told));
  ASSERT_TRUE(
      store_->record_outcome({b.id, NotificationStatus::kDelivered, now_ + 1s, now_ + 1s, std::nullopt, "smtp"}));
  ServiceRecord other = service_;
  other.id = ServiceId{crypto::random_uuid()};
  other.name = "Service without callback";
  ASSERT_TRUE(store_->create_service(other));
  auto c = notification();
  c.service = other.id;
  ASSERT_TRUE(store_->insert_notification(c));
  DeliveryOutcome untold{c.id, NotificationStatus::kDelivered, now_ + 1s, now_ + 1s, std::nullopt, "smtp"};
  untold.callback = true;
  ASSERT_TRUE(store_->record_outcome(untold));
  auto due = store_->claim_callbacks(10, now_ + 2s, 30s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u) << "only outcomes the service wants to hear of";
  EXPECT_EQ((*due)[0].id, a.id);
  EXPECT_EQ((*due)[0].status, NotificationStatus::kDelivered);
  EXPECT_EQ((*due)[0].callback_attempts, 1);
  EXPECT_TRUE(store_->claim_callbacks(10, now_ + 3s, 30s)->empty()) << "held by its lease";
  ASSERT_TRUE(store_->finish_callback(a.id, now_ + 10s));  // retry later
  EXPECT_TRUE(store_->claim_callbacks(10, now_ + 9s, 30s)->empty());
  auto again = *store_->claim_callbacks(10, now_ + 10s, 30s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].callback_attempts, 2);
  ASSERT_TRUE(store_->finish_callback(a.id, std::nullopt));
  EXPECT_TRUE(store_->claim_callbacks(10, now_ + 1000s, 30s)->empty()) << "done for good";
}

TEST_P(StoreContract, LimitsAreSharedByEveryStoreOnTheDatabase) {
  ServiceRecord changed = service_;
  changed.rate_limit = 60;
  changed.sms_limit = 7;
  ASSERT_TRUE(store_->update_service(changed));
  auto found = *store_->find_service(service_.id);
  EXPECT_EQ(found->rate_limit, 60);
  EXPECT_EQ(found->sms_limit, 7);
  EXPECT_EQ(found->email_limit, 250000);

  // A bucket starts full, empties, refills at its rate; another store (node) draws from it too.
  auto other = another();
  EXPECT_EQ(*store_->take_tokens("b", 3, now_, 1.0, 5.0), 3);
  EXPECT_EQ(*other->take_tokens("b", 3, now_, 1.0, 5.0), 2);
  EXPECT_EQ(*store_->take_tokens("b", 1, now_, 1.0, 5.0), 0);
  EXPECT_EQ(*other->take_tokens("b", 5, now_ + 2500ms, 1.0, 5.0), 2) << "2.5 s at 1/s";
  EXPECT_EQ(*store_->take_tokens("b", 5, now_ + 100s, 1.0, 5.0), 5) << "never above capacity";
  EXPECT_EQ(*store_->take_tokens("c", 1, now_, 1.0, 5.0), 1) << "buckets are separate";

  EXPECT_EQ(*store_->reserve_count("d", 4, 7), 4);
  EXPECT_EQ(*other->reserve_count("d", 4, 7), 3) << "never past the limit";
  EXPECT_EQ(*store_->reserve_count("d", 1, 7), 0);
  EXPECT_EQ(*store_->reserve_count("e", 1, 7), 1);
}

TEST_P(StoreContract, ReceivedTextsAreSealedPagedCalledBackAndRetained) {
  std::vector<InboundSms> texts;
  for (int i = 0; i < 5; ++i) {
    InboundSms sms{crypto::random_uuid(), service_.id, "07700900999", "447700900" + std::to_string(100 + i),
                   "inbound canary 8e1f " + std::to_string(i), "mmg", "ref-" + std::to_string(i),
                   now_ + std::chrono::seconds(i), now_ + std::chrono::seconds(i == 4 ? 3 : i)};
    ASSERT_TRUE(store_->insert_inbound_sms(sms));
    texts.push_back(sms);
  }
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("inbound canary 8e1f"), std::string::npos);
    EXPECT_EQ(disk->find("447700900101"), std::string::npos);
  }
  auto page = store_->list_inbound_sms(service_.id, std::nullopt, now_, 2);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].created_at, now_ + 3s);
  EXPECT_EQ((*page)[0].content.substr(0, 14), "inbound canary");
  std::vector<Uuid> all;
  std::optional<Uuid> older;
  while (true) {
    auto next = *store_->list_inbound_sms(service_.id, older, now_, 2);
    if (next.empty()) break;
    for (const auto& s : next) all.push_back(s.id);
    older = next.back().id;
  }
  EXPECT_EQ(all.size(), 5u) << "paging never skips the two created in the same microsecond";
  EXPECT_EQ(store_->list_inbound_sms(service_.id, std::nullopt, now_ + 2s, 10)->size(), 3u) << "within retention";
  EXPECT_TRUE(store_->list_inbound_sms(ServiceId{crypto::random_uuid()}, std::nullopt, now_, 10)->empty());
  EXPECT_TRUE(store_->claim_inbound_callbacks(10, now_ + 10s, 30s)->empty()) << "no inbound callback set";

  ASSERT_TRUE(store_->set_service_callback({service_.id, CallbackKind::kInboundSms, "https://h.example/in",
                                            "0123456789abc", now_}));
  InboundSms later{crypto::random_uuid(), service_.id, "07700900999", "447700900200", "told", "firetext",
                   std::nullopt, now_ + 20s, now_ + 20s};
  ASSERT_TRUE(store_->insert_inbound_sms(later));
  auto due = *store_->claim_inbound_callbacks(10, now_ + 21s, 30s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].user_number, "447700900200");
  EXPECT_EQ(due[0].callback_attempts, 1);
  ASSERT_TRUE(store_->finish_inbound_callback(later.id, std::nullopt));
  EXPECT_TRUE(store_->claim_inbound_callbacks(10, now_ + 1000s, 30s)->empty());

  ASSERT_TRUE(store_->redact_before(service_.id, now_ + 10s, now_ + 30s));
  auto kept = *store_->list_inbound_sms(service_.id, std::nullopt, now_, 10);
  ASSERT_EQ(kept.size(), 1u) << "retention deletes received texts";
  EXPECT_EQ(kept[0].id, later.id);
}

TEST_P(StoreContract, GuestListIsSealedAndMatchedByBlindIndexOnly) {
  GuestListEntry entry{crypto::random_uuid(), service_.id, "email", "Guest.Canary.4d2a@Example.org",
                       "guest.canary.4d2a@example.org", now_};
  ASSERT_TRUE(store_->add_guest_list_entry(entry));
  EXPECT_TRUE(*store_->on_guest_list(service_.id, "guest.canary.4d2a@example.org"));
  EXPECT_FALSE(*store_->on_guest_list(service_.id, "someone.else@example.org"));
  EXPECT_FALSE(*store_->on_guest_list(ServiceId{crypto::random_uuid()}, "guest.canary.4d2a@example.org"))
      << "another service's list";
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("canary.4d2a"), std::string::npos);
    EXPECT_EQ(disk->find("Canary.4d2a"), std::string::npos);
  }
}

TEST_P(StoreContract, NhsClientsTokensAndAssertionIdsAreSharedAndExpire) {
  NhsClientRecord client;
  client.id = crypto::random_uuid();
  client.service = service_.id;
  client.name = "GP system";
  client.api_key_hash = std::string(64, 'a');
  client.jwks = R"({"keys":[]})";
  client.default_ods_code = "X26";
  client.allow_contact_details = true;
  client.created_at = now_;
  ASSERT_TRUE(store_->create_nhs_client(client));
  NhsClientRecord same_key = client;
  same_key.id = crypto::random_uuid();
  auto duplicate = store_->create_nhs_client(same_key);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kFailedPrecondition);

  auto by_key = store_->find_nhs_client_by_key(client.api_key_hash);
  ASSERT_TRUE(by_key && *by_key);
  EXPECT_EQ((*by_key)->id, client.id);
  EXPECT_EQ((*by_key)->service, service_.id);
  EXPECT_EQ((*by_key)->default_ods_code, std::optional<std::string>("X26"));
  EXPECT_TRUE((*by_key)->allow_contact_details);
  EXPECT_FALSE((*by_key)->allow_ods_override);
  EXPECT_TRUE((*by_key)->onboarded);
  EXPECT_EQ((*by_key)->created_at, now_);
  EXPECT_FALSE(store_->find_nhs_client_by_key(std::string(64, 'b'))->has_value());

  client.service_ban = true;
  client.default_ods_code.reset();
  client.jwks_url = "https://keys.example.org/jwks.json";
  ASSERT_TRUE(store_->update_nhs_client(client));
  auto other = another();
  ASSERT_TRUE(other);
  auto updated = other->find_nhs_client(client.id);
  ASSERT_TRUE(updated && *updated);
  EXPECT_TRUE((*updated)->service_ban);
  EXPECT_FALSE((*updated)->default_ods_code);
  EXPECT_EQ((*updated)->jwks_url, "https://keys.example.org/jwks.json");
  EXPECT_EQ(other->list_nhs_clients()->size(), 1U);
  NhsClientRecord absent = client;
  absent.id = crypto::random_uuid();
  EXPECT_EQ(store_->update_nhs_client(absent).error().code, ErrorCode::kNotFound);

  // An assertion id is accepted once, by any node, until it expires.
  const Timestamp expires = now_ + std::chrono::minutes(5);
  EXPECT_TRUE(*store_->remember_assertion_id(client.id, "jti-1", expires, now_));
  EXPECT_FALSE(*other->remember_assertion_id(client.id, "jti-1", expires, now_ + std::chrono::minutes(1)));
  EXPECT_TRUE(*other->remember_assertion_id(client.id, "jti-2", expires, now_));
  EXPECT_TRUE(*store_->remember_assertion_id(client.id, "jti-1", expires + std::chrono::minutes(5), expires))
      << "forgotten once expired";

  NhsAccessToken token{std::string(64, 'c'), client.id, now_, now_ + std::chrono::seconds(599)};
  ASSERT_TRUE(store_->insert_access_token(token));
  auto found = other->find_access_token(token.token_hash, now_ + std::chrono::seconds(598));
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->client, client.id);
  EXPECT_EQ((*found)->expires_at, token.expires_at);
  EXPECT_FALSE(other->find_access_token(token.token_hash, token.expires_at)->has_value()) << "expired";
  EXPECT_FALSE(store_->find_access_token(std::string(64, 'd'), now_)->has_value());
}

TEST_P(StoreContract, NhsMessagesAreSealedScopedAndIdempotentPerClient) {
  auto make_client = [&](char key) {
    NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_.id;
    c.name = "client";
    c.api_key_hash = std::string(64, key);
    c.created_at = now_;
    EXPECT_TRUE(store_->create_nhs_client(c));
    return c.id;
  };
  const Uuid client = make_client('e');
  const Uuid other_client = make_client('f');
  NhsMessageRecord m;
  m.id = "2WL3qFTEFM0qMY8xjRbt1LIKCzM";
  m.client = client;
  m.service = service_.id;
  m.message_reference = "ref-canary-7d1e";
  m.billing_reference = "bill-canary-7d1e";
  m.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000002");
  m.routing_plan_version = "1";
  m.nhs_number = "9990548609";
  m.ods_code = "A12345";
  m.personalisation_json = R"({"email_body":"canary-body-7d1e"})";
  m.contact_details_json = R"({"email":"canary.7d1e@example.org"})";
  m.created_at = now_;
  const Timestamp cutoff = now_ - std::chrono::hours(24 * 270);
  ASSERT_TRUE(*store_->insert_nhs_message(m, cutoff));

  auto found = another()->find_nhs_message(client, m.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->message_reference, "ref-canary-7d1e");
  EXPECT_EQ((*found)->billing_reference, std::optional<std::string>("bill-canary-7d1e"));
  EXPECT_EQ((*found)->nhs_number, std::optional<std::string>("9990548609"));
  EXPECT_EQ((*found)->personalisation_json, m.personalisation_json);
  EXPECT_EQ((*found)->contact_details_json, m.contact_details_json);
  EXPECT_EQ((*found)->routing_plan_id, m.routing_plan_id);
  EXPECT_EQ((*found)->ods_code, std::optional<std::string>("A12345"));
  EXPECT_EQ((*found)->status, NhsMessageStatus::kCreated);
  EXPECT_EQ((*found)->created_at, now_);
  EXPECT_FALSE(store_->find_nhs_message(other_client, m.id)->has_value()) << "another client's message";
  EXPECT_FALSE(store_->find_nhs_message(client, "2WL3qFTEFM0qMY8xjRbt1LIKCzN")->has_value());

  // The reference is the client's own, among its single messages, for the window.
  NhsMessageRecord repeat = m;
  repeat.id = "2WL3qFTEFM0qMY8xjRbt1LIKCz1";
  EXPECT_FALSE(*store_->insert_nhs_message(repeat, cutoff));
  EXPECT_FALSE(store_->find_nhs_message(client, repeat.id)->has_value()) << "nothing stored";
  NhsMessageRecord others = repeat;
  others.client = other_client;
  EXPECT_TRUE(*store_->insert_nhs_message(others, cutoff));
  NhsMessageRecord in_batch = repeat;
  in_batch.id = "2WL3qFTEFM0qMY8xjRbt1LIKCz2";
  in_batch.batch_id = "2WL3qFTEFM0qMY8xjRbt1LIKCz9";
  EXPECT_TRUE(*store_->insert_nhs_message(in_batch, cutoff)) << "batches have their own references";
  NhsMessageRecord later = repeat;
  later.id = "2WL3qFTEFM0qMY8xjRbt1LIKCz3";
  later.created_at = now_ + std::chrono::hours(24 * 280);
  EXPECT_TRUE(*store_->insert_nhs_message(later, now_ + std::chrono::hours(10))) << "past the window";
  NhsMessageRecord again = later;
  again.id = "2WL3qFTEFM0qMY8xjRbt1LIKCz4";
  EXPECT_FALSE(*store_->insert_nhs_message(again, now_ + std::chrono::hours(10))) << "the new one holds it now";

  if (const auto disk = this->disk()) {
    for (const char* canary : {"canary-7d1e", "canary.7d1e", "9990548609"}) {
      EXPECT_EQ(disk->find(canary), std::string::npos) << canary;
    }
  }
}

TEST_P(StoreContract, NhsCascadeClaimsStepsAndWakesOnItsNotificationsOutcomes) {
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzM");
  ASSERT_FALSE(m.id.empty());
  ASSERT_TRUE(store_->set_service_callback(
      {service_.id, CallbackKind::kDeliveryStatus, "https://hooks.example/", "token-123456789", now_}));

  // One claim at a time until its lease ends.
  auto claimed = store_->claim_nhs_messages(10, now_, std::chrono::seconds(60));
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].message.nhs_number, std::optional<std::string>("9990548609"));
  EXPECT_TRUE(another()->claim_nhs_messages(10, now_ + std::chrono::seconds(59), std::chrono::seconds(60))->empty());

  // The step: enriched, one channel sending through a notification, due again at its deadline.
  NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
  step.message.status = NhsMessageStatus::kSending;
  step.message.enriched_at = now_;
  step.message.recipient_json = R"({"sms":"canary-07700900111"})";
  step.message.demographics_version = "7";
  step.message.next_step_at = now_ + std::chrono::hours(72);
  NotificationRecord sms = notification("07700900111");
  sms.type = Channel::kSms;
  sms.template_id = TemplateId{};
  sms.body = "canary-sms-text-3c9e";
  NhsChannelRecord channel;
  channel.type = NhsChannel::kSms;
  channel.status = NhsChannelStatus::kSending;
  channel.created_at = now_;
  channel.started_at = now_;
  channel.deadline_at = now_ + std::chrono::hours(72);
  channel.supplier_status = "received";
  channel.retry_count = 2;
  channel.notification_id = sms.id;
  step.message.channels = {channel};
  step.notifications = {sms};
  ASSERT_TRUE(*store_->save_nhs_step(step, now_));
  EXPECT_FALSE(*store_->save_nhs_step(step, now_)) << "a claim is saved once";

  auto found = another()->find_nhs_message(m.client, m.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, NhsMessageStatus::kSending);
  EXPECT_EQ((*found)->recipient_json, step.message.recipient_json);
  EXPECT_EQ((*found)->demographics_version, std::optional<std::string>("7"));
  EXPECT_EQ((*found)->next_step_at, now_ + std::chrono::hours(72));
  ASSERT_EQ((*found)->channels.size(), 1u);
  const NhsChannelRecord& back = (*found)->channels[0];
  EXPECT_EQ(back.type, NhsChannel::kSms);
  EXPECT_EQ(back.status, NhsChannelStatus::kSending);
  EXPECT_EQ(back.deadline_at, channel.deadline_at);
  EXPECT_EQ(back.supplier_status, channel.supplier_status);
  EXPECT_EQ(back.retry_count, 2);
  EXPECT_EQ(back.notification_id, sms.id);
  EXPECT_FALSE(back.delivered_at.has_value());
  // The channel's notification is stored and due like any other, but not one of GOV.UK's list.
  EXPECT_EQ(store_->find_notification(service_.id, sms.id)->value().body, "canary-sms-text-3c9e");
  NotificationQuery query;
  query.service = service_.id;
  EXPECT_TRUE(store_->list_notifications(query)->empty());
  auto due = store_->claim_due(10, now_, std::chrono::seconds(60));
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, sms.id);
  EXPECT_TRUE(store_->claim_nhs_messages(10, now_ + std::chrono::hours(1), std::chrono::seconds(60))->empty());

  // Its outcome (handed to the provider, a receipt to come) wakes the message.
  DeliveryOutcome outcome{
      sms.id, NotificationStatus::kSending, now_ + std::chrono::hours(1), now_, std::nullopt, std::string("mmg"), true};
  ASSERT_TRUE(store_->record_outcome(outcome));
  claimed = another()->claim_nhs_messages(10, now_ + std::chrono::hours(1), std::chrono::seconds(60));
  ASSERT_EQ(claimed->size(), 1u);

  // Woken while a step holds it: the step's save leaves it due at once, not at the step's time.
  NhsCascadeStep held{(*claimed)[0].message, (*claimed)[0].claim, {}};
  held.message.next_step_at = now_ + std::chrono::hours(50);
  auto receipt = store_->apply_receipt(
      domain::receipt_for(sms.id, "mmg", NotificationStatus::kDelivered, now_ + std::chrono::hours(1)));
  ASSERT_TRUE(receipt && receipt->has_value());
  ASSERT_TRUE(*store_->save_nhs_step(held, now_ + std::chrono::hours(1)));
  EXPECT_EQ(store_->find_nhs_message(m.client, m.id)->value().next_step_at, now_ + std::chrono::hours(1));
  // Neither the outcome nor the receipt made a GOV.UK callback due: the service hears of NHS
  // messages through NHS Notify's own callbacks.
  EXPECT_TRUE(store_->claim_callbacks(10, now_ + std::chrono::hours(2), std::chrono::seconds(60))->empty());

  // Demographics records: replaced by NHS number, sealed.
  ASSERT_TRUE(store_->put_demographics({{"9990548609", R"({"email":"canary.demo.51ab@example.org"})", now_},
                                        {"9434765919", R"({"given_name":"A"})", now_}}));
  ASSERT_TRUE(store_->put_demographics({{"9990548609", R"({"email":"canary.demo.52ab@example.org"})", now_}}));
  auto record = another()->find_demographics("9990548609");
  ASSERT_TRUE(record && *record);
  EXPECT_EQ((*record)->record_json, R"({"email":"canary.demo.52ab@example.org"})");
  EXPECT_FALSE(store_->find_demographics("9449310610")->has_value());

  if (const auto disk = this->disk()) {
    for (const char* canary : {"canary-07700900111", "canary-sms-text-3c9e", "canary.demo", "9434765919"}) {
      EXPECT_EQ(disk->find(canary), std::string::npos) << canary;
    }
  }
}

// A supplier's later word on a message's channel (an NHS App receipt) wakes the message as a
// notification's outcome does; its next claim carries it, and the step that took it into account
// deletes it with its save.
TEST_P(StoreContract, NhsChannelEventsWakeTheMessageAndGoWithItsStep) {
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzE");
  ASSERT_FALSE(m.id.empty());

  auto claimed = store_->claim_nhs_messages(10, now_, std::chrono::seconds(60));
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_TRUE((*claimed)[0].events.empty());
  NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
  step.message.status = NhsMessageStatus::kSending;
  step.message.next_step_at = now_ + std::chrono::hours(72);
  ASSERT_TRUE(*store_->save_nhs_step(step, now_));

  const Timestamp received_at = now_ + std::chrono::hours(1);
  const Timestamp read_at = now_ + std::chrono::hours(2);
  auto unknown =
      store_->add_nhs_channel_event({0, "2WL3qFTEFM0qMY8xjRbt1LIKCzX", NhsChannel::kNhsApp, "read", received_at});
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown) << "no such message: nothing stored";
  auto added = store_->add_nhs_channel_event({0, m.id, NhsChannel::kNhsApp, "received", received_at});
  ASSERT_TRUE(added);
  EXPECT_TRUE(*added);
  added = store_->add_nhs_channel_event({0, m.id, NhsChannel::kNhsApp, "read", read_at});
  ASSERT_TRUE(added);
  EXPECT_TRUE(*added);

  // Due again at the first event's time, not the step's.
  EXPECT_EQ(store_->find_nhs_message(m.client, m.id)->value().next_step_at, received_at);
  auto other = another();
  EXPECT_TRUE(other->claim_nhs_messages(10, received_at - std::chrono::seconds(1), std::chrono::seconds(60))->empty());
  claimed = other->claim_nhs_messages(10, received_at, std::chrono::seconds(60));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  const std::vector<NhsChannelEvent> events = (*claimed)[0].events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_GT(events[0].id, 0);
  EXPECT_LT(events[0].id, events[1].id) << "oldest first";
  EXPECT_EQ(events[0].message_id, m.id);
  EXPECT_EQ(events[0].channel, NhsChannel::kNhsApp);
  EXPECT_EQ(events[0].supplier_status, "received");
  EXPECT_EQ(events[0].at, received_at);
  EXPECT_EQ(events[1].message_id, m.id);
  EXPECT_EQ(events[1].channel, NhsChannel::kNhsApp);
  EXPECT_EQ(events[1].supplier_status, "read");
  EXPECT_EQ(events[1].at, read_at);

  // The step that took them into account deletes them with its save.
  NhsCascadeStep took{(*claimed)[0].message, (*claimed)[0].claim, {}};
  took.message.next_step_at = now_ + std::chrono::hours(72);
  took.events_through = events[1].id;
  ASSERT_TRUE(*store_->save_nhs_step(took, received_at));
  EXPECT_TRUE(store_->claim_nhs_messages(10, now_ + std::chrono::hours(3), std::chrono::seconds(60))->empty())
      << "not woken since";

  // A third event wakes it again; its claim carries only that one.
  const Timestamp third_at = now_ + std::chrono::hours(4);
  ASSERT_TRUE(*store_->add_nhs_channel_event({0, m.id, NhsChannel::kSms, "delivered", third_at}));
  claimed = another()->claim_nhs_messages(10, third_at, std::chrono::seconds(60));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_EQ((*claimed)[0].events.size(), 1u);
  const NhsChannelEvent third = (*claimed)[0].events[0];
  EXPECT_GT(third.id, events[1].id);
  EXPECT_EQ(third.channel, NhsChannel::kSms);
  EXPECT_EQ(third.supplier_status, "delivered");
  EXPECT_EQ(third.at, third_at);

  // An event that comes while a step holds the message outlives that step's save (which did not
  // see it), and makes the message due again at once.
  const Timestamp fourth_at = third_at + std::chrono::minutes(1);
  ASSERT_TRUE(*store_->add_nhs_channel_event({0, m.id, NhsChannel::kNhsApp, "read", fourth_at}));
  NhsCascadeStep held{(*claimed)[0].message, (*claimed)[0].claim, {}};
  held.message.next_step_at = now_ + std::chrono::hours(72);
  held.events_through = third.id;
  ASSERT_TRUE(*store_->save_nhs_step(held, fourth_at));
  EXPECT_EQ(store_->find_nhs_message(m.client, m.id)->value().next_step_at, fourth_at);
  claimed = store_->claim_nhs_messages(10, fourth_at, std::chrono::seconds(60));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_EQ((*claimed)[0].events.size(), 1u);
  EXPECT_EQ((*claimed)[0].events[0].supplier_status, "read");
  EXPECT_EQ((*claimed)[0].events[0].at, fourth_at);

  // A step whose claim was lost deletes nothing.
  NhsCascadeStep stale = held;
  stale.events_through = (*claimed)[0].events[0].id;
  EXPECT_FALSE(*store_->save_nhs_step(stale, fourth_at));
  NhsCascadeStep last{(*claimed)[0].message, (*claimed)[0].claim, {}};
  last.message.next_step_at = fourth_at;
  ASSERT_TRUE(*store_->save_nhs_step(last, fourth_at));
  claimed = store_->claim_nhs_messages(10, fourth_at, std::chrono::seconds(60));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].events.size(), 1u) << "a step that took no events leaves them";
}

TEST_P(StoreContract, NhsBatchesAreStoredWholeOnceAndTheirReferencesSealed) {
  NhsClientRecord c;
  c.id = crypto::random_uuid();
  c.service = service_.id;
  c.name = "client";
  c.api_key_hash = std::string(64, 'g');
  c.created_at = now_;
  ASSERT_TRUE(store_->create_nhs_client(c));
  NhsBatchRecord batch{"2WL3qFTEFM0qMY8xjRbt1LIKCb0",
                       c.id,
                       service_.id,
                       "batch-canary-5e2c",
                       *Uuid::parse("00000000-0000-0000-0000-000000000003"),
                       "1",
                       now_};
  auto messages_of = [&](const std::string& batch_id, char suffix) {
    std::vector<NhsMessageRecord> out;
    for (int i = 0; i < 3; ++i) {
      NhsMessageRecord m;
      m.id = std::string("2WL3qFTEFM0qMY8xjRbt1LIKC") + suffix + std::to_string(i);
      m.client = c.id;
      m.service = service_.id;
      m.batch_id = batch_id;
      m.message_reference = "same-ref";  // a batch's references are not indexed
      m.routing_plan_id = batch.routing_plan_id;
      m.routing_plan_version = "1";
      m.nhs_number = "9434765919";
      m.ods_code = "A12345";
      m.created_at = now_;
      out.push_back(m);
    }
    return out;
  };
  const Timestamp cutoff = now_ - std::chrono::hours(24 * 270);
  ASSERT_TRUE(*store_->insert_nhs_batch(batch, messages_of(batch.id, 'a'), cutoff));
  for (int i = 0; i < 3; ++i) {
    auto found = another()->find_nhs_message(c.id, "2WL3qFTEFM0qMY8xjRbt1LIKCa" + std::to_string(i));
    ASSERT_TRUE(found && *found) << i;
    EXPECT_EQ((*found)->batch_id, std::optional<std::string>(batch.id));
  }
  NhsBatchRecord repeat = batch;
  repeat.id = "2WL3qFTEFM0qMY8xjRbt1LIKCb1";
  EXPECT_FALSE(*store_->insert_nhs_batch(repeat, messages_of(repeat.id, 'b'), cutoff));
  EXPECT_FALSE(store_->find_nhs_message(c.id, "2WL3qFTEFM0qMY8xjRbt1LIKCb0")->has_value()) << "nothing stored";
  NhsBatchRecord later = repeat;
  later.created_at = now_ + std::chrono::hours(24 * 280);
  EXPECT_TRUE(*store_->insert_nhs_batch(later, messages_of(later.id, 'c'), now_ + std::chrono::hours(1)))
      << "past the window";
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("batch-canary-5e2c"), std::string::npos);
    EXPECT_EQ(disk->find("9434765919"), std::string::npos);
  }
}

// NHS Notify routing plans: a stored version never changes (saving it again is refused, so of
// two operators saving at once the second asks again); a plan is its latest version, listed by
// when its first was saved.
TEST_P(StoreContract, RoutingPlanVersionsAreImmutableAndLatestWins) {
  auto make_client = [&](char key) {
    NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_.id;
    c.name = "client";
    c.api_key_hash = std::string(64, key);
    c.created_at = now_;
    EXPECT_TRUE(store_->create_nhs_client(c));
    return c.id;
  };
  const Uuid client = make_client('p');
  const Uuid other_client = make_client('q');
  auto plan = [&](Uuid id, Uuid owner, int version, Timestamp at) {
    RoutingPlanRecord p;
    p.id = id;
    p.client = owner;
    p.version = version;
    p.name = "Plan v" + std::to_string(version);
    p.definition_json = R"({"cascade":[{"channel":"NHSAPP"},{"channel":"SMS"}],"v":)" + std::to_string(version) + "}";
    p.created_at = at;
    return p;
  };
  auto expect_plan = [](const Result<std::optional<RoutingPlanRecord>>& found, const RoutingPlanRecord& want) {
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, want.id);
    EXPECT_EQ((*found)->client, want.client);
    EXPECT_EQ((*found)->version, want.version);
    EXPECT_EQ((*found)->name, want.name);
    EXPECT_EQ((*found)->definition_json, want.definition_json);
    EXPECT_EQ((*found)->created_at, want.created_at);
  };

  const Uuid a = crypto::random_uuid();
  const RoutingPlanRecord a1 = plan(a, client, 1, now_);
  auto added = store_->add_routing_plan(a1);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  RoutingPlanRecord again = plan(a, client, 1, now_ + 1min);
  again.name = "Overwritten";
  again.definition_json = R"({"cascade":[]})";
  added = store_->add_routing_plan(again);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_FALSE(*added) << "version 1 is stored already";
  expect_plan(store_->find_routing_plan(a, 1), a1);

  const RoutingPlanRecord a2 = plan(a, client, 2, now_ + 2h);
  added = another()->add_routing_plan(a2);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  expect_plan(store_->find_routing_plan(a, std::nullopt), a2);
  expect_plan(store_->find_routing_plan(a, 1), a1);
  expect_plan(store_->find_routing_plan(a, 2), a2);
  auto missing = store_->find_routing_plan(a, 3);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  missing = store_->find_routing_plan(crypto::random_uuid(), std::nullopt);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  missing = store_->find_routing_plan(crypto::random_uuid(), 1);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  // Plan c's first version is newer than a's but older than a's latest: listing goes by the first.
  // b (another client's) was first saved at the same time as c: then by id.
  const RoutingPlanRecord c1 = plan(crypto::random_uuid(), client, 1, now_ + 1h);
  const RoutingPlanRecord b1 = plan(crypto::random_uuid(), other_client, 1, now_ + 1h);
  for (const RoutingPlanRecord& p : {c1, b1}) {
    added = store_->add_routing_plan(p);
    ASSERT_TRUE(added && *added);
  }

  auto ids = [](const Result<std::vector<RoutingPlanRecord>>& listed) {
    std::vector<std::pair<Uuid, int>> out;
    EXPECT_TRUE(listed) << listed.error().message;
    if (listed) {
      for (const RoutingPlanRecord& p : *listed) out.emplace_back(p.id, p.version);
    }
    return out;
  };
  using Listed = std::vector<std::pair<Uuid, int>>;
  EXPECT_EQ(ids(store_->list_routing_plans(client)), (Listed{{a, 2}, {c1.id, 1}}));
  EXPECT_EQ(ids(store_->list_routing_plans(other_client)), (Listed{{b1.id, 1}}));
  EXPECT_TRUE(ids(store_->list_routing_plans(crypto::random_uuid())).empty());
  const Listed all = b1.id < c1.id ? Listed{{a, 2}, {b1.id, 1}, {c1.id, 1}} : Listed{{a, 2}, {c1.id, 1}, {b1.id, 1}};
  EXPECT_EQ(ids(another()->list_routing_plans(std::nullopt)), all);
  auto listed = store_->list_routing_plans(client);
  ASSERT_TRUE(listed && listed->size() == 2);
  expect_plan(std::optional<RoutingPlanRecord>((*listed)[0]), a2);
  expect_plan(std::optional<RoutingPlanRecord>((*listed)[1]), c1);

  // A plan needs its client.
  auto orphan = store_->add_routing_plan(plan(crypto::random_uuid(), crypto::random_uuid(), 1, now_));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ids(store_->list_routing_plans(std::nullopt)).size(), 3u);
}

// NHS Notify callback targets: every field round-trips (the API key opened, sealed on disk), a
// put with a known id replaces the target, listing is oldest first and per client, and deleting
// a target takes its callbacks with it.
TEST_P(StoreContract, NhsCallbackTargetsAreSealedReplacedListedAndDeletedWithTheirCallbacks) {
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzT");
  ASSERT_FALSE(m.id.empty());
  NhsClientRecord other_client;
  other_client.id = crypto::random_uuid();
  other_client.service = service_.id;
  other_client.name = "other client";
  other_client.api_key_hash = std::string(64, 'r');
  other_client.created_at = now_;
  ASSERT_TRUE(store_->create_nhs_client(other_client));

  const std::string marker = "receiver-" + crypto::random_uuid().to_string();  // plain text, to find the row
  NhsCallbackTarget full;
  full.id = crypto::random_uuid();
  full.client = m.client;
  full.kind = NhsCallbackKind::kChannel;
  full.url = "https://" + marker + ".example/nhs/callbacks";
  full.statuses = {"delivered", "failed"};
  full.supplier_statuses = {"read", "notified"};
  full.api_key_header = "x-custom-api-key";
  full.api_key = "apikey-canary-8d2f41";
  full.client_certificate_file = "/etc/herald/mtls/client.pem";
  full.client_key_file = "/etc/herald/mtls/client.key";
  full.pinned_key_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  full.rate_per_second = 25;
  full.retry_window_seconds = 3600;
  full.created_at = now_;
  NhsCallbackTarget minimal;  // defaults and nothing optional
  minimal.id = crypto::random_uuid();
  minimal.client = m.client;
  minimal.url = "https://minimal.example/cb";
  minimal.api_key = "apikey-canary-2b7c55";
  minimal.created_at = now_ + 2min;
  NhsCallbackTarget others;
  others.id = crypto::random_uuid();
  others.client = other_client.id;
  others.url = "https://others.example/cb";
  others.api_key = "apikey-canary-0a9e13";
  others.created_at = now_ + 1min;
  for (const NhsCallbackTarget& t : {minimal, full, others}) {
    auto put = store_->put_nhs_callback_target(t);
    ASSERT_TRUE(put) << put.error().message;
  }

  auto expect_target = [](const NhsCallbackTarget& got, const NhsCallbackTarget& want) {
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.client, want.client);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.url, want.url);
    EXPECT_EQ(got.statuses, want.statuses);
    EXPECT_EQ(got.supplier_statuses, want.supplier_statuses);
    EXPECT_EQ(got.api_key_header, want.api_key_header);
    EXPECT_EQ(got.api_key, want.api_key);
    EXPECT_EQ(got.client_certificate_file, want.client_certificate_file);
    EXPECT_EQ(got.client_key_file, want.client_key_file);
    EXPECT_EQ(got.pinned_key_sha256, want.pinned_key_sha256);
    EXPECT_EQ(got.rate_per_second, want.rate_per_second);
    EXPECT_EQ(got.retry_window_seconds, want.retry_window_seconds);
    EXPECT_EQ(got.created_at, want.created_at);
  };
  auto listed = another()->nhs_callback_targets(m.client);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  expect_target((*listed)[0], full);
  expect_target((*listed)[1], minimal);
  listed = store_->nhs_callback_targets(std::nullopt);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].id, full.id);
  EXPECT_EQ((*listed)[1].id, others.id);
  EXPECT_EQ((*listed)[2].id, minimal.id);
  expect_target((*listed)[1], others);
  EXPECT_TRUE(store_->nhs_callback_targets(crypto::random_uuid())->empty());

  // A put with the id of a stored target replaces it, optional fields and all.
  NhsCallbackTarget changed = full;
  changed.kind = NhsCallbackKind::kMessage;
  changed.url = "https://" + marker + ".example/v2";
  changed.statuses = {};
  changed.supplier_statuses = {};
  changed.api_key_header = "x-api-key";
  changed.api_key = "apikey-canary-rotated-6e1a";
  changed.client_certificate_file.reset();
  changed.client_key_file.reset();
  changed.pinned_key_sha256.reset();
  changed.rate_per_second = 5;
  changed.retry_window_seconds = 600;
  ASSERT_TRUE(another()->put_nhs_callback_target(changed));
  listed = store_->nhs_callback_targets(m.client);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  expect_target((*listed)[0], changed);
  expect_target((*listed)[1], minimal);

  // A target needs its client.
  NhsCallbackTarget orphan = minimal;
  orphan.id = crypto::random_uuid();
  orphan.client = crypto::random_uuid();
  auto refused = store_->put_nhs_callback_target(orphan);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->nhs_callback_targets(std::nullopt)->size(), 3u);

  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("apikey-canary"), std::string::npos) << "API keys are sealed";
    EXPECT_NE(disk->find(marker), std::string::npos)
        << "the rows themselves must be on disk, or the scan proves nothing";
  }

  // Deleting a target deletes its callbacks, pending and dead, and no other target's.
  auto claimed = store_->claim_nhs_messages(10, now_, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
  step.message.status = NhsMessageStatus::kSending;
  auto callback_for = [&](const NhsCallbackTarget& t, std::string body) {
    NhsCallbackRecord c;
    c.target = t.id;
    c.client = m.client;
    c.service = service_.id;
    c.message_id = m.id;
    c.body = std::move(body);
    c.created_at = now_;
    c.next_attempt_at = now_;
    return c;
  };
  step.callbacks = {callback_for(changed, R"({"data":[1]})"), callback_for(changed, R"({"data":[2]})"),
                    callback_for(minimal, R"({"data":[3]})")};
  ASSERT_TRUE(*store_->save_nhs_step(step, now_));
  auto due = store_->claim_nhs_callbacks(10, now_, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 3u);
  ASSERT_TRUE(store_->finish_nhs_callback(
      {(*due)[0].id, NhsCallbackAttempt::Outcome::kDead, now_, std::nullopt, std::string("HTTP 410")}));
  auto deleted = another()->delete_nhs_callback_target(changed.id);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  deleted = store_->delete_nhs_callback_target(changed.id);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_FALSE(*deleted) << "no such target any more";
  listed = store_->nhs_callback_targets(m.client);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, minimal.id);
  EXPECT_TRUE(store_->dead_nhs_callbacks(std::nullopt, 10)->empty()) << "its dead callback went with it";
  due = store_->claim_nhs_callbacks(10, now_ + 1h, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u) << "its pending callback went with it";
  EXPECT_EQ((*due)[0].target, minimal.id);
  EXPECT_EQ((*due)[0].body, R"({"data":[3]})");
}

// NHS Notify callbacks: stored with the cascade step that made them (not when its claim was
// lost), claimed earliest first under a lease, retried, sent (deleted) or kept dead for an
// operator to replay; their bodies sealed at rest.
TEST_P(StoreContract, NhsCallbacksGoWithTheirStepAndAreClaimedRetriedSentOrReplayed) {
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzC");
  ASSERT_FALSE(m.id.empty());
  NhsCallbackTarget target;
  target.id = crypto::random_uuid();
  target.client = m.client;
  target.url = "https://receiver.example/cb";
  target.api_key = "api-key";
  target.created_at = now_;
  ASSERT_TRUE(store_->put_nhs_callback_target(target));
  auto callback = [&](std::string body, Timestamp due) {
    NhsCallbackRecord c;
    c.target = target.id;
    c.client = m.client;
    c.service = service_.id;
    c.message_id = m.id;
    c.body = std::move(body);
    c.created_at = now_;
    c.next_attempt_at = due;
    return c;
  };
  const std::string body1 = R"({"data":[{"type":"MessageStatus","reference":"callback-canary-ref-4f1d-1"}]})";
  const std::string body2 = R"({"data":[{"type":"MessageStatus","reference":"callback-canary-ref-4f1d-2"}]})";
  const std::string body3 = R"({"data":[{"type":"MessageStatus","reference":"callback-canary-ref-4f1d-3"}]})";

  // A step whose claim was lost stores none of its callbacks.
  auto first = store_->claim_nhs_messages(10, now_, 60s);
  ASSERT_TRUE(first && first->size() == 1u);
  auto second = another()->claim_nhs_messages(10, now_ + 61s, 60s);
  ASSERT_TRUE(second && second->size() == 1u);
  NhsCascadeStep lost{(*first)[0].message, (*first)[0].claim, {}};
  lost.message.status = NhsMessageStatus::kDelivered;
  lost.callbacks = {callback("lost-step-callback", now_)};
  EXPECT_FALSE(*store_->save_nhs_step(lost, now_ + 61s));
  auto due = store_->claim_nhs_callbacks(10, now_ + 24h, 60s);
  ASSERT_TRUE(due) << due.error().message;
  EXPECT_TRUE(due->empty()) << "the lost step's callbacks are not stored";

  NhsCascadeStep step{(*second)[0].message, (*second)[0].claim, {}};
  step.message.status = NhsMessageStatus::kDelivered;
  step.callbacks = {callback(body1, now_), callback(body3, now_), callback(body2, now_ + 1s)};
  ASSERT_TRUE(*store_->save_nhs_step(step, now_ + 61s));

  // Earliest due first, then in the order stored; one claim at a time until the lease ends.
  due = store_->claim_nhs_callbacks(10, now_, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 2u);
  const NhsCallbackRecord c1 = (*due)[0];
  EXPECT_GT(c1.id, 0);
  EXPECT_GT((*due)[1].id, c1.id);
  EXPECT_EQ(c1.target, target.id);
  EXPECT_EQ(c1.client, m.client);
  EXPECT_EQ(c1.service, service_.id);
  EXPECT_EQ(c1.message_id, m.id);
  EXPECT_EQ(c1.body, body1);
  EXPECT_EQ(c1.state, NhsCallbackState::kPending);
  EXPECT_EQ(c1.attempts, 0);
  EXPECT_EQ(c1.created_at, now_);
  EXPECT_EQ(c1.next_attempt_at, now_);
  EXPECT_FALSE(c1.first_attempt_at.has_value());
  EXPECT_FALSE(c1.last_error.has_value());
  EXPECT_EQ((*due)[1].body, body3);
  ASSERT_TRUE(store_->finish_nhs_callback(
      {(*due)[1].id, NhsCallbackAttempt::Outcome::kSent, now_, std::nullopt, std::nullopt}));
  due = another()->claim_nhs_callbacks(10, now_ + 1s, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u) << "the others are held by their leases, or sent";
  const NhsCallbackRecord c2 = (*due)[0];
  EXPECT_EQ(c2.body, body2);
  EXPECT_TRUE(store_->claim_nhs_callbacks(10, now_ + 59s, 60s)->empty());

  // A retry counts the attempt and makes the callback due when it says.
  ASSERT_TRUE(store_->finish_nhs_callback(
      {c1.id, NhsCallbackAttempt::Outcome::kRetry, now_ + 2s, now_ + 120s, std::string("HTTP 503")}));
  EXPECT_TRUE(store_->claim_nhs_callbacks(10, now_ + 60s, 60s)->empty()) << "retried later, not at its lease's end";
  due = store_->claim_nhs_callbacks(10, now_ + 120s, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 2u) << "c2's lease ended too";
  const NhsCallbackRecord retried = (*due)[0].id == c1.id ? (*due)[0] : (*due)[1];
  ASSERT_EQ(retried.id, c1.id);
  EXPECT_EQ(retried.attempts, 1);
  EXPECT_EQ(retried.next_attempt_at, now_ + 120s);
  EXPECT_EQ(retried.first_attempt_at, std::optional<Timestamp>(now_ + 2s));
  EXPECT_EQ(retried.last_error, std::optional<std::string>("HTTP 503"));
  EXPECT_EQ(retried.body, body1);
  EXPECT_EQ((*due)[0].id, c2.id) << "c2 was due first";
  ASSERT_TRUE(another()->finish_nhs_callback(
      {c2.id, NhsCallbackAttempt::Outcome::kDead, now_ + 121s, std::nullopt, std::string("HTTP 410")}));
  ASSERT_TRUE(store_->finish_nhs_callback(
      {c1.id, NhsCallbackAttempt::Outcome::kRetry, now_ + 121s, now_ + 200s, std::string("timed out")}));
  due = store_->claim_nhs_callbacks(10, now_ + 200s, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 2);
  EXPECT_EQ((*due)[0].first_attempt_at, std::optional<Timestamp>(now_ + 2s)) << "set by the first attempt only";
  EXPECT_EQ((*due)[0].last_error, std::optional<std::string>("timed out"));

  // Sent: deleted. Dead: kept, not claimed, listed for an operator.
  ASSERT_TRUE(store_->finish_nhs_callback(
      {c1.id, NhsCallbackAttempt::Outcome::kSent, now_ + 201s, std::nullopt, std::nullopt}));
  EXPECT_TRUE(store_->claim_nhs_callbacks(10, now_ + 24h, 60s)->empty());
  auto dead = another()->dead_nhs_callbacks(std::nullopt, 10);
  ASSERT_TRUE(dead) << dead.error().message;
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, c2.id);
  EXPECT_EQ((*dead)[0].state, NhsCallbackState::kDead);
  EXPECT_EQ((*dead)[0].attempts, 1) << "a lease that ended is not an attempt";
  EXPECT_EQ((*dead)[0].first_attempt_at, std::optional<Timestamp>(now_ + 121s));
  EXPECT_EQ((*dead)[0].last_error, std::optional<std::string>("HTTP 410"));
  EXPECT_EQ((*dead)[0].body, body2);
  EXPECT_EQ((*dead)[0].message_id, m.id);
  EXPECT_EQ(store_->dead_nhs_callbacks(m.client, 10)->size(), 1u);
  EXPECT_TRUE(store_->dead_nhs_callbacks(crypto::random_uuid(), 10)->empty());
  EXPECT_TRUE(store_->dead_nhs_callbacks(std::nullopt, 0)->empty());

  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("callback-canary-ref-4f1d"), std::string::npos) << "callback bodies are sealed";
  }

  // Replayed: pending again, due at once, as if new.
  EXPECT_FALSE(*store_->replay_nhs_callback(c1.id, now_ + 300s)) << "sent: gone";
  EXPECT_FALSE(*store_->replay_nhs_callback(c2.id + 1000, now_ + 300s)) << "no such callback";
  auto replayed = another()->replay_nhs_callback(c2.id, now_ + 300s);
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_TRUE(*replayed);
  EXPECT_FALSE(*store_->replay_nhs_callback(c2.id, now_ + 300s)) << "pending, not dead";
  EXPECT_TRUE(store_->dead_nhs_callbacks(std::nullopt, 10)->empty());
  EXPECT_TRUE(store_->claim_nhs_callbacks(10, now_ + 299s, 60s)->empty());
  due = store_->claim_nhs_callbacks(10, now_ + 300s, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, c2.id);
  EXPECT_EQ((*due)[0].state, NhsCallbackState::kPending);
  EXPECT_EQ((*due)[0].attempts, 0);
  EXPECT_EQ((*due)[0].next_attempt_at, now_ + 300s);
  EXPECT_FALSE((*due)[0].first_attempt_at.has_value());
  EXPECT_FALSE((*due)[0].last_error.has_value());
  EXPECT_EQ((*due)[0].body, body2);
}

// A callback whose day's data key was destroyed (retention) is deleted by the claim that finds
// it, not returned; the other day's callback is claimed as usual.
TEST_P(StoreContract, NhsCallbackWhoseDataKeyIsGoneIsDeletedByItsClaim) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about sealed bytes; the in-memory store seals nothing";
  auto keys = std::make_shared<testing::ShreddableDataKeys>();
  cipher_ = std::make_shared<crypto::FieldCipher>(keys, crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzK");
  ASSERT_FALSE(m.id.empty());
  NhsCallbackTarget target;
  target.id = crypto::random_uuid();
  target.client = m.client;
  target.url = "https://receiver.example/cb";
  target.api_key = "api-key";
  target.created_at = now_;
  ASSERT_TRUE(store_->put_nhs_callback_target(target));
  auto claimed = store_->claim_nhs_messages(10, now_, 60s);
  ASSERT_TRUE(claimed && claimed->size() == 1u);
  NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
  auto callback = [&](std::string body, Timestamp created) {
    NhsCallbackRecord c;
    c.target = target.id;
    c.client = m.client;
    c.service = service_.id;
    c.message_id = m.id;
    c.body = std::move(body);
    c.created_at = created;
    c.next_attempt_at = now_ + 24h;
    return c;
  };
  step.callbacks = {callback("of the first day", now_), callback("of the next day", now_ + 24h)};
  ASSERT_TRUE(*store_->save_nhs_step(step, now_));

  const std::string first_day = crypto::notification_scope(service_.id.to_string(), now_);
  keys->destroy(first_day, true);
  auto due = store_->claim_nhs_callbacks(10, now_ + 24h, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].body, "of the next day");
  ASSERT_TRUE(store_->finish_nhs_callback(
      {(*due)[0].id, NhsCallbackAttempt::Outcome::kSent, now_ + 24h, std::nullopt, std::nullopt}));

  // Were the first day's callback still stored, it would open again now and be claimed.
  keys->destroy(first_day, false);
  due = another()->claim_nhs_callbacks(10, now_ + 48h, 60s);
  ASSERT_TRUE(due) << due.error().message;
  EXPECT_TRUE(due->empty()) << "deleted, not passed over";
  EXPECT_TRUE(store_->dead_nhs_callbacks(std::nullopt, 10)->empty());
}

// A message still in its cascade when retention shreds its day's data key cannot go on: the claim
// that finds it fails it with Herald's retention reason (its status is plain, so GET can say so)
// instead of leaving it "sending" for ever.
TEST_P(StoreContract, AnNhsMessageInFlightPastItsRetentionIsFailedByItsClaim) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about sealed bytes; the in-memory store seals nothing";
  auto keys = std::make_shared<testing::ShreddableDataKeys>();
  cipher_ = std::make_shared<crypto::FieldCipher>(keys, crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  const NhsMessageRecord m = due_nhs_message("2WL3qFTEFM0qMY8xjRbt1LIKCzR");
  ASSERT_FALSE(m.id.empty());
  keys->destroy(crypto::notification_scope(service_.id.to_string(), now_), true);
  auto claimed = store_->claim_nhs_messages(10, now_ + 24h, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_TRUE(claimed->empty());
  keys->destroy(crypto::notification_scope(service_.id.to_string(), now_), false);
  auto found = store_->find_nhs_message(m.client, m.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, NhsMessageStatus::kFailed);
  EXPECT_EQ((*found)->failure_reason_code, kNhsRetentionFailureCode);
  EXPECT_EQ((*found)->failed_at, now_ + 24h);
  EXPECT_FALSE((*found)->next_step_at.has_value());
  EXPECT_TRUE(store_->claim_nhs_messages(10, now_ + 48h, 60s)->empty()) << "never claimed again";
}

TEST_P(StoreContract, LettersKeepPostageAndASealedPdfUntilRetention) {
  auto letter = notification("1 Canary Lane 7f3e\nLondon\nSW1A 1AA");
  letter.type = Channel::kLetter;
  letter.postage = "first";
  letter.billable_units = 2;
  const std::string pdf = "%PDF-1.7 address Pdf-Canary-91b2";
  ASSERT_TRUE(store_->put_letter_pdf(service_.id, letter.id, letter.created_at, pdf));
  ASSERT_TRUE(store_->insert_notification(letter));
  auto found = store_->find_notification(service_.id, letter.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->postage, "first");
  EXPECT_EQ((*found)->billable_units, 2);
  auto read = store_->find_letter_pdf(service_.id, letter.id);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_TRUE(*read);
  EXPECT_EQ(**read, pdf);
  EXPECT_FALSE(*store_->find_letter_pdf(ServiceId{crypto::random_uuid()}, letter.id)) << "another service";
  EXPECT_FALSE(*store_->find_letter_pdf(service_.id, NotificationId{crypto::random_uuid()}));
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("Canary Lane 7f3e"), std::string::npos);
    EXPECT_EQ(disk->find("Pdf-Canary-91b2"), std::string::npos) << "the PDF is sealed";
  }
  ASSERT_TRUE(store_->redact_before(service_.id, letter.created_at + 1s, letter.created_at + 2s));
  EXPECT_FALSE(*store_->find_letter_pdf(service_.id, letter.id)) << "retention deletes the PDF";
}

DocumentRecord document_for(ServiceId service, Timestamp now) {
  DocumentRecord d;
  d.id = crypto::random_uuid();
  d.service = service;
  d.content = "FILE-CANARY-9b1e contents";
  d.filename = "results-canary-9b1e.pdf";
  d.mime_type = "application/pdf";
  d.key_hash = std::string(32, '\x07');
  d.confirm_email_hash = std::string(32, '\x09');
  d.created_at = now;
  d.expires_at = now + std::chrono::hours(24 * 7 * 26);
  return d;
}

TEST_P(StoreContract, DocumentRoundTripsSealedAndServiceScoped) {
  DocumentRecord d = document_for(service_.id, now_);
  d.mime_type = "marker/" + crypto::random_uuid().to_string();  // stored in plaintext, by design
  ASSERT_TRUE(store_->insert_document(d));
  DocumentRecord plain = document_for(service_.id, now_);
  plain.filename.reset();
  plain.confirm_email_hash.clear();
  ASSERT_TRUE(store_->insert_document(plain));

  auto found = store_->find_document(service_.id, d.id, now_);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  EXPECT_EQ((*found)->content, d.content);
  EXPECT_EQ((*found)->filename, d.filename);
  EXPECT_EQ((*found)->mime_type, d.mime_type);
  EXPECT_EQ((*found)->key_hash, d.key_hash);
  EXPECT_EQ((*found)->confirm_email_hash, d.confirm_email_hash);
  EXPECT_EQ((*found)->expires_at, d.expires_at);
  EXPECT_EQ((*found)->failed_confirmations, 0);
  auto other = store_->find_document(plain.service, plain.id, now_);
  ASSERT_TRUE(other && *other);
  EXPECT_FALSE((*other)->filename);
  EXPECT_TRUE((*other)->confirm_email_hash.empty());

  auto elsewhere = store_->find_document(ServiceId{crypto::random_uuid()}, d.id, now_);
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(*elsewhere) << "another service's document";
  if (const auto disk = this->disk()) {
    EXPECT_EQ(disk->find("CANARY-9b1e"), std::string::npos);
    EXPECT_EQ(disk->find("canary-9b1e"), std::string::npos);
    EXPECT_NE(disk->find(d.mime_type), std::string::npos)
        << "the row itself must be on disk, or the scan proves nothing";
  }
}

TEST_P(StoreContract, DocumentExpiresAndCountsFailures) {
  DocumentRecord d = document_for(service_.id, now_);
  d.expires_at = now_ + 1h;
  ASSERT_TRUE(store_->insert_document(d));
  DocumentRecord later = document_for(service_.id, now_);
  ASSERT_TRUE(store_->insert_document(later));

  EXPECT_EQ(*store_->count_document_failure(service_.id, d.id), 1);
  EXPECT_EQ(*store_->count_document_failure(service_.id, d.id), 2);
  EXPECT_EQ(*store_->count_document_failure(ServiceId{crypto::random_uuid()}, d.id), 0);
  EXPECT_EQ((*store_->find_document(service_.id, d.id, now_))->failed_confirmations, 2);

  auto gone = store_->find_document(service_.id, d.id, now_ + 1h);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone) << "expired documents are not found even before they are deleted";
  EXPECT_EQ(*store_->delete_expired_documents(now_ + 30min), 0);
  EXPECT_EQ(*store_->delete_expired_documents(now_ + 2h), 1);
  EXPECT_EQ(*store_->delete_expired_documents(now_ + 2h), 0);
  EXPECT_TRUE(*store_->find_document(service_.id, later.id, now_ + 2h));
  auto reopened = another();
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(*reopened->find_document(service_.id, d.id, now_));
}

// Releases before schema 13 kept `reference` in plain text (column reference): opening the
// store seals it under the row's own data key, empties the old column, and the filter finds it.
TEST_P(StoreContract, LegacyPlainTextReferencesAreSealedWhenTheStoreOpens) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  auto old_row = notification("old@example.com");
  auto redacted = notification("gone@example.com");
  ASSERT_TRUE(store_->insert_notification(old_row));
  ASSERT_TRUE(store_->insert_notification(redacted));
  const std::string legacy = "legacy-ref-5a1c9e";
  for (const NotificationRecord* row : {&old_row, &redacted}) {
    ASSERT_TRUE(
        backend_->raw_exec("UPDATE notifications SET reference = ?, reference_sealed = NULL, "
                           "reference_index = NULL WHERE id = ?",
                           {{legacy}, {row->id.to_string()}}));
  }
  // The redacted row's personal fields are gone: its reference is dropped, not sealed.
  ASSERT_TRUE(backend_->raw_exec("UPDATE notifications SET recipient = ?, redacted_at = 1 WHERE id = ?",
                                 {{std::string(), true}, {redacted.id.to_string()}}));
  reopen();
  auto found = store_->find_notification(service_.id, old_row.id);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  EXPECT_EQ((*found)->reference, legacy);
  NotificationQuery by_reference;
  by_reference.service = service_.id;
  by_reference.reference = legacy;
  auto listed = store_->list_notifications(by_reference);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].id, old_row.id);
  // The old plain text must be gone from the table's file too. SQLite overwrites it in place
  // (secure_delete) and checkpoints the WAL on close; PostgreSQL keeps the old row version until
  // the table is rewritten, which the operator does once after upgrading (README). The old
  // release's own write-ahead log held it too, until its segments are recycled.
  store_.reset();
  rewrite_until_gone("notifications", legacy);
  EXPECT_EQ(backend_->table_bytes("notifications").find(legacy), std::string::npos);
  reopen();
}

TEST_P(StoreContract, KeyMismatchSurfacesAsDataLoss) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  cipher_ = std::make_shared<crypto::FieldCipher>(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'z')),
                                                  crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, ErrorCode::kDataLoss);
}

TEST_P(StoreContract, UnreadableRowFailsAloneAndDoesNotBlockClaims) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  auto good = notification("good@example.com");
  auto bad = notification("bad@example.com");
  bad.created_at = now_ - 1s;  // due first
  ASSERT_TRUE(store_->insert_notification(bad));
  ASSERT_TRUE(store_->insert_notification(good));
  ASSERT_TRUE(backend_->raw_exec("UPDATE notifications SET body = ? WHERE id = ?",
                                  {{std::string("\x01\0\0\0\x01\0\0", 7), true}, {bad.id.to_string()}}));
  auto claimed = store_->claim_due(10, now_, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, good.id);
  EXPECT_TRUE(store_->claim_due(10, now_ + 1000s, 60s)->size() == 1u) << "only good's lease expiry";
}

TEST_P(StoreContract, CiphertextSwappedBetweenRowsFailsIntegrity) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  auto a = notification("a@example.com");
  auto b = notification("b@example.com");
  ASSERT_TRUE(store_->insert_notification(a));
  ASSERT_TRUE(store_->insert_notification(b));
  ASSERT_TRUE(backend_->raw_exec(
      "UPDATE notifications SET recipient = (SELECT recipient FROM notifications WHERE id = ?) WHERE id = ?",
      {{b.id.to_string()}, {a.id.to_string()}}));
  auto found = store_->find_notification(service_.id, a.id);
  ASSERT_FALSE(found) << "b's recipient must not open as a's";
  EXPECT_EQ(found.error().code, ErrorCode::kDataLoss);
}

TEST_P(StoreContract, TwoStoresOnOneDatabaseNeverClaimTheSameNotification) {
  constexpr int kCount = 300;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(store_->insert_notification(notification()));
  auto other = another();
  ASSERT_TRUE(other);
  std::mutex mutex;
  std::multiset<std::string> claimed;
  auto drain = [&](Store& store) {
    while (true) {
      auto batch = store.claim_due(7, now_, 60s);
      ASSERT_TRUE(batch) << batch.error().message;
      if (batch->empty()) return;
      std::lock_guard lock(mutex);
      for (const auto& r : *batch) claimed.insert(r.id.to_string());
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(drain, std::ref(i % 2 ? *other : *store_));
  for (auto& w : workers) w.join();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), claimed.size()) << "a double claim";
}

TEST_P(StoreContract, ConcurrentOutcomesAreAllRecorded) {
  std::vector<NotificationRecord> records;
  for (int i = 0; i < 200; ++i) {
    records.push_back(notification());
    ASSERT_TRUE(store_->insert_notification(records.back()));
  }
  ASSERT_EQ(store_->claim_due(1000, now_, 60s)->size(), records.size());
  std::atomic<int> failed{0};
  std::atomic<int> pending{static_cast<int>(records.size())};
  for (const auto& r : records) {
    store_->record_outcome_async(
        {r.id, NotificationStatus::kDelivered, now_ + 1s, now_ + 1s, std::nullopt, std::nullopt},
        [&](Result<void> done) {
          if (!done) ++failed;
          --pending;
        });
  }
  ASSERT_TRUE(store_
                  ->record_outcome({NotificationId{crypto::random_uuid()}, NotificationStatus::kDelivered, now_, now_,
                                    std::nullopt, std::nullopt})
                  .error()
                  .code == ErrorCode::kNotFound);
  while (pending.load() > 0) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(failed.load(), 0);
  for (const auto& r : records)
    EXPECT_EQ((*store_->find_notification(service_.id, r.id))->status, NotificationStatus::kDelivered);
}

TEST_P(StoreContract, AuditAppendsFromTwoStoresNeverForkTheChain) {
  auto other = another();
  ASSERT_TRUE(other);
  auto append = [&](Store& store, std::string actor) {
    for (int i = 0; i < 15; ++i) {
      crypto::AuditEntry e;
      e.at = now_;
      e.actor = actor;
      e.action = "test.event";
      e.objects = {{"n", std::to_string(i)}};
      e.outcome = "ok";
      e.source = "test";
      ASSERT_TRUE(store.append_audit({e}));
    }
  };
  std::thread a(append, std::ref(*store_), "a");
  std::thread b(append, std::ref(*other), "b");
  a.join();
  b.join();
  std::vector<crypto::AuditEntry> entries;
  ASSERT_TRUE(store_->read_audit(0, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    entries.push_back(e);
    return ok();
  }));
  ASSERT_EQ(entries.size(), 30u);
  std::string prev(32, '\0');
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(entries[i].prev_hash, prev) << "fork at " << i;
    crypto::AuditEntry check = entries[i];
    crypto::chain_entry(check, prev);
    EXPECT_EQ(check.hash, entries[i].hash);
    prev = entries[i].hash;
  }
}

TEST_P(StoreContract, RedactionEmptiesPersonalFieldsAndBlindIndexFindsOnlyRetainedRows) {
  auto old_one = notification("subject@example.com");
  old_one.recipient_normalised = "subject@example.com";
  old_one.created_at = now_ - 48h;
  auto recent = notification("subject@example.com");
  recent.recipient_normalised = "subject@example.com";
  auto other = notification("someone@example.com");
  other.recipient_normalised = "someone@example.com";
  for (const auto* r : {&old_one, &recent, &other}) ASSERT_TRUE(store_->insert_notification(*r));
  auto found = store_->find_by_recipient(service_.id, "subject@example.com");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->size(), 2u);
  EXPECT_TRUE(*store_->holds_personal_data(service_.id, now_ - 72h, now_ - 24h));
  auto outcome = store_->redact_before(service_.id, now_ - 24h, now_);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->redacted, 1);
  EXPECT_EQ(outcome->failed_pending, 1) << "still undelivered: it must never be sent without its data";
  EXPECT_FALSE(*store_->holds_personal_data(service_.id, now_ - 72h, now_ - 24h));
  EXPECT_FALSE(*store_->find_notification(service_.id, old_one.id));
  found = store_->find_by_recipient(service_.id, "subject@example.com");
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, recent.id);
  EXPECT_TRUE(store_->find_by_recipient(ServiceId{crypto::random_uuid()}, "subject@example.com")->empty());
}

TEST_P(StoreContract, NextSealedNotificationSkipsRedactedRowsAndOtherServices) {
  auto day1 = notification();
  day1.created_at = now_ - 72h;
  auto day2 = notification();
  day2.created_at = now_ - 48h;
  auto day3 = notification();
  day3.created_at = now_ - 1h;
  for (const auto* r : {&day1, &day2, &day3}) ASSERT_TRUE(store_->insert_notification(*r));
  auto first = store_->next_sealed_notification(service_.id, now_ - 100h);
  ASSERT_TRUE(first && *first) << (first ? "none" : first.error().message);
  EXPECT_EQ((*first)->id, day1.id);
  EXPECT_EQ((*first)->created_at, day1.created_at);
  EXPECT_EQ((*store_->next_sealed_notification(service_.id, day1.created_at + 1us))->id, day2.id);
  ASSERT_TRUE(store_->redact_before(service_.id, now_ - 24h, now_));
  EXPECT_EQ((*store_->next_sealed_notification(service_.id, now_ - 100h))->id, day3.id) << "redacted rows hold nothing";
  EXPECT_FALSE(*store_->next_sealed_notification(service_.id, now_));
  EXPECT_FALSE(*store_->next_sealed_notification(ServiceId{crypto::random_uuid()}, now_ - 100h));
}

TEST_P(StoreContract, ServicesKeysAndRetentionSettings) {
  ASSERT_TRUE(store_->set_service_retention(service_.id, 30));
  auto found = store_->find_service_by_name("Service A");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->retention_days, 30);
  EXPECT_EQ((*found)->id, service_.id);
  EXPECT_EQ(store_->set_service_retention(ServiceId{crypto::random_uuid()}, 30).error().code, ErrorCode::kNotFound);
  ApiKeyRecord key{ApiKeyId{crypto::random_uuid()}, service_.id, "k", KeyType::kNormal, "s3cr3t", now_, std::nullopt};
  ASSERT_TRUE(store_->create_api_key(key));
  ASSERT_TRUE(store_->revoke_api_key(service_.id, key.id, now_ + 1s));
  EXPECT_EQ(store_->revoke_api_key(service_.id, key.id, now_ + 2s).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store_->api_keys_for_service(service_.id))[0].revoked_at, now_ + 1s);
  ServiceRecord duplicate = service_;
  duplicate.id = ServiceId{crypto::random_uuid()};
  EXPECT_FALSE(store_->create_service(duplicate)) << "service names are unique";
  EXPECT_EQ(store_->list_services()->size(), 1u);
}

TEST_P(StoreContract, DataKeyRepositorySharesScopesComparesAndSetsAndDestroysForGood) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  auto first = backend_->open_key_repository();
  ASSERT_TRUE(first) << first.error().message;
  auto second = backend_->open_key_repository();  // another node
  ASSERT_TRUE(second);
  const std::string wrapped_a = "WRAPPED-A-" + crypto::random_uuid().to_string();
  crypto::StoredDataKey key{0, "notifications/x/2027-01-01", now_, std::nullopt, {"file-1", wrapped_a}};
  auto made = (*first)->insert(key, false);
  ASSERT_TRUE(made) << made.error().message;
  crypto::StoredDataKey racing = key;
  racing.wrapped.bytes = "WRAPPED-B";
  auto theirs = (*second)->insert(racing, false);
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->id, made->id) << "the scope's first key wins on every node";
  EXPECT_EQ(theirs->wrapped.bytes, wrapped_a);
  crypto::StoredDataKey legacy{7, "legacy/7", now_, std::nullopt, {"file-1", "W7"}};
  EXPECT_EQ((*first)->insert(legacy, true)->id, 7u);

  const crypto::WrappedKey next{"file-2", "WRAPPED-C-" + crypto::random_uuid().to_string()};
  EXPECT_TRUE(*(*first)->replace_wrapping(made->id, made->wrapped, next));
  EXPECT_FALSE(*(*second)->replace_wrapping(made->id, made->wrapped, {"file-3", "X"})) << "compare-and-set";
  EXPECT_EQ((*(*second)->find_by_id(made->id))->wrapped.kek_id, "file-2");

  EXPECT_NE(backend_->key_table_bytes().find(next.bytes), std::string::npos) << "the scan must see live keys";
  ASSERT_TRUE((*second)->destroy(made->id, now_));
  auto destroyed = (*first)->find_by_scope(key.scope);
  ASSERT_TRUE(destroyed && *destroyed);
  EXPECT_TRUE((*destroyed)->destroyed.has_value());
  EXPECT_TRUE((*destroyed)->wrapped.bytes.empty());
  EXPECT_EQ((*first)->list()->size(), 2u);
  const std::string stored = backend_->key_table_bytes();
  EXPECT_EQ(stored.find(next.bytes), std::string::npos) << "destroyed key still in the key table's storage";
  EXPECT_EQ(stored.find(wrapped_a), std::string::npos) << "an old wrapping still in the key table's storage";
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
