#pragma once
// Lifecycle: the rules of a notification's life after it is accepted, in one place and free of
// I/O. What a send attempt's result makes of a notification (delivered, failed for good, tried
// again later or given up on), which recipients are simulated (accepted and stored, never
// sent), and what a test API key's notifications pretend happened. The delivery worker asks
// here and records the answer; the accept path asks here whether to queue. NHS Notify's channel
// cascade (domain/nhs/cascade.h) sits on top: each of its email, SMS and letter channels is a
// notification whose life these rules decide, and the cascade reads what they came to.

#include <optional>
#include <string_view>

#include "core/time.h"
#include "store/records.h"

namespace herald::domain {

// What one attempt to hand a message to its provider came to, for every channel.
enum class SendAttempt {
  kAccepted,          // the relay or provider took responsibility for the message
  kPermanentFailure,  // refused this message or recipient for good (SMTP 5xx)
  kTemporaryFailure,  // try again later (SMTP 4xx, provider errors, timeouts, refused connections, TLS)
};

// When to try a temporarily failed delivery again, and when to give up.
struct RetryPolicy {
  int max_attempts = 5;
  Duration first_delay = std::chrono::seconds(30);
  Duration max_delay = std::chrono::minutes(30);

  // After attempt number `attempts` (1-based) failed temporarily at `now`: the time of the next
  // attempt (exponential back-off, doubling from first_delay, capped at max_delay), or nullopt
  // when attempts are exhausted.
  std::optional<Timestamp> next_attempt(int attempts, Timestamp now) const;
};

// GOV.UK's smoke-test recipients: accepted and stored, never handed to a worker (their status
// stays "created"). Only emails and texts have them; numbers are compared once normalised.
bool is_simulated_recipient(store::Channel type, std::string_view recipient);
// The email addresses of the above.
bool is_simulated_email_address(std::string_view address);

// What GOV.UK's simulator does with a test API key's notification (never really sent): the
// temp-fail/perm-fail addresses and the 07700900003/07700900002 numbers fail, all else is
// delivered.
SendAttempt simulated_test_key_attempt(store::Channel type, std::string_view recipient);

// Whether a notification in `status` is done: nothing Herald or a provider does changes it any
// more (GOV.UK's completed_at is set), except that a posted letter may still be returned.
bool is_final(store::NotificationStatus status);

// What a provider's receipt reporting `reported` makes of a notification now in `current`, or
// nullopt when it changes nothing. A receipt applies while the notification waits for one
// (sending, or pending after an earlier receipt); a failure after "pending" counts as temporary
// (GOV.UK's rule for Firetext); a letter posted ("delivered") may still come back
// (returned-letter). Final statuses stay.
std::optional<store::NotificationStatus> status_after_receipt(store::NotificationStatus current,
                                                              store::NotificationStatus reported);
// A receipt for NotificationStore::apply_receipt, its transitions those of status_after_receipt.
store::DeliveryReceipt receipt_for(NotificationId id, std::string provider, store::NotificationStatus reported,
                                   Timestamp received_at);

// What an attempt's result makes of the notification at `now`: delivered or permanent-failure
// (sent_at set); a temporary failure is tried again per `retry`, then technical-failure; a test
// key's temporary failure is final ("temporary-failure"), as GOV.UK's simulator reports it.
// `callback` is set for the statuses a service hears of (anything but "sending").
store::DeliveryOutcome outcome_of_attempt(const store::NotificationRecord& record, SendAttempt attempt,
                                          Timestamp now, const RetryPolicy& retry);

}  // namespace herald::domain
