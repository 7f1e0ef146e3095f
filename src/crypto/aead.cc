#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "crypto/random.h"
#include "crypto/secret.h"

namespace herald::crypto {
namespace {

constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* u(char* s) { return reinterpret_cast<unsigned char*>(s); }

}  // namespace

Result<std::string> aes256gcm_seal(const SecretBytes& key, std::string_view aad, std::string_view plaintext) {
  if (key.size() != 32) return invalid_argument("AES-256-GCM needs a 32-byte key");
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  public_random(u(out.data()), kNonce);
  Ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  char* body = out.data() + kNonce;
  const bool ok_all =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key.view()), u(out.data())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), u(body), &len, u(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), u(body) + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, body + plaintext.size()) == 1;
  if (!ok_all) return internal_error("AES-GCM encryption failed");
  return out;
}

Result<SecretBytes> aes256gcm_open(const SecretBytes& key, std::string_view aad, std::string_view sealed) {
  if (key.size() != 32) return invalid_argument("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kNonce + kTag) return data_loss("wrapped key is malformed");
  const std::size_t n = sealed.size() - kNonce - kTag;
  SecretBytes out(n);
  std::string tag(sealed.substr(kNonce + n));
  Ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  const bool ok_all =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key.view()), u(sealed)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), u(out.data()), &len, u(sealed.substr(kNonce, n)), static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), u(out.data()) + len, &len) == 1;
  if (!ok_all) return data_loss("wrapped key failed authentication");
  return out;
}

Result<Aes256Gcm> Aes256Gcm::create(const SecretBytes& key, Direction direction) {
  if (key.size() != kKeyBytes) return invalid_argument("AES-256-GCM needs a 32-byte key");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const int encrypt = direction == Direction::kSeal ? 1 : 0;
  if (ctx == nullptr ||
      EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, u(key.view()), nullptr, encrypt) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return internal_error("AES-GCM key setup failed");
  }
  return Aes256Gcm(ctx, direction);
}

Aes256Gcm::~Aes256Gcm() { EVP_CIPHER_CTX_free(ctx_); }

Aes256Gcm::Aes256Gcm(Aes256Gcm&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), direction_(other.direction_) {}

Aes256Gcm& Aes256Gcm::operator=(Aes256Gcm&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    direction_ = other.direction_;
  }
  return *this;
}

Result<void> Aes256Gcm::seal(std::string_view nonce, std::string_view aad,
                             std::string_view plaintext, std::string& out) {
  HERALD_CHECK(ctx_ != nullptr && direction_ == Direction::kSeal, "Aes256Gcm: not a sealing key");
  if (nonce.size() != kNonceBytes) return invalid_argument("AES-GCM nonce must have 12 bytes");
  if (plaintext.size() > kMaxMessageBytes || aad.size() > kMaxMessageBytes) {
    return invalid_argument("AES-GCM message too long");
  }
  out.resize(plaintext.size() + kTagBytes);
  int len = 0;
  int final_len = 0;
  const bool ok_all =
      EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, u(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx_, nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx_, u(out.data()), &len, u(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx_, u(out.data()) + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, kTag, out.data() + plaintext.size()) == 1;
  if (!ok_all) {
    out.clear();
    return internal_error("AES-GCM encryption failed");
  }
  return ok();
}

Result<void> Aes256Gcm::open(std::string_view nonce, std::string_view aad, std::string_view sealed,
                             std::string& out) {
  HERALD_CHECK(ctx_ != nullptr && direction_ == Direction::kOpen, "Aes256Gcm: not an opening key");
  if (nonce.size() != kNonceBytes) return invalid_argument("AES-GCM nonce must have 12 bytes");
  if (sealed.size() < kTagBytes) return data_loss("AES-GCM message shorter than its tag");
  if (sealed.size() > kMaxMessageBytes + kTagBytes || aad.size() > kMaxMessageBytes) {
    return data_loss("AES-GCM message too long");
  }
  const std::size_t n = sealed.size() - kTagBytes;
  std::string tag(sealed.substr(n));  // EVP takes a non-const pointer to the expected tag
  out.resize(n);
  int len = 0;
  int final_len = 0;
  const bool ok_all =
      EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, u(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx_, nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx_, u(out.data()), &len, u(sealed), static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx_, u(out.data()) + len, &final_len) == 1;
  if (!ok_all) {
    wipe_string(out);
    out.clear();
    return data_loss("AES-GCM authentication failed");
  }
  return ok();
}

}  // namespace herald::crypto
