#include "api/admin/handlers.h"

#include <algorithm>
#include <memory>

#include "api/admin/assets.h"
#include "api/admin/pages.h"
#include "api/admin/qr.h"
#include "api/html.h"
#include "core/base64.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "core/url.h"
#include "crypto/random.h"
#include "crypto/totp.h"

namespace herald::api::admin {
namespace {

using domain::users::Attempt;
using domain::users::Users;

constexpr std::string_view kSessionCookie = "__Host-herald-session";
constexpr std::string_view kFormCookie = "__Host-herald-form";
constexpr const char* kHtml = "text/html; charset=utf-8";

// What every page carries besides the server's own headers.
void secure(net::Response& response) {
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
                                "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts.
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  response.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  response.headers.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

net::Response html(int status, const Page& page) {
  net::Response response{status, kHtml, render(page), {}};
  secure(response);
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

class Handlers {
 public:
  explicit Handlers(Dependencies deps) : deps_(std::move(deps)) {
    if (!deps_.public_url.empty()) origin_ = deps_.public_url.substr(0, deps_.public_url.size() - 1);
  }

  // Routes hold the handlers (shared), so they live as long as the router.
  static void install(Router& router, const std::shared_ptr<Handlers>& self) {
    auto bind = [&self](net::Response (Handlers::*method)(const net::Request&, const PathParams&)) {
      return [self, method](const net::Request& request, const PathParams& params) {
        return ((*self).*method)(request, params);
      };
    };
    router.add("GET", "/", bind(&Handlers::home));
    router.add("GET", "/services/{id}", bind(&Handlers::service));
    router.add("GET", "/sign-in", bind(&Handlers::sign_in_page));
    router.add("POST", "/sign-in", bind(&Handlers::sign_in));
    router.add("GET", "/two-factor", bind(&Handlers::two_factor_page));
    router.add("POST", "/two-factor", bind(&Handlers::two_factor));
    router.add("POST", "/two-factor/security-key", bind(&Handlers::two_factor_key));
    router.add("POST", "/sign-out", bind(&Handlers::sign_out));
    router.add("GET", "/re-authenticate", bind(&Handlers::reauthenticate_page));
    router.add("POST", "/re-authenticate", bind(&Handlers::reauthenticate));
    router.add("GET", "/account", bind(&Handlers::account));
    router.add("GET", "/account/security-keys/new", bind(&Handlers::new_key_page));
    router.add("POST", "/account/security-keys", bind(&Handlers::add_key));
    router.add("POST", "/account/security-keys/remove", bind(&Handlers::remove_key));
    router.add("GET", "/enrol/{token}", bind(&Handlers::enrol_page));
    router.add("POST", "/enrol/{token}", bind(&Handlers::enrol));
    router.add("GET", "/assets/{name}", bind(&Handlers::asset));
    router.add("GET", "/assets/images/{name}", bind(&Handlers::image));
  }

 private:
  void record(std::string actor, std::string action, std::vector<std::pair<std::string, std::string>> objects,
              std::string outcome, const net::Request& request) {
    if (deps_.record) {
      deps_.record(
          {std::move(actor), std::move(action), std::move(objects), std::move(outcome), request.remote_address});
    }
  }
  static std::string actor_of(const std::optional<Uuid>& user) {
    return user ? "admin-user:" + user->to_string() : "anonymous";
  }

  // A POST from another origin (a forged form) is refused before anything else: the browser's
  // Origin (or Sec-Fetch-Site) says where the form was.
  bool same_origin(const net::Request& request) const {
    const std::string own = origin_.empty() ? "https://" + request.host : origin_;
    if (auto origin = request.header("Origin"); origin && *origin != own) return false;
    if (auto site = request.header("Sec-Fetch-Site"); site && *site != "same-origin" && *site != "none") return false;
    return true;
  }

  net::Response forbidden(const net::Request& request, std::string_view why) {
    // An enrolment link's token is a credential until used: never into the audit log.
    const std::string path = request.path.starts_with("/enrol/") ? "/enrol/(token)" : request.path;
    record("anonymous", "admin.request_refused", {{"path", path}}, "failure: " + std::string(why), request);
    return html(
        403, {"Forbidden", heading("This request was refused") + paragraph("Go back, reload the page and try again.")});
  }

  // The signed-in user of the request's session cookie, or nullopt.
  std::optional<domain::users::SignedIn> signed_in(const net::Request& request, std::string& token) {
    token = cookie(request, kSessionCookie);
    if (token.empty()) return std::nullopt;
    auto found = deps_.users.session(token);
    if (!found) {
      log::error("admin.session_lookup_failed", {{"error", found.error().message}});
      return std::nullopt;
    }
    return std::move(*found);
  }

  Page signed_in_page(const domain::users::SignedIn& who, const std::string& token, std::string title,
                      std::string main_html) {
    Page page{std::move(title), std::move(main_html)};
    page.user_name = who.user.name;
    page.csrf_token = Users::csrf_token(token);
    return page;
  }

  net::Response home(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    std::vector<store::ServiceRecord> services;
    if (who->user.platform_admin) {
      auto all = deps_.services.list_services();
      if (!all) return internal_error();
      services = std::move(*all);
    } else {
      auto memberships = deps_.users.memberships(who->user.id);
      if (!memberships) return internal_error();
      for (const auto& m : *memberships) {
        auto found = deps_.services.find_service(m.service);
        if (!found) return internal_error();
        if (*found) services.push_back(std::move(**found));
      }
    }
    std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string main = heading("Your services");
    if (services.empty()) {
      main += paragraph("You are not a member of any service yet. Ask a team manager of the service to add you.");
    } else {
      main += "<ul class=\"nhsuk-list\">";
      for (const auto& s : services) main += "<li>" + link("/services/" + s.id.to_string(), s.name) + "</li>";
      main += "</ul>";
    }
    return html(200, signed_in_page(*who, token, "Your services", main));
  }

  net::Response service(const net::Request& request, const PathParams& params) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    auto id = ServiceId::parse(params.at("id"));
    if (!id) return not_found();
    // Another service's pages answer as if they did not exist.
    auto permissions = deps_.users.permissions(who->user, *id);
    if (!permissions) return internal_error();
    if (permissions->empty()) return not_found();
    auto found = deps_.services.find_service(*id);
    if (!found) return internal_error();
    if (!*found) return not_found();
    std::string main =
        heading((*found)->name) + "<h2>Your permissions</h2><ul class=\"nhsuk-list nhsuk-list--bullet\">";
    for (auto p : *permissions) main += "<li>" + html_escape(domain::users::permission_name(p)) + "</li>";
    main += "</ul>";
    return html(200, signed_in_page(*who, token, (*found)->name, main));
  }

  // Sign-in: the form's CSRF token is bound to a random form cookie set with the page.
  net::Response sign_in_page(const net::Request& request, const PathParams&) {
    std::string token;
    if (signed_in(request, token)) return redirect("/");
    std::string form_token = cookie(request, kFormCookie);
    std::string set_cookie;
    if (form_token.empty()) {
      auto bytes = crypto::random_bytes(24);
      if (!bytes) return internal_error();
      form_token = base64url_encode(*bytes);
      set_cookie = std::string(kFormCookie) + "=" + form_token + "; Path=/; Secure; HttpOnly; SameSite=Strict";
    }
    auto response = html(200, sign_in_form(form_token, "", {}));
    return set_cookie.empty() ? response : with_cookie(std::move(response), set_cookie);
  }

  Page sign_in_form(const std::string& form_token, const std::string& email, std::vector<FieldError> errors) {
    const std::string error = errors.empty() ? "" : errors.front().first;
    std::string fields = input({"email", "Email address", "email", email, "username", "", error});
    fields += input({"password", "Password", "password", "", "current-password"});
    Page page{"Sign in", heading("Sign in") + form("/sign-in", Users::csrf_token(form_token), fields, "Continue")};
    page.errors = std::move(errors);
    return page;
  }

  net::Response sign_in(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    const FormFields fields = parse_form(request.body);
    const std::string form_token = cookie(request, kFormCookie);
    if (form_token.empty() || !Users::csrf_matches(form_token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    const std::string email = field(fields, "email");
    auto attempt = deps_.users.sign_in(email, field(fields, "password"));
    if (!attempt) {
      log::error("admin.sign_in_failed", {{"error", attempt.error().message}});
      return internal_error();
    }
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(attempt->user), "admin.sign_in.password", {}, "success", request);
      return with_cookie(redirect("/two-factor"), session_cookie(attempt->session_token));
    }
    const std::string message =
        refusal(request, *attempt, "admin.sign_in.password", "Enter a correct email address and password");
    return html(refusal_status(*attempt), sign_in_form(form_token, email, {{message, "email"}}));
  }

  // A refused step: audited with its reason; the person sees one message for any wrong answer,
  // or how long to wait when locked out.
  std::string refusal(const net::Request& request, const Attempt& attempt, const std::string& action,
                      std::string wrong_answer) {
    record(actor_of(attempt.user), action, {}, "failure: " + attempt.reason, request);
    if (attempt.outcome == Attempt::Outcome::kLockedOut && attempt.retry_at) {
      return "Too many attempts. Try again after " + format_timestamp(*attempt.retry_at).substr(11, 5) + " UTC";
    }
    return wrong_answer;
  }
  static int refusal_status(const Attempt& attempt) {
    return attempt.outcome == Attempt::Outcome::kLockedOut ? 429 : 401;
  }

  net::Response two_factor_page(const net::Request& request, const PathParams&) {
    if (cookie(request, kSessionCookie).empty()) return redirect("/sign-in");
    auto page = two_factor_form(request, cookie(request, kSessionCookie), "", "code");
    return page ? html(200, *page) : internal_error();
  }

  // The code form, and above it (shown by init.js where the browser can use it) a security-key
  // form when the user has keys. `error_field` is "code" or "security-key".
  std::optional<Page> two_factor_form(const net::Request& request, const std::string& token, const std::string& error,
                                      const std::string& error_field) {
    auto options = deps_.users.key_sign_in_options(token);
    if (!options) {
      log::error("admin.key_options_failed", {{"error", options.error().message}});
      return std::nullopt;
    }
    std::string main = heading("Enter your security code");
    if (*options) {
      main += key_form("get", "/two-factor/security-key", Users::csrf_token(token),
                       key_options_json(relying_party(request), **options),
                       "<p>Use the security key or passkey you added to your account.</p>",
                       error_field == "security-key" ? error : "", "Use your security key") +
              "<h2>Or enter a code</h2>";
    }
    std::string fields = input({"code", "Security code", "text", "", "one-time-code",
                                "The 6-digit code your authenticator app shows, or one of your recovery codes",
                                error_field == "code" ? error : "", "numeric", "nhsuk-input--width-10"});
    main += form("/two-factor", Users::csrf_token(token), fields, "Sign in");
    Page page{"Enter your security code", main};
    if (!error.empty()) page.errors = {{error, error_field}};
    return page;
  }

  net::Response two_factor(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    const std::string token = cookie(request, kSessionCookie);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    auto attempt = deps_.users.second_factor(token, field(fields, "code"));
    if (!attempt) {
      log::error("admin.second_factor_failed", {{"error", attempt.error().message}});
      return internal_error();
    }
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(attempt->user), "admin.sign_in.second_factor", {{"method", attempt->reason}}, "success", request);
      return with_cookie(redirect("/"), session_cookie(attempt->session_token));
    }
    if (!attempt->user) return redirect("/sign-in");  // no half-signed-in session (expired or spent)
    const std::string message = refusal(request, *attempt, "admin.sign_in.second_factor",
                                        "Enter the code your authenticator app shows now, or a recovery code");
    auto page = two_factor_form(request, token, message, "code");
    return page ? html(refusal_status(*attempt), *page) : internal_error();
  }

  net::Response two_factor_key(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    const std::string token = cookie(request, kSessionCookie);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    domain::users::KeyAssertion assertion;
    const bool decoded = decode_field(fields, "challenge", assertion.challenge) &&
                         decode_field(fields, "credential_id", assertion.credential_id) &&
                         decode_field(fields, "client_data_json", assertion.client_data_json) &&
                         decode_field(fields, "authenticator_data", assertion.authenticator_data) &&
                         decode_field(fields, "signature", assertion.signature);
    if (!decoded) {
      auto page = two_factor_form(request, token, "Your security key did not answer. Try again, or enter a code",
                                  "security-key");
      return page ? html(400, *page) : internal_error();
    }
    auto attempt = deps_.users.second_factor_key(token, relying_party(request), assertion);
    if (!attempt) {
      log::error("admin.second_factor_failed", {{"error", attempt.error().message}});
      return internal_error();
    }
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(attempt->user), "admin.sign_in.second_factor", {{"method", "security key"}}, "success", request);
      return with_cookie(redirect("/"), session_cookie(attempt->session_token));
    }
    if (!attempt->user) return redirect("/sign-in");
    const std::string message = refusal(request, *attempt, "admin.sign_in.second_factor",
                                        "Your security key was not accepted. Try again, or enter a code");
    auto page = two_factor_form(request, token, message, "security-key");
    return page ? html(refusal_status(*attempt), *page) : internal_error();
  }

  // Where WebAuthn binds keys: the host of the UI's public URL (or of the request), and its origin.
  crypto::webauthn::RelyingParty relying_party(const net::Request& request) const {
    std::string origin = origin_.empty() ? "https://" + request.host : origin_;
    std::string host = origin.substr(origin.find("://") + 3);
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    return {std::move(host), std::move(origin)};
  }

  // What init.js hands to navigator.credentials (binary fields base64url).
  static std::string key_options_json(const crypto::webauthn::RelyingParty& rp, const domain::users::KeyOptions& o) {
    json::Writer w;
    w.begin_object();
    w.key("challenge").string(base64url_encode(o.challenge));
    w.key("rp").begin_object().key("id").string(rp.id).key("name").string("Herald").end_object();
    w.key("user").begin_object();
    w.key("id").string(base64url_encode(o.user.id.to_string()));
    w.key("name").string(o.user.email).key("displayName").string(o.user.name);
    w.end_object();
    w.key("credentials").begin_array();
    for (const auto& id : o.credential_ids) w.string(base64url_encode(id));
    w.end_array();
    w.key("algorithms").begin_array().integer(-7).integer(-8).integer(-257).end_array();
    w.end_object();
    return w.take();
  }

  // A form init.js completes with the authenticator's answer ("create": a new key; "get": a
  // signature). Hidden until init.js finds the browser can use security keys.
  static std::string key_form(std::string_view mode, std::string_view action, std::string_view csrf,
                              const std::string& options_json, const std::string& intro_html, const std::string& error,
                              std::string_view button, const std::string& extra_fields = "") {
    std::string fields = hidden("challenge", "") + hidden("credential_id", "") + hidden("client_data_json", "") +
                         hidden("attestation_object", "") + hidden("authenticator_data", "") + hidden("signature", "") +
                         extra_fields;
    if (!error.empty()) {
      fields =
          "<span class=\"nhsuk-error-message\" id=\"security-key-error\"><span class=\"nhsuk-u-visually-hidden\">"
          "Error:</span> " +
          html_escape(error) + "</span>" + fields;
    }
    return "<div id=\"security-key\" class=\"nhsuk-form-group" +
           std::string(error.empty() ? "" : " nhsuk-form-group--error") + "\" data-webauthn=\"" + std::string(mode) +
           "\" data-options=\"" + html_escape(options_json) + "\" hidden>" + intro_html +
           "<p class=\"nhsuk-error-message\" data-webauthn-failed hidden>Your security key did not answer, or you "
           "cancelled. Try again.</p>" +
           form(action, csrf, fields, button) + "</div>";
  }

  static bool decode_field(const FormFields& fields, std::string_view name, std::string& out) {
    auto decoded = base64url_decode(field(fields, name));
    if (!decoded || decoded->empty()) return false;
    out = std::move(*decoded);
    return true;
  }

  // Re-authentication: the second factor again before a sensitive action, then back to `next`
  // (a path on this site only).
  static std::string safe_next(std::string_view next) {
    if (next.size() < 1 || next.front() != '/' || next.starts_with("//") || next.starts_with("/\\")) return "/";
    for (char c : next) {
      if (static_cast<unsigned char>(c) < 0x20) return "/";
    }
    return std::string(next);
  }
  static net::Response reauthentication_needed(std::string_view next) {
    return redirect("/re-authenticate?next=" + percent_encode(next));
  }

  net::Response reauthenticate_page(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    return html(200, reauthenticate_form(*who, token, safe_next(field(parse_form(request.query), "next")), ""));
  }

  Page reauthenticate_form(const domain::users::SignedIn& who, const std::string& token, const std::string& next,
                           const std::string& error) {
    std::string fields =
        hidden("next", next) + input({"code", "Security code", "text", "", "one-time-code",
                                      "The 6-digit code your authenticator app shows, or one of your recovery codes",
                                      error, "numeric", "nhsuk-input--width-10"});
    Page page = signed_in_page(who, token, "Confirm it is you",
                               heading("Confirm it is you") + paragraph("This action needs your security code again.") +
                                   form("/re-authenticate", Users::csrf_token(token), fields, "Continue"));
    if (!error.empty()) page.errors = {{error, "code"}};
    return page;
  }

  net::Response reauthenticate(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    std::string token;
    auto who = signed_in(request, token);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    if (!who) return redirect("/sign-in");
    const std::string next = safe_next(field(fields, "next"));
    auto attempt = deps_.users.reauthenticate(token, field(fields, "code"));
    if (!attempt) return internal_error();
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(who->user.id), "admin.reauthenticate", {{"method", attempt->reason}}, "success", request);
      return redirect(next);
    }
    const std::string message = refusal(request, *attempt, "admin.reauthenticate",
                                        "Enter the code your authenticator app shows now, or a recovery code");
    return html(refusal_status(*attempt), reauthenticate_form(*who, token, next, message));
  }

  // The signed-in user's own account: security keys and recovery codes.
  net::Response account(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    auto keys = deps_.users.security_keys(who->user.id);
    auto codes = deps_.users.recovery_codes_left(who->user.id);
    if (!keys || !codes) return internal_error();
    const std::string csrf = Users::csrf_token(token);
    std::string main = heading("Your account") + "<dl class=\"nhsuk-summary-list\">" +
                       summary_row("Name", who->user.name) + summary_row("Email address", who->user.email) +
                       summary_row("Recovery codes left", std::to_string(*codes)) + "</dl><h2>Security keys</h2>";
    if (keys->empty()) {
      main += paragraph("You have no security keys. You sign in with your authenticator app.");
    } else {
      main +=
          "<table class=\"nhsuk-table\"><caption class=\"nhsuk-table__caption nhsuk-u-visually-hidden\">Your "
          "security keys</caption><thead class=\"nhsuk-table__head\"><tr class=\"nhsuk-table__row\">"
          "<th class=\"nhsuk-table__header\" scope=\"col\">Name</th><th class=\"nhsuk-table__header\" "
          "scope=\"col\">Added</th><th class=\"nhsuk-table__header\" scope=\"col\">Last used</th>"
          "<th class=\"nhsuk-table__header\" scope=\"col\"><span class=\"nhsuk-u-visually-hidden\">Action</span>"
          "</th></tr></thead><tbody class=\"nhsuk-table__body\">";
      for (const auto& key : *keys) {
        main +=
            "<tr class=\"nhsuk-table__row\"><td class=\"nhsuk-table__cell\">" + html_escape(key.name) +
            "</td><td class=\"nhsuk-table__cell\">" + html_escape(format_timestamp(key.created_at).substr(0, 16)) +
            "</td><td class=\"nhsuk-table__cell\">" +
            html_escape(key.last_used_at ? format_timestamp(*key.last_used_at).substr(0, 16) : "Never") +
            "</td><td class=\"nhsuk-table__cell\">" +
            small_form("/account/security-keys/remove", csrf,
                       hidden("credential_id", base64url_encode(key.credential_id)), "Remove", "Remove " + key.name) +
            "</td></tr>";
      }
      main += "</tbody></table>";
    }
    main +=
        "<a class=\"nhsuk-button nhsuk-button--secondary\" href=\"/account/security-keys/new\">Add a security "
        "key</a>";
    return html(200, signed_in_page(*who, token, "Your account", main));
  }

  net::Response new_key_page(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    auto page = new_key_form(request, *who, token, "");
    if (!page) return reauthentication_needed("/account/security-keys/new");
    return html(200, *page);
  }

  // nullopt when the second factor must be given again first.
  std::optional<Page> new_key_form(const net::Request& request, const domain::users::SignedIn& who,
                                   const std::string& token, const std::string& error) {
    auto options = deps_.users.key_registration_options(token);
    if (!options) return std::nullopt;
    std::string name = input({"name", "Name of the key", "text", "", "off", "So that you can tell your keys apart", "",
                              "", "nhsuk-input--width-20"});
    std::string main =
        heading("Add a security key") +
        "<p data-webauthn-unsupported>Adding a security key needs JavaScript and a browser that supports security "
        "keys or passkeys.</p>" +
        key_form("create", "/account/security-keys", Users::csrf_token(token),
                 key_options_json(relying_party(request), *options),
                 "<p>Name the key, then select the button and follow your browser's instructions.</p>", error,
                 "Add security key", name);
    Page page = signed_in_page(who, token, "Add a security key", main);
    if (!error.empty()) page.errors = {{error, "security-key"}};
    return page;
  }

  net::Response add_key(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    std::string token;
    auto who = signed_in(request, token);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    if (!who) return redirect("/sign-in");
    domain::users::KeyRegistration registration;
    registration.name = field(fields, "name");
    const bool decoded = decode_field(fields, "challenge", registration.challenge) &&
                         decode_field(fields, "client_data_json", registration.client_data_json) &&
                         decode_field(fields, "attestation_object", registration.attestation_object);
    std::string error = "Your security key did not answer. Try again";
    if (decoded) {
      auto added = deps_.users.register_security_key(token, relying_party(request), registration);
      if (added) {
        record(actor_of(who->user.id), "admin.security_key.added", {{"key", added->name}}, "success", request);
        return redirect("/account");
      }
      const ErrorCode code = added.error().code;
      if (code == ErrorCode::kFailedPrecondition && !deps_.users.recently_verified(*who)) {
        return reauthentication_needed("/account/security-keys/new");
      }
      // kFailedPrecondition otherwise: the key is registered already.
      if (code != ErrorCode::kPermissionDenied && code != ErrorCode::kInvalidArgument &&
          code != ErrorCode::kFailedPrecondition) {
        return internal_error();
      }
      record(actor_of(who->user.id), "admin.security_key.added", {}, "failure: " + added.error().message, request);
      error = code == ErrorCode::kFailedPrecondition ? "This security key is added already"
                                                     : "Your security key could not be added. Try again";
    }
    auto page = new_key_form(request, *who, token, error);
    if (!page) return reauthentication_needed("/account/security-keys/new");
    return html(400, *page);
  }

  net::Response remove_key(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    std::string token;
    auto who = signed_in(request, token);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    if (!who) return redirect("/sign-in");
    auto id = base64url_decode(field(fields, "credential_id"));
    if (!id) return redirect("/account");
    auto removed = deps_.users.remove_security_key(token, *id);
    if (!removed) {
      if (removed.error().code == ErrorCode::kFailedPrecondition) return reauthentication_needed("/account");
      return internal_error();
    }
    if (*removed) record(actor_of(who->user.id), "admin.security_key.removed", {}, "success", request);
    return redirect("/account");
  }

  net::Response sign_out(const net::Request& request, const PathParams&) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    std::string token;
    auto who = signed_in(request, token);
    const FormFields fields = parse_form(request.body);
    if (token.empty() || !Users::csrf_matches(token, field(fields, "csrf_token"))) {
      return forbidden(request, "missing or wrong CSRF token");
    }
    if (auto ended = deps_.users.sign_out(token); !ended) return internal_error();
    if (who) record(actor_of(who->user.id), "admin.sign_out", {}, "success", request);
    return with_cookie(redirect("/sign-in"), expired_cookie(kSessionCookie));
  }

  // Enrolment: the link's token is the credential; the form's CSRF token is bound to it.
  net::Response enrol_page(const net::Request&, const PathParams& params) {
    const std::string& link_token = params.at("token");
    auto user = deps_.users.enrolment_user(link_token);
    if (!user) return internal_error();
    if (!*user) return expired_link();
    auto proposal = deps_.users.propose_totp(**user);
    if (!proposal) return internal_error();
    return html(200, enrol_form(link_token, **user, proposal->base32, {}));
  }

  net::Response expired_link() {
    return html(404, {"This link_token has expired", heading("This link_token has expired or has been used") +
                                                         paragraph("Ask your platform administrator for a new one.")});
  }

  Page enrol_form(const std::string& link_token, const store::AdminUserRecord& user, const std::string& secret_base32,
                  std::vector<FieldError> errors) {
    auto secret = crypto::base32_decode(secret_base32);
    const std::string uri = crypto::otpauth_uri("Herald", user.email, secret ? *secret : "");
    auto error_for = [&errors](std::string_view id) {
      for (const auto& [message, field_id] : errors) {
        if (field_id == id) return message;
      }
      return std::string();
    };
    std::string fields = hidden("totp_secret", secret_base32);
    fields += input({"password", "Create a password", "password", "", "new-password",
                     "At least 12 characters. A few unrelated words make a strong one.", error_for("password")});
    fields += input({"password_again", "Enter the password again", "password", "", "new-password", "",
                     error_for("password_again")});
    fields += "<h2>Set up your authenticator app</h2>" +
              paragraph("Scan this QR code with an authenticator app on your phone, or enter the key below.") +
              "<div class=\"nhsuk-u-margin-bottom-4\">" + qr_svg(uri, "QR code of your authenticator key") + "</div>" +
              "<p>Key: <code id=\"totp-key\">" + html_escape(secret_base32) + "</code></p>";
    fields += input({"code", "Code from the app", "text", "", "one-time-code", "The 6-digit code the app shows now",
                     error_for("code"), "numeric", "nhsuk-input--width-10"});
    Page page{"Set up your account",
              heading("Set up your account") + paragraph("Signing in as " + user.email) +
                  form("/enrol/" + link_token, Users::csrf_token(link_token), fields, "Continue")};
    page.errors = std::move(errors);
    return page;
  }

  net::Response enrol(const net::Request& request, const PathParams& params) {
    if (!same_origin(request)) return forbidden(request, "cross-origin form");
    const std::string& link_token = params.at("token");
    const FormFields fields = parse_form(request.body);
    if (!Users::csrf_matches(link_token, field(fields, "csrf_token")))
      return forbidden(request, "missing or wrong CSRF token");
    auto user = deps_.users.enrolment_user(link_token);
    if (!user) return internal_error();
    if (!*user) return expired_link();
    const std::string secret_text = field(fields, "totp_secret");
    auto secret = crypto::base32_decode(secret_text);
    const std::string password = field(fields, "password");
    std::vector<FieldError> errors;
    if (password != field(fields, "password_again"))
      errors.emplace_back("The passwords do not match", "password_again");
    if (!secret) errors.emplace_back("Scan the QR code again", "code");
    if (errors.empty()) {
      auto enrolled = deps_.users.enrol(link_token, password, *secret, field(fields, "code"));
      if (enrolled) {
        record(actor_of((*user)->id), "admin.enrolled", {{"user_id", (*user)->id.to_string()}}, "success", request);
        std::string main = heading("Your account is ready") +
                           paragraph(
                               "Keep these recovery codes somewhere safe. Each one signs you in once if you "
                               "lose your phone. They are not shown again.") +
                           "<ul class=\"nhsuk-list\" id=\"recovery-codes\">";
        for (const auto& code : enrolled->recovery_codes) main += "<li><code>" + html_escape(code) + "</code></li>";
        main += "</ul>" + link("/", "Continue to your services");
        return with_cookie(html(200, {"Your account is ready", main}), session_cookie(enrolled->session_token));
      }
      if (enrolled.error().code == ErrorCode::kNotFound) return expired_link();
      if (enrolled.error().code != ErrorCode::kInvalidArgument) return internal_error();
      const std::string& message = enrolled.error().message;
      errors.emplace_back(message, message.starts_with("Your password") ? "password" : "code");
      record(actor_of((*user)->id), "admin.enrolled", {{"user_id", (*user)->id.to_string()}}, "failure: " + message,
             request);
    }
    return html(400, enrol_form(link_token, **user, secret ? secret_text : "", std::move(errors)));
  }

  net::Response asset(const net::Request&, const PathParams& params) { return serve_asset(params.at("name")); }
  net::Response image(const net::Request&, const PathParams& params) {
    return serve_asset("images/" + params.at("name"));
  }
  static net::Response serve_asset(const std::string& name) {
    for (const Asset& a : assets()) {
      if (a.name == name) {
        std::string type(a.content_type);
        if (type.starts_with("text/")) type += "; charset=utf-8";
        net::Response response{200, std::move(type), std::string(a.bytes), {}};
        response.headers.emplace_back("Cache-Control", "public, max-age=3600");
        secure(response);
        return response;
      }
    }
    return not_found();
  }

  Dependencies deps_;
  std::string origin_;
};

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  Handlers::install(router, std::make_shared<Handlers>(deps));
}

RouterErrors router_errors() { return {&not_found, &wrong_method, &internal_error}; }

net::Response protocol_error(int status) {
  const std::string title = status == 413 ? "Request too large" : status == 408 ? "Request timeout" : "Bad request";
  return html(status, {title, heading(title)});
}

}  // namespace herald::api::admin
