#include "delivery/sms/http_providers.h"

#include "core/json.h"
#include "core/url.h"

namespace herald::delivery::sms {
namespace {

SendResult failed(std::string detail) { return {SendStatus::kTemporaryFailure, std::move(detail)}; }

// A transport failure or a non-2xx status, in words for the log (never the message or number).
std::optional<SendResult> http_failure(std::string_view provider, const Result<net::HttpResponse>& response) {
  if (!response) return failed(std::string(provider) + ": " + response.error().message);
  if (response->status < 200 || response->status > 299) {
    return failed(std::string(provider) + ": HTTP " + std::to_string(response->status));
  }
  return std::nullopt;
}

class Firetext final : public SmsProvider {
 public:
  explicit Firetext(HttpProviderOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "firetext"; }

  SendResult send(const OutgoingSms& sms) override {
    const std::string& key =
        sms.international && !options_.international_api_key.empty() ? options_.international_api_key : options_.api_key;
    FormFields form{{"apiKey", key}, {"from", sms.sender}, {"to", sms.to}, {"message", sms.content},
                    {"reference", sms.reference}};
    if (!options_.receipt_url.empty()) form.emplace_back("receipt", options_.receipt_url);
    auto response = net::https_request("POST", options_.url, {{"Content-Type", "application/x-www-form-urlencoded"}},
                                       encode_form(form), options_.http);
    if (auto failure = http_failure("firetext", response)) return *failure;
    auto body = json::parse(response->body);
    if (!body || !body->is_object()) return failed("firetext: invalid response JSON");
    const json::Value* code = body->find("code");
    if (code == nullptr || !code->is_number() || code->as_int64() != 0) {
      return failed("firetext: code " + (code != nullptr && code->is_number() ? code->as_string() : "missing"));
    }
    return {SendStatus::kAccepted, "firetext: queued"};
  }

 private:
  HttpProviderOptions options_;
};

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
        "POST", options_.url,
        {{"Content-Type", "application/json"}, {"Authorization", "Basic " + options_.api_key}}, w.take(),
        options_.http);
    if (auto failure = http_failure("mmg", response)) return *failure;
    if (!json::parse(response->body)) return failed("mmg: invalid response JSON");
    return {SendStatus::kAccepted, "mmg: queued"};
  }

 private:
  HttpProviderOptions options_;
};

}  // namespace

std::unique_ptr<SmsProvider> make_firetext(HttpProviderOptions options) {
  if (options.url.empty()) options.url = kFiretextDefaultUrl;
  return std::make_unique<Firetext>(std::move(options));
}

std::unique_ptr<SmsProvider> make_mmg(HttpProviderOptions options) {
  if (options.url.empty()) options.url = kMmgDefaultUrl;
  return std::make_unique<Mmg>(std::move(options));
}

}  // namespace herald::delivery::sms
