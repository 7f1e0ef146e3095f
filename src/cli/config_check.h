#pragma once
// `herald config check`: the installation against Herald's hardening baseline
// (docs/hardening.md). Each check passes or is a finding with a severity, what was found and
// the fix. `serve` runs it at start and then daily, as a security event (audit log, log,
// herald_config_findings metric).

#include <string>
#include <vector>

#include "cli/context.h"
#include "core/time.h"

namespace herald::cli {

enum class Severity { kLow, kMedium, kHigh };
const char* severity_name(Severity severity);  // "low", "medium", "high"

struct ConfigCheck {
  std::string id;  // "tls.certificate", "files.keyring", ...
  bool passed = false;
  Severity severity = Severity::kLow;  // when not passed
  std::string found;                   // what was found (never a secret)
  std::string fix;                     // when not passed: what to do
};

// Every check, in a fixed order. `running_user`: the effective uid the node runs as. `context`:
// the opened store and keys, or nullptr when they would not open (a finding of its own, with
// `open_error`; the checks of files and settings still run).
std::vector<ConfigCheck> check_configuration(const Config& config, Context* context, const std::string& open_error,
                                             Timestamp now, unsigned running_user);

// One line per check for a person ("PASS", or the severity in capitals), and the JSON form.
std::string config_report_text(const std::vector<ConfigCheck>& checks);
std::string config_report_json(const std::vector<ConfigCheck>& checks);
bool any_high(const std::vector<ConfigCheck>& checks);

// `herald config check [--json]`: exit 1 on any high finding, else 0.
int run_config_check(const std::string& config_path, bool json);

}  // namespace herald::cli
