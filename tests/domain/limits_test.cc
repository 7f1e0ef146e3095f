#include "domain/limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "crypto/random.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

TEST(GrantSize, FloorWhenQuietProportionalWhenBusyCappedAlways) {
  EXPECT_EQ(next_grant_size(0, 1s, 20, 500), 20) << "first grant";
  EXPECT_EQ(next_grant_size(20, 10s, 20, 500), 20) << "2 a second: the floor";
  EXPECT_EQ(next_grant_size(20, 10ms, 20, 500), 200) << "2,000 a second: 100 ms of it";
  EXPECT_EQ(next_grant_size(500, 50ms, 20, 500), 500) << "10,000 a second: the cap";
  EXPECT_EQ(next_grant_size(20, 0ms, 20, 500), 20) << "no time measured: no guess";
  EXPECT_EQ(next_grant_size(20, 1ms, 20, 5), 20) << "a cap below the floor is the floor";
}

class LimitsTest : public ::testing::Test {
 protected:
  LimitsTest() {
    service_.id = ServiceId{crypto::random_uuid()};
    caller_.service = service_.id;
  }
  // Sends one request per `step` through `limits` until refused or `max` accepted.
  static int send_until_refused(Limits& limits, const Caller& caller, const store::ServiceRecord& service,
                                Timestamp& now, Duration step, int max) {
    int accepted = 0;
    while (accepted < max) {
      auto admitted = limits.check_daily(caller, service, DailyCounter::kEmail, now, Blocking::kAllowed);
      if (!admitted) break;
      limits.count_daily(caller, DailyCounter::kEmail, now);
      ++accepted;
      now += step;
    }
    return accepted;
  }
  fakes::MemoryStore store_;
  store::ServiceRecord service_;
  Caller caller_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_F(LimitsTest, ABusyNodeAsksTheStoreAboutTenTimesASecond) {
  service_.rate_limit = 1'000'000'000;  // limits lifted, as the benchmark does
  service_.email_limit = 1'000'000'000;
  Limits limits(store_);
  Timestamp now = now_;
  for (int i = 0; i < 10000; ++i) {  // one second at 10,000 a second
    ASSERT_TRUE(limits.check_rate(caller_, service_, now, Blocking::kAllowed));
    ASSERT_TRUE(limits.check_daily(caller_, service_, DailyCounter::kEmail, now, Blocking::kAllowed));
    limits.count_daily(caller_, DailyCounter::kEmail, now);
    now += 100us;
  }
  // Fixed grants of 20 made this 1,000 round trips (500 per counter).
  EXPECT_LT(store_.limit_calls, 60);
}

TEST_F(LimitsTest, AQuietNodeHoldsOnlyTheFloorGrant) {
  service_.email_limit = 20'000;  // floor 20, cap 200
  Limits quiet(store_);
  Limits busy(store_);
  Timestamp now = now_;
  ASSERT_EQ(send_until_refused(quiet, caller_, service_, now, 1s, 30), 30);  // one a second: two grants of 20
  // The quiet node holds 10 it has not spent; the busy one, sending 1,000 a second with
  // grants of 100, reaches everything else.
  EXPECT_EQ(send_until_refused(busy, caller_, service_, now, 1ms, 40'000), 20'000 - 40);
}

TEST_F(LimitsTest, NodesTogetherNeverPassTheDailyLimitAndReachIt) {
  service_.email_limit = 5'000;
  Limits a(store_);
  Limits b(store_);
  Timestamp now = now_;
  int accepted = 0;
  // Up to `count` sends through `node` until it refuses one.
  auto burst = [&](Limits& node, int count, bool& refused) {
    for (int i = 0; i < count && !refused; ++i) {
      if (node.check_daily(caller_, service_, DailyCounter::kEmail, now, Blocking::kAllowed)) {
        node.count_daily(caller_, DailyCounter::kEmail, now);
        ++accepted;
      } else {
        refused = true;
      }
    }
  };
  for (bool refused_a = false, refused_b = false; !(refused_a && refused_b);) {
    burst(a, 7, refused_a);
    burst(b, 3, refused_b);
    now += 100us;
  }
  EXPECT_EQ(accepted, 5'000);
  auto refused = a.check_daily(caller_, service_, DailyCounter::kEmail, now, Blocking::kAllowed);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "Exceeded send limits (email: 5000) for today");
}

// The day in a daily counter's name is the UTC date, turning at UTC midnight, and the name keeps
// the form nodes already share in the store ("daily/<service>/[test/]<counter>/YYYY-MM-DD"): a
// node of another version, or a restart mid-day, counts into the same counter.
TEST_F(LimitsTest, ADailyCounterIsNamedByItsUtcDate) {
  // The store, noting the name of every counter asked of it.
  struct NamingStore : store::LimitCounters {
    explicit NamingStore(store::LimitCounters& counters) : inner(counters) {}
    Result<int> take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                            double capacity) override {
      return inner.take_tokens(bucket, want, now, refill_per_second, capacity);
    }
    Result<std::int64_t> reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) override {
      names.insert(counter);
      return inner.reserve_count(counter, want, limit);
    }
    store::LimitCounters& inner;
    std::set<std::string> names;
  } store(store_);
  service_.email_limit = 1;
  service_.sms_limit = 1;
  Limits limits(store);
  const Timestamp last = *parse_timestamp("2026-12-31T23:59:59.999999Z");
  const Timestamp next = *parse_timestamp("2027-01-01T00:00:00.000000Z");
  ASSERT_TRUE(limits.check_daily(caller_, service_, DailyCounter::kEmail, last, Blocking::kAllowed));
  limits.count_daily(caller_, DailyCounter::kEmail, last);
  EXPECT_FALSE(limits.check_daily(caller_, service_, DailyCounter::kEmail, last, Blocking::kAllowed));
  ASSERT_TRUE(limits.check_daily(caller_, service_, DailyCounter::kEmail, next, Blocking::kAllowed));
  Caller test_key = caller_;
  test_key.key_type = store::KeyType::kTest;
  ASSERT_TRUE(limits.check_daily(test_key, service_, DailyCounter::kSms, from_micros(0), Blocking::kAllowed));
  const std::string service = service_.id.to_string();
  EXPECT_EQ(store.names,
            (std::set<std::string>{"daily/" + service + "/email/2026-12-31", "daily/" + service + "/email/2027-01-01",
                                   "daily/" + service + "/test/sms/1970-01-01"}));
}

TEST_F(LimitsTest, TheGovukRateLimitIsExactOnOneNode) {
  service_.rate_limit = 3000;  // a bucket of 1,000, refilled at 50 a second
  Limits limits(store_);
  int accepted = 0;
  Timestamp now = now_;
  while (limits.check_rate(caller_, service_, now, Blocking::kAllowed)) {
    ++accepted;
    now += 1us;
  }
  EXPECT_EQ(accepted, 1000);
  auto refused = limits.check_rate(caller_, service_, now, Blocking::kAllowed);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds");
  EXPECT_EQ(refused.error().refusal, Refusal::kRateLimit);
}

// Counts store calls, not milliseconds. The store is slow (each call takes 50 ms) and the eight
// threads start together, so all of them find the grant empty while the first one refills it;
// the test checks how many times the store was asked. The 50 ms only make the threads overlap:
// a correct Limits asks once however the threads are scheduled.
TEST_F(LimitsTest, ThreadsFindingAGrantEmptyShareOneRefill) {
  constexpr int kThreads = 8;
  // Owned jointly with the threads, so that if they hang the test can fail and leave them.
  struct Shared {
    fakes::MemoryStore store;
    Limits limits{store};
    std::latch start{kThreads};
    std::atomic<int> accepted{0};
    std::mutex mutex;
    std::condition_variable finished_cv;
    int finished = 0;  // guarded by mutex
  };
  auto shared = std::make_shared<Shared>();
  shared->store.limit_delay = 50ms;  // a slow store: every thread arrives while the first one waits
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([shared, caller = caller_, service = service_, now = now_] {
      shared->start.arrive_and_wait();
      if (shared->limits.check_rate(caller, service, now, Blocking::kAllowed)) ++shared->accepted;
      std::lock_guard lock(shared->mutex);
      ++shared->finished;
      shared->finished_cv.notify_all();
    });
  }
  bool all_finished = false;
  {
    std::unique_lock lock(shared->mutex);
    all_finished = shared->finished_cv.wait_for(lock, 30s, [&] { return shared->finished == kThreads; });
  }
  if (!all_finished) {
    for (auto& thread : threads) thread.detach();  // they hold `shared`
    FAIL() << "threads still waiting for a grant after 30 s: a refill's waiters were not woken";
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(shared->accepted.load(), kThreads);
  EXPECT_EQ(shared->store.limit_calls, 1) << "one grant of 20 covers all eight";
}

TEST_F(LimitsTest, WithoutBlockingAnEmptyGrantWouldBlock) {
  Limits limits(store_);
  auto first = limits.check_rate(caller_, service_, now_, Blocking::kNotAllowed);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kWouldBlock);
  ASSERT_TRUE(limits.check_rate(caller_, service_, now_, Blocking::kAllowed));
  EXPECT_TRUE(limits.check_rate(caller_, service_, now_, Blocking::kNotAllowed)) << "from the grant";
}

}  // namespace
}  // namespace herald::domain
