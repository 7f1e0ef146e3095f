// WebAuthn verification against responses built here the way an authenticator and a browser
// build them (an OpenSSL P-256 key or an Ed25519 key, CBOR by hand): a good registration and
// assertion pass; a wrong origin, RP ID hash, challenge, type, signature, missing user presence
// and a counter that does not rise are refused; malformed CBOR is refused.
#include "crypto/webauthn.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "crypto/hmac.h"
#include "crypto/signing.h"
#include "tests/fakes/software_authenticator.h"

namespace herald::crypto::webauthn {
namespace {

using namespace fakes::webauthn_bytes;  // NOLINT(google-build-using-namespace): the test's vocabulary

constexpr std::string_view kChallenge = "sixteen byte chl";

TEST(WebAuthn, ARegistrationAndItsAssertionsVerify) {
  EcKey key;
  auto credential =
      verify_registration(kRp, kChallenge, client_data("webauthn.create"), attestation("credential-1", key.cose()));
  ASSERT_TRUE(credential) << credential.error().message;
  EXPECT_EQ(credential->credential_id, "credential-1");
  EXPECT_EQ(credential->public_key, key.cose());
  EXPECT_EQ(credential->sign_count, 0);

  const std::string data = auth_data(7);
  const std::string client = client_data("webauthn.get");
  auto assertion =
      verify_assertion(kRp, kChallenge, credential->public_key, client, data, key.sign(data + sha256(client)));
  ASSERT_TRUE(assertion) << assertion.error().message;
  EXPECT_EQ(assertion->sign_count, 7);
  EXPECT_TRUE(assertion->user_verified);
}

TEST(WebAuthn, AssertionsForAnotherSiteChallengeOrKeyAreRefused) {
  EcKey key;
  EcKey other;
  const std::string cose = key.cose();
  const std::string data = auth_data(8);
  auto check = [&](std::string_view client, std::string_view authenticator, std::string_view signature) {
    auto result = verify_assertion(kRp, kChallenge, cose, client, authenticator, signature);
    return result ? std::string("accepted") : result.error().message;
  };
  const std::string good = client_data("webauthn.get");
  EXPECT_EQ(check(good, data, key.sign(data + sha256(good))), "accepted");

  const std::string phishing = client_data("webauthn.get", "https://herald-admin.example.net");
  EXPECT_EQ(check(phishing, data, key.sign(data + sha256(phishing))), "wrong origin");
  const std::string other_rp = auth_data(8, 0x05, "evil.example");
  EXPECT_EQ(check(good, other_rp, key.sign(other_rp + sha256(good))), "wrong RP ID hash");
  const std::string old_challenge = client_data("webauthn.get", kRp.origin, "an older challeng");
  EXPECT_EQ(check(old_challenge, data, key.sign(data + sha256(old_challenge))), "wrong challenge");
  const std::string create = client_data("webauthn.create");
  EXPECT_EQ(check(create, data, key.sign(data + sha256(create))), "client data type is not webauthn.get");
  EXPECT_EQ(check(good, data, other.sign(data + sha256(good))), "bad signature") << "another key's signature";
  std::string tampered = data;
  tampered[36] = 9;  // the counter changed after signing
  EXPECT_EQ(check(good, tampered, key.sign(data + sha256(good))), "bad signature");
  const std::string absent = auth_data(8, 0x00);
  EXPECT_EQ(check(good, absent, key.sign(absent + sha256(good))), "user not present");
  const std::string framed = R"({"type":"webauthn.get","challenge":")" + base64url_encode(kChallenge) +
                             R"(","origin":"https://localhost:8444","crossOrigin":true})";
  EXPECT_EQ(check(framed, data, key.sign(data + sha256(framed))), "made in a cross-origin frame");
}

TEST(WebAuthn, RegistrationsForAnotherSiteOrWithUnusableKeysAreRefused) {
  EcKey key;
  auto wrong_rp = verify_registration(kRp, kChallenge, client_data("webauthn.create"),
                                      attestation("c", key.cose(), "evil.example"));
  EXPECT_EQ(wrong_rp.error().message, "wrong RP ID hash");
  auto wrong_origin = verify_registration(kRp, kChallenge, client_data("webauthn.create", "https://evil.example"),
                                          attestation("c", key.cose()));
  EXPECT_EQ(wrong_origin.error().message, "wrong origin");
  const std::string p384ish = head(5, 2) + integer(1) + integer(2) + integer(3) + integer(-35);
  auto unusable = verify_registration(kRp, kChallenge, client_data("webauthn.create"), attestation("c", p384ish));
  EXPECT_EQ(unusable.error().code, ErrorCode::kPermissionDenied);
}

TEST(WebAuthn, Ed25519CredentialsVerify) {
  auto seed = generate_ed25519_seed();
  ASSERT_TRUE(seed);
  auto public_key = ed25519_public_key(*seed);
  ASSERT_TRUE(public_key);
  const std::string cose = head(5, 4) + integer(1) + integer(1) + integer(3) + integer(-8) + integer(-1) + integer(6) +
                           integer(-2) + bytes(*public_key);
  ASSERT_TRUE(verify_registration(kRp, kChallenge, client_data("webauthn.create"), attestation("ed", cose)));
  const std::string data = auth_data(1);
  const std::string client = client_data("webauthn.get");
  auto signature = ed25519_sign(*seed, data + sha256(client));
  ASSERT_TRUE(signature);
  EXPECT_TRUE(verify_assertion(kRp, kChallenge, cose, client, data, *signature));
  EXPECT_FALSE(verify_assertion(kRp, kChallenge, cose, client, auth_data(2), *signature));
}

TEST(WebAuthn, SignatureCountersMustRiseUnlessTheAuthenticatorKeepsNone) {
  EXPECT_TRUE(counter_advances(5, 6));
  EXPECT_FALSE(counter_advances(5, 5)) << "a replayed assertion";
  EXPECT_FALSE(counter_advances(5, 4)) << "a cloned authenticator";
  EXPECT_TRUE(counter_advances(0, 0)) << "passkeys that keep no counter";
  EXPECT_FALSE(counter_advances(3, 0));
}

TEST(WebAuthn, MalformedCborIsRefused) {
  std::size_t consumed = 0;
  EXPECT_FALSE(parse_cbor("", consumed));
  EXPECT_FALSE(parse_cbor("\x9f\x01\xff", consumed)) << "indefinite length";
  EXPECT_FALSE(parse_cbor("\x5a\xff\xff\xff\xff", consumed)) << "a string longer than its data";
  EXPECT_FALSE(parse_cbor("\x9b\x7f\xff\xff\xff\xff\xff\xff\xff", consumed)) << "an array longer than its data";
  EXPECT_FALSE(parse_cbor(std::string(40, '\x81') + "\x01", consumed)) << "nested too deeply";
  EXPECT_FALSE(parse_cbor("\xf9\x3c\x00", consumed)) << "a float";
  EXPECT_FALSE(parse_cbor("\xc0\x01", consumed)) << "a tag";
  auto ok = parse_cbor(std::string("\xa2\x01\x02\x63key\x20", 8) + "trailing", consumed);
  ASSERT_TRUE(ok);
  EXPECT_EQ(consumed, 8u);
  EXPECT_EQ(ok->get(1)->integer, 2);
  EXPECT_EQ(ok->get("key")->integer, -1);
}

}  // namespace
}  // namespace herald::crypto::webauthn
