#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::crypto {
namespace {

const std::string kNonce = "nonce-12byte";
const std::string kOtherNonce = "nonce-12bytf";

TEST(Aes256Gcm, SealsAndOpensUnderCallerNonces) {
  auto sealer = Aes256Gcm::create(SecretBytes(std::string(32, 'k')), Aes256Gcm::Direction::kSeal);
  auto opener = Aes256Gcm::create(SecretBytes(std::string(32, 'k')), Aes256Gcm::Direction::kOpen);
  ASSERT_TRUE(sealer && opener);
  std::string sealed;
  ASSERT_TRUE(sealer->seal(kNonce, "aad", "chunk of patient data", sealed));
  EXPECT_EQ(sealed.size(), 21u + Aes256Gcm::kTagBytes);
  EXPECT_EQ(sealed.find("patient"), std::string::npos);
  std::string second;
  ASSERT_TRUE(sealer->seal(kOtherNonce, "aad", "chunk of patient data", second));
  EXPECT_NE(sealed, second);

  std::string plain;
  ASSERT_TRUE(opener->open(kNonce, "aad", sealed, plain));
  EXPECT_EQ(plain, "chunk of patient data");
  std::string empty_sealed;
  ASSERT_TRUE(sealer->seal(kNonce, "", "", empty_sealed));
  ASSERT_TRUE(opener->open(kNonce, "", empty_sealed, plain));
  EXPECT_EQ(plain, "");
}

TEST(Aes256Gcm, AnyMismatchIsDataLossAndYieldsNoPlaintext) {
  auto sealer = Aes256Gcm::create(SecretBytes(std::string(32, 'k')), Aes256Gcm::Direction::kSeal);
  auto opener = Aes256Gcm::create(SecretBytes(std::string(32, 'k')), Aes256Gcm::Direction::kOpen);
  auto other = Aes256Gcm::create(SecretBytes(std::string(32, 'j')), Aes256Gcm::Direction::kOpen);
  ASSERT_TRUE(sealer && opener && other);
  std::string sealed;
  ASSERT_TRUE(sealer->seal(kNonce, "aad", "secret", sealed));
  std::string plain = "stale";
  for (const auto& [nonce, aad] : {std::pair{kOtherNonce, std::string("aad")}, std::pair{kNonce, std::string("aae")}}) {
    auto opened = opener->open(nonce, aad, sealed, plain);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ErrorCode::kDataLoss);
    EXPECT_TRUE(plain.empty());
  }
  EXPECT_FALSE(other->open(kNonce, "aad", sealed, plain));
  std::string tampered = sealed;
  tampered[0] = static_cast<char>(tampered[0] ^ 1);
  EXPECT_FALSE(opener->open(kNonce, "aad", tampered, plain));
  EXPECT_FALSE(opener->open(kNonce, "aad", sealed.substr(0, 15), plain));
  EXPECT_EQ(opener->open("short", "aad", sealed, plain).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Aes256Gcm::create(SecretBytes(std::string(16, 'k')), Aes256Gcm::Direction::kSeal));
}

}  // namespace
}  // namespace herald::crypto
