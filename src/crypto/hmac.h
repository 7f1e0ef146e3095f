#pragma once
// HMAC-SHA256 and SHA-256.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace herald::crypto {

// 32 raw bytes. Thread-safe, no state.
std::string hmac_sha256(std::string_view key, std::string_view message);
std::string sha256(std::string_view message);

// SHA-256 of a file, read in blocks (release artifacts, Herald's own binary): the 32-byte digest
// and the number of bytes read. kNotFound / kUnavailable naming the file when it cannot be read.
struct FileDigest {
  std::string sha256;
  std::uint64_t size = 0;
};
Result<FileDigest> sha256_file(const std::string& path);

// HMAC-SHA256 under one key whose inner and outer hash states (RFC 2104) are computed once, so
// each MAC costs two hash finalisations rather than a key setup: for keys used on every
// request (API key secrets). The states are secret; OpenSSL wipes them when freed.
// Thread-safe (const).
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(HmacSha256Key&& other) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&& other) noexcept;
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  std::array<unsigned char, 32> mac(std::string_view message) const;

 private:
  evp_md_ctx_st* inner_ = nullptr;
  evp_md_ctx_st* outer_ = nullptr;
};

}  // namespace herald::crypto
