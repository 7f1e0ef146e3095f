#pragma once
// Thin RAII wrappers over the SQLite C API: a connection, prepared statements and a transaction
// that rolls back unless committed. Every statement is prepared with bound parameters; there is
// no way to run a string-built query (SC-11). Not thread-safe: one owner at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace herald::store::sqlite {

class Statement {
 public:
  // `in_use` is set for a statement borrowed from its connection's cache: it is reset and
  // handed back on destruction rather than finalized.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr) : db_(db), stmt_(stmt), in_use_(in_use) {}
  ~Statement();
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_) {
    other.stmt_ = nullptr;
    other.in_use_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_int(int index, std::int64_t value);
  Statement& bind_double(int index, double value);
  Statement& bind_null(int index);
  Statement& bind_optional_text(int index, const std::optional<std::string>& value);
  Statement& bind_optional_blob(int index, const std::optional<std::string>& value);
  Statement& bind_optional_int(int index, std::optional<std::int64_t> value);

  // true: a row is available; false: done.
  Result<bool> step();
  // Runs to completion (for statements without result rows).
  Result<void> run();

  std::string column_text(int index) const;
  std::string column_blob(int index) const;
  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  bool column_is_null(int index) const;
  // For generic copies (migrate-store): how many columns, and what the value in one is.
  enum class Kind { kNull, kInteger, kText, kBlob, kFloat };
  int column_count() const;
  Kind column_kind(int index) const;
  std::optional<std::string> column_optional_text(int index) const;
  std::optional<std::int64_t> column_optional_int(int index) const;

 private:
  Result<void> check_bind(int rc);
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
  int bind_error_ = 0;
};

class Connection {
 public:
  enum class Durability { kFull, kNormal };
  static Result<Connection> open(const std::string& path, Durability durability);
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection& operator=(Connection&&) = delete;

  // Prepared statements are cached by their SQL text and reused (parsing and planning are a
  // large share of a small query's cost); a statement still in use is prepared afresh.
  Result<Statement> prepare(std::string_view sql);
  // Runs a literal, parameterless script (migrations, pragmas). `sql` must be a compile-time
  // constant of the program, never built from input.
  Result<void> execute_script(const char* sql);
  std::int64_t changes() const;
  // Copies the whole database, as of one committed state, into a new file at `path` (SQLite's
  // online backup API, in one step: a WAL reader, so writers carry on meanwhile).
  Result<void> backup_to(const std::string& path);

 private:
  struct Cache;
  explicit Connection(sqlite3* db);
  sqlite3* db_;
  std::unique_ptr<Cache> cache_;
};

// Rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin_immediate(Connection& connection);
  // A read transaction (BEGIN, deferred): every statement in it reads the one committed state the
  // first of them saw (WAL). For reader connections; commit() or destruction ends it.
  static Result<Transaction> begin_read(Connection& connection);
  ~Transaction();
  Transaction(Transaction&& other) noexcept : connection_(other.connection_), open_(other.open_) { other.open_ = false; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  Result<void> commit();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;
  bool open_ = true;
};

// The SQLite library this process runs with (`herald --version`).
std::string library_version();

}  // namespace herald::store::sqlite
