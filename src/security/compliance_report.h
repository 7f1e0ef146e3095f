#pragma once
// `herald compliance report`'s model: the evidence gathered from a live installation (cli/
// compliance_commands.cc gathers it), each framework item's status computed from the evidence it
// rests on (security/compliance_frameworks.h), and the two forms an assessor reads: JSON (which
// the command signs) and a self-contained HTML page.
//
// An item is met when every piece of its evidence is met, not met when any is not met, and
// partly met otherwise. The status is what Herald's evidence shows; each item also says what
// remains for the organisation to show (its operator part), which no live check can.

#include <string>
#include <string_view>
#include <vector>

#include "security/compliance_frameworks.h"

namespace herald::security {

enum class Status { kMet, kPartlyMet, kNotMet };
const char* status_name(Status status);  // "met", "partly met", "not met"

struct Evidence {
  std::string id;  // one of evidence_ids()
  Status status = Status::kNotMet;
  std::string found;      // what was found, for the assessor (never a secret or personal data)
  std::string reproduce;  // the command that shows it again
};

struct ReportItem {
  const FrameworkItem* item = nullptr;
  Status status = Status::kNotMet;
};

struct ComplianceReport {
  std::string generated_at;  // format_timestamp
  std::string node;
  std::string herald_version;
  std::string herald_commit;
  std::string binary_sha256;
  std::vector<Evidence> evidence;  // in evidence_ids() order; an id not gathered is "not met"
  std::vector<ReportItem> items;   // framework_items() order
};

// Fills in the items from the evidence (any evidence id missing from `evidence` is added as not
// met, "not gathered").
void compute_items(ComplianceReport& report);
bool any_not_met(const ComplianceReport& report);

std::string report_json(const ComplianceReport& report);
std::string report_html(const ComplianceReport& report);

inline constexpr std::string_view kCompliancePayloadType = "application/vnd.herald.compliance.v1+json";

}  // namespace herald::security
