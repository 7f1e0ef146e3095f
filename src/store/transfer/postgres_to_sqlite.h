#pragma once
// `herald backup` on PostgreSQL: one consistent snapshot of the data tables (store/schema.h,
// read by PgStore::read_snapshot in a REPEATABLE READ, read-only transaction: writers carry on)
// written as a new SQLite database file in Herald's own schema, so the backup file format,
// `backup verify` and `backup restore` are the same for both backends (restore into a SQLite
// data directory, then `herald migrate-store` back to PostgreSQL). The data keys (schema
// herald_keys) are never part of it.
//
// PgStore::snapshot_to calls this once cli/ has handed it over (PgStore::set_snapshot_writer):
// the PostgreSQL backend itself never names SQLite.

#include <string>

#include "core/result.h"
#include "store/postgres/pg_store.h"

namespace herald::store::transfer {

// Refuses a `path` that exists.
Result<void> snapshot_postgres_to_sqlite(postgres::PgStore& source, const std::string& path);

}  // namespace herald::store::transfer
