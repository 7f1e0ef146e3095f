#pragma once
// One-shot AES-256-GCM for small secrets (wrapping data keys under a KEK). Output and input
// form: 12-byte random nonce || ciphertext || 16-byte tag. The hot path (personal fields) uses
// FieldCipher's cached contexts instead.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/secret.h"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace herald::crypto {

Result<std::string> aes256gcm_seal(const SecretBytes& key, std::string_view aad, std::string_view plaintext);
// kDataLoss when the input is malformed or fails authentication.
Result<SecretBytes> aes256gcm_open(const SecretBytes& key, std::string_view aad, std::string_view sealed);

// Aes256Gcm: one AES-256-GCM key, expanded once, that seals or opens many messages under nonces
// the caller supplies: for streams cut into chunks (ops/backup_file.cc), whose nonces come from a
// counter. The caller must never seal twice with one nonce under one key. The output form is
// ciphertext || 16-byte tag (the nonce is not stored). One EVP context: not thread-safe;
// move-only; the key schedule is wiped by OpenSSL when it is freed.
class Aes256Gcm {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  static constexpr std::size_t kNonceBytes = 12;
  static constexpr std::size_t kTagBytes = 16;
  static constexpr std::size_t kMaxMessageBytes = 1u << 30;  // one message: sizes stay in an int

  enum class Direction { kSeal, kOpen };
  // kInvalidArgument unless the key has 32 bytes.
  static Result<Aes256Gcm> create(const SecretBytes& key, Direction direction);
  ~Aes256Gcm();
  Aes256Gcm(Aes256Gcm&& other) noexcept;
  Aes256Gcm& operator=(Aes256Gcm&& other) noexcept;
  Aes256Gcm(const Aes256Gcm&) = delete;
  Aes256Gcm& operator=(const Aes256Gcm&) = delete;

  // Replaces `out` with ciphertext || tag. kInvalidArgument on a bad nonce or message size.
  Result<void> seal(std::string_view nonce, std::string_view aad, std::string_view plaintext,
                    std::string& out);
  // Replaces `out` with the plaintext. kDataLoss when `sealed` is shorter than a tag or fails
  // authentication (then `out` is wiped and emptied: no unauthenticated plaintext escapes).
  Result<void> open(std::string_view nonce, std::string_view aad, std::string_view sealed,
                    std::string& out);

 private:
  Aes256Gcm(evp_cipher_ctx_st* ctx, Direction direction) : ctx_(ctx), direction_(direction) {}
  evp_cipher_ctx_st* ctx_ = nullptr;
  Direction direction_ = Direction::kSeal;
};

}  // namespace herald::crypto
