// `herald backup create | verify | restore` (SC-26): an encrypted, authenticated copy of the
// database and the audit checkpoints, taken while the server runs.
//
// The backup key is random per backup and stored in the file wrapped under the KEK. The data
// keys are NOT in the backup (they live in keys.db): restoring needs the key material (keyring
// and keys.db, backed up separately), and a data key destroyed by retention stays destroyed,
// so the expired data in an old backup cannot be read (crypto-shredding reaches backups).

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "crypto/random.h"
#include "ops/backup_file.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseSection = "database";
constexpr const char* kCheckpointsSection = "audit-checkpoints";
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

Result<crypto::SecretBytes> unwrap_backup_key(const Config& config, const ops::BackupHeader& header) {
  auto kek = open_kek(config);
  if (!kek) return kek.error();
  auto key = (*kek)->unwrap({header.kek_id, header.wrapped_key}, backup_aad(header.kek_id));
  if (!key) return Error{key.error().code, "cannot unwrap the backup key: " + key.error().message};
  return key;
}

}  // namespace

int run_backup_create(const std::string& config_path, const std::string& file) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  const Config& config = context->config;
  Scratch scratch(fs::path(config.database_path).parent_path());
  if (scratch.path.empty()) return fail(unavailable("cannot make a scratch directory beside the database"));
  // Checkpoints first, then the database: every copied checkpoint names an entry the later
  // snapshot holds, so the restored chain verifies.
  const fs::path checkpoints = scratch.path / kCheckpointsSection;
  std::error_code ec;
  if (fs::exists(config.audit_checkpoint_path)) {
    fs::copy_file(config.audit_checkpoint_path, checkpoints, ec);
  } else {
    std::ofstream(checkpoints).close();
  }
  if (ec) return fail(unavailable("cannot copy the audit checkpoints: " + ec.message()));
  const fs::path snapshot = scratch.path / kDatabaseSection;
  if (auto taken = context->store->snapshot_to(snapshot.string()); !taken) return fail(taken.error());

  auto bytes = crypto::random_bytes(ops::kBackupKeyBytes);
  if (!bytes) return fail(bytes.error());
  crypto::SecretBytes key(*bytes);
  crypto::wipe_string(*bytes);
  auto versions = context->keys->kek().versions();
  if (!versions) return fail(versions.error());
  if (versions->empty()) return fail(failed_precondition("no key-encryption key"));
  const std::string kek_id = versions->back().id;
  auto wrapped = context->keys->kek().wrap(key, backup_aad(kek_id));
  if (!wrapped) return fail(wrapped.error());
  if (wrapped->kek_id != kek_id) return fail(unavailable("the key-encryption key changed meanwhile; try again"));

  ops::BackupHeader header;
  header.created = SystemClock().now();
  header.schema_version = store::sqlite::latest_schema_version();
  header.herald_version = kHeraldVersion;
  header.kek_id = kek_id;
  header.wrapped_key = wrapped->bytes;
  auto written = ops::write_backup(file, header,
                                   key, {{kDatabaseSection, snapshot.string()}, {kCheckpointsSection, checkpoints.string()}});
  if (!written) return fail(written.error());
  std::uint64_t size = 0;
  for (const auto& s : written->sections) size += s.size;
  auto recorded = context->record({security::cli_actor(), "backup.created",
                                   {{"file", fs::absolute(file).string()}, {"kek_id", kek_id},
                                    {"plaintext_bytes", std::to_string(size)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "backup written to " << file << " (" << size << " bytes of data, key wrapped under " << kek_id << ")\n";
  return 0;
}

int run_backup_verify(const std::string& config_path, const std::string& file) {
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
  return 0;
}

int run_backup_restore(const std::string& config_path, const std::string& file) {
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
  // Everything authenticated: now replace the empty database and the checkpoint file.
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(config->database_path + suffix, ec);
  fs::rename(extracted / kDatabaseSection, config->database_path, ec);
  if (ec) return fail(unavailable("cannot move the restored database into place: " + ec.message()));
  fs::rename(extracted / kCheckpointsSection, config->audit_checkpoint_path, ec);
  if (ec) return fail(unavailable("cannot move the restored audit checkpoints into place: " + ec.message()));

  auto context = open_context(config_path);  // migrations, then the restore's own audit entry
  if (!context) return fail(context.error());
  auto recorded = context->record({security::cli_actor(), "backup.restored",
                                   {{"file", fs::absolute(file).string()}, {"made", format_timestamp(header->created)}}});
  if (!recorded) return fail(recorded.error());
  auto report = context->audit->verify();
  if (!report) return fail(report.error());
  std::cout << "restored " << file << " (made " << format_timestamp(header->created) << ") into "
            << config->database_path << "\naudit log: " << crypto::audit_report_summary(*report) << "\n";
  return report->ok ? 0 : 1;
}

}  // namespace herald::cli
