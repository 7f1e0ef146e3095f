#pragma once
// PgKeyRepository: the data-key store (crypto/data_keys.h) in PostgreSQL, shared by every node,
// in its own schema `herald_keys` - by default in Herald's database, or anywhere `keys.store`
// points (a separate database or cluster, backed up on the keyring's schedule).
//
// Why a schema of its own: logical backups of the data (`pg_dump --exclude-schema=herald_keys`,
// and Herald's own `herald backup`, which copies the data tables only) then never hold a data
// key, so destroying one (crypto-shredding) also reaches those backups. Physical backups
// (pg_basebackup, WAL archives) copy the whole cluster: put `keys.store` in another cluster to
// keep keys out of them (README, "Several nodes on PostgreSQL").
//
// destroy() nulls the wrapped bytes and then runs VACUUM FULL on the (small) key table, which
// rewrites it without the dead row version; the old bytes remain in WAL segments until the
// server recycles them. They are wrapped under the KEK, which never enters the database.
// Thread-safe (one connection behind a mutex: used once per key, not per request).

#include <memory>
#include <mutex>

#include "crypto/data_keys.h"
#include "store/postgres/pg_connection.h"

namespace herald::store::postgres {

class PgKeyRepository final : public crypto::DataKeyRepository {
 public:
  // kCreate: the owner's connection makes the schema and table if missing. kExisting: a process
  // role's (store/postgres/roles.h), which may not create them, uses them as they are.
  enum class Schema { kCreate, kExisting };
  static Result<std::shared_ptr<PgKeyRepository>> open(const std::string& url, Schema schema = Schema::kCreate);

  Result<std::optional<crypto::StoredDataKey>> find_by_id(std::uint32_t id) override;
  Result<std::optional<crypto::StoredDataKey>> find_by_scope(std::string_view scope) override;
  Result<crypto::StoredDataKey> insert(const crypto::StoredDataKey& key, bool fixed_id) override;
  Result<std::vector<crypto::StoredDataKey>> list() override;
  Result<bool> replace_wrapping(std::uint32_t id, const crypto::WrappedKey& expected,
                                const crypto::WrappedKey& next) override;
  Result<void> destroy(std::uint32_t id, Timestamp now) override;

 private:
  explicit PgKeyRepository(std::unique_ptr<PgConnection> connection) : db_(std::move(connection)) {}
  Result<std::optional<crypto::StoredDataKey>> find(const char* where, const Params& params);
  std::mutex mutex_;
  std::unique_ptr<PgConnection> db_;  // guarded by mutex_
};

}  // namespace herald::store::postgres
