#pragma once
// Security advisory feeds and the match against a release's components, for `herald advisories
// check`: the operator supplies a feed file (Herald never fetches one) in either of two formats:
//   - the Debian security tracker's JSON (https://security-tracker.debian.org/tracker/data/json):
//     { source package: { issue id: { "description", "releases": { codename: { "status",
//       "fixed_version", "urgency", ... } } } } }, as bin/tracker_service.py writes it;
//   - OSV (https://ossf.github.io/osv-schema/): one entry, an array of entries, or {"vulns": [...]}
//     as OSV's /v1/query answers.
// Plain values and pure functions; thread-safe. Feeds are untrusted input: malformed ones are
// kInvalidArgument naming where ("OSV entry 3: affected[0].ranges[1].events is not an array").

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "release/sbom.h"

namespace herald::release {

// One event of an affected range (OSV's ranges[].events[]). Versions are in the range's order.
struct RangeEvent {
  enum class Kind { kIntroduced, kFixed, kLastAffected, kLimit };
  Kind kind = Kind::kIntroduced;
  std::string version;  // introduced "0": before every version; limit "*": no limit
  bool operator==(const RangeEvent&) const = default;
};

struct AffectedRange {
  // SEMVER ranges order versions by SemVer 2.0.0; ECOSYSTEM ranges by the advisory's ecosystem
  // (dpkg for Debian, SemVer for npm). OSV's GIT ranges are dropped when a feed is read.
  enum class Order { kEcosystem, kSemver };
  Order order = Order::kEcosystem;
  std::vector<RangeEvent> events;
  bool operator==(const AffectedRange&) const = default;
};

struct Advisory {
  std::string id;             // "CVE-2024-1234", "DSA-5678-1", "GHSA-xxxx-xxxx-xxxx"
  std::string ecosystem;      // "debian" or "npm"; another OSV ecosystem as the feed spells it (never matched)
  std::string distro;         // the Debian release it is scoped to, as a purl distro ("debian-12"); "" for any
  std::string package;        // Debian source package or npm package name
  std::string severity;       // "critical", "high", "medium", "low" or "unknown"
  std::string fixed_version;  // the highest fixed version in the ranges; "" when there is no fix
  std::string summary;
  std::vector<AffectedRange> ranges;
  std::vector<std::string> versions;  // affected versions listed one by one
  bool operator==(const Advisory&) const = default;
};

struct Affected {
  Component component;
  std::string advisory_id;
  std::string severity;
  std::string fixed_version;  // the first fixed version above the installed one; "" when there is none
  std::string summary;
  bool operator==(const Affected&) const = default;
};

// The issues that affect `release` ("bookworm") in a Debian security tracker JSON file, one advisory
// per source package and issue: status "open" or "undetermined" affects every version (no fix);
// "resolved" affects versions below fixed_version, and a fixed_version of "0" (or none) means the
// release was never affected, so no advisory. Severity from the urgency: high, medium and low (also
// with NVD's "**" mark) as they are, unimportant as low, "not yet assigned", "end-of-life" and none
// as unknown. Issues without an entry for `release` are skipped.
Result<std::vector<Advisory>> parse_debian_tracker(std::string_view json, std::string_view release);

// OSV entries, one advisory per entry and affected[] package. Withdrawn entries are skipped.
// Ecosystem "npm" is npm; "Debian" and "Debian:<release>" are Debian source packages ("Debian:12" is
// scoped to "debian-12"). Severity, first found: database_specific.severity (GitHub's CRITICAL,
// HIGH, MODERATE, LOW), affected[].ecosystem_specific.urgency (Debian's urgencies, as above), the
// CVSS v3 base score of a CVSS_V3 vector in affected[].severity or severity (FIRST's rating scale),
// an Ubuntu priority; else "unknown". The summary is "summary", else the first line of "details".
// An OSV querybatch answer ({"results": ...}) lists ids only and is refused.
Result<std::vector<Advisory>> parse_osv(std::string_view json);

// Either format, told apart by shape: an array, an object with "vulns", or an object with an "id"
// string is OSV; another object is the Debian tracker, read for `debian_release`.
Result<std::vector<Advisory>> parse_feed(std::string_view json, std::string_view debian_release);

// Which components the advisories affect, by OSV's evaluation rules
// (https://ossf.github.io/osv-schema/#evaluation): a version listed in `versions`, or inside a range
// (introduced at or below it, and no later fixed at or below it nor last_affected below it, and
// below a limit if the range has any). Debian components match on their source package (their own
// name when `source` is empty) and source version (their version when `source_version` is empty),
// in dpkg's order, and only advisories for their distro when both name one; npm components match on
// name, in SemVer order. A component without a version is taken as affected. Components in the
// given order, then advisories in feed order; an advisory that names one package twice counts once.
std::vector<Affected> affected_components(const std::vector<Component>& components,
                                          const std::vector<Advisory>& advisories);

// The CVSS v3.0/v3.1 base score of a vector ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") in
// tenths (98 for 9.8), by the CVSS v3.1 specification's formulas and Roundup; -1 when the vector is
// not a complete, well-formed v3 base vector.
int cvss3_base_score_tenths(std::string_view vector);

// FIRST's qualitative rating of a CVSS v3 score in tenths: "critical" (90-100), "high" (70-89),
// "medium" (40-69), "low" (1-39); a score of 0 ("none") is "low" here; "unknown" for -1.
std::string cvss3_severity(int score_tenths);

}  // namespace herald::release
