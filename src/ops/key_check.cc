#include "ops/key_check.h"

#include <chrono>

namespace herald::ops {
namespace {

constexpr std::string_view kRestoreAdvice =
    ". Restore the data keys backed up with this data (herald keys restore FILE) before serving.";

Timestamp day_start(Timestamp t) {
  return std::chrono::time_point_cast<Duration>(std::chrono::floor<std::chrono::days>(t));
}

std::string day_text(Timestamp t) { return format_timestamp(t).substr(0, 10); }

}  // namespace

Result<KeyCheckReport> check_keys_open_data(store::ServiceDirectory& services, store::RetentionStore& retention,
                                            store::NotificationStore& notifications, crypto::DataKeyRepository& keys) {
  KeyCheckReport report;
  auto all = services.list_services();
  if (!all) return all.error();
  for (const store::ServiceRecord& service : *all) {
    ++report.services;
    Timestamp from{};
    for (;;) {
      auto next = retention.next_sealed_notification(service.id, from);
      if (!next) return next.error();
      if (!*next) break;
      const Timestamp day = day_start((*next)->created_at);
      const std::string scope = crypto::notification_scope(service.id.to_string(), day);
      const std::string what = "notifications of service " + service.id.to_string() + " from " + day_text(day);
      auto key = keys.find_by_scope(scope);
      if (!key) return key.error();
      if (*key && (*key)->destroyed) {
        // Shredded on purpose (retention after this data was backed up): unreadable by design.
        ++report.shredded_days;
        from = day + std::chrono::days{1};
        continue;
      }
      // Opening proves the key: the day's own, or the first release's legacy key named by id.
      auto opened = notifications.find_notification(service.id, (*next)->id);
      if (!opened && opened.error().code == ErrorCode::kDataLoss) {
        if (!*key) return data_loss("the key store has no data key for the " + what + std::string(kRestoreAdvice));
        return data_loss("the " + what + " do not open with the key store's keys (" + opened.error().message + ")" +
                         std::string(kRestoreAdvice));
      }
      if (!opened) return opened.error();
      ++report.days;
      from = day + std::chrono::days{1};
    }
  }
  return report;
}

std::function<Result<void>(std::string_view scope)> new_key_guard(store::RetentionStore& retention,
                                                                  store::NotificationStore& notifications) {
  return [&retention, &notifications](std::string_view scope) -> Result<void> {
    // notifications/<36-character service id>/<YYYY-MM-DD>
    constexpr std::string_view kPrefix = "notifications/";
    if (scope.substr(0, kPrefix.size()) != kPrefix || scope.size() != kPrefix.size() + 36 + 1 + 10) return ok();
    auto service = Uuid::parse(scope.substr(kPrefix.size(), 36));
    auto day = parse_timestamp(std::string(scope.substr(kPrefix.size() + 37)) + "T00:00:00.000000Z");
    if (!service || !day) return ok();
    auto sealed = retention.next_sealed_notification(ServiceId{*service}, *day);
    if (!sealed) return sealed.error();
    if (!*sealed || (*sealed)->created_at >= *day + std::chrono::days{1}) return ok();  // nothing sealed that day
    // Rows of that day that open (the first release's legacy keys) may live beside a new key.
    auto opened = notifications.find_notification(ServiceId{*service}, (*sealed)->id);
    if (opened || opened.error().code != ErrorCode::kDataLoss) return ok();
    return data_loss("refusing to make a new data key for " + std::string(scope) +
                     ": notifications of that day are already sealed under a key the key store does not have" +
                     std::string(kRestoreAdvice));
  };
}

}  // namespace herald::ops
