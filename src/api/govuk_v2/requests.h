#pragma once
// Parsing and schema validation of GOV.UK Notify v2 request bodies, with GOV.UK's exact error
// messages (GOV.UK's schema_validation build_error_message; POST /v2/notifications/email).
// Bodies are untrusted: parsing is bounded and
// fuzzed (fuzz/govuk_send_email_fuzzer.cc).

#include <string_view>
#include <variant>
#include <vector>

#include "api/govuk_v2/errors.h"
#include "core/json.h"
#include "core/time.h"
#include "domain/letters/letters.h"
#include "domain/notifications.h"

namespace herald::api::govuk_v2 {

// Parses a POST body as GOV.UK does (Content-Type ignored; empty or invalid -> "Invalid JSON
// supplied in POST data"; literal null -> {}).
std::variant<json::Value, net::Response> parse_body(std::string_view body);

// Validates a send-email body against GOV.UK's schema; all schema errors are reported together
// (400 ValidationError items), in the order GOV.UK's validator finds them.
std::variant<domain::EmailRequest, net::Response> parse_send_email(const json::Value& body,
                                                                   Timestamp now);

// POST /v2/template/{id}/preview: an empty body is {}; other properties are allowed;
// `personalisation`, when present, must be an object.
std::variant<domain::Personalisation, net::Response> parse_preview(std::string_view body);

// Validates a send-sms body (GOV.UK's post_sms_request; the phone number leniently, §8.2).
std::variant<domain::SmsRequest, net::Response> parse_send_sms(const json::Value& body, Timestamp now);

// POST /v2/notifications/letter: a templated letter, or (when the body has `content`) a
// precompiled one, whose base64 is decoded here ("Cannot decode letter content (invalid base64
// encoding)").
std::variant<domain::LetterRequest, domain::PrecompiledLetterRequest, net::Response> parse_send_letter(
    const json::Value& body);

// Python repr() of a JSON value with single quotes removed, as GOV.UK's messages print it.
std::string python_repr_unquoted(const json::Value& value);

}  // namespace herald::api::govuk_v2
