#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <sstream>

#include "core/base64.h"
#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kHeader = "herald-keyring v1";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kMaxFileBytes = 1 << 20;

std::string mode_string(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<std::string> read_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return unavailable("cannot open keyring file " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument("keyring file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Error{ErrorCode::kPermissionDenied,
                 "keyring file " + path + " has mode " + mode_string(st.st_mode) +
                     ", which group or others can access; run: chmod 600 " + path};
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    return invalid_argument("keyring file " + path + " is too large");
  }
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = ::read(fd, content.data() + got, content.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  content.resize(got);
  return content;
}

// Parses "data-key <id> <created> <b64>"; the error names the line number only.
Result<std::pair<std::uint32_t, SecretBytes>> parse_key_line(const std::string& line, int number) {
  std::istringstream in(line);
  std::string kind, id_text, created, encoded;
  in >> kind >> id_text >> created >> encoded;
  const Error bad = invalid_argument("keyring file: line " + std::to_string(number) + " is malformed");
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (kind != "data-key" || ec != std::errc() || end != id_text.data() + id_text.size() || id == 0) {
    return bad;
  }
  auto bytes = base64_decode(encoded);
  if (!bytes || bytes->size() != kKeyBytes) {
    if (bytes) wipe_string(*bytes);
    return bad;
  }
  SecretBytes key(*bytes);
  wipe_string(*bytes);
  wipe_string(encoded);
  return std::make_pair(id, std::move(key));
}

}  // namespace

Result<void> Keyring::create_file(const std::string& path, Timestamp now) {
  auto key = random_bytes(kKeyBytes);
  if (!key) return key.error();
  std::string content(kHeader);
  content += "\ndata-key 1 " + format_timestamp(now) + " " + base64_encode(*key) + "\n";
  wipe_string(*key);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    wipe_string(content);
    return unavailable("cannot create keyring file " + path + " (does it already exist?)");
  }
  const bool written = ::write(fd, content.data(), content.size()) ==
                       static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  wipe_string(content);
  if (!written) return unavailable("cannot write keyring file " + path);
  return ok();
}

Result<Keyring> Keyring::load(const std::string& path) {
  auto content = read_private_file(path);
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
      if (line != kHeader) status = invalid_argument("keyring file " + path + ": unknown format");
    } else if (!line.empty() && line[0] != '#' && status) {
      auto parsed = parse_key_line(line, number);
      if (!parsed) status = parsed.error();
      else keyring.keys_.insert_or_assign(parsed->first, std::move(parsed->second));
    }
    wipe_string(line);
  }
  if (!status) return status.error();
  if (keyring.keys_.empty()) return invalid_argument("keyring file " + path + " holds no keys");
  keyring.active_id_ = keyring.keys_.rbegin()->first;
  return keyring;
}

Keyring Keyring::single_key_for_test(std::uint32_t id, std::string_view key_bytes) {
  Keyring keyring;
  keyring.keys_.emplace(id, SecretBytes(key_bytes));
  keyring.active_id_ = id;
  return keyring;
}

const SecretBytes* Keyring::key(std::uint32_t id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace herald::crypto
