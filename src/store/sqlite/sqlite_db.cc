#include "store/sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <unordered_map>

#include "store/sqlite/wal_vfs.h"

namespace herald::store::sqlite {
namespace {

Error sqlite_error(sqlite3* db, int rc, const char* what) {
  // SQLite's messages name tables and constraints, never bound values.
  std::string message = std::string("sqlite ") + what + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR || rc == SQLITE_FULL) {
    return unavailable(std::move(message));
  }
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return data_loss(std::move(message));
  if ((rc & 0xFF) == SQLITE_CONSTRAINT) return invalid_argument(std::move(message));
  return internal_error(std::move(message));
}

}  // namespace

Statement::~Statement() {
  if (in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

Result<void> Statement::check_bind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return ok();
}

Statement& Statement::bind_text(int index, std::string_view value) {
  (void)check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}
Statement& Statement::bind_blob(int index, std::string_view value) {
  (void)check_bind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::bind_double(int index, double value) {
  (void)check_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_int(int index, std::int64_t value) {
  (void)check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::bind_null(int index) {
  (void)check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}
Statement& Statement::bind_optional_text(int index, const std::optional<std::string>& value) {
  return value ? bind_text(index, *value) : bind_null(index);
}
Statement& Statement::bind_optional_blob(int index, const std::optional<std::string>& value) {
  return value ? bind_blob(index, *value) : bind_null(index);
}
Statement& Statement::bind_optional_int(int index, std::optional<std::int64_t> value) {
  return value ? bind_int(index, *value) : bind_null(index);
}

Result<bool> Statement::step() {
  if (bind_error_ != 0) return sqlite_error(db_, bind_error_, "bind");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, rc, "step");
}

Result<void> Statement::run() {
  while (true) {
    auto more = step();
    if (!more) return more.error();
    if (!*more) return ok();
  }
}

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}
std::string Statement::column_blob(int index) const {
  const void* blob = sqlite3_column_blob(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  return blob == nullptr ? std::string() : std::string(static_cast<const char*>(blob), static_cast<std::size_t>(size));
}
std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }
int Statement::column_count() const { return sqlite3_column_count(stmt_); }

Statement::Kind Statement::column_kind(int index) const {
  switch (sqlite3_column_type(stmt_, index)) {
    case SQLITE_INTEGER: return Kind::kInteger;
    case SQLITE_TEXT: return Kind::kText;
    case SQLITE_BLOB: return Kind::kBlob;
    case SQLITE_FLOAT: return Kind::kFloat;
    default: return Kind::kNull;
  }
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}
std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}
std::optional<std::int64_t> Statement::column_optional_int(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int(index);
}

Result<Connection> Connection::open(const std::string& path, Durability durability) {
  sqlite3* db = nullptr;
  // Under synchronous=FULL a commit's WAL frames go out in one write at its sync (wal_vfs.h);
  // NORMAL has no sync per commit to write them at.
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 durability == Durability::kFull ? wal_gathering_vfs() : nullptr);
  Connection connection(db);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "open");
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  // WAL with synchronous=FULL: a commit returns only after the WAL has been fsynced (SC-27).
  HERALD_TRY(connection.execute_script("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"));
  HERALD_TRY(connection.execute_script(durability == Durability::kFull ? "PRAGMA synchronous=FULL;"
                                                                       : "PRAGMA synchronous=NORMAL;"));
  return connection;
}

struct Connection::Cache {
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  std::unordered_map<std::string, Entry> entries;  // node-based: Entry addresses are stable
};

Connection::Connection(sqlite3* db) : db_(db), cache_(std::make_unique<Cache>()) {}

Connection::Connection(Connection&& other) noexcept : db_(other.db_), cache_(std::move(other.cache_)) {
  other.db_ = nullptr;
}

Connection::~Connection() {
  if (cache_) {
    for (auto& [sql, entry] : cache_->entries) sqlite3_finalize(entry.stmt);
  }
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::prepare(std::string_view sql) {
  auto it = cache_->entries.find(std::string(sql));
  if (it != cache_->entries.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(db_, it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  const bool cacheable = it == cache_->entries.end();
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
  if (!cacheable) return Statement(db_, stmt);
  auto& entry = cache_->entries[std::string(sql)];
  entry.stmt = stmt;
  entry.in_use = true;
  return Statement(db_, stmt, &entry.in_use);
}

Result<void> Connection::execute_script(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "exec");
  return ok();
}

std::int64_t Connection::changes() const { return sqlite3_changes64(db_); }

Result<void> Connection::backup_to(const std::string& path) {
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(dest, rc, "open backup target");
    sqlite3_close_v2(dest);
    return error;
  }
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", db_, "main");
  if (backup == nullptr) {
    Error error = sqlite_error(dest, sqlite3_errcode(dest), "backup");
    sqlite3_close_v2(dest);
    return error;
  }
  rc = sqlite3_backup_step(backup, -1);  // all pages under one read transaction: consistent
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    Error error = sqlite_error(dest, rc, "backup step");
    sqlite3_close_v2(dest);
    return error;
  }
  // The copy is a self-contained file: no WAL beside it.
  sqlite3_exec(dest, "PRAGMA journal_mode=DELETE;", nullptr, nullptr, nullptr);
  rc = sqlite3_close_v2(dest);
  if (rc != SQLITE_OK) return sqlite_error(nullptr, rc, "close backup target");
  return ok();
}

Result<Transaction> Transaction::begin_immediate(Connection& connection) {
  HERALD_TRY(connection.execute_script("BEGIN IMMEDIATE"));
  return Transaction(connection);
}

Result<Transaction> Transaction::begin_read(Connection& connection) {
  HERALD_TRY(connection.execute_script("BEGIN"));
  return Transaction(connection);
}

Transaction::~Transaction() {
  if (open_) (void)connection_->execute_script("ROLLBACK");
}

Result<void> Transaction::commit() {
  HERALD_TRY(connection_->execute_script("COMMIT"));
  open_ = false;
  return ok();
}

std::string library_version() { return sqlite3_libversion(); }

}  // namespace herald::store::sqlite
