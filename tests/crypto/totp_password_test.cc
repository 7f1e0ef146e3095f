// The admin UI's second factor and passwords: HOTP and TOTP against RFC 4226's and RFC 6238's
// own test vectors, base32 against RFC 4648's, and argon2id's stored form and parameters.
#include <gtest/gtest.h>

#include "crypto/password.h"
#include "crypto/totp.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kRfcSecret = "12345678901234567890";

Timestamp at_unix(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

TEST(Totp, HotpMatchesRfc4226AppendixD) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(hotp(kRfcSecret, counter), expected[counter]) << counter;
  }
}

TEST(Totp, TotpMatchesRfc6238AppendixBForSha1) {
  const std::pair<std::int64_t, const char*> vectors[] = {{59, "94287082"},         {1111111109, "07081804"},
                                                          {1111111111, "14050471"}, {1234567890, "89005924"},
                                                          {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [seconds, code] : vectors) {
    EXPECT_EQ(totp(kRfcSecret, totp_step(at_unix(seconds)), 8), code) << seconds;
  }
}

TEST(Totp, ACodeMatchesOnlyWithinItsWindow) {
  const Timestamp now = at_unix(1'800'000'015);
  const std::int64_t step = totp_step(now);
  EXPECT_EQ(match_totp(kRfcSecret, totp(kRfcSecret, step), now), step);
  EXPECT_EQ(match_totp(kRfcSecret, totp(kRfcSecret, step - 1), now), step - 1) << "the previous step: clock skew";
  EXPECT_EQ(match_totp(kRfcSecret, totp(kRfcSecret, step + 1), now), step + 1);
  EXPECT_FALSE(match_totp(kRfcSecret, totp(kRfcSecret, step - 2), now)) << "a minute old";
  EXPECT_FALSE(match_totp(kRfcSecret, totp(kRfcSecret, step + 2), now));
  EXPECT_FALSE(match_totp(kRfcSecret, "12345", now));
  EXPECT_FALSE(match_totp(kRfcSecret, "1234567", now));
  EXPECT_FALSE(match_totp("another secret key..", totp(kRfcSecret, step), now));
}

TEST(Totp, Base32MatchesRfc4648AndRoundTrips) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "MY"},
                                                         {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"},
                                                         {"foob", "MZXW6YQ"},
                                                         {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base32_encode(plain), encoded);
    EXPECT_EQ(base32_decode(encoded), plain);
  }
  EXPECT_EQ(base32_decode("mzxw 6ytb oi"), "foobar") << "as people type it";
  EXPECT_FALSE(base32_decode("MZXW6YTB0I")) << "0 is not base32";
}

TEST(Totp, TheUriIsWhatAuthenticatorAppsRead) {
  EXPECT_EQ(
      otpauth_uri("Herald", "ada@example.org", "foobar"),
      "otpauth://totp/Herald:ada%40example.org?secret=MZXW6YTBOI&issuer=Herald&algorithm=SHA1&digits=6&period=30");
}

TEST(Password, Argon2idHashesVerifyAndNameTheirParameters) {
  auto hash = hash_password("correct horse battery staple");
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_EQ(*verify_password("correct horse battery staple", *hash), true);
  EXPECT_EQ(*verify_password("correct horse battery stapl", *hash), false);
  EXPECT_EQ(*verify_password("", *hash), false);
  auto again = hash_password("correct horse battery staple");
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *hash) << "salted";
  EXPECT_FALSE(password_needs_rehash(*hash));
}

TEST(Password, WeakerOrForeignHashesAreRehashedOrRefused) {
  auto weak = hash_password("pw", {.memory_kib = 1024, .passes = 1, .lanes = 1});
  ASSERT_TRUE(weak);
  EXPECT_TRUE(password_needs_rehash(*weak));
  EXPECT_EQ(*verify_password("pw", *weak), true) << "still verifies until rehashed";
  EXPECT_FALSE(verify_password("pw", "$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
  EXPECT_FALSE(verify_password("pw", "$2b$12$bcryptbcryptbcryptbcryp"));
  EXPECT_TRUE(password_needs_rehash("plain text"));
  EXPECT_FALSE(hash_password(std::string(2000, 'x'))) << "a megabyte password is an attack, not a passphrase";
}

}  // namespace
}  // namespace herald::crypto
