#include "store/transfer/postgres_to_sqlite.h"

#include <cstdlib>
#include <filesystem>

#include "core/time.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/transfer/tables.h"

namespace herald::store::transfer {
namespace {

using postgres::kOidBool;
using postgres::kOidBytea;
using postgres::kOidFloat8;
using postgres::kOidInt4;
using postgres::kOidInt8;
using postgres::kOidText;
using postgres::kOidUuid;
using postgres::PgResult;

// One batch of a table's rows, read from PostgreSQL, into the same table of the SQLite file.
Result<void> insert_rows(sqlite::Connection& target, const TableColumns& table, const PgResult& rows) {
  std::string marks;
  for (std::size_t c = 0; c < table.columns.size(); ++c) marks += marks.empty() ? "?" : ", ?";
  const std::string insert = "INSERT INTO " + table.table + " (" + table.column_list() + ") VALUES (" + marks + ")";
  for (int r = 0; r < rows.rows(); ++r) {
    auto stmt = target.prepare(insert);
    if (!stmt) return stmt.error();
    for (int c = 0; c < rows.columns(); ++c) {
      const int index = c + 1;
      if (rows.is_null(r, c)) {
        stmt->bind_null(index);
        continue;
      }
      switch (rows.type(c)) {
        case kOidInt8:
        case kOidInt4: stmt->bind_int(index, rows.integer(r, c)); break;
        case kOidBool: stmt->bind_int(index, rows.boolean(r, c) ? 1 : 0); break;
        case kOidBytea: stmt->bind_blob(index, rows.bytes(r, c)); break;
        case kOidFloat8: stmt->bind_double(index, std::strtod(rows.text(r, c).c_str(), nullptr)); break;
        case kOidText:
        case kOidUuid: stmt->bind_text(index, rows.text(r, c)); break;
        default: return internal_error("unexpected column type in " + table.table);
      }
    }
    HERALD_TRY(stmt->run());
  }
  return ok();
}

}  // namespace

Result<void> snapshot_postgres_to_sqlite(postgres::PgStore& source, const std::string& path) {
  if (std::filesystem::exists(path)) return failed_precondition("snapshot file " + path + " exists");
  auto target = sqlite::Connection::open(path, sqlite::Connection::Durability::kFull);
  if (!target) return target.error();
  HERALD_TRY(sqlite::apply_migrations(*target, to_micros(SystemClock().now())));
  auto tables = data_tables(*target);
  if (!tables) return tables.error();
  auto tx = sqlite::Transaction::begin_immediate(*target);
  if (!tx) return tx.error();
  // One committed state of every table, taken while the nodes keep writing.
  HERALD_TRY(source.read_snapshot(
      *tables, [&](const TableColumns& table, const PgResult& rows) { return insert_rows(*target, table, rows); }));
  HERALD_TRY(tx->commit());
  // One self-contained file: the WAL folded in.
  return target->execute_script("PRAGMA wal_checkpoint(TRUNCATE);");
}

}  // namespace herald::store::transfer
