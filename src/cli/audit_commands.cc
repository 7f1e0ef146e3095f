// `herald audit verify | export | checkpoint` (SC-32).

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"

namespace herald::cli {
int run_audit_verify(const std::string& config_path, const std::vector<std::string>& witnesses) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  std::vector<security::AuditWitness> given;
  for (const std::string& path : witnesses) given.push_back({path});
  auto verified = context->audit->verify(given);
  if (!verified) return fail(verified.error());
  const crypto::AuditReport& report = verified->report;
  std::cout << crypto::audit_report_summary(report) << "\n";
  if (report.ok && report.uncovered_entries > 0) {
    std::cout << report.uncovered_entries << " entries after the newest checkpoint are not yet signed\n";
  }
  if (report.checkpoint_records > 0) {
    std::cout << "the chain records " << report.checkpoint_records << " checkpoints; every one was found\n";
  }
  std::cout << "witnesses checked:\n";
  for (const std::string& w : verified->witnesses) std::cout << "  " << w << "\n";
  return report.ok ? 0 : 1;
}

int run_audit_export(const std::string& config_path, const std::string& since_text, std::string_view action_prefix) {
  std::optional<Timestamp> since;
  if (!since_text.empty()) {
    since = parse_timestamp(since_text);
    if (!since) return fail(invalid_argument("--since must be like 2026-01-31T00:00:00.000000Z"));
  }
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto count = context->audit->export_jsonl(since, std::cout, action_prefix);
  if (!count) return fail(count.error());
  std::cout.flush();
  // Exporting the audit trail is itself audited (after the export, so it is not in it).
  (void)context->record({security::cli_actor(),
                         "audit.exported",
                         {{"entries", std::to_string(*count)},
                          {"since", since_text.empty() ? "start" : since_text},
                          {"actions", action_prefix.empty() ? "all" : std::string(action_prefix) + "*"}}});
  return 0;
}

int run_audit_checkpoint(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto seq = context->audit->checkpoint(SystemClock().now());
  if (!seq) return fail(seq.error());
  std::cout << (*seq ? "checkpoint at entry " + std::to_string(**seq) : std::string("nothing new to checkpoint")) << "\n";
  return 0;
}

}  // namespace herald::cli
