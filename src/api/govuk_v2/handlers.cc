#include "api/govuk_v2/handlers.h"

#include "api/errors.h"
#include "api/govuk_v2/auth.h"
#include "api/govuk_v2/requests.h"
#include "api/govuk_v2/responses.h"
#include "core/log.h"

namespace herald::api::govuk_v2 {
namespace {

// GOV.UK builds absolute URLs from the request's own root (Flask's request.url_root).
std::string root_url(const net::Request& request, const std::string& configured) {
  if (!configured.empty()) return configured;
  std::string host;
  for (char c : request.host) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' ||
        c == '[' || c == ']') {
      host += c;
    }
  }
  if (host.empty()) host = "localhost";
  return "https://" + host + "/";
}

bool post_email(const Dependencies& deps, const net::Request& request, const Reply& reply,
                Blocking blocking) {
  const Timestamp now = deps.clock.now();
  auto caller = authenticate(request, deps.authenticator, now, blocking, &deps.on_auth_failure);
  if (!caller) return false;  // would block: nothing done yet
  if (auto* refused = std::get_if<net::Response>(&*caller)) {
    reply([response = std::move(*refused)] { return response; });
    return true;
  }
  auto body = parse_body(request.body);
  if (auto* invalid = std::get_if<net::Response>(&body)) {
    reply([response = std::move(*invalid)] { return response; });
    return true;
  }
  auto parsed = parse_send_email(std::get<json::Value>(body), now);
  if (auto* invalid = std::get_if<net::Response>(&parsed)) {
    reply([response = std::move(*invalid)] { return response; });
    return true;
  }
  const auto who = std::get<domain::Caller>(*caller);
  auto sent = deps.notifications.send_email_async(
      who, std::move(std::get<domain::EmailRequest>(parsed)), now, blocking,
      [reply, who, root = root_url(request, deps.public_root)](Result<domain::AcceptedEmail> accepted) {
        // Runs on the store's writer thread: the response is built on the connection's thread.
        auto shared = std::make_shared<Result<domain::AcceptedEmail>>(std::move(accepted));
        reply([shared, who, root] {
          if (!*shared) return error_response(shared->error());
          const domain::AcceptedEmail& email = **shared;
          if (log::enabled(log::Level::kInfo)) {
            log::info("notification.accepted", {{"notification_id", email.record.id.to_string()},
                                                {"service_id", who.service.to_string()},
                                                {"api_key_id", who.key.to_string()}});
          }
          return net::Response{201, "application/json", created_email_json(email, root), {}};
        });
      });
  return sent.has_value();  // kWouldBlock: neither replied nor stored
}

net::Response get_notification(const Dependencies& deps, const net::Request& request,
                               const PathParams& params) {
  auto caller = authenticate(request, deps.authenticator, deps.clock.now(), Blocking::kAllowed, &deps.on_auth_failure);
  if (!caller) return error_response(caller.error());
  if (auto* refused = std::get_if<net::Response>(&*caller)) return std::move(*refused);
  auto id = NotificationId::parse(params.at("notification_id"));
  if (!id) return error_response(400, "ValidationError", "notification_id is not a valid UUID");
  auto found = deps.notifications.get(std::get<domain::Caller>(*caller), *id);
  if (!found) return error_response(found.error());
  if (!*found) return error_response(404, "NoResultFound", "No result found");
  return net::Response{200, "application/json",
                       notification_json(**found, root_url(request, deps.public_root)), {}};
}

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  router.add_async("POST", "/v2/notifications/email",
                   [deps](const net::Request& r, const PathParams&, const Reply& reply, Blocking blocking) {
                     return post_email(deps, r, reply, blocking);
                   });
  router.add("GET", "/v2/notifications/{notification_id}",
             [deps](const net::Request& r, const PathParams& p) { return get_notification(deps, r, p); });
}

}  // namespace herald::api::govuk_v2
