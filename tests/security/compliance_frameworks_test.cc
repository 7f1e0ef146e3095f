#include "security/compliance_frameworks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace herald::security {
namespace {

constexpr std::string_view kDspt = "DSPT 2025-26";
constexpr std::string_view kNdg = "NDG data security standards";
constexpr std::string_view kCaf = "NCSC CAF v4.0";
constexpr std::string_view kCyberEssentials = "Cyber Essentials";
constexpr std::string_view kIso = "ISO/IEC 27001:2022 Annex A";

std::vector<const FrameworkItem*> items_of(std::string_view framework) {
  std::vector<const FrameworkItem*> out;
  for (const auto& item : framework_items()) {
    if (item.framework == framework) out.push_back(&item);
  }
  return out;
}

std::vector<std::string> ids_of(std::string_view framework) {
  std::vector<std::string> out;
  for (const auto* item : items_of(framework)) out.emplace_back(item->id);
  return out;
}

const FrameworkItem* find_item(std::string_view framework, std::string_view id) {
  for (const auto& item : framework_items()) {
    if (item.framework == framework && item.id == id) return &item;
  }
  return nullptr;
}

bool cites(const FrameworkItem& item, std::string_view evidence) {
  return std::find(item.evidence.begin(), item.evidence.end(), evidence) != item.evidence.end();
}

std::string name(const FrameworkItem& item) { return std::string(item.framework) + " " + std::string(item.id); }

TEST(ComplianceFrameworks, FrameworksAreTheFiveInReportOrder) {
  const std::vector<std::string_view> expected = {kDspt, kNdg, kCaf, kCyberEssentials, kIso};
  const auto actual = frameworks();
  EXPECT_EQ(std::vector<std::string_view>(actual.begin(), actual.end()), expected);
}

TEST(ComplianceFrameworks, EvidenceIdsAreTheFifteenInOrder) {
  const std::vector<std::string_view> expected = {
      "config.check",          "tls.settings",         "keys.rotation",
      "encryption.at_rest",    "backup.recent",        "backup.restore_verified",
      "audit.chain",           "retention.policy",     "admin.two_factor",
      "store.least_privilege", "network.restrictions", "intrusion.detection",
      "advisories.status",     "release.provenance",   "pentest.results",
  };
  const auto actual = evidence_ids();
  EXPECT_EQ(std::vector<std::string_view>(actual.begin(), actual.end()), expected);
}

TEST(ComplianceFrameworks, EveryFrameworkHasItemsAndEveryItemNamesOne) {
  const auto names = frameworks();
  for (const auto framework : names) EXPECT_FALSE(items_of(framework).empty()) << framework;
  for (const auto& item : framework_items()) {
    EXPECT_NE(std::find(names.begin(), names.end(), item.framework), names.end()) << name(item);
  }
  // The brief's scale: only what Herald's evidence bears on.
  EXPECT_GE(framework_items().size(), 60u);
  EXPECT_LE(framework_items().size(), 90u);
}

TEST(ComplianceFrameworks, ItemsAreGroupedInFrameworkOrder) {
  const auto names = frameworks();
  std::ptrdiff_t last = 0;
  for (const auto& item : framework_items()) {
    const auto position = std::find(names.begin(), names.end(), item.framework) - names.begin();
    EXPECT_GE(position, last) << name(item) << " comes after a later framework's items";
    last = position;
  }
}

TEST(ComplianceFrameworks, IdsAreUniqueWithinAFramework) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& item : framework_items()) {
    EXPECT_TRUE(seen.emplace(item.framework, item.id).second) << "duplicate " << name(item);
  }
}

TEST(ComplianceFrameworks, IdsHaveTheirFrameworksShape) {
  const std::map<std::string_view, std::regex> shapes = {
      {kDspt, std::regex(R"([A-E][1-6]\.[a-f])")}, {kNdg, std::regex(R"(Standard ([1-9]|10))")},
      {kCaf, std::regex(R"([A-D][1-6]\.[a-f])")},  {kCyberEssentials, std::regex(R"([A-Z][a-z ]+)")},
      {kIso, std::regex(R"([5-8]\.[1-9][0-9]?)")},
  };
  for (const auto& item : framework_items()) {
    const auto shape = shapes.find(item.framework);
    ASSERT_NE(shape, shapes.end()) << name(item);
    EXPECT_TRUE(std::regex_match(std::string(item.id), shape->second)) << name(item);
  }
}

TEST(ComplianceFrameworks, ItemsFollowTheFrameworksOwnOrder) {
  // "A1.a" < "B2.c", "Standard 2" < "Standard 10", "5.34" < "8.2" < "8.24": compare the numbers as numbers.
  const auto key = [](std::string_view id) {
    std::vector<int> parts;
    std::string text;
    for (const char c : id) {
      if (c >= '0' && c <= '9') {
        text += c;
      } else {
        if (!text.empty()) parts.push_back(std::stoi(text));
        text.clear();
        if (c != '.' && c != ' ') parts.push_back(c * 1000);  // a letter sorts by itself, above any number
      }
    }
    if (!text.empty()) parts.push_back(std::stoi(text));
    return parts;
  };
  for (const auto framework : frameworks()) {
    if (framework == kCyberEssentials) continue;  // its themes are not numbered
    const auto items = items_of(framework);
    for (std::size_t i = 1; i < items.size(); ++i) {
      EXPECT_LT(key(items[i - 1]->id), key(items[i]->id)) << name(*items[i - 1]) << " then " << name(*items[i]);
    }
  }
}

TEST(ComplianceFrameworks, EveryItemRestsOnKnownEvidenceAndEveryEvidenceIsCited) {
  const auto known = evidence_ids();
  std::set<std::string_view> cited;
  for (const auto& item : framework_items()) {
    EXPECT_FALSE(item.evidence.empty()) << name(item);
    std::set<std::string_view> own;
    for (const auto evidence : item.evidence) {
      EXPECT_NE(std::find(known.begin(), known.end(), evidence), known.end()) << name(item) << ": " << evidence;
      EXPECT_TRUE(own.insert(evidence).second) << name(item) << " cites " << evidence << " twice";
      cited.insert(evidence);
    }
  }
  for (const auto evidence : known) EXPECT_TRUE(cited.count(evidence)) << evidence << " is cited by no item";
}

TEST(ComplianceFrameworks, EveryItemSaysWhatHeraldAndTheOperatorDo) {
  for (const auto& item : framework_items()) {
    EXPECT_FALSE(item.title.empty()) << name(item);
    ASSERT_FALSE(item.herald_part.empty()) << name(item);
    // One sentence each: capitalised, ends with a full stop, no second sentence.
    EXPECT_TRUE(item.herald_part.front() >= 'A' && item.herald_part.front() <= 'Z') << name(item);
    EXPECT_EQ(item.herald_part.back(), '.') << name(item);
    EXPECT_EQ(item.herald_part.find(". "), std::string_view::npos) << name(item);
    if (item.operator_part.empty()) continue;
    EXPECT_EQ(item.operator_part.back(), '.') << name(item);
    EXPECT_EQ(item.operator_part.find(". "), std::string_view::npos) << name(item);
  }
}

TEST(ComplianceFrameworks, NdgHasExactlyTheTenStandards) {
  std::vector<std::string> expected;
  for (int n = 1; n <= 10; ++n) expected.push_back("Standard " + std::to_string(n));
  EXPECT_EQ(ids_of(kNdg), expected);
  const auto* data_access = find_item(kNdg, "Standard 4");
  ASSERT_NE(data_access, nullptr);
  EXPECT_TRUE(cites(*data_access, "admin.two_factor"));
  EXPECT_TRUE(cites(*data_access, "store.least_privilege"));
  const auto* continuity = find_item(kNdg, "Standard 7");
  ASSERT_NE(continuity, nullptr);
  EXPECT_TRUE(cites(*continuity, "backup.restore_verified"));
  // Training is people's work: Herald's evidence can never show it met.
  const auto* training = find_item(kNdg, "Standard 3");
  ASSERT_NE(training, nullptr);
  EXPECT_FALSE(training->operator_part.empty());
}

TEST(ComplianceFrameworks, CyberEssentialsHasItsFiveControls) {
  const std::vector<std::string> expected = {"Firewalls", "Secure configuration", "Security update management",
                                             "User access control", "Malware protection"};
  EXPECT_EQ(ids_of(kCyberEssentials), expected);
  EXPECT_TRUE(cites(*find_item(kCyberEssentials, "Firewalls"), "network.restrictions"));
  EXPECT_TRUE(cites(*find_item(kCyberEssentials, "Security update management"), "advisories.status"));
  EXPECT_TRUE(cites(*find_item(kCyberEssentials, "User access control"), "admin.two_factor"));
}

TEST(ComplianceFrameworks, IsoCryptographyAndBackupRestOnTheirEvidence) {
  const auto* cryptography = find_item(kIso, "8.24");
  ASSERT_NE(cryptography, nullptr);
  EXPECT_TRUE(cites(*cryptography, "encryption.at_rest"));
  EXPECT_TRUE(cites(*cryptography, "keys.rotation"));
  EXPECT_TRUE(cites(*cryptography, "tls.settings"));
  const auto* backup = find_item(kIso, "8.13");
  ASSERT_NE(backup, nullptr);
  EXPECT_TRUE(cites(*backup, "backup.recent"));
  EXPECT_TRUE(cites(*backup, "backup.restore_verified"));
  const auto* logging = find_item(kIso, "8.15");
  ASSERT_NE(logging, nullptr);
  EXPECT_TRUE(cites(*logging, "audit.chain"));
  // Physical (7.x) and people (6.x) controls are the operator's: Herald's evidence bears on none.
  for (const auto* item : items_of(kIso)) {
    EXPECT_TRUE(item->id.starts_with("5.") || item->id.starts_with("8.")) << name(*item);
  }
}

TEST(ComplianceFrameworks, CafV4UsesItsOwnNumbering) {
  // v4.0 added A2.b Understanding threat (moving Assurance to A2.c), A4.b and C1.f, and left C2 with C2.a alone.
  const auto* assurance = find_item(kCaf, "A2.c");
  ASSERT_NE(assurance, nullptr);
  EXPECT_TRUE(cites(*assurance, "pentest.results"));
  const auto* software = find_item(kCaf, "A4.b");
  ASSERT_NE(software, nullptr);
  EXPECT_TRUE(cites(*software, "release.provenance"));
  const auto* behaviour = find_item(kCaf, "C1.f");
  ASSERT_NE(behaviour, nullptr);
  EXPECT_TRUE(cites(*behaviour, "intrusion.detection"));
  EXPECT_EQ(find_item(kCaf, "C2.b"), nullptr);
  EXPECT_EQ(find_item(kCaf, "E4.a"), nullptr);
  const auto* logs = find_item(kCaf, "C1.b");
  ASSERT_NE(logs, nullptr);
  EXPECT_TRUE(cites(*logs, "audit.chain"));
}

TEST(ComplianceFrameworks, DsptUsesTheCafV32IdsAndObjectiveE) {
  // The 2025-26 toolkit keeps CAF v3.2's numbering: A2.b is Assurance there, not Understanding threat.
  const auto* assurance = find_item(kDspt, "A2.b");
  ASSERT_NE(assurance, nullptr);
  EXPECT_TRUE(cites(*assurance, "pentest.results"));
  EXPECT_EQ(find_item(kDspt, "A2.c"), nullptr);
  EXPECT_EQ(find_item(kDspt, "A4.b"), nullptr);
  const auto* stored = find_item(kDspt, "B3.c");
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(cites(*stored, "encryption.at_rest"));
  const auto* transit = find_item(kDspt, "B3.b");
  ASSERT_NE(transit, nullptr);
  EXPECT_TRUE(cites(*transit, "tls.settings"));
  const auto* privileged = find_item(kDspt, "B2.c");
  ASSERT_NE(privileged, nullptr);
  EXPECT_TRUE(cites(*privileged, "admin.two_factor"));
  const auto* records = find_item(kDspt, "E4.a");
  ASSERT_NE(records, nullptr);
  EXPECT_TRUE(cites(*records, "retention.policy"));
}

}  // namespace
}  // namespace herald::security
