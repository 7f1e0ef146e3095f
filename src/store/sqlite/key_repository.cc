#include "store/sqlite/key_repository.h"

namespace herald::store::sqlite {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS data_keys (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  kek_id TEXT NOT NULL,
  wrapped BLOB,
  destroyed_at INTEGER
) STRICT;
)sql";

crypto::StoredDataKey read_key(const Statement& row) {
  crypto::StoredDataKey key;
  key.id = static_cast<std::uint32_t>(row.column_int(0));
  key.scope = row.column_text(1);
  key.created = from_micros(row.column_int(2));
  key.wrapped.kek_id = row.column_text(3);
  key.wrapped.bytes = row.column_blob(4);
  if (auto destroyed = row.column_optional_int(5)) key.destroyed = from_micros(*destroyed);
  return key;
}

}  // namespace

Result<std::shared_ptr<SqliteKeyRepository>> SqliteKeyRepository::open(const std::string& path) {
  auto connection = Connection::open(path, Connection::Durability::kFull);
  if (!connection) return connection.error();
  HERALD_TRY(connection->execute_script("PRAGMA secure_delete=ON;"));
  HERALD_TRY(connection->execute_script(kSchema));
  return std::shared_ptr<SqliteKeyRepository>(new SqliteKeyRepository(std::move(*connection)));
}

Result<std::optional<crypto::StoredDataKey>> SqliteKeyRepository::find(const char* sql,
                                                                       const std::function<void(Statement&)>& bind) {
  auto stmt = db_.prepare(sql);
  if (!stmt) return stmt.error();
  bind(*stmt);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<crypto::StoredDataKey>();
  return std::optional<crypto::StoredDataKey>(read_key(*stmt));
}

Result<std::optional<crypto::StoredDataKey>> SqliteKeyRepository::find_by_id(std::uint32_t id) {
  std::lock_guard lock(mutex_);
  return find("SELECT id, scope, created_at, kek_id, wrapped, destroyed_at FROM data_keys WHERE id = ?",
              [id](Statement& s) { s.bind_int(1, id); });
}

Result<std::optional<crypto::StoredDataKey>> SqliteKeyRepository::find_by_scope(std::string_view scope) {
  std::lock_guard lock(mutex_);
  return find("SELECT id, scope, created_at, kek_id, wrapped, destroyed_at FROM data_keys WHERE scope = ?",
              [scope](Statement& s) { s.bind_text(1, scope); });
}

Result<crypto::StoredDataKey> SqliteKeyRepository::insert(const crypto::StoredDataKey& key, bool fixed_id) {
  std::lock_guard lock(mutex_);
  {
    // ON CONFLICT DO NOTHING: when another process made this scope's key first, theirs wins.
    auto stmt = db_.prepare(fixed_id ? "INSERT INTO data_keys VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING"
                                     : "INSERT INTO data_keys VALUES (NULL, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING");
    if (!stmt) return stmt.error();
    const int first = fixed_id ? 2 : 1;
    if (fixed_id) stmt->bind_int(1, key.id);
    stmt->bind_text(first, key.scope);
    stmt->bind_int(first + 1, to_micros(key.created));
    stmt->bind_text(first + 2, key.wrapped.kek_id);
    stmt->bind_blob(first + 3, key.wrapped.bytes);
    HERALD_TRY(stmt->run());
  }
  auto stored = find("SELECT id, scope, created_at, kek_id, wrapped, destroyed_at FROM data_keys WHERE scope = ?",
                     [&key](Statement& s) { s.bind_text(1, key.scope); });
  if (!stored) return stored.error();
  if (!*stored) return internal_error("data key for a scope vanished after insert");
  return std::move(**stored);
}

Result<std::vector<crypto::StoredDataKey>> SqliteKeyRepository::list() {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare("SELECT id, scope, created_at, kek_id, wrapped, destroyed_at FROM data_keys ORDER BY id");
  if (!stmt) return stmt.error();
  std::vector<crypto::StoredDataKey> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(read_key(*stmt));
  }
}

Result<bool> SqliteKeyRepository::replace_wrapping(std::uint32_t id, const crypto::WrappedKey& expected,
                                                   const crypto::WrappedKey& next) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE id = ? AND kek_id = ? AND wrapped = ? AND destroyed_at IS NULL");
  if (!stmt) return stmt.error();
  HERALD_TRY(stmt->bind_text(1, next.kek_id).bind_blob(2, next.bytes).bind_int(3, id)
                 .bind_text(4, expected.kek_id).bind_blob(5, expected.bytes).run());
  return db_.changes() == 1;
}

Result<void> SqliteKeyRepository::destroy(std::uint32_t id, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare("UPDATE data_keys SET wrapped = NULL, destroyed_at = ? WHERE id = ? AND destroyed_at IS NULL");
  if (!stmt) return stmt.error();
  HERALD_TRY(stmt->bind_int(1, to_micros(now)).bind_int(2, id).run());
  // secure_delete zeroed the old bytes in the page; the checkpoint moves that page into the
  // file and truncates the WAL, whose older frames still held the wrapped key.
  return db_.execute_script("PRAGMA wal_checkpoint(TRUNCATE);");
}

}  // namespace herald::store::sqlite
