#include "security/audit.h"

#include <fcntl.h>
#include <pwd.h>
#include <syslog.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "crypto/keyring.h"
#include "crypto/signing.h"

namespace herald::security {
namespace {

std::string signing_key_id(std::uint32_t number) { return "audit-" + std::to_string(number); }

Result<void> append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return unavailable("cannot open audit checkpoint file " + path);
  const std::string text = line + "\n";
  // One write of one line with O_APPEND: concurrent writers (CLI and server) never interleave.
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return unavailable("cannot write audit checkpoint file " + path);
  return ok();
}

// The checkpoints in a file, in file order. The checkpoint file holds nothing else; a witness
// (`lenient`) may hold other lines, and a checkpoint after a prefix such as syslog's.
Result<std::vector<crypto::AuditCheckpoint>> read_checkpoint_file(const std::string& path, bool lenient) {
  std::vector<crypto::AuditCheckpoint> out;
  std::ifstream in(path);
  if (!in) {
    if (!lenient) return out;  // no file yet: no checkpoints
    return not_found("cannot read audit witness " + path);
  }
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = line;
    if (lenient) {
      const std::size_t start = text.find("{\"v\":");
      if (start == std::string_view::npos) continue;
      text.remove_prefix(start);
      while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    }
    if (text.empty()) continue;
    auto parsed = crypto::parse_checkpoint_line(text, number);
    if (!parsed) return parsed.error();
    out.push_back(std::move(*parsed));
  }
  return out;
}

crypto::AuditReport forged(const Error& error) {
  crypto::AuditReport report;
  report.ok = false;
  report.kind = crypto::AuditProblem::kForgedCheckpoint;
  report.problem = error.message;
  return report;
}

}  // namespace

std::string cli_actor() {
  const passwd* user = ::getpwuid(::geteuid());
  return std::string("cli:") + (user != nullptr ? user->pw_name : std::to_string(::geteuid()));
}

void AuthFailureTally::note(std::string_view reason, std::string_view source) {
  std::lock_guard lock(mutex_);
  std::pair<std::string, std::string> key(reason, source);
  auto it = counts_.find(key);
  if (it == counts_.end() && counts_.size() >= kMaxKeys) {
    key.second = "other";
    it = counts_.find(key);
  }
  if (it == counts_.end()) it = counts_.emplace(std::move(key), 0).first;
  ++it->second;
}

std::vector<AuditEvent> AuthFailureTally::drain() {
  std::map<std::pair<std::string, std::string>, std::int64_t> counts;
  {
    std::lock_guard lock(mutex_);
    counts.swap(counts_);
  }
  std::vector<AuditEvent> events;
  for (const auto& [key, count] : counts) {
    events.push_back({"api", "auth.failed", {{"reason", key.first}, {"count", std::to_string(count)}}, "denied", key.second});
  }
  return events;
}

Result<void> AuditLog::record(AuditEvent event, Timestamp now) {
  std::vector<AuditEvent> events;
  events.push_back(std::move(event));
  return record_all(std::move(events), now);
}

Result<void> AuditLog::record_all(std::vector<AuditEvent> events, Timestamp now) {
  std::vector<crypto::AuditEntry> entries;
  for (AuditEvent& e : events) {
    crypto::AuditEntry entry;
    entry.at = now;
    entry.actor = std::move(e.actor);
    entry.action = std::move(e.action);
    entry.objects = std::move(e.objects);
    entry.outcome = std::move(e.outcome);
    entry.source = std::move(e.source);
    entries.push_back(std::move(entry));
  }
  auto stored = store_.append_audit(std::move(entries));
  if (!stored) return stored.error();
  return ok();
}

Result<std::vector<crypto::AuditCheckpoint>> AuditLog::read_checkpoints() {
  return read_checkpoint_file(options_.checkpoint_path, false);
}

Result<CheckpointStatus> AuditLog::checkpoint_status() {
  auto checkpoints = read_checkpoints();
  if (!checkpoints) return checkpoints.error();
  CheckpointStatus status;
  std::int64_t after = 0;
  if (!checkpoints->empty()) {
    status.last_checkpoint = checkpoints->back().at;
    after = checkpoints->back().seq;
  }
  HERALD_TRY(store_.read_audit(after, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    if (e.action == crypto::kCheckpointRecordAction) return ok();
    ++status.unchecked;
    if (!status.oldest_unchecked || e.at < *status.oldest_unchecked) status.oldest_unchecked = e.at;
    return ok();
  }));
  return status;
}

Result<std::optional<std::int64_t>> AuditLog::checkpoint(Timestamp now) {
  std::lock_guard lock(checkpoint_mutex_);
  std::optional<crypto::AuditEntry> head;
  if (!checkpointed_seq_) {
    // Read the file once; afterwards this process remembers what it signed. A checkpoint that
    // another process appended meanwhile only makes this one sign the same head again, which
    // verify accepts.
    auto existing = read_checkpoints();
    if (!existing) return existing.error();
    checkpointed_seq_ = existing->empty() ? 0 : existing->back().seq;
  }
  const std::int64_t after = *checkpointed_seq_;
  bool moved = false;  // an entry other than a checkpoint record
  HERALD_TRY(store_.read_audit(after, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    head = e;
    moved = moved || e.action != crypto::kCheckpointRecordAction;
    return ok();
  }));
  if (!head || !moved) return std::optional<std::int64_t>();
  auto keyring = crypto::Keyring::load(options_.keyring_path);
  if (!keyring) return keyring.error();
  if (keyring->signing_keys().empty()) return failed_precondition("the keyring holds no audit signing key");
  const auto& [number, entry] = *keyring->signing_keys().rbegin();
  auto signed_checkpoint = crypto::sign_checkpoint(head->seq, head->hash, now, signing_key_id(number), entry.key);
  if (!signed_checkpoint) return signed_checkpoint.error();
  const std::string line = crypto::checkpoint_line(*signed_checkpoint);
  HERALD_TRY(append_line(options_.checkpoint_path, line));
  checkpointed_seq_ = head->seq;
  if (options_.syslog) {
    ::openlog("herald", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
    ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit checkpoint %s", line.c_str());
  }
  // Written after the checkpoint, so a record never names a checkpoint that was not written.
  HERALD_TRY(append_record(head->seq, signed_checkpoint->key_id, now));
  return std::optional<std::int64_t>(head->seq);
}

Result<void> AuditLog::append_record(std::int64_t seq, const std::string& key_id, Timestamp now) {
  crypto::AuditEntry record;
  record.at = now;
  record.actor = "system:audit";
  record.action = std::string(crypto::kCheckpointRecordAction);
  record.objects = {{"seq", std::to_string(seq)}, {"key_id", key_id}, {"node", options_.node}};
  auto stored = store_.append_audit({std::move(record)});
  if (!stored) return stored.error();
  return ok();
}

Result<AuditVerification> AuditLog::verify(const std::vector<AuditWitness>& witnesses) {
  auto keyring = crypto::Keyring::load(options_.keyring_path);
  if (!keyring) return keyring.error();
  std::vector<crypto::AuditTrustedKey> trusted;
  for (const auto& [number, entry] : keyring->signing_keys()) {
    auto public_key = crypto::ed25519_public_key(entry.key);
    if (!public_key) return public_key.error();
    trusted.push_back({signing_key_id(number), std::move(*public_key)});
  }
  crypto::AuditVerifier verifier(std::move(trusted), {options_.max_unsigned_span});
  AuditVerification out;
  const auto add = [&](const std::string& path, bool lenient, std::size_t witness) -> Result<bool> {
    auto checkpoints = read_checkpoint_file(path, lenient);
    if (!checkpoints && checkpoints.error().code == ErrorCode::kNotFound) return checkpoints.error();
    if (!checkpoints) {
      // A checkpoint line that does not even parse is a forged (or damaged) checkpoint.
      out.report = forged(Error{checkpoints.error().code, path + ": " + checkpoints.error().message});
      return false;
    }
    for (const auto& c : *checkpoints) verifier.add_checkpoint(c, witness);
    out.witnesses.push_back(path + ": " + std::to_string(checkpoints->size()) + " checkpoints");
    return true;
  };
  auto added = add(options_.checkpoint_path, false, 0);
  for (std::size_t i = 0; added && *added && i < witnesses.size(); ++i) added = add(witnesses[i].path, true, i + 1);
  if (!added) return added.error();
  if (!*added) return out;
  HERALD_TRY(store_.read_audit(0, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    verifier.add_entry(e);
    return ok();
  }));
  out.report = verifier.finish();
  if (options_.syslog)
    out.witnesses.push_back("syslog: each checkpoint sent (not read back: give its export with --witness)");
  return out;
}

Result<std::int64_t> AuditLog::export_jsonl(std::optional<Timestamp> since, std::ostream& out,
                                            std::string_view action_prefix) {
  std::int64_t count = 0;
  HERALD_TRY(store_.read_audit(0, since, [&](const crypto::AuditEntry& e) -> Result<void> {
    if (!e.action.starts_with(action_prefix)) return ok();
    out << crypto::audit_entry_json(e) << "\n";
    ++count;
    return ok();
  }));
  return count;
}

}  // namespace herald::security
