#pragma once
// The SMS providers' callbacks, authenticated as the providers do it (HTTP Basic credentials that
// Herald put in the receipt URL it gave them), for every provider kind Herald knows:
//   POST /notifications/sms/<name>          a delivery receipt
//   POST /notifications/sms/receive/<name>  a text sent to one of a service's numbers
// Each provider's body format is read by its own folder (delivery/sms/<name>/, through
// SmsProviderKind); this file authenticates, applies and answers. Answers as GOV.UK does: 200
// {"result": "success"} once understood, 400 with the missing fields, 401 without credentials,
// 403 with wrong ones. A receipt for a notification the provider did not send, or one no longer
// waiting, is acknowledged and ignored.

#include <functional>
#include <string>
#include <vector>

#include "api/router.h"
#include "core/time.h"
#include "delivery/sms_provider.h"
#include "domain/notifications.h"
#include "domain/received_texts.h"

namespace herald::api::providers {

struct ReceiptCredentials {
  std::string provider;  // "firetext", "mmg"
  std::string username;
  std::string password;  // empty: this provider's receipts are refused
};

struct ReceiptDependencies {
  domain::Notifications& notifications;
  domain::ReceivedTexts& received_texts;
  const Clock& clock;
  // Every kind gets its routes; one without credentials here answers 404 (not configured).
  std::vector<const delivery::sms::SmsProviderKind*> kinds;
  std::vector<ReceiptCredentials> providers;
  // Told of every status change a receipt made (delivery-status callbacks hang here).
  std::function<void(const store::NotificationRecord&)> on_status_change;
};

void register_sms_receipt_routes(Router& router, const ReceiptDependencies& deps);

}  // namespace herald::api::providers
