#include "store/transfer/tables.h"

#include <string>

namespace herald::store::transfer {

Result<std::vector<TableColumns>> data_tables(sqlite::Connection& db) {
  std::vector<TableColumns> out;
  for (std::string_view name : kDataTables) {
    TableColumns table{std::string(name), {}};
    auto stmt = db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
    if (!stmt) return stmt.error();
    stmt->bind_text(1, table.table);
    while (true) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) break;
      table.columns.push_back(stmt->column_text(0));
    }
    if (table.columns.empty()) return internal_error("table " + table.table + " missing in the SQLite store");
    out.push_back(std::move(table));
  }
  return out;
}

}  // namespace herald::store::transfer
