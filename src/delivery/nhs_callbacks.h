#pragma once
// NhsCallbackSender: posts NHS Notify callbacks (spec §6.4) from the store's outbox to the
// clients' receivers, as NHS's callback component does:
// - one item per POST, the stored bytes exactly, Content-Type application/json, the target's
//   API-key header, x-hmac-sha256-signature (hex HMAC-SHA256, key "<application id>.<api key>");
// - optionally a client certificate (mutual TLS) and the receiver's public key pinned;
// - per target, a rate limit (its rate per second, a burst of as many) and a circuit breaker
//   (open at an error rate of half over at least 10 recent attempts, for 60 s; then one trial);
// - 2xx: done (deleted). 5xx, time-outs and connection errors: retried with full jitter,
//   random(0, min(5 * 2^(n-1), 300)) s, within the target's window (2 h) from the first attempt,
//   then dead. 429: Retry-After (seconds or an HTTP date) when it asks for longer than the
//   back-off; a negative one, or one past 12 h, is dead at once. Any other 4xx, a certificate
//   failure, a pinned-key mismatch, or a URL the SSRF guard refuses: dead at once.
// Dead callbacks stay in the store for an operator to see and replay (`herald nhs callback
// dead|replay`). Several threads claim disjoint batches; per-target state is shared.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "delivery/callbacks.h"
#include "net/http_client.h"
#include "store/store.h"

namespace herald::delivery {

struct NhsCallbackOptions {
  int batch_size = 20;
  int threads = 2;
  Duration lease = std::chrono::seconds(90);  // longer than a request's time-out
  Duration idle_poll = std::chrono::milliseconds(500);
  Duration targets_ttl = std::chrono::seconds(5);  // how long a read of the targets is trusted
  Duration max_wait = std::chrono::hours(12);      // a 429 asking for longer: dead
  int breaker_min_attempts = 10;
  double breaker_error_rate = 0.5;
  Duration breaker_cool_down = std::chrono::seconds(60);
  net::HttpClientOptions http;  // timeout 30 s; policy: public addresses only
};

// What one attempt's answer means for the callback (pure; `jitter` in [0, 1) picks the delay).
store::NhsCallbackAttempt judge_nhs_callback(const store::NhsCallbackRecord& callback,
                                             const store::NhsCallbackTarget& target,
                                             const Result<net::HttpResponse>& answer, Timestamp now, double jitter,
                                             Duration max_wait);

// A Retry-After value in seconds from `now`: delta-seconds (possibly negative) or an HTTP date
// (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"); nullopt when it is neither.
std::optional<std::int64_t> retry_after_seconds(std::string_view value, Timestamp now);

class NhsCallbackSender {
 public:
  NhsCallbackSender(store::NhsCallbackStore& store, const Clock& clock, NhsCallbackOptions options,
                    CallbackTransport& transport = https_transport());
  ~NhsCallbackSender();
  void start();
  void stop();
  // One batch on the caller's thread; how many were claimed (tests).
  Result<int> run_once();

 private:
  // Per target: a token bucket and the circuit breaker's recent outcomes.
  struct TargetState {
    double tokens = 0;
    Timestamp refilled;
    bool primed = false;
    std::deque<bool> recent;  // true: failed; the last 20 attempts
    std::optional<Timestamp> open_until;
    bool trial = false;  // half open: one attempt in flight decides
  };
  void run();
  // The target, read from the store at most every targets_ttl; nullopt when it has gone.
  Result<std::optional<store::NhsCallbackTarget>> target(const Uuid& id);
  // Waits for the target's rate limit; false when its breaker is open (then `retry_at` is set).
  bool admit(const store::NhsCallbackTarget& target, Timestamp& retry_at);
  void record(const Uuid& target, bool failed);
  store::NhsCallbackAttempt attempt(const store::NhsCallbackRecord& callback, const store::NhsCallbackTarget& target);

  store::NhsCallbackStore& store_;
  const Clock& clock_;
  NhsCallbackOptions options_;
  CallbackTransport& transport_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::map<Uuid, TargetState> states_;
  std::map<Uuid, store::NhsCallbackTarget> targets_;
  Timestamp targets_read_;
  bool targets_primed_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace herald::delivery
