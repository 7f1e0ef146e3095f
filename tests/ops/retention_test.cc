// Retention at the edges of a day: what is sealed in a day's last microsecond belongs to that
// day, is shredded with it, and retention run at midnight takes exactly the days wholly past.
// The real pieces (SQLite store, keys.db, keyring KEK), each given the time it needs.
#include "ops/retention.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

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

class RetentionAtMidnight : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-retention-" + crypto::random_uuid().to_string());
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(crypto::Keyring::create_file((dir_ / "keyring").string(), start_, true));
    auto repository = store::sqlite::SqliteKeyRepository::open((dir_ / "keys.db").string());
    ASSERT_TRUE(repository);
    keys_ = std::make_shared<crypto::DataKeys>(std::make_shared<crypto::KeyringKek>((dir_ / "keyring").string()),
                                               *repository);
    auto cipher = std::make_shared<crypto::FieldCipher>(keys_, crypto::FieldCipher::Mode::kEncrypt);
    auto opened = store::sqlite::SqliteStore::open({(dir_ / "herald.db").string()}, cipher, start_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = start_;
    service_.retention_days = 3;
    ASSERT_TRUE(store_->create_service(service_));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  NotificationId accept_at(Timestamp created) {
    store::NotificationRecord r = fakes::sample_email(service_.id, created);
    r.status = store::NotificationStatus::kDelivered;
    EXPECT_TRUE(store_->insert_notification(r));
    return r.id;
  }
  // Scope -> destroyed, for the service's notification keys.
  std::map<std::string, bool> keys() {
    std::map<std::string, bool> out;
    auto listed = keys_->repository().list();
    EXPECT_TRUE(listed);
    for (const auto& key : *listed) {
      if (key.scope.starts_with("notifications/")) out[key.scope.substr(key.scope.rfind('/') + 1)] = key.destroyed.has_value();
    }
    return out;
  }
  bool readable(NotificationId id) {
    auto found = store_->find_notification(service_.id, id);
    return found && *found && (*found)->recipient == "person@example.com";
  }

  Timestamp start_ = at("2026-12-31T12:00:00.000000Z");
  std::filesystem::path dir_;
  std::shared_ptr<crypto::DataKeys> keys_;
  std::unique_ptr<store::Store> store_;
  store::ServiceRecord service_;
};

TEST_F(RetentionAtMidnight, TheLastMicrosecondOfADayIsSealedAndShreddedWithThatDay) {
  const NotificationId last = accept_at(at("2026-12-31T23:59:59.999999Z"));
  const NotificationId first = accept_at(at("2027-01-01T00:00:00.000000Z"));
  EXPECT_EQ(keys(), (std::map<std::string, bool>{{"2026-12-31", false}, {"2027-01-01", false}}))
      << "each sealed under its own day's key";

  // A microsecond before midnight three days on: nothing is wholly expired yet.
  Retention retention(*store_, *keys_);
  auto report = retention.run(at("2027-01-03T23:59:59.999999Z"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->redacted, 0);
  EXPECT_EQ(report->keys_destroyed, 0);
  EXPECT_TRUE(readable(last));

  // Run at midnight exactly: the 31st is wholly past its three days, the 1st is not.
  report = retention.run(at("2027-01-04T00:00:00.000000Z"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->redacted, 1);
  EXPECT_EQ(report->keys_destroyed, 1);
  EXPECT_EQ(keys(), (std::map<std::string, bool>{{"2026-12-31", true}, {"2027-01-01", false}}));
  EXPECT_FALSE(readable(last));
  EXPECT_TRUE(readable(first)) << "the first microsecond of the next day belongs to the next day";

  report = retention.run(at("2027-01-05T00:00:00.000000Z"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->redacted, 1);
  EXPECT_EQ(keys(), (std::map<std::string, bool>{{"2026-12-31", true}, {"2027-01-01", true}}));
  EXPECT_FALSE(readable(first));
}

TEST_F(RetentionAtMidnight, KeysMadeAheadForTomorrowGoOnlyWhenTomorrowIsPast) {
  // serve prepares today's and tomorrow's keys; in the last minute of the day that is the 29th
  // of February and the 1st of March.
  ASSERT_TRUE(prepare_data_keys(*store_, *keys_, at("2028-02-29T23:59:30.000000Z")));
  const NotificationId leap = accept_at(at("2028-02-29T23:59:59.999999Z"));
  EXPECT_EQ(keys(), (std::map<std::string, bool>{{"2028-02-29", false}, {"2028-03-01", false}}));
  Retention retention(*store_, *keys_);
  auto report = retention.run(at("2028-03-03T23:59:59.999999Z"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->keys_destroyed, 0) << "the 29th's three days end at the start of the 4th";
  EXPECT_TRUE(readable(leap));
  report = retention.run(at("2028-03-04T00:00:00.000000Z"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->redacted, 1);
  EXPECT_EQ(report->keys_destroyed, 1) << "the 29th only";
  EXPECT_FALSE(readable(leap));
  report = retention.run(at("2028-03-05T00:00:00.000000Z"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->keys_destroyed, 1) << "then the empty key made ahead for the 1st";
  EXPECT_EQ(keys(), (std::map<std::string, bool>{{"2028-02-29", true}, {"2028-03-01", true}}));
}

}  // namespace
}  // namespace herald::ops
