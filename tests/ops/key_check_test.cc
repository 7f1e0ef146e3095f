// Data keys against the data they protect (ops/key_check.h), with the real pieces: a SQLite store,
// keys.db and a keyring KEK. The failure it guards against: a database restored beside a keys.db
// that lacks the newest keys (copied without its WAL) started, made new keys for days that
// already had data, and could then open none of it.
#include "ops/key_check.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/field_cipher.h"
#include "crypto/keyring.h"
#include "crypto/keyring_kek.h"
#include "crypto/random.h"
#include "store/sqlite/key_repository.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::ops {
namespace {

using namespace std::chrono_literals;

Timestamp at(const char* text) { return *parse_timestamp(text); }

class KeyCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-keycheck-" + crypto::random_uuid().to_string());
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(crypto::Keyring::create_file((dir_ / "keyring").string(), day1_, true));
    open("keys.db");
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = day1_;
    ASSERT_TRUE(store_->create_service(service_));
  }
  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }
  // The database with the key store in `keys_file`, as a restarted server opens them.
  void open(const std::string& keys_file, bool guarded = false) {
    close();
    auto repository = store::sqlite::SqliteKeyRepository::open((dir_ / keys_file).string());
    ASSERT_TRUE(repository) << repository.error().message;
    keys_ = std::make_shared<crypto::DataKeys>(std::make_shared<crypto::KeyringKek>((dir_ / "keyring").string()),
                                               *repository);
    auto cipher = std::make_shared<crypto::FieldCipher>(keys_, crypto::FieldCipher::Mode::kEncrypt);
    auto opened = store::sqlite::SqliteStore::open({(dir_ / "herald.db").string()}, cipher, day1_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    if (guarded) keys_->set_new_key_guard(new_key_guard(*store_, *store_));
  }
  void close() {
    if (keys_) keys_->set_new_key_guard(nullptr);
    store_.reset();
    keys_.reset();
  }
  Result<void> accept_at(Timestamp created) {
    return store_->insert_notification(fakes::sample_email(service_.id, created));
  }
  Result<KeyCheckReport> check() { return check_keys_open_data(*store_, *store_, *store_, keys_->repository()); }
  // keys.db as a file copy, WAL included: what `herald keys backup` must get right.
  void copy_key_store(const std::string& to) {
    close();  // the store checkpoints its WAL into keys.db on close
    std::filesystem::copy_file(dir_ / "keys.db", dir_ / to);
    open("keys.db");
  }

  Timestamp day1_ = at("2026-11-30T10:00:00.000000Z");
  Timestamp day2_ = at("2026-12-01T23:59:59.999999Z");
  std::filesystem::path dir_;
  std::shared_ptr<crypto::DataKeys> keys_;
  std::unique_ptr<store::Store> store_;
  store::ServiceRecord service_;
};

TEST_F(KeyCheck, EveryDayWithSealedDataHasItsKeyAndOpens) {
  ASSERT_TRUE(accept_at(day1_));
  ASSERT_TRUE(accept_at(day1_ + 1h));
  ASSERT_TRUE(accept_at(day2_));
  auto report = check();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->services, 1);
  EXPECT_EQ(report->days, 2) << "one probe per service and day";
}

TEST_F(KeyCheck, AKeyStoreOlderThanTheDataIsRefusedByNameAndMakesNoKeyForThatDay) {
  ASSERT_TRUE(accept_at(day1_));
  copy_key_store("keys-before-day2.db");  // the operator's copy, taken before day 2's key existed
  ASSERT_TRUE(accept_at(day2_));

  open("keys-before-day2.db", /*guarded=*/true);
  auto report = check();
  ASSERT_FALSE(report) << "day 2's notifications have no key in the old copy";
  EXPECT_EQ(report.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(report.error().message.find("no data key for the notifications of service " + service_.id.to_string() +
                                        " from 2026-12-01"),
            std::string::npos)
      << report.error().message;
  EXPECT_NE(report.error().message.find("herald keys restore"), std::string::npos);

  // The guard: a send dated day 2 must not make a new key for it.
  auto refused = accept_at(day2_ - 1h);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(refused.error().message.find("refusing to make a new data key"), std::string::npos);
  auto listed = keys_->repository().find_by_scope(crypto::notification_scope(service_.id.to_string(), day2_));
  ASSERT_TRUE(listed);
  EXPECT_FALSE(*listed) << "no key was made";
  EXPECT_TRUE(accept_at(day2_ + 1h)) << "a day with no data yet gets its key as usual";
}

TEST_F(KeyCheck, AKeyMadeAnewForAnOldDayIsCaughtBecauseTheDataDoesNotOpen) {
  ASSERT_TRUE(accept_at(day1_));
  copy_key_store("keys-before-day2.db");
  ASSERT_TRUE(accept_at(day2_));
  // Without the guard (the old behaviour) the old copy gets a fresh key for day 2.
  open("keys-before-day2.db", /*guarded=*/false);
  ASSERT_TRUE(keys_->key_for_scope(crypto::notification_scope(service_.id.to_string(), day2_), day2_));
  auto report = check();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(report.error().message.find("do not open with the key store's keys"), std::string::npos)
      << report.error().message;
}

TEST_F(KeyCheck, RedactedDaysNeedNoKeyAndShreddedDaysAreCountedNotRefused) {
  ASSERT_TRUE(accept_at(day1_));
  ASSERT_TRUE(accept_at(day2_));
  auto day1_key = keys_->repository().find_by_scope(crypto::notification_scope(service_.id.to_string(), day1_));
  ASSERT_TRUE(day1_key && *day1_key);
  // A backup taken now, restored after retention shredded day 1: its rows are still sealed, their
  // key is gone for good. That is crypto-shredding working, not a key store to refuse.
  ASSERT_TRUE(keys_->destroy((*day1_key)->id, day2_));
  auto report = check();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->days, 1);
  EXPECT_EQ(report->shredded_days, 1);
  ASSERT_TRUE(store_->redact_before(service_.id, day2_ - 1h, day2_));
  report = check();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->days, 1);
  EXPECT_EQ(report->shredded_days, 0) << "redacted rows hold nothing to open";
}

}  // namespace
}  // namespace herald::ops
