#pragma once
// Limits: GOV.UK's per-minute rate limit and per-day channel limits (GOV.UK's validators.py),
// held in the store so that every node shares them (Store::take_tokens, reserve_count). To keep
// the store off the hot path, a node takes grants and spends them locally. A grant is sized to
// what the node spent over the last one: about kGrantSpan of its own traffic, at least a small
// floor (2% of a bucket, 0.1% of a daily limit, at most 20) and at most a cap (a tenth of a
// bucket, or half of it when the bucket refills that fast; 1% of a daily limit). A node that
// is quiet asks for the floor; one sending thousands a second asks about ten times a second,
// not hundreds. Only one thread of a node refills a given grant at a time; the others wait
// for it rather than each taking a grant of their own. A grant a node has not spent yet is not
// available to the others, so near a limit a request can be refused up to one grant per node
// early. Thread-safe.

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/blocking.h"
#include "core/result.h"
#include "core/time.h"
#include "domain/authenticator.h"
#include "store/store.h"

namespace herald::domain {

// GOV.UK's daily limit for services in trial mode (normal and team keys).
inline constexpr std::int64_t kTrialDailyLimit = 50;
// How much of a node's own traffic one grant should cover.
inline constexpr Duration kGrantSpan = std::chrono::milliseconds(100);

// The size of the next grant: what the last grant of `last_size` units covered over `elapsed`,
// scaled to kGrantSpan, within [floor, cap]. Exposed for tests.
std::int64_t next_grant_size(std::int64_t last_size, Duration elapsed, std::int64_t floor, std::int64_t cap);

// GOV.UK's per-day counters: one per channel, and international texts on their own as well.
enum class DailyCounter { kEmail, kSms, kLetter, kInternationalSms };
DailyCounter daily_counter(store::Channel channel);
const char* daily_counter_name(DailyCounter counter);  // "email", "sms", "letter", "international_sms"

class Limits {
 public:
  // Declares its metric (herald_rate_limit_refusals_total), so that it is listed before any refusal.
  explicit Limits(store::LimitCounters& store);

  // The per-minute token bucket of the service's key type (normal keys shown as LIVE):
  // capacity min(ceil(rate/3) + 1, 1000), refilled at rate/60 per second. kResourceExhausted
  // (Refusal::kRateLimit) "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds".
  Result<void> check_rate(const Caller& caller, const store::ServiceRecord& service, Timestamp now, Blocking blocking);
  // Whether one more send fits one of today's (UTC) counters: a channel's, or international
  // texts' (DailyCounter::kInternationalSms); test keys count separately, and in trial services they have the
  // live limits while other keys have kTrialDailyLimit. kResourceExhausted
  // (Refusal::kDailyLimit) "Exceeded send limits (sms: 250000) for today". As GOV.UK, only accepted sends count:
  // call count_daily once the notification is stored.
  Result<void> check_daily(const Caller& caller, const store::ServiceRecord& service, DailyCounter counter,
                           Timestamp now, Blocking blocking);
  void count_daily(const Caller& caller, DailyCounter counter, Timestamp now);
  // One unit from the named token bucket shared by every node (created full; `capacity`,
  // refilled at `per_second`), spent from local grants as check_rate's: false when it is empty.
  Result<bool> take(const std::string& bucket, double capacity, double per_second, Timestamp now, Blocking blocking);

 private:
  struct Grant {
    std::int64_t left = 0;       // units not spent yet
    std::int64_t last_size = 0;  // what the last refill brought
    Timestamp last_refill{};
    bool refilling = false;      // a thread is asking the store
    bool exhausted = false;      // the last refill got nothing
  };
  // Spends one unit of `key`'s local grant (or, with `spend` false, only makes sure there is
  // one), refilling it through `take(want)` (returns how many it got) with a grant sized by
  // next_grant_size(floor, cap).
  template <typename Take>
  Result<bool> draw(const std::string& key, bool spend, Timestamp now, std::int64_t floor, std::int64_t cap,
                    Blocking blocking, Take&& take);

  store::LimitCounters& store_;
  std::mutex mutex_;
  std::condition_variable refilled_;
  std::map<std::string, Grant> granted_;  // guarded by mutex_
};

}  // namespace herald::domain
