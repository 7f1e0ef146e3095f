#include "release/version_order.h"

#include <gtest/gtest.h>

#include <vector>

namespace herald::release {
namespace {

struct Case {
  const char* a;
  const char* b;
  int expected;  // -1, 0 or 1
};

int sign(int n) { return (n > 0) - (n < 0); }

void expect_debian(const Case& c) {
  EXPECT_EQ(sign(compare_debian_versions(c.a, c.b)), c.expected) << c.a << " vs " << c.b;
  // The order is antisymmetric.
  EXPECT_EQ(sign(compare_debian_versions(c.b, c.a)), -c.expected) << c.b << " vs " << c.a;
}

void expect_semver(const Case& c) {
  EXPECT_EQ(sign(compare_semver(c.a, c.b)), c.expected) << c.a << " vs " << c.b;
  EXPECT_EQ(sign(compare_semver(c.b, c.a)), -c.expected) << c.b << " vs " << c.a;
}

TEST(VersionOrderDebian, TheCasesTheBriefNames) {
  for (const Case& c : std::vector<Case>{
           {"1.0~rc1", "1.0", -1},
           {"1:0.1", "2.0", 1},
           {"1.0-1", "1.0-1+deb12u1", -1},
           {"3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1},
           {"3.0.17-1~deb12u2", "3.0.17-1~deb12u3", -1},
           {"3.0.17-1~deb12u2", "3.0.17-1", -1},  // a stable backport sorts before the unstable upload
       }) {
    expect_debian(c);
  }
}

TEST(VersionOrderDebian, TildeSortsBeforeEverythingIncludingTheEnd) {
  // Debian Policy 5.6.12's example: ~~, ~~a, ~, the empty part, a.
  const std::vector<const char*> ascending = {"1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) expect_debian({ascending[i], ascending[i + 1], -1});
  expect_debian({"1.0~rc1", "1.0~beta1", 1});
  expect_debian({"3.0~rc1-1", "3.0-1", -1});
  expect_debian({"1.0-1~bpo12+1", "1.0-1", -1});
  expect_debian({"1.0-1", "1.0-1+b1", -1});  // a binNMU sorts after its source upload
}

TEST(VersionOrderDebian, LettersSortBeforeOtherCharacters) {
  expect_debian({"1.0a", "1.0+", -1});
  expect_debian({"1.0a", "1.0.1", -1});
  expect_debian({"1.0+dfsg", "1.0.1", -1});    // '+' and '.' by ASCII after the letters
  expect_debian({"1.0+dfsg", "1.0-dfsg", 1});  // upstream "1.0+dfsg" against upstream "1.0"
  expect_debian({"98.1p5-1", "98.1-pre2-b6-2", -1});
  expect_debian({"7.6p2-4", "7.6-0", 1});
  expect_debian({"1.1.6r2-2", "1.1.6r-1", 1});
  expect_debian({"2.6b2-1", "2.6b-2", 1});
  expect_debian({"0.4a6-2", "0.4-1", 1});
  expect_debian({"0-pre", "0-pre", 0});
  expect_debian({"0-pre", "0-pree", -1});
}

TEST(VersionOrderDebian, DigitRunsCompareNumerically) {
  expect_debian({"1.2.3", "1.2.10", -1});
  expect_debian({"2.30", "2.4", 1});
  expect_debian({"1.001", "1.1", 0});
  expect_debian({"1.0.3-3", "1.0-1", 1});
  expect_debian({"1.3", "1.2.2-2", 1});
  expect_debian({"1:1.25-4", "1:1.25-8", -1});
  expect_debian({"1:3.0.5-2", "1:3.0.5.1", -1});
  expect_debian({"1.99999999999999999999999", "1.99999999999999999999998", 1});  // beyond 64 bits
}

TEST(VersionOrderDebian, EpochsComeFirstAndDefaultToZero) {
  expect_debian({"1.0", "0:1.0", 0});
  expect_debian({"0:1.18.36", "1.18.36", 0});
  expect_debian({"0:1.18.36", "1.18.35", 1});
  expect_debian({"10.3", "1:0.4", -1});
  expect_debian({"2:1.0", "1:9.9", 1});
  expect_debian({"9:1.18.36:5.4-20", "10:0.5.1-22", -1});
  expect_debian({"9:1.18.36:5.4-20", "9:1.18.36:5.5-1", -1});  // colons after the epoch are upstream
  expect_debian({"1:2.0", "01:2.0", 0});
}

TEST(VersionOrderDebian, AnAbsentRevisionEqualsZero) {
  expect_debian({"1.0", "1.0-0", 0});
  expect_debian({"1.0-0", "0:1.0-0", 0});
  expect_debian({"1.0", "1.0-1", -1});
  expect_debian({"1.2-3-4", "1.2-3-5", -1});  // the revision starts after the last hyphen
  expect_debian({"1.2-3-4", "1.2-4-1", -1});
}

TEST(VersionOrderDebian, MalformedTextIsStillOrdered) {
  expect_debian({"", "", 0});
  expect_debian({"", "0", 0});
  expect_debian({"abc", "abd", -1});
  expect_debian({"x:1.0", "1.0", 1});  // a non-numeric "epoch" is part of the upstream version
  expect_debian({" 1.0 ", "1.0", 0});
}

TEST(VersionOrderDebian, ParseSplitsAsDpkgDoes) {
  auto v = parse_debian_version("1:3.0.17-1~deb12u2");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->epoch, 1U);
  EXPECT_EQ(v->upstream, "3.0.17");
  EXPECT_EQ(v->revision, "1~deb12u2");
  v = parse_debian_version("2.36");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->epoch, 0U);
  EXPECT_EQ(v->upstream, "2.36");
  EXPECT_EQ(v->revision, "");
  v = parse_debian_version("1.2-3-4");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->upstream, "1.2-3");
  EXPECT_EQ(v->revision, "4");
  v = parse_debian_version("2:1.18.36:5.4-20");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->upstream, "1.18.36:5.4");
  EXPECT_TRUE(parse_debian_version(" 1.0-1 "));
  EXPECT_TRUE(parse_debian_version("2147483647:1.0"));
}

TEST(VersionOrderDebian, ParseRefusesWhatDpkgRefuses) {
  for (const char* bad : {"", "  ", "1.0 1", "a:1.0", "-1:1.0", "2147483648:1.0", "1:", "1.0-", "-1", "a1.0", "1.0_1",
                          "1.0-1:2", "1.0-1_2", "1:-1"}) {
    const auto v = parse_debian_version(bad);
    EXPECT_FALSE(v) << '"' << bad << '"';
    if (!v) {
      EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(VersionOrderSemver, TheSpecificationsPrecedenceChain) {
  // SemVer 2.0.0 section 11, in ascending order.
  const std::vector<const char*> ascending = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                              "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                              "1.0.0-rc.1",  "1.0.0",         "2.0.0",
                                              "2.1.0",       "2.1.1"};
  for (std::size_t i = 0; i < ascending.size(); ++i) {
    for (std::size_t j = 0; j < ascending.size(); ++j) {
      expect_semver({ascending[i], ascending[j], i < j ? -1 : (i == j ? 0 : 1)});
    }
  }
}

TEST(VersionOrderSemver, NumbersCompareNumerically) {
  expect_semver({"10.0.0", "9.0.0", 1});
  expect_semver({"1.10.0", "1.9.0", 1});
  expect_semver({"1.0.10", "1.0.9", 1});
  expect_semver({"1.0.0-alpha.10", "1.0.0-alpha.9", 1});
  expect_semver({"1.0.0-alpha.9", "1.0.0-alpha.a", -1});  // numeric identifiers sort before text
  expect_semver({"1.0.0-alpha-1", "1.0.0-alpha.1", 1});   // '-' belongs to the identifier
  expect_semver({"1.0.99999999999999999999999", "1.0.99999999999999999999998", 1});
}

TEST(VersionOrderSemver, BuildMetadataIsIgnored) {
  expect_semver({"1.0.0+20130313144700", "1.0.0", 0});
  expect_semver({"1.0.0-beta+exp.sha.5114f85", "1.0.0-beta", 0});
  expect_semver({"1.0.0+a", "1.0.0+b", 0});
}

TEST(VersionOrderSemver, NpmPrefixesAndLooseText) {
  expect_semver({"v1.2.3", "1.2.3", 0});
  expect_semver({"=1.2.3", "1.2.3", 0});
  expect_semver({"1.2", "1.2.0", 0});
  expect_semver({"1", "1.0.0", 0});
  expect_semver({"1.2.x", "1.2.9", 1});  // text after numbers
  expect_semver({"", "0.0.0", 1});
}

TEST(VersionOrderSemver, ParseAcceptsValidVersions) {
  auto v = parse_semver("1.0.0-alpha.1+build.5");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->major, "1");
  EXPECT_EQ(v->minor, "0");
  EXPECT_EQ(v->patch, "0");
  EXPECT_EQ(v->prerelease, (std::vector<std::string>{"alpha", "1"}));
  EXPECT_EQ(v->build, "build.5");
  v = parse_semver("v10.6.1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, "10");
  EXPECT_TRUE(v->prerelease.empty());
  EXPECT_TRUE(parse_semver("1.0.0-0A.is.legal"));
  EXPECT_TRUE(parse_semver("1.0.0+0.build.1-rc.10000aaa-kk-0.1"));
  EXPECT_TRUE(parse_semver("0.0.0"));
}

TEST(VersionOrderSemver, ParseRefusesInvalidVersions) {
  for (const char* bad : {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01",
                          "1.2.3-a..b", "1.2.3-a_b", "1.2.3+a..b", "a.b.c", "1.2.3 4", "1.2.-3"}) {
    const auto v = parse_semver(bad);
    EXPECT_FALSE(v) << '"' << bad << '"';
    if (!v) {
      EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace herald::release
