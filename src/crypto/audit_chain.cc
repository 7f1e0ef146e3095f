#include "crypto/audit_chain.h"

#include <algorithm>
#include <charconv>

#include "core/base64.h"
#include "core/check.h"
#include "core/hex.h"
#include "core/json.h"
#include "crypto/hmac.h"
#include "crypto/signing.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kEntryPrefix = "herald.audit.v1";
constexpr std::string_view kCheckpointPrefix = "herald.audit.checkpoint.v1";
constexpr std::size_t kMaxKeyIdBytes = 64;
constexpr std::size_t kMaxCheckpointLineBytes = 1024;

// Every field is an 8-byte big-endian length followed by its bytes; integers are fields of
// 8 bytes, big-endian two's complement. Lengths make the encoding prefix-free, so no two
// different entries encode to the same bytes.
void append_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void append_field(std::string& out, std::string_view bytes) {
  append_u64(out, bytes.size());
  out.append(bytes);
}
void append_int_field(std::string& out, std::int64_t v) {
  append_u64(out, 8);
  append_u64(out, static_cast<std::uint64_t>(v));
}

// A decimal without sign, leading zeros or anything else; nullopt otherwise.
std::optional<std::int64_t> positive_decimal(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.starts_with('0') || value < 1) {
    return std::nullopt;
  }
  return value;
}

bool valid_key_id(std::string_view key_id) {
  if (key_id.empty() || key_id.size() > kMaxKeyIdBytes) return false;
  return std::all_of(key_id.begin(), key_id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

// A key id for a message: quoted when well-formed, else not repeated (it came from a file).
std::string describe_key_id(std::string_view key_id) {
  if (!valid_key_id(key_id)) return "a malformed key id";
  return "key \"" + std::string(key_id) + "\"";
}

std::string zero_hash() { return std::string(kAuditHashBytes, '\0'); }

}  // namespace

std::string audit_entry_hash(const AuditEntry& e) {
  std::string encoded;
  encoded.reserve(256);
  append_field(encoded, kEntryPrefix);
  append_int_field(encoded, e.seq);
  append_int_field(encoded, to_micros(e.at));
  append_field(encoded, e.actor);
  append_field(encoded, e.action);
  append_int_field(encoded, static_cast<std::int64_t>(e.objects.size()));
  for (const auto& [key, value] : e.objects) {
    append_field(encoded, key);
    append_field(encoded, value);
  }
  append_field(encoded, e.outcome);
  append_field(encoded, e.source);
  append_field(encoded, e.prev_hash);
  return sha256(encoded);
}

void chain_entry(AuditEntry& e, std::string_view prev_hash) {
  HERALD_CHECK(prev_hash.empty() || prev_hash.size() == kAuditHashBytes,
               "previous audit hash must be 32 bytes");
  e.prev_hash = prev_hash.empty() ? zero_hash() : std::string(prev_hash);
  e.hash = audit_entry_hash(e);
}

Result<void> chain_entries(std::vector<AuditEntry>& entries, std::int64_t head_seq, std::string_view head_hash) {
  const bool empty_log = head_seq == 0 && head_hash.empty();
  if (!empty_log && (head_seq < 1 || head_hash.size() != kAuditHashBytes)) {
    return data_loss("the audit log's last entry is malformed (seq " + std::to_string(head_seq) + ")");
  }
  std::int64_t seq = head_seq;
  std::string prev(head_hash);
  for (AuditEntry& e : entries) {
    e.seq = ++seq;
    chain_entry(e, prev);
    prev = e.hash;
  }
  return ok();
}

std::string audit_checkpoint_message(std::int64_t seq, std::string_view hash, Timestamp at,
                                     std::string_view key_id) {
  std::string message;
  append_field(message, kCheckpointPrefix);
  append_int_field(message, seq);
  append_field(message, hash);
  append_int_field(message, to_micros(at));
  append_field(message, key_id);
  return message;
}

Result<AuditCheckpoint> sign_checkpoint(std::int64_t seq, std::string_view hash, Timestamp at,
                                        std::string_view key_id, const SecretBytes& seed) {
  if (seq < 1) return invalid_argument("checkpoint seq must be at least 1");
  if (hash.size() != kAuditHashBytes) return invalid_argument("checkpoint hash must be 32 bytes");
  if (!valid_key_id(key_id)) {
    return invalid_argument("checkpoint key id must be 1 to 64 characters of [A-Za-z0-9._:-]");
  }
  auto signature = ed25519_sign(seed, audit_checkpoint_message(seq, hash, at, key_id));
  if (!signature) return signature.error();
  return AuditCheckpoint{seq, std::string(hash), at, std::string(key_id), std::move(*signature)};
}

bool checkpoint_signature_valid(const AuditCheckpoint& c, std::string_view public_key) {
  return ed25519_verify(public_key, audit_checkpoint_message(c.seq, c.hash, c.at, c.key_id),
                        c.signature);
}

std::string checkpoint_line(const AuditCheckpoint& c) {
  json::Writer w;
  w.begin_object()
      .key("v")
      .integer(1)
      .key("seq")
      .integer(c.seq)
      .key("hash")
      .string(hex_encode(c.hash))
      .key("at")
      .string(format_timestamp(c.at))
      .key("key_id")
      .string(c.key_id)
      .key("signature")
      .string(base64_encode(c.signature))
      .end_object();
  return w.take();
}

Result<AuditCheckpoint> parse_checkpoint_line(std::string_view line, std::size_t line_number) {
  const std::string where = line_number == 0
                                ? std::string("checkpoint line")
                                : "checkpoint file line " + std::to_string(line_number);
  auto malformed = [&where](std::string_view why) {
    return data_loss(where + " is malformed: " + std::string(why));
  };
  if (line.size() > kMaxCheckpointLineBytes) return malformed("too long");
  if (line.find_first_of("\r\n") != std::string_view::npos)
    return malformed("contains a line break");
  auto parsed = json::parse(line, json::ParseLimits{4, kMaxCheckpointLineBytes});
  if (!parsed) return malformed("not JSON (" + parsed.error().message + ")");
  if (!parsed->is_object()) return malformed("not a JSON object");

  static constexpr std::string_view kMembers[] = {"v", "at", "seq", "hash", "key_id", "signature"};
  const json::Object& members = parsed->as_object();
  if (members.size() != std::size(kMembers)) return malformed("wrong number of members");
  for (const std::string_view name : kMembers) {
    const auto count = std::count_if(members.begin(), members.end(),
                                     [name](const json::Member& m) { return m.first == name; });
    if (count != 1) return malformed("member \"" + std::string(name) + "\" missing or repeated");
  }

  const json::Value& version = *parsed->find("v");
  if (!version.is_number() || version.as_string() != "1") return malformed("\"v\" is not 1");

  AuditCheckpoint c;
  const json::Value& seq = *parsed->find("seq");
  const auto seq_value = seq.is_number() ? seq.as_int64() : std::nullopt;
  if (!seq_value || *seq_value < 1 || std::to_string(*seq_value) != seq.as_string()) {
    return malformed("\"seq\" is not a positive integer");
  }
  c.seq = *seq_value;

  const json::Value& hash = *parsed->find("hash");
  auto hash_bytes = hash.is_string() ? hex_decode(hash.as_string()) : std::nullopt;
  if (!hash_bytes || hash_bytes->size() != kAuditHashBytes) {
    return malformed("\"hash\" is not 64 lowercase hex digits");
  }
  c.hash = std::move(*hash_bytes);

  const json::Value& at = *parsed->find("at");
  auto at_value = at.is_string() ? parse_timestamp(at.as_string()) : std::nullopt;
  if (!at_value || format_timestamp(*at_value) != at.as_string()) {
    return malformed("\"at\" is not a UTC timestamp with microseconds");
  }
  c.at = *at_value;

  const json::Value& key_id = *parsed->find("key_id");
  if (!key_id.is_string() || !valid_key_id(key_id.as_string())) {
    return malformed("\"key_id\" is not 1 to 64 characters of [A-Za-z0-9._:-]");
  }
  c.key_id = key_id.as_string();

  const json::Value& signature = *parsed->find("signature");
  auto signature_bytes =
      signature.is_string() ? base64_decode(signature.as_string()) : std::nullopt;
  if (!signature_bytes || signature_bytes->size() != kEd25519SignatureBytes ||
      base64_encode(*signature_bytes) != signature.as_string()) {
    return malformed("\"signature\" is not 64 bytes in padded base64");
  }
  c.signature = std::move(*signature_bytes);
  return c;
}

std::string audit_entry_json(const AuditEntry& e) {
  json::Writer w;
  w.begin_object().key("seq").integer(e.seq).key("time").string(format_timestamp(e.at));
  w.key("actor").string(e.actor).key("action").string(e.action);
  w.key("objects").begin_object();
  for (const auto& [key, value] : e.objects) w.key(key).string(value);
  w.end_object();
  w.key("outcome").string(e.outcome).key("source").string(e.source);
  w.key("prev_hash").string(hex_encode(e.prev_hash)).key("hash").string(hex_encode(e.hash));
  w.end_object();
  return w.take();
}

const char* audit_problem_name(AuditProblem problem) {
  switch (problem) {
    case AuditProblem::kNone:
      return "none";
    case AuditProblem::kAlteredEntry:
      return "altered_entry";
    case AuditProblem::kMissingEntry:
      return "missing_entry";
    case AuditProblem::kReorderedEntries:
      return "reordered_entries";
    case AuditProblem::kTruncatedTail:
      return "truncated_tail";
    case AuditProblem::kForgedCheckpoint:
      return "forged_checkpoint";
    case AuditProblem::kUnknownSigningKey:
      return "unknown_signing_key";
    case AuditProblem::kCheckpointsOutOfOrder:
      return "checkpoints_out_of_order";
    case AuditProblem::kCheckpointMismatch:
      return "checkpoint_mismatch";
    case AuditProblem::kMissingCheckpoint: return "missing_checkpoint";
    case AuditProblem::kUnsignedEntries: return "unsigned_entries";
  }
  return "unknown";
}

std::string audit_report_summary(const AuditReport& report) {
  const std::string counts = std::to_string(report.entries) + " entries, " +
                             std::to_string(report.checkpoints) + " checkpoints";
  if (!report.ok) return "FAILED: " + report.problem + " (" + counts + " read)";
  std::string out = "ok: " + counts;
  if (report.newest_checkpoint_seq > 0) {
    out += " (newest at " + std::to_string(report.newest_checkpoint_seq) + ")";
  }
  if (report.uncovered_entries > 0) {
    out += "; " + std::to_string(report.uncovered_entries) +
           " entries after the newest checkpoint are not yet signed";
  }
  return out;
}

AuditVerifier::AuditVerifier(std::vector<AuditTrustedKey> trusted_keys, AuditVerifyOptions options)
    : trusted_keys_(std::move(trusted_keys)), options_(options), last_hash_(zero_hash()) {}

void AuditVerifier::add_checkpoint(const AuditCheckpoint& c, std::size_t witness) {
  HERALD_CHECK(entries_ == 0, "AuditVerifier: checkpoints must be added before entries");
  ++checkpoints_;
  if (witness_last_seq_.size() <= witness) witness_last_seq_.resize(witness + 1, 0);
  if (!checkpoint_finding_) check_checkpoint(c, witness_last_seq_[witness]);
}

void AuditVerifier::check_checkpoint(const AuditCheckpoint& c, std::int64_t& witness_last_seq) {
  const std::string at = "checkpoint at " + std::to_string(c.seq);
  if (c.seq < 1 || c.hash.size() != kAuditHashBytes) {
    checkpoint_finding_ = Finding{AuditProblem::kForgedCheckpoint, std::max<std::int64_t>(c.seq, 1),
                                  "checkpoint number " + std::to_string(checkpoints_) +
                                      " in the file is malformed (bad seq or hash size)"};
    return;
  }
  const auto key = std::find_if(trusted_keys_.begin(), trusted_keys_.end(),
                                [&c](const AuditTrustedKey& k) { return k.key_id == c.key_id; });
  if (key == trusted_keys_.end()) {
    checkpoint_finding_ = Finding{AuditProblem::kUnknownSigningKey, c.seq,
                                  at + " is signed by unknown " + describe_key_id(c.key_id)};
    return;
  }
  if (!checkpoint_signature_valid(c, key->public_key)) {
    checkpoint_finding_ = Finding{AuditProblem::kForgedCheckpoint, c.seq,
                                  at + " has an invalid signature under " +
                                      describe_key_id(c.key_id) + ": it is forged or was altered"};
    return;
  }
  if (c.seq < witness_last_seq) {
    checkpoint_finding_ = Finding{AuditProblem::kCheckpointsOutOfOrder, c.seq,
                                  "checkpoints are out of order: " + at + " (number " + std::to_string(checkpoints_) +
                                      " given) comes after checkpoint at " + std::to_string(witness_last_seq)};
    return;
  }
  witness_last_seq = c.seq;
  const auto pin =
      std::lower_bound(pins_.begin(), pins_.end(), c.seq, [](const Pin& p, std::int64_t seq) { return p.seq < seq; });
  if (pin != pins_.end() && pin->seq == c.seq) {
    // The head re-signed while no entry was added, or another witness's copy: harmless if it
    // names the same hash.
    if (c.hash != pin->hash) {
      checkpoint_finding_ = Finding{AuditProblem::kCheckpointMismatch, c.seq,
                                    "two signed checkpoints at " + std::to_string(c.seq) +
                                        " name different hashes: the chain was forked"};
    }
    return;
  }
  pins_.insert(pin, Pin{c.seq, c.hash});
}

void AuditVerifier::add_entry(const AuditEntry& e) {
  ++entries_;
  if (!entry_finding_) {
    check_entry(e);
  } else if (entry_finding_->kind == AuditProblem::kMissingEntry) {
    reclassify_as_reordered(e);
  }
}

void AuditVerifier::check_entry(const AuditEntry& e) {
  const std::string seq = std::to_string(e.seq);
  const std::string expected = std::to_string(expected_seq_);
  if (e.seq < expected_seq_) {
    entry_finding_ = Finding{AuditProblem::kReorderedEntries, entries_,
                             "entries are out of order at position " + std::to_string(entries_) +
                                 ": entry " + seq + " comes after entry " +
                                 std::to_string(expected_seq_ - 1) + " (moved or repeated)"};
    return;
  }
  if (e.seq > expected_seq_) {
    const bool one = e.seq == expected_seq_ + 1;
    entry_finding_ =
        Finding{AuditProblem::kMissingEntry, expected_seq_,
                one ? "entry " + expected + " is missing"
                    : "entries " + expected + " to " + std::to_string(e.seq - 1) + " are missing"};
    gap_begin_ = expected_seq_;
    gap_end_ = e.seq;
    awaited_prev_hash_ = last_hash_;
    return;
  }
  if (audit_entry_hash(e) != e.hash) {
    entry_finding_ = Finding{AuditProblem::kAlteredEntry, e.seq,
                             "entry " + seq + " was altered: its contents do not match its hash"};
    return;
  }
  if (e.prev_hash != last_hash_) {
    entry_finding_ =
        Finding{AuditProblem::kMissingEntry, e.seq,
                "entry " + seq + " is missing or was replaced: the entry numbered " + seq +
                    (e.seq == 1 ? " does not start the chain"
                                : " does not chain to entry " + std::to_string(e.seq - 1)) +
                    " (prev_hash differs)"};
    gap_begin_ = gap_end_ = e.seq;
    awaited_prev_hash_ = last_hash_;
    return;
  }
  last_hash_ = e.hash;
  ++expected_seq_;
  match_pin(e);
  if (!entry_finding_ && e.action == kCheckpointRecordAction) check_record(e);
  if (!entry_finding_) note_uncovered(e);
}

// A record names the checkpoint its process signed just before appending it. With no witness
// holding that checkpoint, the checkpoint was deleted (or its witness was not given): every
// entry since the previous checkpoint still held loses its pin.
void AuditVerifier::check_record(const AuditEntry& e) {
  std::optional<std::int64_t> seq;
  std::string node = "an unnamed node";
  for (const auto& [key, value] : e.objects) {
    if (key == "seq") seq = positive_decimal(value);
    if (key == "node") node = "node " + value;
  }
  if (seq && (*seq < 1 || *seq >= e.seq)) seq.reset();
  const auto pin = std::lower_bound(pins_.begin(), pins_.end(), seq.value_or(e.seq),
                                    [](const Pin& p, std::int64_t s) { return p.seq < s; });
  if (seq && pin != pins_.end() && pin->seq == *seq) {
    ++records_;
    return;
  }
  const std::string at = seq ? std::to_string(*seq) : std::string("an unreadable seq");
  const std::int64_t first_unpinned = pin == pins_.begin() ? 1 : std::prev(pin)->seq + 1;
  entry_finding_ =
      Finding{AuditProblem::kMissingCheckpoint, first_unpinned,
              "entry " + std::to_string(e.seq) + " records a checkpoint at " + at + " signed by " + node +
                  " that no witness checked holds: the checkpoint was deleted (or is in a witness not given, "
                  "such as another node's checkpoint file), so entries " +
                  std::to_string(first_unpinned) + " onwards are not pinned"};
}

void AuditVerifier::note_uncovered(const AuditEntry& e) {
  last_at_ = e.at;
  if (!pins_.empty() && e.seq <= pins_.back().seq) return;
  if (e.action == kCheckpointRecordAction) return;
  if (uncovered_++ == 0) {
    first_uncovered_seq_ = e.seq;
    first_uncovered_at_ = e.at;
  }
}

// Entries after the newest checkpoint whose times span more than a signing interval allows:
// checkpoints that covered them were lost (or signing has been failing).
std::optional<AuditVerifier::Finding> AuditVerifier::unsigned_tail() const {
  if (!options_.max_unsigned_span || uncovered_ == 0) return std::nullopt;
  const Duration span = last_at_ - first_uncovered_at_;
  if (span <= *options_.max_unsigned_span) return std::nullopt;
  const auto minutes = [](Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(d).count()) + " min";
  };
  return Finding{AuditProblem::kUnsignedEntries, first_uncovered_seq_,
                 std::to_string(uncovered_) + " entries from " + std::to_string(first_uncovered_seq_) +
                     " on were never signed, over " + minutes(span) + " of entry times (signing allows " +
                     minutes(*options_.max_unsigned_span) +
                     "): checkpoints covering them were deleted or signing failed"};
}

void AuditVerifier::match_pin(const AuditEntry& e) {
  if (next_pin_ == pins_.size() || pins_[next_pin_].seq != e.seq) return;
  if (pins_[next_pin_].hash != e.hash) {
    const std::int64_t first_untrusted = last_pinned_seq_ + 1;
    entry_finding_ =
        Finding{AuditProblem::kCheckpointMismatch, first_untrusted,
                "entry " + std::to_string(e.seq) + " does not match the signed checkpoint at " +
                    std::to_string(e.seq) + ": the chain was rewritten (one or more of entries " +
                    std::to_string(first_untrusted) + " to " + std::to_string(e.seq) +
                    " were altered, removed or inserted and later hashes recomputed)"};
    return;
  }
  last_pinned_seq_ = e.seq;
  ++next_pin_;
}

// A tentative "missing" finding becomes "reordered" when the entry thought missing, or the one
// that chains to the last good entry, turns up later in the stream.
void AuditVerifier::reclassify_as_reordered(const AuditEntry& e) {
  const bool in_gap = e.seq >= gap_begin_ && e.seq < gap_end_;
  const bool chains_to_last_good = e.prev_hash == awaited_prev_hash_;
  if (!in_gap && !chains_to_last_good) return;
  entry_finding_->kind = AuditProblem::kReorderedEntries;
  entry_finding_->problem = "entries are out of order from position " + std::to_string(gap_begin_) +
                            ": entry " + std::to_string(e.seq) + ", which belongs at position " +
                            std::to_string(gap_begin_) + ", appears at position " +
                            std::to_string(entries_);
}

AuditReport AuditVerifier::finish() const {
  AuditReport report;
  report.entries = entries_;
  report.checkpoints = checkpoints_;
  report.newest_checkpoint_seq = pins_.empty() ? 0 : pins_.back().seq;
  const std::int64_t last_seq = expected_seq_ - 1;

  std::optional<Finding> entry_side = entry_finding_;
  if (!entry_side && next_pin_ < pins_.size()) {
    const std::string newest = std::to_string(pins_.back().seq);
    entry_side =
        Finding{AuditProblem::kTruncatedTail, last_seq + 1,
                (last_seq == 0 ? std::string("all entries are missing: the log is empty but")
                               : "entries after " + std::to_string(last_seq) + " are missing:") +
                    " checkpoint at " + newest + " was signed over entries up to " + newest};
  }
  if (!entry_side) entry_side = unsigned_tail();
  const Finding* chosen = nullptr;
  if (entry_side) chosen = &*entry_side;
  if (checkpoint_finding_ &&
      (chosen == nullptr || checkpoint_finding_->first_bad_seq < chosen->first_bad_seq)) {
    chosen = &*checkpoint_finding_;
  }
  if (chosen == nullptr) {
    report.uncovered_entries = uncovered_;
    report.checkpoint_records = records_;
    return report;
  }
  report.ok = false;
  report.kind = chosen->kind;
  report.first_bad_seq = chosen->first_bad_seq;
  report.problem = chosen->problem;
  return report;
}

}  // namespace herald::crypto
