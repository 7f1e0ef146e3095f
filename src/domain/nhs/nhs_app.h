#pragma once
// The NHS App channel, as the cascade sees it: hand one in-app message for one NHS number to the
// NHS App, and later hear (through its receipts) whether it was read. The adapter that speaks
// the NHS App's FHIR interface lives in net/ (nhs_app_client); tests use a local stand-in.

#include <optional>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain::nhs {

// The most characters an in-app message may have (NHS App).
inline constexpr std::size_t kMaxNhsAppCharacters = 5000;

struct NhsAppMessage {
  std::string message_id;  // Herald's message id: the request's identifier, named by receipts
  std::string nhs_number;
  std::string ods_code;  // the sender (originator)
  std::string body;      // Markdown
};

struct NhsAppResult {
  enum class Outcome {
    kAccepted,     // the NHS App has it: "received"
    kRejected,     // refused for good (no such user, not registered, invalid): the channel fails
    kUnavailable,  // try again later (network, 5xx, 429)
  };
  Outcome outcome = Outcome::kUnavailable;
  std::string reference;  // the NHS App's id of the request, when accepted
  std::string detail;     // why not (no personal data), for the channel's description and the log
};

class NhsAppSender {
 public:
  virtual ~NhsAppSender() = default;
  virtual NhsAppResult send(const NhsAppMessage& message) = 0;
};

// An NHS App "realtime receipt": a FHIR Task the NHS App posts for each event of a message
// (code Delivered, Read (first read only), Notified, NotificationAttempted, Unnotified, Rejected),
// naming Herald's message by the request-id identifier Herald sent, and when it happened
// (lastModified).
struct NhsAppReceipt {
  std::string message_id;
  std::string supplier_status;  // NHS Notify's supplierStatus: read, delivered, notified, ...
  Timestamp at;
};
// kInvalidArgument naming what is missing or unknown.
Result<NhsAppReceipt> read_nhs_app_receipt(std::string_view task_json, Timestamp now);

// Records a receipt against its message's NHS App channel (the message's cascade is woken).
// false when no message has that id.
Result<bool> record_nhs_app_receipt(store::NhsCascadeStore& store, const NhsAppReceipt& receipt);

}  // namespace herald::domain::nhs
