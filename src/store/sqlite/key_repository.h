#pragma once
// SqliteKeyRepository: the data-key store (crypto/data_keys.h) as its own SQLite file, keys.db,
// beside the data. It is a separate file on purpose: `herald backup` copies herald.db only, so
// no backup ever holds a data key, and destroying a key here (crypto-shredding) also makes the
// data it protected unreadable in old backups. Back it up with the keyring, on its own
// schedule (README, Operations).
//
// secure_delete is on and a destroy ends with a truncating WAL checkpoint, so a destroyed
// key's wrapped bytes are overwritten in the file and gone from its WAL. Thread-safe (one
// connection behind a mutex: the store is used once per key, not per request).

#include <memory>
#include <mutex>

#include "crypto/data_keys.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::sqlite {

class SqliteKeyRepository final : public crypto::DataKeyRepository {
 public:
  static Result<std::shared_ptr<SqliteKeyRepository>> open(const std::string& path);

  Result<std::optional<crypto::StoredDataKey>> find_by_id(std::uint32_t id) override;
  Result<std::optional<crypto::StoredDataKey>> find_by_scope(std::string_view scope) override;
  Result<crypto::StoredDataKey> insert(const crypto::StoredDataKey& key, bool fixed_id) override;
  Result<std::vector<crypto::StoredDataKey>> list() override;
  Result<bool> replace_wrapping(std::uint32_t id, const crypto::WrappedKey& expected,
                                const crypto::WrappedKey& next) override;
  Result<void> destroy(std::uint32_t id, Timestamp now) override;

 private:
  explicit SqliteKeyRepository(Connection connection) : db_(std::move(connection)) {}
  Result<std::optional<crypto::StoredDataKey>> find(const char* sql, const std::function<void(Statement&)>& bind);
  std::mutex mutex_;
  Connection db_;  // guarded by mutex_
};

}  // namespace herald::store::sqlite
