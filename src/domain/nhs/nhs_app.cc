#include "domain/nhs/nhs_app.h"

#include <array>
#include <utility>

#include "core/json.h"

namespace herald::domain::nhs {
namespace {

// The NHS App's receipt codes and NHS Notify's supplier statuses for them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kCodes = {{
    {"Delivered", "delivered"},
    {"Read", "read"},
    {"Notified", "notified"},
    {"NotificationAttempted", "notification_attempted"},
    {"Unnotified", "unnotified"},
    {"Rejected", "rejected"},
}};

// A FHIR instant: "2021-08-05T13:22:52+00:00", fractions of a second and "Z" allowed.
std::optional<Timestamp> parse_instant(std::string_view text) {
  if (text.size() < 20 || text[10] != 'T') return std::nullopt;
  auto base = parse_timestamp(std::string(text.substr(0, 19)) + ".000000Z");
  if (!base) return std::nullopt;
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (i < text.size() && text[i] == '.') {
    std::int64_t scale = 100'000;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      micros += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  std::string_view zone = text.substr(i);
  std::int64_t offset_minutes = 0;
  if (zone == "Z") {
    offset_minutes = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    for (std::size_t k : {1u, 2u, 4u, 5u}) {
      if (zone[k] < '0' || zone[k] > '9') return std::nullopt;
    }
    offset_minutes = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[4] - '0') * 10 + (zone[5] - '0');
    if (zone[0] == '-') offset_minutes = -offset_minutes;
  } else {
    return std::nullopt;
  }
  return *base + std::chrono::microseconds(micros) - std::chrono::minutes(offset_minutes);
}

}  // namespace

Result<NhsAppReceipt> read_nhs_app_receipt(std::string_view task_json, Timestamp now) {
  auto task = json::parse(task_json);
  if (!task || !task->is_object()) return invalid_argument("Invalid Json encountered.");
  const json::Value* type = task->find("resourceType");
  if (type == nullptr || !type->is_string() || type->as_string() != "Task") {
    return invalid_argument("resourceType must be Task");
  }
  NhsAppReceipt receipt;
  if (const json::Value* ids = task->find("identifier"); ids != nullptr && ids->is_array()) {
    for (const json::Value& id : ids->as_array()) {
      const json::Value* system = id.find("system");
      const json::Value* value = id.find("value");
      if (system != nullptr && system->is_string() && system->as_string() == "https://fhir.nhs.uk/NHSApp/request-id" &&
          value != nullptr && value->is_string()) {
        receipt.message_id = value->as_string();
      }
    }
  }
  if (receipt.message_id.empty()) return invalid_argument("identifier: no request-id");
  const json::Value* code = task->find("code");
  const json::Value* codings = code != nullptr ? code->find("coding") : nullptr;
  if (codings == nullptr || !codings->is_array() || codings->as_array().empty()) {
    return invalid_argument("code: not specified");
  }
  const json::Value* value = codings->as_array()[0].find("code");
  if (value == nullptr || !value->is_string()) return invalid_argument("code: not specified");
  for (const auto& [name, status] : kCodes) {
    if (value->as_string() == name) receipt.supplier_status = std::string(status);
  }
  if (receipt.supplier_status.empty()) return invalid_argument("code: unknown");
  receipt.at = now;
  if (const json::Value* at = task->find("lastModified"); at != nullptr && at->is_string()) {
    auto parsed = parse_instant(at->as_string());
    if (!parsed) return invalid_argument("lastModified: not a FHIR instant");
    // A sender's clock ahead of ours never puts an event in the future.
    receipt.at = std::min(*parsed, now);
  }
  return receipt;
}

Result<bool> record_nhs_app_receipt(store::NhsCascadeStore& store, const NhsAppReceipt& receipt) {
  return store.add_nhs_channel_event(
      {0, receipt.message_id, store::NhsChannel::kNhsApp, receipt.supplier_status, receipt.at});
}

}  // namespace herald::domain::nhs
