#include "crypto/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/check.h"

namespace herald::crypto {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* r =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  HERALD_CHECK(r != nullptr && len == 32, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha256(std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HERALD_CHECK(EVP_Digest(message.data(), message.size(), out, &len, EVP_sha256(), nullptr) == 1,
               "SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace herald::crypto
