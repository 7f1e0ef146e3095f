#include "store/postgres/pg_connection.h"

#include <charconv>
#include <cstring>

#include "core/hex.h"
#include "core/log.h"

namespace herald::store::postgres {
namespace {

// libpq's messages end with a newline; errors are one line in logs.
std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Params& Params::text(std::string_view value) {
  values_.emplace_back(value);
  is_null_.push_back(false);
  formats_.push_back(0);
  return *this;
}

Params& Params::integer(std::int64_t value) { return text(std::to_string(value)); }

Params& Params::bytes(std::string_view value) {
  values_.emplace_back(value);
  is_null_.push_back(false);
  formats_.push_back(1);
  return *this;
}

Params& Params::null() {
  values_.emplace_back();
  is_null_.push_back(true);
  formats_.push_back(0);
  return *this;
}

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t PgResult::integer(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  std::int64_t out = 0;
  std::from_chars(value, value + PQgetlength(result_.get(), row, column), out);
  return out;
}

std::string PgResult::bytes(int row, int column) const {
  // Text-format bytea is "\x" followed by hex digits (bytea_output = hex, the default).
  std::string_view value(PQgetvalue(result_.get(), row, column),
                         static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
  if (value.size() < 2 || value[0] != '\\' || value[1] != 'x') return {};
  auto decoded = hex_decode(value.substr(2));
  return decoded ? std::move(*decoded) : std::string();
}

std::optional<std::string> PgResult::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::optional<std::int64_t> PgResult::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

std::optional<std::string> PgResult::optional_bytes(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return bytes(row, column);
}

std::int64_t PgResult::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), out);
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) return unavailable("postgresql: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    Error error = unavailable("postgresql: cannot connect: " + trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  // Times are integers and text is UTF-8 on every connection, whatever the server's defaults.
  HERALD_TRY(connection->execute("SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; SET client_min_messages = 'warning'"));
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<void> PgConnection::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return ok();
  // A fresh connection would run the rest of a transaction outside it (and COMMIT would
  // "succeed" with nothing to commit): the transaction fails instead.
  if (in_transaction_) return unavailable("postgresql: connection lost inside a transaction");
  PQreset(conn_);
  ++resets_;
  prepared_.clear();  // they lived in the old session
  if (PQstatus(conn_) != CONNECTION_OK) {
    return unavailable("postgresql: connection lost: " + trimmed(PQerrorMessage(conn_)));
  }
  return execute("SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; SET client_min_messages = 'warning'");
}

Error PgConnection::error_from(PGresult* result, std::string_view what) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = "postgresql: " + std::string(what) + ": " +
                        trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  if (state != nullptr) message += " [" + std::string(state) + "]";
  // Connection failures (class 08) and a server shutting down (57P*) are transient.
  const std::string_view sqlstate = state ? state : "";
  const bool transient = PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
                         sqlstate.starts_with("57P") || sqlstate == "40001" || sqlstate == "40P01";
  return Error{transient ? ErrorCode::kUnavailable : ErrorCode::kInternal, std::move(message)};
}

Result<PgResult> PgConnection::exec(std::string_view sql, const Params& params, Retry retry) {
  const std::string statement(sql);
  auto result = exec_once(statement, params);
  const bool read = sql.starts_with("SELECT") || sql.starts_with("BEGIN");
  if (!result && broken() && !in_transaction_ && (retry == Retry::kYes || read)) {
    log::warn("pg.reconnecting", {{"error", result.error().message}});
    result = exec_once(statement, params);
  }
  return result;
}

Result<PgResult> PgConnection::exec_once(const std::string& statement, const Params& params) {
  HERALD_TRY(ensure_connected());
  const std::size_t n = params.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (std::size_t i = 0; i < n; ++i) {
    values[i] = params.is_null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  PGresult* result = nullptr;
  const std::string* name = prepared_name(statement, static_cast<int>(n));
  if (name == nullptr) {
    result = PQexecParams(conn_, statement.c_str(), static_cast<int>(n), nullptr, values.data(), lengths.data(),
                          params.formats_.data(), 0);
  } else {
    result = PQexecPrepared(conn_, name->c_str(), static_cast<int>(n), values.data(), lengths.data(),
                            params.formats_.data(), 0);
  }
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = error_from(result, "statement failed");
    PQclear(result);
    return error;
  }
  return PgResult(result);
}

const std::string* PgConnection::prepared_name(const std::string& statement, int params) {
  // Bounds on what one session keeps on the server: batch statements come in one size per
  // batch length, so only the common (short) ones are kept.
  constexpr std::size_t kMaxPrepared = 128;
  constexpr std::size_t kMaxPreparedText = 8192;  // ~70 rows of a notification insert
  if (auto it = prepared_.find(statement); it != prepared_.end()) return &it->second;
  // Only plannable statements can be prepared (not BEGIN, FETCH, ...).
  const bool plannable = statement.starts_with("SELECT") || statement.starts_with("INSERT") ||
                         statement.starts_with("UPDATE") || statement.starts_with("DELETE") ||
                         statement.starts_with("WITH");
  if (!plannable || prepared_.size() >= kMaxPrepared || statement.size() > kMaxPreparedText) return nullptr;
  const std::string name = "h" + std::to_string(prepared_.size());
  PGresult* result = PQprepare(conn_, name.c_str(), statement.c_str(), params, nullptr);
  const bool ok = result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  if (!ok) return nullptr;  // the unprepared form reports whatever is wrong
  return &prepared_.emplace(statement, name).first->second;
}

Result<void> PgConnection::run(std::string_view sql, const Params& params) {
  auto result = exec(sql, params);
  if (!result) return result.error();
  return ok();
}

Result<void> PgConnection::execute(std::string_view sql) {
  if (PQstatus(conn_) != CONNECTION_OK) HERALD_TRY(ensure_connected());
  const std::string statement(sql);
  PGresult* result = PQexec(conn_, statement.c_str());
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = error_from(result, "statement failed");
    PQclear(result);
    return error;
  }
  PQclear(result);
  return ok();
}

Result<void> PgConnection::transaction(const std::function<Result<void>()>& body, const char* begin) {
  HERALD_TRY(run(begin));  // a BEGIN that finds the connection broken is sent again
  in_transaction_ = true;
  Result<void> result = body();
  if (result) result = execute("COMMIT");
  if (!result) (void)execute("ROLLBACK");
  in_transaction_ = false;
  return result;
}

bool PgConnection::uses_tls() const { return PQsslInUse(conn_) != 0; }

bool is_unique_violation(const Error& error) { return error.message.ends_with("[23505]"); }
bool is_insufficient_privilege(const Error& error) { return error.message.ends_with("[42501]"); }

bool is_serialization_failure(const Error& error) {
  return error.message.ends_with("[40001]") || error.message.ends_with("[40P01]");
}

Result<std::unique_ptr<PgPool>> PgPool::open(const std::string& url, std::size_t size) {
  auto pool = std::make_unique<PgPool>();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, size); ++i) {
    auto connection = PgConnection::open(url);
    if (!connection) return connection.error();
    pool->idle_.push_back(std::move(*connection));
  }
  return pool;
}

std::unique_ptr<PgConnection> PgPool::take() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [this] { return !idle_.empty(); });
  auto connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void PgPool::give_back(std::unique_ptr<PgConnection> connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

std::string libpq_version() {
  const int version = PQlibVersion();  // e.g. 150014 for 15.14
  return std::to_string(version / 10000) + "." + std::to_string(version % 10000);
}

}  // namespace herald::store::postgres
