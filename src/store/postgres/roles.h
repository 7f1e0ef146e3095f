#pragma once
// Least-privilege database roles for Herald on PostgreSQL: what each process role may do to each
// table, as data, and the GRANT/REVOKE statements that give it (`herald store grants`).
//
// Four login roles, created by the operator (CREATE ROLE ... LOGIN; Herald never creates roles
// or sets passwords), each used by one kind of process through its own URL (store.api_url, ...):
//   api       `serve --role api`: accepts notifications; inserts, never deletes them
//   worker    `serve --role worker`: delivers; updates statuses, claims queue rows
//   admin     `serve --role admin`: the admin UI; manages services, keys, users, erasure
//   retention `herald retention run`: redacts and deletes expired data, destroys data keys
// The owner (store.url: the role that owns the tables) migrates the schema and runs the CLI.
//
// The table (kTableGrants in roles.cc) says why each grant is there; docs/postgres-roles.md
// prints it. A table missing from it (a new migration) fails unclassified_relations() and its
// test, so no table ships without a decision.
// Plain data and pure functions, except apply_grants() and unclassified_relations(), which use
// the connection they are given (one thread at a time, as PgConnection).

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace herald::store::postgres {

enum class DatabaseRole { kApi, kWorker, kAdmin, kRetention };
inline constexpr std::array<DatabaseRole, 4> kDatabaseRoles{DatabaseRole::kApi, DatabaseRole::kWorker,
                                                            DatabaseRole::kAdmin, DatabaseRole::kRetention};
std::string_view database_role_name(DatabaseRole role);  // "api", "worker", "admin", "retention"

// One table's grants. Each privilege string holds the letters of SELECT, INSERT, UPDATE, DELETE
// ("S", "SIU", ...); a lower-case "s" is SELECT on `limited_columns` only. `sequence` names a
// serial column's sequence: the roles that INSERT get USAGE on it.
struct TableGrants {
  std::string_view table;                      // schema-qualified outside public ("herald_keys.data_keys")
  std::array<std::string_view, 4> privileges;  // by DatabaseRole
  std::string_view limited_columns = {};
  std::string_view sequence = {};
  std::string_view why = {};
};

const std::vector<TableGrants>& table_grants();

// The PostgreSQL role name each process role logs in as.
struct RoleNames {
  std::string api = "herald_api";
  std::string worker = "herald_worker";
  std::string admin = "herald_admin";
  std::string retention = "herald_retention";
  const std::string& of(DatabaseRole role) const;
};

struct GrantOptions {
  RoleNames roles;
  bool data_schema = true;  // public: Herald's tables
  bool keys_schema = true;  // herald_keys: the data keys (false when keys.store is another database)
  // PostgreSQL 17+: MAINTAIN lets retention's VACUUM FULL of the key table run as its own role.
  bool maintain_privilege = false;
};

// The statements, one per line, with comments: first every privilege of PUBLIC and of the four
// roles is revoked (so applying again after a change removes what was dropped), then USAGE on the
// schemas and the table grants. Idempotent.
std::string grants_sql(const GrantOptions& options);

// Runs grants_sql() on `connection`, which must be the tables' owner (or a superuser), in one
// transaction. MAINTAIN is added when the server is 17 or newer; the key schema only when it
// exists in this database.
Result<void> apply_grants(PgConnection& connection, GrantOptions options);

// Tables and sequences in the schemas public and herald_keys that table_grants() does not
// name (schema_migrations is the owner's, read by all: classified too). Empty: all classified.
Result<std::vector<std::string>> unclassified_relations(PgConnection& connection);

// A Markdown table of the grants (docs/postgres-roles.md).
std::string grants_markdown(const RoleNames& roles = {});

}  // namespace herald::store::postgres
