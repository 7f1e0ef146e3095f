#pragma once
// Versioned schema migrations for the SQLite backend, applied in order at start-up inside one
// transaction each; applied versions are recorded in schema_migrations. A database whose
// schema is newer than this binary knows is refused rather than guessed at.

#include "core/result.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::sqlite {

Result<int> apply_migrations(Connection& connection, std::int64_t now_micros);
int latest_schema_version();

}  // namespace herald::store::sqlite
