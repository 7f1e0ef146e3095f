#include "crypto/pkcs11_kek.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <p11-kit/pkcs11.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace herald::crypto {
namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kTokenLabel = "herald-test";
constexpr const char* kUserPin = "user-pin-4711";
constexpr const char* kSoPin = "so-pin-0815";
const std::string kDek(32, '\x5a');

Timestamp at(const char* text) { return *parse_timestamp(text); }

// Runs a program without a shell; returns its exit status (-1 when it could not start).
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Every test gets its own SoftHSM2 token store in a fresh directory. SoftHSM2 reads
// SOFTHSM2_CONF at C_Initialize; Pkcs11Kek finalises the module when its last object goes, so
// each test (whose Pkcs11Kek objects are gone before TearDown) starts from its own store.
class Pkcs11KekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kModule, R_OK), 0)
        << "SoftHSM2 module " << kModule << " is missing; `make deps` installs softhsm2";
    std::string pattern =
        (std::filesystem::temp_directory_path() / "herald-pkcs11-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::filesystem::create_directory(dir_ / "tokens");
    const auto conf = dir_ / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
                        << "objectstore.backend = file\n"
                        << "log.level = ERROR\n";
    if (const char* old = std::getenv("SOFTHSM2_CONF")) old_conf_ = old;
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    ASSERT_EQ(run({"softhsm2-util", "--init-token", "--free", "--label", kTokenLabel, "--so-pin",
                   kSoPin, "--pin", kUserPin}),
              0)
        << "softhsm2-util --init-token failed; `make deps` installs softhsm2";
  }

  void TearDown() override {
    if (old_conf_)
      ::setenv("SOFTHSM2_CONF", old_conf_->c_str(), 1);
    else
      ::unsetenv("SOFTHSM2_CONF");
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  static Pkcs11Config config(std::string_view pin = kUserPin) {
    Pkcs11Config c;
    c.module_path = kModule;
    c.token_label = kTokenLabel;
    c.user_pin = SecretBytes(pin);
    return c;
  }

  static std::unique_ptr<Pkcs11Kek> open_kek() {
    auto kek = Pkcs11Kek::open(config());
    EXPECT_TRUE(kek) << kek.error().message;
    return kek ? std::move(*kek) : nullptr;
  }

  std::filesystem::path dir_;
  std::optional<std::string> old_conf_;
};

TEST_F(Pkcs11KekTest, FreshTokenHasNoVersionsAndCannotWrap) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  EXPECT_EQ(kek->description(), "PKCS#11 token 'herald-test'");
  auto versions = kek->versions();
  ASSERT_TRUE(versions) << versions.error().message;
  EXPECT_TRUE(versions->empty());
  auto wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_FALSE(wrapped);
  EXPECT_EQ(wrapped.error().code, ErrorCode::kNotFound);
}

TEST_F(Pkcs11KekTest, WrapUnwrapRoundTrip) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  auto version = kek->create_version(at("2026-11-22T21:59:09.123456Z"));
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(version->id, "pkcs11-1");
  EXPECT_EQ(version->number, 1u);
  EXPECT_TRUE(version->active);
  EXPECT_EQ(version->created, at("2026-11-22T00:00:00.000000Z"));  // day precision

  auto wrapped = kek->wrap(SecretBytes(kDek), "kek=pkcs11-1 dek=7");
  ASSERT_TRUE(wrapped) << wrapped.error().message;
  EXPECT_EQ(wrapped->kek_id, "pkcs11-1");
  EXPECT_EQ(wrapped->bytes.size(), 12u + 32u + 16u);
  EXPECT_EQ(wrapped->bytes.find(kDek), std::string::npos);

  auto again = kek->wrap(SecretBytes(kDek), "kek=pkcs11-1 dek=7");
  ASSERT_TRUE(again);
  EXPECT_NE(again->bytes.substr(0, 12), wrapped->bytes.substr(0, 12)) << "nonce reused";

  auto key = kek->unwrap(*wrapped, "kek=pkcs11-1 dek=7");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->view(), kDek);

  auto empty_aad = kek->wrap(SecretBytes(kDek), "");
  ASSERT_TRUE(empty_aad) << empty_aad.error().message;
  auto empty_key = kek->unwrap(*empty_aad, "");
  ASSERT_TRUE(empty_key) << empty_key.error().message;
  EXPECT_EQ(empty_key->view(), kDek);
}

TEST_F(Pkcs11KekTest, WrongAadIsDataLoss) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto wrapped = kek->wrap(SecretBytes(kDek), "dek=1");
  ASSERT_TRUE(wrapped);
  auto key = kek->unwrap(*wrapped, "dek=2");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kDataLoss) << key.error().message;
  // The session is still usable after a failed decryption.
  EXPECT_TRUE(kek->unwrap(*wrapped, "dek=1"));
}

TEST_F(Pkcs11KekTest, FlippedByteIsDataLoss) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(wrapped);
  for (std::size_t position : {std::size_t{0}, std::size_t{20}, wrapped->bytes.size() - 1}) {
    WrappedKey tampered = *wrapped;
    tampered.bytes[position] = static_cast<char>(tampered.bytes[position] ^ 0x01);
    auto key = kek->unwrap(tampered, "aad");
    ASSERT_FALSE(key) << "byte " << position;
    EXPECT_EQ(key.error().code, ErrorCode::kDataLoss) << key.error().message;
  }
  WrappedKey truncated = *wrapped;
  truncated.bytes.resize(20);
  auto key = kek->unwrap(truncated, "aad");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kDataLoss);
  EXPECT_TRUE(kek->unwrap(*wrapped, "aad"));
}

// Looks at the token through its own PKCS#11 session, not through Pkcs11Kek. Call it while a
// Pkcs11Kek is open: the module is initialised and the user logged in (login state belongs to
// the process), so private objects are visible. It never finalises the module.
class RawToken {
 public:
  RawToken() {
    handle_ = ::dlopen(kModule, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) return;
    auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
    if (get == nullptr || get(&fn_) != CKR_OK) return;
    EXPECT_EQ(fn_->C_Initialize(nullptr), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CK_SLOT_ID slots[8];
    CK_ULONG count = 8;
    if (fn_->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return;
    std::string label(kTokenLabel);
    label.resize(32, ' ');
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (fn_->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
          std::equal(label.begin(), label.end(), info.label)) {
        fn_->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr, &session_);
      }
    }
  }
  ~RawToken() {
    if (session_ != CK_INVALID_HANDLE) fn_->C_CloseSession(session_);
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  RawToken(const RawToken&) = delete;
  RawToken& operator=(const RawToken&) = delete;

  bool ready() const { return session_ != CK_INVALID_HANDLE; }

  CK_OBJECT_HANDLE find(const std::string& label) {
    std::string text = label;
    CK_ATTRIBUTE search{CKA_LABEL, text.data(), text.size()};
    CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    if (fn_->C_FindObjectsInit(session_, &search, 1) != CKR_OK) return CK_INVALID_HANDLE;
    fn_->C_FindObjects(session_, &object, 1, &count);
    fn_->C_FindObjectsFinal(session_);
    return count == 1 ? object : CK_INVALID_HANDLE;
  }

  CK_RV get(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, void* value, CK_ULONG size) {
    CK_ATTRIBUTE attribute{type, value, size};
    return fn_->C_GetAttributeValue(session_, object, &attribute, 1);
  }
  std::optional<bool> flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
    CK_BBOOL value = 2;
    if (get(object, type, &value, sizeof value) != CKR_OK) return std::nullopt;
    return value == CK_TRUE;
  }

  CK_FUNCTION_LIST_PTR functions() { return fn_; }
  CK_SESSION_HANDLE session() const { return session_; }

 private:
  void* handle_ = nullptr;
  CK_FUNCTION_LIST_PTR fn_ = nullptr;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

TEST_F(Pkcs11KekTest, GeneratedKeyIsSensitiveAndNonExtractable) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-03-04T05:06:07.000000Z")));
  RawToken token;
  ASSERT_TRUE(token.ready());
  const CK_OBJECT_HANDLE key = token.find("herald-kek-1");
  ASSERT_NE(key, CK_INVALID_HANDLE);

  unsigned char value[64];
  EXPECT_EQ(token.get(key, CKA_VALUE, value, sizeof value), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(token.flag(key, CKA_EXTRACTABLE), false);
  EXPECT_EQ(token.flag(key, CKA_SENSITIVE), true);
  EXPECT_EQ(token.flag(key, CKA_NEVER_EXTRACTABLE), true);
  EXPECT_EQ(token.flag(key, CKA_ALWAYS_SENSITIVE), true);
  EXPECT_EQ(token.flag(key, CKA_TOKEN), true);
  EXPECT_EQ(token.flag(key, CKA_PRIVATE), true);
  EXPECT_EQ(token.flag(key, CKA_WRAP), false);
  EXPECT_EQ(token.flag(key, CKA_UNWRAP), false);
  EXPECT_EQ(token.flag(key, CKA_ENCRYPT), true);
  EXPECT_EQ(token.flag(key, CKA_DECRYPT), true);
  CK_ULONG length = 0;
  EXPECT_EQ(token.get(key, CKA_VALUE_LEN, &length, sizeof length), CKR_OK);
  EXPECT_EQ(length, 32u);
  char id[32] = {};
  EXPECT_EQ(token.get(key, CKA_ID, id, sizeof id), CKR_OK);
  EXPECT_STREQ(id, "pkcs11-1 20260304");
  // SoftHSM2 2.6.1 cannot return CKA_START_DATE of a private object (CKR_GENERAL_ERROR, see
  // Pkcs11Kek::Session::created); a token that can must hold the creation day.
  CK_DATE start{};
  const CK_RV start_rv = token.get(key, CKA_START_DATE, &start, sizeof start);
  if (start_rv == CKR_OK) {
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&start), sizeof start), "20260304");
  } else {
    EXPECT_EQ(start_rv, CKR_GENERAL_ERROR);
  }

  // The token itself refuses to make the key extractable afterwards.
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE loosen{CKA_EXTRACTABLE, &yes, sizeof yes};
  EXPECT_NE(token.functions()->C_SetAttributeValue(token.session(), key, &loosen, 1), CKR_OK);
  EXPECT_EQ(token.flag(key, CKA_EXTRACTABLE), false);
}

TEST_F(Pkcs11KekTest, WrappedFormIsNonceCiphertextTagAsTheTokenSees) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto wrapped = kek->wrap(SecretBytes(kDek), "the aad");
  ASSERT_TRUE(wrapped);
  // Decrypt with plain PKCS#11 calls: IV = first 12 bytes, then ciphertext || tag.
  RawToken token;
  ASSERT_TRUE(token.ready());
  const CK_OBJECT_HANDLE key = token.find("herald-kek-1");
  ASSERT_NE(key, CK_INVALID_HANDLE);
  std::string bytes = wrapped->bytes;
  std::string aad = "the aad";
  CK_GCM_PARAMS params{};
  params.pIv = reinterpret_cast<unsigned char*>(bytes.data());
  params.ulIvLen = 12;
  params.ulIvBits = 96;
  params.pAAD = reinterpret_cast<unsigned char*>(aad.data());
  params.ulAADLen = aad.size();
  params.ulTagBits = 128;
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  ASSERT_EQ(token.functions()->C_DecryptInit(token.session(), &mechanism, key), CKR_OK);
  std::string plain(bytes.size(), '\0');
  CK_ULONG plain_len = plain.size();
  ASSERT_EQ(token.functions()->C_Decrypt(
                token.session(), reinterpret_cast<unsigned char*>(bytes.data()) + 12,
                bytes.size() - 12, reinterpret_cast<unsigned char*>(plain.data()), &plain_len),
            CKR_OK);
  EXPECT_EQ(plain.substr(0, plain_len), kDek);
}

TEST_F(Pkcs11KekTest, RotationWrapsUnderNewVersionAndOldStillUnwraps) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto old_wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(old_wrapped);
  EXPECT_EQ(old_wrapped->kek_id, "pkcs11-1");

  auto v2 = kek->create_version(at("2026-02-01T12:00:00.000000Z"));
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->id, "pkcs11-2");
  auto versions = kek->versions();
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].id, "pkcs11-1");
  EXPECT_FALSE((*versions)[0].active);
  EXPECT_EQ((*versions)[0].created, at("2026-01-01T00:00:00.000000Z"));
  EXPECT_EQ((*versions)[1].id, "pkcs11-2");
  EXPECT_TRUE((*versions)[1].active);
  EXPECT_EQ((*versions)[1].created, at("2026-02-01T00:00:00.000000Z"));

  auto new_wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(new_wrapped);
  EXPECT_EQ(new_wrapped->kek_id, "pkcs11-2");
  auto old_key = kek->unwrap(*old_wrapped, "aad");
  ASSERT_TRUE(old_key) << old_key.error().message;
  EXPECT_EQ(old_key->view(), kDek);
  auto new_key = kek->unwrap(*new_wrapped, "aad");
  ASSERT_TRUE(new_key);
  EXPECT_EQ(new_key->view(), kDek);

  // Bytes wrapped under version 2 do not open under version 1.
  WrappedKey relabelled{"pkcs11-1", new_wrapped->bytes};
  auto mixed = kek->unwrap(relabelled, "aad");
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, ErrorCode::kDataLoss);
}

TEST_F(Pkcs11KekTest, DestroyVersion) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto only = kek->destroy_version("pkcs11-1");
  ASSERT_FALSE(only);
  EXPECT_EQ(only.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(only.error().message.find("only"), std::string::npos) << only.error().message;

  auto old_wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(old_wrapped);
  ASSERT_TRUE(kek->create_version(at("2026-02-01T00:00:00.000000Z")));
  auto active = kek->destroy_version("pkcs11-2");
  ASSERT_FALSE(active);
  EXPECT_EQ(active.error().code, ErrorCode::kFailedPrecondition);

  auto destroyed = kek->destroy_version("pkcs11-1");
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  auto key = kek->unwrap(*old_wrapped, "aad");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound) << key.error().message;

  auto versions = kek->versions();
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].id, "pkcs11-2");
  auto again = kek->destroy_version("pkcs11-1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  auto foreign = kek->destroy_version("file-2");
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);

  // Numbers are not reused while a higher version exists.
  auto v3 = kek->create_version(at("2026-03-01T00:00:00.000000Z"));
  ASSERT_TRUE(v3);
  EXPECT_EQ(v3->id, "pkcs11-3");
}

TEST_F(Pkcs11KekTest, ReopenSeesSameVersionsAndUnwraps) {
  std::optional<WrappedKey> wrapped;
  {
    auto kek = open_kek();
    ASSERT_TRUE(kek);
    ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
    ASSERT_TRUE(kek->create_version(at("2026-01-02T00:00:00.000000Z")));
    auto w = kek->wrap(SecretBytes(kDek), "aad");
    ASSERT_TRUE(w);
    wrapped = std::move(*w);
  }  // logged out, finalised, unloaded
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  auto versions = kek->versions();
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].id, "pkcs11-2");
  EXPECT_EQ((*versions)[1].created, at("2026-01-02T00:00:00.000000Z"));
  auto key = kek->unwrap(*wrapped, "aad");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->view(), kDek);
}

TEST_F(Pkcs11KekTest, TwoOpenObjectsDoNotFinaliseUnderEachOther) {
  auto first = open_kek();
  auto second = open_kek();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto wrapped = first->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(wrapped);
  first.reset();  // must neither log the second out nor finalise the module
  auto key = second->unwrap(*wrapped, "aad");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->view(), kDek);
  auto versions = second->versions();
  ASSERT_TRUE(versions) << versions.error().message;
  EXPECT_EQ(versions->size(), 1u);
}

TEST_F(Pkcs11KekTest, EnsureInitialVersionCreatesOnlyOnce) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  auto first = kek->ensure_initial_version(at("2026-01-01T00:00:00.000000Z"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->id, "pkcs11-1");
  auto second = kek->ensure_initial_version(at("2026-05-01T00:00:00.000000Z"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, "pkcs11-1");
  EXPECT_EQ(second->created, at("2026-01-01T00:00:00.000000Z"));
  auto versions = kek->versions();
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->size(), 1u);
}

TEST_F(Pkcs11KekTest, ConcurrentWrapAndUnwrap) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      const std::string aad = "thread " + std::to_string(t);
      for (int i = 0; i < 10; ++i) {
        auto wrapped = kek->wrap(SecretBytes(kDek), aad);
        auto key = wrapped ? kek->unwrap(*wrapped, aad) : Result<SecretBytes>(wrapped.error());
        if (!key || key->view() != kDek) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST_F(Pkcs11KekTest, WrongPinIsClearAndDoesNotLeakThePin) {
  const std::string wrong = "not-the-pin-31337";
  auto kek = Pkcs11Kek::open(config(wrong));
  ASSERT_FALSE(kek);
  EXPECT_EQ(kek.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(kek.error().message.find("PKCS#11 login failed: incorrect PIN"), std::string::npos)
      << kek.error().message;
  EXPECT_EQ(kek.error().message.find(wrong), std::string::npos);
  EXPECT_EQ(kek.error().message.find(kUserPin), std::string::npos);
  // The failed attempt left nothing behind: the right PIN works.
  EXPECT_TRUE(open_kek());
}

TEST_F(Pkcs11KekTest, UnknownTokenAndMissingModuleAreNamed) {
  Pkcs11Config c = config();
  c.token_label = "no-such-token";
  auto kek = Pkcs11Kek::open(c);
  ASSERT_FALSE(kek);
  EXPECT_EQ(kek.error().code, ErrorCode::kNotFound);
  EXPECT_NE(kek.error().message.find("'no-such-token'"), std::string::npos) << kek.error().message;
  EXPECT_NE(kek.error().message.find(kModule), std::string::npos) << kek.error().message;
  EXPECT_EQ(kek.error().message.find(kUserPin), std::string::npos);

  Pkcs11Config missing = config();
  missing.module_path = (dir_ / "no-such-module.so").string();
  auto none = Pkcs11Kek::open(missing);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(none.error().message.find(missing.module_path), std::string::npos);

  Pkcs11Config too_long = config();
  too_long.token_label = std::string(33, 'x');
  auto rejected = Pkcs11Kek::open(too_long);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(Pkcs11KekTest, UnwrapOfUnknownVersionIsNotFound) {
  auto kek = open_kek();
  ASSERT_TRUE(kek);
  ASSERT_TRUE(kek->create_version(at("2026-01-01T00:00:00.000000Z")));
  auto wrapped = kek->wrap(SecretBytes(kDek), "aad");
  ASSERT_TRUE(wrapped);
  for (const char* id : {"pkcs11-9", "file-1", "pkcs11-01", "pkcs11-"}) {
    auto key = kek->unwrap(WrappedKey{id, wrapped->bytes}, "aad");
    ASSERT_FALSE(key) << id;
    EXPECT_EQ(key.error().code, ErrorCode::kNotFound) << id << ": " << key.error().message;
  }
}

TEST_F(Pkcs11KekTest, PinFileMustBePrivate) {
  const auto path = (dir_ / "pin").string();
  std::ofstream(path) << "s3cret-pin\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loose = read_pin_file(path);
  ASSERT_FALSE(loose);
  EXPECT_EQ(loose.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(loose.error().message.find("0644"), std::string::npos) << loose.error().message;
  EXPECT_NE(loose.error().message.find("chmod 600"), std::string::npos);
  EXPECT_EQ(loose.error().message.find("s3cret"), std::string::npos);

  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto pin = read_pin_file(path);
  ASSERT_TRUE(pin) << pin.error().message;
  EXPECT_EQ(pin->view(), "s3cret-pin");  // trailing newline stripped

  std::filesystem::create_directory(dir_ / "pin-dir");
  ::chmod((dir_ / "pin-dir").c_str(), 0700);
  auto directory = read_pin_file((dir_ / "pin-dir").string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(Pkcs11KekTest, PinFromFileLogsIn) {
  const auto path = (dir_ / "pin").string();
  std::ofstream(path) << kUserPin << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto pin = read_pin_file(path);
  ASSERT_TRUE(pin) << pin.error().message;
  Pkcs11Config c = config();
  c.user_pin = std::move(*pin);
  auto kek = Pkcs11Kek::open(c);
  ASSERT_TRUE(kek) << kek.error().message;
}

}  // namespace
}  // namespace herald::crypto
