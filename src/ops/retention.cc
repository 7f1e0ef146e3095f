#include "ops/retention.h"

#include <map>

#include "core/log.h"

namespace herald::ops {
namespace {

constexpr auto kDay = std::chrono::hours(24);
constexpr std::string_view kPrefix = "notifications/";

constexpr std::string_view kDocumentsPrefix = "documents/";

// "<prefix><service>/<YYYY-MM-DD>" -> (service id, start of that day)
std::optional<std::pair<std::string, Timestamp>> parse_scope(std::string_view scope,
                                                             std::string_view prefix = kPrefix) {
  if (!scope.starts_with(prefix)) return std::nullopt;
  scope.remove_prefix(prefix.size());
  const auto slash = scope.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto day = parse_timestamp(std::string(scope.substr(slash + 1)) + "T00:00:00.000000Z");
  if (!day) return std::nullopt;
  return std::make_pair(std::string(scope.substr(0, slash)), *day);
}

}  // namespace

Result<int> prepare_data_keys(store::ServiceDirectory& store, crypto::DataKeys& keys, Timestamp now) {
  auto services = store.list_services();
  if (!services) return services.error();
  int made = 0;
  for (const store::ServiceRecord& service : *services) {
    const std::string id = service.id.to_string();
    for (Timestamp day : {now, now + kDay}) {
      const std::string scope = crypto::notification_scope(id, day);
      auto existing = keys.repository().find_by_scope(scope);
      if (!existing) return existing.error();
      if (!*existing) ++made;
      auto key = keys.key_for_scope(scope, now);  // loads it into memory either way
      if (!key) return key.error();
    }
  }
  return made;
}

Timestamp Retention::cutoff(Timestamp now, int days) {
  const auto since_epoch = now.time_since_epoch();
  const auto midnight = Timestamp(std::chrono::duration_cast<Duration>(
      std::chrono::floor<std::chrono::days>(since_epoch)));
  return midnight - days * kDay;
}

Result<RetentionReport> Retention::run(Timestamp now) {
  RetentionReport report;
  auto services = services_.list_services();
  if (!services) return services.error();
  std::map<std::string, std::pair<ServiceId, Timestamp>> cutoffs;  // service id -> (id, cutoff)
  for (const store::ServiceRecord& service : *services) {
    const Timestamp cut = cutoff(now, service.retention_days);
    auto outcome = retention_.redact_before(service.id, cut, now);
    if (!outcome) return outcome.error();
    report.redacted += outcome->redacted;
    report.failed_pending += outcome->failed_pending;
    ++report.services;
    cutoffs.emplace(service.id.to_string(), std::make_pair(service.id, cut));
  }
  auto documents = documents_.delete_expired_documents(now);
  if (!documents) return documents.error();
  report.documents_deleted = *documents;
  auto keys = keys_.repository().list();
  if (!keys) return keys.error();
  for (const crypto::StoredDataKey& key : *keys) {
    if (key.destroyed) {
      // Another node (or process) shredded it: this one must not keep using its copy.
      if (keys_.forget(key.id)) log::info("retention.forgot_destroyed_key", {{"data_key", std::to_string(key.id)}});
      continue;
    }
    // A documents key protects the files that expire on its day: every one of them has expired,
    // and was deleted above, once the day is over.
    if (auto day = parse_scope(key.scope, kDocumentsPrefix)) {
      if (day->second + kDay > now) continue;
      HERALD_TRY(keys_.destroy(key.id, now));
      ++report.keys_destroyed;
      continue;
    }
    auto scope = parse_scope(key.scope);
    if (!scope) continue;
    auto service = cutoffs.find(scope->first);
    if (service == cutoffs.end()) continue;
    const Timestamp day_start = scope->second;
    if (day_start + kDay > service->second.second) continue;  // the day is not wholly expired
    auto holds = retention_.holds_personal_data(service->second.first, day_start, day_start + kDay);
    if (!holds) return holds.error();
    if (*holds) {
      log::warn("retention.key_still_needed", {{"data_key", std::to_string(key.id)}});
      continue;
    }
    HERALD_TRY(keys_.destroy(key.id, now));
    ++report.keys_destroyed;
  }
  log::info("retention.run", {{"services", std::to_string(report.services)},
                              {"redacted", std::to_string(report.redacted)},
                              {"failed_pending", std::to_string(report.failed_pending)},
                              {"keys_destroyed", std::to_string(report.keys_destroyed)},
                              {"documents_deleted", std::to_string(report.documents_deleted)}});
  return report;
}

}  // namespace herald::ops
