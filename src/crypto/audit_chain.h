#pragma once
// The tamper-evident audit chain (SC-32): the byte format of one audit entry and its hash, the
// signed checkpoints of the chain head, their one-line text form, the SIEM export, and a
// streaming verifier. Pure logic: no SQL, no files, no clock (times are parameters). The format
// is written down in docs/formats/audit.md; change it only with a new version prefix.
//
// Each entry's hash covers its fields and the previous entry's hash, so editing, deleting or
// reordering a stored entry breaks the chain. Someone who can write the table can still
// recompute every later hash; periodic checkpoints, Ed25519 signatures over (seq, hash) kept in
// a separate append-only file, pin the chain so that such a rewrite is detected too.
//
// Entries hold ids, never personal data (personal values are stored as keyed HMACs by the
// caller). All functions are thread-safe; AuditVerifier is thread-compatible (one thread).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/secret.h"

namespace herald::crypto {

inline constexpr std::size_t kAuditHashBytes = 32;

// One audit record. Plain data: the caller fills the first seven fields, chain_entry the last
// two.
struct AuditEntry {
  std::int64_t seq = 0;  // 1, 2, 3 ... contiguous
  Timestamp at;
  std::string actor;   // "cli:root", "api-key:<uuid>", "system:retention", ...
  std::string action;  // "api_key.created", "auth.failed", "keys.rotated", ...
  std::vector<std::pair<std::string, std::string>>
      objects;            // ("service_id", uuid), ("count", "12"): ids, never personal data
  std::string outcome;    // "success" / "failure" / "denied"
  std::string source;     // source address or "local"
  std::string prev_hash;  // 32 raw bytes; 32 zero bytes for seq 1
  std::string hash;       // 32 raw bytes
};

// SHA-256 over the entry's unambiguous encoding (docs/formats/audit.md): the prefix
// "herald.audit.v1", then seq, time in microseconds, actor, action, the number of objects, each
// object's key and value, outcome, source and prev_hash, every one length-prefixed. `hash`
// itself is not covered. 32 raw bytes.
std::string audit_entry_hash(const AuditEntry& e);

// Sets e.prev_hash to `prev_hash` (the previous entry's hash, or empty for seq 1, meaning 32
// zero bytes) and e.hash to audit_entry_hash(e).
void chain_entry(AuditEntry& e, std::string_view prev_hash);

// Appending to a stored chain, the part every store backend shares: numbers `entries` on from
// the chain's head (the stored entry with the highest seq: `head_seq` and `head_hash`; 0 and
// empty for an empty log) and chains each to the one before it, the first to the head. The
// backend reads the head and stores the entries under its write lock. kDataLoss, with
// `entries` unchanged, if the head is malformed (seq below 0, or a hash not 32 bytes).
Result<void> chain_entries(std::vector<AuditEntry>& entries, std::int64_t head_seq, std::string_view head_hash);

// A signed statement "the chain's entry `seq` has hash `hash`", made at `at` with key `key_id`.
struct AuditCheckpoint {
  std::int64_t seq = 0;
  std::string hash;  // 32 raw bytes
  Timestamp at;
  std::string key_id;     // 1 to 64 characters from [A-Za-z0-9._:-]
  std::string signature;  // 64 raw bytes, Ed25519 over audit_checkpoint_message(...)
};

// The exact bytes an Ed25519 checkpoint signature covers: the prefix
// "herald.audit.checkpoint.v1", then seq, hash, time in microseconds and key id, each
// length-prefixed like an entry's fields.
std::string audit_checkpoint_message(std::int64_t seq, std::string_view hash, Timestamp at,
                                     std::string_view key_id);

// Signs a checkpoint. kInvalidArgument if seq < 1, the hash is not 32 bytes, the key id is not
// of the form above, or the seed is not an Ed25519 seed.
Result<AuditCheckpoint> sign_checkpoint(std::int64_t seq, std::string_view hash, Timestamp at,
                                        std::string_view key_id, const SecretBytes& seed);

// True when `c.signature` is a valid signature of `c` under `public_key`.
bool checkpoint_signature_valid(const AuditCheckpoint& c, std::string_view public_key);

// One line of the append-only checkpoint file, without the newline:
// {"v":1,"seq":30,"hash":"<64
// hex>","at":"2026-11-22T21:59:09.123456Z","key_id":"...","signature":"<base64>"}
std::string checkpoint_line(const AuditCheckpoint& c);

// Parses one line of the checkpoint file, strictly: exactly the members above, each once, in
// canonical form (lowercase hex, padded base64, the timestamp format above), no newline. It
// does not check the signature (AuditVerifier does). A malformed line is kDataLoss whose
// message names `line_number` (1-based; 0 when unknown) and the member at fault, never the
// line's content.
Result<AuditCheckpoint> parse_checkpoint_line(std::string_view line, std::size_t line_number = 0);

// One JSON Lines record for a SIEM, without the newline: {"seq":7,"time":"<ISO-8601 UTC, µs>",
// "actor":..,"action":..,"objects":{"key":"value",..},"outcome":..,"source":..,
// "prev_hash":"<hex>","hash":"<hex>"}.
std::string audit_entry_json(const AuditEntry& e);

// A key the verifier accepts checkpoints from: its id (as written in the checkpoint) and its
// 32-byte Ed25519 public key. Several may be trusted at once, across a signing key rotation.
struct AuditTrustedKey {
  std::string key_id;
  std::string public_key;
};

enum class AuditProblem {
  kNone,
  kAlteredEntry,           // an entry's contents do not match its own hash
  kMissingEntry,           // a seq gap, or an entry that does not chain to the one before it
  kReorderedEntries,       // seq goes backwards or repeats, or a "missing" entry turns up later
  kTruncatedTail,          // a checkpoint names a seq beyond the end of the log
  kForgedCheckpoint,       // a checkpoint with a bad signature, or malformed
  kUnknownSigningKey,      // a checkpoint whose key id is not trusted
  kCheckpointsOutOfOrder,  // checkpoint seqs go backwards in the file
  kCheckpointMismatch,     // a validly signed checkpoint disagrees with the log (rewritten chain)
  kMissingCheckpoint,      // the chain records a checkpoint that no witness holds (deleted)
  kUnsignedEntries,        // entries after the newest checkpoint span longer than signing allows
};
const char* audit_problem_name(AuditProblem problem);

struct AuditReport {
  bool ok = true;
  std::int64_t entries = 0;      // entries given, counted even after a problem
  std::int64_t checkpoints = 0;  // checkpoints given, counted even after a problem
  // The lowest seq that can no longer be trusted (for a rewritten chain: the entry after the
  // newest checkpoint that still matched). For entries out of order, the position (1-based)
  // where the order first breaks, which is also the seq expected there.
  std::optional<std::int64_t> first_bad_seq;
  AuditProblem kind = AuditProblem::kNone;
  std::string problem;                     // one human sentence naming what is wrong; empty when ok
  std::int64_t newest_checkpoint_seq = 0;  // 0: no checkpoint
  // Entries after the newest checkpoint, not counting checkpoint records: chained but not yet
  // signed, so their removal from the end of the log could not be detected.
  std::int64_t uncovered_entries = 0;
  // Checkpoint records (kCheckpointRecordAction) met in the chain, each matched to a checkpoint.
  std::int64_t checkpoint_records = 0;
};

// The action of the entry the audit log appends after each checkpoint it signs: the chain's own
// record that a checkpoint at object "seq" was written (by object "node", under "key_id").
// Verification needs a witness holding every recorded checkpoint, so deleting the checkpoint
// file cannot pass for a log that never had checkpoints (docs/formats/audit.md).
inline constexpr std::string_view kCheckpointRecordAction = "audit.checkpointed";

struct AuditVerifyOptions {
  // Entries after the newest checkpoint (records aside) whose times span longer than this fail
  // as kUnsignedEntries: a process signs every interval, so a longer unsigned tail means lost
  // checkpoints. nullopt: no limit.
  std::optional<Duration> max_unsigned_span;
};

// One line for the operator: "ok: ..." or "FAILED: <problem>".
std::string audit_report_summary(const AuditReport& report);

// Streaming verifier. Memory is O(number of checkpoints), independent of the number of
// entries: checkpoints are given FIRST (they are few: one per signing interval), then entries
// in seq order, each entry checked against the checkpoint at its seq as it passes.
//
//   AuditVerifier verifier({{"audit-1", public_key}});
//   for (each witness w, each line in its file order) verifier.add_checkpoint(*parsed, w);
//   for (each row of SELECT ... ORDER BY seq) verifier.add_entry(entry);
//   AuditReport report = verifier.finish();
//
// Entries and checkpoints are each checked until their first problem; the report names the
// problem with the lowest first_bad_seq. Counting continues regardless.
class AuditVerifier {
 public:
  explicit AuditVerifier(std::vector<AuditTrustedKey> trusted_keys, AuditVerifyOptions options = {});

  // All checkpoints must be added before the first entry (HERALD_CHECK: a caller bug). Several
  // witnesses (the checkpoint file, a syslog export) may hold copies of one checkpoint; each
  // witness's own checkpoints must come in seq order.
  void add_checkpoint(const AuditCheckpoint& c, std::size_t witness = 0);
  void add_entry(const AuditEntry& e);
  // The verdict over everything given so far. May be called more than once.
  AuditReport finish() const;

 private:
  struct Finding {
    AuditProblem kind = AuditProblem::kNone;
    std::int64_t first_bad_seq = 0;
    std::string problem;
  };
  struct Pin {
    std::int64_t seq = 0;
    std::string hash;
  };
  void check_checkpoint(const AuditCheckpoint& c, std::int64_t& witness_last_seq);
  void check_entry(const AuditEntry& e);
  void reclassify_as_reordered(const AuditEntry& e);
  void match_pin(const AuditEntry& e);
  void check_record(const AuditEntry& e);
  void note_uncovered(const AuditEntry& e);
  std::optional<Finding> unsigned_tail() const;

  std::vector<AuditTrustedKey> trusted_keys_;
  AuditVerifyOptions options_;
  std::vector<Pin> pins_;                       // valid checkpoints of every witness, seq strictly increasing
  std::vector<std::int64_t> witness_last_seq_;  // per witness, the seq of its last checkpoint
  std::size_t next_pin_ = 0;
  std::optional<Finding> checkpoint_finding_;
  std::optional<Finding> entry_finding_;

  std::int64_t entries_ = 0;
  std::int64_t checkpoints_ = 0;
  std::int64_t expected_seq_ = 1;     // seq of the next entry, while no entry problem
  std::string last_hash_;             // hash of the last good entry (zeros before the first)
  std::int64_t last_pinned_seq_ = 0;  // seq of the newest checkpoint matched so far
  std::int64_t records_ = 0;          // checkpoint records matched
  // The tail after the newest checkpoint: entries other than records, the first one's seq and
  // time, and the newest entry's time.
  std::int64_t uncovered_ = 0;
  std::int64_t first_uncovered_seq_ = 0;
  Timestamp first_uncovered_at_{};
  Timestamp last_at_{};

  // Set with a tentative kMissingEntry finding, to recognise a reorder when the "missing"
  // entry turns up later: the gap's seq range, and the hash a successor of the last good entry
  // would chain to.
  std::int64_t gap_begin_ = 0;
  std::int64_t gap_end_ = 0;  // exclusive
  std::string awaited_prev_hash_;
};

}  // namespace herald::crypto
