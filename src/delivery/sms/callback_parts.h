#pragma once
// Pieces every SMS provider folder (delivery/sms/<name>/) uses: reading an HTTP answer into a
// SendResult, and the faults and fields of a callback body.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"
#include "delivery/sms_provider.h"
#include "net/http_client.h"

namespace herald::delivery::sms {

// A temporary failure with `detail` for the log.
SendResult temporary_failure(std::string detail);

// A transport failure or a non-2xx status, in words for the log (never the message or number);
// nullopt for a 2xx answer.
std::optional<SendResult> http_failure(std::string_view provider, const Result<net::HttpResponse>& response);

// "<client> callback failed: <field> missing" for each field.
CallbackFault missing_fields(std::string_view client, std::initializer_list<std::string_view> fields);
CallbackFault malformed(std::string message);

// A receipt from its two fields, as both providers check them: the missing ones named (in the
// order given), then a status code `to_status` does not define refused as
// "<client> callback failed: unknown status <code>".
CallbackRead<ReceiptReport> receipt_from(std::string_view client, std::pair<std::string_view, std::string> status,
                                         std::pair<std::string_view, std::string> reference,
                                         std::optional<store::NotificationStatus> (*to_status)(std::string_view));

// A string or number member's text; empty when absent, null or of another type.
std::string text_member(const json::Value& object, const char* key);

// "2017-05-21 11:56:11" as UTC; `fallback` when it does not parse.
Timestamp provider_time(std::string_view text, Timestamp fallback);

}  // namespace herald::delivery::sms
