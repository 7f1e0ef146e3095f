#include "api/admin/base.h"

#include <algorithm>

#include "api/html.h"
#include "core/log.h"

namespace herald::api::admin {

using domain::users::Permission;
using domain::users::Users;

constexpr const char* kHtml = "text/html; charset=utf-8";

void secure(net::Response& response, bool frames_self) {
  response.headers.emplace_back("Content-Security-Policy",
                                std::string("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
                                            "font-src 'self'; connect-src 'self'; form-action 'self'; ") +
                                    (frames_self ? "frame-src 'self'; " : "") +
                                    "frame-ancestors 'none'; base-uri 'none'");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts.
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  response.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  response.headers.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

net::Response html(int status, const Page& page) {
  net::Response response{status, kHtml, render(page), {}};
  secure(response, page.frames_self);
  return response;
}

net::Response redirect(std::string_view to) {
  net::Response response{303, kHtml, "", {{"Location", std::string(to)}}};
  secure(response);
  return response;
}

std::string session_cookie(std::string_view token) {
  return std::string(kSessionCookie) + "=" + std::string(token) + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}
std::string expired_cookie(std::string_view name) {
  return std::string(name) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
}

net::Response with_cookie(net::Response response, std::string cookie) {
  response.headers.emplace_back("Set-Cookie", std::move(cookie));
  return response;
}

std::string cookie(const net::Request& request, std::string_view name) {
  auto header = request.header("Cookie");
  if (!header) return "";
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return "";
}

std::string field(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return "";
}

std::vector<std::string> fields_named(const FormFields& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : fields) {
    if (key == name) out.push_back(value);
  }
  return out;
}

Page not_found_page() {
  return {"Page not found", heading("Page not found") +
                                paragraph("If you typed the web address, check it is correct. If you pasted it, check "
                                          "you copied the entire address.")};
}

net::Response not_found() { return html(404, not_found_page()); }
net::Response wrong_method() { return html(405, {"Method not allowed", heading("Method not allowed")}); }
net::Response internal_error() {
  return html(500, {"Sorry, there is a problem with the service",
                    heading("Sorry, there is a problem with the service") + paragraph("Try again later.")});
}

std::string safe_next(std::string_view next) {
  if (next.empty() || next.front() != '/' || next.starts_with("//") || next.starts_with("/\\")) return "/";
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return std::string(next);
}

net::Response reauthentication_needed(std::string_view next) {
  return redirect("/re-authenticate?next=" + percent_encode(next));
}

bool ServiceAccess::can(Permission p) const {
  return std::find(permissions.begin(), permissions.end(), p) != permissions.end();
}

PageHandlers::PageHandlers(Dependencies deps) : deps_(std::move(deps)) {
  if (!deps_.public_url.empty()) origin_ = deps_.public_url.substr(0, deps_.public_url.size() - 1);
}

void PageHandlers::record(std::string actor, std::string action,
                          std::vector<std::pair<std::string, std::string>> objects, std::string outcome,
                          const net::Request& request) {
  if (deps_.record) {
    deps_.record({std::move(actor), std::move(action), std::move(objects), std::move(outcome), request.remote_address});
  }
}
std::string PageHandlers::actor_of(const std::optional<Uuid>& user) {
  return user ? "admin-user:" + user->to_string() : "anonymous";
}

bool PageHandlers::same_origin(const net::Request& request) const {
  const std::string own = origin_.empty() ? "https://" + request.host : origin_;
  if (auto origin = request.header("Origin"); origin && *origin != own) return false;
  if (auto site = request.header("Sec-Fetch-Site"); site && *site != "same-origin" && *site != "none") return false;
  return true;
}

net::Response PageHandlers::forbidden(const net::Request& request, std::string_view why) {
  // An enrolment link's token is a credential until used: never into the audit log.
  const std::string path = request.path.starts_with("/enrol/") ? "/enrol/(token)" : request.path;
  record("anonymous", "admin.request_refused", {{"path", path}}, "failure: " + std::string(why), request);
  return html(
      403, {"Forbidden", heading("This request was refused") + paragraph("Go back, reload the page and try again.")});
}

std::optional<domain::users::SignedIn> PageHandlers::signed_in(const net::Request& request, std::string& token) {
  token = cookie(request, kSessionCookie);
  if (token.empty()) return std::nullopt;
  auto found = deps_.users.session(token);
  if (!found) {
    log::error("admin.session_lookup_failed", {{"error", found.error().message}});
    return std::nullopt;
  }
  return std::move(*found);
}

Page PageHandlers::signed_in_page(const domain::users::SignedIn& who, const std::string& token, std::string title,
                                  std::string main_html) {
  Page page{std::move(title), std::move(main_html)};
  page.user_name = who.user.name;
  page.csrf_token = Users::csrf_token(token);
  return page;
}

std::optional<net::Response> PageHandlers::check_post(const net::Request& request, Post& out) {
  if (!same_origin(request)) return forbidden(request, "cross-origin form");
  out.who = signed_in(request, out.token);
  const auto boundary = multipart::boundary_of(request.header("Content-Type").value_or(""));
  if (boundary) {
    auto parts = multipart::parse(request.body, *boundary);
    if (!parts) return forbidden(request, "malformed form: " + parts.error().message);
    for (multipart::Part& part : *parts) {
      if (part.filename) {
        out.files.push_back(std::move(part));
      } else {
        out.fields.emplace_back(std::move(part.name), std::move(part.data));
      }
    }
  } else {
    out.fields = parse_form(request.body);
  }
  if (out.token.empty() || !Users::csrf_matches(out.token, field(out.fields, "csrf_token"))) {
    return forbidden(request, "missing or wrong CSRF token");
  }
  return std::nullopt;
}

std::optional<net::Response> PageHandlers::check_signed_in_post(const net::Request& request, Post& out) {
  if (auto refused = check_post(request, out)) return refused;
  if (!out.who) return redirect("/sign-in");
  return std::nullopt;
}

std::optional<net::Response> PageHandlers::open_service(const net::Request& request, const PathParams& params,
                                                        Permission needed, ServiceAccess& out) {
  auto who = signed_in(request, out.token);
  if (!who) return redirect("/sign-in");
  auto id = ServiceId::parse(params.at("id"));
  if (!id) return not_found();
  auto permissions = deps_.users.permissions(who->user, *id);
  if (!permissions) return internal_error();
  // Another service's pages answer as if they did not exist.
  if (permissions->empty()) return not_found();
  auto found = deps_.services.find_service(*id);
  if (!found) return internal_error();
  if (!*found) return not_found();
  out.who = std::move(*who);
  out.service = std::move(**found);
  out.permissions = std::move(*permissions);
  if (!out.can(needed)) return not_permitted(request, out, domain::users::permission_name(needed));
  return std::nullopt;
}

std::string service_path(const ServiceAccess& access, std::string_view rest) {
  return "/services/" + access.service.id.to_string() + std::string(rest);
}

Page PageHandlers::service_page(const ServiceAccess& access, std::string current, std::string title,
                                std::string main_html) {
  Page page = signed_in_page(
      access.who, access.token, std::move(title),
      "<span class=\"nhsuk-caption-l\">" + html_escape(access.service.name) + "</span>" + std::move(main_html));
  page.navigation.emplace_back(service_path(access), "Overview");
  page.navigation.emplace_back(service_path(access, "/notifications"), "Messages");
  page.navigation.emplace_back(service_path(access, "/templates"), "Templates");
  page.navigation.emplace_back(service_path(access, "/team"), "Team");
  if (access.can(Permission::kManageApiKeys)) {
    page.navigation.emplace_back(service_path(access, "/api-keys"), "API keys");
  }
  if (access.can(Permission::kManageSettings)) {
    page.navigation.emplace_back(service_path(access, "/settings"), "Settings");
  }
  page.current = std::move(current);
  return page;
}

Page PageHandlers::form_page(const ServiceAccess& access, std::string current, const std::string& title,
                             const std::string& action, const std::string& fields, std::string_view button,
                             std::vector<FieldError> errors) {
  Page page =
      service_page(access, std::move(current), title,
                   heading(title) + form(action, domain::users::Users::csrf_token(access.token), fields, button));
  page.errors = std::move(errors);
  return page;
}

void PageHandlers::audit(const net::Request& request, const ServiceAccess& access, std::string action,
                         std::vector<std::pair<std::string, std::string>> objects, std::string outcome) {
  objects.insert(objects.begin(), {"service_id", access.service.id.to_string()});
  record(actor_of(access.who.user.id), std::move(action), std::move(objects), std::move(outcome), request);
}

std::optional<net::Response> PageHandlers::open_post(const net::Request& request, const PathParams& params,
                                                     Permission needed, ServiceAccess& access, Post& post) {
  if (auto refused = check_post(request, post)) return refused;
  return open_service(request, params, needed, access);
}

net::Response PageHandlers::not_permitted(const net::Request& request, const ServiceAccess& access,
                                          std::string_view what) {
  record(actor_of(access.who.user.id), "admin.request_refused",
         {{"service_id", access.service.id.to_string()}, {"path", request.path}},
         "failure: lacks permission " + std::string(what), request);
  Page page = signed_in_page(access.who, access.token, "You do not have permission",
                             heading("You do not have permission") +
                                 paragraph("Your role in " + access.service.name +
                                           " does not let you do this. Ask one of its team managers.") +
                                 link("/services/" + access.service.id.to_string(), "Back to " + access.service.name));
  return html(403, page);
}

Result<std::vector<store::NhsClientRecord>> PageHandlers::nhs_clients_of(const ServiceAccess& access) {
  auto all = deps_.nhs_clients.list_nhs_clients();
  if (!all) return all.error();
  std::vector<store::NhsClientRecord> mine;
  for (auto& c : *all) {
    if (c.service == access.service.id) mine.push_back(std::move(c));
  }
  return mine;
}

Result<std::optional<store::NhsClientRecord>> PageHandlers::nhs_client_of(const ServiceAccess& access,
                                                                          std::string_view id) {
  auto parsed = Uuid::parse(id);
  if (!parsed) return std::optional<store::NhsClientRecord>();
  auto found = deps_.nhs_clients.find_nhs_client(*parsed);
  if (!found) return found.error();
  if (!*found || (*found)->service != access.service.id) return std::optional<store::NhsClientRecord>();
  return found;
}

}  // namespace herald::api::admin
