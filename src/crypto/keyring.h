#pragma once
// Keyring: the keys Herald keeps in its keyring file (docs/formats/keyring.md):
//   - key-encryption keys ("kek" lines), when the KEK source is the file rather than a
//     PKCS#11 token (keyring_kek.h uses them; they only ever wrap data keys);
//   - Ed25519 seeds that sign the audit log's checkpoints ("signing-key" lines);
//   - legacy data keys ("data-key" lines) of the first release's single-layer format, kept only
//     until `open_context` has imported them into the data-key store wrapped under a KEK.
// The file must be a regular file with no group or other permission bits (SC-17): load()
// refuses anything looser, naming the path and mode but never any key material. Writes are
// atomic (temporary file, fsync, rename) and serialised between processes with a lock file.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "crypto/secret.h"

namespace herald::crypto {

struct KeyringEntry {
  Timestamp created;
  SecretBytes key;
};

class Keyring {
 public:
  using Entries = std::map<std::uint32_t, KeyringEntry>;

  // Creates a new keyring file (mode 0600) with signing key 1 and, when `with_kek`, KEK 1.
  // Fails if the file exists.
  static Result<void> create_file(const std::string& path, Timestamp now, bool with_kek);
  static Result<Keyring> load(const std::string& path);
  // Loads, applies `change`, and saves atomically, holding an exclusive lock on "<path>.lock"
  // throughout so that two processes never lose each other's changes.
  static Result<void> update(const std::string& path, const std::function<Result<void>(Keyring&)>& change);

  const Entries& keks() const { return keks_; }
  const Entries& signing_keys() const { return signing_keys_; }
  const Entries& legacy_data_keys() const { return legacy_data_keys_; }

  // Adds a fresh random key with the next number; returns the number.
  Result<std::uint32_t> add_kek(Timestamp now);
  Result<std::uint32_t> add_signing_key(Timestamp now);
  bool remove_kek(std::uint32_t number) { return keks_.erase(number) == 1; }
  void clear_legacy_data_keys() { legacy_data_keys_.clear(); }

 private:
  Result<void> save(const std::string& path) const;
  Entries keks_;
  Entries signing_keys_;
  Entries legacy_data_keys_;
};

}  // namespace herald::crypto
