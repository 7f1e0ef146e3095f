#include "domain/authenticator.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "crypto/hmac.h"
#include "crypto/jwt.h"
#include "crypto/random.h"
#include "domain/admin.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = Admin(store_).create_service("S", now_);
    ASSERT_TRUE(service);
    service_ = service->id;
    auto key = Admin(store_).create_api_key(service_, store::KeyType::kTeam, "k", now_);
    ASSERT_TRUE(key);
    key_ = key->record;
  }
  std::string token(std::int64_t iat, const std::string& secret, const std::string& iss) {
    return crypto::sign_hs256(*json::parse(R"({"iss":")" + iss + R"(","iat":)" + std::to_string(iat) + "}"), secret);
  }
  std::int64_t now_s() const { return std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count(); }
  std::variant<Caller, AuthFailure> auth(const std::string& t) {
    auto r = authenticator_.authenticate(t, now_);
    EXPECT_TRUE(r);
    return *r;
  }
  AuthFailure failure(const std::string& t) {
    auto r = auth(t);
    EXPECT_TRUE(std::holds_alternative<AuthFailure>(r));
    return std::holds_alternative<AuthFailure>(r) ? std::get<AuthFailure>(r) : AuthFailure::kGeneric;
  }

  fakes::MemoryStore store_;
  Authenticator authenticator_{store_};
  Timestamp now_ = from_micros(1'800'000'000'000'000);
  ServiceId service_;
  store::ApiKeyRecord key_;
};

TEST_F(AuthenticatorTest, ValidTokenNamesServiceKeyAndType) {
  auto r = auth(token(now_s(), key_.secret, service_.to_string()));
  ASSERT_TRUE(std::holds_alternative<Caller>(r));
  EXPECT_EQ(std::get<Caller>(r).service, service_);
  EXPECT_EQ(std::get<Caller>(r).key, key_.id);
  EXPECT_EQ(std::get<Caller>(r).key_type, store::KeyType::kTeam);
}

TEST_F(AuthenticatorTest, FailuresInGovukOrder) {
  EXPECT_EQ(failure("garbage"), AuthFailure::kInvalidToken);
  EXPECT_EQ(failure(crypto::sign_hs256(*json::parse(R"({"iat":1})"), "x")), AuthFailure::kMissingIssuer);
  EXPECT_EQ(failure(token(now_s(), key_.secret, "not-a-uuid")), AuthFailure::kIssuerNotUuid);
  EXPECT_EQ(failure(token(now_s(), key_.secret, crypto::random_uuid().to_string())), AuthFailure::kServiceNotFound);
  EXPECT_EQ(failure(token(now_s() - 31, key_.secret, service_.to_string())), AuthFailure::kClockSkew);
  EXPECT_EQ(failure(token(now_s(), "wrong-secret", service_.to_string())), AuthFailure::kKeyNotFound);
}

TEST_F(AuthenticatorTest, ServiceWithoutKeys) {
  auto other = Admin(store_).create_service("No keys", now_);
  EXPECT_EQ(failure(token(now_s(), key_.secret, other->id.to_string())), AuthFailure::kServiceHasNoKeys);
}

TEST_F(AuthenticatorTest, RevokedKeySaysRevoked) {
  store::ApiKeyRecord revoked{ApiKeyId{crypto::random_uuid()}, service_, "old", store::KeyType::kNormal,
                              "11111111-2222-3333-4444-555555555555", now_, now_};
  ASSERT_TRUE(store_.create_api_key(revoked));
  EXPECT_EQ(failure(token(now_s(), revoked.secret, service_.to_string())), AuthFailure::kKeyRevoked);
}

TEST_F(AuthenticatorTest, NewKeyIsFoundAfterOneRefreshButFloodsDoNotHitTheStore) {
  ASSERT_TRUE(std::holds_alternative<Caller>(auth(token(now_s(), key_.secret, service_.to_string()))));
  auto fresh = Admin(store_).create_api_key(service_, store::KeyType::kNormal, "new", now_);
  const int reads_before = store_.service_reads;
  // Within a second of the last fetch the cache is trusted: a flood of unknown-key tokens
  // costs no store reads.
  for (int i = 0; i < 50; ++i) failure(token(now_s(), "wrong", service_.to_string()));
  EXPECT_EQ(store_.service_reads, reads_before);
  now_ += 2s;
  EXPECT_TRUE(std::holds_alternative<Caller>(auth(token(now_s(), fresh->record.secret, service_.to_string()))));
}

TEST_F(AuthenticatorTest, WithoutBlockingACacheMissWouldBlockAndAHitAnswers) {
  const std::string good = token(now_s(), key_.secret, service_.to_string());
  const int reads_before = store_.service_reads;
  auto cold = authenticator_.authenticate(good, now_, Blocking::kNotAllowed);
  ASSERT_FALSE(cold);
  EXPECT_EQ(cold.error().code, ErrorCode::kWouldBlock);
  EXPECT_EQ(store_.service_reads, reads_before) << "a network thread never reads the store";
  ASSERT_TRUE(std::holds_alternative<Caller>(auth(good)));  // fills the cache
  auto warm = authenticator_.authenticate(good, now_, Blocking::kNotAllowed);
  ASSERT_TRUE(warm);
  EXPECT_TRUE(std::holds_alternative<Caller>(*warm));
  // An unknown key would refresh the cache: that too must wait for a thread that may block.
  now_ += 2s;
  auto refresh = authenticator_.authenticate(token(now_s(), "wrong", service_.to_string()), now_,
                                             Blocking::kNotAllowed);
  ASSERT_FALSE(refresh);
  EXPECT_EQ(refresh.error().code, ErrorCode::kWouldBlock);
}

// A token found good is remembered, but every answer for it stays the one a full check gives:
// its times against the clock of each use, the key's revocation once the cached keys are
// refreshed, and the key's network restriction against each request's source.
TEST_F(AuthenticatorTest, ARememberedTokenIsStillCheckedForTimeRevocationAndNetwork) {
  const std::string ageing = token(now_s() - 28, key_.secret, service_.to_string());
  ASSERT_TRUE(std::holds_alternative<Caller>(auth(ageing)));
  const int reads = store_.service_reads;
  ASSERT_TRUE(std::holds_alternative<Caller>(auth(ageing)));
  EXPECT_EQ(store_.service_reads, reads);
  now_ += 3s;  // within the key cache's 5 s, but the token is now 31 s old
  EXPECT_EQ(failure(ageing), AuthFailure::kClockSkew);

  ASSERT_TRUE(store_.set_api_key_networks(service_, key_.id, {"192.0.2.0/24"}));
  now_ += 6s;  // past the cache's 5 s: the restriction is read
  const std::string restricted = token(now_s(), key_.secret, service_.to_string());
  auto inside = authenticator_.authenticate(restricted, now_, Blocking::kAllowed, "192.0.2.7");
  ASSERT_TRUE(inside);
  EXPECT_TRUE(std::holds_alternative<Caller>(*inside));
  auto outside = authenticator_.authenticate(restricted, now_, Blocking::kAllowed, "198.51.100.1");
  ASSERT_TRUE(outside);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(*outside));
  EXPECT_EQ(std::get<AuthFailure>(*outside), AuthFailure::kNetworkNotAllowed);

  ASSERT_TRUE(Admin(store_).revoke_api_key(service_, key_.id, now_));
  auto cached = authenticator_.authenticate(restricted, now_, Blocking::kAllowed, "192.0.2.7");
  ASSERT_TRUE(cached);
  EXPECT_TRUE(std::holds_alternative<Caller>(*cached)) << "revocation takes effect with the cache's refresh";
  now_ += 6s;
  auto revoked = authenticator_.authenticate(restricted, now_, Blocking::kAllowed, "192.0.2.7");
  ASSERT_TRUE(revoked);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(*revoked));
  EXPECT_EQ(std::get<AuthFailure>(*revoked), AuthFailure::kKeyRevoked);
}

}  // namespace
}  // namespace herald::domain
