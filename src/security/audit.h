#pragma once
// AuditLog: Herald's tamper-evident audit log (SC-31, SC-32). Entries go into the database's
// hash chain (Store::append_audit, crypto/audit_chain.h); signed checkpoints of the chain head
// go to an append-only file outside the database (and, optionally, to syslog), signed with the
// newest Ed25519 signing key of the keyring. verify() checks the chain against every
// checkpoint; export_jsonl() writes JSON Lines for a SIEM.
//
// Entries carry ids, never personal data. Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/audit_chain.h"
#include "store/store.h"

namespace herald::security {

struct AuditEvent {
  std::string actor;   // "cli:<user>", "api-key:<id>", "system:retention", ...
  std::string action;  // "api_key.created", "keys.rotated", "auth.failed", ...
  std::vector<std::pair<std::string, std::string>> objects;
  std::string outcome = "success";
  std::string source = "local";
};

struct AuditLogOptions {
  std::string checkpoint_path;  // the append-only checkpoint file
  std::string keyring_path;     // where the signing keys are
  bool syslog = true;           // also send each checkpoint line to syslog (LOG_AUTHPRIV)
  std::string node;             // names this process's checkpoints in the chain's records
  // verify() fails when entries after the newest checkpoint span longer than this (by their
  // own times); nullopt: no limit. Set from the signing interval.
  std::optional<Duration> max_unsigned_span;
};

// A copy of checkpoint lines kept elsewhere than the checkpoint file: a syslog or SIEM export,
// another node's checkpoint file. Any line holding a checkpoint (`{"v":1,...}`, possibly after a
// syslog prefix) counts; other lines are skipped.
struct AuditWitness {
  std::string path;
};

// What verify() checked: the report, and one line per witness ("audit-checkpoints: 15 checkpoints").
struct AuditVerification {
  crypto::AuditReport report;
  std::vector<std::string> witnesses;
};

// How far the checkpoint file trails the chain (`herald config check`).
struct CheckpointStatus {
  std::optional<Timestamp> last_checkpoint;   // when the newest checkpoint in the file was signed
  std::int64_t unchecked = 0;                 // entries after it, checkpoint records aside
  std::optional<Timestamp> oldest_unchecked;  // the earliest of those
};

class AuditLog {
 public:
  AuditLog(store::AuditStore& store, AuditLogOptions options) : store_(store), options_(std::move(options)) {}

  Result<void> record(AuditEvent event, Timestamp now);
  Result<void> record_all(std::vector<AuditEvent> events, Timestamp now);
  // Signs the chain head into the checkpoint file (and syslog) if entries other than checkpoint
  // records were added since the newest checkpoint, then appends a record of it to the chain
  // (crypto::kCheckpointRecordAction). Returns the seq checkpointed, or nullopt when there was
  // nothing new.
  Result<std::optional<std::int64_t>> checkpoint(Timestamp now);
  // Checks the whole chain against every checkpoint of the checkpoint file and of `witnesses`,
  // trusting every signing key of the keyring. Every checkpoint the chain records must be in one
  // of them.
  Result<AuditVerification> verify(const std::vector<AuditWitness>& witnesses = {});
  // The checkpoint file's newest checkpoint against the chain.
  Result<CheckpointStatus> checkpoint_status();
  // Entries at or after `since` as JSON Lines; returns how many.
  // Only the entries whose action starts with `action_prefix` (every entry when empty).
  Result<std::int64_t> export_jsonl(std::optional<Timestamp> since, std::ostream& out,
                                    std::string_view action_prefix = {});

 private:
  Result<std::vector<crypto::AuditCheckpoint>> read_checkpoints();
  Result<void> append_record(std::int64_t seq, const std::string& key_id, Timestamp now);
  store::AuditStore& store_;
  AuditLogOptions options_;
  std::mutex checkpoint_mutex_;
  std::optional<std::int64_t> checkpointed_seq_;  // newest seq in the file; guarded by checkpoint_mutex_
};

// Refused authentications, counted per (reason, source address) between flushes, so that a flood
// of bad tokens costs one audit entry per reason and source per interval, not one per request.
// Bounded: beyond kMaxKeys distinct pairs, further ones are counted under source "other".
class AuthFailureTally {
 public:
  void note(std::string_view reason, std::string_view source);
  // The counts since the last drain, as "auth.failed" events; resets.
  std::vector<AuditEvent> drain();

 private:
  static constexpr std::size_t kMaxKeys = 10000;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::int64_t> counts_;  // guarded by mutex_
};

// The actor for commands run from the shell: "cli:<login name>".
std::string cli_actor();

}  // namespace herald::security
