#pragma once
// Adapters for the two SMS aggregators GOV.UK Notify itself uses, so a service moving from Notify
// can keep its supplier contracts, sender ids and short codes:
//  * Firetext: POST form fields apiKey, from, to, message, reference[, receipt] to
//    /api/sendsms/json; success is HTTP 2xx with JSON {"code": 0, ...}.
//  * MMG: POST JSON {"reqType": "BULK", "MSISDN", "msg", "sender", "cid", "multi": true[,
//    "delurl"]} with "Authorization: Basic <api key>"; success is HTTP 2xx with a JSON body.
// Both send their delivery receipts to `receipt_url`, which carries the HTTP Basic credentials
// Herald checks (https://user:password@host/notifications/sms/<provider>), as Notify does it.

#include <memory>
#include <string>

#include "delivery/sms_provider.h"
#include "net/http_client.h"

namespace herald::delivery::sms {

struct HttpProviderOptions {
  std::string url;
  std::string api_key;
  std::string international_api_key;  // Firetext: a separate account for non-UK numbers (optional)
  std::string receipt_url;            // empty: the provider's account default
  net::HttpClientOptions http;
};

std::unique_ptr<SmsProvider> make_firetext(HttpProviderOptions options);
std::unique_ptr<SmsProvider> make_mmg(HttpProviderOptions options);

inline constexpr const char* kFiretextDefaultUrl = "https://www.firetext.co.uk/api/sendsms/json";
inline constexpr const char* kMmgDefaultUrl = "https://api.mmg.co.uk/jsonv2a/api.php";

}  // namespace herald::delivery::sms
