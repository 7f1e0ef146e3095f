#include "delivery/email_dispatcher.h"

#include "core/log.h"

namespace herald::delivery {

void EmailDispatcher::dispatch(const std::vector<const store::NotificationRecord*>& claimed,
                               const DispatchContext& context) {
  for (const store::NotificationRecord* record : claimed) {
    if (!context.may_start()) return;
    SendResult result;
    auto email = outgoing_.email(*record, context.clock.now());
    if (!email) {
      log::error("delivery.prepare_failed",
                 {{"notification_id", record->id.to_string()}, {"error", email.error().message}});
      result = {SendStatus::kTemporaryFailure, "prepare failed"};
    } else {
      result = provider_->send(*email);
    }
    store::DeliveryOutcome outcome =
        domain::outcome_of_attempt(*record, result.status, context.clock.now(), context.retry);
    // Taken (or refused for good) by the provider: it is the one that handled it.
    if (email && outcome.sent_at) outcome.sent_by = provider_->name();
    log_attempt(*record, outcome, result.detail);
    context.record(std::move(outcome));
  }
}

}  // namespace herald::delivery
