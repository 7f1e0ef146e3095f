#include "security/intrusion.h"

#include <algorithm>

#include <cstdio>
#include <numeric>

#include "core/cidr.h"
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

std::int64_t whole(Timestamp t, Duration unit) { return t.time_since_epoch() / unit; }

// An hour of the day, 0..23, as "00".."23".
std::string two_digits(int hour) { return (hour < 10 ? "0" : "") + std::to_string(hour); }

}  // namespace

IntrusionDetector::IntrusionDetector(store::SourceBlockStore& blocks, store::OperationsStore& marks, const Clock& clock,
                                     IntrusionOptions options, Sink sink)
    : blocks_(blocks), marks_(marks), clock_(clock), options_(options), sink_(std::move(sink)) {
  events_counter();
  metrics::registry().counter("herald_blocked_requests_total", "Requests refused because their source is blocked.");
}

std::optional<Timestamp> IntrusionDetector::blocked_until(std::string_view source) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = running_.find(source);
  if (it == running_.end() || it->second <= now) return std::nullopt;
  static auto& counter =
      metrics::registry().counter("herald_blocked_requests_total", "Requests refused because their source is blocked.");
  counter.with({}).inc();
  return it->second;
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
  if (event.block && options_.never_block.contains(event.source)) {
    event.block = false;
    event.detail += "; not blocked (the source is in security.never_block)";
  }
  if (event.block) {
    // Refused here at once; the poll saves the strike and learns its real length.
    auto& until = running_[event.source];
    until = std::max(until, now + options_.block_base);
    event.blocked_until = until;
  }
  pending_.push_back(std::move(event));
}

void IntrusionDetector::auth_failure(std::string_view api, std::string_view reason, std::string_view source,
                                     std::string_view subject) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  const std::string detail = std::to_string(options_.auth_failures) + " refused authentications in " +
                             seconds_text(options_.window) + " (" + std::string(api) + ": " + std::string(reason) + ")";
  if (!source.empty() && count(auth_, "source:" + std::string(source), options_.auth_failures, now)) {
    fire({"auth_failures", std::string(source), "source:" + std::string(source), detail, true, std::nullopt}, now);
  }
  if (!subject.empty() && count(auth_, std::string(subject), options_.auth_failures, now)) {
    // Guessing at one credential from many addresses: an event, no single source to block.
    fire({"auth_failures", "", std::string(subject), detail, false, std::nullopt}, now);
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
          true, std::nullopt},
         now);
  }
}

void IntrusionDetector::authenticated(std::string_view subject, std::string_view pattern,
                                      std::string_view token_fingerprint, std::string_view source) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  if (!token_fingerprint.empty() && !source.empty()) {
    if (now - replay_.started >= options_.window || now < replay_.started) {
      replay_.started = now;
      replay_.fired.clear();
      tokens_.clear();
    }
    auto it = tokens_.find(token_fingerprint);
    if (it == tokens_.end()) {
      if (tokens_.size() < options_.max_tracked) tokens_.emplace(token_fingerprint, source);
    } else if (it->second != source && replay_.fired.insert(it->first).second) {
      fire({"token_replay", std::string(source), std::string(subject),
            "a token first presented from " + it->second + " was presented again from " + std::string(source) +
                " within " + seconds_text(options_.window),
            false, std::nullopt},
           now);
    }
  }
  if (subject.empty()) return;
  const std::int64_t minute = whole(now, std::chrono::minutes(1));
  auto volume = volumes_.find(subject);
  if (volume == volumes_.end() && volumes_.size() < options_.max_tracked) {
    volume = volumes_.emplace(subject, Volume{now, {}, minute, 0, {}, std::nullopt}).first;
  }
  Volume* v = volume == volumes_.end() ? nullptr : &volume->second;
  // Networks: looked at only when the source is not the subject's last one.
  if (v == nullptr || v->last_source != source) {
    if (v != nullptr) v->last_source = source;
    if (const auto address = cidr::parse_address(source)) {
      const std::string network = cidr::to_string(cidr::home_network(*address));
      if (known_networks_.size() < options_.max_tracked &&
          known_networks_.insert(std::string(subject) + " " + network).second) {
        new_networks_.emplace_back(subject, network);
      }
    }
  }
  if (!pattern.empty()) {
    const std::int64_t hour = whole(now, std::chrono::hours(1));
    auto checked = known_hours_.find(pattern);
    if (checked == known_hours_.end() && known_hours_.size() < options_.max_tracked) {
      known_hours_.emplace(pattern, hour);
      new_hours_.emplace_back(pattern, static_cast<int>(hour % 24));
    } else if (checked != known_hours_.end() && checked->second != hour) {
      checked->second = hour;
      new_hours_.emplace_back(pattern, static_cast<int>(hour % 24));
    }
  }
  if (v == nullptr) return;
  // Volume: this minute against the average minute of the baseline before it.
  const auto baseline_minutes = static_cast<std::size_t>(
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::minutes>(options_.volume_baseline).count()));
  if (minute > v->minute) {
    v->past.push_back(v->count);
    for (std::int64_t m = v->minute + 1; m < minute && v->past.size() <= baseline_minutes; ++m) v->past.push_back(0);
    if (v->past.size() > baseline_minutes) {
      v->past.erase(v->past.begin(), v->past.end() - static_cast<std::ptrdiff_t>(baseline_minutes));
    }
    v->minute = minute;
    v->count = 0;
  }
  ++v->count;
  if (v->count >= options_.volume_floor && now - v->first_seen >= options_.volume_baseline &&
      (!v->fired_at || now - *v->fired_at >= options_.window)) {
    const double average = static_cast<double>(std::accumulate(v->past.begin(), v->past.end(), std::int64_t{0})) /
                           static_cast<double>(baseline_minutes);
    if (v->count >= options_.volume_factor * std::max(average, 1.0)) {
      v->fired_at = now;
      char figures[96];
      std::snprintf(figures, sizeof figures, "%d requests in a minute against an average of %.1f", v->count, average);
      fire({"volume", std::string(source), std::string(subject), figures, false, std::nullopt}, now);
    }
  }
}

void IntrusionDetector::certificate_error(std::string_view host, std::string_view detail) {
  const Timestamp now = clock_.now();
  std::lock_guard lock(mutex_);
  if (count(certificates_, "host:" + std::string(host), 1, now)) {
    fire({"certificate_error", "", "host:" + std::string(host), std::string(detail), false, std::nullopt}, now);
  }
}

Result<void> IntrusionDetector::learn_networks(const std::vector<std::pair<std::string, std::string>>& seen,
                                               Timestamp now, std::vector<SecurityEvent>& events) {
  for (const auto& [subject, network] : seen) {
    const std::string prefix = "net:" + subject + ":";
    auto known = marks_.marks(prefix);
    if (!known) return known.error();
    const std::string name = prefix + network;
    if (std::any_of(known->begin(), known->end(), [&](const auto& mark) { return mark.first == name; })) continue;
    if (!known->empty()) {
      events.push_back({"new_network", "", subject,
                        "first use from " + network + " (" + std::to_string(known->size()) + " networks known)", false,
                        std::nullopt});
    }
    HERALD_TRY(marks_.set_mark(name, now));
  }
  return ok();
}

Result<void> IntrusionDetector::learn_hours(const std::vector<std::pair<std::string, int>>& seen, Timestamp now,
                                            std::vector<SecurityEvent>& events) {
  for (const auto& [pattern, hour] : seen) {
    const std::string first_name = "first:" + pattern;
    auto first = marks_.marks(first_name);
    if (!first) return first.error();
    const auto known_since =
        std::find_if(first->begin(), first->end(), [&](const auto& m) { return m.first == first_name; });
    if (known_since == first->end()) HERALD_TRY(marks_.set_mark(first_name, now));
    const std::string hour_name = "hour:" + pattern + ":" + two_digits(hour);
    auto last = marks_.marks(hour_name);
    if (!last) return last.error();
    const auto seen_at = std::find_if(last->begin(), last->end(), [&](const auto& m) { return m.first == hour_name; });
    const bool usual = seen_at != last->end() && now - seen_at->second < options_.usual_hours_memory;
    if (!usual && known_since != first->end() && now - known_since->second >= options_.usual_hours_learning) {
      events.push_back({"off_hours", "", pattern,
                        "active between " + two_digits(hour) + ":00 and " + two_digits((hour + 1) % 24) +
                            ":00 UTC, not in its usual hours in the last " + seconds_text(options_.usual_hours_memory),
                        false, std::nullopt});
    }
    HERALD_TRY(marks_.set_mark(hour_name, now));
  }
  return ok();
}

Result<void> IntrusionDetector::poll() {
  std::vector<SecurityEvent> events;
  std::vector<std::pair<std::string, std::string>> networks;
  std::vector<std::pair<std::string, int>> hours;
  {
    std::lock_guard lock(mutex_);
    events.swap(pending_);
    networks.swap(new_networks_);
    hours.swap(new_hours_);
  }
  const Timestamp now = clock_.now();
  Result<void> outcome = ok();
  if (auto learnt = learn_networks(networks, now, events); !learnt) {
    // Asked again when next seen.
    outcome = learnt.error();
    std::lock_guard lock(mutex_);
    for (const auto& [subject, network] : networks) {
      known_networks_.erase(subject + " " + network);
      if (auto v = volumes_.find(subject); v != volumes_.end()) v->second.last_source.clear();
    }
  }
  if (auto learnt = learn_hours(hours, now, events); !learnt) {
    outcome = learnt.error();
    std::lock_guard lock(mutex_);
    for (const auto& [pattern, hour] : hours) known_hours_.erase(pattern);
  }
  for (auto& event : events) {
    if (event.block) {
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
  StringMap<Timestamp> next;
  for (const auto& block : *running) next[block.source] = block.until;
  for (const auto& event : pending_) {
    if (event.block && event.blocked_until) next[event.source] = std::max(next[event.source], *event.blocked_until);
  }
  if (!outcome) {
    for (const auto& event : events) {
      if (event.block && event.blocked_until) {
        next[event.source] = std::max(next[event.source], *event.blocked_until);
      }
    }
  }
  running_.swap(next);
  return outcome;
}

}  // namespace herald::security
