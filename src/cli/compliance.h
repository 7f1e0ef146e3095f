#pragma once
// Patch management and compliance evidence (docs/compliance.md): the running build's SBOM against
// the operator's advisory feed (`herald advisories check`, and daily inside `serve`), and the
// compliance report gathered from live checks (`herald compliance report`).

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/context.h"
#include "release/advisories.h"
#include "security/compliance_report.h"

namespace herald::cli {

struct AdvisoryStatus {
  std::string sbom_path;
  std::string feed_path;
  std::size_t components = 0;
  std::size_t advisories = 0;
  std::vector<release::Affected> affected;
};

// The SBOM (compliance.sbom, else the release directory's) against compliance.advisory_feed.
// kFailedPrecondition when either is not configured; kNotFound / kInvalidArgument naming the
// file when one cannot be read.
Result<AdvisoryStatus> check_advisories(const ComplianceConfig& config);

// Each affected component as a line: "<advisory> <severity> <package> <installed> (fixed in <v>)".
std::string advisory_lines(const AdvisoryStatus& status);

struct AdvisoriesOptions {
  std::string feed;  // override compliance.advisory_feed
  std::string sbom;  // override compliance.sbom
  bool json = false;
};
// `herald advisories check`: exit 1 when anything is affected, 0 when nothing is.
int run_advisories_check(const std::string& config_path, const AdvisoriesOptions& options);

// Every piece of evidence the report rests on, gathered from the installation now.
std::vector<security::Evidence> gather_evidence(Context& context, Timestamp now);

struct ComplianceOptions {
  std::string json_out;  // the signed report (a DSSE envelope); empty: none
  std::string html_out;  // the page for an assessor; empty: none
  SigningKeyOptions key{"", "HERALD_REPORT_KEY_PASSPHRASE"};
};
// `herald compliance report`: exit 1 when any item is not met.
int run_compliance_report(const std::string& config_path, const ComplianceOptions& options);

}  // namespace herald::cli
