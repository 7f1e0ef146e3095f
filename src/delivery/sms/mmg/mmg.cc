#include "delivery/sms/mmg/mmg.h"

#include "core/json.h"
#include "core/url.h"
#include "delivery/sms/callback_parts.h"

namespace herald::delivery::sms::mmg {
namespace {

class Mmg final : public SmsProvider {
 public:
  explicit Mmg(HttpProviderOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "mmg"; }

  SendResult send(const OutgoingSms& sms) override {
    json::Writer w;
    w.begin_object();
    w.key("reqType").string("BULK");
    w.key("MSISDN").string(sms.to);
    w.key("msg").string(sms.content);
    w.key("sender").string(sms.sender);
    w.key("cid").string(sms.reference);
    w.key("multi").boolean(true);
    if (!options_.receipt_url.empty()) w.key("delurl").string(options_.receipt_url);
    w.end_object();
    auto response = net::https_request(
        "POST", options_.url, {{"Content-Type", "application/json"}, {"Authorization", "Basic " + options_.api_key}},
        w.take(), options_.http);
    if (auto failure = http_failure("mmg", response)) return *failure;
    if (!json::parse(response->body)) return temporary_failure("mmg: invalid response JSON");
    return {SendStatus::kAccepted, "mmg: queued"};
  }

 private:
  HttpProviderOptions options_;
};

std::unique_ptr<SmsProvider> make(HttpProviderOptions options) {
  if (options.url.empty()) options.url = kDefaultUrl;
  return std::make_unique<Mmg>(std::move(options));
}

std::optional<store::NotificationStatus> receipt_status(std::string_view status) {
  using S = store::NotificationStatus;
  if (status == "3") return S::kDelivered;
  if (status == "4") return S::kTemporaryFailure;
  if (status == "2" || status == "5") return S::kPermanentFailure;
  return std::nullopt;
}

CallbackRead<ReceiptReport> read_receipt(std::string_view text) {
  auto body = json::parse(text);
  if (!body || !body->is_object()) return malformed("MMG callback failed: invalid JSON");
  return receipt_from("MMG", {"status", text_member(*body, "status")}, {"CID", text_member(*body, "CID")},
                      &receipt_status);
}

// MMG form-encodes the message and the date.
std::string form_decoded(const std::string& value) {
  auto fields = parse_form("v=" + value);
  return fields.empty() ? std::string() : fields.front().second;
}

CallbackRead<domain::IncomingText> read_inbound(std::string_view text, Timestamp now) {
  auto body = json::parse(text);
  if (!body || !body->is_object()) return malformed("MMG inbound: invalid JSON");
  domain::IncomingText in;
  in.user_number = text_member(*body, "MSISDN");
  in.notify_number = text_member(*body, "Number");
  in.content = form_decoded(text_member(*body, "Message"));
  if (auto id = text_member(*body, "ID"); !id.empty()) in.provider_reference = id;
  if (in.user_number.empty() || in.notify_number.empty()) return missing_fields("MMG", {"MSISDN or Number"});
  in.received_at = provider_time(form_decoded(text_member(*body, "DateRecieved")), now);
  return in;
}

}  // namespace

const SmsProviderKind kKind{"mmg", &make, &read_receipt, &read_inbound};

}  // namespace herald::delivery::sms::mmg
