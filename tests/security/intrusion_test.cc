#include "security/intrusion.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/fakes/fake_clock.h"

namespace herald::security {
namespace {

// The store's shared blocks, as the contract in store.h gives them (the backends' own tests are
// tests/store/source_blocks_contract_test.cc).
class MapBlocks final : public store::SourceBlockStore {
 public:
  Result<store::SourceBlock> strike_source(std::string_view source, std::string_view reason, Timestamp now,
                                           Duration base, Duration cap, Timestamp forget_before) override {
    auto& row = rows[std::string(source)];
    const bool fresh = row.source.empty() || row.until < forget_before;
    row.source = std::string(source);
    row.strikes = fresh ? 1 : row.strikes + 1;
    Duration length = base;
    for (int i = 1; i < row.strikes && length < cap; ++i) length *= 2;
    row.until = std::max(fresh ? now : row.until, now + std::min(length, cap));
    row.reason = std::string(reason);
    row.updated_at = now;
    return row;
  }
  Result<std::vector<store::SourceBlock>> running_blocks(Timestamp now) override {
    std::vector<store::SourceBlock> out;
    for (const auto& [source, row] : rows) {
      if (row.until > now) out.push_back(row);
    }
    return out;
  }
  Result<bool> unblock_source(std::string_view source) override { return rows.erase(std::string(source)) > 0; }
  Result<std::int64_t> forget_blocks(Timestamp) override { return 0; }
  std::map<std::string, store::SourceBlock> rows;
};

struct Detecting : ::testing::Test {
  fakes::FakeClock clock;
  MapBlocks blocks;
  std::vector<SecurityEvent> events;
  IntrusionOptions options() {
    IntrusionOptions o;
    o.auth_failures = 5;
    o.not_found = 10;
    o.window = std::chrono::minutes(5);
    o.block_base = std::chrono::minutes(1);
    o.block_cap = std::chrono::minutes(8);
    return o;
  }
  IntrusionDetector detector{blocks, clock, options(), [this](const SecurityEvent& e) { events.push_back(e); }};
};

TEST_F(Detecting, RepeatedAuthFailuresFromOneSourceBlockItOnEveryNode) {
  for (int i = 0; i < 4; ++i) detector.auth_failure("govuk_v2", "bad signature", "203.0.113.9", "");
  EXPECT_FALSE(detector.blocked("203.0.113.9"));
  detector.auth_failure("govuk_v2", "bad signature", "203.0.113.9", "");
  EXPECT_TRUE(detector.blocked("203.0.113.9")) << "refused here at once, before the poll";
  EXPECT_FALSE(detector.blocked("203.0.113.10"));
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detector, "auth_failures");
  EXPECT_EQ(events[0].source, "203.0.113.9");
  EXPECT_NE(events[0].detail.find("bad signature"), std::string::npos);
  ASSERT_TRUE(blocks.rows.contains("203.0.113.9"));
  EXPECT_EQ(blocks.rows["203.0.113.9"].strikes, 1);
  // Another node learns of the block at its next poll.
  IntrusionDetector other(blocks, clock, options(), nullptr);
  EXPECT_FALSE(other.blocked("203.0.113.9"));
  ASSERT_TRUE(other.poll());
  EXPECT_TRUE(other.blocked("203.0.113.9"));
  // The block ends after its minute.
  clock.advance(std::chrono::seconds(61));
  ASSERT_TRUE(detector.poll());
  EXPECT_FALSE(detector.blocked("203.0.113.9"));
}

TEST_F(Detecting, EachBlockInARowLastsTwiceAsLongUpToTheCap) {
  std::vector<Duration> lengths;
  for (int round = 0; round < 6; ++round) {
    clock.advance(std::chrono::minutes(6));  // a new window each round
    for (int i = 0; i < 5; ++i) detector.auth_failure("govuk_v2", "bad signature", "198.51.100.7", "");
    ASSERT_TRUE(detector.poll());
    lengths.push_back(blocks.rows["198.51.100.7"].until - clock.now());
  }
  EXPECT_EQ(lengths[0], std::chrono::minutes(1));
  EXPECT_EQ(lengths[1], std::chrono::minutes(2));
  EXPECT_EQ(lengths[2], std::chrono::minutes(4));
  EXPECT_EQ(lengths[3], std::chrono::minutes(8));
  EXPECT_EQ(lengths[5], std::chrono::minutes(8)) << "capped";
}

TEST_F(Detecting, NormalTrafficRaisesNothing) {
  // A busy client for an hour: many requests, a mistake every two minutes, a few 404s on ids
  // (notifications past retention) and on unknown routes.
  for (int round = 0; round < 30; ++round) {
    detector.auth_failure("govuk_v2", "clock skew", "192.0.2.1", "key-1");
    for (int i = 0; i < 3; ++i) detector.response("/v2/notifications/{notification_id}", 404, "192.0.2.1");
    for (int i = 0; i < 100; ++i) detector.response("/v2/notifications/{notification_id}", 200, "192.0.2.1");
    detector.response("/v2/no-such-route", 404, "192.0.2.1");
    clock.advance(std::chrono::minutes(2) + std::chrono::seconds(1));
    ASSERT_TRUE(detector.poll());
  }
  EXPECT_TRUE(events.empty());
  EXPECT_FALSE(detector.blocked("192.0.2.1"));
}

TEST_F(Detecting, ManyNotFoundsOnIdsAreEnumeration) {
  for (int i = 0; i < 9; ++i) detector.response("/d/{service_id}/{document_id}", 404, "203.0.113.50");
  EXPECT_FALSE(detector.blocked("203.0.113.50"));
  detector.response("/v2/template/{template_id}", 404, "203.0.113.50");
  EXPECT_TRUE(detector.blocked("203.0.113.50"));
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detector, "enumeration");
}

TEST_F(Detecting, GuessingAtOneKeyFromManyAddressesIsAnEventWithoutABlock) {
  for (int i = 0; i < 5; ++i) {
    detector.auth_failure("govuk_v2", "bad signature", "10.0.0." + std::to_string(i), "service:s-1");
  }
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].subject, "key:service:s-1");
  EXPECT_TRUE(events[0].source.empty());
  EXPECT_TRUE(blocks.rows.empty());
}

TEST_F(Detecting, AnUnblockOnAnyNodeLiftsItEverywhereAtTheNextPoll) {
  for (int i = 0; i < 5; ++i) detector.auth_failure("govuk_v2", "bad signature", "203.0.113.9", "");
  ASSERT_TRUE(detector.poll());
  ASSERT_TRUE(detector.blocked("203.0.113.9"));
  ASSERT_TRUE(blocks.unblock_source("203.0.113.9"));
  ASSERT_TRUE(detector.poll());
  EXPECT_FALSE(detector.blocked("203.0.113.9"));
}

}  // namespace
}  // namespace herald::security
