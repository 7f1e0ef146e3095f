#pragma once
// Opens what every command needs from a configuration: the keyring (refusing a loose file
// mode), the field cipher and the SQLite store. The only place besides serve that names the
// concrete store backend.

#include <memory>

#include "cli/config.h"
#include "crypto/field_cipher.h"
#include "store/store.h"

namespace herald::cli {

struct Context {
  Config config;
  std::shared_ptr<const crypto::FieldCipher> cipher;
  std::unique_ptr<store::Store> store;
};

Result<Context> open_context(const std::string& config_path);

}  // namespace herald::cli
