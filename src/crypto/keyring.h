#pragma once
// Keyring: the data-encryption keys Herald holds, read from the keyring file.
//
// File format (docs/formats/keyring.md): a first line "herald-keyring v1", then one line per key,
// "data-key <id> <created> <base64 of 32 bytes>". The newest key (highest id) encrypts; every
// key in the file can decrypt. The file must be a regular file with no group or other
// permission bits (SC-17): load() refuses anything looser, naming the path and mode but never
// any key material. The keys issue replaces the single layer with KEK-wrapped DEKs; ciphertexts
// already carry the key id, so that change needs no data rewrite.
//
// Thread-safe after construction (read-only).

#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "crypto/secret.h"

namespace herald::crypto {

class Keyring {
 public:
  // Creates a new keyring file with one fresh key, mode 0600; fails if the file exists.
  static Result<void> create_file(const std::string& path, Timestamp now);
  static Result<Keyring> load(const std::string& path);
  // A keyring with one given key, for tests.
  static Keyring single_key_for_test(std::uint32_t id, std::string_view key_bytes);

  std::uint32_t active_key_id() const { return active_id_; }
  // nullptr when the id is unknown.
  const SecretBytes* key(std::uint32_t id) const;

 private:
  std::map<std::uint32_t, SecretBytes> keys_;
  std::uint32_t active_id_ = 0;
};

}  // namespace herald::crypto
