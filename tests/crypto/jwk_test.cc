#include "crypto/jwk.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/json.h"

namespace herald::crypto {
namespace {

// Key generation costs up to a few hundred milliseconds: two keys, made once for the binary.
const RsaPrivateKey& key_a() {
  static const RsaPrivateKey key = RsaPrivateKey::generate(2048).value();
  return key;
}
const RsaPrivateKey& key_b() {
  static const RsaPrivateKey key = RsaPrivateKey::generate(2048).value();
  return key;
}

std::string jwks_of(const std::vector<std::string>& jwks) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < jwks.size(); ++i) out += (i == 0 ? "" : ",") + jwks[i];
  return out + "]}";
}

// An RSA JWK with n, e and the `extra` members (by default a kid).
std::string rsa_jwk(const std::string& n, const std::string& e, const std::string& extra = R"("kid":"k")") {
  return R"({"kty":"RSA",)" + extra + R"(,"n":")" + n + R"(","e":")" + e + R"("})";
}

// An odd number of exactly `bits` bits. The parser cannot tell that it is not a product of two
// primes, nor needs to: a wrong modulus only fails to verify.
std::string modulus_of_bits(int bits) {
  std::string n(static_cast<std::size_t>((bits + 7) / 8), '\xA5');
  const int top = (bits - 1) % 8;  // the highest set bit within the first byte
  n[0] = static_cast<char>((0xA5 & ((1 << top) - 1)) | (1 << top));
  return n;
}

std::string n_of(const RsaPrivateKey& key) {
  auto jwk = json::parse(key.public_jwk_json("x"));
  return jwk->find("n")->as_string();
}

struct Token {
  std::string signing_input;
  std::string signature;
};
Token split(const std::string& jws) {
  const auto dot = jws.rfind('.');
  return {jws.substr(0, dot), base64url_decode(jws.substr(dot + 1)).value()};
}

// A PKCS#1 v1.5 or PSS signature with another digest, made with OpenSSL directly so that the
// module under test cannot share a mistake with it.
std::string foreign_signature(const RsaPrivateKey& key, const EVP_MD* md, int padding, const std::string& input) {
  const std::string pem = key.private_pem();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  std::string sig(512, '\0');
  std::size_t len = sig.size();
  const bool ok = pkey && ctx && EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey.get()) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1 &&
                  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                                 reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EXPECT_TRUE(ok);
  sig.resize(ok ? len : 0);
  return sig;
}

std::string pem_of(EVP_PKEY* pkey, bool traditional, const char* passphrase = nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  int ok = 0;
  if (traditional) {
    ok = PEM_write_bio_PrivateKey_traditional(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  } else if (passphrase != nullptr) {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, EVP_aes_256_cbc(), passphrase,
                                       static_cast<int>(std::strlen(passphrase)), nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  }
  EXPECT_EQ(ok, 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string pem_of(const RsaPrivateKey& key, bool traditional, const char* passphrase = nullptr) {
  const std::string pem = key.private_pem();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  return pem_of(pkey.get(), traditional, passphrase);
}

void expect_refused(const std::string& document, const std::string& message_part) {
  auto parsed = parse_jwks(document);
  ASSERT_FALSE(parsed) << document.substr(0, 200);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message.find(message_part), std::string::npos) << parsed.error().message;
}

// ---- Rs512 ----

TEST(Rs512, VerifiesATokenSignedByTheKeyOfAParsedJwk) {
  auto jwks = parse_jwks(jwks_of({key_a().public_jwk_json("client-1")}));
  ASSERT_TRUE(jwks) << jwks.error().message;
  const Jwk* jwk = jwks->find("client-1");
  ASSERT_NE(jwk, nullptr);
  EXPECT_EQ(jwk->key.bits(), 2048);
  const Token token = split(sign_jwt_rs512(key_a(), R"({"alg":"RS512","typ":"JWT","kid":"client-1"})",
                                           R"({"iss":"c","sub":"c","aud":"a","jti":"1","exp":1800000000})"));
  EXPECT_EQ(token.signature.size(), 256u);
  EXPECT_TRUE(verify_rs512(jwk->key, token.signing_input, token.signature));
  // PKCS#1 v1.5 is deterministic.
  EXPECT_EQ(sign_rs512(key_a(), token.signing_input), token.signature);
}

TEST(Rs512, VerifiesASignatureMadeByAnotherImplementation) {
  // Key, token and signatures made with Python's cryptography package; only public values here.
  const std::string n =
      "xOlUfW6o7Y5zyyXSFIeQMVrFCeukAlbyHL8eEVx7_ctocYuOyvqdB0P3YrtldNIPjhxqA3Uito1GswK4vqDcSAvOzWQaweptATM5TVmCh06e0ik"
      "53aOpUBkGTb2lf0oGsu22ymlWSEjprX5Fv-65JAMziryNkFsRm1TSNPbj7IkF4li4DsE9iAv3FdCnr3_YJhl3avToJUrpkexN9-kfNApVWkbQy"
      "h_rofr-Jpe8ybM0vQCCZbY1klwrbu11yxl9t3NzFvyQW1I9AWMgQ99kMZsSusZ8hby9M8WhI1qYh7s4JuMoYHQYcnsCNFL6LC_l78q6xATdQTq"
      "9u_TM3LUjAQ";
  const std::string input =
      "eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCIsImtpZCI6ImthdCJ9.eyJpc3MiOiJrYXQiLCJzdWIiOiJrYXQiLCJhdWQiOiJodHRwczovL2V4YW"
      "1wbGUub3JnL3Rva2VuIiwianRpIjoiMSIsImV4cCI6MTgwMDAwMDAwMH0";
  const std::string rs512 =
      "seEm1evD_Hmp3ykUjRNWDfBOKX3nieRSJRqYMjNAfZM5husNuNunfW8bmJHjefDo4UTw_beRSmqQs2RKW-u6bly20b7ovBAoZnAi7QOvOq10Eo"
      "WisABMCCXWTfXXaXPqGC9NaXEggTpCRQWcz3Ox9_V46qM3ZJl0E4shxT1_tE5uP47oXsnWfaDPebzdC_pGnwgjz4rx2-dkCXCot6mR1-IVMaHy"
      "TCajkU2s4pminQfg1j52NHD72l7yre_Mm1JaMYcS_mUkwWgsiOr8L4W6QzQYDqv7-8vPVPadUhe0cuIcI_GPGjiBCk7VQFk-I96OGm1dyamxep"
      "VWNKCa0abSYg";
  const std::string rs256 =
      "Q4CuM2QFCE0b8kzQOIpG_sOZLIIO7LnD2jTnMDY2ZvULskawdKl4QnN-wosOQ3LsYu37APXWRdXrATcPs0VxpUfMCqwZbvwPnFxMsnxK3dlpZO"
      "SRJHAZvFnVPkcHt82Rg5vCLwgxo1bPc50s3axR9vyGNoQ9Oy3Ab3XwnKr1ARvmlkHbJRRCyG9YSnUZra4LWzQoDqV9kuEU6KrI_irc53OUqQRs"
      "_yDR9SmQ9scR3b52V7Fzxw2inrn9QSr8NO5tsLnmyk7HVqPIR6URv5bTevQiPhMEglE62KVmT2O89v-gZy-fX4ihTgcYprZIbM9soq3vmIlj6I"
      "hDhg2dyttHkA";
  auto jwks = parse_jwks(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"kat")")}));
  ASSERT_TRUE(jwks) << jwks.error().message;
  const RsaPublicKey& key = jwks->find("kat")->key;
  EXPECT_TRUE(verify_rs512(key, input, base64url_decode(rs512).value()));
  EXPECT_FALSE(verify_rs512(key, input, base64url_decode(rs256).value()));
  EXPECT_FALSE(verify_rs512(key, input + "x", base64url_decode(rs512).value()));
}

TEST(Rs512, RejectsAFlippedSignatureByte) {
  const Token token = split(sign_jwt_rs512(key_a(), R"({"alg":"RS512"})", R"({"iss":"c"})"));
  for (std::size_t at : {std::size_t{0}, std::size_t{100}, token.signature.size() - 1}) {
    for (int bit : {0x01, 0x80}) {
      std::string bad = token.signature;
      bad[at] = static_cast<char>(bad[at] ^ bit);
      EXPECT_FALSE(verify_rs512(key_a().public_key(), token.signing_input, bad)) << at;
    }
  }
}

TEST(Rs512, RejectsAChangedSigningInput) {
  const Token token = split(sign_jwt_rs512(key_a(), R"({"alg":"RS512"})", R"({"iss":"c"})"));
  std::string changed = token.signing_input;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  EXPECT_FALSE(verify_rs512(key_a().public_key(), changed, token.signature));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), token.signing_input + ".", token.signature));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), "", token.signature));
}

TEST(Rs512, RejectsAnotherKeysSignature) {
  const std::string input = "header.claims";
  EXPECT_TRUE(verify_rs512(key_b().public_key(), input, sign_rs512(key_b(), input)));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, sign_rs512(key_b(), input)));
  EXPECT_FALSE(verify_rs512(key_b().public_key(), input, sign_rs512(key_a(), input)));
}

TEST(Rs512, RejectsOtherAlgorithmsOverTheSameInput) {
  const std::string input = "header.claims";
  const RsaPublicKey& key = key_a().public_key();
  // The helper itself works: its PKCS#1 SHA-512 signature is ours byte for byte.
  EXPECT_EQ(foreign_signature(key_a(), EVP_sha512(), RSA_PKCS1_PADDING, input), sign_rs512(key_a(), input));
  EXPECT_FALSE(verify_rs512(key, input, foreign_signature(key_a(), EVP_sha256(), RSA_PKCS1_PADDING, input)));  // RS256
  EXPECT_FALSE(verify_rs512(key, input, foreign_signature(key_a(), EVP_sha384(), RSA_PKCS1_PADDING, input)));  // RS384
  EXPECT_FALSE(
      verify_rs512(key, input, foreign_signature(key_a(), EVP_sha512(), RSA_PKCS1_PSS_PADDING, input)));  // PS512
}

TEST(Rs512, RejectsSignaturesOfTheWrongLength) {
  const std::string input = "header.claims";
  const std::string good = sign_rs512(key_a(), input);
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, ""));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, good.substr(1)));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, good + '\0'));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, std::string(1, '\0') + good));
  EXPECT_FALSE(verify_rs512(key_a().public_key(), input, std::string(256, '\xFF')));  // larger than n
}

TEST(Rs512, PrivateKeyRoundTripsThroughPem) {
  const std::string pem = key_a().private_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  for (const std::string& text : {pem, pem_of(key_a(), /*traditional=*/true)}) {
    auto again = RsaPrivateKey::from_pem(text);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->public_jwk_json("k"), key_a().public_jwk_json("k"));
    EXPECT_TRUE(verify_rs512(key_a().public_key(), "m", sign_rs512(*again, "m")));
  }
  EXPECT_EQ(pem_of(key_a(), true).rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
}

TEST(Rs512, FromPemRefusesWhatItCannotUse) {
  EXPECT_FALSE(RsaPrivateKey::from_pem(""));
  EXPECT_FALSE(RsaPrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  // Encrypted: refused, never prompting for a passphrase.
  auto encrypted = RsaPrivateKey::from_pem(pem_of(key_a(), false, "passphrase"));
  ASSERT_FALSE(encrypted);
  EXPECT_EQ(encrypted.error().code, ErrorCode::kInvalidArgument);
  // Not RSA.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  ASSERT_TRUE(ec);
  auto not_rsa = RsaPrivateKey::from_pem(pem_of(ec.get(), false));
  ASSERT_FALSE(not_rsa);
  EXPECT_NE(not_rsa.error().message.find("not an RSA key"), std::string::npos) << not_rsa.error().message;
  // Too small.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> small(EVP_RSA_gen(1024), EVP_PKEY_free);
  ASSERT_TRUE(small);
  auto weak = RsaPrivateKey::from_pem(pem_of(small.get(), false));
  ASSERT_FALSE(weak);
  EXPECT_NE(weak.error().message.find("1024 bits"), std::string::npos) << weak.error().message;
}

TEST(Rs512, GenerateRefusesSizesOutsideTheBounds) {
  EXPECT_FALSE(RsaPrivateKey::generate(1024));
  EXPECT_FALSE(RsaPrivateKey::generate(2047));
  EXPECT_FALSE(RsaPrivateKey::generate(16384));
}

// ---- Jwk ----

TEST(Jwk, PublicJwkHasTheMembersInOrder) {
  const std::string jwk = key_a().public_jwk_json("k1");
  const std::string prefix = R"({"kty":"RSA","kid":"k1","use":"sig","alg":"RS512","n":")";
  EXPECT_EQ(jwk.rfind(prefix, 0), 0u) << jwk;
  EXPECT_NE(jwk.find(R"(","e":"AQAB"})"), std::string::npos) << jwk;
  EXPECT_EQ(n_of(key_a()).size(), 342u);  // 256 bytes, unpadded, no leading zero
  EXPECT_EQ(n_of(key_a()).find('='), std::string::npos);
  EXPECT_EQ(key_a().public_key().jwk_json("k1"), jwk);
}

TEST(Jwk, FindsKeysByKid) {
  auto jwks = parse_jwks(jwks_of({key_a().public_jwk_json("a"), key_b().public_jwk_json("b")}));
  ASSERT_TRUE(jwks) << jwks.error().message;
  ASSERT_EQ(jwks->keys.size(), 2u);
  ASSERT_NE(jwks->find("a"), nullptr);
  ASSERT_NE(jwks->find("b"), nullptr);
  EXPECT_EQ(jwks->find("a")->kid, "a");
  EXPECT_EQ(jwks->find("a")->key.jwk_json("a"), key_a().public_jwk_json("a"));
  EXPECT_EQ(jwks->find("b")->key.jwk_json("b"), key_b().public_jwk_json("b"));
  EXPECT_EQ(jwks->find("c"), nullptr);
  EXPECT_EQ(jwks->find(""), nullptr);
  EXPECT_EQ(jwks->find("A"), nullptr);
}

TEST(Jwk, RefusesPrivateKeyMaterialWithoutEchoingIt) {
  const std::string n = n_of(key_a());
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    const std::string extra = R"("kid":"k",")" + std::string(member) + R"(":"SECRETVALUE")";
    auto parsed = parse_jwks(jwks_of({key_b().public_jwk_json("b"), rsa_jwk(n, "AQAB", extra)}));
    ASSERT_FALSE(parsed) << member;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("private key material"), std::string::npos) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find("keys[1]"), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().message.find("SECRETVALUE"), std::string::npos) << parsed.error().message;
  }
  // Also in a key that would otherwise be skipped, and whatever the member's type.
  expect_refused(jwks_of({key_a().public_jwk_json("a"), R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"})"}),
                 "private key material");
  expect_refused(jwks_of({key_a().public_jwk_json("a"), R"({"kty":"oct","k":"c2VjcmV0"})"}), "private key material");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"k","d":null)")}), "private key material");
}

TEST(Jwk, ModulusBitsMustBeWithinBounds) {
  for (int bits : {1024, 2047, 8193, 16384}) {
    expect_refused(jwks_of({rsa_jwk(base64url_encode(modulus_of_bits(bits)), "AQAB")}),
                   "modulus has " + std::to_string(bits) + " bits");
  }
  for (int bits : {2048, 3072, 4096, 8192}) {
    auto parsed = parse_jwks(jwks_of({rsa_jwk(base64url_encode(modulus_of_bits(bits)), "AQAB")}));
    ASSERT_TRUE(parsed) << bits << ": " << parsed.error().message;
    EXPECT_EQ(parsed->keys[0].key.bits(), bits);
  }
  std::string even = modulus_of_bits(2048);
  even.back() = '\x02';
  expect_refused(jwks_of({rsa_jwk(base64url_encode(even), "AQAB")}), "modulus is even");
}

TEST(Jwk, ToleratesLeadingZeroBytesInTheModulus) {
  auto real = base64url_decode(n_of(key_a()));
  ASSERT_TRUE(real);
  auto parsed = parse_jwks(jwks_of({rsa_jwk(base64url_encode(std::string(2, '\0') + *real), "AQAB")}));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->keys[0].key.bits(), 2048);
  EXPECT_TRUE(verify_rs512(parsed->keys[0].key, "m", sign_rs512(key_a(), "m")));
  // Exported without them.
  EXPECT_EQ(parsed->keys[0].key.jwk_json("a"), key_a().public_jwk_json("a"));
  // Zero bytes that leave too few bits are still too few.
  expect_refused(jwks_of({rsa_jwk(base64url_encode(std::string(130, '\0') + modulus_of_bits(1024)), "AQAB")}),
                 "1024 bits");
}

TEST(Jwk, PublicExponentMustBeOddAndSmall) {
  const std::string n = n_of(key_a());
  for (const char* e : {"AQ" /*1*/, "Ag" /*2*/, "AQAA" /*65536*/, "AQAAAAE" /*2^32+1*/, "AA" /*0*/}) {
    expect_refused(jwks_of({rsa_jwk(n, e)}), "public exponent");
  }
  for (const char* e : {"Aw" /*3*/, "AQAB", "AAEAAQ" /*65537, leading zero*/, "_____w" /*2^32-1*/}) {
    EXPECT_TRUE(parse_jwks(jwks_of({rsa_jwk(n, e)}))) << e;
  }
}

TEST(Jwk, NumbersMustBeStrictUnpaddedBase64url) {
  const std::string n = n_of(key_a());
  std::string plus = n;
  plus[10] = '+';
  std::string slash = n;
  slash[10] = '/';
  for (const std::string& bad_n : {plus, slash, n + "=", n + "==", n.substr(0, 100) + " " + n.substr(100),
                                   n.substr(0, n.size() - 1) + "B" /*non-zero trailing bits*/, std::string(),
                                   n.substr(0, n.size() - 3) /*length 1 mod 4*/}) {
    auto parsed = parse_jwks(jwks_of({rsa_jwk(bad_n, "AQAB")}));
    EXPECT_FALSE(parsed) << bad_n;
  }
  expect_refused(jwks_of({rsa_jwk(n, "AQAB=")}), "\"e\" is not base64url without padding");
  expect_refused(jwks_of({rsa_jwk(n, "")}), "\"e\" is empty");
  expect_refused(jwks_of({R"({"kty":"RSA","kid":"k","n":1,"e":"AQAB"})"}), "no string \"n\"");
  expect_refused(jwks_of({R"({"kty":"RSA","kid":"k","n":")" + n + R"("})"}), "no string \"e\"");
}

TEST(Jwk, SkipsKeysOfOtherTypes) {
  const std::string ec = R"({"kty":"EC","kid":"ec","use":"sig","crv":"P-256","x":"AA","y":"AA"})";
  const std::string oct = R"({"kty":"oct","kid":"o","alg":"HS256"})";
  auto parsed = parse_jwks(jwks_of({ec, key_a().public_jwk_json("a"), oct}));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->keys.size(), 1u);
  EXPECT_EQ(parsed->keys[0].kid, "a");
  EXPECT_EQ(parsed->find("ec"), nullptr);
  expect_refused(jwks_of({ec, oct}), "no RSA key for RS512");
  expect_refused(jwks_of({R"({"kid":"x"})", key_a().public_jwk_json("a")}), "keys[0] has no string \"kty\"");
  expect_refused(jwks_of({R"({"kty":1})", key_a().public_jwk_json("a")}), "no string \"kty\"");
}

TEST(Jwk, UseAlgAndKeyOpsSelectSigningKeys) {
  const std::string n = n_of(key_a());
  auto kept = [&](const std::string& extra) {
    auto parsed = parse_jwks(jwks_of({key_b().public_jwk_json("b"), rsa_jwk(n, "AQAB", R"("kid":"a")" + extra)}));
    EXPECT_TRUE(parsed) << extra;
    return parsed && parsed->find("a") != nullptr;
  };
  EXPECT_TRUE(kept(""));
  EXPECT_TRUE(kept(R"(,"use":"sig")"));
  EXPECT_TRUE(kept(R"(,"alg":"RS512")"));
  EXPECT_TRUE(kept(R"(,"use":"sig","alg":"RS512","key_ops":["verify"])"));
  EXPECT_TRUE(kept(R"(,"key_ops":["sign","verify"])"));
  EXPECT_FALSE(kept(R"(,"use":"enc")"));
  EXPECT_FALSE(kept(R"(,"use":"SIG")"));
  EXPECT_FALSE(kept(R"(,"alg":"RS256")"));
  EXPECT_FALSE(kept(R"(,"alg":"PS512")"));
  EXPECT_FALSE(kept(R"(,"alg":"rs512")"));
  EXPECT_FALSE(kept(R"(,"alg":"none")"));
  EXPECT_FALSE(kept(R"(,"key_ops":["encrypt"])"));
  EXPECT_FALSE(kept(R"(,"key_ops":[])"));
  // A skipped key's kid may repeat a kept one's: it is never a candidate.
  auto shared = parse_jwks(jwks_of({key_b().public_jwk_json("b"), rsa_jwk(n, "AQAB", R"("kid":"b","alg":"RS256")")}));
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->keys.size(), 1u);
  // Only skipped keys: nothing usable.
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","use":"enc")")}), "no RSA key for RS512");
  // Malformed members are refused, not skipped.
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","use":1)")}), "\"use\" that is not a string");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","alg":null)")}), "\"alg\" that is not a string");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","key_ops":"verify")")}), "\"key_ops\" that is not an array");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","key_ops":[1])")}), "\"key_ops\" entry");
}

TEST(Jwk, KidIsRequiredUniqueAndBounded) {
  const std::string n = n_of(key_a());
  expect_refused(jwks_of({R"({"kty":"RSA","n":")" + n + R"(","e":"AQAB"})"}), "keys[0] has no \"kid\"");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"")")}), "has no \"kid\"");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":7)")}), "\"kid\" that is not a string");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":")" + std::string(257, 'k') + "\"")}), "longer than 256");
  EXPECT_TRUE(parse_jwks(jwks_of({rsa_jwk(n, "AQAB", R"("kid":")" + std::string(256, 'k') + "\"")})));
  // Duplicates: even the same key twice, as a token could not say which it meant.
  expect_refused(jwks_of({key_a().public_jwk_json("same"), key_b().public_jwk_json("same")}),
                 "keys[1] repeats the \"kid\" of an earlier key");
  expect_refused(jwks_of({key_a().public_jwk_json("same"), key_a().public_jwk_json("same")}), "repeats the \"kid\"");
  auto parsed = parse_jwks(jwks_of({key_a().public_jwk_json("same"), key_b().public_jwk_json("Same")}));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->keys.size(), 2u);
}

TEST(Jwk, RefusesRepeatedMembers) {
  const std::string n = n_of(key_a());
  const std::string other_n = n_of(key_b());
  expect_refused(jwks_of({R"({"kty":"RSA","kid":"k","n":")" + n + R"(","e":"AQAB","n":")" + other_n + R"("})"}),
                 "repeats the member \"n\"");
  expect_refused(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","alg":"RS256","alg":"RS512")")}),
                 "repeats the member \"alg\"");
  expect_refused(R"({"keys":[],"keys":[)" + key_a().public_jwk_json("a") + "]}", "\"keys\" appears more than once");
  // Members this parser does not read may repeat.
  EXPECT_TRUE(parse_jwks(jwks_of({rsa_jwk(n, "AQAB", R"("kid":"a","x5t":"1","x5t":"2")")})));
}

TEST(Jwk, RefusesMalformedDocuments) {
  const std::string good = key_a().public_jwk_json("a");
  expect_refused("", "jwks: ");
  expect_refused("{", "jwks: ");
  expect_refused("[" + good + "]", "not a JSON object");
  expect_refused(good, "no \"keys\" member");
  expect_refused("null", "not a JSON object");
  expect_refused(R"("keys")", "not a JSON object");
  expect_refused(R"({"Keys":[]})", "no \"keys\" member");
  expect_refused(R"({"keys":{}})", "\"keys\" is not an array");
  expect_refused(R"({"keys":[]})", "no RSA key for RS512");
  expect_refused(R"({"keys":[)" + good + R"(,"a"]})", "keys[1] is not an object");
  expect_refused(R"({"keys":[)" + good + R"(,[]]})", "keys[1] is not an object");
  expect_refused(R"({"keys":[)" + good + "],}", "jwks: ");  // trailing comma
  // Depth: an extension member nested past the limit.
  expect_refused(R"({"keys":[{"kty":"EC","x":[[[[[[1]]]]]]}]})", "jwks: ");
  EXPECT_TRUE(parse_jwks(R"({"keys":[{"kty":"EC","x":[[[1]]]},)" + good + "]}"));
}

TEST(Jwk, DocumentSizeAndKeyCountAreBounded) {
  const std::string good = key_a().public_jwk_json("a");
  // 32 entries, one usable: accepted. 33: refused, usable or not.
  std::vector<std::string> entries(31, R"({"kty":"EC"})");
  entries.push_back(good);
  EXPECT_TRUE(parse_jwks(jwks_of(entries)));
  entries.push_back(R"({"kty":"EC"})");
  expect_refused(jwks_of(entries), "more than 32 keys");
  // 64 KiB exactly (padded with whitespace) is accepted; one byte more is not.
  std::string document = jwks_of({good});
  document += std::string(kMaxJwksBytes - document.size(), ' ');
  EXPECT_TRUE(parse_jwks(document));
  expect_refused(document + " ", "larger than 64 KiB");
}

TEST(Jwk, ErrorsDoNotEchoTheDocument) {
  const std::string n = n_of(key_a());
  for (const std::string& doc :
       {std::string(R"({"keys":[{"kty":"RSA","kid":"MARKER","n":"MARKER","e":"AQAB"}]})"),
        std::string(R"({"keys":[{"kty":"RSA","kid":"MARKER","n":")" + n + R"(","e":"MARKER"}]})"),
        std::string(R"({"keys":[{"kty":"MARKER"}]})"), std::string(R"({"keys":[{"kty":"RSA","use":"MARKER"}]})"),
        std::string(R"({"keys":"MARKER"})"), std::string(R"({"MARKER":1)")}) {
    auto parsed = parse_jwks(doc);
    ASSERT_FALSE(parsed) << doc;
    EXPECT_EQ(parsed.error().message.find("MARKER"), std::string::npos) << parsed.error().message;
  }
}

}  // namespace
}  // namespace herald::crypto
