#include "crypto/field_cipher.h"
#include "crypto/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace herald::crypto {
namespace {

FieldCipher make_cipher(std::uint32_t id = 1, char fill = 'k') {
  return FieldCipher(std::make_shared<StaticDataKeys>(id, std::string(32, fill)), FieldCipher::Mode::kEncrypt);
}
const FieldContext kRow1{"notifications", "recipient", "row-1"};

TEST(FieldCipher, RoundTripsAndHidesPlaintext) {
  auto cipher = make_cipher();
  auto sealed = cipher.seal("canary.7f3a@example.org", kRow1, 1);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->find("canary"), std::string::npos);
  EXPECT_EQ(sealed->size(), 5 + 12 + 23 + 16u);
  auto opened = cipher.open(*sealed, kRow1);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "canary.7f3a@example.org");
  EXPECT_NE(*cipher.seal("x", kRow1, 1), *cipher.seal("x", kRow1, 1)) << "nonces must differ";
}

TEST(FieldCipher, TamperedCiphertextFailsWithDataLoss) {
  auto cipher = make_cipher();
  auto sealed = *cipher.seal("secret value", kRow1, 1);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto opened = cipher.open(tampered, kRow1);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code, ErrorCode::kDataLoss);
  }
  EXPECT_FALSE(cipher.open(sealed.substr(0, sealed.size() - 1), kRow1));
  EXPECT_FALSE(cipher.open("", kRow1));
}

TEST(FieldCipher, SwappedAssociatedDataFails) {
  auto cipher = make_cipher();
  auto sealed = *cipher.seal("secret value", kRow1, 1);
  EXPECT_FALSE(cipher.open(sealed, {"notifications", "recipient", "row-2"}));   // other row
  EXPECT_FALSE(cipher.open(sealed, {"notifications", "body", "row-1"}));        // other column
  EXPECT_FALSE(cipher.open(sealed, {"api_keys", "recipient", "row-1"}));        // other table
  EXPECT_FALSE(cipher.open(sealed, {"notifications", "recipien", "trow-1"}));   // no ambiguity
}

TEST(FieldCipher, UnknownKeyAndWrongKeyFail) {
  auto sealed = *make_cipher(1, 'a').seal("v", kRow1, 1);
  EXPECT_FALSE(make_cipher(2, 'a').open(sealed, kRow1));  // key id 1 unknown
  EXPECT_FALSE(make_cipher(1, 'b').open(sealed, kRow1));  // same id, other key
}

TEST(FieldCipher, ManyCiphersInOneThreadKeepTheirOwnKeys) {
  // Each thread caches keyed contexts per cipher (bounded, oldest dropped): more ciphers than
  // the cache holds, with the same key id and different keys, must never mix keys up.
  std::vector<FieldCipher> ciphers;
  for (int i = 0; i < 12; ++i) ciphers.push_back(make_cipher(1, static_cast<char>('a' + i)));
  std::vector<std::string> sealed;
  for (auto& c : ciphers) sealed.push_back(*c.seal("value", kRow1, 1));
  for (std::size_t i = 0; i < ciphers.size(); ++i) {
    auto opened = ciphers[i].open(sealed[i], kRow1);
    ASSERT_TRUE(opened) << i;
    EXPECT_EQ(*opened, "value");
    EXPECT_FALSE(ciphers[(i + 1) % ciphers.size()].open(sealed[i], kRow1)) << i;
  }
}

TEST(FieldCipher, PlaintextModeIsVisibleAndNeverReadByEncryptingCipher) {
  FieldCipher plain(std::make_shared<StaticDataKeys>(1, std::string(32, 'k')), FieldCipher::Mode::kPlaintextForTest);
  auto sealed = *plain.seal("visible", kRow1, 1);
  EXPECT_NE(sealed.find("visible"), std::string::npos);
  EXPECT_FALSE(make_cipher().open(sealed, kRow1)) << "an encrypting store must refuse plaintext fields";
}

class KeyringFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-keyring-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "keyring").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(KeyringFile, CreatesMode0600AndLoads) {
  ASSERT_TRUE(Keyring::create_file(path_, SystemClock().now(), true));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto keyring = Keyring::load(path_);
  ASSERT_TRUE(keyring);
  ASSERT_EQ(keyring->keks().size(), 1u);
  EXPECT_EQ(keyring->keks().at(1).key.size(), 32u);
  ASSERT_EQ(keyring->signing_keys().size(), 1u);
  EXPECT_NE(keyring->keks().at(1).key.view(), keyring->signing_keys().at(1).key.view());
  EXPECT_TRUE(keyring->legacy_data_keys().empty());
  EXPECT_FALSE(Keyring::create_file(path_, SystemClock().now(), true)) << "never overwrite a keyring";
}

TEST_F(KeyringFile, UpdateAddsKeysAtomicallyAndKeepsMode0600) {
  ASSERT_TRUE(Keyring::create_file(path_, SystemClock().now(), false));
  EXPECT_TRUE(Keyring::load(path_)->keks().empty());
  ASSERT_TRUE(Keyring::update(path_, [](Keyring& k) -> Result<void> {
    HERALD_TRY(k.add_kek(SystemClock().now()));
    HERALD_TRY(k.add_kek(SystemClock().now()));
    return ok();
  }));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto keyring = Keyring::load(path_);
  ASSERT_TRUE(keyring);
  EXPECT_EQ(keyring->keks().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".new"));
  // A failing change leaves the file as it was.
  EXPECT_FALSE(Keyring::update(path_, [](Keyring& k) -> Result<void> {
    k.remove_kek(1);
    return internal_error("no");
  }));
  EXPECT_EQ(Keyring::load(path_)->keks().size(), 2u);
}

TEST_F(KeyringFile, ReadsFirstReleaseFileAsLegacyDataKeys) {
  std::ofstream(path_) << "herald-keyring v1\ndata-key 1 2026-01-01T00:00:00.000000Z " << std::string(43, 'A')
                       << "=\ndata-key 2 2026-02-01T00:00:00.000000Z " << std::string(42, 'B') << "A=\n";
  ::chmod(path_.c_str(), 0600);
  auto keyring = Keyring::load(path_);
  ASSERT_TRUE(keyring) << keyring.error().message;
  EXPECT_EQ(keyring->legacy_data_keys().size(), 2u);
  EXPECT_TRUE(keyring->keks().empty());
}

TEST_F(KeyringFile, RefusesGroupOrWorldReadableFileWithoutLeakingKeys) {
  ASSERT_TRUE(Keyring::create_file(path_, SystemClock().now(), true));
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line) && !line.starts_with("kek ")) {
  }
  ASSERT_TRUE(line.starts_with("kek "));
  const std::string encoded_key = line.substr(line.rfind(' ') + 1);
  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    ::chmod(path_.c_str(), mode);
    auto keyring = Keyring::load(path_);
    ASSERT_FALSE(keyring) << std::oct << mode;
    EXPECT_EQ(keyring.error().code, ErrorCode::kPermissionDenied);
    EXPECT_NE(keyring.error().message.find("chmod 600"), std::string::npos);
    EXPECT_EQ(keyring.error().message.find(encoded_key), std::string::npos);
  }
  ::chmod(path_.c_str(), 0600);
  EXPECT_TRUE(Keyring::load(path_));
}

TEST_F(KeyringFile, MalformedFileErrorNamesLineNotContent) {
  std::ofstream(path_) << "herald-keyring v1\ndata-key 1 2026-01-01T00:00:00.000000Z c2VjcmV0LXRvby1zaG9ydA==\n";
  ::chmod(path_.c_str(), 0600);
  auto keyring = Keyring::load(path_);
  ASSERT_FALSE(keyring);
  EXPECT_NE(keyring.error().message.find("line 2"), std::string::npos);
  EXPECT_EQ(keyring.error().message.find("c2VjcmV0"), std::string::npos);
}

}  // namespace
}  // namespace herald::crypto
