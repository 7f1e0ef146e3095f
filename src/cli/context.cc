#include "cli/context.h"

#include <unistd.h>

#include <array>
#include <cstdlib>

#include "core/log.h"
#include "crypto/keyring.h"
#include "crypto/keyring_kek.h"
#include "crypto/pkcs11_kek.h"
#include "store/postgres/key_repository.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/key_repository.h"
#include "store/sqlite/sqlite_store.h"
#include "store/transfer/postgres_to_sqlite.h"

namespace herald::cli {
namespace {

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown-host";
  return name.data();
}

// First-release keyrings held the data keys themselves. Import them (same ids, so stored
// ciphertexts need no rewrite), then drop them from the file. Each step is idempotent, so a
// crash part-way is finished by the next start.
Result<void> upgrade_legacy_keyring(const Config& config, crypto::DataKeys& keys) {
  auto keyring = crypto::Keyring::load(config.keyring_path);
  if (!keyring) return keyring.error();
  const bool kek_in_file = config.kek_source == "keyring";
  if (keyring->legacy_data_keys().empty() && (!kek_in_file || !keyring->keks().empty()) &&
      !keyring->signing_keys().empty()) {
    return ok();
  }
  const Timestamp now = SystemClock().now();
  auto completed = crypto::Keyring::update(config.keyring_path, [&](crypto::Keyring& k) -> Result<void> {
    if (kek_in_file && k.keks().empty()) HERALD_TRY(k.add_kek(now));
    if (k.signing_keys().empty()) HERALD_TRY(k.add_signing_key(now));
    return ok();
  });
  if (!completed) return completed.error();
  if (keyring->legacy_data_keys().empty()) return ok();
  for (const auto& [id, entry] : keyring->legacy_data_keys()) HERALD_TRY(keys.import_legacy(id, entry.key, entry.created));
  HERALD_TRY(crypto::Keyring::update(config.keyring_path, [](crypto::Keyring& k) -> Result<void> {
    k.clear_legacy_data_keys();
    return ok();
  }));
  log::info("keys.legacy_keyring_upgraded", {{"data_keys", std::to_string(keyring->legacy_data_keys().size())}});
  return ok();
}

}  // namespace

Result<std::shared_ptr<crypto::KekSource>> open_kek(const Config& config) {
  if (config.kek_source != "pkcs11") return std::shared_ptr<crypto::KekSource>(std::make_shared<crypto::KeyringKek>(config.keyring_path));
  auto pin = crypto::read_pin_file(config.pkcs11_pin_file);
  if (!pin) return pin.error();
  crypto::Pkcs11Config p11;
  p11.module_path = config.pkcs11_module;
  p11.token_label = config.pkcs11_token;
  p11.user_pin = std::move(*pin);
  auto token = crypto::Pkcs11Kek::open(p11);
  if (!token) return token.error();
  // A new token gets its first KEK version here, generated on the token.
  HERALD_TRY((*token)->ensure_initial_version(SystemClock().now()));
  return std::shared_ptr<crypto::KekSource>(std::move(*token));
}

Result<std::unique_ptr<store::Store>> open_store(const Config& config,
                                                 std::shared_ptr<const crypto::FieldCipher> cipher) {
  if (!config.store_url.empty()) {
    store::postgres::PgConfig pg;
    pg.url = config.store_url;
    pg.connections = config.store_connections;
    pg.writers = config.store_writers;
    pg.commit_gather = config.commit_gather;
    pg.migrate = config.store_migrate;
    auto store = store::postgres::PgStore::open(pg, std::move(cipher), SystemClock().now());
    if (!store) return store.error();
    // Backups of PostgreSQL are SQLite files (`herald backup`), written by store/transfer/.
    (*store)->set_snapshot_writer(store::transfer::snapshot_postgres_to_sqlite);
    return std::unique_ptr<store::Store>(std::move(*store));
  }
  store::sqlite::SqliteConfig sqlite;
  sqlite.path = config.database_path;
  sqlite.commit_gather = config.commit_gather;
  auto store = store::sqlite::SqliteStore::open(sqlite, std::move(cipher), SystemClock().now());
  if (!store) return store.error();
  return std::unique_ptr<store::Store>(std::move(*store));
}

Result<Context> open_context(const std::string& config_path) {
  auto config = load_config(config_path);
  if (!config) return config.error();
  return open_context(std::move(*config));
}

domain::NotificationsConfig notifications_config(const Context& context) {
  return {context.config.email_domain, context.config.sms.default_sender,
          context.cipher->mode() == crypto::FieldCipher::Mode::kPlaintextForTest
              ? domain::Documents::Mode::kPlaintextForTest
              : domain::Documents::Mode::kEncrypt};
}

Result<Context> open_context(Config loaded) {
  auto config = std::make_optional(std::move(loaded));
  std::shared_ptr<crypto::DataKeyRepository> repository;
  if (is_postgres_url(config->key_store_path)) {
    // A process role's URL (with_store_role) may not create the key schema: the owner did.
    const bool as_role = !config->store_migrate && config->key_store_path == config->store_url;
    auto opened = store::postgres::PgKeyRepository::open(config->key_store_path,
                                                         as_role ? store::postgres::PgKeyRepository::Schema::kExisting
                                                                 : store::postgres::PgKeyRepository::Schema::kCreate);
    if (!opened) return opened.error();
    repository = std::move(*opened);
  } else {
    auto opened = store::sqlite::SqliteKeyRepository::open(config->key_store_path);
    if (!opened) return opened.error();
    repository = std::move(*opened);
  }
  auto kek = open_kek(*config);
  if (!kek) return kek.error();
  auto keys = std::make_shared<crypto::DataKeys>(std::move(*kek), std::move(repository));
  HERALD_TRY(upgrade_legacy_keyring(*config, *keys));
  auto mode = crypto::FieldCipher::Mode::kEncrypt;
  if (config->store_plaintext_for_test) {
    const char* testing = std::getenv("HERALD_TESTING");
    if (testing == nullptr || std::string(testing) != "1") {
      return invalid_argument("testing.store_plaintext is set but HERALD_TESTING=1 is not: refusing to "
                              "store personal data unencrypted");
    }
    log::warn("config.plaintext_at_rest", {{"warning", "personal data will be stored UNENCRYPTED (test only)"}});
    mode = crypto::FieldCipher::Mode::kPlaintextForTest;
  }
  auto cipher = std::make_shared<const crypto::FieldCipher>(keys, mode);
  auto store = open_store(*config, cipher);
  if (!store) return store.error();
  // Checkpoint records name the file that holds the checkpoint, on this host; a process signs
  // at least every interval (commands at once), so an unsigned tail twice that long, plus slack
  // for a crash, means checkpoints went missing.
  security::AuditLogOptions audit_options{config->audit_checkpoint_path, config->keyring_path, config->audit_syslog,
                                          host_name() + ":" + config->audit_checkpoint_path,
                                          std::chrono::seconds(2 * config->audit_checkpoint_seconds + 300)};
  auto audit = std::make_unique<security::AuditLog>(**store, std::move(audit_options));
  // Never a new data key for a day whose notifications are sealed under a key this key store
  // lacks (a restore beside the wrong keys.db): refused, not silently replaced.
  keys->set_new_key_guard(ops::new_key_guard(**store, **store));
  KeyGuardRelease release(keys);
  return Context{std::move(*config), std::move(keys),  std::move(cipher),
                 std::move(*store),  std::move(audit), std::move(release)};
}

Result<void> Context::record(security::AuditEvent event) {
  const Timestamp now = SystemClock().now();
  HERALD_TRY(audit->record(std::move(event), now));
  auto checkpointed = audit->checkpoint(now);
  if (!checkpointed) return checkpointed.error();
  return ok();
}

}  // namespace herald::cli
