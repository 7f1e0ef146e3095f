// NHS Notify callbacks leaving Herald: what each answer means (retries with full jitter within
// the window, Retry-After, dead letters), and the sender's requests (exact bytes, API-key header,
// signature, mutual TLS and pin options) and circuit breaker, over a scripted transport.
#include "delivery/nhs_callbacks.h"

#include <gtest/gtest.h>

#include <deque>

#include "domain/nhs/callbacks.h"
#include "tests/fakes/fake_clock.h"

namespace herald::delivery {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Outcome = store::NhsCallbackAttempt::Outcome;

store::NhsCallbackTarget target() {
  store::NhsCallbackTarget t;
  t.id = *Uuid::parse("7d2b3c1e-0000-4000-8000-000000000011");
  t.client = *Uuid::parse("7d2b3c1e-0000-4000-8000-000000000001");
  t.url = "https://receiver.example/callbacks";
  t.api_key_header = "x-callback-key";
  t.api_key = "callback-key-0123456789";
  t.client_certificate_file = "/etc/herald/client.pem";
  t.client_key_file = "/etc/herald/client.key";
  t.pinned_key_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
  return t;
}

store::NhsCallbackRecord callback(std::int64_t id, Timestamp now) {
  store::NhsCallbackRecord c;
  c.id = id;
  c.target = target().id;
  c.client = target().client;
  c.message_id = "2WL3qFTEFM0qMY8xjRbt1LIKCzM";
  c.body = R"({"data":[{"type":"MessageStatus"}]})";
  c.created_at = now;
  c.next_attempt_at = now;
  return c;
}

net::HttpResponse answer(int status, net::Headers headers = {}) {
  return net::HttpResponse{status, std::move(headers), ""};
}

TEST(JudgeNhsCallback, TwoHundredsAreSentAndOtherFourHundredsAreDeadAtOnce) {
  const Timestamp now = from_micros(1'796'256'000'000'000);
  const auto c = callback(1, now);
  EXPECT_EQ(judge_nhs_callback(c, target(), answer(202), now, 0.5, hours(12)).outcome, Outcome::kSent);
  for (int status : {400, 401, 403, 404, 410, 301}) {
    auto judged = judge_nhs_callback(c, target(), answer(status), now, 0.5, hours(12));
    EXPECT_EQ(judged.outcome, Outcome::kDead) << status;
    EXPECT_EQ(judged.error, "HTTP " + std::to_string(status));
  }
  for (const Error& e : {Error{ErrorCode::kPermissionDenied, "pinned key mismatch"},
                         Error{ErrorCode::kPermissionDenied, "address refused by policy"},
                         Error{ErrorCode::kUnavailable, "certificate verify failed"}}) {
    EXPECT_EQ(judge_nhs_callback(c, target(), e, now, 0.5, hours(12)).outcome, Outcome::kDead) << e.message;
  }
}

TEST(JudgeNhsCallback, TransientFailuresBackOffWithFullJitterWithinTheWindow) {
  const Timestamp now = from_micros(1'796'256'000'000'000);
  auto c = callback(1, now);
  auto first = judge_nhs_callback(c, target(), answer(503), now, 0.999, hours(12));
  EXPECT_EQ(first.outcome, Outcome::kRetry);
  EXPECT_LE(*first.retry_at, now + seconds(5));
  EXPECT_GT(*first.retry_at, now + seconds(4));
  EXPECT_EQ(*judge_nhs_callback(c, target(), answer(503), now, 0.0, hours(12)).retry_at, now)
      << "full jitter: 0 to cap";
  c.attempts = 9;  // the tenth attempt: capped at 300 s
  c.first_attempt_at = now - minutes(30);
  auto capped =
      judge_nhs_callback(c, target(), Error{ErrorCode::kUnavailable, "read timed out"}, now, 0.999, hours(12));
  EXPECT_EQ(capped.outcome, Outcome::kRetry);
  EXPECT_LE(*capped.retry_at, now + seconds(300));
  EXPECT_GT(*capped.retry_at, now + seconds(299));
  EXPECT_EQ(capped.error, "read timed out");
  // Past the 2-hour window from the first attempt: dead.
  c.first_attempt_at = now - hours(2) + seconds(10);
  auto late = judge_nhs_callback(c, target(), answer(500), now, 0.5, hours(12));
  EXPECT_EQ(late.outcome, Outcome::kDead);
  EXPECT_EQ(late.error, "HTTP 500; gave up after 7200 s");
}

TEST(JudgeNhsCallback, TooManyRequestsHonoursALongerRetryAfter) {
  const Timestamp now = from_micros(1'796'256'000'000'000);  // Thu, 03 Dec 2026 00:00:00 GMT
  const auto c = callback(1, now);
  auto later = judge_nhs_callback(c, target(), answer(429, {{"Retry-After", "120"}}), now, 0.5, hours(12));
  EXPECT_EQ(later.outcome, Outcome::kRetry);
  EXPECT_EQ(*later.retry_at, now + seconds(120));
  auto dated = judge_nhs_callback(c, target(), answer(429, {{"retry-after", "Thu, 03 Dec 2026 00:10:00 GMT"}}), now,
                                  0.5, hours(12));
  EXPECT_EQ(*dated.retry_at, now + minutes(10));
  auto shorter = judge_nhs_callback(c, target(), answer(429, {{"Retry-After", "0"}}), now, 0.999, hours(12));
  EXPECT_GT(*shorter.retry_at, now + seconds(4)) << "the back-off is more conservative here";
  EXPECT_EQ(judge_nhs_callback(c, target(), answer(429, {{"Retry-After", "-1"}}), now, 0.5, hours(12)).outcome,
            Outcome::kDead);
  EXPECT_EQ(judge_nhs_callback(c, target(), answer(429, {{"Retry-After", "46800"}}), now, 0.5, hours(12)).outcome,
            Outcome::kDead)
      << "13 hours";
  EXPECT_EQ(judge_nhs_callback(c, target(), answer(429, {{"Retry-After", "7300"}}), now, 0.5, hours(12)).outcome,
            Outcome::kDead)
      << "past the window";
}

TEST(RetryAfter, SecondsOrAnHttpDate) {
  const Timestamp now = from_micros(1'796'256'000'500'000);
  EXPECT_EQ(retry_after_seconds("30", now), 30);
  EXPECT_EQ(retry_after_seconds(" -5 ", now), -5);
  EXPECT_EQ(retry_after_seconds("Thu, 03 Dec 2026 00:01:00 GMT", now), 60);
  EXPECT_EQ(retry_after_seconds("Wed, 02 Dec 2026 23:59:00 GMT", now), -60);
  EXPECT_FALSE(retry_after_seconds("soon", now));
  EXPECT_FALSE(retry_after_seconds("Thu, 03 Foo 2026 00:01:00 GMT", now));
  EXPECT_FALSE(retry_after_seconds("", now));
}

// The outbox as the sender sees it.
class FakeOutbox final : public store::NhsCallbackStore {
 public:
  Result<void> put_nhs_callback_target(const store::NhsCallbackTarget& t) override {
    targets.push_back(t);
    return ok();
  }
  Result<bool> delete_nhs_callback_target(Uuid) override { return false; }
  Result<std::vector<store::NhsCallbackTarget>> nhs_callback_targets(std::optional<Uuid>) override { return targets; }
  Result<std::vector<store::NhsCallbackRecord>> claim_nhs_callbacks(int limit, Timestamp, Duration) override {
    std::vector<store::NhsCallbackRecord> out;
    while (!pending.empty() && static_cast<int>(out.size()) < limit) {
      out.push_back(pending.front());
      pending.pop_front();
    }
    return out;
  }
  Result<void> finish_nhs_callback(const store::NhsCallbackAttempt& attempt) override {
    finished.push_back(attempt);
    return ok();
  }
  Result<std::vector<store::NhsCallbackRecord>> dead_nhs_callbacks(std::optional<Uuid>, int) override {
    return std::vector<store::NhsCallbackRecord>();
  }
  Result<bool> replay_nhs_callback(std::int64_t, Timestamp) override { return false; }

  std::vector<store::NhsCallbackTarget> targets;
  std::deque<store::NhsCallbackRecord> pending;
  std::vector<store::NhsCallbackAttempt> finished;
};

class ScriptedReceiver final : public CallbackTransport {
 public:
  Result<net::HttpResponse> post(std::string_view url, const net::Headers& headers, std::string_view body,
                                 const net::HttpClientOptions& options) override {
    calls.push_back({std::string(url), headers, std::string(body), options});
    return net::HttpResponse{status, {}, ""};
  }
  struct Call {
    std::string url;
    net::Headers headers;
    std::string body;
    net::HttpClientOptions options;
  };
  std::vector<Call> calls;
  int status = 202;
};

TEST(NhsCallbackSender, PostsTheStoredBytesWithTheKeyHeaderSignatureAndTlsOptions) {
  fakes::FakeClock clock;
  FakeOutbox outbox;
  outbox.targets = {target()};
  outbox.pending.push_back(callback(7, clock.now()));
  ScriptedReceiver receiver;
  NhsCallbackSender sender(outbox, clock, {}, receiver);
  ASSERT_EQ(*sender.run_once(), 1);
  ASSERT_EQ(receiver.calls.size(), 1u);
  const auto& call = receiver.calls[0];
  EXPECT_EQ(call.url, "https://receiver.example/callbacks");
  EXPECT_EQ(call.body, callback(7, clock.now()).body);
  const net::Headers expected = {
      {"Content-Type", "application/json"},
      {"x-callback-key", "callback-key-0123456789"},
      {"x-hmac-sha256-signature",
       domain::nhs::callback_signature(target().client, "callback-key-0123456789", call.body)}};
  EXPECT_EQ(call.headers, expected);
  EXPECT_EQ(call.options.client_certificate_file, "/etc/herald/client.pem");
  EXPECT_EQ(call.options.client_key_file, "/etc/herald/client.key");
  EXPECT_EQ(call.options.pinned_key_sha256, "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=");
  ASSERT_EQ(outbox.finished.size(), 1u);
  EXPECT_EQ(outbox.finished[0].id, 7);
  EXPECT_EQ(outbox.finished[0].outcome, Outcome::kSent);
}

TEST(NhsCallbackSender, ACircuitOpensOnAFailingReceiverAndTriesOnceAfterItsCoolDown) {
  fakes::FakeClock clock;
  FakeOutbox outbox;
  store::NhsCallbackTarget t = target();
  t.rate_per_second = 1000;
  outbox.targets = {t};
  for (int i = 1; i <= 12; ++i) outbox.pending.push_back(callback(i, clock.now()));
  ScriptedReceiver receiver;
  receiver.status = 503;
  NhsCallbackOptions options;
  options.batch_size = 12;
  NhsCallbackSender sender(outbox, clock, options, receiver);
  ASSERT_EQ(*sender.run_once(), 12);
  EXPECT_EQ(receiver.calls.size(), 10u) << "open after 10 failed attempts";
  ASSERT_EQ(outbox.finished.size(), 12u);
  EXPECT_EQ(outbox.finished[10].outcome, Outcome::kRetry);
  EXPECT_EQ(outbox.finished[10].error, "circuit open");
  EXPECT_GE(*outbox.finished[10].retry_at, clock.now() + seconds(60));
  // After the cool-down one trial goes; it succeeding closes the circuit.
  clock.advance(seconds(61));
  receiver.status = 202;
  for (int i = 13; i <= 15; ++i) outbox.pending.push_back(callback(i, clock.now()));
  ASSERT_EQ(*sender.run_once(), 3);
  EXPECT_EQ(receiver.calls.size(), 13u);
}

}  // namespace
}  // namespace herald::delivery
