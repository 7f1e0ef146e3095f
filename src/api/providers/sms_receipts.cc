#include "api/providers/sms_receipts.h"

#include <variant>

#include "api/providers/errors.h"
#include "core/base64.h"
#include "core/log.h"
#include "crypto/secret.h"
#include "domain/lifecycle.h"

namespace herald::api::providers {
namespace {

// 200, once a callback is understood (refusals are in api/providers/errors.h).
net::Response ok_response(std::string body) { return net::Response{200, "application/json", std::move(body), {}}; }

// nullopt when the request carries the provider's credentials; the refusal otherwise.
std::optional<net::Response> refuse_unless_authorised(const net::Request& request, const ReceiptCredentials& creds) {
  const auto header = request.header("Authorization");
  if (!header || header->size() < 6 || !net::iequals(header->substr(0, 6), "Basic ")) {
    return unauthorised();
  }
  const auto decoded = base64_decode(header->substr(6));
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (creds.password.empty() || colon == std::string::npos ||
      !crypto::constant_time_equal(decoded->substr(0, colon), creds.username) ||
      !crypto::constant_time_equal(decoded->substr(colon + 1), creds.password)) {
    log::warn("sms.receipt_refused", {{"provider", creds.provider}, {"source", request.remote_address}});
    return forbidden();
  }
  return std::nullopt;
}

net::Response apply(const ReceiptDependencies& deps, const std::string& provider, const std::string& reference,
                    store::NotificationStatus status) {
  auto id = NotificationId::parse(reference);
  if (!id) {
    log::warn("sms.receipt_unknown_reference", {{"provider", provider}});
    return ok_response(R"({"result":"success"})");
  }
  auto applied = deps.notifications.apply_receipt(domain::receipt_for(*id, provider, status, deps.clock.now()));
  if (!applied) return error_response(applied.error());
  log::info("sms.receipt", {{"provider", provider},
                            {"notification_id", id->to_string()},
                            {"status", store::status_name(status)},
                            {"applied", *applied ? "true" : "false"}});
  if (*applied && deps.on_status_change) deps.on_status_change(**applied);
  return ok_response(R"({"result":"success"})");
}

const ReceiptCredentials* credentials_for(const ReceiptDependencies& deps, std::string_view provider) {
  for (const auto& c : deps.providers) {
    if (c.provider == provider) return &c;
  }
  return nullptr;
}

// The endpoint's answer to a body the provider's reader could not use.
net::Response refusal(const delivery::sms::CallbackFault& fault) {
  if (fault.kind == delivery::sms::CallbackFault::Kind::kMissingFields) return missing_fields(fault.messages);
  return bad_callback(fault.messages.empty() ? std::string("callback failed") : fault.messages.front());
}

net::Response receipt(const ReceiptDependencies& deps, const delivery::sms::SmsProviderKind& kind,
                      const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, kind.name);
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  auto read = kind.read_receipt(request.body);
  if (const auto* fault = std::get_if<delivery::sms::CallbackFault>(&read)) return refusal(*fault);
  const auto& report = std::get<delivery::sms::ReceiptReport>(read);
  return apply(deps, std::string(kind.name), report.reference, report.status);
}

net::Response store_text(const ReceiptDependencies& deps, domain::IncomingText text) {
  const std::string provider = text.provider;
  auto stored = deps.received_texts.receive(std::move(text), deps.clock.now());
  if (!stored) return error_response(stored.error());
  log::info("sms.received", {{"provider", provider},
                             {"inbound_sms_id", *stored ? (*stored)->id.to_string() : std::string("-")},
                             {"service_id", *stored ? (*stored)->service.to_string() : std::string("none")}});
  return ok_response(R"({"status":"ok"})");
}

net::Response inbound(const ReceiptDependencies& deps, const delivery::sms::SmsProviderKind& kind,
                      const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, kind.name);
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  auto read = kind.read_inbound(request.body, deps.clock.now());
  if (const auto* fault = std::get_if<delivery::sms::CallbackFault>(&read)) return refusal(*fault);
  auto text = std::get<domain::IncomingText>(std::move(read));
  text.provider = std::string(kind.name);
  return store_text(deps, std::move(text));
}

}  // namespace

void register_sms_receipt_routes(Router& router, const ReceiptDependencies& deps) {
  for (const delivery::sms::SmsProviderKind* kind : deps.kinds) {
    const std::string name(kind->name);
    router.add("POST", "/notifications/sms/" + name,
               [deps, kind](const net::Request& r, const PathParams&) { return receipt(deps, *kind, r); });
    router.add("POST", "/notifications/sms/receive/" + name,
               [deps, kind](const net::Request& r, const PathParams&) { return inbound(deps, *kind, r); });
  }
}

}  // namespace herald::api::providers
