#include "crypto/field_cipher.h"

#include <openssl/evp.h>

#include <memory>

#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr unsigned char kVersionPlain = 0x00;
constexpr unsigned char kVersionAesGcm = 0x01;
constexpr std::size_t kHeaderBytes = 5;  // version + key id
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

std::string associated_data(std::string_view header, const FieldContext& c) {
  std::string aad = "herald.field.v1";
  aad += '\0';
  aad += header;
  for (std::string_view part : {c.table, c.column, c.row_id}) {
    aad += '\0';
    aad += part;
  }
  return aad;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

Result<std::string> FieldCipher::seal(std::string_view plaintext,
                                      const FieldContext& context) const {
  if (mode_ == Mode::kPlaintextForTest) {
    std::string out(1, static_cast<char>(kVersionPlain));
    out.append(plaintext);
    return out;
  }
  const std::uint32_t key_id = keyring_.active_key_id();
  const SecretBytes* key = keyring_.key(key_id);
  HERALD_CHECK(key != nullptr, "active key missing from keyring");
  auto nonce = random_bytes(kNonceBytes);
  if (!nonce) return nonce.error();

  std::string out(kHeaderBytes + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out[0] = static_cast<char>(kVersionAesGcm);
  for (int i = 0; i < 4; ++i) out[1 + static_cast<std::size_t>(i)] = static_cast<char>(key_id >> (24 - 8 * i));
  out.replace(kHeaderBytes, kNonceBytes, *nonce);
  const std::string aad = associated_data(std::string_view(out).substr(0, kHeaderBytes), context);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  unsigned char* body = bytes(out) + kHeaderBytes + kNonceBytes;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key->view()),
                                bytes(*nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          body + plaintext.size()) == 1;
  if (!ok) return internal_error("AES-GCM encryption failed");
  return out;
}

Result<std::string> FieldCipher::open(std::string_view envelope,
                                      const FieldContext& context) const {
  if (envelope.empty()) return data_loss("empty ciphertext envelope");
  const auto version = static_cast<unsigned char>(envelope[0]);
  if (version == kVersionPlain) {
    if (mode_ != Mode::kPlaintextForTest) return data_loss("unencrypted field found");
    return std::string(envelope.substr(1));
  }
  if (version != kVersionAesGcm || envelope.size() < kHeaderBytes + kNonceBytes + kTagBytes) {
    return data_loss("malformed ciphertext envelope");
  }
  std::uint32_t key_id = 0;
  for (std::size_t i = 1; i < kHeaderBytes; ++i) key_id = (key_id << 8) | static_cast<unsigned char>(envelope[i]);
  const SecretBytes* key = keyring_.key(key_id);
  if (key == nullptr) return data_loss("ciphertext names unknown key " + std::to_string(key_id));

  const std::string aad = associated_data(envelope.substr(0, kHeaderBytes), context);
  const std::string_view nonce = envelope.substr(kHeaderBytes, kNonceBytes);
  const std::size_t body_size = envelope.size() - kHeaderBytes - kNonceBytes - kTagBytes;
  const std::string_view body = envelope.substr(kHeaderBytes + kNonceBytes, body_size);
  std::string tag(envelope.substr(envelope.size() - kTagBytes));
  std::string out(body_size, '\0');

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key->view()), bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes(out), &len, bytes(body), static_cast<int>(body.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), bytes(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(out) + len, &len) == 1;
  if (!ok) {
    wipe_string(out);
    return data_loss("ciphertext failed authentication (" + std::string(context.table) + "." +
                     std::string(context.column) + " row " + std::string(context.row_id) + ")");
  }
  return out;
}

}  // namespace herald::crypto
