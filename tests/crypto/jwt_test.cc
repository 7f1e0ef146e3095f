#include "crypto/jwt.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "crypto/hmac.h"

namespace herald::crypto {
namespace {

using std::chrono::seconds;
const std::string kSecret = "0b1d6a1e-6d1a-4b7f-9a59-7a1d0c0f6a11";
const Timestamp kNow = Timestamp(seconds(1'800'000'000));

std::string token_with(const std::string& header, const std::string& claims, const std::string& secret = kSecret) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

JwtVerdict verdict(const std::string& token, const std::string& secret = kSecret) {
  auto decoded = decode_jwt(token);
  EXPECT_TRUE(decoded);
  return verify_hs256(*decoded, secret, kNow, seconds(30));
}

TEST(Jwt, AcceptsAValidClientToken) {
  auto claims = json::parse(R"({"iss":"s","iat":1800000000})");
  EXPECT_EQ(verdict(sign_hs256(*claims, kSecret)), JwtVerdict::kValid);
}

TEST(Jwt, MatchesRfc7515HmacExample) {
  // The HS256 example of RFC 7515 appendix A.1 must verify under its published key.
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto key = base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key);
  auto decoded = decode_jwt(token);
  ASSERT_TRUE(decoded);
  // Its exp (2011) has passed, so the library reports kInvalid, not a signature mismatch.
  EXPECT_EQ(verify_hs256(*decoded, *key, kNow, seconds(30)), JwtVerdict::kInvalid);
}

TEST(Jwt, WrongSecretIsAMismatch) {
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1800000000})"), "other"),
            JwtVerdict::kSignatureMismatch);
}

TEST(Jwt, SplicedSignatureIsAMismatch) {
  const std::string genuine = token_with(R"({"alg":"HS256"})", R"({"iss":"a","iat":1800000000})");
  const std::string forged = token_with(R"({"alg":"HS256"})", R"({"iss":"b","iat":1800000000})", "attacker");
  const std::string spliced = forged.substr(0, forged.rfind('.')) + genuine.substr(genuine.rfind('.'));
  EXPECT_EQ(verdict(spliced), JwtVerdict::kSignatureMismatch);
}

TEST(Jwt, ClockSkewIsSymmetricThirtySeconds) {
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1799999970})")), JwtVerdict::kValid);
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1799999969})")), JwtVerdict::kClockSkew);
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1800000030})")), JwtVerdict::kValid);
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1800000031})")), JwtVerdict::kClockSkew);
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":"soon"})")), JwtVerdict::kClockSkew);
}

TEST(Jwt, MissingIatAndOtherAlgorithms) {
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iss":"x"})")), JwtVerdict::kMissingIssuedAt);
  EXPECT_EQ(verdict(token_with(R"({"alg":"none"})", R"({"iat":1800000000})")), JwtVerdict::kAlgorithmNotAllowed);
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS512"})", R"({"iat":1800000000})")), JwtVerdict::kAlgorithmNotAllowed);
  EXPECT_EQ(verdict(token_with(R"({"typ":"JWT"})", R"({"iat":1800000000})")), JwtVerdict::kAlgorithmNotAllowed);
}

TEST(Jwt, ExpiredExpIsInvalid) {
  EXPECT_EQ(verdict(token_with(R"({"alg":"HS256"})", R"({"iat":1800000000,"exp":1700000000})")), JwtVerdict::kInvalid);
}

TEST(Jwt, DecodeRejectsMalformedTokens) {
  for (const char* bad : {"", "a", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "W10.e30.", "e30.W10."}) {
    EXPECT_FALSE(decode_jwt(bad)) << bad;
  }
  EXPECT_FALSE(decode_jwt(std::string(10000, 'a')));
}

}  // namespace
}  // namespace herald::crypto
