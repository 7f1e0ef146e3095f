#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <sstream>

#include "core/base64.h"
#include "crypto/private_file.h"
#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kHeaderV1 = "herald-keyring v1";  // data-key lines only
constexpr std::string_view kHeader = "herald-keyring v2";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kMaxFileBytes = 1 << 20;


// Parses "<kind> <number> <created> <b64>"; the error names the line number only.
struct ParsedLine {
  std::string kind;
  std::uint32_t number = 0;
  KeyringEntry entry;
};
Result<ParsedLine> parse_key_line(const std::string& line, int number) {
  std::istringstream in(line);
  std::string kind, id_text, created, encoded;
  in >> kind >> id_text >> created >> encoded;
  const Error bad = invalid_argument("keyring file: line " + std::to_string(number) + " is malformed");
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  auto when = parse_timestamp(created);
  if ((kind != "data-key" && kind != "kek" && kind != "signing-key") || ec != std::errc() ||
      end != id_text.data() + id_text.size() || id == 0 || !when) {
    wipe_string(encoded);
    return bad;
  }
  auto bytes = base64_decode(encoded);
  wipe_string(encoded);
  if (!bytes || bytes->size() != kKeyBytes) {
    if (bytes) wipe_string(*bytes);
    return bad;
  }
  ParsedLine parsed{kind, id, {*when, SecretBytes(*bytes)}};
  wipe_string(*bytes);
  return parsed;
}

void append_lines(std::string& out, std::string_view kind, const Keyring::Entries& entries) {
  for (const auto& [number, entry] : entries) {
    std::string encoded = base64_encode(entry.key.view());
    out += std::string(kind) + " " + std::to_string(number) + " " + format_timestamp(entry.created) + " " + encoded + "\n";
    wipe_string(encoded);
  }
}

Result<std::uint32_t> add_random(Keyring::Entries& entries, Timestamp now) {
  auto key = random_bytes(kKeyBytes);
  if (!key) return key.error();
  const std::uint32_t number = entries.empty() ? 1 : entries.rbegin()->first + 1;
  entries.emplace(number, KeyringEntry{now, SecretBytes(*key)});
  wipe_string(*key);
  return number;
}

// Writes `content` to a new file beside `path` and renames it over `path`, so a reader sees the
// old keyring or the new one, never a mixture; the directory is fsynced so the rename survives.
Result<void> write_atomically(const std::string& path, const std::string& content, bool exclusive) {
  const std::string temp = path + ".new";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return unavailable("cannot create " + temp);
  const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return unavailable("cannot write keyring file " + temp);
  }
  if (exclusive) {
    // link() fails if `path` exists: a new keyring never replaces an old one.
    const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
    ::unlink(temp.c_str());
    if (!linked) return unavailable("cannot create keyring file " + path + " (does it already exist?)");
  } else if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return unavailable("cannot replace keyring file " + path);
  }
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return ok();
}

std::string serialise(const Keyring& keyring) {
  std::string content(kHeader);
  content += "\n# Herald keyring: key-encryption keys, audit signing keys. Mode 0600. Never share it.\n";
  append_lines(content, "kek", keyring.keks());
  append_lines(content, "signing-key", keyring.signing_keys());
  append_lines(content, "data-key", keyring.legacy_data_keys());
  return content;
}

}  // namespace

Result<void> Keyring::create_file(const std::string& path, Timestamp now, bool with_kek) {
  Keyring keyring;
  if (with_kek) HERALD_TRY(keyring.add_kek(now));
  HERALD_TRY(keyring.add_signing_key(now));
  std::string content = serialise(keyring);
  auto written = write_atomically(path, content, /*exclusive=*/true);
  wipe_string(content);
  return written;
}

Result<void> Keyring::save(const std::string& path) const {
  std::string content = serialise(*this);
  auto written = write_atomically(path, content, /*exclusive=*/false);
  wipe_string(content);
  return written;
}

Result<Keyring> Keyring::load(const std::string& path) {
  auto content = read_private_file(path, "keyring file", kMaxFileBytes);
  if (!content) return content.error();
  Keyring keyring;
  std::istringstream in(*content);
  wipe_string(*content);
  std::string line;
  int number = 0;
  Result<void> status = ok();
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) {
      if (line != kHeader && line != kHeaderV1) status = invalid_argument("keyring file " + path + ": unknown format");
    } else if (!line.empty() && line[0] != '#' && status) {
      auto parsed = parse_key_line(line, number);
      if (!parsed) {
        status = parsed.error();
      } else {
        Entries& into = parsed->kind == "kek"           ? keyring.keks_
                        : parsed->kind == "signing-key" ? keyring.signing_keys_
                                                        : keyring.legacy_data_keys_;
        into.insert_or_assign(parsed->number, std::move(parsed->entry));
      }
    }
    wipe_string(line);
  }
  if (!status) return status.error();
  if (keyring.keks_.empty() && keyring.signing_keys_.empty() && keyring.legacy_data_keys_.empty()) {
    return invalid_argument("keyring file " + path + " holds no keys");
  }
  return keyring;
}

Result<void> Keyring::update(const std::string& path, const std::function<Result<void>(Keyring&)>& change) {
  const std::string lock_path = path + ".lock";
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0) return unavailable("cannot open " + lock_path);
  if (::flock(lock, LOCK_EX) != 0) {
    ::close(lock);
    return unavailable("cannot lock " + lock_path);
  }
  auto result = [&]() -> Result<void> {
    auto keyring = load(path);
    if (!keyring) return keyring.error();
    HERALD_TRY(change(*keyring));
    return keyring->save(path);
  }();
  ::close(lock);  // releases the lock
  return result;
}

Result<std::uint32_t> Keyring::add_kek(Timestamp now) { return add_random(keks_, now); }
Result<std::uint32_t> Keyring::add_signing_key(Timestamp now) { return add_random(signing_keys_, now); }

}  // namespace herald::crypto
