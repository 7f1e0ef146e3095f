#pragma once
// SmsProvider: hands one text message to an SMS aggregator's HTTP API. The aggregator later
// reports the handset's delivery through a receipt callback (api/providers/), which names the
// message by `reference` (the notification id), and forwards texts people send back.
// Implementations are stateless between calls and thread-safe.
//
// Each provider's whole protocol (sending, reading its receipts and inbound texts, its defaults)
// lives in one folder, delivery/sms/<name>/, which exports one SmsProviderKind. Adding a provider
// is that folder plus one line in cli/sms_providers.cc (docs/architecture.md, "A new provider").

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/time.h"
#include "delivery/send_result.h"
#include "domain/received_texts.h"
#include "net/http_client.h"
#include "store/records.h"

namespace herald::delivery::sms {

struct OutgoingSms {
  std::string reference;  // the notification id, echoed back in the receipt
  std::string to;         // E.164 digits without '+', e.g. "447700900123"
  std::string sender;     // alphanumeric sender id or a number
  std::string content;    // as the handset shows it (service-name prefix included)
  bool international = false;
};

// How to reach one provider's account ([sms.<name>] in the configuration).
struct HttpProviderOptions {
  std::string url;  // empty: the provider's public API
  std::string api_key;
  std::string international_api_key;  // a separate account for non-UK numbers (optional)
  std::string receipt_url;            // empty: the provider's account default
  net::HttpClientOptions http;
};

class SmsProvider {
 public:
  virtual ~SmsProvider() = default;
  // "firetext", "mmg": the name receipts and logs use.
  virtual std::string_view name() const = 0;
  // kAccepted: the provider queued it (a receipt follows). kTemporaryFailure: the provider
  // failed (error status, bad answer, timeout): the router tries another one.
  virtual SendResult send(const OutgoingSms& sms) = 0;
};

// Where the delivery worker hands texts: the configured providers behind one door (SmsRouter,
// delivery/sms/, fails over between them). Thread-safe.
class SmsSender {
 public:
  virtual ~SmsSender() = default;
  struct Routed {
    SendResult result;
    std::string provider;  // the one that accepted it (or was tried last)
  };
  virtual Routed send(const OutgoingSms& sms) = 0;
};

// What a provider's delivery receipt says: which message (the `reference` Herald gave it) and
// the notification status the provider's code means.
struct ReceiptReport {
  std::string reference;
  store::NotificationStatus status;
};

// Why a provider's callback body cannot be used, in the words the receipt endpoint answers with.
struct CallbackFault {
  enum class Kind {
    kMissingFields,  // one message per missing field, answered in the providers' own list form
    kMalformed,      // one message: unreadable body or a code the provider does not define
  };
  Kind kind;
  std::vector<std::string> messages;
};

template <typename T>
using CallbackRead = std::variant<T, CallbackFault>;

// One provider's protocol, as Herald's wiring and receipt endpoints use it.
struct SmsProviderKind {
  std::string_view name;  // "firetext": its [sms.firetext] table, its receipt paths, logs
  std::unique_ptr<SmsProvider> (*make)(HttpProviderOptions options);
  // POST /notifications/sms/<name>: a delivery receipt.
  CallbackRead<ReceiptReport> (*read_receipt)(std::string_view body);
  // POST /notifications/sms/receive/<name>: a text someone sent to one of the service's numbers
  // (`provider` is left for the caller; `received_at` is `now` when the body has no usable time).
  CallbackRead<domain::IncomingText> (*read_inbound)(std::string_view body, Timestamp now);
};

}  // namespace herald::delivery::sms
