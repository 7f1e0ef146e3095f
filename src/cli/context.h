#pragma once
// Opens what every command needs from a configuration: the KEK source (the keyring file,
// refusing a loose file mode), the data-key store, the field cipher and the store
// (SQLite, or PostgreSQL when store.url is set).
// A keyring of the first release (data keys in the file) is upgraded here: its keys are
// imported into the data-key store under their old ids, wrapped under a new KEK, and then
// removed from the file. The only place besides serve that names the
// concrete store backend.

#include <memory>

#include "cli/config.h"
#include "crypto/data_keys.h"
#include "crypto/field_cipher.h"
#include "domain/notifications.h"
#include "ops/key_check.h"
#include "ops/retention.h"
#include "security/audit.h"
#include "store/store.h"

namespace herald::cli {

// Removes the data keys' new-key guard (ops/key_check.h), which reads the store, before the
// store closes: declared after it in Context, so destroyed first.
class KeyGuardRelease {
 public:
  explicit KeyGuardRelease(std::shared_ptr<crypto::DataKeys> keys) : keys_(std::move(keys)) {}
  KeyGuardRelease(KeyGuardRelease&&) = default;
  KeyGuardRelease& operator=(KeyGuardRelease&&) = default;
  KeyGuardRelease(const KeyGuardRelease&) = delete;
  KeyGuardRelease& operator=(const KeyGuardRelease&) = delete;
  ~KeyGuardRelease() {
    if (keys_) keys_->set_new_key_guard(nullptr);
  }

 private:
  std::shared_ptr<crypto::DataKeys> keys_;
};

struct Context {
  Config config;
  std::shared_ptr<crypto::DataKeys> keys;
  std::shared_ptr<const crypto::FieldCipher> cipher;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<security::AuditLog> audit;
  KeyGuardRelease key_guard;

  // Appends one audit entry and checkpoints the chain at once (a command is a rare event).
  Result<void> record(security::AuditEvent event);
};

// How this installation's notifications are accepted (its email domain, default SMS sender;
// files sealed unless the store is the plaintext control run's).
domain::NotificationsConfig notifications_config(const Context& context);

Result<Context> open_context(const std::string& config_path);
Result<Context> open_context(Config config);

// The store the configuration names: PostgreSQL when store.url is set, else the SQLite file.
Result<std::unique_ptr<store::Store>> open_store(const Config& config,
                                                 std::shared_ptr<const crypto::FieldCipher> cipher);

// The KEK source the configuration names (keyring file or PKCS#11 token).
Result<std::shared_ptr<crypto::KekSource>> open_kek(const Config& config);

// The audit objects of a retention run (shared by the command and serve's job).
std::vector<std::pair<std::string, std::string>> retention_objects(const ops::RetentionReport& report);

}  // namespace herald::cli
