#include "domain/lifecycle.h"

#include <algorithm>
#include <array>
#include <string>

#include "domain/recipients/phone_number.h"

namespace herald::domain {
namespace {

bool iequals_ascii(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string normalised_number(std::string_view recipient) {
  auto parsed = parse_phone_number(recipient);
  return parsed ? parsed->normalised : std::string(recipient);
}

}  // namespace

std::optional<Timestamp> RetryPolicy::next_attempt(int attempts, Timestamp now) const {
  if (attempts >= max_attempts) return std::nullopt;
  Duration delay = first_delay;
  for (int i = 1; i < attempts && delay < max_delay; ++i) delay *= 2;
  return now + std::min(delay, max_delay);
}

bool is_simulated_email_address(std::string_view address) {
  static constexpr std::array<std::string_view, 3> kSimulated = {
      "simulate-delivered@notifications.service.gov.uk",
      "simulate-delivered-2@notifications.service.gov.uk",
      "simulate-delivered-3@notifications.service.gov.uk"};
  return std::any_of(kSimulated.begin(), kSimulated.end(),
                     [address](std::string_view simulated) { return iequals_ascii(address, simulated); });
}

bool is_simulated_recipient(store::Channel type, std::string_view recipient) {
  if (type == store::Channel::kEmail) return is_simulated_email_address(recipient);
  if (type == store::Channel::kSms) return is_simulated_phone_number(recipient);
  return false;
}

SendAttempt simulated_test_key_attempt(store::Channel type, std::string_view recipient) {
  if (type == store::Channel::kSms) {
    const std::string number = normalised_number(recipient);
    if (number == "447700900003") return SendAttempt::kTemporaryFailure;
    if (number == "447700900002") return SendAttempt::kPermanentFailure;
    return SendAttempt::kAccepted;
  }
  if (recipient == "temp-fail@simulator.notify") return SendAttempt::kTemporaryFailure;
  if (recipient == "perm-fail@simulator.notify") return SendAttempt::kPermanentFailure;
  return SendAttempt::kAccepted;
}

bool is_final(store::NotificationStatus status) {
  using store::NotificationStatus;
  switch (status) {
    case NotificationStatus::kSent:
    case NotificationStatus::kDelivered:
    case NotificationStatus::kPermanentFailure:
    case NotificationStatus::kTemporaryFailure:
    case NotificationStatus::kTechnicalFailure:
    case NotificationStatus::kReturnedLetter:
    case NotificationStatus::kCancelled:
    case NotificationStatus::kValidationFailed: return true;
    case NotificationStatus::kCreated:
    case NotificationStatus::kSending:
    case NotificationStatus::kPending:
    case NotificationStatus::kPendingVirusCheck:
    case NotificationStatus::kVirusScanFailed: return false;
  }
  return false;
}

std::optional<store::NotificationStatus> status_after_receipt(store::NotificationStatus current,
                                                              store::NotificationStatus reported) {
  using store::NotificationStatus;
  if (current == NotificationStatus::kSending || current == NotificationStatus::kPending) {
    if (current == NotificationStatus::kPending && reported == NotificationStatus::kPermanentFailure) {
      return NotificationStatus::kTemporaryFailure;
    }
    return reported;
  }
  if (current == NotificationStatus::kDelivered && reported == NotificationStatus::kReturnedLetter) return reported;
  return std::nullopt;
}

store::DeliveryReceipt receipt_for(NotificationId id, std::string provider, store::NotificationStatus reported,
                                   Timestamp received_at) {
  store::DeliveryReceipt receipt{id, std::move(provider), reported, received_at};
  for (store::NotificationStatus current : store::kAllStatuses) {
    if (auto next = status_after_receipt(current, reported)) receipt.transitions.emplace_back(current, *next);
  }
  return receipt;
}

store::DeliveryOutcome outcome_of_attempt(const store::NotificationRecord& record, SendAttempt attempt,
                                          Timestamp now, const RetryPolicy& retry) {
  using store::NotificationStatus;
  store::DeliveryOutcome outcome{record.id,   NotificationStatus::kSending, now, std::nullopt, std::nullopt,
                                 std::nullopt};
  switch (attempt) {
    case SendAttempt::kAccepted:
      outcome.status = NotificationStatus::kDelivered;
      outcome.sent_at = now;
      break;
    case SendAttempt::kPermanentFailure:
      outcome.status = NotificationStatus::kPermanentFailure;
      outcome.sent_at = now;
      break;
    case SendAttempt::kTemporaryFailure:
      if (record.key_type == store::KeyType::kTest) {
        outcome.status = NotificationStatus::kTemporaryFailure;
        outcome.sent_at = now;
        break;
      }
      outcome.next_attempt_at = retry.next_attempt(record.attempts, now);
      outcome.status = outcome.next_attempt_at ? NotificationStatus::kSending : NotificationStatus::kTechnicalFailure;
      break;
  }
  outcome.callback = outcome.status != NotificationStatus::kSending;
  return outcome;
}

}  // namespace herald::domain
