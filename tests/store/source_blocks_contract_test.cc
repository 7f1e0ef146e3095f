// The SourceBlockStore contract (store/store.h): intrusion prevention's blocked source addresses,
// shared by every node of the store. Strikes double the block up to a cap, start again once a
// block is long forgotten, never shorten a running block, and are never lost when nodes strike at
// once. Run against every backend as store_contract_test.cc runs the rest (SQLite, PostgreSQL,
// and the in-memory store other unit tests use).
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

class SourceBlocks : public testing::TwoServicesContract {
 protected:
  // A strike on store_ with the detector's usual settings: 1 minute doubling up to 8, forgetting
  // blocks that ended a day before `at`.
  SourceBlock strike(std::string_view source, Timestamp at, std::string_view reason = "auth_failures") {
    auto struck = store_->strike_source(source, reason, at, 1min, 8min, at - 24h);
    EXPECT_TRUE(struck) << struck.error().message;
    return struck ? *struck : SourceBlock{};
  }
  // The running blocks as another node reads them.
  std::vector<SourceBlock> running(Timestamp at) {
    auto read = another()->running_blocks(at);
    EXPECT_TRUE(read) << read.error().message;
    return read ? *read : std::vector<SourceBlock>{};
  }
  static std::vector<std::string> sources(const std::vector<SourceBlock>& blocks) {
    std::vector<std::string> out;
    for (const SourceBlock& block : blocks) out.push_back(block.source);
    return out;
  }
  static void expect_same(const SourceBlock& got, const SourceBlock& want) {
    EXPECT_EQ(got.source, want.source);
    EXPECT_EQ(got.until, want.until) << got.source;
    EXPECT_EQ(got.strikes, want.strikes) << got.source;
    EXPECT_EQ(got.reason, want.reason) << got.source;
    EXPECT_EQ(got.updated_at, want.updated_at) << got.source;
  }
};

TEST_P(SourceBlocks, TheFirstStrikeBlocksForTheBaseAndEachInARowDoublesUpToTheCap) {
  const SourceBlock first = strike("203.0.113.9", now_);
  EXPECT_EQ(first.source, "203.0.113.9");
  EXPECT_EQ(first.strikes, 1);
  EXPECT_EQ(first.until, now_ + 1min);
  EXPECT_EQ(first.reason, "auth_failures");
  EXPECT_EQ(first.updated_at, now_);
  auto listed = running(now_);
  ASSERT_EQ(listed.size(), 1U);
  expect_same(listed[0], first);

  // Struck again after each block ends (well within a day of it): 2, 4, 8, then 8 minutes.
  Timestamp at = now_ + 2min;
  for (const auto& [strikes, length] :
       std::vector<std::pair<int, Duration>>{{2, 2min}, {3, 4min}, {4, 8min}, {5, 8min}, {6, 8min}}) {
    const SourceBlock next = strike("203.0.113.9", at, "enumeration");
    EXPECT_EQ(next.strikes, strikes);
    EXPECT_EQ(next.until, at + length) << strikes << " strikes";
    EXPECT_EQ(next.reason, "enumeration") << "the detector that struck last";
    EXPECT_EQ(next.updated_at, at);
    at = next.until + 30s;
  }
}

TEST_P(SourceBlocks, ABaseLongerThanTheCapBlocksForTheCapAndManyStrikesStayThere) {
  auto first = store_->strike_source("192.0.2.1", "manual", now_, 2h, 1h, now_ - 24h);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->until, now_ + 1h);
  // Far past any doubling a 64-bit count of microseconds could hold.
  SourceBlock last;
  for (int i = 0; i < 70; ++i) {
    auto struck = store_->strike_source("198.51.100.7", "auth_failures", now_, 1s, 24h, now_ - 24h);
    ASSERT_TRUE(struck) << struck.error().message;
    last = *struck;
  }
  EXPECT_EQ(last.strikes, 70);
  EXPECT_EQ(last.until, now_ + 24h);
}

TEST_P(SourceBlocks, ABlockEndedBeforeForgetBeforeStartsAgainAtOneStrike) {
  ASSERT_EQ(strike("203.0.113.9", now_).until, now_ + 1min);
  // Ended exactly at forget_before: not before it, so the strikes go on.
  auto kept = store_->strike_source("203.0.113.9", "auth_failures", now_ + 1h, 1min, 8min, now_ + 1min);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->strikes, 2);
  EXPECT_EQ(kept->until, now_ + 1h + 2min);
  // Ended a microsecond before forget_before: forgotten, counted afresh from now.
  const Timestamp later = now_ + 3h;
  auto fresh = store_->strike_source("203.0.113.9", "enumeration", later, 1min, 8min, now_ + 1h + 2min + 1us);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->strikes, 1);
  EXPECT_EQ(fresh->until, later + 1min);
  EXPECT_EQ(fresh->reason, "enumeration");
}

TEST_P(SourceBlocks, ALaterStrikeNeverShortensARunningBlock) {
  auto manual = store_->strike_source("203.0.113.9", "manual", now_, 1h, 24h, now_ - 24h);
  ASSERT_TRUE(manual) << manual.error().message;
  ASSERT_EQ(manual->until, now_ + 1h);
  // A detector with shorter blocks strikes while the hour runs: the block stays an hour.
  const SourceBlock next = strike("203.0.113.9", now_ + 1s, "enumeration");
  EXPECT_EQ(next.strikes, 2);
  EXPECT_EQ(next.until, now_ + 1h);
  EXPECT_EQ(next.reason, "enumeration");
  EXPECT_EQ(next.updated_at, now_ + 1s);
  auto listed = running(now_ + 59min);
  ASSERT_EQ(listed.size(), 1U);
  expect_same(listed[0], next);
}

TEST_P(SourceBlocks, RunningBlocksListsOnlyThoseStillRunningBySource) {
  strike("203.0.113.9", now_);          // until now + 1 min
  strike("2001:db8::1", now_ + 30s);    // until now + 1 min 30 s
  strike("192.0.2.1", now_ - 2min);     // ended at now - 1 min
  strike("10.0.0.1", now_ + 10s);       // until now + 1 min 10 s
  strike("198.51.100.7", now_ - 1min);  // ends at now exactly: not running at now
  EXPECT_EQ(sources(running(now_)), (std::vector<std::string>{"10.0.0.1", "2001:db8::1", "203.0.113.9"}))
      << "by source, bytewise";
  EXPECT_EQ(sources(running(now_ - 1min)),
            (std::vector<std::string>{"10.0.0.1", "198.51.100.7", "2001:db8::1", "203.0.113.9"}));
  EXPECT_EQ(sources(running(now_ + 1min)), (std::vector<std::string>{"10.0.0.1", "2001:db8::1"}));
  EXPECT_TRUE(running(now_ + 1h).empty());
  auto mine = store_->running_blocks(now_ + 1min + 20s);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(sources(*mine), (std::vector<std::string>{"2001:db8::1"}));
}

TEST_P(SourceBlocks, UnblockingEndsTheBlockAndForgetsItsStrikes) {
  strike("203.0.113.9", now_);
  strike("203.0.113.9", now_ + 2min);
  strike("192.0.2.1", now_);
  auto unblocked = another()->unblock_source("203.0.113.9");
  ASSERT_TRUE(unblocked) << unblocked.error().message;
  EXPECT_TRUE(*unblocked);
  EXPECT_EQ(sources(running(now_ + 2min)), std::vector<std::string>{}) << "192.0.2.1's ended at now + 1 min";
  EXPECT_EQ(sources(running(now_)), std::vector<std::string>{"192.0.2.1"});
  auto again = store_->unblock_source("203.0.113.9");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again) << "nothing left to unblock";
  auto never = store_->unblock_source("198.51.100.7");
  ASSERT_TRUE(never) << never.error().message;
  EXPECT_FALSE(*never);
  EXPECT_EQ(strike("203.0.113.9", now_ + 3min).strikes, 1) << "the strikes went with the block";
}

TEST_P(SourceBlocks, ForgettingDeletesTheBlocksThatEndedBeforeAndCountsThem) {
  strike("203.0.113.9", now_);       // until now + 1 min
  strike("192.0.2.1", now_ + 1min);  // until now + 2 min
  strike("10.0.0.1", now_ + 10min);  // until now + 11 min
  auto none = store_->forget_blocks(now_ + 1min);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, 0) << "a block ending exactly then did not end before it";
  auto forgot = another()->forget_blocks(now_ + 2min + 1us);
  ASSERT_TRUE(forgot) << forgot.error().message;
  EXPECT_EQ(*forgot, 2);
  EXPECT_EQ(sources(running(now_)), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(strike("203.0.113.9", now_ + 3min).strikes, 1) << "forgotten strikes";
  auto rest = store_->forget_blocks(now_ + 1h);
  ASSERT_TRUE(rest) << rest.error().message;
  EXPECT_EQ(*rest, 2);
  EXPECT_TRUE(running(now_ - 1h).empty());
}

TEST_P(SourceBlocks, BadSourcesAndReasonsAreRefusedAndNothingIsStored) {
  const std::string longest(64, '1');
  EXPECT_EQ(strike(longest, now_).source, longest);
  EXPECT_EQ(strike("fe80::1%eth0", now_).strikes, 1) << "a scoped IPv6 address is printable";
  for (const std::string& bad :
       {std::string(), std::string(65, '1'), std::string("203.0.113.9 "), std::string("203.0.113.9\n"),
        std::string("a\0b", 3), std::string("\xff"), std::string("n\xc5\x93")}) {
    auto struck = store_->strike_source(bad, "auth_failures", now_, 1min, 8min, now_ - 24h);
    ASSERT_FALSE(struck) << bad.size() << " bytes";
    EXPECT_EQ(struck.error().code, ErrorCode::kInvalidArgument) << bad.size() << " bytes";
    auto unblocked = store_->unblock_source(bad);
    ASSERT_FALSE(unblocked) << bad.size() << " bytes";
    EXPECT_EQ(unblocked.error().code, ErrorCode::kInvalidArgument) << bad.size() << " bytes";
  }
  EXPECT_EQ(strike("192.0.2.1", now_, std::string(64, 'r')).reason, std::string(64, 'r'));
  for (const std::string& bad : {std::string(), std::string(65, 'r'), std::string("a\0b", 3), std::string("\xc3")}) {
    auto struck = store_->strike_source("198.51.100.7", bad, now_, 1min, 8min, now_ - 24h);
    ASSERT_FALSE(struck) << bad.size() << " bytes";
    EXPECT_EQ(struck.error().code, ErrorCode::kInvalidArgument) << bad.size() << " bytes";
  }
  EXPECT_EQ(sources(running(now_)), (std::vector<std::string>{longest, "192.0.2.1", "fe80::1%eth0"}));
}

TEST_P(SourceBlocks, EveryNodeSeesAndAddsToTheSameStrikes) {
  auto other = another();
  ASSERT_TRUE(other);
  strike("203.0.113.9", now_);
  auto second = other->strike_source("203.0.113.9", "enumeration", now_ + 2min, 1min, 8min, now_ - 24h);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->strikes, 2);
  EXPECT_EQ(second->until, now_ + 4min);
  const SourceBlock third = strike("203.0.113.9", now_ + 5min);
  EXPECT_EQ(third.strikes, 3);
  EXPECT_EQ(third.until, now_ + 9min);
  auto seen = other->running_blocks(now_ + 5min);
  ASSERT_TRUE(seen) << seen.error().message;
  ASSERT_EQ(seen->size(), 1U);
  expect_same((*seen)[0], third);
}

// Nodes that strike one source at once (a distributed attack seen everywhere) each count: none is
// lost to another's read-modify-write, and each strike sees every earlier one.
TEST_P(SourceBlocks, ConcurrentStrikesFromSeveralNodesAreAllCounted) {
  constexpr int kThreads = 4;
  constexpr int kStrikesEach = 25;
  std::vector<std::shared_ptr<Store>> nodes{store_, another()};
  ASSERT_TRUE(nodes[1]);
  std::mutex mutex;
  std::multiset<int> counted;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& node = *nodes[static_cast<std::size_t>(t % 2)];
      for (int i = 0; i < kStrikesEach; ++i) {
        auto struck = node.strike_source("203.0.113.9", "auth_failures", now_, 1min, 8min, now_ - 24h);
        std::lock_guard lock(mutex);
        if (struck) {
          counted.insert(struck->strikes);
        } else {
          errors.push_back(struck.error().message);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  std::multiset<int> expected;
  for (int strikes = 1; strikes <= kThreads * kStrikesEach; ++strikes) expected.insert(strikes);
  EXPECT_EQ(counted, expected) << "each strike saw every earlier one, and no two saw the same row";
  auto listed = running(now_);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].strikes, kThreads * kStrikesEach);
  EXPECT_EQ(listed[0].until, now_ + 8min);
}

INSTANTIATE_TEST_SUITE_P(Backends, SourceBlocks, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
