// The lifecycle rules on their own: no store, no clock but the times each test gives.
#include "domain/lifecycle.h"

#include <gtest/gtest.h>

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

const Timestamp kNow = *parse_timestamp("2026-12-31T23:59:59.999999Z");

store::NotificationRecord attempted(int attempts, store::KeyType key_type = store::KeyType::kNormal) {
  store::NotificationRecord r;
  r.type = "email";
  r.status = "sending";
  r.attempts = attempts;
  r.key_type = key_type;
  return r;
}

TEST(Lifecycle, AnAttemptsResultBecomesAStatus) {
  const RetryPolicy retry;
  auto delivered = outcome_of_attempt(attempted(1), SendAttempt::kAccepted, kNow, retry);
  EXPECT_EQ(delivered.status, "delivered");
  EXPECT_EQ(delivered.sent_at, kNow);
  EXPECT_TRUE(delivered.callback);
  auto refused = outcome_of_attempt(attempted(1), SendAttempt::kPermanentFailure, kNow, retry);
  EXPECT_EQ(refused.status, "permanent-failure");
  EXPECT_TRUE(refused.callback);
}

TEST(Lifecycle, TemporaryFailuresBackOffThenGiveUp) {
  const RetryPolicy retry{3, 30s, 50s};
  auto first = outcome_of_attempt(attempted(1), SendAttempt::kTemporaryFailure, kNow, retry);
  EXPECT_EQ(first.status, "sending");
  EXPECT_EQ(first.next_attempt_at, kNow + 30s);
  EXPECT_FALSE(first.callback) << "services hear of final statuses only";
  EXPECT_EQ(outcome_of_attempt(attempted(2), SendAttempt::kTemporaryFailure, kNow, retry).next_attempt_at,
            kNow + 50s) << "doubled, then capped";
  auto last = outcome_of_attempt(attempted(3), SendAttempt::kTemporaryFailure, kNow, retry);
  EXPECT_EQ(last.status, "technical-failure");
  EXPECT_FALSE(last.next_attempt_at);
  EXPECT_TRUE(last.callback);
}

TEST(Lifecycle, ATestKeysTemporaryFailureIsFinalAsGovukSimulatesIt) {
  auto outcome = outcome_of_attempt(attempted(1, store::KeyType::kTest), SendAttempt::kTemporaryFailure, kNow, {});
  EXPECT_EQ(outcome.status, "temporary-failure");
  EXPECT_FALSE(outcome.next_attempt_at);
}

TEST(Lifecycle, SimulatedRecipientsAndTestKeyOutcomes) {
  EXPECT_TRUE(is_simulated_recipient("email", "Simulate-Delivered-2@notifications.service.gov.uk"));
  EXPECT_FALSE(is_simulated_recipient("email", "someone@example.com"));
  EXPECT_TRUE(is_simulated_recipient("sms", "07700 900111"));
  EXPECT_TRUE(is_simulated_recipient("sms", "+447700900111"));
  EXPECT_FALSE(is_simulated_recipient("sms", "07700 900123"));
  EXPECT_FALSE(is_simulated_recipient("letter", "07700 900111"));
  EXPECT_EQ(simulated_test_key_attempt("email", "temp-fail@simulator.notify"), SendAttempt::kTemporaryFailure);
  EXPECT_EQ(simulated_test_key_attempt("email", "perm-fail@simulator.notify"), SendAttempt::kPermanentFailure);
  EXPECT_EQ(simulated_test_key_attempt("email", "anyone@example.com"), SendAttempt::kAccepted);
  EXPECT_EQ(simulated_test_key_attempt("sms", "07700 900003"), SendAttempt::kTemporaryFailure);
  EXPECT_EQ(simulated_test_key_attempt("sms", "+447700900002"), SendAttempt::kPermanentFailure);
  EXPECT_EQ(simulated_test_key_attempt("sms", "07700 900456"), SendAttempt::kAccepted);
}

}  // namespace
}  // namespace herald::domain
