#pragma once
// One-shot AES-256-GCM for small secrets (wrapping data keys under a KEK). Output and input
// form: 12-byte random nonce || ciphertext || 16-byte tag. The hot path (personal fields) uses
// FieldCipher's cached contexts instead.

#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/secret.h"

namespace herald::crypto {

Result<std::string> aes256gcm_seal(const SecretBytes& key, std::string_view aad, std::string_view plaintext);
// kDataLoss when the input is malformed or fails authentication.
Result<SecretBytes> aes256gcm_open(const SecretBytes& key, std::string_view aad, std::string_view sealed);

}  // namespace herald::crypto
