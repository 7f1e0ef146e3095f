#include "security/intrusion.h"

#include <algorithm>

#include "core/log.h"
#include "core/metrics.h"

namespace herald::security {
namespace {

metrics::Family<metrics::Counter>& events_counter() {
  static auto& family = metrics::registry().counter(
      "herald_security_events_total", "Security events raised by the intrusion detectors, by detector.", {"detector"});
  return family;
}

// A route that names one thing by an id ("/v2/notifications/{notification_id}").
bool names_an_id(std::string_view route) { return route.find('{') != std::string_view::npos; }

std::string seconds_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

IntrusionDetector::IntrusionDetector(store::SourceBlockStore& blocks, const Clock& clock, IntrusionOptions options,
                                     Sink sink)
    : blocks_(blocks), clock_(clock), options_(options), sink_(std::move(sink)) {
  events_counter();
  metrics::registry().counter("herald_blocked_requests_total", "Requests refused because their source is blocked.");
}

bool IntrusionDetector::blocked(std::string_view source) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = running_.find(std::string(source));
  const bool refused = it != running_.end() && it->second > now;
  if (refused) {
    static auto& counter = metrics::registry().counter("herald_blocked_requests_total",
                                                       "Requests refused because their source is blocked.");
    counter.with({}).inc();
  }
  return refused;
}

bool IntrusionDetector::count(Window& window, const std::string& subject, int threshold, Timestamp now) {
  if (now - window.started >= options_.window || now < window.started) {
    window.started = now;
    window.counts.clear();
    window.fired.clear();
  }
  auto it = window.counts.find(subject);
  if (it == window.counts.end()) {
    if (window.counts.size() >= options_.max_tracked) return false;
    it = window.counts.emplace(subject, 0).first;
  }
  ++it->second;
  if (it->second < threshold || window.fired.contains(subject)) return false;
  window.fired.insert(subject);
  return true;
}

void IntrusionDetector::fire(SecurityEvent event, Timestamp now) {
  if (!event.source.empty()) {
    // Refused here at once; the poll saves the strike and learns its real length.
    auto& until = running_[event.source];
    until = std::max(until, now + options_.block_base);
    event.blocked_until = until;
  }
  pending_.push_back(std::move(event));
}

void IntrusionDetector::auth_failure(std::string_view api, std::string_view reason, std::string_view source,
                                     std::string_view key) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  const std::string detail = std::to_string(options_.auth_failures) + " refused authentications in " +
                             seconds_text(options_.window) + " (" + std::string(api) + ": " + std::string(reason) + ")";
  if (!source.empty() && count(auth_, "source:" + std::string(source), options_.auth_failures, now)) {
    fire({"auth_failures", std::string(source), "source:" + std::string(source), detail, std::nullopt}, now);
  }
  if (!key.empty() && count(auth_, "key:" + std::string(key), options_.auth_failures, now)) {
    // Guessing at one key from many addresses: an event, no single source to block.
    fire({"auth_failures", "", "key:" + std::string(key), detail, std::nullopt}, now);
  }
}

void IntrusionDetector::response(std::string_view route, int status, std::string_view source) {
  if (status != 404 || source.empty() || !names_an_id(route)) return;
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  if (count(not_found_, "source:" + std::string(source), options_.not_found, now)) {
    fire({"enumeration", std::string(source), "source:" + std::string(source),
          std::to_string(options_.not_found) + " answers of 404 on ids in " + seconds_text(options_.window) +
              " (last: " + std::string(route) + ")",
          std::nullopt},
         now);
  }
}

Result<void> IntrusionDetector::poll() {
  std::vector<SecurityEvent> events;
  {
    std::lock_guard lock(mutex_);
    events.swap(pending_);
  }
  const Timestamp now = clock_.now();
  Result<void> outcome = ok();
  for (auto& event : events) {
    if (!event.source.empty()) {
      auto struck = blocks_.strike_source(event.source, event.detector, now, options_.block_base, options_.block_cap,
                                          now - options_.forget_after);
      if (struck) {
        event.blocked_until = struck->until;
        event.detail +=
            "; blocked until " + format_timestamp(struck->until) + " (strike " + std::to_string(struck->strikes) + ")";
      } else {
        outcome = struck.error();
      }
    }
    events_counter().with({event.detector}).inc();
    log::warn(
        "security.event",
        {{"detector", event.detector}, {"source", event.source}, {"subject", event.subject}, {"detail", event.detail}});
    if (sink_) sink_(event);
  }
  auto running = blocks_.running_blocks(now);
  if (!running) return running.error();
  std::lock_guard lock(mutex_);
  // The store's view, plus this node's strikes not yet saved (a failed save keeps them here).
  std::unordered_map<std::string, Timestamp> next;
  for (const auto& block : *running) next[block.source] = block.until;
  for (const auto& event : pending_) {
    if (!event.source.empty() && event.blocked_until)
      next[event.source] = std::max(next[event.source], *event.blocked_until);
  }
  if (!outcome) {
    for (const auto& event : events) {
      if (!event.source.empty() && event.blocked_until) {
        next[event.source] = std::max(next[event.source], *event.blocked_until);
      }
    }
  }
  running_.swap(next);
  return outcome;
}

}  // namespace herald::security
