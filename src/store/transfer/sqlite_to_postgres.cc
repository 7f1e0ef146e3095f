#include "store/transfer/sqlite_to_postgres.h"

#include <charconv>

#include "core/log.h"
#include "store/postgres/key_repository.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/transfer/tables.h"

namespace herald::store::transfer {
namespace {

using postgres::Params;
using postgres::PgConnection;
using sqlite::Connection;
using sqlite::Statement;

constexpr std::size_t kRowsPerStatement = 500;

std::string precise(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// Copies every row of `select` (run on SQLite) into `target_table` on PostgreSQL, several
// hundred rows per INSERT. SQLite's integers go as text (PostgreSQL parses them into bigint,
// integer or boolean as the column says), blobs as bytea.
Result<std::int64_t> copy_rows(Connection& source, const std::string& columns, const std::string& source_table,
                               PgConnection& target, const std::string& target_table) {
  auto stmt = source.prepare("SELECT " + columns + " FROM " + source_table);
  if (!stmt) return stmt.error();
  std::int64_t copied = 0;
  int width = 0;
  Params params;
  std::size_t rows = 0;
  auto flush = [&]() -> Result<void> {
    if (rows == 0) return ok();
    std::string sql = "INSERT INTO " + target_table + " (" + columns + ") VALUES ";
    int n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(" : ",(";
      for (int c = 0; c < width; ++c) sql += (c ? ",$" : "$") + std::to_string(++n);
      sql += ')';
    }
    HERALD_TRY(target.run(sql, params));
    copied += static_cast<std::int64_t>(rows);
    params = Params();
    rows = 0;
    return ok();
  };
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    if (width == 0) width = stmt->column_count();
    for (int c = 0; c < width; ++c) {
      switch (stmt->column_kind(c)) {
        case Statement::Kind::kNull: params.null(); break;
        case Statement::Kind::kInteger: params.integer(stmt->column_int(c)); break;
        case Statement::Kind::kBlob: params.bytes(stmt->column_blob(c)); break;
        case Statement::Kind::kText: params.text(stmt->column_text(c)); break;
        // Token buckets (double precision): as text, in full precision.
        case Statement::Kind::kFloat: params.text(precise(stmt->column_double(c))); break;
      }
    }
    if (++rows == kRowsPerStatement) HERALD_TRY(flush());
  }
  HERALD_TRY(flush());
  return copied;
}

Result<std::int64_t> count_sqlite(Connection& db, const std::string& table) {
  auto stmt = db.prepare("SELECT COUNT(*) FROM " + table);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return stmt->column_int(0);
}

Result<std::int64_t> count_pg(PgConnection& db, const std::string& table) {
  auto rows = db.exec("SELECT COUNT(*) FROM " + table);
  if (!rows) return rows.error();
  return rows->integer(0, 0);
}

}  // namespace

bool TransferReport::counts_match() const {
  for (const TableCount& t : tables) {
    if (t.source != t.target) return false;
  }
  return !tables.empty();
}

Result<TransferReport> copy_sqlite_to_postgres(const std::string& sqlite_path, const std::string& sqlite_keys_path,
                                               const std::string& pg_url, const std::string& pg_keys_url) {
  auto source = Connection::open(sqlite_path, Connection::Durability::kFull);
  if (!source) return source.error();
  auto keys_source = Connection::open(sqlite_keys_path, Connection::Durability::kFull);
  if (!keys_source) return keys_source.error();
  // The source must be at the schema version this binary writes (open it once with this
  // binary first: `herald keys status` migrates it).
  auto version = source->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!version) return version.error();
  if (auto row = version->step(); !row || !*row || version->column_int(0) != sqlite::latest_schema_version()) {
    return failed_precondition("the SQLite store is not at schema version " +
                               std::to_string(sqlite::latest_schema_version()) + ": run this binary on it first");
  }

  auto target = PgConnection::open(pg_url);
  if (!target) return target.error();
  HERALD_TRY(postgres::apply_migrations(**target, to_micros(SystemClock().now())));
  auto key_store = postgres::PgKeyRepository::open(pg_keys_url);  // creates schema herald_keys
  if (!key_store) return key_store.error();
  key_store->reset();
  auto keys_target = PgConnection::open(pg_keys_url);
  if (!keys_target) return keys_target.error();
  for (const char* table : {"services", "notifications", "audit_log"}) {
    auto n = count_pg(**target, table);
    if (!n) return n.error();
    if (*n != 0) return failed_precondition("the PostgreSQL database already holds " + std::string(table));
  }
  if (auto n = count_pg(**keys_target, "herald_keys.data_keys"); !n || *n != 0) {
    return failed_precondition("the PostgreSQL key store already holds data keys");
  }

  TransferReport report;
  // The data tables (store/schema.h) in foreign-key order, with the source's columns.
  auto tables = data_tables(*source);
  if (!tables) return tables.error();
  // One read snapshot of the source for every table.
  HERALD_TRY(source->execute_script("BEGIN"));
  auto copied = (*target)->transaction([&]() -> Result<void> {
    for (const TableColumns& table : *tables) {
      auto n = copy_rows(*source, table.column_list(), table.table, **target, table.table);
      if (!n) return n.error();
      report.tables.push_back({table.table, 0, *n});
    }
    // NHS channel events and callbacks keep their ids (their order; operators replay dead
    // callbacks by id); new ones are numbered after them.
    for (const char* table : {"nhs_channel_events", "nhs_callbacks"}) {
      HERALD_TRY((*target)->run(std::string("SELECT setval(pg_get_serial_sequence('") + table +
                                "', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM " + table + "), 1))"));
    }
    return ok();
  });
  HERALD_TRY(copied);
  for (TableCount& t : report.tables) {
    auto n = count_sqlite(*source, t.table);
    if (!n) return n.error();
    t.source = *n;
  }
  (void)source->execute_script("COMMIT");

  // The data keys, with their ids; then the id sequence moves past them.
  TableCount keys{"herald_keys.data_keys", 0, 0};
  HERALD_TRY((*keys_target)->transaction([&]() -> Result<void> {
    auto n = copy_rows(*keys_source, "id, scope, created_at, kek_id, wrapped, destroyed_at", "data_keys",
                       **keys_target, "herald_keys.data_keys");
    if (!n) return n.error();
    return (*keys_target)->run(
        "SELECT setval(pg_get_serial_sequence('herald_keys.data_keys', 'id'), "
        "GREATEST((SELECT COALESCE(MAX(id), 0) FROM herald_keys.data_keys), 1000000))");
  }));
  auto source_keys = count_sqlite(*keys_source, "data_keys");
  if (!source_keys) return source_keys.error();
  keys.source = *source_keys;
  report.tables.push_back(keys);

  // Counts read back from the target after commit.
  for (TableCount& t : report.tables) {
    auto n = count_pg(t.table == keys.table ? **keys_target : **target, t.table);
    if (!n) return n.error();
    t.target = *n;
  }
  return report;
}

}  // namespace herald::store::transfer
