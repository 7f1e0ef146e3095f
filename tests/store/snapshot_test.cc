// Store::snapshot_to on every backend (what `herald backup` copies): an SQLite file in Herald's
// schema holding every data table's rows as stored. PostgreSQL's is written by
// store/transfer/postgres_to_sqlite.h, handed to the store the way cli/ does it (backends.h).
#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/random.h"
#include "store/schema.h"
#include "store/sqlite/sqlite_db.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

class Snapshot : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    backend_ = testing::make_backend(GetParam());
    auto cipher = std::make_shared<crypto::FieldCipher>(
        std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')), crypto::FieldCipher::Mode::kEncrypt);
    auto opened = backend_->open(cipher, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::int64_t count(sqlite::Connection& db, const std::string& table) {
    auto stmt = db.prepare("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(stmt) << table << ": " << stmt.error().message;
    if (!stmt) return -1;
    auto row = stmt->step();
    EXPECT_TRUE(row && *row) << table;
    return stmt->column_int(0);
  }

  std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("herald-snapshot-" + crypto::random_uuid().to_string());
  std::unique_ptr<testing::Backend> backend_;
  std::shared_ptr<Store> store_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_P(Snapshot, HoldsEveryDataTableWithItsRowsAsStored) {
  ServiceRecord service;
  service.id = ServiceId{crypto::random_uuid()};
  service.name = "Service A";
  service.email_sender_local_part = "service.a";
  service.created_at = now_;
  ASSERT_TRUE(store_->create_service(service));
  auto notification = fakes::sample_email(service.id, now_, "canary.51c9@example.org");
  ASSERT_TRUE(store_->insert_notification(notification));
  crypto::AuditEntry entry;
  entry.at = now_;
  entry.actor = "test";
  entry.action = "test.event";
  entry.outcome = "success";
  entry.source = "local";
  auto appended = store_->append_audit({entry});
  ASSERT_TRUE(appended) << appended.error().message;
  ASSERT_TRUE(store_->set_mark("heartbeat:node-a", now_));
  ApiKeyRecord key{ApiKeyId{crypto::random_uuid()}, service.id, "k", KeyType::kNormal, "s3cr3t", now_, std::nullopt};
  key.allowed_networks = {"203.0.113.0/24", "2001:db8::/32"};
  ASSERT_TRUE(store_->create_api_key(key));
  auto struck = store_->strike_source("203.0.113.9", "auth_failures", now_, std::chrono::minutes(1),
                                      std::chrono::hours(1), now_ - std::chrono::hours(24));
  ASSERT_TRUE(struck) << struck.error().message;

  const std::string path = (dir_ / "snapshot.db").string();
  auto taken = store_->snapshot_to(path);
  ASSERT_TRUE(taken) << taken.error().message;

  auto db = sqlite::Connection::open(path, sqlite::Connection::Durability::kFull);
  ASSERT_TRUE(db) << db.error().message;
  for (std::string_view table : kDataTables) EXPECT_GE(count(*db, std::string(table)), 0) << table;
  EXPECT_EQ(count(*db, "services"), 1);
  EXPECT_EQ(count(*db, "notifications"), 1);
  EXPECT_EQ(count(*db, "audit_log"), 1);
  EXPECT_EQ(count(*db, "operation_marks"), 1);
  EXPECT_EQ(count(*db, "source_blocks"), 1);
  auto columns =
      db->prepare("SELECT k.allowed_networks, b.source, b.until, b.strikes, b.reason FROM api_keys k, source_blocks b");
  ASSERT_TRUE(columns) << columns.error().message;
  auto copied = columns->step();
  ASSERT_TRUE(copied && *copied);
  EXPECT_EQ(columns->column_text(0), "203.0.113.0/24,2001:db8::/32");
  EXPECT_EQ(columns->column_text(1), "203.0.113.9");
  EXPECT_EQ(columns->column_int(2), to_micros(now_ + std::chrono::minutes(1)));
  EXPECT_EQ(columns->column_int(3), 1);
  EXPECT_EQ(columns->column_text(4), "auth_failures");
  auto hash = db->prepare("SELECT hash, recipient FROM audit_log, notifications");
  ASSERT_TRUE(hash);
  auto row = hash->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(hash->column_blob(0), (*appended)[0].hash) << "the audit chain is copied byte for byte";
  EXPECT_EQ(hash->column_blob(1).find("canary.51c9"), std::string::npos) << "personal fields stay sealed";
  EXPECT_FALSE(hash->column_blob(1).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, Snapshot, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
