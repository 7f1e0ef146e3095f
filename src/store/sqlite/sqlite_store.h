#pragma once
// SqliteStore: the embedded Store backend. One database file in WAL mode with
// synchronous=FULL, so every acknowledged write has been fsynced. Personal fields are sealed
// with the FieldCipher before they reach SQLite, so neither the database file nor its WAL ever
// holds them in plaintext.
//
// Thread-safe: one connection guarded by a mutex (the throughput issue replaces this with a
// group-commit writer and reader connections behind the same interface).

#include <memory>
#include <mutex>
#include <string>

#include "crypto/field_cipher.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace herald::store::sqlite {

struct SqliteConfig {
  std::string path;
  Connection::Durability durability = Connection::Durability::kFull;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database and applies pending migrations.
  static Result<std::unique_ptr<SqliteStore>> open(const SqliteConfig& config,
                                                   std::shared_ptr<const crypto::FieldCipher> cipher,
                                                   Timestamp now);

  Result<void> create_service(const ServiceRecord& service) override;
  Result<std::optional<ServiceRecord>> find_service(ServiceId id) override;
  Result<std::optional<ServiceRecord>> find_service_by_name(const std::string& name) override;
  Result<void> create_api_key(const ApiKeyRecord& key) override;
  Result<std::vector<ApiKeyRecord>> api_keys_for_service(ServiceId service) override;
  Result<void> create_template(const TemplateRecord& record) override;
  Result<std::optional<TemplateRecord>> find_template(ServiceId service, TemplateId id,
                                                      std::optional<int> version) override;
  Result<std::vector<TemplateRecord>> templates_for_service(ServiceId service) override;
  Result<void> insert_notification(const NotificationRecord& record) override;
  Result<std::optional<NotificationRecord>> find_notification(ServiceId service,
                                                              NotificationId id) override;
  Result<std::vector<NotificationRecord>> claim_due(int limit, Timestamp now,
                                                    Duration lease) override;
  Result<void> record_outcome(const DeliveryOutcome& outcome) override;

 private:
  SqliteStore(Connection connection, std::shared_ptr<const crypto::FieldCipher> cipher)
      : connection_(std::move(connection)), cipher_(std::move(cipher)) {}

  Result<std::optional<ServiceRecord>> find_service_where(const char* sql, std::string_view key);
  Result<NotificationRecord> read_notification(const Statement& row);

  std::mutex mutex_;
  Connection connection_;  // guarded by mutex_
  std::shared_ptr<const crypto::FieldCipher> cipher_;
};

}  // namespace herald::store::sqlite
