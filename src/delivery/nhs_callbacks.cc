#include "delivery/nhs_callbacks.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "core/metrics.h"
#include "core/thread_name.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "domain/nhs/callbacks.h"

namespace herald::delivery {
namespace {

using Outcome = store::NhsCallbackAttempt::Outcome;

constexpr std::size_t kBreakerWindow = 20;

double random_unit() {
  std::uint64_t bits = 0;
  crypto::public_random(reinterpret_cast<unsigned char*>(&bits), sizeof bits);
  return static_cast<double>(bits >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

// Full jitter over NHS's capped exponential back-off: random(0, min(5 * 2^(n-1), 300)) s.
Duration backoff(int attempt, double jitter) {
  const int n = std::clamp(attempt, 1, 16);
  const double cap = std::min(5.0 * static_cast<double>(1 << (n - 1)), 300.0);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(cap * jitter));
}

store::NhsCallbackAttempt outcome(const store::NhsCallbackRecord& callback, Outcome kind, Timestamp now,
                                  std::string error, std::optional<Timestamp> retry_at = std::nullopt) {
  store::NhsCallbackAttempt a;
  a.id = callback.id;
  a.outcome = kind;
  a.at = now;
  a.retry_at = retry_at;
  if (kind != Outcome::kSent) a.error = std::move(error);
  return a;
}

// Retried at `retry_at` unless that is past the target's window from the first attempt.
store::NhsCallbackAttempt retry(const store::NhsCallbackRecord& callback, const store::NhsCallbackTarget& target,
                                Timestamp now, Timestamp retry_at, std::string error) {
  const Timestamp first = callback.first_attempt_at.value_or(now);
  if (retry_at > first + std::chrono::seconds(target.retry_window_seconds)) {
    return outcome(callback, Outcome::kDead, now,
                   error + "; gave up after " + std::to_string(target.retry_window_seconds) + " s");
  }
  return outcome(callback, Outcome::kRetry, now, std::move(error), retry_at);
}

}  // namespace

std::optional<std::int64_t> retry_after_seconds(std::string_view value, Timestamp now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  const bool negative = value.front() == '-';
  std::string_view digits = negative ? value.substr(1) : value;
  if (!digits.empty() && digits.size() <= 12 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const std::int64_t n = std::stoll(std::string(digits));
    return negative ? -n : n;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (value.size() != 29 || value.substr(25) != " GMT") return std::nullopt;
  const std::string text(value);
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  char weekday[4] = {}, month_name[4] = {};
  if (std::sscanf(text.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT", weekday, &day, month_name, &year, &hour, &minute,
                  &second) != 7) {
    return std::nullopt;
  }
  const auto month =
      std::find_if(kMonths.begin(), kMonths.end(), [&](const char* m) { return std::strcmp(m, month_name) == 0; });
  if (month == kMonths.end() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month - kMonths.begin() + 1)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                  std::chrono::seconds(second);
  return std::chrono::duration_cast<std::chrono::seconds>(at - std::chrono::floor<std::chrono::seconds>(now)).count();
}

store::NhsCallbackAttempt judge_nhs_callback(const store::NhsCallbackRecord& callback,
                                             const store::NhsCallbackTarget& target,
                                             const Result<net::HttpResponse>& answer, Timestamp now, double jitter,
                                             Duration max_wait) {
  const int attempt = callback.attempts + 1;
  if (!answer) {
    const Error& e = answer.error();
    // Refused by the SSRF guard, a pinned-key mismatch, a certificate the receiver's name does
    // not match, a bad URL or client certificate: it would fail the same way again.
    const bool permanent = e.code == ErrorCode::kPermissionDenied || e.code == ErrorCode::kInvalidArgument ||
                           e.message.rfind("certificate", 0) == 0;
    if (permanent) return outcome(callback, Outcome::kDead, now, e.message);
    return retry(callback, target, now, now + backoff(attempt, jitter), e.message);
  }
  const int status = answer->status;
  const std::string said = "HTTP " + std::to_string(status);
  if (status >= 200 && status <= 299) return outcome(callback, Outcome::kSent, now, "");
  if (status == 429) {
    Duration wait = backoff(attempt, jitter);
    if (auto header = answer->header("Retry-After")) {
      const auto seconds = retry_after_seconds(*header, now);
      if (seconds && *seconds < 0) return outcome(callback, Outcome::kDead, now, said + " with a negative Retry-After");
      if (seconds) wait = std::max(wait, Duration(std::chrono::seconds(*seconds)));
    }
    if (wait > max_wait) return outcome(callback, Outcome::kDead, now, said + " asking to wait more than 12 hours");
    return retry(callback, target, now, now + wait, said);
  }
  if (status >= 500) return retry(callback, target, now, now + backoff(attempt, jitter), said);
  return outcome(callback, Outcome::kDead, now, said);  // any other 4xx (and 1xx/3xx): refused for good
}

NhsCallbackSender::NhsCallbackSender(store::NhsCallbackStore& store, const Clock& clock, NhsCallbackOptions options,
                                     CallbackTransport& transport)
    : store_(store), clock_(clock), options_(std::move(options)), transport_(transport) {}

NhsCallbackSender::~NhsCallbackSender() { stop(); }

void NhsCallbackSender::start() {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      set_thread_name("nhs-callbacks");
      run();
    });
  }
}

void NhsCallbackSender::stop() {
  stopping_ = true;
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void NhsCallbackSender::run() {
  while (!stopping_) {
    auto claimed = run_once();
    if (!claimed) log::error("nhs_callback.claim_failed", {{"error", claimed.error().message}});
    if (claimed && *claimed > 0) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [this] { return stopping_.load(); });
  }
}

Result<std::optional<store::NhsCallbackTarget>> NhsCallbackSender::target(const Uuid& id) {
  const Timestamp now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (targets_primed_ && now < targets_read_ + options_.targets_ttl) {
      auto it = targets_.find(id);
      if (it == targets_.end()) return std::optional<store::NhsCallbackTarget>();
      return std::optional(it->second);
    }
  }
  auto all = store_.nhs_callback_targets(std::nullopt);
  if (!all) return all.error();
  std::lock_guard lock(mutex_);
  for (auto& [_, old] : targets_) crypto::wipe_string(old.api_key);
  targets_.clear();
  for (store::NhsCallbackTarget& t : *all) targets_[t.id] = std::move(t);
  targets_read_ = now;
  targets_primed_ = true;
  auto it = targets_.find(id);
  if (it == targets_.end()) return std::optional<store::NhsCallbackTarget>();
  return std::optional(it->second);
}

bool NhsCallbackSender::admit(const store::NhsCallbackTarget& target, Timestamp& retry_at) {
  std::unique_lock lock(mutex_);
  TargetState& state = states_[target.id];
  Timestamp now = clock_.now();
  if (state.open_until) {
    if (now < *state.open_until || state.trial) {
      retry_at = std::max(now, state.open_until.value_or(now)) + std::chrono::seconds(1);
      return false;
    }
    state.trial = true;  // half open: this attempt decides
  }
  // A token bucket that lends: the attempt takes its token now and, when the bucket was empty,
  // waits for the time the token takes to refill.
  const double rate = std::max(1, target.rate_per_second);
  if (!state.primed) {
    state.tokens = rate;
    state.refilled = now;
    state.primed = true;
  }
  const double elapsed = std::chrono::duration<double>(now - state.refilled).count();
  state.tokens = std::min(rate, state.tokens + std::max(0.0, elapsed) * rate) - 1;
  state.refilled = now;
  const double owed = -state.tokens;
  lock.unlock();
  if (owed > 0 && !stopping_) std::this_thread::sleep_for(std::chrono::duration<double>(owed / rate));
  return true;
}

void NhsCallbackSender::record(const Uuid& target, bool failed) {
  std::lock_guard lock(mutex_);
  TargetState& state = states_[target];
  if (state.trial) {
    state.trial = false;
    state.open_until = failed ? std::optional(clock_.now() + options_.breaker_cool_down) : std::nullopt;
    state.recent.clear();
    if (failed) log::warn("nhs_callback.circuit_open", {{"target_id", target.to_string()}, {"why", "trial failed"}});
    return;
  }
  state.recent.push_back(failed);
  if (state.recent.size() > kBreakerWindow) state.recent.pop_front();
  const auto failures = std::count(state.recent.begin(), state.recent.end(), true);
  if (static_cast<int>(state.recent.size()) >= options_.breaker_min_attempts &&
      static_cast<double>(failures) >= options_.breaker_error_rate * static_cast<double>(state.recent.size())) {
    state.open_until = clock_.now() + options_.breaker_cool_down;
    state.recent.clear();
    log::warn("nhs_callback.circuit_open", {{"target_id", target.to_string()}, {"why", "error rate"}});
  }
}

store::NhsCallbackAttempt NhsCallbackSender::attempt(const store::NhsCallbackRecord& callback,
                                                     const store::NhsCallbackTarget& target) {
  net::HttpClientOptions http = options_.http;
  if (target.client_certificate_file) http.client_certificate_file = *target.client_certificate_file;
  if (target.client_key_file) http.client_key_file = *target.client_key_file;
  if (target.pinned_key_sha256) http.pinned_key_sha256 = *target.pinned_key_sha256;
  // The application id is the client's id (Herald's equivalent of NHS's APIM application id).
  const std::string signature = domain::nhs::callback_signature(callback.client, target.api_key, callback.body);
  net::Headers headers = {{"Content-Type", "application/json"},
                          {target.api_key_header, target.api_key},
                          {"x-hmac-sha256-signature", signature}};
  auto answer = transport_.post(target.url, headers, callback.body, http);
  crypto::wipe_string(headers[1].second);
  const Timestamp now = clock_.now();
  store::NhsCallbackAttempt judged =
      judge_nhs_callback(callback, target, answer, now, random_unit(), options_.max_wait);
  record(target.id, judged.outcome != Outcome::kSent);
  return judged;
}

Result<int> NhsCallbackSender::run_once() {
  const Timestamp claimed_at = clock_.now();
  auto claimed = store_.claim_nhs_callbacks(options_.batch_size, claimed_at, options_.lease);
  if (!claimed) return claimed.error();
  for (const store::NhsCallbackRecord& callback : *claimed) {
    // What this claim cannot finish before its lease ends is left for the next claim.
    if (stopping_ || clock_.now() + options_.http.timeout >= claimed_at + options_.lease) break;
    auto found = target(callback.target);
    if (!found) {
      log::error("nhs_callback.target_lookup_failed",
                 {{"id", std::to_string(callback.id)}, {"error", found.error().message}});
      continue;  // claimed again when the lease ends
    }
    store::NhsCallbackAttempt result;
    Timestamp retry_at;
    if (!*found) {
      result = outcome(callback, Outcome::kDead, clock_.now(), "the callback target was removed");
    } else if (!admit(**found, retry_at)) {
      // The circuit is open: not tried now; an attempt that failed at once, due when it may close.
      result = outcome(callback, Outcome::kRetry, clock_.now(), "circuit open", retry_at);
    } else {
      result = attempt(callback, **found);
      crypto::wipe_string((*found)->api_key);
    }
    const char* event = result.outcome == Outcome::kSent    ? "nhs_callback.sent"
                        : result.outcome == Outcome::kRetry ? "nhs_callback.retry"
                                                            : "nhs_callback.dead";
    static auto& attempts =
        metrics::registry().counter("herald_nhs_callback_attempts_total",
                                    "NHS Notify callback attempts by what follows (sent, retry, dead).", {"result"});
    attempts.with({std::string_view(event).substr(std::string_view("nhs_callback.").size())}).inc();
    log::write(result.outcome == Outcome::kDead ? log::Level::kWarn : log::Level::kInfo, event,
               {{"id", std::to_string(callback.id)},
                {"message_id", callback.message_id},
                {"target_id", callback.target.to_string()},
                {"attempt", std::to_string(callback.attempts + 1)},
                {"error", result.error.value_or("")}});
    if (auto done = store_.finish_nhs_callback(result); !done) {
      log::error("nhs_callback.record_failed", {{"id", std::to_string(callback.id)}, {"error", done.error().message}});
    }
  }
  return static_cast<int>(claimed->size());
}

}  // namespace herald::delivery
