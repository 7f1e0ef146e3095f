#include "domain/limits.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "core/metrics.h"

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

std::int64_t daily_limit(const store::ServiceRecord& service, DailyCounter counter) {
  switch (counter) {
    case DailyCounter::kEmail: return service.email_limit;
    case DailyCounter::kSms: return service.sms_limit;
    case DailyCounter::kLetter: return service.letter_limit;
    case DailyCounter::kInternationalSms: return service.international_sms_limit;
  }
  return service.international_sms_limit;
}

}  // namespace

DailyCounter daily_counter(store::Channel channel) {
  switch (channel) {
    case store::Channel::kEmail: return DailyCounter::kEmail;
    case store::Channel::kSms: return DailyCounter::kSms;
    case store::Channel::kLetter: return DailyCounter::kLetter;
  }
  return DailyCounter::kEmail;
}

const char* daily_counter_name(DailyCounter counter) {
  switch (counter) {
    case DailyCounter::kEmail: return "email";
    case DailyCounter::kSms: return "sms";
    case DailyCounter::kLetter: return "letter";
    case DailyCounter::kInternationalSms: return "international_sms";
  }
  return "email";
}

std::int64_t next_grant_size(std::int64_t last_size, Duration elapsed, std::int64_t floor, std::int64_t cap) {
  cap = std::max(floor, cap);
  if (last_size <= 0 || elapsed <= Duration::zero()) return floor;
  const double per_span = static_cast<double>(last_size) * static_cast<double>(kGrantSpan.count()) /
                          static_cast<double>(elapsed.count());
  if (per_span >= static_cast<double>(cap)) return cap;
  return std::clamp(static_cast<std::int64_t>(std::ceil(per_span)), floor, cap);
}

template <typename Take>
Result<bool> Limits::draw(const std::string& key, bool spend, Timestamp now, std::int64_t floor, std::int64_t cap,
                          Blocking blocking, Take&& take) {
  std::unique_lock lock(mutex_);
  if (granted_.size() > 10000 && !granted_.contains(key)) {
    std::erase_if(granted_, [](const auto& entry) { return !entry.second.refilling; });  // old days' counters
  }
  bool waited = false;
  for (;;) {
    Grant& grant = granted_[key];
    if (grant.left > 0) {
      if (spend) --grant.left;
      return true;
    }
    // Another thread's refill just found the store empty: so is this one's answer.
    if (waited && grant.exhausted) return false;
    if (!grant.refilling) break;
    if (blocking == Blocking::kNotAllowed) return would_block();
    refilled_.wait(lock);
    waited = true;
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  Grant& grant = granted_[key];
  const std::int64_t want = next_grant_size(grant.last_size, now - grant.last_refill, floor, cap);
  grant.refilling = true;
  lock.unlock();
  auto got = take(want);
  lock.lock();
  Grant& after = granted_[key];  // erase_if above spares a grant that is refilling
  after.refilling = false;
  refilled_.notify_all();
  after.exhausted = got && *got <= 0;  // waiters on a refill that failed try the store themselves
  if (!got) return got.error();
  if (after.exhausted) return false;
  after.left += *got - (spend ? 1 : 0);
  after.last_size = *got;
  after.last_refill = now;
  return true;
}

namespace {

std::string daily_key(const Caller& caller, DailyCounter counter, Timestamp now) {
  const bool test = caller.key_type == store::KeyType::kTest;
  // Built in place (it is made twice for every notification): the key and the service id are
  // the only allocations, not one per part.
  const std::chrono::year_month_day date(std::chrono::floor<std::chrono::days>(now));
  // "YYYY-MM-DD" by hand: snprintf showed in the profile.
  std::array<char, 10> day{};
  const auto put = [&day](std::size_t at, unsigned value, std::size_t digits) {
    for (std::size_t i = digits; i-- > 0; value /= 10) day[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  day[4] = '-';
  put(5, static_cast<unsigned>(date.month()), 2);
  day[7] = '-';
  put(8, static_cast<unsigned>(date.day()), 2);
  std::string key;
  key.reserve(80);
  key.append("daily/").append(caller.service.to_string()).append(test ? "/test/" : "/");
  key.append(daily_counter_name(counter)).append("/").append(day.data(), day.size());
  return key;
}

}  // namespace

Result<bool> Limits::take(const std::string& bucket, double capacity, double per_second, Timestamp now,
                          Blocking blocking) {
  const auto floor = std::clamp<std::int64_t>(static_cast<std::int64_t>(capacity / 50), 1, 20);
  const double span_seconds = std::chrono::duration<double>(kGrantSpan).count();
  const auto cap = static_cast<std::int64_t>(std::max(capacity / 10, std::min(capacity / 2, per_second * span_seconds)));
  return draw(bucket, true, now, floor, cap, blocking, [&](std::int64_t want) -> Result<std::int64_t> {
    auto got = store_.take_tokens(bucket, static_cast<int>(want), now, per_second, capacity);
    if (!got) return got.error();
    return static_cast<std::int64_t>(*got);
  });
}

namespace {
metrics::Family<metrics::Counter>& refusals() {
  static auto& family = metrics::registry().counter("herald_rate_limit_refusals_total",
                                                    "Requests refused by a rate or daily limit, by limit and key type.",
                                                    {"limit", "key_type"});
  return family;
}
}  // namespace

Limits::Limits(store::LimitCounters& store) : store_(store) { refusals(); }

Result<void> Limits::check_rate(const Caller& caller, const store::ServiceRecord& service, Timestamp now,
                                Blocking blocking) {
  const int rate = std::max(1, service.rate_limit);
  const double capacity = std::min(std::ceil(rate / 3.0) + 1.0, 1000.0);
  const std::string key = "rate/" + service.id.to_string() + "/" + store::key_type_name(caller.key_type);
  auto spent = take(key, capacity, rate / 60.0, now, blocking);
  if (!spent) return spent.error();
  if (*spent) return ok();
  refusals().with({"rate", store::key_type_name(caller.key_type)}).inc();
  return Error{ErrorCode::kResourceExhausted,
               "Exceeded rate limit for key type " + std::string(shown_key_type(caller.key_type)) + " of " +
                   std::to_string(rate) + " requests per 60 seconds",
               Refusal::kRateLimit};
}

Result<void> Limits::check_daily(const Caller& caller, const store::ServiceRecord& service, DailyCounter counter,
                                 Timestamp now, Blocking blocking) {
  const bool test = caller.key_type == store::KeyType::kTest;
  std::int64_t limit = daily_limit(service, counter);
  if (service.restricted && !test) limit = std::min(limit, kTrialDailyLimit);
  if (service.restricted && test) limit = daily_limit(store::ServiceRecord{}, counter);  // GOV.UK's live defaults
  const std::string key = daily_key(caller, counter, now);
  const std::int64_t floor = std::clamp<std::int64_t>(limit / 1000, 1, 20);
  auto available = draw(key, false, now, floor, std::max<std::int64_t>(1, limit / 100), blocking,
                        [&](std::int64_t want) { return store_.reserve_count(key, want, limit); });
  if (!available) return available.error();
  if (*available) return ok();
  refusals().with({std::string("daily_") + daily_counter_name(counter), store::key_type_name(caller.key_type)}).inc();
  return Error{ErrorCode::kResourceExhausted,
               "Exceeded send limits (" + std::string(daily_counter_name(counter)) + ": " + std::to_string(limit) +
                   ") for today",
               Refusal::kDailyLimit};
}

void Limits::count_daily(const Caller& caller, DailyCounter counter, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = granted_.find(daily_key(caller, counter, now));
  // Sends racing for the last unit of a grant may both be stored: at most one over per race.
  if (it != granted_.end() && it->second.left > 0) --it->second.left;
}

}  // namespace herald::domain
