#include "store/postgres/roles.h"

#include <set>

namespace herald::store::postgres {
namespace {

// Derived from which PgStore methods each process calls (cli/serve.cc decides what runs where).
// No role may DELETE notifications: retention redacts them (UPDATE). Only admin (erasure, admin
// UI housekeeping) and retention delete personal data; the deletes left to api and worker are
// short-lived credentials and queue rows, each named in `why`.
// Privileges in the order of DatabaseRole: api, worker, admin, retention.
const std::vector<TableGrants> kTableGrants = {
    {"schema_migrations", {"S", "S", "S", "S"}, {}, {}, "a node that does not migrate checks the version"},
    {"services", {"S", "S", "SIU", "S"}, {}, {}, "admin creates and edits services"},
    {"api_keys", {"S", "", "SIU", ""}, {}, {}, "api authenticates; admin creates and revokes (never deleted)"},
    {"templates", {"S", "S", "SIU", ""}, {}, {}, "admin edits; api and worker render"},
    {"template_versions", {"S", "S", "SIU", ""}, {}, {}, "as templates"},
    {"notifications",
     {"SIU", "SIU", "SIU", "SU"},
     {},
     {},
     "api inserts, and updates statuses from providers' delivery receipts (its listener takes them); "
     "worker claims and records outcomes, and inserts those of jobs and NHS cascades; admin sends and erases "
     "(UPDATE); retention redacts (UPDATE). Nobody deletes"},
    {"audit_log", {"SI", "SI", "SI", "SI"}, {}, {}, "append-only: every process records; the chain's tail is read"},
    {"service_contacts", {"S", "S", "SIUD", ""}, {}, {}, "admin manages reply-to addresses"},
    {"service_callbacks", {"S", "S", "SIUD", ""}, {}, {}, "admin sets; worker calls; api looks up (received texts)"},
    {"rate_buckets", {"SIU", "SIU", "SIU", ""}, {}, {}, "limits of whoever sends (upserts)"},
    {"daily_counts", {"SIU", "SIU", "SIU", ""}, {}, {}, "as rate_buckets"},
    {"inbound_sms",
     {"SI", "SU", "SUD", "SD"},
     {},
     {},
     "api receives and lists; worker claims callbacks; admin replays and erases; retention deletes"},
    {"service_guest_list", {"S", "S", "SIUD", ""}, {}, {}, "trial-mode recipients: admin manages"},
    {"letter_pdfs",
     {"SI", "SI", "SID", "SD"},
     {},
     {},
     "api (precompiled) and worker (NHS cascade) store letters; admin erases; retention deletes"},
    {"documents",
     {"SIU", "", "SID", "SD"},
     {},
     {},
     "api stores files and counts failed confirmations; admin erases; retention deletes expired files"},
    {"nhs_clients", {"S", "S", "S", ""}, {}, {}, "managed with the CLI (owner)"},
    {"nhs_access_tokens", {"SID", "", "", ""}, {}, {}, "api issues tokens and deletes expired ones"},
    {"nhs_assertion_ids", {"SID", "", "", ""}, {}, {}, "api remembers JWT ids and deletes expired ones"},
    {"nhs_messages",
     {"SIU", "SU", "SU", "SU"},
     {},
     {},
     "api inserts and applies receipts; worker runs the cascade; admin erases; retention unindexes"},
    {"nhs_message_batches", {"SI", "S", "S", ""}, {}, {}, "api inserts"},
    {"demographics", {"", "S", "", ""}, {}, {}, "loaded with the CLI (owner); the cascade reads"},
    {"nhs_channel_events",
     {"SI", "SID", "SD", ""},
     {},
     "nhs_channel_events_id_seq",
     "a queue: api records NHS App receipts; worker consumes them (DELETE); admin erases"},
    {"nhs_routing_plans", {"S", "S", "SI", ""}, {}, {}, "admin builds plans (new versions, never changed)"},
    {"nhs_callback_targets", {"S", "S", "SIUD", ""}, {}, {}, "admin manages a client's callback targets"},
    {"nhs_callbacks",
     {"SI", "SIUD", "SUD", "SD"},
     {},
     "nhs_callbacks_id_seq",
     "a queue: api and worker queue callbacks; worker deletes delivered ones; admin replays and erases; "
     "retention deletes"},
    {"admin_users",
     {"s", "s", "SIU", ""},
     "id, email_index, disabled_at",
     {},
     "admin signs in and manages users; api and worker see only whether an address is a team member's"},
    {"admin_memberships", {"S", "S", "SIUD", ""}, {}, {}, "team membership (trial-mode recipients)"},
    {"admin_enrolments", {"", "", "SID", ""}, {}, {}, "admin UI only"},
    {"admin_recovery_codes", {"", "", "SID", ""}, {}, {}, "admin UI only"},
    {"admin_sessions", {"", "", "SIUD", ""}, {}, {}, "admin UI only"},
    {"webauthn_credentials", {"", "", "SIUD", ""}, {}, {}, "admin UI only"},
    {"jobs", {"", "SU", "SIU", "SU"}, {}, {}, "admin uploads lists; worker sends them; retention clears contents"},
    {"unsubscribe_reports", {"S", "", "SIU", "S"}, {}, {}, "admin batches requests into reports"},
    {"unsubscribe_requests",
     {"SI", "", "SUD", "SD"},
     {},
     {},
     "api records requests; admin reports and erases; retention deletes old ones"},
    {"operation_marks", {"SIU", "SIU", "SIU", "S"}, {}, {}, "heartbeats and intrusion marks (upserts)"},
    {"source_blocks",
     {"SIUD", "SIUD", "SIUD", ""},
     {},
     {},
     "intrusion prevention on every node: strikes (upserts) and forgets blocks over a week old; admin unblocks"},
    // The deviation: the API seals personal data under the day's data key, made on first use by
    // whichever process seals first (crypto/data_keys.h key_for_scope), so api, worker and admin
    // read and insert wrapped keys - useless without the KEK, which is never in the database.
    // Only retention destroys (UPDATE: wrapped = NULL) and only the owner re-wraps (keys rotate).
    {"herald_keys.data_keys",
     {"SI", "SI", "SI", "SU"},
     {},
     {},
     "wrapped data keys: api, worker and admin make the day's key on first use; only retention destroys"},
};

constexpr std::array<std::pair<char, std::string_view>, 4> kPrivileges{
    {{'S', "SELECT"}, {'I', "INSERT"}, {'U', "UPDATE"}, {'D', "DELETE"}}};

std::string schema_of(std::string_view table) {
  const auto dot = table.find('.');
  return dot == std::string_view::npos ? "public" : std::string(table.substr(0, dot));
}

bool wanted(const GrantOptions& options, std::string_view table) {
  return schema_of(table) == "public" ? options.data_schema : options.keys_schema;
}

std::string role_list(const RoleNames& roles) {
  return roles.api + ", " + roles.worker + ", " + roles.admin + ", " + roles.retention;
}

// "SELECT, INSERT" for "SI"; "SELECT (a, b)" for "s".
std::string privilege_list(std::string_view letters, std::string_view limited_columns) {
  std::string out;
  for (const auto& [letter, name] : kPrivileges) {
    const bool limited = letter == 'S' && letters.find('s') != std::string_view::npos;
    if (letters.find(letter) == std::string_view::npos && !limited) continue;
    if (!out.empty()) out += ", ";
    out += name;
    if (limited) out += " (" + std::string(limited_columns) + ")";
  }
  return out;
}

}  // namespace

std::string_view database_role_name(DatabaseRole role) {
  switch (role) {
    case DatabaseRole::kApi: return "api";
    case DatabaseRole::kWorker: return "worker";
    case DatabaseRole::kAdmin: return "admin";
    case DatabaseRole::kRetention: return "retention";
  }
  return "";
}

const std::string& RoleNames::of(DatabaseRole role) const {
  switch (role) {
    case DatabaseRole::kApi: return api;
    case DatabaseRole::kWorker: return worker;
    case DatabaseRole::kAdmin: return admin;
    case DatabaseRole::kRetention: return retention;
  }
  return api;
}

const std::vector<TableGrants>& table_grants() { return kTableGrants; }

std::string grants_sql(const GrantOptions& options) {
  const std::string all_roles = role_list(options.roles);
  std::vector<std::string> schemas;
  if (options.data_schema) schemas.push_back("public");
  if (options.keys_schema) schemas.push_back("herald_keys");
  std::string sql =
      "-- Herald's least-privilege grants (herald store grants; docs/postgres-roles.md). Run as the owner of\n"
      "-- Herald's tables. The login roles are yours to create first, e.g.\n"
      "--   CREATE ROLE " +
      options.roles.api + " LOGIN;  (and " + options.roles.worker + ", " + options.roles.admin + ", " +
      options.roles.retention +
      ")\n"
      "-- with passwords or certificates as your site authenticates. Idempotent: run again after an upgrade.\n";
  sql += "-- Start from nothing: PUBLIC and the four roles lose every privilege on Herald's objects.\n";
  for (const std::string& schema : schemas) {
    sql += "REVOKE CREATE ON SCHEMA " + schema + " FROM PUBLIC;\n";
    sql += "REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM PUBLIC, " + all_roles + ";\n";
    sql += "REVOKE ALL ON ALL SEQUENCES IN SCHEMA " + schema + " FROM PUBLIC, " + all_roles + ";\n";
    sql += "REVOKE ALL ON SCHEMA " + schema + " FROM " + all_roles + ";\n";
    sql += "GRANT USAGE ON SCHEMA " + schema + " TO " + all_roles + ";\n";
  }
  for (const TableGrants& table : kTableGrants) {
    if (!wanted(options, table.table)) continue;
    sql += "-- " + std::string(table.table) + ": " + std::string(table.why) + "\n";
    for (DatabaseRole role : kDatabaseRoles) {
      const std::string_view letters = table.privileges[static_cast<std::size_t>(role)];
      if (letters.empty()) continue;
      sql += "GRANT " + privilege_list(letters, table.limited_columns) + " ON " + std::string(table.table) + " TO " +
             options.roles.of(role) + ";\n";
      if (!table.sequence.empty() && letters.find('I') != std::string_view::npos) {
        sql += "GRANT USAGE ON SEQUENCE " + std::string(table.sequence) + " TO " + options.roles.of(role) + ";\n";
      }
    }
  }
  if (options.keys_schema) {
    sql +=
        "-- Retention destroys a data key and then rewrites the key table (VACUUM FULL) so the old row\n"
        "-- version is gone. Before PostgreSQL 17 only the table's owner may: as another role PostgreSQL\n"
        "-- skips it with a warning, and the bytes (wrapped under the KEK) wait for autovacuum.\n";
    sql += std::string(options.maintain_privilege ? "" : "-- PostgreSQL 17+: ") +
           "GRANT MAINTAIN ON herald_keys.data_keys TO " + options.roles.retention + ";\n";
  }
  return sql;
}

Result<void> apply_grants(PgConnection& connection, GrantOptions options) {
  auto version = connection.exec(
      "SELECT current_setting('server_version_num')::integer, "
      "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'herald_keys')");
  if (!version) return version.error();
  options.maintain_privilege = version->integer(0, 0) >= 170000;
  options.keys_schema = options.keys_schema && version->boolean(0, 1);
  const std::string sql = grants_sql(options);
  return connection.transaction([&]() { return connection.execute(sql); });
}

Result<std::vector<std::string>> unclassified_relations(PgConnection& connection) {
  auto rows = connection.exec(
      "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname IN ('public', 'herald_keys') AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
      "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
      "AND d.deptype = 'i') ORDER BY 1, 2");
  if (!rows) return rows.error();
  std::set<std::string> known;
  for (const TableGrants& table : kTableGrants) {
    known.insert(std::string(table.table));
    if (!table.sequence.empty()) known.insert(std::string(table.sequence));
  }
  std::vector<std::string> missing;
  for (int i = 0; i < rows->rows(); ++i) {
    const std::string schema = rows->text(i, 0);
    const std::string name = schema == "public" ? rows->text(i, 1) : schema + "." + rows->text(i, 1);
    if (!known.contains(name)) missing.push_back(name);
  }
  return missing;
}

std::string grants_markdown(const RoleNames& roles) {
  std::string out = "| table | " + roles.api + " | " + roles.worker + " | " + roles.admin + " | " + roles.retention +
                    " | why |\n|---|---|---|---|---|---|\n";
  for (const TableGrants& table : kTableGrants) {
    out += "| `" + std::string(table.table) + "` |";
    for (DatabaseRole role : kDatabaseRoles) {
      const std::string_view letters = table.privileges[static_cast<std::size_t>(role)];
      std::string cell;
      for (const auto& [letter, name] : kPrivileges) {
        if (letters.find(letter) != std::string_view::npos) cell += letter;
        if (letter == 'S' && letters.find('s') != std::string_view::npos)
          cell += "S(" + std::string(table.limited_columns) + ")";
      }
      out += " " + (cell.empty() ? std::string("-") : cell) + " |";
    }
    out += " " + std::string(table.why) + " |\n";
  }
  return out;
}

}  // namespace herald::store::postgres
