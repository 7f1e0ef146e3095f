#include "delivery/sms_dispatcher.h"

#include "domain/recipients/phone_number.h"

namespace herald::delivery {

void SmsDispatcher::dispatch(const std::vector<const store::NotificationRecord*>& claimed,
                             const DispatchContext& context) {
  for (const store::NotificationRecord* record : claimed) {
    if (!context.may_start()) return;
    SendResult result;
    store::DeliveryOutcome outcome = send(*record, context, result);
    log_attempt(*record, outcome, result.detail);
    context.record(std::move(outcome));
  }
}

store::DeliveryOutcome SmsDispatcher::send(const store::NotificationRecord& record, const DispatchContext& context,
                                           SendResult& result) {
  const Timestamp now = context.clock.now();
  if (sender_ == nullptr) {
    result = {SendStatus::kTemporaryFailure, "no SMS provider is configured"};
    return {record.id, store::NotificationStatus::kTechnicalFailure, now, std::nullopt, std::nullopt, std::nullopt,
            true};
  }
  auto text = outgoing_.sms_text(record, now);
  auto number = domain::parse_phone_number(record.recipient);
  if (!text || !number) {
    result = {SendStatus::kTemporaryFailure,
              "prepare failed: " + (text ? number.error().message : text.error().message)};
    return domain::outcome_of_attempt(record, result.status, now, context.retry);
  }
  auto routed = sender_->send(
      {record.id.to_string(), number->normalised, record.sender, std::move(*text), number->is_international});
  result = routed.result;
  if (routed.result.status != SendStatus::kAccepted) {
    return domain::outcome_of_attempt(record, result.status, context.clock.now(), context.retry);
  }
  // With the provider: its receipt decides delivered or failed, and is what the service hears of.
  const Timestamp sent = context.clock.now();
  return {record.id, store::NotificationStatus::kSending, sent, sent, std::nullopt, routed.provider, false};
}

}  // namespace herald::delivery
