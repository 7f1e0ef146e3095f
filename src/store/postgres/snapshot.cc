#include "store/postgres/snapshot.h"

#include <array>
#include <cstdlib>
#include <filesystem>

#include "core/time.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::postgres {
namespace {

constexpr std::array kTables{"services", "api_keys", "templates", "template_versions", "service_contacts", "service_callbacks", "notifications", "audit_log", "rate_buckets", "daily_counts", "inbound_sms", "service_guest_list", "letter_pdfs", "documents"};
constexpr int kFetch = 1000;

// The SQLite table's columns, in order: the same names exist on PostgreSQL (same migrations).
Result<std::vector<std::string>> columns_of(sqlite::Connection& db, const std::string& table) {
  auto stmt = db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
  if (!stmt) return stmt.error();
  stmt->bind_text(1, table);
  std::vector<std::string> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(stmt->column_text(0));
  }
}

Result<void> copy_table(PgConnection& source, sqlite::Connection& target, const std::string& table) {
  auto columns = columns_of(target, table);
  if (!columns) return columns.error();
  std::string list, marks;
  for (const std::string& c : *columns) {
    list += (list.empty() ? "" : ", ") + c;
    marks += marks.empty() ? "?" : ", ?";
  }
  // A cursor, so a large table never sits in memory at once.
  HERALD_TRY(source.execute("DECLARE snapshot_rows NO SCROLL CURSOR FOR SELECT " + list + " FROM " + table));
  const std::string insert = "INSERT INTO " + table + " (" + list + ") VALUES (" + marks + ")";
  while (true) {
    auto rows = source.exec("FETCH " + std::to_string(kFetch) + " FROM snapshot_rows");
    if (!rows) return rows.error();
    for (int r = 0; r < rows->rows(); ++r) {
      auto stmt = target.prepare(insert);
      if (!stmt) return stmt.error();
      for (int c = 0; c < rows->columns(); ++c) {
        const int index = c + 1;
        if (rows->is_null(r, c)) {
          stmt->bind_null(index);
          continue;
        }
        switch (rows->type(c)) {
          case kOidInt8:
          case kOidInt4: stmt->bind_int(index, rows->integer(r, c)); break;
          case kOidBool: stmt->bind_int(index, rows->boolean(r, c) ? 1 : 0); break;
          case kOidBytea: stmt->bind_blob(index, rows->bytes(r, c)); break;
          case kOidFloat8: stmt->bind_double(index, std::strtod(rows->text(r, c).c_str(), nullptr)); break;
          case kOidText:
          case kOidUuid: stmt->bind_text(index, rows->text(r, c)); break;
          default: return internal_error("unexpected column type in " + table);
        }
      }
      HERALD_TRY(stmt->run());
    }
    if (rows->rows() < kFetch) break;
  }
  return source.execute("CLOSE snapshot_rows");
}

}  // namespace

Result<void> snapshot_to_sqlite(PgConnection& source, const std::string& path) {
  if (std::filesystem::exists(path)) return failed_precondition("snapshot file " + path + " exists");
  auto target = sqlite::Connection::open(path, sqlite::Connection::Durability::kFull);
  if (!target) return target.error();
  HERALD_TRY(sqlite::apply_migrations(*target, to_micros(SystemClock().now())));
  auto tx = sqlite::Transaction::begin_immediate(*target);
  if (!tx) return tx.error();
  // One committed state of every table, taken while the nodes keep writing.
  HERALD_TRY(source.transaction(
      [&]() -> Result<void> {
        for (const char* table : kTables) HERALD_TRY(copy_table(source, *target, table));
        return ok();
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  HERALD_TRY(tx->commit());
  // One self-contained file: the WAL folded in.
  return target->execute_script("PRAGMA wal_checkpoint(TRUNCATE);");
}

}  // namespace herald::store::postgres
