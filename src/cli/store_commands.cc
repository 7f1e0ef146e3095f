// `herald migrate-store --from sqlite://PATH --to postgresql://...`: moves a service's store from
// the embedded SQLite file to PostgreSQL, offline (stop every `herald serve` first).
//
// The rows are copied as stored (store/transfer/sqlite_to_postgres.h); then the copy is checked
// by the row counts of every table and by reading a random sample of notifications and every
// API key through both stores, decrypted, and comparing them field by field. The audit chain
// moves unchanged (its existing signed checkpoints still verify) and gains a "store.migrated"
// entry on the new store.

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "store/postgres/roles.h"
#include "store/sqlite/sqlite_db.h"
#include "store/transfer/sqlite_to_postgres.h"

namespace herald::cli {
namespace {

bool same(const store::NotificationRecord& a, const store::NotificationRecord& b) {
  return a.id == b.id && a.service == b.service && a.recipient == b.recipient &&
         a.personalisation_json == b.personalisation_json && a.subject == b.subject && a.body == b.body &&
         a.status == b.status && a.reference == b.reference && a.created_at == b.created_at &&
         a.one_click_unsubscribe_url == b.one_click_unsubscribe_url;
}

// Reads `sample` random retained notifications and every API key of every service through
// both stores; returns how many notifications were compared.
Result<int> compare_sample(const std::string& sqlite_path, Context& source, Context& target, int sample) {
  auto db = store::sqlite::Connection::open(sqlite_path, store::sqlite::Connection::Durability::kFull);
  if (!db) return db.error();
  auto stmt = db->prepare("SELECT id, service_id FROM notifications WHERE redacted_at IS NULL ORDER BY random() LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->bind_int(1, sample);
  int compared = 0;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    auto id = NotificationId::parse(stmt->column_text(0));
    auto service = ServiceId::parse(stmt->column_text(1));
    if (!id || !service) return data_loss("malformed id in the SQLite store");
    auto before = source.store->find_notification(*service, *id);
    auto after = target.store->find_notification(*service, *id);
    if (!before) return before.error();
    if (!after) return Error{after.error().code, "notification " + id->to_string() + " on PostgreSQL: " + after.error().message};
    // A row whose data key retention already destroyed reads as absent on both sides.
    if (before->has_value() != after->has_value() || (*before && !same(**before, **after))) {
      return data_loss("notification " + id->to_string() + " differs after the copy");
    }
    ++compared;
  }
  auto services = source.store->list_services();
  if (!services) return services.error();
  for (const auto& service : *services) {
    auto before = source.store->api_keys_for_service(service.id);
    auto after = target.store->api_keys_for_service(service.id);
    if (!before) return before.error();
    if (!after) return after.error();
    if (before->size() != after->size()) return data_loss("API keys of service " + service.id.to_string() + " differ");
    for (std::size_t i = 0; i < before->size(); ++i) {
      if ((*before)[i].id != (*after)[i].id || (*before)[i].secret != (*after)[i].secret) {
        return data_loss("API key " + (*before)[i].id.to_string() + " differs after the copy");
      }
    }
  }
  return compared;
}

}  // namespace

int run_migrate_store(const std::string& config_path, const MigrateStoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (!options.from.starts_with(kSqlite)) return fail(invalid_argument("--from must be sqlite://PATH"));
  if (!is_postgres_url(options.to)) return fail(invalid_argument("--to must be a postgresql:// URL"));
  const std::string keys_to = options.keys_to.empty() ? options.to : options.keys_to;
  if (!is_postgres_url(keys_to)) return fail(invalid_argument("--keys-to must be a postgresql:// URL"));
  if (options.sample < 0) return fail(invalid_argument("--sample must not be negative"));
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  if (!config->store_url.empty()) return fail(invalid_argument("the configuration already names a PostgreSQL store"));
  config->database_path = options.from.substr(kSqlite.size());

  // Opening the source as Herald would brings it to the current schema first.
  auto source = open_context(*config);
  if (!source) return fail(source.error());
  auto report = store::transfer::copy_sqlite_to_postgres(config->database_path, config->key_store_path,
                                                         options.to, keys_to);
  if (!report) return fail(report.error());
  for (const auto& t : report->tables) {
    std::cout << t.table << ": " << t.source << " rows in SQLite, " << t.target << " in PostgreSQL\n";
  }
  if (!report->counts_match()) return fail(data_loss("row counts differ after the copy"));

  Config target_config = *config;
  target_config.store_url = options.to;
  target_config.key_store_path = keys_to;
  auto target = open_context(target_config);
  if (!target) return fail(target.error());
  auto compared = compare_sample(config->database_path, *source, *target, options.sample);
  if (!compared) return fail(compared.error());
  std::cout << "decrypted and compared " << *compared << " sampled notifications and every API key: identical\n";
  std::int64_t rows = 0;
  for (const auto& t : report->tables) rows += t.target;
  auto recorded = target->record({security::cli_actor(), "store.migrated",
                                  {{"from", "sqlite"}, {"to", "postgresql"}, {"rows", std::to_string(rows)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "done. In " << config_path << " set:\n  [store] url = \"" << without_password(options.to)
            << "\"\n  [keys] store = \"" << without_password(keys_to) << "\"\n"
            << "then start serve; keep the SQLite files until you have checked the service.\n";
  return 0;
}

namespace {

// Role names go into the statements as identifiers: plain lower-case ones only.
bool plain_identifier(const std::string& name) {
  if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

int run_store_grants(const std::string& config_path, const StoreGrantsOptions& options) {
  store::postgres::GrantOptions grants;
  grants.roles = {options.api_role, options.worker_role, options.admin_role, options.retention_role};
  for (const std::string* name :
       {&options.api_role, &options.worker_role, &options.admin_role, &options.retention_role}) {
    if (!plain_identifier(*name)) return fail(invalid_argument("role names are lower-case letters, digits and _"));
  }
  if (options.markdown) {
    std::cout << store::postgres::grants_markdown(grants.roles);
    return 0;
  }
  if (!options.apply) {
    std::cout << store::postgres::grants_sql(grants);
    return 0;
  }
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  if (config->store_url.empty()) return fail(invalid_argument("--apply needs store.url (PostgreSQL)"));
  // As the owner: migrations first (and the key schema), so every table exists to be granted.
  {
    auto context = open_context(*config);
    if (!context) return fail(context.error());
  }
  const bool keys_apart = config->key_store_path != config->store_url;
  auto owner = store::postgres::PgConnection::open(config->store_url);
  if (!owner) return fail(owner.error());
  grants.keys_schema = !keys_apart;
  if (auto applied = store::postgres::apply_grants(**owner, grants); !applied) return fail(applied.error());
  auto unclassified = store::postgres::unclassified_relations(**owner);
  if (!unclassified) return fail(unclassified.error());
  for (const std::string& name : *unclassified) {
    std::cerr << "herald: warning: " << name << " has no grants for any role (not in store/postgres/roles.cc)\n";
  }
  std::cout << "grants applied on " << without_password(config->store_url) << "\n";
  if (keys_apart) {
    // The key store is another database: its schema gets the key table's grants there.
    auto keys_owner = store::postgres::PgConnection::open(config->key_store_path);
    if (!keys_owner) return fail(keys_owner.error());
    grants.data_schema = false;
    grants.keys_schema = true;
    if (auto applied = store::postgres::apply_grants(**keys_owner, grants); !applied) return fail(applied.error());
    std::cout << "grants applied on " << without_password(config->key_store_path) << "\n";
  }
  return 0;
}

}  // namespace herald::cli
