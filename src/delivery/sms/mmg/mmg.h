#pragma once
// MMG (the other SMS aggregator GOV.UK Notify uses). Its whole protocol:
//  * send: POST JSON {"reqType": "BULK", "MSISDN", "msg", "sender", "cid", "multi": true[,
//    "delurl"]} with "Authorization: Basic <api key>"; success is HTTP 2xx with a JSON body.
//  * receipt: JSON status (3 delivered, 4 temporary failure, 2 and 5 permanent failure),
//    substatus, CID (the notification id).
//  * inbound text: JSON MSISDN (the sender), Number (the service's number), Message and
//    DateRecieved (sic; both form-encoded: "+" for spaces, %XX escapes), ID.
// Receipts and inbound texts carry the HTTP Basic credentials Herald put in `receipt_url`
// (https://user:password@host/notifications/sms/mmg), as Notify does it.

#include "delivery/sms_provider.h"

namespace herald::delivery::sms::mmg {

inline constexpr const char* kDefaultUrl = "https://api.mmg.co.uk/jsonv2a/api.php";

extern const SmsProviderKind kKind;

}  // namespace herald::delivery::sms::mmg
