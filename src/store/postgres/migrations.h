#pragma once
// The PostgreSQL form of Herald's schema: the same numbered migrations as
// store/sqlite/migrations.cc (same versions, tables, columns and meaning), in PostgreSQL's
// types (uuid ids, bigint microsecond times, bytea envelopes). Applied under an advisory lock,
// so several nodes starting at once migrate once.

#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace herald::store::postgres {

int latest_schema_version();
// Applies pending migrations; returns how many were applied.
Result<int> apply_migrations(PgConnection& connection, std::int64_t now_micros);
// For a node that connects as a role that may not change the schema (store/postgres/roles.h):
// kFailedPrecondition unless the database is at latest_schema_version(), naming both versions.
Result<void> check_schema_current(PgConnection& connection);

}  // namespace herald::store::postgres
