#include "cli/compliance.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/build_info.h"
#include "cli/config_check.h"
#include "cli/release_files.h"
#include "core/json.h"
#include "release/dsse.h"
#include "release/sbom.h"
#include "release/verify.h"

namespace herald::cli {
namespace fs = std::filesystem;
namespace {

using security::Evidence;
using security::Status;

std::string sbom_path(const ComplianceConfig& config) {
  if (!config.sbom.empty()) return config.sbom;
  if (!config.release_dir.empty()) return (fs::path(config.release_dir) / release::kSbomFile).string();
  return "";
}

Status from_checks(const std::vector<ConfigCheck>& checks, const std::vector<std::string>& ids, std::string& found) {
  Status status = Status::kMet;
  for (const auto& c : checks) {
    if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) continue;
    found += (found.empty() ? "" : "; ") + c.id + ": " + (c.passed ? std::string("pass") : c.found);
    if (c.passed) continue;
    const Status s = c.severity == Severity::kHigh ? Status::kNotMet : Status::kPartlyMet;
    if (static_cast<int>(s) > static_cast<int>(status)) status = s;
  }
  if (found.empty()) found = "no such check ran";
  return status;
}

Evidence config_evidence(const std::vector<ConfigCheck>& checks) {
  std::map<Severity, int> counts;
  std::string failed;
  for (const auto& c : checks) {
    if (c.passed) continue;
    ++counts[c.severity];
    failed += (failed.empty() ? "" : ", ") + c.id + " (" + severity_name(c.severity) + ")";
  }
  const Status status = counts[Severity::kHigh] > 0                              ? Status::kNotMet
                        : counts[Severity::kMedium] + counts[Severity::kLow] > 0 ? Status::kPartlyMet
                                                                                 : Status::kMet;
  return {"config.check", status,
          std::to_string(checks.size()) + " checks; " +
              (failed.empty() ? std::string("every one passed") : "findings: " + failed),
          "herald config check"};
}

Evidence admin_two_factor(Context& context) {
  auto users = context.store->list_admin_users();
  if (!users)
    return {"admin.two_factor", Status::kNotMet, "cannot list admin users: " + users.error().message,
            "herald user list"};
  int active = 0;
  std::vector<std::string> without;
  for (const auto& user : *users) {
    if (user.disabled_at || !user.enrolled_at) continue;  // cannot sign in
    ++active;
    auto keys = context.store->webauthn_credentials(user.id);
    const bool second_factor = !user.totp_secret.empty() || (keys && !keys->empty());
    if (!second_factor) without.push_back(user.id.to_string());
  }
  if (!without.empty()) {
    std::string ids;
    for (const auto& id : without) ids += (ids.empty() ? "" : ", ") + id;
    return {"admin.two_factor", Status::kNotMet,
            std::to_string(without.size()) + " of " + std::to_string(active) +
                " users who can sign in have no second factor: " + ids,
            "herald user list"};
  }
  const std::string who = active == 0 ? std::string("no admin user has enrolled yet")
                                      : std::to_string(active) + " admin users can sign in, each with a second factor";
  return {"admin.two_factor", Status::kMet,
          who + "; enrolment requires a second factor (TOTP or a security key) and every sign-in asks for it",
          "herald user list"};
}

Evidence audit_chain(Context& context, const std::vector<ConfigCheck>& checks) {
  auto verified = context.audit->verify();
  if (!verified)
    return {"audit.chain", Status::kNotMet, "cannot verify: " + verified.error().message, "herald audit verify"};
  const auto& report = verified->report;
  if (!report.ok)
    return {"audit.chain", Status::kNotMet, "the chain does not verify: " + report.problem, "herald audit verify"};
  std::string found = std::to_string(report.entries) + " entries and " + std::to_string(report.checkpoints) +
                      " signed checkpoints verify";
  std::string detail;
  const Status recent = from_checks(checks, {"audit.checkpoints"}, detail);
  return {"audit.chain", recent == Status::kMet ? Status::kMet : Status::kPartlyMet, found + "; " + detail,
          "herald audit verify"};
}

Evidence least_privilege(const Config& config, const std::vector<ConfigCheck>& checks) {
  if (config.store_url.empty()) {
    return {"store.least_privilege", Status::kPartlyMet,
            "one SQLite file owned by the service user, mode 0600: no separate database roles on one machine "
            "(per-role PostgreSQL roles need the PostgreSQL store)",
            "herald config check"};
  }
  std::string found;
  const Status s =
      from_checks(checks, {"store.api_url", "store.worker_url", "store.admin_url", "store.retention_url"}, found);
  return {"store.least_privilege", s == Status::kMet ? Status::kMet : Status::kPartlyMet, found,
          "herald store grants; herald config check"};
}

Evidence network(const Config& config, const std::vector<ConfigCheck>& checks) {
  std::string found;
  Status s = from_checks(checks, {"listeners.admin", "listeners.metrics"}, found);
  if (config.security.egress_allow.empty()) {
    found += "; no egress allow-list ([security] egress_allow)";
    if (s == Status::kMet) s = Status::kPartlyMet;
  } else {
    found += "; egress limited to " + std::to_string(config.security.egress_allow.size()) + " networks";
  }
  return {"network.restrictions", s, found, "herald config check"};
}

Evidence advisories(const ComplianceConfig& config) {
  auto status = check_advisories(config);
  if (!status) return {"advisories.status", Status::kNotMet, status.error().message, "herald advisories check"};
  if (status->affected.empty()) {
    return {"advisories.status", Status::kMet,
            std::to_string(status->components) + " components checked against " + std::to_string(status->advisories) +
                " advisories in " + status->feed_path + ": none affected",
            "herald advisories check"};
  }
  const bool severe = std::any_of(status->affected.begin(), status->affected.end(), [](const release::Affected& a) {
    return a.severity == "critical" || a.severity == "high" || a.severity == "unknown";
  });
  return {"advisories.status", severe ? Status::kNotMet : Status::kPartlyMet,
          std::to_string(status->affected.size()) + " affected: " + advisory_lines(*status), "herald advisories check"};
}

Evidence provenance(const ComplianceConfig& config) {
  const std::string how = "herald release verify RELEASE --trust FILE; sha256sum $(command -v herald)";
  if (config.release_dir.empty() || config.release_trust.empty()) {
    return {"release.provenance", Status::kNotMet,
            "[compliance] release_dir and release_trust are not set: the running binary's provenance is not shown",
            how};
  }
  auto keys = load_trust(config.release_trust);
  if (!keys) return {"release.provenance", Status::kNotMet, keys.error().message, how};
  auto verified = verify_release_directory(config.release_dir, *keys, release::Stage::kStaging);
  if (!verified) return {"release.provenance", Status::kNotMet, verified.error().message, how};
  const std::string& running = running_binary_sha256();
  if (verified->binary().sha256 != running) {
    return {"release.provenance", Status::kNotMet,
            "the running binary (" + running + ") is not release " + verified->metadata.version + "'s (" +
                verified->binary().sha256 + ")",
            how};
  }
  auto live = verify_release_directory(config.release_dir, *keys, release::Stage::kLive);
  const auto& p = verified->provenance;
  std::string found = "the running binary is release " + verified->metadata.version + " (commit " + p.commit +
                      "), signed; built from the signed range " + p.commit_range + ", reproduced by " +
                      std::to_string(p.reproduced_builds) + " clean builds";
  found += live ? "; passed staging acceptance on " + live->acceptance->staging_node : "; no staging acceptance record";
  const bool full = live && p.reproduced_builds >= 2;
  return {"release.provenance", full ? Status::kMet : Status::kPartlyMet, found, how};
}

Evidence pentest(const ComplianceConfig& config, Timestamp now) {
  const std::string how = "make pentest (results in pentest/results/<date>/)";
  if (config.pentest_results.empty()) {
    return {"pentest.results", Status::kNotMet, "[compliance] pentest_results is not set", how};
  }
  std::error_code ec;
  std::vector<fs::path> runs;
  for (const auto& entry : fs::directory_iterator(config.pentest_results, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "summary.json")) runs.push_back(entry.path());
  }
  if (runs.empty()) return {"pentest.results", Status::kNotMet, "no results in " + config.pentest_results, how};
  std::sort(runs.begin(), runs.end());
  const fs::path newest = runs.back();
  auto text = read_text_file((newest / "summary.json").string());
  auto doc = text ? json::parse(*text) : Result<json::Value>(text.error());
  if (!doc) return {"pentest.results", Status::kNotMet, newest.string() + "/summary.json: unreadable", how};
  const auto* status = doc->find("status");
  const auto* date = doc->find("date");
  const auto* mode = doc->find("mode");
  const auto* complete = doc->find("complete");  // every tool ran (fuzzing too)
  const std::string date_text = date && date->is_string() ? date->as_string() : newest.filename().string();
  const auto ran = parse_timestamp(date_text + "T00:00:00.000000Z");
  const bool passed = status && status->is_string() && status->as_string() == "pass";
  std::string found =
      "the newest run (" + date_text + ", " + (mode && mode->is_string() ? mode->as_string() : std::string("?")) +
      " mode) " + (passed ? "passed: nothing above low, no injectable parameter, no fuzzing crash" : "did not pass");
  if (!passed) return {"pentest.results", Status::kNotMet, found, how};
  if (!ran) return {"pentest.results", Status::kPartlyMet, found + "; its date is not readable", how};
  const auto age_days = std::chrono::duration_cast<std::chrono::hours>(now - *ran).count() / 24;
  const bool full = mode && mode->is_string() && mode->as_string() == "full" && complete && complete->is_bool() &&
                    complete->as_bool();
  if (age_days > config.pentest_max_age_days || !full) {
    return {"pentest.results", Status::kPartlyMet,
            found + (full ? "" : "; a short or incomplete run, not a full one") + "; " + std::to_string(age_days) +
                " days old",
            how};
  }
  return {"pentest.results", Status::kMet, found + "; " + std::to_string(age_days) + " days old", how};
}

}  // namespace

Result<AdvisoryStatus> check_advisories(const ComplianceConfig& config) {
  AdvisoryStatus status;
  status.sbom_path = sbom_path(config);
  status.feed_path = config.advisory_feed;
  if (status.feed_path.empty()) {
    return failed_precondition("no advisory feed is configured ([compliance] advisory_feed): patches are not watched");
  }
  if (status.sbom_path.empty()) {
    return failed_precondition("no SBOM of the running build is configured ([compliance] sbom or release_dir)");
  }
  auto sbom_text = read_text_file(status.sbom_path);
  if (!sbom_text) return sbom_text.error();
  auto sbom = release::parse_spdx_json(*sbom_text);
  if (!sbom) return invalid_argument(status.sbom_path + ": " + sbom.error().message);
  auto feed_text = read_text_file(status.feed_path);
  if (!feed_text) return feed_text.error();
  auto feed = release::parse_feed(*feed_text, config.debian_release);
  if (!feed) return invalid_argument(status.feed_path + ": " + feed.error().message);
  status.components = sbom->components.size();
  status.advisories = feed->size();
  status.affected = release::affected_components(sbom->components, *feed);
  return status;
}

std::string advisory_lines(const AdvisoryStatus& status) {
  std::string out;
  for (const auto& a : status.affected) {
    out += a.advisory_id + " " + a.severity + " " + a.component.name + " " + a.component.version +
           (a.fixed_version.empty() ? " (no fix yet)" : " (fixed in " + a.fixed_version + ")") + "\n";
  }
  return out;
}

int run_advisories_check(const std::string& config_path, const AdvisoriesOptions& options) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  ComplianceConfig compliance = config->compliance;
  if (!options.feed.empty()) compliance.advisory_feed = options.feed;
  if (!options.sbom.empty()) compliance.sbom = options.sbom;
  auto status = check_advisories(compliance);
  if (!status) return fail(status.error());
  if (options.json) {
    json::Writer w;
    w.begin_object().key("sbom").string(status->sbom_path).key("feed").string(status->feed_path);
    w.key("components").integer(static_cast<std::int64_t>(status->components));
    w.key("advisories").integer(static_cast<std::int64_t>(status->advisories)).key("affected").begin_array();
    for (const auto& a : status->affected) {
      w.begin_object().key("advisory").string(a.advisory_id).key("severity").string(a.severity);
      w.key("component").string(a.component.name).key("purl").string(a.component.purl());
      w.key("installed").string(a.component.version).key("fixed_version").string(a.fixed_version);
      w.key("summary").string(a.summary).end_object();
    }
    w.end_array().end_object();
    std::cout << w.take() << "\n";
  } else {
    std::cout << advisory_lines(*status);
    std::cerr << status->components << " components, " << status->advisories << " advisories, "
              << status->affected.size() << " affected\n";
  }
  return status->affected.empty() ? 0 : 1;
}

std::vector<Evidence> gather_evidence(Context& context, Timestamp now) {
  const Config& config = context.config;
  const auto checks = check_configuration(config, &context, "", now, ::geteuid());
  std::vector<Evidence> evidence;
  evidence.push_back(config_evidence(checks));
  std::string found;
  Status s = from_checks(checks, {"tls.certificate", "tls.key", "tls.protocols"}, found);
  evidence.push_back({"tls.settings", s, found, "herald config check; testssl.sh (make pentest)"});
  found.clear();
  s = from_checks(checks, {"keys.kek_age"}, found);
  evidence.push_back({"keys.rotation", s, found, "herald keys status"});
  evidence.push_back(
      config.store_plaintext_for_test
          ? Evidence{"encryption.at_rest", Status::kNotMet, "testing.store_plaintext is on", "herald config check"}
          : Evidence{"encryption.at_rest", Status::kMet,
                     "personal data is sealed field by field (AES-256-GCM, data keys wrapped by the "
                     "KEK) in the database, its WAL and backups; the canary suites show no plaintext",
                     "ctest -R 'sc24_canary|Canary' (tests/security/test_canary.py)"});
  found.clear();
  s = from_checks(checks, {"backups.recent"}, found);
  evidence.push_back({"backup.recent", s, found, "herald backup create FILE"});
  found.clear();
  s = from_checks(checks, {"backups.verified", "backups.restore_drill"}, found);
  evidence.push_back({"backup.restore_verified", s, found,
                      "herald backup verify --restore-drill FILE (restored into a scratch data directory: SQLite "
                      "integrity check, migrations, every day's data key opens its notifications, audit chain)"});
  evidence.push_back(audit_chain(context, checks));
  found.clear();
  s = from_checks(checks, {"retention.interval"}, found);
  evidence.push_back({"retention.policy", s, found + "; each service keeps personal data 3-90 days (enforced)",
                      "herald retention run"});
  evidence.push_back(admin_two_factor(context));
  evidence.push_back(least_privilege(config, checks));
  evidence.push_back(network(config, checks));
  found.clear();
  s = from_checks(checks, {"security.intrusion_detection"}, found);
  evidence.push_back({"intrusion.detection", s, found, "herald security events"});
  evidence.push_back(advisories(config.compliance));
  evidence.push_back(provenance(config.compliance));
  evidence.push_back(pentest(config.compliance, now));
  return evidence;
}

int run_compliance_report(const std::string& config_path, const ComplianceOptions& options) {
  if (!options.json_out.empty() && options.key.key_file.empty()) {
    return fail(invalid_argument("the JSON report is signed: --key FILE is needed with --json"));
  }
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  const Timestamp now = SystemClock().now();
  security::ComplianceReport report;
  report.generated_at = format_timestamp(now);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  report.node = host;
  report.herald_version = kBuildInfo.version;
  report.herald_commit = kBuildInfo.commit;
  report.binary_sha256 = running_binary_sha256();
  report.evidence = gather_evidence(*context, now);
  security::compute_items(report);
  if (!options.json_out.empty()) {
    auto signer = load_signer(options.key);
    if (!signer) return fail(signer.error());
    auto envelope =
        release::sign_envelope(std::string(security::kCompliancePayloadType), security::report_json(report), **signer);
    if (!envelope) return fail(envelope.error());
    if (auto written = write_release_file(options.json_out, release::envelope_json(*envelope)); !written) {
      return fail(written.error());
    }
  }
  if (!options.html_out.empty()) {
    if (auto written = write_release_file(options.html_out, security::report_html(report)); !written) {
      return fail(written.error());
    }
  }
  int met = 0, partly = 0, not_met = 0;
  for (const auto& item : report.items) {
    (item.status == Status::kMet ? met : item.status == Status::kPartlyMet ? partly : not_met) += 1;
  }
  for (const auto& e : report.evidence) {
    std::cout << security::status_name(e.status) << "\t" << e.id << "\t" << e.found << "\n";
  }
  std::cout << met << " items met, " << partly << " partly met, " << not_met << " not met\n";
  return security::any_not_met(report) ? 1 : 0;
}

}  // namespace herald::cli
