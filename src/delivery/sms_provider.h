#pragma once
// SmsProvider: hands one text message to an SMS aggregator's HTTP API (delivery/sms/firetext,
// delivery/sms/mmg). The aggregator later reports the handset's delivery through a receipt
// callback (api/providers/), which names the message by `reference` (the notification id).
// Implementations are stateless between calls and thread-safe.

#include <string>
#include <string_view>

#include "delivery/send_result.h"

namespace herald::delivery::sms {

struct OutgoingSms {
  std::string reference;  // the notification id, echoed back in the receipt
  std::string to;         // E.164 digits without '+', e.g. "447700900123"
  std::string sender;     // alphanumeric sender id or a number
  std::string content;    // as the handset shows it (service-name prefix included)
  bool international = false;
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

}  // namespace herald::delivery::sms
