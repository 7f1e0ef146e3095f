#pragma once
// Firetext (one of the two SMS aggregators GOV.UK Notify itself uses, so a service moving from
// Notify keeps its contracts, sender ids and short codes). Its whole protocol:
//  * send: POST form fields apiKey, from, to, message, reference[, receipt] to
//    /api/sendsms/json; success is HTTP 2xx with JSON {"code": 0, ...}. Non-UK numbers may go
//    through a second account (`international_api_key`).
//  * receipt: form fields status (0 delivered, 1 declined, 2 pending), code, reference (the
//    notification id), time.
//  * inbound text: form fields source (the sender), destination (the service's number),
//    message, time ("2017-05-21 11:56:11", UTC).
// Receipts and inbound texts carry the HTTP Basic credentials Herald put in `receipt_url`
// (https://user:password@host/notifications/sms/firetext), as Notify does it.

#include "delivery/sms_provider.h"

namespace herald::delivery::sms::firetext {

inline constexpr const char* kDefaultUrl = "https://www.firetext.co.uk/api/sendsms/json";

extern const SmsProviderKind kKind;

}  // namespace herald::delivery::sms::firetext
