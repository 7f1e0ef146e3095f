#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>

#include "crypto/random.h"

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

}  // namespace herald::crypto
