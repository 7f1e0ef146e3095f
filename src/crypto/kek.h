#pragma once
// KekSource: where Herald's key-encryption keys (KEKs) live. A KEK only wraps and unwraps data
// keys (DEKs, see data_keys.h); it never encrypts personal data itself and never leaves its
// source through this interface. Two sources implement it:
//   - KeyringKek (keyring_kek.h): KEK versions in the keyring file (mode 0600);
//   - Pkcs11Kek (pkcs11_kek.h): AES keys on a PKCS#11 token, generated there as sensitive and
//     non-extractable, so wrapping happens inside the token.
//
// Versions: every source holds numbered KEK versions 1, 2, ...; the highest one wraps, all of
// them unwrap. Each version has an id string "<source>-<n>" ("file-3", "pkcs11-2") that is
// stored beside every wrapped key, so a wrapped key names the KEK that can open it.
//
// Wrapped form (identical for every source, so keys can move between sources by re-wrapping):
// 12-byte nonce || AES-256-GCM ciphertext of the key || 16-byte tag. The associated data is the
// caller's `aad` (DataKeys binds the KEK id, the DEK id and its scope into it).
//
// Implementations are thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/secret.h"

namespace herald::crypto {

struct KekVersion {
  std::string id;          // "<source>-<n>"
  std::uint32_t number = 0;
  Timestamp created;       // day precision on PKCS#11 tokens (CKA_START_DATE)
  bool active = false;     // the version that wraps new keys
};

struct WrappedKey {
  std::string kek_id;
  std::string bytes;  // nonce || ciphertext || tag
};

class KekSource {
 public:
  virtual ~KekSource() = default;

  // For messages and `herald keys status`: "keyring file /x/keyring", "PKCS#11 token 'herald'".
  virtual std::string description() const = 0;
  // All versions, oldest first. Re-reads the source, so versions added or retired by another
  // process (`herald keys rotate` while `serve` runs) are seen.
  virtual Result<std::vector<KekVersion>> versions() = 0;
  // Wraps `key` under the newest version (re-reading the source first, as versions()).
  virtual Result<WrappedKey> wrap(const SecretBytes& key, std::string_view aad) = 0;
  // kNotFound when that version does not exist (retired); kDataLoss when authentication fails.
  virtual Result<SecretBytes> unwrap(const WrappedKey& wrapped, std::string_view aad) = 0;
  // Adds a new newest version (rotation). Returns it.
  virtual Result<KekVersion> create_version(Timestamp now) = 0;
  // Destroys one version for good. The caller checks first that nothing is wrapped under it.
  // Refuses to destroy the only (active) version.
  virtual Result<void> destroy_version(std::string_view kek_id) = 0;
};

}  // namespace herald::crypto
