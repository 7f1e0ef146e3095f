#include "release/advisories.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::release {
namespace {

Component debian(std::string name, std::string version, std::string source, std::string distro = "debian-12") {
  Component c;
  c.name = std::move(name);
  c.version = std::move(version);
  c.ecosystem = "debian";
  c.source = std::move(source);
  c.license = "NOASSERTION";
  c.arch = "amd64";
  c.distro = std::move(distro);
  return c;
}

Component npm(std::string name, std::string version) {
  Component c;
  c.name = std::move(name);
  c.version = std::move(version);
  c.ecosystem = "npm";
  c.license = "MIT";
  return c;
}

std::vector<Advisory> must(Result<std::vector<Advisory>> result) {
  EXPECT_TRUE(result) << result.error().message;
  return result ? std::move(*result) : std::vector<Advisory>{};
}

// "id fixed_version severity" for each match, in order.
std::vector<std::string> matches(const std::vector<Component>& components, const std::vector<Advisory>& advisories) {
  std::vector<std::string> out;
  for (const Affected& a : affected_components(components, advisories)) {
    out.push_back(a.component.name + " " + a.advisory_id + " fix=" + a.fixed_version + " " + a.severity);
  }
  return out;
}

std::string error_of(Result<std::vector<Advisory>> result) {
  EXPECT_FALSE(result);
  if (result) return "";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  return result.error().message;
}

// ---- Debian security tracker ----------------------------------------------------------------------

// Shaped like https://security-tracker.debian.org/tracker/data/json (bin/tracker_service.py).
constexpr const char* kTracker = R"({
  "openssl": {
    "CVE-2025-0001": {"description": "Open issue in OpenSSL", "scope": "remote",
      "releases": {"bookworm": {"status": "open", "repositories": {"bookworm": "3.0.17-1~deb12u2"},
                                "urgency": "high**"},
                   "trixie": {"status": "resolved", "fixed_version": "3.5.1-1", "urgency": "high"}}},
    "CVE-2025-0002": {"description": "Fixed in a point release",
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.17-1~deb12u3", "urgency": "medium",
                                "repositories": {"bookworm": "3.0.17-1~deb12u2",
                                                 "bookworm-security": "3.0.17-1~deb12u3"}}}},
    "CVE-2025-0003": {"description": "Fixed long ago",
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u2", "urgency": "low"}}},
    "CVE-2025-0004": {"description": "Never affected bookworm",
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}},
    "CVE-2025-0005": {"description": "Only in bullseye",
      "releases": {"bullseye": {"status": "open", "urgency": "low"}}},
    "TEMP-0000000-ABCDEF": {
      "releases": {"bookworm": {"status": "undetermined", "urgency": "not yet assigned"}}},
    "CVE-2025-0006": {"description": "no-dsa", "releases": {"bookworm": {"status": "open", "urgency": "unimportant",
                      "nodsa": "Minor issue", "nodsa_reason": "ignored"}}}
  },
  "pam": {
    "CVE-2025-1000": {"description": "Epoch",
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "1:1.5.2-6+deb12u2", "urgency": "end-of-life"}}}
  },
  "foo": {
    "CVE-2025-2000": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "1.5-1"}}}
  }
})";

TEST(AdvisoriesDebianTracker, ReadsTheReleasesEntries) {
  const auto advisories = must(parse_debian_tracker(kTracker, "bookworm"));
  std::vector<std::string> ids;
  for (const Advisory& a : advisories) ids.push_back(a.package + "/" + a.id + "/" + a.severity + "/" + a.fixed_version);
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "openssl/CVE-2025-0001/high/",
                     "openssl/CVE-2025-0002/medium/3.0.17-1~deb12u3",
                     "openssl/CVE-2025-0003/low/3.0.11-1~deb12u2",
                     "openssl/TEMP-0000000-ABCDEF/unknown/",
                     "openssl/CVE-2025-0006/low/",
                     "pam/CVE-2025-1000/unknown/1:1.5.2-6+deb12u2",
                     "foo/CVE-2025-2000/unknown/1.5-1",
                 }));
  EXPECT_EQ(advisories[0].ecosystem, "debian");
  EXPECT_EQ(advisories[0].distro, "debian-12");
  EXPECT_EQ(advisories[0].summary, "Open issue in OpenSSL");
  EXPECT_EQ(advisories[3].summary, "");

  const auto trixie = must(parse_debian_tracker(kTracker, "trixie"));
  ASSERT_EQ(trixie.size(), 1U);
  EXPECT_EQ(trixie[0].distro, "debian-13");
  EXPECT_EQ(trixie[0].fixed_version, "3.5.1-1");
}

TEST(AdvisoriesDebianTracker, MatchesOnTheSourcePackageInDpkgOrder) {
  const auto advisories = must(parse_debian_tracker(kTracker, "bookworm"));
  const std::vector<Component> components = {
      debian("libssl3", "3.0.17-1~deb12u2", "openssl"),
      debian("openssl", "3.0.17-1~deb12u2", ""),  // a binary named after its source
      debian("libpam0g", "1:1.5.2-6+deb12u1", "pam"),
      debian("libpam-modules", "1.5.3-1", "pam"),  // without the epoch: older than any 1:…
      npm("openssl", "3.0.0"),                     // another ecosystem's package of that name
  };
  EXPECT_EQ(matches(components, advisories), (std::vector<std::string>{
                                                 "libssl3 CVE-2025-0001 fix= high",
                                                 "libssl3 CVE-2025-0002 fix=3.0.17-1~deb12u3 medium",
                                                 "libssl3 TEMP-0000000-ABCDEF fix= unknown",
                                                 "libssl3 CVE-2025-0006 fix= low",
                                                 "openssl CVE-2025-0001 fix= high",
                                                 "openssl CVE-2025-0002 fix=3.0.17-1~deb12u3 medium",
                                                 "openssl TEMP-0000000-ABCDEF fix= unknown",
                                                 "openssl CVE-2025-0006 fix= low",
                                                 "libpam0g CVE-2025-1000 fix=1:1.5.2-6+deb12u2 unknown",
                                                 "libpam-modules CVE-2025-1000 fix=1:1.5.2-6+deb12u2 unknown",
                                             }));
  // The security update installed: only the open issues remain.
  EXPECT_EQ(matches({debian("libssl3", "3.0.17-1~deb12u3", "openssl")}, advisories),
            (std::vector<std::string>{"libssl3 CVE-2025-0001 fix= high", "libssl3 TEMP-0000000-ABCDEF fix= unknown",
                                      "libssl3 CVE-2025-0006 fix= low"}));
  EXPECT_TRUE(matches({debian("libpam0g", "1:1.5.2-6+deb12u2", "pam")}, advisories).empty());
}

TEST(AdvisoriesDebianTracker, UsesTheSourceVersionOfABinaryThatHasItsOwn) {
  const auto advisories = must(parse_debian_tracker(kTracker, "bookworm"));
  Component binary = debian("libfoo1", "2.0-1", "foo");
  EXPECT_TRUE(matches({binary}, advisories).empty());  // 2.0-1 >= 1.5-1
  binary.source_version = "1.0-1";                     // but the source it was built from is older
  EXPECT_EQ(matches({binary}, advisories), (std::vector<std::string>{"libfoo1 CVE-2025-2000 fix=1.5-1 unknown"}));
}

TEST(AdvisoriesDebianTracker, TildeVersionsFromStableUpdates) {
  const std::string feed = R"({"openssl": {"CVE-1": {"releases": {"bookworm": {"status": "resolved",
                              "fixed_version": "3.0.13-1~deb12u1", "urgency": "medium"}}}}})";
  const auto advisories = must(parse_debian_tracker(feed, "bookworm"));
  EXPECT_EQ(matches({debian("libssl3", "3.0.11-1~deb12u2", "openssl")}, advisories).size(), 1U);
  EXPECT_TRUE(matches({debian("libssl3", "3.0.13-1~deb12u1", "openssl")}, advisories).empty());
  EXPECT_TRUE(matches({debian("libssl3", "3.0.13-1", "openssl")}, advisories).empty());
  EXPECT_EQ(matches({debian("libssl3", "3.0.13~rc1-1", "openssl")}, advisories).size(), 1U);
}

TEST(AdvisoriesDebianTracker, MalformedFilesNameTheProblem) {
  EXPECT_NE(error_of(parse_debian_tracker("{", "bookworm")).find("Debian tracker: "), std::string::npos);
  EXPECT_EQ(error_of(parse_debian_tracker("[]", "bookworm")), "Debian tracker: document is not a JSON object");
  EXPECT_EQ(error_of(parse_debian_tracker(R"({"openssl": []})", "bookworm")),
            "Debian tracker: openssl: is not an object of issues");
  EXPECT_EQ(error_of(parse_debian_tracker(R"({"openssl": {"CVE-1": 3}})", "bookworm")),
            "Debian tracker: openssl: CVE-1: is not an object");
  EXPECT_EQ(error_of(parse_debian_tracker(R"({"openssl": {"CVE-1": {"releases": []}}})", "bookworm")),
            "Debian tracker: openssl: CVE-1: releases is not an object");
  EXPECT_EQ(error_of(parse_debian_tracker(R"({"openssl": {"CVE-1": {"releases": {"bookworm": {}}}}})", "bookworm")),
            "Debian tracker: openssl: CVE-1: releases.bookworm.status is not a string");
  EXPECT_EQ(
      error_of(parse_debian_tracker(R"({"openssl": {"CVE-1": {"releases": {"bookworm": {"status": "fixed"}}}}})",
                                    "bookworm")),
      "Debian tracker: openssl: CVE-1: releases.bookworm.status is \"fixed\", not resolved, open or undetermined");
  EXPECT_EQ(error_of(parse_debian_tracker(
                R"({"openssl": {"CVE-1": {"releases": {"bookworm": {"status": "resolved", "fixed_version": 3}}}}})",
                "bookworm")),
            "Debian tracker: openssl: CVE-1: releases.bookworm.fixed_version is not a string");
  EXPECT_FALSE(parse_debian_tracker(kTracker, ""));
  // Other releases' entries are not read, malformed or not.
  EXPECT_TRUE(parse_debian_tracker(R"({"openssl": {"CVE-1": {"releases": {"sid": {}}}}})", "bookworm"));
}

// ---- OSV ----------------------------------------------------------------------------------------

// GHSA-r9p9-mrjm-926w as the OSV specification shows it, trimmed.
constexpr const char* kElliptic = R"({
  "schema_version": "1.2.0", "id": "GHSA-r9p9-mrjm-926w", "modified": "2021-03-08T16:02:43Z",
  "aliases": ["CVE-2020-28498"], "summary": "Use of a Broken or Risky Cryptographic Algorithm",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
  "affected": [{"package": {"ecosystem": "npm", "name": "elliptic"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "6.5.4"}]}]}]
})";

TEST(AdvisoriesOsv, ASingleNpmEntry) {
  const auto advisories = must(parse_osv(kElliptic));
  ASSERT_EQ(advisories.size(), 1U);
  const Advisory& a = advisories[0];
  EXPECT_EQ(a.id, "GHSA-r9p9-mrjm-926w");
  EXPECT_EQ(a.ecosystem, "npm");
  EXPECT_EQ(a.package, "elliptic");
  EXPECT_EQ(a.severity, "medium");  // CVSS 6.8
  EXPECT_EQ(a.fixed_version, "6.5.4");
  EXPECT_EQ(a.summary, "Use of a Broken or Risky Cryptographic Algorithm");
  EXPECT_EQ(matches({npm("elliptic", "6.5.3")}, advisories),
            (std::vector<std::string>{"elliptic GHSA-r9p9-mrjm-926w fix=6.5.4 medium"}));
  EXPECT_TRUE(matches({npm("elliptic", "6.5.4")}, advisories).empty());
  EXPECT_TRUE(matches({npm("elliptic", "7.0.0")}, advisories).empty());
  EXPECT_TRUE(matches({npm("elliptic-other", "1.0.0")}, advisories).empty());
}

std::string osv_npm(const std::string& id, const std::string& name, const std::string& ranges,
                    const std::string& extra = "") {
  return R"({"id": ")" + id + R"(", "affected": [{"package": {"ecosystem": "npm", "name": ")" + name +
         R"("}, "ranges": )" + ranges + extra + "}]}";
}

TEST(AdvisoriesOsv, ScopedPackagesAndPreReleases) {
  const auto advisories = must(parse_osv(
      osv_npm("GHSA-1", "@scope/pkg",
              R"([{"type": "SEMVER", "events": [{"introduced": "2.0.0-alpha.1"}, {"fixed": "2.0.0-rc.2"}]}])")));
  auto hit = [&advisories](const std::string& version) {
    return matches({npm("@scope/pkg", version)}, advisories).size() == 1;
  };
  EXPECT_FALSE(hit("1.9.9"));
  EXPECT_FALSE(hit("2.0.0-alpha"));  // before alpha.1
  EXPECT_TRUE(hit("2.0.0-alpha.1"));
  EXPECT_TRUE(hit("2.0.0-beta.11"));
  EXPECT_TRUE(hit("2.0.0-rc.1"));
  EXPECT_FALSE(hit("2.0.0-rc.2"));
  EXPECT_FALSE(hit("2.0.0"));
  EXPECT_FALSE(hit("2.0.0-rc.10"));                                      // numeric identifiers: rc.10 is after rc.2
  EXPECT_TRUE(matches({npm("pkg", "2.0.0-beta")}, advisories).empty());  // the scope is part of the name
}

TEST(AdvisoriesOsv, SeveralIntervalsAndSeveralRanges) {
  // The specification's multiple-range example, events out of order, plus a second range.
  const auto advisories = must(parse_osv(osv_npm("GHSA-2", "lib", R"([
      {"type": "SEMVER",
       "events": [{"fixed": "3.2.5"}, {"introduced": "1.0.0"}, {"introduced": "3.0.0"}, {"fixed": "1.0.2"}]},
      {"type": "ECOSYSTEM", "events": [{"introduced": "5.0.0"}, {"fixed": "5.1.0"}]}])")));
  ASSERT_EQ(advisories.size(), 1U);
  EXPECT_EQ(advisories[0].fixed_version, "5.1.0");
  auto fix_for = [&advisories](const std::string& version) {
    const auto found = affected_components({npm("lib", version)}, advisories);
    return found.empty() ? std::string("not affected") : found[0].fixed_version;
  };
  EXPECT_EQ(fix_for("0.9.0"), "not affected");
  EXPECT_EQ(fix_for("1.0.0"), "1.0.2");
  EXPECT_EQ(fix_for("1.0.1"), "1.0.2");
  EXPECT_EQ(fix_for("1.0.2"), "not affected");
  EXPECT_EQ(fix_for("2.5.0"), "not affected");
  EXPECT_EQ(fix_for("3.0.0"), "3.2.5");
  EXPECT_EQ(fix_for("3.2.4"), "3.2.5");
  EXPECT_EQ(fix_for("3.2.5"), "not affected");
  EXPECT_EQ(fix_for("5.0.1"), "5.1.0");
  EXPECT_EQ(fix_for("5.1.0"), "not affected");
}

TEST(AdvisoriesOsv, LastAffectedAndLimit) {
  const auto last = must(parse_osv(osv_npm(
      "GHSA-3", "h2", R"([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "2.1.214"}]}])")));
  EXPECT_EQ(matches({npm("h2", "2.1.214")}, last), (std::vector<std::string>{"h2 GHSA-3 fix= unknown"}));
  EXPECT_EQ(matches({npm("h2", "0.0.1")}, last).size(), 1U);
  EXPECT_TRUE(matches({npm("h2", "2.1.215")}, last).empty());
  EXPECT_EQ(last[0].fixed_version, "");

  const auto limited = must(parse_osv(
      osv_npm("GHSA-4", "x", R"([{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"limit": "2.0.0"}]}])")));
  EXPECT_EQ(matches({npm("x", "1.5.0")}, limited).size(), 1U);
  EXPECT_TRUE(matches({npm("x", "2.0.0")}, limited).empty());
  EXPECT_TRUE(matches({npm("x", "0.5.0")}, limited).empty());
  const auto unlimited = must(parse_osv(
      osv_npm("GHSA-5", "x", R"([{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"limit": "*"}]}])")));
  EXPECT_EQ(matches({npm("x", "9.0.0")}, unlimited).size(), 1U);
}

TEST(AdvisoriesOsv, ExplicitVersionsAndIgnoredGitRanges) {
  const auto advisories = must(parse_osv(osv_npm(
      "GHSA-6", "y",
      R"([{"type": "GIT", "repo": "https://example.org/y.git", "events": [{"introduced": "abc"}, {"fixed": "def"}]}])",
      R"(, "versions": ["1.2.3", "1.2.5"])")));
  ASSERT_EQ(advisories.size(), 1U);
  EXPECT_TRUE(advisories[0].ranges.empty());
  EXPECT_EQ(matches({npm("y", "1.2.3")}, advisories).size(), 1U);
  EXPECT_EQ(matches({npm("y", "1.2.5+build")}, advisories).size(), 1U);  // build metadata is ignored
  EXPECT_TRUE(matches({npm("y", "1.2.4")}, advisories).empty());
  EXPECT_TRUE(matches({npm("y", "abc")}, advisories).empty());
}

TEST(AdvisoriesOsv, DebianEntriesMatchSourcePackagesOfTheirRelease) {
  const std::string feed = R"([{
    "id": "DSA-5900-1", "summary": "openssl security update",
    "affected": [
      {"package": {"ecosystem": "Debian:12", "name": "openssl", "purl": "pkg:deb/debian/openssl?arch=source"},
       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.17-1~deb12u3"}]}],
       "ecosystem_specific": {"urgency": "high"}},
      {"package": {"ecosystem": "Debian:11", "name": "openssl"},
       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u4"}]}]}
    ]}, {
    "id": "DEBIAN-CVE-2025-9", "details": "First line.\nSecond line.",
    "affected": [{"package": {"ecosystem": "Debian", "name": "pam"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.5.2-6+deb12u2"}]}]}]
  }])";
  const auto advisories = must(parse_osv(feed));
  ASSERT_EQ(advisories.size(), 3U);
  EXPECT_EQ(advisories[0].ecosystem, "debian");
  EXPECT_EQ(advisories[0].distro, "debian-12");
  EXPECT_EQ(advisories[0].severity, "high");
  EXPECT_EQ(advisories[1].distro, "debian-11");
  EXPECT_EQ(advisories[1].severity, "unknown");
  EXPECT_EQ(advisories[2].distro, "");
  EXPECT_EQ(advisories[2].summary, "First line.");
  EXPECT_EQ(matches({debian("libssl3", "3.0.17-1~deb12u2", "openssl"), debian("libpam0g", "1:1.5.2-6+deb12u1", "pam")},
                    advisories),
            (std::vector<std::string>{"libssl3 DSA-5900-1 fix=3.0.17-1~deb12u3 high",
                                      "libpam0g DEBIAN-CVE-2025-9 fix=1:1.5.2-6+deb12u2 unknown"}));
  // On trixie the bookworm entry does not apply, nor the bullseye one.
  EXPECT_TRUE(matches({debian("libssl3", "3.0.17-1~deb12u2", "openssl", "debian-13")}, advisories).empty());
  // A distro named by codename is the same release.
  EXPECT_EQ(matches({debian("libssl3", "3.0.17-1~deb12u2", "openssl", "bookworm")}, advisories).size(), 1U);
  // Without a distro the component is checked against every release's entry: the first one counts.
  EXPECT_EQ(matches({debian("libssl3", "1.1.1n-0+deb11u5", "openssl", "")}, advisories),
            (std::vector<std::string>{"libssl3 DSA-5900-1 fix=3.0.17-1~deb12u3 high"}));
}

TEST(AdvisoriesOsv, SeverityFromEachSource) {
  auto severity_of = [](const std::string& fields) {
    const auto advisories =
        must(parse_osv(R"({"id": "X-1", )" + fields +
                       R"(, "affected": [{"package": {"ecosystem": "npm", "name": "z"}, "versions": ["1.0.0"]}]})"));
    return advisories.empty() ? std::string("<none>") : advisories[0].severity;
  };
  EXPECT_EQ(severity_of(R"("database_specific": {"severity": "CRITICAL"})"), "critical");
  EXPECT_EQ(severity_of(R"("database_specific": {"severity": "HIGH"})"), "high");
  EXPECT_EQ(severity_of(R"("database_specific": {"severity": "MODERATE"})"), "medium");
  EXPECT_EQ(severity_of(R"("database_specific": {"severity": "LOW"})"), "low");
  // GitHub's label wins over the vector.
  EXPECT_EQ(severity_of(R"("database_specific": {"severity": "LOW"},
                           "severity": [{"type": "CVSS_V3",
                                         "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])"),
            "low");
  EXPECT_EQ(
      severity_of(R"("severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])"),
      "critical");
  EXPECT_EQ(severity_of(
                R"("severity": [
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}])"),
            "high");
  EXPECT_EQ(severity_of(
                R"("severity": [
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}])"),
            "unknown");
  EXPECT_EQ(severity_of(R"("severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}])"), "unknown");
  EXPECT_EQ(severity_of(R"("severity": [{"type": "Ubuntu", "score": "negligible"}])"), "low");
  EXPECT_EQ(severity_of(R"("summary": "nothing")"), "unknown");
}

TEST(AdvisoriesOsv, FeedShapesAndWithdrawnEntries) {
  const std::string entry = kElliptic;
  EXPECT_EQ(must(parse_osv("[" + entry + "," + entry + "]")).size(), 2U);
  EXPECT_EQ(must(parse_osv(R"({"vulns": [)" + entry + "]}")).size(), 1U);
  EXPECT_EQ(must(parse_osv(R"({"vulns": []})")).size(), 0U);
  EXPECT_EQ(must(parse_osv("[]")).size(), 0U);
  const std::string withdrawn = R"({"id": "GHSA-w", "withdrawn": "2024-01-01T00:00:00Z",
      "affected": [{"package": {"ecosystem": "npm", "name": "elliptic"}, "versions": ["6.5.3"]}]})";
  EXPECT_TRUE(must(parse_osv(withdrawn)).empty());
  // Other ecosystems are read but never match.
  const auto pypi =
      must(parse_osv(R"({"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "elliptic"},
      "versions": ["6.5.3"]}]})"));
  ASSERT_EQ(pypi.size(), 1U);
  EXPECT_EQ(pypi[0].ecosystem, "PyPI");
  EXPECT_TRUE(matches({npm("elliptic", "6.5.3")}, pypi).empty());
  // An entry naming the package twice is reported once.
  const auto twice = must(parse_osv(R"({"id": "GHSA-t", "affected": [
      {"package": {"ecosystem": "npm", "name": "q"}, "versions": ["1.0.0"]},
      {"package": {"ecosystem": "npm", "name": "q"},
       "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]})"));
  EXPECT_EQ(matches({npm("q", "1.0.0")}, twice).size(), 1U);
  // A component without a version is taken as affected.
  EXPECT_EQ(matches({npm("elliptic", "")}, must(parse_osv(entry))),
            (std::vector<std::string>{"elliptic GHSA-r9p9-mrjm-926w fix=6.5.4 medium"}));
}

TEST(AdvisoriesOsv, MalformedEntriesNameTheProblem) {
  const std::string good = R"({"id": "A-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]})";
  EXPECT_EQ(error_of(parse_osv("[" + good + "," + good + "," + good + R"(, {"id": "B-1", "affected": [
      {"package": {"ecosystem": "npm", "name": "b"}, "ranges": [
        {"type": "SEMVER", "events": [{"introduced": "0"}]}, {"type": "SEMVER", "events": {}}]}]}])")),
            "OSV entry 3: affected[0].ranges[1].events is not an array");
  auto error_in = [](const std::string& affected) {
    return error_of(parse_osv(R"({"id": "C-1", "affected": [)" + affected + "]}"));
  };
  EXPECT_EQ(error_in("3"), "OSV entry 0: affected[0] is not an object");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm"}})"), "OSV entry 0: affected[0].package.name is not a string");
  EXPECT_EQ(error_in(R"({"package": {"name": "x"}})"), "OSV entry 0: affected[0].package.ecosystem is not a string");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "ranges": {}})"),
            "OSV entry 0: affected[0].ranges is not an array");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"events": []}]})"),
            "OSV entry 0: affected[0].ranges[0].type is not a string");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"type": "RPM", "events": []}]})"),
            "OSV entry 0: affected[0].ranges[0].type is \"RPM\", not ECOSYSTEM, SEMVER or GIT");
  EXPECT_EQ(
      error_in(R"({"package": {"ecosystem": "npm", "name": "x"},
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1.0.0"}]}]})"),
      "OSV entry 0: affected[0].ranges[0].events[0] has more than one of introduced, fixed, last_affected and limit");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"},
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fix": "1.0.0"}]}]})"),
            "OSV entry 0: affected[0].ranges[0].events[1] has none of introduced, fixed, last_affected and limit");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"},
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": 0}]}]})"),
            "OSV entry 0: affected[0].ranges[0].events[0].introduced is not a string");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"},
                         "ranges": [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}]})"),
            "OSV entry 0: affected[0].ranges[0].events has no introduced event");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "versions": "1.0.0"})"),
            "OSV entry 0: affected[0].versions is not an array");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "versions": [1]})"),
            "OSV entry 0: affected[0].versions[0] is not a string");
  EXPECT_EQ(error_in(R"({"package": {"ecosystem": "npm", "name": "x"}, "severity": [{"type": "CVSS_V3"}]})"),
            "OSV entry 0: affected[0].severity[0].score is not a string");
  EXPECT_EQ(error_of(parse_osv(R"({"id": 5})")), "OSV entry 0: id is not a string");
  EXPECT_EQ(error_of(parse_osv(R"([{"id": "A"}, 7])")), "OSV entry 1: entry is not an object");
  EXPECT_EQ(error_of(parse_osv(R"({"id": "A", "affected": {}})")), "OSV entry 0: affected is not an array");
  EXPECT_EQ(error_of(parse_osv(R"({"vulns": {}})")), "OSV: \"vulns\" is not an array");
  EXPECT_NE(error_of(parse_osv(R"({"results": [{"vulns": [{"id": "GHSA-x", "modified": "2024-01-01T00:00:00Z"}]}]})"))
                .find("querybatch"),
            std::string::npos);
  EXPECT_NE(error_of(parse_osv("{")).find("OSV: "), std::string::npos);
}

// ---- parse_feed ---------------------------------------------------------------------------------

TEST(AdvisoriesFeed, TellsTheFormatsApart) {
  auto osv_single = must(parse_feed(kElliptic, "bookworm"));
  ASSERT_EQ(osv_single.size(), 1U);
  EXPECT_EQ(osv_single[0].ecosystem, "npm");
  EXPECT_EQ(must(parse_feed(std::string("[") + kElliptic + "]", "bookworm")).size(), 1U);
  EXPECT_EQ(must(parse_feed(std::string(R"({"vulns": [)") + kElliptic + "]}", "")).size(), 1U);
  const auto tracker = must(parse_feed(kTracker, "bookworm"));
  ASSERT_EQ(tracker.size(), 7U);
  EXPECT_EQ(tracker[0].ecosystem, "debian");
  EXPECT_FALSE(parse_feed(kTracker, ""));  // a tracker file needs a release
  EXPECT_NE(error_of(parse_feed("\"text\"", "bookworm")).find("neither OSV nor a Debian tracker file"),
            std::string::npos);
  EXPECT_NE(error_of(parse_feed("not json", "bookworm")).find("advisory feed: "), std::string::npos);
}

TEST(AdvisoriesFeed, ChecksAWholeSbom) {
  Sbom sbom;
  Component herald;
  herald.name = "herald";
  herald.version = "0.14.0";
  herald.ecosystem = "generic";
  sbom.components = {herald, debian("libssl3", "3.0.17-1~deb12u2", "openssl"), npm("nhsuk-frontend", "10.6.1"),
                     npm("elliptic", "6.5.3")};
  auto advisories = must(parse_feed(kTracker, "bookworm"));
  const auto osv = must(parse_feed(kElliptic, "bookworm"));
  advisories.insert(advisories.end(), osv.begin(), osv.end());
  const auto found = affected_components(sbom.components, advisories);
  ASSERT_EQ(found.size(), 5U);
  EXPECT_EQ(found[0].component, sbom.components[1]);
  EXPECT_EQ(found[0].summary, "Open issue in OpenSSL");
  EXPECT_EQ(found[4].component.name, "elliptic");
  EXPECT_EQ(found[4].advisory_id, "GHSA-r9p9-mrjm-926w");
}

// ---- CVSS ---------------------------------------------------------------------------------------

TEST(AdvisoriesCvss, BaseScoresOfWellKnownVectors) {
  struct Case {
    const char* vector;
    int tenths;
  };
  for (const Case& c : std::vector<Case>{
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},
           {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100},
           {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 91},
           {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 88},
           {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75},
           {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 68},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61},
           {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 59},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 53},
           {"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 46},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
           // Temporal and environmental metrics after the base ones are allowed and ignored.
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 98},
           // Metrics in another order.
           {"CVSS:3.1/S:U/AV:N/C:H/AC:L/I:H/PR:N/A:H/UI:N", 98},
       }) {
    EXPECT_EQ(cvss3_base_score_tenths(c.vector), c.tenths) << c.vector;
  }
}

TEST(AdvisoriesCvss, MalformedVectorsAndRatings) {
  for (const char* bad : {"", "CVSS:3.1", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                          "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",           // no A
                          "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",       // bad value
                          "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  // twice
                          "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",      // empty metric
                          "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}) {
    EXPECT_EQ(cvss3_base_score_tenths(bad), -1) << bad;
  }
  EXPECT_EQ(cvss3_severity(100), "critical");
  EXPECT_EQ(cvss3_severity(90), "critical");
  EXPECT_EQ(cvss3_severity(89), "high");
  EXPECT_EQ(cvss3_severity(70), "high");
  EXPECT_EQ(cvss3_severity(69), "medium");
  EXPECT_EQ(cvss3_severity(40), "medium");
  EXPECT_EQ(cvss3_severity(39), "low");
  EXPECT_EQ(cvss3_severity(1), "low");
  EXPECT_EQ(cvss3_severity(0), "low");
  EXPECT_EQ(cvss3_severity(-1), "unknown");
}

}  // namespace
}  // namespace herald::release
