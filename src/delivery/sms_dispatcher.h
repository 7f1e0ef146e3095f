#pragma once
// Texts: each one rendered with the service's prefix (domain::Outgoing) and handed to the SMS
// sender (the configured providers, failing over). One a provider took waits in "sending" for
// its delivery receipt (api/providers/). With no provider configured, texts fail
// (technical-failure) rather than wait.

#include "delivery/dispatcher.h"
#include "delivery/sms_provider.h"
#include "domain/rendering/outgoing.h"

namespace herald::delivery {

class SmsDispatcher final : public Dispatcher {
 public:
  // `sender`: nullptr when no SMS provider is configured; shared by every worker thread.
  SmsDispatcher(sms::SmsSender* sender, domain::Outgoing& outgoing) : sender_(sender), outgoing_(outgoing) {}
  void dispatch(const std::vector<const store::NotificationRecord*>& claimed, const DispatchContext& context) override;

 private:
  store::DeliveryOutcome send(const store::NotificationRecord& record, const DispatchContext& context,
                              SendResult& result);

  sms::SmsSender* sender_;
  domain::Outgoing& outgoing_;
};

}  // namespace herald::delivery
