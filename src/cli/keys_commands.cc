// `herald keys status | rotate | rewrap | retire`: key management from the shell (SC-25).

#include <iomanip>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/context.h"

namespace herald::cli {
namespace {

std::string age(Timestamp created, Timestamp now) {
  const auto days = std::chrono::duration_cast<std::chrono::hours>(now - created).count() / 24;
  return std::to_string(days) + "d";
}

// What a data key protects, in words, from its scope.
std::string protects(std::string_view scope) {
  if (scope == crypto::kSecretsScope) return "API key secrets";
  if (scope == crypto::kIndexScope) return "blind index of recipients";
  if (scope.starts_with("notifications/")) {
    scope.remove_prefix(14);
    const auto slash = scope.find('/');
    return "notifications of service " + std::string(scope.substr(0, slash)) + " created on " +
           std::string(scope.substr(slash + 1));
  }
  if (scope.starts_with("legacy/")) return "data sealed before envelope encryption (first-release keyring)";
  return std::string(scope);
}

int print_rewrap(const crypto::RewrapReport& report) {
  std::cout << "data keys under " << report.active_kek << ": " << report.rewrapped << " re-wrapped now, "
            << report.current << " already current, " << report.destroyed << " destroyed (nothing to wrap), "
            << report.failed << " failed\n";
  if (report.failed > 0) {
    std::cerr << "herald: " << report.failed << " data keys could not be re-wrapped; run `herald keys rewrap` again\n";
    return 1;
  }
  return 0;
}

}  // namespace

int run_keys_status(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  const Timestamp now = SystemClock().now();
  auto versions = context->keys->kek().versions();
  if (!versions) return fail(versions.error());
  auto stored = context->keys->repository().list();
  if (!stored) return fail(stored.error());
  std::map<std::string, int> wrapped_under;
  for (const auto& key : *stored) {
    if (!key.destroyed) ++wrapped_under[key.wrapped.kek_id];
  }
  std::cout << "Key-encryption keys (" << context->keys->kek().description() << "):\n";
  for (const auto& v : *versions) {
    std::cout << "  " << std::left << std::setw(12) << v.id << " created " << format_timestamp(v.created).substr(0, 10)
              << "  age " << std::setw(6) << age(v.created, now) << (v.active ? " active " : " old    ")
              << " wraps " << wrapped_under[v.id] << " data keys\n";
    wrapped_under.erase(v.id);
  }
  for (const auto& [kek_id, count] : wrapped_under) {
    std::cout << "  " << kek_id << " MISSING from the KEK source, yet wraps " << count << " data keys\n";
  }
  std::cout << "Data keys (" << without_password(context->config.key_store_path) << "):\n";
  for (const auto& key : *stored) {
    std::cout << "  " << std::setw(6) << std::right << key.id << std::left << "  created "
              << format_timestamp(key.created).substr(0, 10) << "  age " << std::setw(6) << age(key.created, now)
              << (key.destroyed ? "  destroyed " + format_timestamp(*key.destroyed).substr(0, 10)
                                : "  under " + key.wrapped.kek_id)
              << "  " << protects(key.scope) << "\n";
  }
  return 0;
}

int run_keys_rotate(const std::string& config_path, bool new_kek) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto& kek = context->keys->kek();
  auto before = kek.versions();
  if (!before) return fail(before.error());
  if (new_kek) {
    auto made = kek.create_version(SystemClock().now());
    if (!made) return fail(made.error());
    std::cout << "new key-encryption key " << made->id << " in " << kek.description() << "\n";
  }
  auto report = context->keys->rewrap_all();
  if (!report) return fail(report.error());
  const int status = print_rewrap(*report);
  auto recorded = context->record({security::cli_actor(), new_kek ? "keys.rotated" : "keys.rewrapped",
                                   {{"active_kek", report->active_kek},
                                    {"rewrapped", std::to_string(report->rewrapped)},
                                    {"failed", std::to_string(report->failed)}},
                                   report->failed == 0 ? "success" : "failure"});
  if (!recorded) return fail(recorded.error());
  if (status == 0) {
    for (const auto& v : *before) {
      if (v.id != report->active_kek) {
        std::cout << "nothing is wrapped under " << v.id << " any more; once no backup you may need was made "
                  << "under it, retire it: herald keys retire --kek " << v.id << "\n";
      }
    }
  }
  return status;
}

int run_keys_retire(const std::string& config_path, const std::string& kek_id) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto stored = context->keys->repository().list();
  if (!stored) return fail(stored.error());
  int still = 0;
  for (const auto& key : *stored) {
    if (!key.destroyed && key.wrapped.kek_id == kek_id) ++still;
  }
  if (still > 0) {
    (void)context->record({security::cli_actor(), "keys.kek_retired", {{"kek_id", kek_id}}, "denied"});
    return fail(failed_precondition("refusing to retire " + kek_id + ": it still wraps " + std::to_string(still) +
                                    " data keys; run `herald keys rewrap` first"));
  }
  if (auto destroyed = context->keys->kek().destroy_version(kek_id); !destroyed) {
    (void)context->record({security::cli_actor(), "keys.kek_retired", {{"kek_id", kek_id}}, "failure"});
    return fail(destroyed.error());
  }
  if (auto recorded = context->record({security::cli_actor(), "keys.kek_retired", {{"kek_id", kek_id}}}); !recorded) {
    return fail(recorded.error());
  }
  std::cout << "retired " << kek_id << "\n";
  return 0;
}

}  // namespace herald::cli
