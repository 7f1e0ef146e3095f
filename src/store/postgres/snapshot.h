#pragma once
// `herald backup` on PostgreSQL: one consistent snapshot of the data tables (a REPEATABLE READ,
// read-only transaction: writers carry on) written as a new SQLite database file in Herald's
// own schema, so the backup file format, `backup verify` and `backup restore` are the same for
// both backends (restore into a SQLite data directory, then `herald migrate-store` back to
// PostgreSQL). The data keys (schema herald_keys) are never part of it.

#include <string>

#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace herald::store::postgres {

Result<void> snapshot_to_sqlite(PgConnection& source, const std::string& path);

}  // namespace herald::store::postgres
