// `herald backup create | verify | restore` (SC-26): an encrypted, authenticated copy of the
// database and the audit checkpoints, taken while the server runs; and `herald keys backup |
// restore`: the data keys, in the same file format, taken the same way.
//
// The backup key is random per backup and stored in the file wrapped under the KEK. The data
// keys are NOT in a database backup (they live in keys.db): restoring needs the key material
// (the keyring, and a key backup taken after the database backup), and a data key destroyed by
// retention stays destroyed, so the expired data in an old backup cannot be read
// (crypto-shredding reaches backups). A key backup holds the data keys as the key store holds
// them: each still wrapped under its KEK, destroyed ones without key bytes.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "core/base64.h"
#include "core/json.h"
#include "crypto/audit_chain.h"
#include "crypto/random.h"
#include "ops/backup_file.h"
#include "ops/key_check.h"
#include "security/audit.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseSection = "database";
constexpr const char* kCheckpointsSection = "audit-checkpoints";
constexpr const char* kDataKeysSection = "data-keys";
constexpr const char* kHeraldVersion = "herald 0.5";

std::string backup_aad(std::string_view kek_id) { return std::string("herald.backup.v1\0", 17) + std::string(kek_id); }

// A private scratch directory beside the data (same file system, mode 0700), removed on exit.
struct Scratch {
  explicit Scratch(const fs::path& beside) {
    std::string pattern = (beside / ".herald-backup-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  fs::path path;
};

// The audit head of a snapshot: the highest seq it holds (0 for none).
Result<std::int64_t> snapshot_audit_head(const fs::path& snapshot) {
  auto db = store::sqlite::Connection::open(snapshot.string(), store::sqlite::Connection::Durability::kNormal);
  if (!db) return db.error();
  auto head = db->prepare("SELECT COALESCE(MAX(seq), 0) FROM audit_log");
  if (!head) return head.error();
  auto row = head->step();
  if (!row) return row.error();
  return *row ? head->column_int(0) : 0;
}

// The checkpoint file as the snapshot knows it, copied AFTER the snapshot was taken: so every
// checkpoint the snapshot's chain records (its records follow their checkpoints) is in the
// copy. Lines past the snapshot's head were signed while it was taken and would name entries it
// lacks; they are left out. Lines that do not parse are kept for verify to report.
Result<void> copy_checkpoints_up_to(const std::string& from, const fs::path& to, std::int64_t head) {
  std::ifstream in(from);
  std::ofstream out(to, std::ios::trunc);
  if (!out) return unavailable("cannot write " + to.string());
  std::string line;
  while (in && std::getline(in, line)) {
    auto parsed = crypto::parse_checkpoint_line(line);
    if (parsed && parsed->seq > head) continue;
    out << line << "\n";
  }
  out.close();
  if (!out) return unavailable("cannot write " + to.string());
  return ok();
}

// A fresh backup key and its wrapping under the newest KEK version.
struct BackupKey {
  crypto::SecretBytes key;
  crypto::WrappedKey wrapped;
};

Result<BackupKey> new_backup_key(crypto::KekSource& kek) {
  auto bytes = crypto::random_bytes(ops::kBackupKeyBytes);
  if (!bytes) return bytes.error();
  crypto::SecretBytes key(*bytes);
  crypto::wipe_string(*bytes);
  auto versions = kek.versions();
  if (!versions) return versions.error();
  if (versions->empty()) return failed_precondition("no key-encryption key");
  const std::string kek_id = versions->back().id;
  auto wrapped = kek.wrap(key, backup_aad(kek_id));
  if (!wrapped) return wrapped.error();
  if (wrapped->kek_id != kek_id) return unavailable("the key-encryption key changed meanwhile; try again");
  return BackupKey{std::move(key), std::move(*wrapped)};
}

Result<crypto::SecretBytes> unwrap_backup_key(const Config& config, const ops::BackupHeader& header) {
  auto kek = open_kek(config);
  if (!kek) return kek.error();
  auto key = (*kek)->unwrap({header.kek_id, header.wrapped_key}, backup_aad(header.kek_id));
  if (!key) return Error{key.error().code, "cannot unwrap the backup key: " + key.error().message};
  return key;
}

}  // namespace

namespace {

// One data key as a line of JSON: id, scope, created, destroyed (or null), kek_id, wrapped
// (base64; empty for a destroyed key).
std::string key_line(const crypto::StoredDataKey& k) {
  json::Writer w;
  w.begin_object();
  w.key("id").integer(k.id);
  w.key("scope").string(k.scope);
  w.key("created").string(format_timestamp(k.created));
  if (k.destroyed) {
    w.key("destroyed").string(format_timestamp(*k.destroyed));
  } else {
    w.key("destroyed").null();
  }
  w.key("kek_id").string(k.wrapped.kek_id);
  w.key("wrapped").string(base64_encode(k.wrapped.bytes));
  w.end_object();
  return w.take();
}

Result<crypto::StoredDataKey> parse_key_line(std::string_view line) {
  auto v = json::parse(line);
  const auto bad = [] { return data_loss("key backup: a data key line is malformed"); };
  if (!v || !v->is_object()) return bad();
  const auto text = [&](const char* name) -> std::optional<std::string> {
    const json::Value* m = v->find(name);
    if (m == nullptr || !m->is_string()) return std::nullopt;
    return m->as_string();
  };
  const json::Value* id = v->find("id");
  auto scope = text("scope");
  auto created = text("created");
  auto kek_id = text("kek_id");
  auto wrapped = text("wrapped");
  const auto number = id != nullptr && id->is_number() ? id->as_int64() : std::nullopt;
  if (!number || *number <= 0 || *number > 0xffffffffLL || !scope || !created || !kek_id || !wrapped) return bad();
  crypto::StoredDataKey k;
  k.id = static_cast<std::uint32_t>(*number);
  k.scope = *scope;
  auto when = parse_timestamp(*created);
  auto bytes = base64_decode(*wrapped);
  if (!when || !bytes) return bad();
  k.created = *when;
  k.wrapped = {*kek_id, std::move(*bytes)};
  if (auto destroyed = text("destroyed")) {
    auto at = parse_timestamp(*destroyed);
    if (!at) return bad();
    k.destroyed = *at;
  }
  return k;
}

// Every data key of a key backup file, authenticated and parsed.
Result<std::vector<crypto::StoredDataKey>> read_key_backup(const Config& config, const std::string& file) {
  auto header = ops::read_backup_header(file);
  if (!header) return header.error();
  auto key = unwrap_backup_key(config, *header);
  if (!key) return key.error();
  std::string text;
  bool keys_section = false;
  auto read = ops::read_backup(file, *key, [&](std::string_view section, std::string_view bytes) -> Result<void> {
    if (section != kDataKeysSection) return ok();
    keys_section = true;
    text.append(bytes);
    return ok();
  });
  if (!read) return read.error();
  if (!keys_section)
    return invalid_argument(file + " is not a key backup (no data-keys section): see `herald keys backup`");
  std::vector<crypto::StoredDataKey> keys;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const auto line = std::string_view(text).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) {
      auto parsed = parse_key_line(line);
      if (!parsed) return parsed.error();
      keys.push_back(std::move(*parsed));
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return keys;
}

struct KeyImport {
  int added = 0;
  int present = 0;
};

// Puts `keys` into the key store under their own ids. A key store that already gave an id or a
// scope to another key cannot take them (data sealed under one would be opened with the other).
Result<KeyImport> import_keys(crypto::DataKeyRepository& repository, const std::vector<crypto::StoredDataKey>& keys) {
  KeyImport done;
  const std::string advice = ": restore keys into a key store made by `herald init` and not yet used";
  for (const auto& k : keys) {
    auto by_id = repository.find_by_id(k.id);
    if (!by_id) return by_id.error();
    if (*by_id && (*by_id)->scope != k.scope) {
      return failed_precondition("the key store already has data key " + std::to_string(k.id) + " for " +
                                 (*by_id)->scope + ", the backup has it for " + k.scope + advice);
    }
    if (*by_id) {
      ++done.present;
      continue;
    }
    auto stored = repository.insert(k, true);
    if (!stored) return stored.error();
    if (stored->id != k.id)
      return failed_precondition("the key store already has another data key for " + k.scope + advice);
    if (k.destroyed) HERALD_TRY(repository.destroy(k.id, *k.destroyed));
    ++done.added;
  }
  return done;
}

// A key backup's keys into the context's key store (SQLite only: PostgreSQL's key ids come from
// an identity this would have to move), then proof that the store's KEK opens them.
Result<KeyImport> restore_key_backup(Context& context, const std::string& file) {
  if (is_postgres_url(context.config.key_store_path)) {
    return failed_precondition(
        "restore keys into a SQLite key store (a data directory made by `herald init`), "
        "then move them with `herald migrate-store`");
  }
  auto keys = read_key_backup(context.config, file);
  if (!keys) return keys.error();
  auto imported = import_keys(context.keys->repository(), *keys);
  if (!imported) return imported.error();
  HERALD_TRY(context.keys->check_kek_matches_store());
  return imported;
}

}  // namespace

int run_backup_create(const std::string& config_path, const std::string& file) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  const Config& config = context->config;
  Scratch scratch(fs::path(config.database_path).parent_path());
  if (scratch.path.empty()) return fail(unavailable("cannot make a scratch directory beside the database"));
  // The database first, then the checkpoints it knows of (copy_checkpoints_up_to).
  const fs::path snapshot = scratch.path / kDatabaseSection;
  if (auto taken = context->store->snapshot_to(snapshot.string()); !taken) return fail(taken.error());
  auto head = snapshot_audit_head(snapshot);
  if (!head) return fail(head.error());
  const fs::path checkpoints = scratch.path / kCheckpointsSection;
  if (auto copied = copy_checkpoints_up_to(config.audit_checkpoint_path, checkpoints, *head); !copied) {
    return fail(copied.error());
  }

  auto backup_key = new_backup_key(context->keys->kek());
  if (!backup_key) return fail(backup_key.error());
  const std::string kek_id = backup_key->wrapped.kek_id;

  ops::BackupHeader header;
  header.created = SystemClock().now();
  header.schema_version = store::sqlite::latest_schema_version();
  header.herald_version = kHeraldVersion;
  header.kek_id = kek_id;
  header.wrapped_key = backup_key->wrapped.bytes;
  auto written =
      ops::write_backup(file, header, backup_key->key,
                        {{kDatabaseSection, snapshot.string()}, {kCheckpointsSection, checkpoints.string()}});
  if (!written) return fail(written.error());
  std::uint64_t size = 0;
  for (const auto& s : written->sections) size += s.size;
  auto recorded = context->record({security::cli_actor(), "backup.created",
                                   {{"file", fs::absolute(file).string()}, {"kek_id", kek_id},
                                    {"plaintext_bytes", std::to_string(size)}}});
  if (!recorded) return fail(recorded.error());
  // For monitoring (herald_backup_last_timestamp_seconds) and `herald config check`.
  if (auto marked = context->store->set_mark("backup.created", SystemClock().now()); !marked)
    return fail(marked.error());
  std::cout << "backup written to " << file << " (" << size << " bytes of data, key wrapped under " << kek_id << ")\n";
  return 0;
}

namespace {

// What a restore drill found in the restored copy.
struct DrillReport {
  std::int64_t services = 0;
  std::int64_t notifications = 0;
  std::int64_t audit_entries = 0;
  ops::KeyCheckReport keys;
  std::string audit_summary;
};

Result<std::int64_t> count_rows(store::sqlite::Connection& db, const char* table) {
  auto count = db.prepare(std::string("SELECT COUNT(*) FROM ") + table);
  if (!count) return count.error();
  auto row = count->step();
  if (!row) return row.error();
  return *row ? count->column_int(0) : 0;
}

// A restore drill: the backup restored into a private scratch data directory (mode 0700, beside
// the database, removed afterwards) and opened as `herald backup restore` would leave it: SQLite's
// own integrity check, the migrations of this herald, the live key store opening every day's
// sealed notifications, and the restored audit chain verified against the restored checkpoints.
// Nothing of the live data directory is written; a backup of PostgreSQL (a SQLite file) drills
// the same way.
Result<DrillReport> restore_drill(const Config& live, const std::string& file, const crypto::SecretBytes& key,
                                  const ops::BackupHeader& header) {
  if (header.schema_version > store::sqlite::latest_schema_version()) {
    return failed_precondition("the backup's schema is newer than this herald; upgrade herald first");
  }
  Scratch scratch(fs::path(live.database_path).parent_path());
  if (scratch.path.empty()) return unavailable("cannot make a scratch directory beside the database");
  const fs::path extracted = scratch.path / "x";
  fs::create_directory(extracted);
  HERALD_TRY(ops::extract_backup(file, key, extracted.string()));
  const fs::path database = extracted / kDatabaseSection;
  DrillReport report;
  {
    auto db = store::sqlite::Connection::open(database.string(), store::sqlite::Connection::Durability::kNormal);
    if (!db) return db.error();
    auto check = db->prepare("PRAGMA integrity_check");
    if (!check) return check.error();
    std::string problems;
    for (;;) {
      auto row = check->step();
      if (!row) return row.error();
      if (!*row) break;
      const std::string line = check->column_text(0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (!problems.empty()) return data_loss("the restored database fails SQLite's integrity check: " + problems);
    auto services = count_rows(*db, "services");
    auto notifications = count_rows(*db, "notifications");
    auto entries = count_rows(*db, "audit_log");
    if (!services) return services.error();
    if (!notifications) return notifications.error();
    if (!entries) return entries.error();
    report.services = *services;
    report.notifications = *notifications;
    report.audit_entries = *entries;
  }
  Config drill = live;
  drill.store_url.clear();
  drill.database_path = database.string();
  drill.audit_checkpoint_path = (extracted / kCheckpointsSection).string();
  drill.audit_syslog = false;                     // the drill's copy writes nothing anyone reads
  auto context = open_context(std::move(drill));  // runs this herald's migrations on the copy
  if (!context) return context.error();
  auto opens =
      ops::check_keys_open_data(*context->store, *context->store, *context->store, context->keys->repository());
  if (!opens) return opens.error();
  report.keys = *opens;
  auto verified = context->audit->verify();
  if (!verified) return verified.error();
  report.audit_summary = crypto::audit_report_summary(verified->report);
  if (!verified->report.ok) return data_loss("the restored audit chain does not verify: " + report.audit_summary);
  return report;
}

}  // namespace

int run_backup_verify(const std::string& config_path, const std::string& file, bool restore_drill_too) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  auto header = ops::read_backup_header(file);
  if (!header) return fail(header.error());
  auto key = unwrap_backup_key(*config, *header);
  if (!key) return fail(key.error());
  bool database_header_ok = false;
  std::uint64_t database_bytes = 0;
  auto read = ops::read_backup(file, *key, [&](std::string_view section, std::string_view bytes) -> Result<void> {
    if (section == kDatabaseSection) {
      if (database_bytes == 0 && bytes.size() >= 16) database_header_ok = bytes.substr(0, 16) == std::string_view("SQLite format 3\0", 16);
      database_bytes += bytes.size();
    }
    return ok();
  });
  if (!read) return fail(read.error());
  if (!database_header_ok) return fail(data_loss("backup " + file + ": the database section is not a SQLite database"));
  std::cout << "backup " << file << " is intact: made " << format_timestamp(header->created) << ", schema "
            << header->schema_version << ", " << database_bytes << " bytes of database, key under " << header->kek_id << "\n";
  std::optional<DrillReport> drilled;
  if (restore_drill_too) {
    auto drill = restore_drill(*config, file, *key, *header);
    if (!drill) {
      // A failed drill is evidence too: recorded where the live store can be reached.
      if (auto context = open_context(*config); context) {
        (void)context->record({security::cli_actor(),
                               "backup.restore_drill",
                               {{"file", fs::absolute(file).string()}, {"error", drill.error().message}},
                               "failure"});
      }
      return fail(Error{drill.error().code, "restore drill failed: " + drill.error().message});
    }
    drilled = *drill;
    std::cout << "restore drill passed: integrity check ok; " << drill->services << " services, "
              << drill->notifications << " notifications, " << drill->audit_entries << " audit entries; data keys: ok ("
              << drill->keys.days << " service days of sealed notifications open, " << drill->keys.shredded_days
              << " shredded by retention); audit log: " << drill->audit_summary << "\n";
  }
  // Marked in the store, for monitoring (herald_backup_last_verified_timestamp_seconds,
  // ..._restore_drill_...) and `herald config check`; a backup checked away from its store (no
  // database here) is still verified, only not marked.
  if (auto context = open_context(std::move(*config)); context) {
    const Timestamp now = SystemClock().now();
    if (auto marked = context->store->set_mark("backup.verified", now); !marked) {
      std::cerr << "herald: the verification could not be marked in the store: " << marked.error().message << "\n";
    }
    if (drilled) {
      auto recorded = context->record({security::cli_actor(),
                                       "backup.restore_drill",
                                       {{"file", fs::absolute(file).string()},
                                        {"made", format_timestamp(header->created)},
                                        {"notifications", std::to_string(drilled->notifications)},
                                        {"audit_entries", std::to_string(drilled->audit_entries)},
                                        {"service_days_opened", std::to_string(drilled->keys.days)}}});
      if (!recorded) return fail(recorded.error());
      if (auto marked = context->store->set_mark("backup.restore_drill", now); !marked) return fail(marked.error());
    }
  }
  return 0;
}

int run_backup_restore(const std::string& config_path, const std::string& file, const std::string& keys_file) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  if (!config->store_url.empty()) {
    return fail(failed_precondition("restore into a SQLite data directory (`herald init` without --store-url, the "
                                    "keyring copied in, keys.store pointing at the key store), then move it with "
                                    "`herald migrate-store`"));
  }
  // Never over a database that holds anything: only a fresh `herald init` one may be replaced.
  if (fs::exists(config->database_path)) {
    auto existing = store::sqlite::Connection::open(config->database_path, store::sqlite::Connection::Durability::kFull);
    if (!existing) return fail(existing.error());
    auto used = existing->prepare(
        "SELECT (SELECT COUNT(*) FROM services) + (SELECT COUNT(*) FROM notifications) + "
        "(SELECT COUNT(*) FROM audit_log)");
    bool empty = false;
    if (used) {
      auto row = used->step();
      empty = row && *row && used->column_int(0) == 0;
    }
    if (!empty) {
      return fail(failed_precondition("refusing to restore over " + config->database_path +
                                      ": it holds data (or is not a Herald database). Restore into a data "
                                      "directory made by `herald init`, with the keyring and keys.db copied in"));
    }
  }
  auto header = ops::read_backup_header(file);
  if (!header) return fail(header.error());
  if (header->schema_version > store::sqlite::latest_schema_version()) {
    return fail(failed_precondition("the backup's schema is newer than this herald; upgrade herald first"));
  }
  auto key = unwrap_backup_key(*config, *header);
  if (!key) return fail(key.error());
  Scratch scratch(fs::path(config->database_path).parent_path());
  if (scratch.path.empty()) return fail(unavailable("cannot make a scratch directory beside the database"));
  const fs::path extracted = scratch.path / "x";
  fs::create_directory(extracted);
  if (auto done = ops::extract_backup(file, *key, extracted.string()); !done) return fail(done.error());
  // The data keys first, from the key backup taken with (after) this backup.
  std::optional<KeyImport> imported;
  if (!keys_file.empty()) {
    auto importing = open_context(config_path);
    if (!importing) return fail(importing.error());
    auto done = restore_key_backup(*importing, keys_file);
    if (!done) return fail(done.error());
    imported = *done;
  }
  // Everything authenticated: now replace the empty database and the checkpoint file.
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(config->database_path + suffix, ec);
  fs::rename(extracted / kDatabaseSection, config->database_path, ec);
  if (ec) return fail(unavailable("cannot move the restored database into place: " + ec.message()));
  fs::rename(extracted / kCheckpointsSection, config->audit_checkpoint_path, ec);
  if (ec) return fail(unavailable("cannot move the restored audit checkpoints into place: " + ec.message()));

  // The key store must open what was restored: a keys.db copied without its WAL, or one older
  // than the data, would otherwise start a server that makes new keys for old days.
  Result<ops::KeyCheckReport> opens = internal_error("not checked");
  {
    auto checking = open_context(config_path);  // runs the migrations
    if (!checking) return fail(checking.error());
    opens =
        ops::check_keys_open_data(*checking->store, *checking->store, *checking->store, checking->keys->repository());
  }
  if (!opens) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(config->database_path + suffix, ec);
    fs::remove(config->audit_checkpoint_path, ec);
    return fail(Error{opens.error().code, "nothing was restored: " + opens.error().message});
  }
  auto context = open_context(config_path);  // the restore's own audit entry
  if (!context) return fail(context.error());
  security::AuditEvent restored_event{
      security::cli_actor(),
      "backup.restored",
      {{"file", fs::absolute(file).string()}, {"made", format_timestamp(header->created)}}};
  if (imported) {
    restored_event.objects.emplace_back("keys_file", fs::absolute(keys_file).string());
    restored_event.objects.emplace_back("data_keys_restored", std::to_string(imported->added));
  }
  auto recorded = context->record(std::move(restored_event));
  if (!recorded) return fail(recorded.error());
  auto verified = context->audit->verify();
  if (!verified) return fail(verified.error());
  std::cout << "restored " << file << " (made " << format_timestamp(header->created) << ") into "
            << config->database_path << "\ndata keys: ok (" << opens->days
            << " service days of sealed notifications open)\naudit log: "
            << crypto::audit_report_summary(verified->report) << "\n";
  return verified->report.ok ? 0 : 1;
}

int run_keys_backup(const std::string& config_path, const std::string& file) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  // One SELECT: a consistent list on both key stores, whatever is in keys.db's WAL.
  auto stored = context->keys->repository().list();
  if (!stored) return fail(stored.error());
  Scratch scratch(fs::path(file).parent_path().empty() ? fs::path(".") : fs::path(file).parent_path());
  if (scratch.path.empty()) return fail(unavailable("cannot make a scratch directory beside " + file));
  const fs::path listing = scratch.path / kDataKeysSection;
  {
    std::ofstream out(listing, std::ios::binary);
    for (const auto& k : *stored) out << key_line(k) << '\n';
    if (!out.flush()) return fail(unavailable("cannot write the key listing"));
  }
  auto backup_key = new_backup_key(context->keys->kek());
  if (!backup_key) return fail(backup_key.error());
  ops::BackupHeader header;
  header.created = SystemClock().now();
  header.schema_version = 0;  // no database in a key backup
  header.herald_version = kHeraldVersion;
  header.kek_id = backup_key->wrapped.kek_id;
  header.wrapped_key = backup_key->wrapped.bytes;
  auto written = ops::write_backup(file, header, backup_key->key, {{kDataKeysSection, listing.string()}});
  if (!written) return fail(written.error());
  // Read back what was written: a key backup nobody can restore is found now, not at restore.
  auto again = read_key_backup(context->config, file);
  if (!again) return fail(Error{again.error().code, "the key backup does not read back: " + again.error().message});
  if (again->size() != stored->size()) return fail(data_loss("the key backup does not read back whole"));
  int live = 0;
  for (const auto& k : *stored) live += k.destroyed ? 0 : 1;
  auto recorded = context->record({security::cli_actor(),
                                   "keys.backed_up",
                                   {{"file", fs::absolute(file).string()},
                                    {"data_keys", std::to_string(stored->size())},
                                    {"kek_id", header.kek_id}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "key backup written to " << file << ": " << stored->size() << " data keys (" << live
            << " live), read back and verified; they stay wrapped under their key-encryption keys, so keep the "
               "keyring's own backup too\n";
  return 0;
}

int run_keys_restore(const std::string& config_path, const std::string& file) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto imported = restore_key_backup(*context, file);
  if (!imported) return fail(imported.error());
  auto recorded =
      context->record({security::cli_actor(),
                       "keys.restored",
                       {{"file", fs::absolute(file).string()}, {"data_keys", std::to_string(imported->added)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "restored " << imported->added << " data keys from " << file << " (" << imported->present
            << " already present)\n";
  return 0;
}

}  // namespace herald::cli
