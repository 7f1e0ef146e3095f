#include "crypto/signing.h"

#include <gtest/gtest.h>

#include <string>

#include "core/hex.h"

namespace herald::crypto {
namespace {

std::string from_hex(std::string_view hex) { return hex_decode(hex).value(); }

struct Rfc8032Vector {
  const char* name;
  const char* secret_key;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1, TEST 2 and TEST 3.
const Rfc8032Vector kVectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, MatchesRfc8032TestVectors) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    const SecretBytes seed(from_hex(v.secret_key));
    auto public_key = ed25519_public_key(seed);
    ASSERT_TRUE(public_key);
    EXPECT_EQ(hex_encode(*public_key), v.public_key);
    const std::string message = from_hex(v.message);
    auto signature = ed25519_sign(seed, message);
    ASSERT_TRUE(signature);
    EXPECT_EQ(hex_encode(*signature), v.signature);
    EXPECT_TRUE(ed25519_verify(from_hex(v.public_key), message, from_hex(v.signature)));
  }
}

TEST(Ed25519, RejectsAnyChangeToMessageSignatureOrKey) {
  const std::string public_key = from_hex(kVectors[1].public_key);
  const std::string message = from_hex(kVectors[1].message);
  const std::string signature = from_hex(kVectors[1].signature);
  ASSERT_TRUE(ed25519_verify(public_key, message, signature));

  EXPECT_FALSE(ed25519_verify(public_key, "\x73", signature));
  EXPECT_FALSE(ed25519_verify(public_key, message + std::string(1, '\0'), signature));
  for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
    std::string bad = signature;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(ed25519_verify(public_key, message, bad)) << "signature byte " << i;
  }
  EXPECT_FALSE(ed25519_verify(from_hex(kVectors[0].public_key), message, signature));
  // Wrong sizes are "not valid", never a crash.
  EXPECT_FALSE(ed25519_verify(public_key, message, signature.substr(0, 63)));
  EXPECT_FALSE(ed25519_verify(public_key.substr(0, 31), message, signature));
  EXPECT_FALSE(ed25519_verify("", message, ""));
}

TEST(Ed25519, RefusesSeedsOfTheWrongSize) {
  const SecretBytes short_seed(std::string(31, 'k'));
  const SecretBytes long_seed(std::string(33, 'k'));
  EXPECT_EQ(ed25519_public_key(short_seed).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ed25519_sign(long_seed, "m").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ed25519_sign(SecretBytes(), "m").error().code, ErrorCode::kInvalidArgument);
}

TEST(Ed25519, GeneratedSeedsSignAndVerifyAndDiffer) {
  auto first = generate_ed25519_seed();
  auto second = generate_ed25519_seed();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->size(), kEd25519SeedBytes);
  EXPECT_NE(first->view(), second->view());
  auto public_key = ed25519_public_key(*first);
  ASSERT_TRUE(public_key);
  EXPECT_EQ(public_key->size(), kEd25519PublicKeyBytes);
  auto signature = ed25519_sign(*first, "checkpoint");
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), kEd25519SignatureBytes);
  EXPECT_TRUE(ed25519_verify(*public_key, "checkpoint", *signature));
  auto other_public_key = ed25519_public_key(*second);
  ASSERT_TRUE(other_public_key);
  EXPECT_FALSE(ed25519_verify(*other_public_key, "checkpoint", *signature));
}

}  // namespace
}  // namespace herald::crypto
