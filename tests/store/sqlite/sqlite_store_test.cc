#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/random.h"

namespace herald::store::sqlite {
namespace {

using namespace std::chrono_literals;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-store-" + crypto::random_uuid().to_string());
    std::filesystem::create_directories(dir_);
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
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open({(dir_ / "h.db").string()}, cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  NotificationRecord notification(std::string recipient = "person@example.com") {
    NotificationRecord r;
    r.id = NotificationId{crypto::random_uuid()};
    r.service = service_.id;
    r.api_key = ApiKeyId{crypto::random_uuid()};
    r.template_id = TemplateId{crypto::random_uuid()};
    r.type = "email";
    r.status = "created";
    r.reference = "ref";
    r.recipient = std::move(recipient);
    r.personalisation_json = R"({"name":"Ada"})";
    r.subject = "Subject";
    r.body = "Body";
    r.created_at = now_;
    return r;
  }
  std::string raw_file(const std::string& suffix) {
    std::ifstream in(dir_ / ("h.db" + suffix), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
  std::shared_ptr<crypto::FieldCipher> cipher_;
  std::unique_ptr<SqliteStore> store_;
  ServiceRecord service_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_F(SqliteStoreTest, NotificationRoundTripsAndIsEncryptedInFileAndWal) {
  auto r = notification("canary.7f3a@example.org");
  ASSERT_TRUE(store_->insert_notification(r));
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->recipient, "canary.7f3a@example.org");
  EXPECT_EQ((*found)->personalisation_json, R"({"name":"Ada"})");
  EXPECT_EQ((*found)->status, "created");
  EXPECT_EQ(raw_file("").find("canary.7f3a"), std::string::npos);
  EXPECT_EQ(raw_file("-wal").find("canary.7f3a"), std::string::npos);
  EXPECT_NE(raw_file("-wal").size(), 0u) << "the write must be in the WAL (durable) already";
}

TEST_F(SqliteStoreTest, OtherServiceCannotSeeNotification) {
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  auto found = store_->find_notification(ServiceId{crypto::random_uuid()}, r.id);
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_F(SqliteStoreTest, ClaimLeaseRetryAndOutcome) {
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
  EXPECT_EQ((*claimed)[0].status, "sending");
  EXPECT_TRUE(store_->claim_due(10, now_ + 59s, 60s)->empty()) << "held by its lease";
  auto again = store_->claim_due(10, now_ + 61s, 60s);  // the worker died: lease expired
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);

  ASSERT_TRUE(store_->record_outcome({a.id, "sending", now_ + 62s, std::nullopt, now_ + 100s}));
  EXPECT_TRUE(store_->claim_due(10, now_ + 99s, 60s)->empty()) << "retry not yet due";
  ASSERT_EQ(store_->claim_due(10, now_ + 100s, 60s)->size(), 1u);
  ASSERT_TRUE(store_->record_outcome({a.id, "delivered", now_ + 101s, now_ + 101s, std::nullopt}));
  EXPECT_TRUE(store_->claim_due(10, now_ + 1000s, 60s)->empty()) << "final statuses are never claimed";
  auto done = *store_->find_notification(service_.id, a.id);
  EXPECT_EQ(done->status, "delivered");
  EXPECT_EQ(done->sent_at, now_ + 101s);
}

TEST_F(SqliteStoreTest, SurvivesReopenAndMigrationsAreIdempotent) {
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  reopen();
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_TRUE(found && *found);
}

TEST_F(SqliteStoreTest, ApiKeySecretEncryptedAndReadBack) {
  ApiKeyRecord key{ApiKeyId{crypto::random_uuid()}, service_.id, "k", KeyType::kTeam,
                   "8b3f3c1e-aaaa-bbbb-cccc-000011112222", now_, std::nullopt};
  ASSERT_TRUE(store_->create_api_key(key));
  auto keys = store_->api_keys_for_service(service_.id);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].secret, key.secret);
  EXPECT_EQ((*keys)[0].type, KeyType::kTeam);
  EXPECT_EQ(raw_file("-wal").find("8b3f3c1e-aaaa"), std::string::npos);
}

TEST_F(SqliteStoreTest, TemplatesAreScopedToTheirService) {
  TemplateRecord t{TemplateId{crypto::random_uuid()}, service_.id, "T", "email", "S ((x))", "B ((y))", 1, false, now_,
                   std::nullopt, "cli"};
  ASSERT_TRUE(store_->create_template(t));
  auto found = store_->find_template(service_.id, t.id, std::nullopt);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->body, "B ((y))");
  EXPECT_TRUE(*store_->find_template(service_.id, t.id, 1));
  EXPECT_FALSE(*store_->find_template(service_.id, t.id, 2));
  EXPECT_FALSE(*store_->find_template(ServiceId{crypto::random_uuid()}, t.id, std::nullopt));
}

TEST_F(SqliteStoreTest, KeyMismatchSurfacesAsDataLoss) {
  auto r = notification();
  ASSERT_TRUE(store_->insert_notification(r));
  cipher_ = std::make_shared<crypto::FieldCipher>(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'z')),
                                                  crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  auto found = store_->find_notification(service_.id, r.id);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, ErrorCode::kDataLoss);
}

TEST_F(SqliteStoreTest, UnreadableRowFailsAloneAndDoesNotBlockClaims) {
  auto good = notification("good@example.com");
  auto bad = notification("bad@example.com");
  bad.created_at = now_ - 1s;  // due first
  ASSERT_TRUE(store_->insert_notification(bad));
  ASSERT_TRUE(store_->insert_notification(good));
  {
    auto db = Connection::open((dir_ / "h.db").string(), Connection::Durability::kFull);
    ASSERT_TRUE(db);
    auto corrupt = db->prepare("UPDATE notifications SET body = x'01000000010000' WHERE id = ?");
    ASSERT_TRUE(corrupt);
    ASSERT_TRUE(corrupt->bind_text(1, bad.id.to_string()).run());
  }
  auto claimed = store_->claim_due(10, now_, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, good.id);
  EXPECT_TRUE(store_->claim_due(10, now_ + 1000s, 60s)->size() == 1u) << "only good's lease expiry";
}

TEST_F(SqliteStoreTest, CiphertextSwappedBetweenRowsFailsIntegrity) {
  auto a = notification("a@example.com");
  auto b = notification("b@example.com");
  ASSERT_TRUE(store_->insert_notification(a));
  ASSERT_TRUE(store_->insert_notification(b));
  {
    auto db = Connection::open((dir_ / "h.db").string(), Connection::Durability::kFull);
    ASSERT_TRUE(db);
    auto swap = db->prepare(
        "UPDATE notifications SET recipient = (SELECT recipient FROM notifications WHERE id = ?) WHERE id = ?");
    ASSERT_TRUE(swap);
    ASSERT_TRUE(swap->bind_text(1, b.id.to_string()).bind_text(2, a.id.to_string()).run());
  }
  auto found = store_->find_notification(service_.id, a.id);
  ASSERT_FALSE(found) << "b's recipient must not open as a's";
  EXPECT_EQ(found.error().code, ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace herald::store::sqlite
