// The lifecycle rules on their own: no store, no clock but the times each test gives.
#include "domain/lifecycle.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

const Timestamp kNow = *parse_timestamp("2026-12-31T23:59:59.999999Z");

store::NotificationRecord attempted(int attempts, store::KeyType key_type = store::KeyType::kNormal) {
  store::NotificationRecord r;
  r.type = store::Channel::kEmail;
  r.status = store::NotificationStatus::kSending;
  r.attempts = attempts;
  r.key_type = key_type;
  return r;
}

TEST(Lifecycle, AnAttemptsResultBecomesAStatus) {
  const RetryPolicy retry;
  auto delivered = outcome_of_attempt(attempted(1), SendAttempt::kAccepted, kNow, retry);
  EXPECT_EQ(delivered.status, store::NotificationStatus::kDelivered);
  EXPECT_EQ(delivered.sent_at, kNow);
  EXPECT_TRUE(delivered.callback);
  auto refused = outcome_of_attempt(attempted(1), SendAttempt::kPermanentFailure, kNow, retry);
  EXPECT_EQ(refused.status, store::NotificationStatus::kPermanentFailure);
  EXPECT_TRUE(refused.callback);
}

TEST(Lifecycle, TemporaryFailuresBackOffThenGiveUp) {
  const RetryPolicy retry{3, 30s, 50s};
  auto first = outcome_of_attempt(attempted(1), SendAttempt::kTemporaryFailure, kNow, retry);
  EXPECT_EQ(first.status, store::NotificationStatus::kSending);
  EXPECT_EQ(first.next_attempt_at, kNow + 30s);
  EXPECT_FALSE(first.callback) << "services hear of final statuses only";
  EXPECT_EQ(outcome_of_attempt(attempted(2), SendAttempt::kTemporaryFailure, kNow, retry).next_attempt_at,
            kNow + 50s) << "doubled, then capped";
  auto last = outcome_of_attempt(attempted(3), SendAttempt::kTemporaryFailure, kNow, retry);
  EXPECT_EQ(last.status, store::NotificationStatus::kTechnicalFailure);
  EXPECT_FALSE(last.next_attempt_at);
  EXPECT_TRUE(last.callback);
}

TEST(Lifecycle, ATestKeysTemporaryFailureIsFinalAsGovukSimulatesIt) {
  auto outcome = outcome_of_attempt(attempted(1, store::KeyType::kTest), SendAttempt::kTemporaryFailure, kNow, {});
  EXPECT_EQ(outcome.status, store::NotificationStatus::kTemporaryFailure);
  EXPECT_FALSE(outcome.next_attempt_at);
}

TEST(Lifecycle, SimulatedRecipientsAndTestKeyOutcomes) {
  EXPECT_TRUE(is_simulated_recipient(store::Channel::kEmail, "Simulate-Delivered-2@notifications.service.gov.uk"));
  EXPECT_FALSE(is_simulated_recipient(store::Channel::kEmail, "someone@example.com"));
  EXPECT_TRUE(is_simulated_recipient(store::Channel::kSms, "07700 900111"));
  EXPECT_TRUE(is_simulated_recipient(store::Channel::kSms, "+447700900111"));
  EXPECT_FALSE(is_simulated_recipient(store::Channel::kSms, "07700 900123"));
  EXPECT_FALSE(is_simulated_recipient(store::Channel::kLetter, "07700 900111"));
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kEmail, "temp-fail@simulator.notify"),
            SendAttempt::kTemporaryFailure);
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kEmail, "perm-fail@simulator.notify"),
            SendAttempt::kPermanentFailure);
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kEmail, "anyone@example.com"), SendAttempt::kAccepted);
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kSms, "07700 900003"), SendAttempt::kTemporaryFailure);
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kSms, "+447700900002"), SendAttempt::kPermanentFailure);
  EXPECT_EQ(simulated_test_key_attempt(store::Channel::kSms, "07700 900456"), SendAttempt::kAccepted);
}

}  // namespace
}  // namespace herald::domain

namespace herald::domain {
namespace {

using S = store::NotificationStatus;

TEST(Lifecycle, ReceiptsApplyWhileWaitingAndFinalStatusesStay) {
  EXPECT_EQ(status_after_receipt(S::kSending, S::kDelivered), S::kDelivered);
  EXPECT_EQ(status_after_receipt(S::kSending, S::kPending), S::kPending);
  EXPECT_EQ(status_after_receipt(S::kPending, S::kDelivered), S::kDelivered);
  EXPECT_EQ(status_after_receipt(S::kSending, S::kPermanentFailure), S::kPermanentFailure);
  EXPECT_EQ(status_after_receipt(S::kPending, S::kPermanentFailure), S::kTemporaryFailure)
      << "declined after pending counts as temporary (GOV.UK's Firetext rule)";
  EXPECT_EQ(status_after_receipt(S::kDelivered, S::kReturnedLetter), S::kReturnedLetter) << "a posted letter came back";
  EXPECT_FALSE(status_after_receipt(S::kDelivered, S::kTechnicalFailure)) << "posted stays posted";
  EXPECT_FALSE(status_after_receipt(S::kCreated, S::kDelivered)) << "never sent: no provider to hear from";
  for (S final_status : {S::kPermanentFailure, S::kTemporaryFailure, S::kTechnicalFailure, S::kReturnedLetter}) {
    for (S reported : store::kAllStatuses) {
      EXPECT_FALSE(status_after_receipt(final_status, reported))
          << store::status_name(final_status) << " then " << store::status_name(reported);
    }
  }
}

TEST(Lifecycle, AReceiptCarriesEveryTransitionOfTheRule) {
  const NotificationId id{crypto::random_uuid()};
  const auto receipt = receipt_for(id, "firetext", S::kPermanentFailure, kNow);
  EXPECT_EQ(receipt.id, id);
  EXPECT_EQ(receipt.provider, "firetext");
  EXPECT_EQ(receipt.status, S::kPermanentFailure);
  using T = std::pair<S, S>;
  EXPECT_EQ(receipt.transitions,
            (std::vector<T>{{S::kSending, S::kPermanentFailure}, {S::kPending, S::kTemporaryFailure}}));
  EXPECT_EQ(
      receipt_for(id, "sftp-print", S::kReturnedLetter, kNow).transitions,
      (std::vector<T>{
          {S::kSending, S::kReturnedLetter}, {S::kPending, S::kReturnedLetter}, {S::kDelivered, S::kReturnedLetter}}));
}

TEST(Lifecycle, FinalStatusesAreThoseGovukCompletes) {
  for (S status : {S::kSent, S::kDelivered, S::kPermanentFailure, S::kTemporaryFailure, S::kTechnicalFailure,
                   S::kReturnedLetter, S::kCancelled, S::kValidationFailed}) {
    EXPECT_TRUE(is_final(status)) << store::status_name(status);
  }
  for (S status : {S::kCreated, S::kSending, S::kPending, S::kPendingVirusCheck}) {
    EXPECT_FALSE(is_final(status)) << store::status_name(status);
  }
}

}  // namespace
}  // namespace herald::domain
