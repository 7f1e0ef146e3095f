#include "api/unsubscribe/unsubscribe.h"

#include "api/html.h"
#include "api/unsubscribe/errors.h"
#include "core/log.h"
#include "core/url.h"

namespace herald::api::unsubscribe {
namespace {

constexpr std::string_view kOneClick = "List-Unsubscribe=One-Click";

net::Response invalid_link() {
  return public_page(status_of(Refusal::kInvalidLink), "There is a problem",
                     "<h1>There is a problem</h1><p>We could not unsubscribe you from these emails.</p>"
                     "<p>If you pasted the web address from an email, check you copied the entire address.</p>");
}

net::Response confirm_page(const net::Request& request) {
  return public_page(200, "Are you sure you want to unsubscribe?",
                     "<h1>Are you sure you want to unsubscribe?</h1>"
                     "<p>If you want to unsubscribe you will no longer receive these emails.</p>"
                     "<form method=\"post\" action=\"" +
                         html_escape(request.path) +
                         "\"><p><button type=\"submit\">Confirm</button></p></form><p>This can take a few days.</p>");
}

bool one_click(const net::Request& request) {
  for (const auto& [key, value] : parse_form(request.body)) {
    if (key + "=" + value == kOneClick) return true;
  }
  return false;
}

net::Response record(const Dependencies& deps, const net::Request& request, const PathParams& params) {
  auto outcome = deps.unsubscribes.request(params.at("notification_id"), params.at("token"), deps.clock.now());
  if (!outcome) {
    log::error("unsubscribe.failed",
               {{"notification_id", params.at("notification_id")}, {"error", outcome.error().message}});
    return public_page(status_of(Refusal::kProblem), "Sorry, there is a problem",
                       "<h1>Sorry, there is a problem with the service</h1>");
  }
  if (*outcome == domain::UnsubscribeOutcome::kInvalidLink || *outcome == domain::UnsubscribeOutcome::kUnknown) {
    if (!one_click(request)) return invalid_link();
    const char* message = *outcome == domain::UnsubscribeOutcome::kInvalidLink
                              ? "This is not a valid unsubscribe link."
                              : "This unsubscribe link is invalid or expired.";
    return net::Response{status_of(Refusal::kInvalidLink), "application/json",
                         std::string(R"({"result":"error","message":")") + message + "\"}", public_page_headers()};
  }
  if (one_click(request)) {
    return net::Response{200, "application/json", R"({"result":"success","message":"Unsubscribe successful"})",
                         public_page_headers()};
  }
  return public_page(200, "We have your request to unsubscribe",
                     "<h1>We have your request to unsubscribe</h1>"
                     "<p>It can take a few days to unsubscribe you from these emails.</p>");
}

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  router.add("GET", "/unsubscribe/{notification_id}/{token}", [deps](const net::Request& r, const PathParams& p) {
    if (!deps.unsubscribes.valid(p.at("notification_id"), p.at("token"), deps.clock.now())) return invalid_link();
    return confirm_page(r);
  });
  router.add("POST", "/unsubscribe/{notification_id}/{token}",
             [deps](const net::Request& r, const PathParams& p) { return record(deps, r, p); });
}

}  // namespace herald::api::unsubscribe
