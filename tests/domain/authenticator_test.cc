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

}  // namespace
}  // namespace herald::domain
