#include "delivery/sms/callback_parts.h"

namespace herald::delivery::sms {

SendResult temporary_failure(std::string detail) { return {SendStatus::kTemporaryFailure, std::move(detail)}; }

std::optional<SendResult> http_failure(std::string_view provider, const Result<net::HttpResponse>& response) {
  if (!response) return temporary_failure(std::string(provider) + ": " + response.error().message);
  if (response->status < 200 || response->status > 299) {
    return temporary_failure(std::string(provider) + ": HTTP " + std::to_string(response->status));
  }
  return std::nullopt;
}

CallbackFault missing_fields(std::string_view client, std::initializer_list<std::string_view> fields) {
  CallbackFault fault{CallbackFault::Kind::kMissingFields, {}};
  for (auto field : fields)
    fault.messages.push_back(std::string(client) + " callback failed: " + std::string(field) + " missing");
  return fault;
}

CallbackFault malformed(std::string message) { return {CallbackFault::Kind::kMalformed, {std::move(message)}}; }

CallbackRead<ReceiptReport> receipt_from(std::string_view client, std::pair<std::string_view, std::string> status,
                                         std::pair<std::string_view, std::string> reference,
                                         std::optional<store::NotificationStatus> (*to_status)(std::string_view)) {
  CallbackFault missing{CallbackFault::Kind::kMissingFields, {}};
  for (const auto* field : {&status, &reference}) {
    if (field->second.empty()) {
      missing.messages.push_back(std::string(client) + " callback failed: " + std::string(field->first) + " missing");
    }
  }
  if (!missing.messages.empty()) return missing;
  auto mapped = to_status(status.second);
  if (!mapped) return malformed(std::string(client) + " callback failed: unknown status " + status.second);
  return ReceiptReport{std::move(reference.second), *mapped};
}

std::string text_member(const json::Value& object, const char* key) {
  const json::Value* v = object.find(key);
  return v != nullptr && (v->is_string() || v->is_number()) ? v->as_string() : "";
}

Timestamp provider_time(std::string_view text, Timestamp fallback) {
  if (text.size() < 19) return fallback;
  std::string iso(text.substr(0, 19));
  iso[10] = 'T';
  auto parsed = parse_timestamp(iso + ".000000Z");
  return parsed ? *parsed : fallback;
}

}  // namespace herald::delivery::sms
