#pragma once
// KeyringKek: the KekSource whose KEK versions are the "kek" lines of the keyring file. Every
// call re-reads the file (wraps and unwraps are rare: once per data key), so versions added by
// `herald keys rotate` in another process are used by a running server at its next new key.

#include <mutex>

#include "crypto/kek.h"

namespace herald::crypto {

class KeyringKek final : public KekSource {
 public:
  explicit KeyringKek(std::string path) : path_(std::move(path)) {}

  std::string description() const override { return "keyring file " + path_; }
  Result<std::vector<KekVersion>> versions() override;
  Result<WrappedKey> wrap(const SecretBytes& key, std::string_view aad) override;
  Result<SecretBytes> unwrap(const WrappedKey& wrapped, std::string_view aad) override;
  Result<KekVersion> create_version(Timestamp now) override;
  Result<void> destroy_version(std::string_view kek_id) override;

 private:
  std::string path_;
};

}  // namespace herald::crypto
