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

// The store's marks (OperationsStore), where the history detectors remember what they learnt.
class MapMarks final : public store::OperationsStore {
 public:
  Result<store::QueueFigures> queue_figures() override { return store::QueueFigures{}; }
  Result<void> set_mark(std::string_view name, Timestamp at) override {
    if (failing) return unavailable("store down");
    rows[std::string(name)] = at;
    return ok();
  }
  Result<std::vector<std::pair<std::string, Timestamp>>> marks(std::string_view prefix) override {
    if (failing) return unavailable("store down");
    std::vector<std::pair<std::string, Timestamp>> out;
    for (const auto& [name, at] : rows) {
      if (name.starts_with(prefix)) out.emplace_back(name, at);
    }
    return out;
  }
  std::map<std::string, Timestamp> rows;
  bool failing = false;
};

struct Detecting : ::testing::Test {
  fakes::FakeClock clock;
  MapBlocks blocks;
  MapMarks marks;
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
  IntrusionDetector detector{blocks, marks, clock, options(), [this](const SecurityEvent& e) { events.push_back(e); }};
  std::vector<std::string> detectors() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.detector);
    return out;
  }
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
  IntrusionDetector other(blocks, marks, clock, options(), nullptr);
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
  EXPECT_EQ(events[0].subject, "service:s-1");
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

TEST_F(Detecting, SourcesNeverBlockedRaiseTheEventOnly) {
  auto o = options();
  o.never_block = *cidr::NetworkSet::parse({"127.0.0.0/8", "::1/128"});
  IntrusionDetector local(blocks, marks, clock, o, [this](const SecurityEvent& e) { events.push_back(e); });
  for (int i = 0; i < 5; ++i) local.auth_failure("govuk_v2", "bad signature", "127.0.0.1", "");
  for (int i = 0; i < 5; ++i) local.auth_failure("govuk_v2", "bad signature", "192.0.2.1", "");
  EXPECT_FALSE(local.blocked("127.0.0.1"));
  EXPECT_TRUE(local.blocked("192.0.2.1"));
  ASSERT_TRUE(local.poll());
  ASSERT_EQ(detectors(), (std::vector<std::string>{"auth_failures", "auth_failures"}));
  EXPECT_NE(events[0].detail.find("not blocked"), std::string::npos);
  EXPECT_FALSE(blocks.rows.contains("127.0.0.1"));
  EXPECT_TRUE(blocks.rows.contains("192.0.2.1"));
}

TEST_F(Detecting, OneTokenFromTwoAddressesIsAReplay) {
  detector.authenticated("key:k-1", "service:s-1", "fp-1", "192.0.2.1");
  detector.authenticated("key:k-1", "service:s-1", "fp-1", "192.0.2.1");  // a client's retry: the same source
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty());
  detector.authenticated("key:k-1", "service:s-1", "fp-1", "192.0.2.77");
  detector.authenticated("key:k-1", "service:s-1", "fp-1", "192.0.2.78");  // once per token
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(detectors(), std::vector<std::string>{"token_replay"});
  EXPECT_EQ(events[0].subject, "key:k-1");
  EXPECT_EQ(events[0].source, "192.0.2.77");
  EXPECT_NE(events[0].detail.find("192.0.2.1 "), std::string::npos);
  EXPECT_FALSE(detector.blocked("192.0.2.77")) << "an event, not a block";
}

TEST_F(Detecting, FreshTokensFromManyAddressesAreNotReplays) {
  // Clients behind a pool of addresses, each request a new token (as GOV.UK's clients make them).
  for (int i = 0; i < 200; ++i) {
    detector.authenticated("key:k-1", "service:s-1", "fp-" + std::to_string(i), "192.0.2." + std::to_string(i % 7));
  }
  // A token seen again after the window is old news, not a replay in it.
  detector.authenticated("key:k-1", "service:s-1", "late", "192.0.2.1");
  clock.advance(std::chrono::minutes(6));
  detector.authenticated("key:k-1", "service:s-1", "late", "192.0.2.2");
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty()) << events[0].detector;
}

TEST_F(Detecting, AKeyFromANetworkItNeverUsedIsReportedOnceAndRemembered) {
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.10");  // first use: learnt silently
  ASSERT_TRUE(detector.poll());
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.99");  // the same /24
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty());
  detector.authenticated("key:k-1", "service:s-1", "", "203.0.113.5");
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(detectors(), std::vector<std::string>{"new_network"});
  EXPECT_EQ(events[0].subject, "key:k-1");
  EXPECT_NE(events[0].detail.find("203.0.113.0/24"), std::string::npos);
  // Another node (or this one restarted) knows both networks from the store.
  IntrusionDetector other(blocks, marks, clock, options(), [this](const SecurityEvent& e) { events.push_back(e); });
  other.authenticated("key:k-1", "service:s-1", "", "203.0.113.6");
  other.authenticated("key:k-1", "service:s-1", "", "192.0.2.7");
  ASSERT_TRUE(other.poll());
  EXPECT_EQ(events.size(), 1u);
  // Another key's first network is its own first.
  detector.authenticated("key:k-2", "service:s-1", "", "198.51.100.1");
  ASSERT_TRUE(detector.poll());
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(Detecting, WhatTheStoreCouldNotAnswerIsAskedAgain) {
  detector.authenticated("key:k-1", "", "", "192.0.2.10");
  ASSERT_TRUE(detector.poll());
  marks.failing = true;
  detector.authenticated("key:k-1", "", "", "203.0.113.5");
  EXPECT_FALSE(detector.poll());
  marks.failing = false;
  detector.authenticated("key:k-1", "", "", "203.0.113.5");
  ASSERT_TRUE(detector.poll());
  EXPECT_EQ(detectors(), std::vector<std::string>{"new_network"});
}

TEST_F(Detecting, AKeyFarAboveItsOwnBaselineIsReported) {
  // An hour at 20 requests a minute, then a minute of 700.
  for (int minute = 0; minute < 61; ++minute) {
    for (int i = 0; i < 20; ++i) detector.authenticated("key:k-1", "", "", "192.0.2.1");
    clock.advance(std::chrono::minutes(1));
  }
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty());
  for (int i = 0; i < 700; ++i) detector.authenticated("key:k-1", "", "", "192.0.2.1");
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(detectors(), std::vector<std::string>{"volume"});
  EXPECT_NE(events[0].detail.find("600 requests in a minute against an average of 20.0"), std::string::npos)
      << events[0].detail;
}

TEST_F(Detecting, SteadyHighVolumeAndANewKeysFirstBurstAreNotReported) {
  // A bulk sender at 3,000 a minute for 70 minutes: high, but its own normal.
  for (int minute = 0; minute < 70; ++minute) {
    for (int i = 0; i < 3000; ++i) detector.authenticated("key:bulk", "", "", "192.0.2.1");
    clock.advance(std::chrono::minutes(1));
  }
  // A new key sending 5,000 in its first minute has no baseline to be judged against.
  for (int i = 0; i < 5000; ++i) detector.authenticated("key:new", "", "", "192.0.2.1");
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty()) << events[0].detail;
}

TEST_F(Detecting, SendingInAnHourAServiceNeverUsesIsReportedAfterItsPatternIsLearnt) {
  clock.set(*parse_timestamp("2026-03-02T09:30:00.000000Z"));
  // Three weeks of office hours (09:00 to 17:00 UTC) on weekdays.
  for (int day = 0; day < 21; ++day) {
    for (int hour = 9; hour < 17; ++hour) {
      clock.set(*parse_timestamp("2026-03-02T09:30:00.000000Z") + std::chrono::days(day) +
                std::chrono::hours(hour - 9));
      detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
      ASSERT_TRUE(detector.poll());
    }
  }
  EXPECT_TRUE(events.empty()) << events[0].detail;
  clock.set(*parse_timestamp("2026-03-23T03:10:00.000000Z"));
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(detectors(), std::vector<std::string>{"off_hours"});
  EXPECT_EQ(events[0].subject, "service:s-1");
  EXPECT_NE(events[0].detail.find("03:00 and 04:00 UTC"), std::string::npos) << events[0].detail;
  // Once seen, the hour is usual: the next night's send raises nothing.
  clock.set(*parse_timestamp("2026-03-24T03:10:00.000000Z"));
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
  ASSERT_TRUE(detector.poll());
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(Detecting, ANewServiceIsNotJudgedOnItsHoursWhileItsPatternIsLearnt) {
  clock.set(*parse_timestamp("2026-03-02T09:30:00.000000Z"));
  detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
  ASSERT_TRUE(detector.poll());
  for (int hour = 0; hour < 24 * 10; hour += 5) {  // every hour of the day within ten days
    clock.set(*parse_timestamp("2026-03-02T09:30:00.000000Z") + std::chrono::hours(hour));
    detector.authenticated("key:k-1", "service:s-1", "", "192.0.2.1");
    ASSERT_TRUE(detector.poll());
  }
  EXPECT_TRUE(events.empty()) << events[0].detail;
}

TEST_F(Detecting, ACertificateErrorIsReportedOncePerHostAndWindow) {
  detector.certificate_error("callbacks.example.org", "certificate has expired");
  detector.certificate_error("callbacks.example.org", "certificate has expired");
  detector.certificate_error("sms.example.net", "unable to get local issuer certificate");
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(detectors(), (std::vector<std::string>{"certificate_error", "certificate_error"}));
  EXPECT_EQ(events[0].subject, "host:callbacks.example.org");
  EXPECT_EQ(events[0].detail, "certificate has expired");
  EXPECT_TRUE(blocks.rows.empty());
}

}  // namespace
}  // namespace herald::security
