#include "domain/limits.h"

#include <algorithm>
#include <cmath>

namespace herald::domain {
namespace {

const char* shown_key_type(store::KeyType type) {
  switch (type) {
    case store::KeyType::kNormal: return "LIVE";
    case store::KeyType::kTeam: return "TEAM";
    case store::KeyType::kTest: return "TEST";
  }
  return "LIVE";
}

std::int64_t channel_limit(const store::ServiceRecord& service, std::string_view channel) {
  if (channel == "email") return service.email_limit;
  if (channel == "sms") return service.sms_limit;
  if (channel == "letter") return service.letter_limit;
  return service.international_sms_limit;
}

}  // namespace

template <typename Take>
Result<bool> Limits::draw(const std::string& key, bool spend, Blocking blocking, Take&& take) {
  {
    std::lock_guard lock(mutex_);
    auto it = granted_.find(key);
    if (it != granted_.end() && it->second > 0) {
      if (spend) --it->second;
      return true;
    }
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto got = take();
  if (!got) return got.error();
  if (*got <= 0) return false;
  std::lock_guard lock(mutex_);
  if (granted_.size() > 10000) granted_.clear();  // old days' counters
  granted_[key] += *got - (spend ? 1 : 0);
  return true;
}

namespace {

std::string daily_key(const Caller& caller, std::string_view channel, Timestamp now) {
  const bool test = caller.key_type == store::KeyType::kTest;
  return "daily/" + caller.service.to_string() + (test ? "/test/" : "/") + std::string(channel) + "/" +
         format_timestamp(now).substr(0, 10);
}

}  // namespace

Result<void> Limits::check_rate(const Caller& caller, const store::ServiceRecord& service, Timestamp now,
                                Blocking blocking) {
  const int rate = std::max(1, service.rate_limit);
  const double capacity = std::min(std::ceil(rate / 3.0) + 1.0, 1000.0);
  const int grant = std::clamp(static_cast<int>(capacity / 50), 1, 20);
  const std::string key = "rate/" + service.id.to_string() + "/" + store::key_type_name(caller.key_type);
  auto spent = draw(key, true, blocking, [&]() -> Result<std::int64_t> {
    auto got = store_.take_tokens(key, grant, now, rate / 60.0, capacity);
    if (!got) return got.error();
    return static_cast<std::int64_t>(*got);
  });
  if (!spent) return spent.error();
  if (*spent) return ok();
  return Error{ErrorCode::kResourceExhausted,
               "Exceeded rate limit for key type " + std::string(shown_key_type(caller.key_type)) + " of " +
                   std::to_string(rate) + " requests per 60 seconds",
               "RateLimitError"};
}

Result<void> Limits::check_daily(const Caller& caller, const store::ServiceRecord& service, std::string_view channel,
                                 Timestamp now, Blocking blocking) {
  const bool test = caller.key_type == store::KeyType::kTest;
  std::int64_t limit = channel_limit(service, channel);
  if (service.restricted && !test) limit = std::min(limit, kTrialDailyLimit);
  if (service.restricted && test) limit = channel_limit(store::ServiceRecord{}, channel);  // GOV.UK's live defaults
  const std::string key = daily_key(caller, channel, now);
  const std::int64_t grant = std::clamp<std::int64_t>(limit / 1000, 1, 20);
  auto available = draw(key, false, blocking, [&] { return store_.reserve_count(key, grant, limit); });
  if (!available) return available.error();
  if (*available) return ok();
  return Error{ErrorCode::kResourceExhausted,
               "Exceeded send limits (" + std::string(channel) + ": " + std::to_string(limit) + ") for today",
               "TooManyRequestsError"};
}

void Limits::count_daily(const Caller& caller, std::string_view channel, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = granted_.find(daily_key(caller, channel, now));
  // Sends racing for the last unit of a grant may both be stored: at most one over per race.
  if (it != granted_.end() && it->second > 0) --it->second;
}

}  // namespace herald::domain
