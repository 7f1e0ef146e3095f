#include "api/providers/sms_receipts.h"

#include "api/providers/errors.h"
#include "core/base64.h"
#include "core/json.h"
#include "core/log.h"
#include "core/url.h"
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

net::Response firetext(const ReceiptDependencies& deps, const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, "firetext");
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  std::string status;
  std::string reference;
  for (const auto& [k, v] : parse_form(request.body)) {
    if (k == "status" && status.empty()) status = v;
    if (k == "reference" && reference.empty()) reference = v;
  }
  if (status.empty() || reference.empty()) {
    if (status.empty() && reference.empty()) return missing_fields("Firetext", {"status", "reference"});
    return missing_fields("Firetext", {status.empty() ? "status" : "reference"});
  }
  auto mapped = firetext_receipt_status(status);
  if (!mapped) return bad_callback("Firetext callback failed: unknown status " + status);
  return apply(deps, "firetext", reference, *mapped);
}

net::Response mmg(const ReceiptDependencies& deps, const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, "mmg");
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  auto body = json::parse(request.body);
  if (!body || !body->is_object()) return bad_callback("MMG callback failed: invalid JSON");
  const auto text_of = [&](const char* key) -> std::string {
    const json::Value* v = body->find(key);
    if (v == nullptr || v->is_null()) return "";
    return v->is_string() || v->is_number() ? v->as_string() : "";
  };
  const std::string status = text_of("status");
  const std::string reference = text_of("CID");
  if (status.empty() || reference.empty()) {
    if (status.empty() && reference.empty()) return missing_fields("MMG", {"status", "CID"});
    return missing_fields("MMG", {status.empty() ? "status" : "CID"});
  }
  auto mapped = mmg_receipt_status(status);
  if (!mapped) return bad_callback("MMG callback failed: unknown status " + status);
  return apply(deps, "mmg", reference, *mapped);
}

// "2017-05-21 11:56:11" (MMG sends it form-encoded) as UTC; now when it does not parse.
Timestamp provider_time(std::string text, Timestamp now) {
  if (text.size() < 19) return now;
  text[10] = 'T';
  auto parsed = parse_timestamp(text.substr(0, 19) + ".000000Z");
  return parsed ? *parsed : now;
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

net::Response firetext_inbound(const ReceiptDependencies& deps, const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, "firetext");
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  domain::IncomingText text;
  text.provider = "firetext";
  std::string time;
  for (const auto& [k, v] : parse_form(request.body)) {
    if (k == "source") text.user_number = v;
    if (k == "destination") text.notify_number = v;
    if (k == "message") text.content = v;
    if (k == "time") time = v;
  }
  if (text.user_number.empty() || text.notify_number.empty()) {
    return missing_fields("Firetext", {"source or destination"});
  }
  text.received_at = provider_time(time, deps.clock.now());
  return store_text(deps, std::move(text));
}

net::Response mmg_inbound(const ReceiptDependencies& deps, const net::Request& request) {
  const ReceiptCredentials* creds = credentials_for(deps, "mmg");
  if (creds == nullptr) return no_such_provider();
  if (auto refused = refuse_unless_authorised(request, *creds)) return std::move(*refused);
  auto body = json::parse(request.body);
  if (!body || !body->is_object()) return bad_callback("MMG inbound: invalid JSON");
  const auto text_of = [&](const char* key) -> std::string {
    const json::Value* v = body->find(key);
    return v != nullptr && (v->is_string() || v->is_number()) ? v->as_string() : "";
  };
  // MMG form-encodes the message and the date ("+" for spaces, %XX escapes).
  const auto decoded = [](const std::string& value) {
    auto fields = parse_form("v=" + value);
    return fields.empty() ? std::string() : fields.front().second;
  };
  domain::IncomingText text;
  text.provider = "mmg";
  text.user_number = text_of("MSISDN");
  text.notify_number = text_of("Number");
  text.content = decoded(text_of("Message"));
  if (auto id = text_of("ID"); !id.empty()) text.provider_reference = id;
  if (text.user_number.empty() || text.notify_number.empty()) return missing_fields("MMG", {"MSISDN or Number"});
  text.received_at = provider_time(decoded(text_of("DateRecieved")), deps.clock.now());
  return store_text(deps, std::move(text));
}

}  // namespace

std::optional<store::NotificationStatus> firetext_receipt_status(std::string_view status) {
  using S = store::NotificationStatus;
  if (status == "0") return S::kDelivered;
  if (status == "1") return S::kPermanentFailure;
  if (status == "2") return S::kPending;
  return std::nullopt;
}

std::optional<store::NotificationStatus> mmg_receipt_status(std::string_view status) {
  using S = store::NotificationStatus;
  if (status == "3") return S::kDelivered;
  if (status == "4") return S::kTemporaryFailure;
  if (status == "2" || status == "5") return S::kPermanentFailure;
  return std::nullopt;
}

void register_sms_receipt_routes(Router& router, const ReceiptDependencies& deps) {
  router.add("POST", "/notifications/sms/firetext",
             [deps](const net::Request& r, const PathParams&) { return firetext(deps, r); });
  router.add("POST", "/notifications/sms/mmg", [deps](const net::Request& r, const PathParams&) { return mmg(deps, r); });
  router.add("POST", "/notifications/sms/receive/firetext",
             [deps](const net::Request& r, const PathParams&) { return firetext_inbound(deps, r); });
  router.add("POST", "/notifications/sms/receive/mmg",
             [deps](const net::Request& r, const PathParams&) { return mmg_inbound(deps, r); });
}

}  // namespace herald::api::providers
