// The compliance report's statuses from evidence, and its two forms.
#include "security/compliance_report.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace herald::security {
namespace {

ComplianceReport all(Status status) {
  ComplianceReport r;
  r.generated_at = "2026-12-05T10:00:00.000000Z";
  r.node = "node-1";
  r.herald_version = "0.15.0";
  for (std::string_view id : evidence_ids()) r.evidence.push_back({std::string(id), status, "found", "how"});
  compute_items(r);
  return r;
}

TEST(ComplianceReport, EveryItemFollowsItsEvidence) {
  EXPECT_FALSE(any_not_met(all(Status::kMet)));
  for (const auto& i : all(Status::kMet).items) EXPECT_EQ(i.status, Status::kMet) << i.item->id;
  for (const auto& i : all(Status::kPartlyMet).items) EXPECT_EQ(i.status, Status::kPartlyMet);
  EXPECT_TRUE(any_not_met(all(Status::kNotMet)));
  EXPECT_EQ(all(Status::kMet).items.size(), framework_items().size());
}

TEST(ComplianceReport, OneFailedPieceOfEvidenceMarksOnlyTheItemsThatRestOnIt) {
  ComplianceReport r = all(Status::kMet);
  for (auto& e : r.evidence) {
    if (e.id == "pentest.results") e.status = Status::kNotMet;
  }
  compute_items(r);
  int touched = 0;
  for (const auto& i : r.items) {
    const bool cites =
        std::find(i.item->evidence.begin(), i.item->evidence.end(), "pentest.results") != i.item->evidence.end();
    if (!cites) {
      EXPECT_EQ(i.status, Status::kMet) << i.item->id;
      continue;
    }
    ++touched;
    EXPECT_EQ(i.status, Status::kNotMet) << i.item->id;  // the worst of its evidence
  }
  EXPECT_GT(touched, 0);
}

TEST(ComplianceReport, EvidenceNotGatheredIsNotMet) {
  ComplianceReport r;
  r.evidence.push_back({"config.check", Status::kMet, "ok", "herald config check"});
  compute_items(r);
  ASSERT_EQ(r.evidence.size(), evidence_ids().size());
  EXPECT_EQ(r.evidence[1].found, "not gathered");
  EXPECT_TRUE(any_not_met(r));
}

TEST(ComplianceReport, JsonListsEveryFrameworkAndItem) {
  ComplianceReport r = all(Status::kMet);
  r.evidence[0].found = "a \"quoted\" <finding>";
  auto doc = json::parse(report_json(r));
  ASSERT_TRUE(doc);
  EXPECT_FALSE(doc->find("not_met")->as_bool());
  std::size_t items = 0;
  for (const auto& f : doc->find("frameworks")->as_array()) items += f.find("items")->as_array().size();
  EXPECT_EQ(items, framework_items().size());
  EXPECT_EQ(doc->find("evidence")->as_array()[0].find("found")->as_string(), "a \"quoted\" <finding>");
}

TEST(ComplianceReport, HtmlEscapesWhatItShows) {
  ComplianceReport r = all(Status::kNotMet);
  r.evidence[0].found = "<script>alert(1)</script>";
  const std::string html = report_html(r);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Some items are not met."), std::string::npos);
  for (std::string_view f : frameworks()) EXPECT_NE(html.find(std::string(f)), std::string::npos) << f;
}

}  // namespace
}  // namespace herald::security
