#pragma once
// The SMS providers' delivery-receipt callbacks, authenticated as the providers do it (HTTP Basic
// credentials that Herald put in the receipt URL it gave them):
//   POST /notifications/sms/firetext  form: status (0 delivered, 1 declined, 2 pending), code,
//                                     reference (the notification id), time
//   POST /notifications/sms/mmg       JSON: status (3 delivered, 4 temporary failure, 2 and 5
//                                     permanent failure), substatus, CID (the notification id)
// Answers as GOV.UK does: 200 {"result": "success"} once understood, 400 with the missing
// fields, 401 without credentials, 403 with wrong ones. A receipt for a notification the
// provider did not send, or one no longer waiting, is acknowledged and ignored.

#include <functional>
#include <string>
#include <vector>

#include "api/router.h"
#include "core/time.h"
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
  std::vector<ReceiptCredentials> providers;
  // Told of every status change a receipt made (delivery-status callbacks hang here).
  std::function<void(const store::NotificationRecord&)> on_status_change;
};

void register_sms_receipt_routes(Router& router, const ReceiptDependencies& deps);

// The notification status a receipt means; nullopt for a status the provider does not define.
std::optional<store::NotificationStatus> firetext_receipt_status(std::string_view status);
std::optional<store::NotificationStatus> mmg_receipt_status(std::string_view status);

}  // namespace herald::api::providers
