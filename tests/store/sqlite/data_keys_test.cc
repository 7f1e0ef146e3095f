// Envelope encryption end to end: DataKeys over the keyring-file KEK and the keys.db store.
#include "crypto/data_keys.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/field_cipher.h"
#include "crypto/keyring.h"
#include "crypto/keyring_kek.h"
#include "crypto/random.h"
#include "ops/retention.h"
#include "store/sqlite/key_repository.h"
#include "tests/fakes/memory_store.h"

namespace herald::crypto {
namespace {

using store::sqlite::SqliteKeyRepository;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class DataKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-dek-" + random_uuid().to_string());
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(Keyring::create_file(keyring(), now_, true));
    keys_ = open();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string keyring() const { return (dir_ / "keyring").string(); }
  std::filesystem::path key_store() const { return dir_ / "keys.db"; }
  // A fresh instance over the same files: what another process (or a restart) sees.
  std::shared_ptr<DataKeys> open() {
    auto repository = SqliteKeyRepository::open(key_store().string());
    EXPECT_TRUE(repository);
    return std::make_shared<DataKeys>(std::make_shared<KeyringKek>(keyring()), *repository);
  }
  std::string key_bytes(DataKeys& keys, std::uint32_t id) {
    std::string out;
    EXPECT_TRUE(keys.with_key(id, [&](const SecretBytes& k) { out = std::string(k.view()); }));
    return out;
  }

  Timestamp now_ = *parse_timestamp("2026-11-23T10:00:00.000000Z");  // tests set their time
  std::filesystem::path dir_;
  std::shared_ptr<DataKeys> keys_;
};

const FieldContext kRow{"notifications", "recipient", "row-1"};

TEST_F(DataKeysTest, OneKeyPerScopeStoredOnlyWrapped) {
  const std::string day1 = notification_scope("svc-a", now_);
  const std::string day2 = notification_scope("svc-a", now_ + std::chrono::hours(24));
  const std::string other = notification_scope("svc-b", now_);
  auto a = keys_->key_for_scope(day1, now_);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*keys_->key_for_scope(day1, now_), *a);
  auto b = keys_->key_for_scope(day2, now_);
  auto c = keys_->key_for_scope(other, now_);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(key_bytes(*keys_, *a), key_bytes(*keys_, *b));
  EXPECT_EQ(day1.substr(0, 20), "notifications/svc-a/");
  EXPECT_EQ(day1.size(), 30u);

  // The key store file and its WAL hold wrapped keys, never a key itself.
  const std::string raw = read_file(key_store()) + read_file(key_store().string() + "-wal");
  for (auto id : {*a, *b, *c}) EXPECT_EQ(raw.find(key_bytes(*keys_, id)), std::string::npos);

  // Another process finds the same key for the scope and unwraps the same bytes.
  auto other_process = open();
  EXPECT_EQ(*other_process->key_for_scope(day1, now_), *a);
  EXPECT_EQ(key_bytes(*other_process, *a), key_bytes(*keys_, *a));
}

TEST_F(DataKeysTest, DecryptsAfterRotationAndRetirementOfTheOldKek) {
  FieldCipher cipher(keys_, FieldCipher::Mode::kEncrypt);
  const auto id = *keys_->key_for_scope(notification_scope("svc", now_), now_);
  const auto secrets = *keys_->key_for_scope(kSecretsScope, now_);
  const std::string sealed = *cipher.seal("canary@example.org", kRow, id);
  const std::string sealed_secret = *cipher.seal("api-secret", kRow, secrets);

  auto made = keys_->kek().create_version(now_);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->id, "file-2");
  auto report = keys_->rewrap_all();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->rewrapped, 2);
  EXPECT_EQ(report->failed, 0);
  EXPECT_EQ(report->active_kek, "file-2");
  auto listed = keys_->repository().list();
  for (const auto& key : *listed) EXPECT_EQ(key.wrapped.kek_id, "file-2");
  // Resumable: a second run finds nothing to do.
  EXPECT_EQ(keys_->rewrap_all()->rewrapped, 0);
  EXPECT_EQ(keys_->rewrap_all()->current, 2);

  // The active KEK cannot be destroyed; the old one can, and a fresh process still reads all.
  EXPECT_FALSE(keys_->kek().destroy_version("file-2"));
  ASSERT_TRUE(keys_->kek().destroy_version("file-1"));
  EXPECT_EQ(Keyring::load(keyring())->keks().size(), 1u);
  FieldCipher restarted(open(), FieldCipher::Mode::kEncrypt);
  EXPECT_EQ(*restarted.open(sealed, kRow), "canary@example.org");
  EXPECT_EQ(*restarted.open(sealed_secret, kRow), "api-secret");
}

TEST_F(DataKeysTest, WithoutRewrapRetiringTheKekMakesDataUnreadable) {
  // The control switched off: had rotation not re-wrapped, retiring the old KEK loses data.
  FieldCipher cipher(keys_, FieldCipher::Mode::kEncrypt);
  const auto id = *keys_->key_for_scope(notification_scope("svc", now_), now_);
  const std::string sealed = *cipher.seal("x", kRow, id);
  ASSERT_TRUE(keys_->kek().create_version(now_));
  ASSERT_TRUE(keys_->kek().destroy_version("file-1"));
  FieldCipher restarted(open(), FieldCipher::Mode::kEncrypt);
  auto opened = restarted.open(sealed, kRow);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("file-1"), std::string::npos) << opened.error().message;
}

TEST_F(DataKeysTest, RewrapIsCompareAndSet) {
  const auto id = *keys_->key_for_scope("notifications/x/2026-01-01", now_);
  auto stored = *keys_->repository().find_by_id(id);
  ASSERT_TRUE(stored);
  WrappedKey stale = stored->wrapped;
  stale.bytes[0] = static_cast<char>(stale.bytes[0] ^ 1);
  EXPECT_FALSE(*keys_->repository().replace_wrapping(id, stale, {"file-9", "zz"}));
  EXPECT_EQ((*keys_->repository().find_by_id(id))->wrapped.bytes, stored->wrapped.bytes);
}

TEST_F(DataKeysTest, WrappedKeyMovedToAnotherScopeDoesNotUnwrap) {
  const auto a = *keys_->key_for_scope("notifications/a/2026-01-01", now_);
  const auto b = *keys_->key_for_scope("notifications/b/2026-01-01", now_);
  auto stored_a = *keys_->repository().find_by_id(a);
  auto stored_b = *keys_->repository().find_by_id(b);
  ASSERT_TRUE(keys_->repository().replace_wrapping(b, stored_b->wrapped, stored_a->wrapped));
  auto fresh = open();
  auto used = fresh->with_key(b, [](const SecretBytes&) {});
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code, ErrorCode::kDataLoss);
}

TEST_F(DataKeysTest, DestroyedKeyIsGoneFromMemoryFileAndWal) {
  FieldCipher cipher(keys_, FieldCipher::Mode::kEncrypt);
  const std::string scope = notification_scope("svc", now_);
  const auto id = *keys_->key_for_scope(scope, now_);
  ASSERT_EQ(*keys_->key_for_notification("svc", now_), id);  // now cached in this thread
  const std::string sealed = *cipher.seal("canary@example.org", kRow, id);
  ASSERT_TRUE(cipher.open(sealed, kRow));  // caches a keyed context in this thread
  const std::string wrapped = (*keys_->repository().find_by_id(id))->wrapped.bytes;
  const std::string before = read_file(key_store()) + read_file(key_store().string() + "-wal");
  ASSERT_NE(before.find(wrapped), std::string::npos) << "the wrapped key is on disk before the shred";

  ASSERT_TRUE(keys_->destroy(id, now_));
  auto opened = cipher.open(sealed, kRow);
  ASSERT_FALSE(opened) << "the thread's cached context must be dropped too";
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_NE(opened.error().message.find("destroyed"), std::string::npos);
  auto reopened = FieldCipher(open(), FieldCipher::Mode::kEncrypt).open(sealed, kRow);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(read_file(key_store()).find(wrapped), std::string::npos);
  EXPECT_EQ(read_file(key_store().string() + "-wal").find(wrapped), std::string::npos);
  // No new data goes under a destroyed scope's key, not even through the thread's cache.
  EXPECT_FALSE(open()->key_for_scope(scope, now_));
  EXPECT_FALSE(keys_->key_for_notification("svc", now_));
  // The record that the key existed stays.
  EXPECT_TRUE((*keys_->repository().find_by_id(id))->destroyed);
}

TEST_F(DataKeysTest, AKeyAnotherNodeDestroyedIsForgottenAtTheNextRetentionRun) {
  auto other_node = open();  // the same key store, another process's memory
  FieldCipher cipher(other_node, FieldCipher::Mode::kEncrypt);
  const auto id = *other_node->key_for_notification("svc", now_);
  const std::string sealed = *cipher.seal("canary@example.org", kRow, id);
  ASSERT_TRUE(cipher.open(sealed, kRow));  // the other node holds the key in memory
  ASSERT_TRUE(keys_->destroy(id, now_));   // this node shreds it
  EXPECT_TRUE(cipher.open(sealed, kRow)) << "(a copy in memory: why the next run must drop it)";
  fakes::MemoryStore store;
  ASSERT_TRUE(ops::Retention(store, *other_node).run(now_));
  auto opened = cipher.open(sealed, kRow);
  ASSERT_FALSE(opened) << "the other node kept using a destroyed key";
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(other_node->key_for_notification("svc", now_)) << "nor may it seal new data under it";
}

TEST_F(DataKeysTest, ImportsFirstReleaseKeysUnderTheirIds) {
  const std::string legacy(32, 'L');
  FieldCipher old_cipher(std::make_shared<StaticDataKeys>(3, legacy), FieldCipher::Mode::kEncrypt);
  const std::string sealed = *old_cipher.seal("old data", kRow, 3);
  ASSERT_TRUE(keys_->import_legacy(3, SecretBytes(legacy), now_));
  ASSERT_TRUE(keys_->import_legacy(3, SecretBytes(legacy), now_)) << "idempotent";
  FieldCipher cipher(open(), FieldCipher::Mode::kEncrypt);
  EXPECT_EQ(*cipher.open(sealed, kRow), "old data");
  EXPECT_EQ((*keys_->repository().find_by_id(3))->scope, "legacy/3");
  // New keys get ids above the imported ones.
  EXPECT_GT(*keys_->key_for_scope("notifications/n/2026-01-01", now_), 3u);
}

TEST_F(DataKeysTest, PreparesTodaysAndTomorrowsKeysForEveryService) {
  fakes::MemoryStore store;
  for (const char* name : {"A", "B"}) {
    store::ServiceRecord service;
    service.id = ServiceId{random_uuid()};
    service.name = name;
    ASSERT_TRUE(store.create_service(service));
  }
  auto made = ops::prepare_data_keys(store, *keys_, now_);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(*made, 4);
  EXPECT_EQ(*ops::prepare_data_keys(store, *keys_, now_), 0) << "idempotent";
  auto listed = keys_->repository().list();
  EXPECT_EQ(listed->size(), 4u);
  // Tomorrow's key is the one a send tomorrow uses.
  const auto services = *store.list_services();
  const auto tomorrow = now_ + std::chrono::hours(24);
  auto stored = *keys_->repository().find_by_scope(notification_scope(services[0].id.to_string(), tomorrow));
  ASSERT_TRUE(stored);
  EXPECT_EQ(*keys_->key_for_notification(services[0].id.to_string(), tomorrow), stored->id);
}

TEST(SecureMemory, SecretsLiveInLockedPages) {
  const SecureMemory state = init_secure_memory();
  ASSERT_NE(state, SecureMemory::kUnavailable);
  SecretBytes secret(std::string(32, 's'));
  EXPECT_TRUE(secret.in_secure_heap());
  // The secure heap is mlocked unless the system refuses (RLIMIT_MEMLOCK); then kUnlocked.
  std::ifstream status("/proc/self/status");
  std::string line;
  long locked_kb = -1;
  while (std::getline(status, line)) {
    if (line.starts_with("VmLck:")) locked_kb = std::stol(line.substr(6));
  }
  if (state == SecureMemory::kLocked) {
    EXPECT_GE(locked_kb, 1024) << "1 MiB secure heap locked";
  }
  SecretBytes moved = std::move(secret);
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(moved.view(), std::string(32, 's'));
}

}  // namespace
}  // namespace herald::crypto
