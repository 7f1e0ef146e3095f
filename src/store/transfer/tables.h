#pragma once
// The data tables (store/schema.h, kDataTables) with their columns as the SQLite migrations
// create them: what both copies in this folder move, table by table, in foreign-key order. The
// same names and columns exist on PostgreSQL (the same numbered migrations).

#include <vector>

#include "core/result.h"
#include "store/schema.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::transfer {

// Every table of kDataTables, in that order, with its columns in `db`'s schema order. An
// internal error if `db` lacks one of them.
Result<std::vector<TableColumns>> data_tables(sqlite::Connection& db);

}  // namespace herald::store::transfer
