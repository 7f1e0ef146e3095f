#include "release/version_order.h"

#include <algorithm>
#include <climits>

namespace herald::release {
namespace {

bool is_digit(int c) { return c >= '0' && c <= '9'; }
bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

int sign(int n) { return (n > 0) - (n < 0); }

// Compares two decimal digit strings by value, without converting (no overflow).
int compare_digits(std::string_view a, std::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return sign(a.compare(b));
}

// ---- Debian -------------------------------------------------------------------------------------

// The byte at `i`, or 0 past the end (dpkg walks NUL-terminated strings).
int byte_at(std::string_view s, std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; }

// dpkg's weight of one character in a non-digit run: '~' lowest, then the end of the string (and a
// digit, which ends the run), then letters, then everything else.
int order(int c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return c;
  if (c == '~') return -1;
  if (c != 0) return c + 256;
  return 0;
}

// dpkg's verrevcmp (lib/dpkg/version.c), over string_views.
int verrevcmp(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !is_digit(byte_at(a, i))) || (j < b.size() && !is_digit(byte_at(b, j)))) {
      const int ac = order(byte_at(a, i));
      const int bc = order(byte_at(b, j));
      if (ac != bc) return sign(ac - bc);
      ++i;
      ++j;
    }
    while (byte_at(a, i) == '0') ++i;
    while (byte_at(b, j) == '0') ++j;
    while (is_digit(byte_at(a, i)) && is_digit(byte_at(b, j))) {
      if (first_diff == 0) first_diff = byte_at(a, i) - byte_at(b, j);
      ++i;
      ++j;
    }
    if (is_digit(byte_at(a, i))) return 1;
    if (is_digit(byte_at(b, j))) return -1;
    if (first_diff != 0) return sign(first_diff);
  }
  return 0;
}

// The three parts as text, split the way dpkg splits them, without validation.
struct DebianParts {
  std::string_view epoch;  // digits, or empty for 0
  std::string_view upstream;
  std::string_view revision;
};

DebianParts split_debian(std::string_view text) {
  DebianParts parts;
  text = trim(text);
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && all_digits(text.substr(0, colon))) {
    parts.epoch = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  const auto hyphen = text.rfind('-');
  if (hyphen != std::string_view::npos) {
    parts.revision = text.substr(hyphen + 1);
    text = text.substr(0, hyphen);
  }
  parts.upstream = text;
  return parts;
}

// ---- SemVer -------------------------------------------------------------------------------------

bool is_identifier_char(char c) { return is_digit(c) || is_alpha(c) || c == '-'; }

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto dot = s.find('.');
    parts.push_back(s.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    s.remove_prefix(dot + 1);
  }
}

std::string_view strip_semver_prefix(std::string_view text) {
  text = trim(text);
  if (!text.empty() && (text.front() == 'v' || text.front() == '=')) text.remove_prefix(1);
  return text;
}

// One identifier (core part or pre-release identifier): numbers by value and below text, text in
// ASCII order.
int compare_identifier(std::string_view a, std::string_view b) {
  const bool a_numeric = all_digits(a);
  const bool b_numeric = all_digits(b);
  if (a_numeric && b_numeric) return compare_digits(a, b);
  if (a_numeric != b_numeric) return a_numeric ? -1 : 1;
  return sign(a.compare(b));
}

// A version split for comparison without validation.
struct LooseSemVer {
  std::vector<std::string_view> core;
  std::vector<std::string_view> prerelease;
};

LooseSemVer split_semver(std::string_view text) {
  text = strip_semver_prefix(text);
  text = text.substr(0, text.find('+'));
  LooseSemVer version;
  const auto hyphen = text.find('-');
  if (hyphen != std::string_view::npos) {
    version.prerelease = split_dots(text.substr(hyphen + 1));
    text = text.substr(0, hyphen);
  }
  version.core = split_dots(text);
  return version;
}

Error semver_error(std::string_view text, const std::string& why) {
  return invalid_argument("\"" + std::string(text) + "\" is not a SemVer 2.0.0 version: " + why);
}

}  // namespace

Result<DebianVersion> parse_debian_version(std::string_view text) {
  const std::string quoted = "Debian version \"" + std::string(text) + "\"";
  text = trim(text);
  if (text.empty()) return invalid_argument("Debian version is empty");
  for (char c : text) {
    if (is_blank(c)) return invalid_argument(quoted + " has embedded blanks");
  }
  DebianVersion version;
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view epoch = text.substr(0, colon);
    if (!all_digits(epoch)) return invalid_argument(quoted + ": epoch is not a number");
    if (compare_digits(epoch, std::to_string(INT_MAX)) > 0) return invalid_argument(quoted + ": epoch is too big");
    for (char c : epoch) version.epoch = version.epoch * 10 + static_cast<std::uint64_t>(c - '0');
    text.remove_prefix(colon + 1);
    if (text.empty()) return invalid_argument(quoted + ": nothing after the epoch's colon");
  }
  const auto hyphen = text.rfind('-');
  if (hyphen != std::string_view::npos) {
    version.revision = std::string(text.substr(hyphen + 1));
    if (version.revision.empty()) return invalid_argument(quoted + ": revision is empty");
    text = text.substr(0, hyphen);
  }
  version.upstream = std::string(text);
  if (version.upstream.empty()) return invalid_argument(quoted + ": upstream version is empty");
  if (!is_digit(version.upstream.front())) {
    return invalid_argument(quoted + ": upstream version does not start with a digit");
  }
  for (char c : version.upstream) {
    if (!is_digit(c) && !is_alpha(c) && std::string_view(".-+~:").find(c) == std::string_view::npos) {
      return invalid_argument(quoted + ": invalid character in upstream version");
    }
  }
  for (char c : version.revision) {
    if (!is_digit(c) && !is_alpha(c) && std::string_view(".+~").find(c) == std::string_view::npos) {
      return invalid_argument(quoted + ": invalid character in revision");
    }
  }
  return version;
}

int compare_debian_versions(std::string_view a, std::string_view b) {
  const DebianParts pa = split_debian(a);
  const DebianParts pb = split_debian(b);
  if (const int c = compare_digits(pa.epoch, pb.epoch); c != 0) return c;
  if (const int c = verrevcmp(pa.upstream, pb.upstream); c != 0) return c;
  return verrevcmp(pa.revision, pb.revision);
}

Result<SemVer> parse_semver(std::string_view text) {
  const std::string_view original = text;
  text = strip_semver_prefix(text);
  SemVer version;
  if (const auto plus = text.find('+'); plus != std::string_view::npos) {
    version.build = std::string(text.substr(plus + 1));
    for (std::string_view identifier : split_dots(version.build)) {
      if (identifier.empty()) return semver_error(original, "empty build identifier");
      for (char c : identifier) {
        if (!is_identifier_char(c)) return semver_error(original, "invalid character in build metadata");
      }
    }
    text = text.substr(0, plus);
  }
  if (const auto hyphen = text.find('-'); hyphen != std::string_view::npos) {
    for (std::string_view identifier : split_dots(text.substr(hyphen + 1))) {
      if (identifier.empty()) return semver_error(original, "empty pre-release identifier");
      for (char c : identifier) {
        if (!is_identifier_char(c)) return semver_error(original, "invalid character in pre-release");
      }
      if (all_digits(identifier) && identifier.size() > 1 && identifier.front() == '0') {
        return semver_error(original, "numeric pre-release identifier with a leading zero");
      }
      version.prerelease.emplace_back(identifier);
    }
    text = text.substr(0, hyphen);
  }
  const std::vector<std::string_view> core = split_dots(text);
  if (core.size() != 3) return semver_error(original, "expected MAJOR.MINOR.PATCH");
  for (std::string_view part : core) {
    if (!all_digits(part)) return semver_error(original, "MAJOR, MINOR and PATCH must be numbers");
    if (part.size() > 1 && part.front() == '0') return semver_error(original, "number with a leading zero");
  }
  version.major = std::string(core[0]);
  version.minor = std::string(core[1]);
  version.patch = std::string(core[2]);
  return version;
}

int compare_semver(std::string_view a, std::string_view b) {
  const LooseSemVer va = split_semver(a);
  const LooseSemVer vb = split_semver(b);
  const std::size_t core_size = std::max<std::size_t>({3, va.core.size(), vb.core.size()});
  for (std::size_t i = 0; i < core_size; ++i) {
    const std::string_view pa = i < va.core.size() ? va.core[i] : "0";
    const std::string_view pb = i < vb.core.size() ? vb.core[i] : "0";
    if (const int c = compare_identifier(pa, pb); c != 0) return c;
  }
  // A version with a pre-release sorts before the same version without one.
  if (va.prerelease.empty() != vb.prerelease.empty()) return va.prerelease.empty() ? 1 : -1;
  const std::size_t shared = std::min(va.prerelease.size(), vb.prerelease.size());
  for (std::size_t i = 0; i < shared; ++i) {
    if (const int c = compare_identifier(va.prerelease[i], vb.prerelease[i]); c != 0) return c;
  }
  if (va.prerelease.size() != vb.prerelease.size()) return va.prerelease.size() < vb.prerelease.size() ? -1 : 1;
  return 0;
}

}  // namespace herald::release
