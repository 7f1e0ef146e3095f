#pragma once
// Version ordering for the advisory check: Debian package versions in dpkg's order, and npm
// versions in SemVer 2.0.0 precedence. Both comparators are total orders over any input text, so
// a malformed version in an SBOM or a feed never crashes a check; the parse_* functions say
// whether a version is well formed, for callers that want to refuse bad input instead.
// Pure functions of their arguments; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::release {

// A Debian version split as dpkg splits it: "[epoch:]upstream[-revision]". The epoch ends at the
// first ':', the revision starts after the last '-'.
struct DebianVersion {
  std::uint64_t epoch = 0;  // at most INT_MAX, as dpkg allows
  std::string upstream;
  std::string revision;  // "" when the version has no '-'
};

// Parses `text` with dpkg's rules (lib/dpkg/parsehelp.c parseversion): not empty, no embedded
// blanks, a numeric epoch no larger than INT_MAX, an upstream part that starts with a digit and
// holds only alphanumerics and ".+-~:", a non-empty revision of alphanumerics and ".+~".
// Surrounding blanks are ignored. kInvalidArgument says which rule failed.
Result<DebianVersion> parse_debian_version(std::string_view text);

// <0, 0 or >0 as `a` sorts before, equal to or after `b` in dpkg's order (dpkg
// --compare-versions): epochs numerically, then upstream and revision each by dpkg's verrevcmp:
// alternating non-digit runs (compared character by character, '~' before everything including
// the end of the string, then the end, then letters, then other characters) and digit runs
// (compared numerically). An absent revision equals "0". Text parse_debian_version would refuse is
// still ordered: an epoch that is not a number is taken as part of the upstream version.
int compare_debian_versions(std::string_view a, std::string_view b);

// A SemVer 2.0.0 version: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]. Numbers are kept as their
// decimal text, so versions beyond 64 bits still order correctly.
struct SemVer {
  std::string major;
  std::string minor;
  std::string patch;
  std::vector<std::string> prerelease;  // dot-separated identifiers; empty for a release
  std::string build;                    // ignored for precedence
};

// Parses a version as https://semver.org/spec/v2.0.0.html defines it (no leading zeros in
// numeric parts or numeric pre-release identifiers, identifiers of [0-9A-Za-z-], none empty).
// A leading "v" or "=" is accepted, as npm accepts it. kInvalidArgument says what is wrong.
Result<SemVer> parse_semver(std::string_view text);

// <0, 0 or >0 by SemVer 2.0.0 precedence (section 11): major, minor, patch numerically; a
// pre-release sorts before its release; pre-release identifiers compared left to right, numeric
// ones numerically and below alphanumeric ones (compared in ASCII order), a shorter list first
// when all shared identifiers are equal. Build metadata is ignored. Text parse_semver refuses is
// still ordered, best effort: missing minor or patch count as 0 and a non-numeric part compares as
// text after the numbers.
int compare_semver(std::string_view a, std::string_view b);

}  // namespace herald::release
