#include "crypto/audit_chain.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "core/hex.h"
#include "core/json.h"
#include "crypto/signing.h"

namespace herald::crypto {
namespace {

std::string from_hex(std::string_view hex) { return hex_decode(hex).value(); }

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// RFC 8032 TEST 1's seed: a fixed key makes the known-answer checkpoint below reproducible.
const char* kSeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::int64_t kStart = 1'800'000'000'000'000;  // 2027-01-15T08:00:00Z, in µs

AuditEntry make_entry(std::int64_t seq) {
  static const char* actions[] = {"api_key.created", "auth.failed", "keys.rotated",
                                  "retention.run"};
  AuditEntry e;
  e.seq = seq;
  e.at = from_micros(kStart + seq * 1'000'000);
  e.actor = seq % 3 == 0 ? "system:retention" : "api-key:" + std::to_string(1000 + seq);
  e.action = actions[seq % 4];
  e.objects = {{"service_id", "6f1c8a52-3d2e-4b7a-9c1d-" + std::to_string(100000000000 + seq)},
               {"count", std::to_string(seq * 7)}};
  e.outcome = seq % 5 == 0 ? "denied" : "success";
  e.source = seq % 2 == 0 ? "192.0.2." + std::to_string(seq) : "local";
  return e;
}

// Rechains entries [from, end) after an edit, as an attacker with write access to the table
// (but not the signing key) would.
void rechain_from(std::vector<AuditEntry>& entries, std::size_t from) {
  for (std::size_t i = from; i < entries.size(); ++i) {
    chain_entry(entries[i], i == 0 ? std::string_view() : std::string_view(entries[i - 1].hash));
  }
}

class AuditChainTest : public ::testing::Test {
 protected:
  AuditChainTest() : seed_(from_hex(kSeedHex)), public_key_(*ed25519_public_key(seed_)) {
    for (std::int64_t seq = 1; seq <= 50; ++seq) entries_.push_back(make_entry(seq));
    rechain_from(entries_, 0);
    for (std::int64_t seq : {10, 20, 30, 40}) checkpoints_.push_back(checkpoint_at(seq));
  }

  AuditCheckpoint checkpoint_at(std::int64_t seq, std::string_view key_id = "audit-1") const {
    const AuditEntry& e = entries_[static_cast<std::size_t>(seq - 1)];
    auto c = sign_checkpoint(seq, e.hash, e.at + std::chrono::seconds(1), key_id, seed_);
    EXPECT_TRUE(c);
    return *c;
  }

  AuditReport verify() const { return verify(entries_, checkpoints_); }
  AuditReport verify(const std::vector<AuditEntry>& entries,
                     const std::vector<AuditCheckpoint>& checkpoints) const {
    AuditVerifier verifier({{"audit-0", std::string(32, 'x')}, {"audit-1", public_key_}});
    for (const auto& c : checkpoints) verifier.add_checkpoint(c);
    for (const auto& e : entries) verifier.add_entry(e);
    return verifier.finish();
  }

  std::vector<AuditEntry> without(std::int64_t first, std::int64_t last) const {
    std::vector<AuditEntry> out;
    for (const auto& e : entries_) {
      if (e.seq < first || e.seq > last) out.push_back(e);
    }
    return out;
  }

  SecretBytes seed_;
  std::string public_key_;
  std::vector<AuditEntry> entries_;
  std::vector<AuditCheckpoint> checkpoints_;
};

void expect_failure(const AuditReport& report, AuditProblem kind, std::int64_t first_bad_seq,
                    std::string_view phrase) {
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(audit_problem_name(report.kind), std::string(audit_problem_name(kind)));
  EXPECT_EQ(report.first_bad_seq, first_bad_seq);
  EXPECT_TRUE(contains(report.problem, phrase)) << report.problem;
  EXPECT_TRUE(contains(audit_report_summary(report), "FAILED")) << audit_report_summary(report);
}

TEST_F(AuditChainTest, IntactChainVerifiesAndCountsTheUncoveredTail) {
  const AuditReport report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.kind, AuditProblem::kNone);
  EXPECT_EQ(report.entries, 50);
  EXPECT_EQ(report.checkpoints, 4);
  EXPECT_FALSE(report.first_bad_seq.has_value());
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.newest_checkpoint_seq, 40);
  EXPECT_EQ(report.uncovered_entries, 10);
  EXPECT_EQ(audit_report_summary(report),
            "ok: 50 entries, 4 checkpoints (newest at 40); 10 entries after the newest "
            "checkpoint are not yet signed");
  EXPECT_EQ(entries_[0].prev_hash, std::string(32, '\0'));
  EXPECT_EQ(entries_[1].prev_hash, entries_[0].hash);
}

TEST_F(AuditChainTest, EmptyLogWithoutCheckpointsIsOkAndUncheckpointedLogIsAllUncovered) {
  const AuditReport empty = verify({}, {});
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.entries, 0);
  EXPECT_EQ(empty.uncovered_entries, 0);
  const AuditReport unsigned_log = verify(entries_, {});
  EXPECT_TRUE(unsigned_log.ok) << unsigned_log.problem;
  EXPECT_EQ(unsigned_log.uncovered_entries, 50);
}

// (a) Every field is covered by the hash: an edit to any of them is reported at its seq.
TEST_F(AuditChainTest, EditedEntryIsReportedAsAltered) {
  const std::vector<std::pair<std::string, std::function<void(AuditEntry&)>>> edits = {
      {"at", [](AuditEntry& e) { e.at += Duration(1); }},
      {"actor", [](AuditEntry& e) { e.actor = "cli:root"; }},
      {"action", [](AuditEntry& e) { e.action = "auth.succeeded"; }},
      {"object value", [](AuditEntry& e) { e.objects[1].second = "13"; }},
      {"object key", [](AuditEntry& e) { e.objects[1].first = "total"; }},
      {"object removed", [](AuditEntry& e) { e.objects.pop_back(); }},
      {"objects reordered", [](AuditEntry& e) { std::swap(e.objects[0], e.objects[1]); }},
      {"outcome", [](AuditEntry& e) { e.outcome = "failure"; }},
      {"source", [](AuditEntry& e) { e.source = "local "; }},
      {"prev_hash", [](AuditEntry& e) { e.prev_hash[0] = static_cast<char>(e.prev_hash[0] ^ 1); }},
  };
  for (const auto& [name, edit] : edits) {
    SCOPED_TRACE(name);
    auto entries = entries_;
    edit(entries[6]);
    expect_failure(verify(entries, checkpoints_), AuditProblem::kAlteredEntry, 7,
                   "entry 7 was altered");
  }
  // seq is covered too: with entry 7 deleted, entry 8 renumbered to 7 keeps the seqs
  // contiguous and the link intact, but not its hash.
  auto renumbered = without(7, 7);
  renumbered[6].seq = 7;
  expect_failure(verify(renumbered, checkpoints_), AuditProblem::kAlteredEntry, 7,
                 "entry 7 was altered");
}

// (b) A deleted entry leaves a seq gap.
TEST_F(AuditChainTest, DeletedEntryIsReportedAsMissing) {
  expect_failure(verify(without(7, 7), checkpoints_), AuditProblem::kMissingEntry, 7,
                 "entry 7 is missing");
  expect_failure(verify(without(7, 9), checkpoints_), AuditProblem::kMissingEntry, 7,
                 "entries 7 to 9 are missing");
  expect_failure(verify(without(1, 1), checkpoints_), AuditProblem::kMissingEntry, 1,
                 "entry 1 is missing");
}

// (b) A deleted entry hidden by renumbering the rest (each entry's own hash recomputed, the
// links left alone) is caught by the prev_hash link.
TEST_F(AuditChainTest, DeletedAndRenumberedEntryIsReportedAsMissing) {
  auto entries = without(7, 7);
  for (std::size_t i = 6; i < entries.size(); ++i) {
    entries[i].seq -= 1;
    entries[i].hash = audit_entry_hash(entries[i]);
  }
  expect_failure(verify(entries, {}), AuditProblem::kMissingEntry, 7,
                 "entry 7 is missing or was replaced");
}

// (c) Entries out of order: the first position where the order breaks is named.
TEST_F(AuditChainTest, SwappedEntriesAreReportedAsReordered) {
  auto swapped = entries_;
  std::swap(swapped[6], swapped[7]);  // 1..6, 8, 7, 9..
  const AuditReport report = verify(swapped, checkpoints_);
  expect_failure(report, AuditProblem::kReorderedEntries, 7, "out of order from position 7");
  EXPECT_TRUE(contains(report.problem, "entry 7")) << report.problem;

  auto moved = entries_;
  std::rotate(moved.begin() + 2, moved.begin() + 3, moved.end());  // entry 3 moved to the end
  expect_failure(verify(moved, checkpoints_), AuditProblem::kReorderedEntries, 3,
                 "out of order from position 3");

  auto repeated = entries_;
  repeated.insert(repeated.begin() + 8, repeated[4]);  // 1..8, 5, 9..
  expect_failure(verify(repeated, checkpoints_), AuditProblem::kReorderedEntries, 9,
                 "out of order at position 9: entry 5 comes after entry 8");
}

// (c) Swapped contents with their seqs renumbered and own hashes recomputed (links left alone):
// the prev_hash chain shows the entry that follows 6 arrived one place late.
TEST_F(AuditChainTest, SwappedAndRenumberedEntriesAreReportedAsReordered) {
  auto entries = entries_;
  std::swap(entries[6], entries[7]);
  entries[6].seq = 7;
  entries[7].seq = 8;
  entries[6].hash = audit_entry_hash(entries[6]);
  entries[7].hash = audit_entry_hash(entries[7]);
  expect_failure(verify(entries, {}), AuditProblem::kReorderedEntries, 7,
                 "out of order from position 7");
}

// (d) A truncated tail is caught by the newest checkpoint...
TEST_F(AuditChainTest, TruncatedTailIsReportedAgainstTheNewestCheckpoint) {
  expect_failure(verify(without(36, 50), checkpoints_), AuditProblem::kTruncatedTail, 36,
                 "entries after 35 are missing: checkpoint at 40");
  expect_failure(verify({}, checkpoints_), AuditProblem::kTruncatedTail, 1,
                 "all entries are missing");
  // ... but entries after the newest checkpoint can be dropped unseen (docs/formats/audit.md).
  const AuditReport tail_dropped = verify(without(46, 50), checkpoints_);
  EXPECT_TRUE(tail_dropped.ok) << tail_dropped.problem;
  EXPECT_EQ(tail_dropped.uncovered_entries, 5);
}

// (e) A checkpoint whose signature does not verify, for any reason.
TEST_F(AuditChainTest, ForgedCheckpointIsReported) {
  auto flipped = checkpoints_;
  flipped[1].signature[5] = static_cast<char>(flipped[1].signature[5] ^ 0x20);
  expect_failure(verify(entries_, flipped), AuditProblem::kForgedCheckpoint, 20,
                 "checkpoint at 20 has an invalid signature");

  // Pointing a genuine signature at a rewritten head.
  auto moved_hash = checkpoints_;
  moved_hash[2].hash = std::string(32, '\x42');
  expect_failure(verify(entries_, moved_hash), AuditProblem::kForgedCheckpoint, 30,
                 "checkpoint at 30 has an invalid signature");

  // Claiming the trusted key id with a key the verifier does not trust.
  auto other_seed = generate_ed25519_seed();
  ASSERT_TRUE(other_seed);
  auto impostor = checkpoints_;
  impostor[3] = *sign_checkpoint(40, entries_[39].hash, entries_[39].at, "audit-1", *other_seed);
  expect_failure(verify(entries_, impostor), AuditProblem::kForgedCheckpoint, 40,
                 "checkpoint at 40 has an invalid signature under key \"audit-1\"");
}

TEST_F(AuditChainTest, CheckpointByUnknownKeyIsReported) {
  auto other_seed = generate_ed25519_seed();
  ASSERT_TRUE(other_seed);
  auto checkpoints = checkpoints_;
  checkpoints[2] = *sign_checkpoint(30, entries_[29].hash, entries_[29].at, "audit-9", *other_seed);
  expect_failure(verify(entries_, checkpoints), AuditProblem::kUnknownSigningKey, 30,
                 "checkpoint at 30 is signed by unknown key \"audit-9\"");
}

// (e) The attack the checkpoints exist for: rewrite entry 25 and recompute every later hash,
// so the chain is self-consistent. The signed checkpoint at 30 still names the old hash.
TEST_F(AuditChainTest, RewrittenAndRechainedLogIsCaughtByCheckpoint) {
  auto entries = entries_;
  entries[24].outcome = "success";  // hide a denial
  entries[24].actor = "cli:root";
  rechain_from(entries, 24);
  ASSERT_NE(entries[29].hash, entries_[29].hash);
  EXPECT_TRUE(verify(entries, {}).ok) << "without checkpoints the rewrite is invisible";

  const AuditReport report = verify(entries, checkpoints_);
  expect_failure(report, AuditProblem::kCheckpointMismatch, 21,
                 "entry 30 does not match the signed checkpoint at 30");
  EXPECT_TRUE(contains(report.problem, "entries 21 to 30")) << report.problem;

  // The same attack after the newest checkpoint is not detectable (docs/formats/audit.md).
  auto late = entries_;
  late[44].outcome = "success";
  rechain_from(late, 44);
  ASSERT_NE(late[49].hash, entries_[49].hash);
  EXPECT_TRUE(verify(late, checkpoints_).ok);
}

TEST_F(AuditChainTest, CheckpointsOutOfOrderInTheFileAreReported) {
  auto checkpoints = checkpoints_;
  std::swap(checkpoints[1], checkpoints[2]);  // 10, 30, 20, 40
  expect_failure(verify(entries_, checkpoints), AuditProblem::kCheckpointsOutOfOrder, 20,
                 "checkpoints are out of order: checkpoint at 20");
}

TEST_F(AuditChainTest, RepeatedCheckpointIsFineButConflictingOnesAreNot) {
  auto repeated = checkpoints_;
  repeated.insert(repeated.begin() + 2, checkpoint_at(20));  // the head re-signed, no new entries
  const AuditReport ok = verify(entries_, repeated);
  EXPECT_TRUE(ok.ok) << ok.problem;
  EXPECT_EQ(ok.checkpoints, 5);

  auto forked = checkpoints_;
  forked.insert(forked.begin() + 2, *sign_checkpoint(20, std::string(32, '\x07'),
                                                     from_micros(kStart), "audit-1", seed_));
  expect_failure(verify(entries_, forked), AuditProblem::kCheckpointMismatch, 20,
                 "two signed checkpoints at 20");
}

TEST_F(AuditChainTest, TheLowestBadSeqIsReportedAndCountingContinues) {
  auto entries = entries_;
  entries[6].action = "nothing.happened";
  auto checkpoints = checkpoints_;
  checkpoints[2].signature[0] = static_cast<char>(checkpoints[2].signature[0] ^ 1);
  const AuditReport report = verify(entries, checkpoints);
  expect_failure(report, AuditProblem::kAlteredEntry, 7, "entry 7 was altered");
  EXPECT_EQ(report.entries, 50);
  EXPECT_EQ(report.checkpoints, 4);

  // A forged checkpoint below the first bad entry wins.
  auto late_entries = entries_;
  late_entries[44].action = "nothing.happened";
  const AuditReport forged_first = verify(late_entries, checkpoints);
  expect_failure(forged_first, AuditProblem::kForgedCheckpoint, 30, "checkpoint at 30");
}

TEST_F(AuditChainTest, CheckpointsAfterEntriesAreACallerBug) {
  AuditVerifier verifier({{"audit-1", public_key_}});
  verifier.add_entry(entries_[0]);
  EXPECT_DEATH(verifier.add_checkpoint(checkpoints_[0]), "checkpoints must be added before");
}

// The chain as AuditLog writes it: after each checkpoint (10, 20, 30, 40) the next entry records
// it, so that deleting checkpoints cannot pass for a log that never had any.
class AuditRecordTest : public AuditChainTest {
 protected:
  AuditRecordTest() {
    recorded_ = entries_;
    for (std::int64_t seq : {10, 20, 30, 40}) recorded_[static_cast<std::size_t>(seq)] = record_of(seq + 1, seq);
    rechain_from(recorded_, 0);
    for (std::int64_t seq : {10, 20, 30, 40}) signed_.push_back(sign_over(recorded_, seq));
  }

  static AuditEntry record_of(std::int64_t seq, std::int64_t checkpoint_seq) {
    AuditEntry e = make_entry(seq);
    e.actor = "system:audit";
    e.action = std::string(kCheckpointRecordAction);
    e.objects = {{"seq", std::to_string(checkpoint_seq)},
                 {"key_id", "audit-1"},
                 {"node", "host-a:/srv/herald/audit-checkpoints"}};
    return e;
  }

  AuditCheckpoint sign_over(const std::vector<AuditEntry>& entries, std::int64_t seq) const {
    const AuditEntry& e = entries[static_cast<std::size_t>(seq - 1)];
    return *sign_checkpoint(seq, e.hash, e.at, "audit-1", seed_);
  }

  // Each inner list is one witness (the checkpoint file, a syslog export, ...).
  AuditReport verify_witnessed(const std::vector<AuditEntry>& entries,
                               const std::vector<std::vector<AuditCheckpoint>>& witnesses,
                               AuditVerifyOptions options = {}) const {
    AuditVerifier verifier({{"audit-1", public_key_}}, options);
    for (std::size_t w = 0; w < witnesses.size(); ++w) {
      for (const auto& c : witnesses[w]) verifier.add_checkpoint(c, w);
    }
    for (const auto& e : entries) verifier.add_entry(e);
    return verifier.finish();
  }

  std::vector<AuditEntry> recorded_;
  std::vector<AuditCheckpoint> signed_;
};

TEST_F(AuditRecordTest, RecordsMatchedToTheirCheckpointsVerifyAndAreNotCountedAsUnsigned) {
  const AuditReport report = verify_witnessed(recorded_, {signed_});
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoint_records, 4);
  EXPECT_EQ(report.uncovered_entries, 9) << "entries 42-50; the record at 41 needs no signature of its own";
}

// The outside probe's attack: edit an entry, recompute every later hash, delete the checkpoint
// file. Before records, the log verified as one that had never been signed.
TEST_F(AuditRecordTest, DeletedCheckpointsFailBecauseTheChainRecordsThem) {
  auto entries = recorded_;
  entries[24].actor = "cli:mallory";
  rechain_from(entries, 24);
  expect_failure(verify_witnessed(entries, {}), AuditProblem::kMissingCheckpoint, 1,
                 "entry 11 records a checkpoint at 10 signed by node host-a:/srv/herald/audit-checkpoints");
  expect_failure(verify_witnessed(recorded_, {}), AuditProblem::kMissingCheckpoint, 1, "no witness checked holds");

  // Only the newest checkpoints deleted: the entries since the last one still held lose their pin.
  expect_failure(verify_witnessed(recorded_, {{signed_[0], signed_[1]}}), AuditProblem::kMissingCheckpoint, 21,
                 "entry 31 records a checkpoint at 30");
  // A record whose seq was not a checkpoint, or is unreadable, is no better.
  auto odd = recorded_;
  odd[10].objects[0].second = "011";
  rechain_from(odd, 10);
  std::vector<AuditCheckpoint> resigned;
  for (std::int64_t seq : {10, 20, 30, 40}) resigned.push_back(sign_over(odd, seq));
  expect_failure(verify_witnessed(odd, {resigned}), AuditProblem::kMissingCheckpoint, 11,
                 "records a checkpoint at an unreadable seq");
}

// A second witness holds what the first lost; the verifier merges them by seq, and still checks
// the order within each.
TEST_F(AuditRecordTest, ASecondWitnessCoversCheckpointsTheFileLost) {
  const AuditReport report = verify_witnessed(recorded_, {{signed_[0]}, signed_});
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoints, 5);
  EXPECT_EQ(report.newest_checkpoint_seq, 40);

  // The whole chain rewritten with its records dropped and renumbered (what an attacker without
  // the signing key would have to do): the witness still pins it.
  std::vector<AuditEntry> rewritten;
  for (const auto& e : recorded_) {
    if (e.action != kCheckpointRecordAction) rewritten.push_back(e);
  }
  for (std::size_t i = 0; i < rewritten.size(); ++i) rewritten[i].seq = static_cast<std::int64_t>(i) + 1;
  rechain_from(rewritten, 0);
  EXPECT_TRUE(verify_witnessed(rewritten, {}).ok) << "nothing in the chain itself can show this";
  expect_failure(verify_witnessed(rewritten, {{}, signed_}), AuditProblem::kCheckpointMismatch, 11,
                 "entry 20 does not match the signed checkpoint at 20");

  auto backwards = signed_;
  std::swap(backwards[0], backwards[3]);
  expect_failure(verify_witnessed(recorded_, {signed_, backwards}), AuditProblem::kCheckpointsOutOfOrder, 20,
                 "checkpoints are out of order");
}

// A process signs at least once per interval, so an unsigned tail much longer than that means
// its checkpoints were lost, even when the records that named them were rewritten away too.
TEST_F(AuditRecordTest, AnUnsignedTailLongerThanSigningAllowsFails) {
  const AuditVerifyOptions within{std::chrono::seconds(49)};
  const AuditVerifyOptions tight{std::chrono::seconds(48)};
  EXPECT_TRUE(verify_witnessed(entries_, {}, within).ok) << "entries 1-50 span 49 s";
  expect_failure(verify_witnessed(entries_, {}, tight), AuditProblem::kUnsignedEntries, 1,
                 "50 entries from 1 on were never signed");
  // The tail counts from the newest checkpoint: 42-50 span 8 s.
  EXPECT_TRUE(verify_witnessed(recorded_, {signed_}, {std::chrono::seconds(8)}).ok);
  expect_failure(verify_witnessed(recorded_, {signed_}, {std::chrono::seconds(7)}), AuditProblem::kUnsignedEntries, 42,
                 "9 entries from 42 on were never signed");
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_F(AuditChainTest, CheckpointLineRoundTrips) {
  std::vector<AuditCheckpoint> parsed;
  for (const auto& c : checkpoints_) {
    const std::string line = checkpoint_line(c);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = parse_checkpoint_line(line, parsed.size() + 1);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->seq, c.seq);
    EXPECT_EQ(back->hash, c.hash);
    EXPECT_EQ(back->at, c.at);
    EXPECT_EQ(back->key_id, c.key_id);
    EXPECT_EQ(back->signature, c.signature);
    EXPECT_TRUE(checkpoint_signature_valid(*back, public_key_));
    EXPECT_EQ(checkpoint_line(*back), line);
    parsed.push_back(std::move(*back));
  }
  EXPECT_TRUE(verify(entries_, parsed).ok);
  // Members in another order are still one well-formed checkpoint.
  const std::string line = checkpoint_line(checkpoints_[0]);
  const std::string reordered = "{\"seq\":10," + replaced(line.substr(1), "\"seq\":10,", "");
  auto back = parse_checkpoint_line(reordered, 1);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->seq, 10);
}

TEST_F(AuditChainTest, MalformedCheckpointLinesAreRefusedByPositionNotContent) {
  const AuditCheckpoint& c = checkpoints_[0];
  const std::string line = checkpoint_line(c);
  const std::string hash_hex = hex_encode(c.hash);
  const std::string signature_b64 = line.substr(line.find("\"signature\":\"") + 13, 88);
  ASSERT_EQ(signature_b64.substr(86), "==");
  std::string upper_hash = hash_hex;
  for (char& ch : upper_hash) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ASSERT_NE(upper_hash, hash_hex);

  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"empty", ""},
      {"not JSON", "CANARY"},
      {"array", "[\"CANARY\"]"},
      {"trailing newline", line + "\n"},
      {"trailing CR", line + "\r"},
      {"trailing garbage", line + " CANARY"},
      {"two objects", line + line},
      {"too long", replaced(line, "\"v\":1", "\"v\":1" + std::string(1100, ' '))},
      {"missing member", replaced(line, ",\"key_id\":\"audit-1\"", "")},
      {"extra member", replaced(line, "{", "{\"note\":\"CANARY\",")},
      {"repeated member", replaced(line, "\"v\":1", "\"v\":1,\"seq\":10")},
      {"member repeated in place of another", replaced(line, "\"v\":1", "\"seq\":10")},
      {"nested", replaced(line, "\"v\":1", "\"v\":{\"CANARY\":1}")},
      {"version 2", replaced(line, "\"v\":1", "\"v\":2")},
      {"version as string", replaced(line, "\"v\":1", "\"v\":\"1\"")},
      {"seq zero", replaced(line, "\"seq\":10", "\"seq\":0")},
      {"seq negative", replaced(line, "\"seq\":10", "\"seq\":-10")},
      {"seq as string", replaced(line, "\"seq\":10", "\"seq\":\"10\"")},
      {"seq with fraction", replaced(line, "\"seq\":10", "\"seq\":10.0")},
      {"seq with exponent", replaced(line, "\"seq\":10", "\"seq\":1e1")},
      {"seq too large", replaced(line, "\"seq\":10", "\"seq\":99999999999999999999")},
      {"hash uppercase", replaced(line, hash_hex, upper_hash)},
      {"hash short", replaced(line, hash_hex, hash_hex.substr(2))},
      {"hash not hex", replaced(line, hash_hex, "zz" + hash_hex.substr(2))},
      {"hash as number", replaced(line, "\"" + hash_hex + "\"", "1")},
      {"at without fraction", replaced(line, "08:00:11.000000Z", "08:00:11Z")},
      {"at with offset", replaced(line, "08:00:11.000000Z", "08:00:11.000000+00:00")},
      {"at with spaces", replaced(line, "08:00:11.000000Z", "08:00:11. 00000Z")},
      {"at impossible", replaced(line, "2027-01-15", "2027-02-30")},
      {"key id with space", replaced(line, "audit-1", "CANARY key")},
      {"key id empty", replaced(line, "\"audit-1\"", "\"\"")},
      {"key id too long", replaced(line, "audit-1", std::string(65, 'k'))},
      {"signature unpadded", replaced(line, signature_b64, signature_b64.substr(0, 86))},
      {"signature short", replaced(line, signature_b64, signature_b64.substr(4))},
      {"signature not base64", replaced(line, signature_b64, "!" + signature_b64.substr(1))},
  };
  for (const auto& [name, text] : malformed) {
    SCOPED_TRACE(name);
    auto parsed = parse_checkpoint_line(text, 3);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, ErrorCode::kDataLoss);
    const std::string& message = parsed.error().message;
    EXPECT_TRUE(contains(message, "checkpoint file line 3 is malformed")) << message;
    EXPECT_FALSE(contains(message, "CANARY")) << message;
    EXPECT_FALSE(contains(message, hash_hex.substr(0, 16))) << message;
    EXPECT_FALSE(contains(message, signature_b64.substr(0, 16))) << message;
  }
  // Without a line number the message still says what was refused.
  auto unnumbered = parse_checkpoint_line("CANARY");
  ASSERT_FALSE(unnumbered);
  EXPECT_TRUE(contains(unnumbered.error().message, "checkpoint line is malformed"));
}

TEST_F(AuditChainTest, SignCheckpointRefusesBadArguments) {
  const std::string& hash = entries_[9].hash;
  const Timestamp at = entries_[9].at;
  EXPECT_EQ(sign_checkpoint(0, hash, at, "audit-1", seed_).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(sign_checkpoint(10, hash.substr(1), at, "audit-1", seed_).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(sign_checkpoint(10, hash, at, "audit 1", seed_).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(sign_checkpoint(10, hash, at, "", seed_).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      sign_checkpoint(10, hash, at, "audit-1", SecretBytes(std::string(31, 's'))).error().code,
      ErrorCode::kInvalidArgument);
}

TEST_F(AuditChainTest, JsonExportHasTheSiemShape) {
  const AuditEntry& e = entries_[9];  // seq 10
  const std::string text = audit_entry_json(e);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  auto parsed = json::parse(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_TRUE(parsed->is_object());
  std::vector<std::string> names;
  for (const auto& member : parsed->as_object()) names.push_back(member.first);
  EXPECT_EQ(names, (std::vector<std::string>{"seq", "time", "actor", "action", "objects", "outcome",
                                             "source", "prev_hash", "hash"}));
  EXPECT_EQ(parsed->find("seq")->as_int64(), 10);
  EXPECT_EQ(parsed->find("time")->as_string(), "2027-01-15T08:00:10.000000Z");
  EXPECT_EQ(parsed->find("actor")->as_string(), e.actor);
  EXPECT_EQ(parsed->find("action")->as_string(), "keys.rotated");
  const json::Value* objects = parsed->find("objects");
  ASSERT_TRUE(objects != nullptr && objects->is_object());
  ASSERT_EQ(objects->as_object().size(), 2u);
  EXPECT_EQ(objects->find("service_id")->as_string(), e.objects[0].second);
  EXPECT_EQ(objects->find("count")->as_string(), "70");
  EXPECT_EQ(parsed->find("outcome")->as_string(), "denied");
  EXPECT_EQ(parsed->find("source")->as_string(), "192.0.2.10");
  EXPECT_EQ(parsed->find("prev_hash")->as_string(), hex_encode(entries_[8].hash));
  EXPECT_EQ(parsed->find("hash")->as_string(), hex_encode(e.hash));
  EXPECT_EQ(parsed->find("hash")->as_string().size(), 64u);

  // Awkward text stays on one line and comes back unchanged.
  AuditEntry odd = make_entry(1);
  odd.actor = "cli:\"root\"\n\\";
  odd.objects = {};
  chain_entry(odd, {});
  const std::string odd_text = audit_entry_json(odd);
  EXPECT_EQ(odd_text.find('\n'), std::string::npos);
  auto odd_parsed = json::parse(odd_text);
  ASSERT_TRUE(odd_parsed);
  EXPECT_EQ(odd_parsed->find("actor")->as_string(), odd.actor);
  EXPECT_TRUE(odd_parsed->find("objects")->is_object());
  EXPECT_EQ(odd_parsed->find("prev_hash")->as_string(), std::string(64, '0'));
}

// Known answers computed independently (Python hashlib and the cryptography package) from the
// encoding in docs/formats/audit.md, so the format cannot drift unnoticed.
TEST(AuditFormat, HashAndCheckpointMatchKnownAnswers) {
  AuditEntry first;
  first.seq = 1;
  first.at = from_micros(1'800'000'000'123'456);
  first.actor = "cli:root";
  first.action = "api_key.created";
  first.objects = {{"service_id", "6f1c8a52-3d2e-4b7a-9c1d-0e5f6a7b8c9d"}, {"key_type", "normal"}};
  first.outcome = "success";
  first.source = "local";
  chain_entry(first, {});
  EXPECT_EQ(hex_encode(first.hash), "7bb269d8b93f9af56439d5765e106ccc4f9df0c77eed43dc7e314431165da4f7");

  AuditEntry second;
  second.seq = 2;
  second.at = from_micros(1'800'000'000'223'456);
  second.actor = "api-key:0b7e";
  second.action = "auth.failed";
  second.outcome = "denied";
  second.source = "192.0.2.7";
  chain_entry(second, first.hash);
  EXPECT_EQ(hex_encode(second.hash),
            "9771e1c333a40fd03cb88e4f26ae788234a380e019b3c186cffba200fe3f3066");

  auto checkpoint = sign_checkpoint(2, second.hash, from_micros(1'800'000'000'300'000), "audit-1",
                                    SecretBytes(from_hex(kSeedHex)));
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint_line(*checkpoint),
            "{\"v\":1,\"seq\":2,\"hash\":"
            "\"9771e1c333a40fd03cb88e4f26ae788234a380e019b3c186cffba200fe3f3066\","
            "\"at\":\"2027-01-15T08:00:00.300000Z\",\"key_id\":\"audit-1\",\"signature\":"
            "\"tepyW2fMUNRfDBuPvzndy2GaiuRdhkHYCpnb+"
            "MHRCzGtSRL5vndszDGsBI7UL0vwosBE8qNpSdBQD5WnucRZBA==\"}");
}

TEST(AuditFormat, HashInputIsUnambiguous) {
  AuditEntry a = make_entry(3);
  AuditEntry b = a;
  a.actor = "ab";
  a.action = "c";
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(audit_entry_hash(a), audit_entry_hash(b));

  AuditEntry c = make_entry(3);
  AuditEntry d = c;
  c.objects = {{"ab", "c"}};
  d.objects = {{"a", "bc"}};
  EXPECT_NE(audit_entry_hash(c), audit_entry_hash(d));

  // An object's value cannot be slid into the outcome, nor an object split in two.
  AuditEntry e = make_entry(3);
  AuditEntry f = e;
  e.objects = {{"k", "v"}};
  e.outcome = "success";
  f.objects = {{"k", "vsuccess"}};
  f.outcome = "";
  EXPECT_NE(audit_entry_hash(e), audit_entry_hash(f));
  AuditEntry g = make_entry(3);
  AuditEntry h = g;
  g.objects = {{"k", ""}, {"", "v"}};
  h.objects = {{"k", "v"}};
  EXPECT_NE(audit_entry_hash(g), audit_entry_hash(h));
}

// What both store backends do on append: number on from the stored head and chain to it.
TEST(AuditAppend, ChainEntriesNumbersOnFromTheHeadAndVerifies) {
  std::vector<AuditEntry> first = {make_entry(0), make_entry(0)};
  ASSERT_TRUE(chain_entries(first, 0, {}));  // an empty log
  EXPECT_EQ(first[0].seq, 1);
  EXPECT_EQ(first[1].seq, 2);
  EXPECT_EQ(first[0].prev_hash, std::string(kAuditHashBytes, '\0'));
  EXPECT_EQ(first[1].prev_hash, first[0].hash);

  std::vector<AuditEntry> next = {make_entry(0), make_entry(0), make_entry(0)};
  ASSERT_TRUE(chain_entries(next, first.back().seq, first.back().hash));
  EXPECT_EQ(next[0].seq, 3);
  EXPECT_EQ(next[0].prev_hash, first[1].hash);

  AuditVerifier verifier({});
  for (const AuditEntry& e : first) verifier.add_entry(e);
  for (const AuditEntry& e : next) verifier.add_entry(e);
  const AuditReport report = verifier.finish();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries, 5);

  // Chaining again (a retried transaction) gives the same result.
  std::vector<AuditEntry> again = next;
  ASSERT_TRUE(chain_entries(again, first.back().seq, first.back().hash));
  EXPECT_EQ(again[2].hash, next[2].hash);
}

TEST(AuditAppend, ChainEntriesRefusesAMalformedHead) {
  std::vector<AuditEntry> entries = {make_entry(0)};
  EXPECT_EQ(chain_entries(entries, 7, "short").error().code, ErrorCode::kDataLoss);
  EXPECT_EQ(chain_entries(entries, 7, {}).error().code, ErrorCode::kDataLoss);
  EXPECT_EQ(chain_entries(entries, 0, std::string(kAuditHashBytes, 'h')).error().code, ErrorCode::kDataLoss);
  EXPECT_EQ(entries[0].seq, 0) << "left unchanged";
}

}  // namespace
}  // namespace herald::crypto
