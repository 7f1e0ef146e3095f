#include "crypto/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/check.h"

namespace herald::crypto {
namespace {

constexpr std::size_t kBlockBytes = 64;

const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  HERALD_CHECK(md != nullptr, "SHA-256 unavailable");
  return md;
}

// A hash state that has absorbed one padded key block.
EVP_MD_CTX* absorbed(const unsigned char* block) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  HERALD_CHECK(ctx != nullptr && EVP_DigestInit_ex(ctx, sha256_md(), nullptr) == 1 &&
                   EVP_DigestUpdate(ctx, block, kBlockBytes) == 1,
               "SHA-256 init failed");
  return ctx;
}

struct ScratchContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~ScratchContext() { EVP_MD_CTX_free(ctx); }
};
thread_local ScratchContext t_scratch;

}  // namespace

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

Result<FileDigest> sha256_file(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rbe"), &std::fclose);
  if (!file) {
    const int err = errno;
    Error e{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
            "cannot read " + path + ": " + std::strerror(err)};
    return e;
  }
  const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  HERALD_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr) == 1, "SHA-256 init failed");
  std::vector<char> buffer(1 << 20);
  FileDigest digest;
  while (true) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n > 0) {
      HERALD_CHECK(EVP_DigestUpdate(ctx.get(), buffer.data(), n) == 1, "SHA-256 failed");
      digest.size += n;
    }
    if (n < buffer.size()) {
      if (std::ferror(file.get()) != 0) return unavailable("cannot read " + path + ": read error");
      break;
    }
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HERALD_CHECK(EVP_DigestFinal_ex(ctx.get(), out, &len) == 1, "SHA-256 failed");
  digest.sha256.assign(reinterpret_cast<const char*>(out), len);
  return digest;
}

HmacSha256Key::HmacSha256Key(std::string_view key) {
  unsigned char block[kBlockBytes] = {};
  if (key.size() > kBlockBytes) {
    unsigned int len = 0;
    HERALD_CHECK(EVP_Digest(key.data(), key.size(), block, &len, sha256_md(), nullptr) == 1, "SHA-256 failed");
  } else {
    for (std::size_t i = 0; i < key.size(); ++i) block[i] = static_cast<unsigned char>(key[i]);
  }
  unsigned char pad[kBlockBytes];
  for (std::size_t i = 0; i < kBlockBytes; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x36);
  inner_ = absorbed(pad);
  for (std::size_t i = 0; i < kBlockBytes; ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x5c);
  outer_ = absorbed(pad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256Key::~HmacSha256Key() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

HmacSha256Key::HmacSha256Key(HmacSha256Key&& other) noexcept
    : inner_(std::exchange(other.inner_, nullptr)), outer_(std::exchange(other.outer_, nullptr)) {}

HmacSha256Key& HmacSha256Key::operator=(HmacSha256Key&& other) noexcept {
  std::swap(inner_, other.inner_);
  std::swap(outer_, other.outer_);
  return *this;
}

std::array<unsigned char, 32> HmacSha256Key::mac(std::string_view message) const {
  HERALD_CHECK(inner_ != nullptr, "HmacSha256Key used after move");
  std::array<unsigned char, 32> inner_digest{};
  std::array<unsigned char, 32> out{};
  EVP_MD_CTX* ctx = t_scratch.ctx;
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, inner_) == 1 &&
                  EVP_DigestUpdate(ctx, message.data(), message.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, inner_digest.data(), &len) == 1 &&
                  EVP_MD_CTX_copy_ex(ctx, outer_) == 1 &&
                  EVP_DigestUpdate(ctx, inner_digest.data(), inner_digest.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  OPENSSL_cleanse(inner_digest.data(), inner_digest.size());
  HERALD_CHECK(ok, "HMAC-SHA256 failed");
  return out;
}

}  // namespace herald::crypto
