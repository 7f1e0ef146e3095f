#include "delivery/sms/firetext/firetext.h"

#include "core/json.h"
#include "core/url.h"
#include "delivery/sms/callback_parts.h"

namespace herald::delivery::sms::firetext {
namespace {

class Firetext final : public SmsProvider {
 public:
  explicit Firetext(HttpProviderOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "firetext"; }

  SendResult send(const OutgoingSms& sms) override {
    const std::string& key = sms.international && !options_.international_api_key.empty()
                                 ? options_.international_api_key
                                 : options_.api_key;
    FormFields form{
        {"apiKey", key}, {"from", sms.sender}, {"to", sms.to}, {"message", sms.content}, {"reference", sms.reference}};
    if (!options_.receipt_url.empty()) form.emplace_back("receipt", options_.receipt_url);
    auto response = net::https_request("POST", options_.url, {{"Content-Type", "application/x-www-form-urlencoded"}},
                                       encode_form(form), options_.http);
    if (auto failure = http_failure("firetext", response)) return *failure;
    auto body = json::parse(response->body);
    if (!body || !body->is_object()) return temporary_failure("firetext: invalid response JSON");
    const json::Value* code = body->find("code");
    if (code == nullptr || !code->is_number() || code->as_int64() != 0) {
      return temporary_failure("firetext: code " +
                               (code != nullptr && code->is_number() ? code->as_string() : "missing"));
    }
    return {SendStatus::kAccepted, "firetext: queued"};
  }

 private:
  HttpProviderOptions options_;
};

std::unique_ptr<SmsProvider> make(HttpProviderOptions options) {
  if (options.url.empty()) options.url = kDefaultUrl;
  return std::make_unique<Firetext>(std::move(options));
}

std::optional<store::NotificationStatus> receipt_status(std::string_view status) {
  using S = store::NotificationStatus;
  if (status == "0") return S::kDelivered;
  if (status == "1") return S::kPermanentFailure;
  if (status == "2") return S::kPending;
  return std::nullopt;
}

CallbackRead<ReceiptReport> read_receipt(std::string_view body) {
  std::string status;
  std::string reference;
  for (const auto& [k, v] : parse_form(body)) {  // the first of a repeated field counts
    if (k == "status" && status.empty()) status = v;
    if (k == "reference" && reference.empty()) reference = v;
  }
  return receipt_from("Firetext", {"status", std::move(status)}, {"reference", std::move(reference)}, &receipt_status);
}

CallbackRead<domain::IncomingText> read_inbound(std::string_view body, Timestamp now) {
  domain::IncomingText text;
  std::string time;
  for (const auto& [k, v] : parse_form(body)) {
    if (k == "source") text.user_number = v;
    if (k == "destination") text.notify_number = v;
    if (k == "message") text.content = v;
    if (k == "time") time = v;
  }
  if (text.user_number.empty() || text.notify_number.empty())
    return missing_fields("Firetext", {"source or destination"});
  text.received_at = provider_time(time, now);
  return text;
}

}  // namespace

const SmsProviderKind kKind{"firetext", &make, &read_receipt, &read_inbound};

}  // namespace herald::delivery::sms::firetext
