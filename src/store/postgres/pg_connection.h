#pragma once
// A thin, owning wrapper over one libpq connection (libpq directly, not libpqxx: Herald
// already has its own Result/Error types and needs only parameterised statements, binary
// bytea parameters and a handful of result accessors; libpqxx would add exceptions, which
// Herald keeps out of its code, and a second C++ dependency for ~200 lines of glue).
//
// Parameters are sent out of line (never spliced into SQL): text for ids, numbers and
// strings, binary for bytea. Results come back in text form; bytea is decoded from its hex
// form. A connection that broke (server restart, failover) is reset on its next use.
// Not thread-safe: one thread at a time (PgPool lends them out).

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace herald::store::postgres {

class Params {
 public:
  Params& text(std::string_view value);
  Params& integer(std::int64_t value);
  Params& bytes(std::string_view value);  // bytea, sent in binary
  Params& null();
  Params& optional_text(const std::optional<std::string>& value) { return value ? text(*value) : null(); }
  Params& optional_integer(std::optional<std::int64_t> value) { return value ? integer(*value) : null(); }
  Params& optional_bytes(const std::optional<std::string>& value) { return value ? bytes(*value) : null(); }
  std::size_t size() const { return values_.size(); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<bool> is_null_;
  std::vector<int> formats_;
};

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  std::string bytes(int row, int column) const;  // bytea
  std::optional<std::string> optional_text(int row, int column) const;
  std::optional<std::int64_t> optional_integer(int row, int column) const;
  std::optional<std::string> optional_bytes(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  // For generic copies (migrate-store): the column's type and name.
  int columns() const { return PQnfields(result_.get()); }
  Oid type(int column) const { return PQftype(result_.get(), column); }

 private:
  std::shared_ptr<PGresult> result_;
};

// PostgreSQL type OIDs Herald's schema uses (pg_type.dat).
inline constexpr Oid kOidBool = 16, kOidBytea = 17, kOidInt8 = 20, kOidInt4 = 23, kOidText = 25, kOidFloat8 = 701,
                     kOidUuid = 2950;

class PgConnection {
 public:
  // `url`: a libpq connection URI or key=value string (sslmode, sslrootcert, ... as libpq
  // documents them). The password never appears in errors.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Whether a statement may be sent again after the connection broke under it (server
  // restart, failover): reads may; a write may only when repeating it is harmless (the caller
  // knows: e.g. an insert of a random id with ON CONFLICT DO NOTHING).
  enum class Retry { kIfRead, kYes };
  // One statement with parameters ($1, $2, ...). A broken connection is reset before use; a
  // statement that finds it broken is sent once more on a fresh one when `retry` allows.
  Result<PgResult> exec(std::string_view sql, const Params& params = {}, Retry retry = Retry::kIfRead);
  // Whether the last failure was the connection breaking (then reset on next use).
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // How many times this connection was re-established.
  std::uint64_t resets() const { return resets_; }
  // exec() when the rows do not matter.
  Result<void> run(std::string_view sql, const Params& params = {});
  // One or more statements, no parameters (migrations, BEGIN/COMMIT).
  Result<void> execute(std::string_view sql);
  // Runs `body` inside BEGIN ... COMMIT (ROLLBACK when it fails). Only the BEGIN may be re-sent
  // after a broken connection; a break later fails the transaction.
  Result<void> transaction(const std::function<Result<void>()>& body, const char* begin = "BEGIN");
  // Whether the server uses TLS on this connection.
  bool uses_tls() const;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Result<void> ensure_connected();
  Error error_from(PGresult* result, std::string_view what) const;
  Result<PgResult> exec_once(const std::string& sql, const Params& params);
  // The name `statement` is prepared under on this session (preparing it now), or nullptr to
  // send it unprepared.
  const std::string* prepared_name(const std::string& statement, int params);
  PGconn* conn_;
  std::uint64_t resets_ = 0;
  // Inside transaction(): nothing is re-sent on a fresh connection, which would run it outside
  // the transaction (and without the transaction's locks).
  bool in_transaction_ = false;
  // Statements prepared on this session, by SQL text -> name: parsing and planning a
  // statement costs the server about as much as running a small batch insert, so every
  // statement Herald sends repeatedly is prepared once per connection (bounded; cleared on
  // reconnect, since prepared statements live in the session).
  std::unordered_map<std::string, std::string> prepared_;
};

// SQLSTATE classes Herald reacts to.
bool is_unique_violation(const Error& error);
bool is_serialization_failure(const Error& error);  // 40001 / 40P01: retry the transaction
// 42501: the connection's database role lacks a privilege (store/postgres/roles.h's grants).
bool is_insufficient_privilege(const Error& error);

// A fixed set of connections lent to one caller at a time.
class PgPool {
 public:
  static Result<std::unique_ptr<PgPool>> open(const std::string& url, std::size_t size);
  template <typename T, typename F>
  Result<T> with(F&& use) {
    std::unique_ptr<PgConnection> connection = take();
    Result<T> result = use(*connection);
    give_back(std::move(connection));
    return result;
  }

 private:
  std::unique_ptr<PgConnection> take();
  void give_back(std::unique_ptr<PgConnection> connection);
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mutex_
};

// The libpq this process runs with (`herald --version`), e.g. "15.14".
std::string libpq_version();

}  // namespace herald::store::postgres
