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
  std::vector<crypto::AuditCheckpoint> out;
  std::ifstream in(options_.checkpoint_path);
  if (!in) return out;  // no file yet: no checkpoints
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto parsed = crypto::parse_checkpoint_line(line, number);
    if (!parsed) return parsed.error();
    out.push_back(std::move(*parsed));
  }
  return out;
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
  HERALD_TRY(store_.read_audit(after, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    head = e;
    return ok();
  }));
  if (!head) return std::optional<std::int64_t>();
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
  return std::optional<std::int64_t>(head->seq);
}

Result<crypto::AuditReport> AuditLog::verify() {
  auto keyring = crypto::Keyring::load(options_.keyring_path);
  if (!keyring) return keyring.error();
  std::vector<crypto::AuditTrustedKey> trusted;
  for (const auto& [number, entry] : keyring->signing_keys()) {
    auto public_key = crypto::ed25519_public_key(entry.key);
    if (!public_key) return public_key.error();
    trusted.push_back({signing_key_id(number), std::move(*public_key)});
  }
  crypto::AuditVerifier verifier(std::move(trusted));
  auto checkpoints = read_checkpoints();
  if (!checkpoints) {
    // A checkpoint line that does not even parse is a forged (or damaged) checkpoint.
    crypto::AuditReport report;
    report.ok = false;
    report.kind = crypto::AuditProblem::kForgedCheckpoint;
    report.problem = checkpoints.error().message;
    return report;
  }
  for (const auto& c : *checkpoints) verifier.add_checkpoint(c);
  HERALD_TRY(store_.read_audit(0, std::nullopt, [&](const crypto::AuditEntry& e) -> Result<void> {
    verifier.add_entry(e);
    return ok();
  }));
  return verifier.finish();
}

Result<std::int64_t> AuditLog::export_jsonl(std::optional<Timestamp> since, std::ostream& out) {
  std::int64_t count = 0;
  HERALD_TRY(store_.read_audit(0, since, [&](const crypto::AuditEntry& e) -> Result<void> {
    out << crypto::audit_entry_json(e) << "\n";
    ++count;
    return ok();
  }));
  return count;
}

}  // namespace herald::security
