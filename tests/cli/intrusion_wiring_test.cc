// serve's intrusion wiring (cli/intrusion.h): what a blocked source is told in each API's format,
// the admin UI's sign-in events as the detectors see them, and the webhook's signed body.
#include "cli/intrusion.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::cli {
namespace {

net::Request request_to(std::string path) {
  net::Request request;
  request.method = "GET";
  request.path = std::move(path);
  request.remote_address = "203.0.113.9";
  return request;
}

TEST(BlockedResponse, IsEachApisOwn429WithRetryAfter) {
  const Timestamp now = *parse_timestamp("2026-06-01T10:00:00.000000Z");
  const Timestamp until = now + std::chrono::seconds(90) + std::chrono::milliseconds(200);
  const auto govuk = blocked_response(request_to("/v2/notifications"), "/comms", now, until);
  EXPECT_EQ(govuk.status, 429);
  auto body = json::parse(govuk.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->find("status_code")->as_int64(), 429);
  const auto& error = body->find("errors")->as_array().at(0);
  EXPECT_EQ(error.find("error")->as_string(), "TooManyRequestsError");
  EXPECT_EQ(error.find("message")->as_string(),
            "Too many requests from your address: try again after 2026-06-01T10:01:30Z");
  bool retry_after = false;
  for (const auto& [name, value] : govuk.headers) retry_after |= name == "Retry-After" && value == "91";
  EXPECT_TRUE(retry_after);
  for (const char* path : {"/comms/v1/messages", "/comms", "/oauth2/token"}) {
    const auto nhs = blocked_response(request_to(path), "/comms", now, until);
    EXPECT_EQ(nhs.status, 429) << path;
    auto problem = json::parse(nhs.body);
    ASSERT_TRUE(problem) << path;
    EXPECT_EQ(problem->find("errors")->as_array().at(0).find("code")->as_string(), "CM_QUOTA") << path;
  }
  // A path that only starts like the prefix is GOV.UK's.
  EXPECT_NE(blocked_response(request_to("/commsx"), "/comms", now, until).body.find("TooManyRequestsError"),
            std::string::npos);
}

struct AdminEvents : ::testing::Test {
  fakes::FakeClock clock;
  fakes::MemoryStore store;
  std::vector<security::SecurityEvent> events;
  security::IntrusionDetector detector{store, store, clock, options(),
                                       [this](const security::SecurityEvent& e) { events.push_back(e); }};
  static security::IntrusionOptions options() {
    security::IntrusionOptions o;
    o.auth_failures = 3;
    return o;
  }
  static api::admin::Event sign_in(std::string action, std::string outcome, std::string source) {
    return {"admin-user:2f1c8a7e-6b1d-4c1e-9a36-0d8f2b6f7a10",
            std::move(action),
            {},
            std::move(outcome),
            std::move(source)};
  }
};

TEST_F(AdminEvents, RefusedSignInsCountPerAddressAndPerUser) {
  for (int i = 0; i < 3; ++i) {
    note_admin_event(&detector,
                     sign_in("admin.sign_in.password", "failure: wrong password", "192.0.2." + std::to_string(i)));
  }
  note_admin_event(&detector, sign_in("admin.sign_in.password", "failure: wrong password", "198.51.100.1"));
  note_admin_event(&detector, sign_in("admin.sign_in.password", "failure: wrong password", "198.51.100.1"));
  note_admin_event(&detector, sign_in("admin.sign_in.second_factor", "failure: wrong code", "198.51.100.1"));
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].subject, "admin-user:2f1c8a7e-6b1d-4c1e-9a36-0d8f2b6f7a10") << "one user, many addresses";
  EXPECT_FALSE(events[0].block);
  EXPECT_EQ(events[1].subject, "source:198.51.100.1");
  EXPECT_TRUE(detector.blocked("198.51.100.1"));
  // Other admin events, and successes, are not refusals.
  events.clear();
  for (int i = 0; i < 5; ++i)
    note_admin_event(&detector, sign_in("admin.template.saved", "failure: invalid", "192.0.2.50"));
  note_admin_event(nullptr, sign_in("admin.sign_in.password", "failure: wrong password", "192.0.2.50"));
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty());
}

TEST_F(AdminEvents, ACompletedSignInFromANewNetworkIsReported) {
  note_admin_event(&detector, sign_in("admin.sign_in.second_factor", "success", "192.0.2.10"));
  note_admin_event(&detector, sign_in("admin.sign_in.password", "success", "203.0.113.7"));  // half-way: not a use
  ASSERT_TRUE(detector.poll());
  EXPECT_TRUE(events.empty());
  note_admin_event(&detector, sign_in("admin.sign_in.second_factor", "success", "203.0.113.7"));
  ASSERT_TRUE(detector.poll());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detector, "new_network");
  EXPECT_EQ(events[0].subject, "admin-user:2f1c8a7e-6b1d-4c1e-9a36-0d8f2b6f7a10");
}

TEST(SecurityWebhook, SignsTheExactBody) {
  security::SecurityEvent event{"enumeration",       "203.0.113.9", "source:203.0.113.9",
                                "50 answers of 404", true,          *parse_timestamp("2026-06-01T10:01:00.000000Z")};
  const std::string body = security_event_json(event, *parse_timestamp("2026-06-01T10:00:00.000000Z"), "node-1");
  auto parsed = json::parse(body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->find("detector")->as_string(), "enumeration");
  EXPECT_EQ(parsed->find("blocked_until")->as_string(), "2026-06-01T10:01:00.000000Z");
  EXPECT_EQ(parsed->find("node")->as_string(), "node-1");
  // RFC 4231 test case 2's key and data, as an independent check of the HMAC.
  EXPECT_EQ(webhook_signature("what do ya want for nothing?", "Jefe"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace herald::cli
