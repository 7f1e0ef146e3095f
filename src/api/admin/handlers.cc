#include "api/admin/handlers.h"

#include <algorithm>
#include <memory>

#include "api/admin/assets.h"
#include "api/admin/base.h"
#include "api/admin/qr.h"
#include "api/html.h"
#include "core/base64.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "core/url.h"
#include "crypto/random.h"
#include "crypto/totp.h"
#include "domain/admin.h"

namespace herald::api::admin {
namespace {

using domain::users::Attempt;
using domain::users::Users;

class Handlers : public PageHandlers {
 public:
  explicit Handlers(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<Handlers>& self) {
    add(router, self, "GET", "/", &Handlers::home);
    // Before "/services/{id}" (the dashboard's): the first route that matches answers.
    add(router, self, "GET", "/services/new", &Handlers::new_service_page);
    add(router, self, "POST", "/services", &Handlers::create_service);
    add(router, self, "GET", "/sign-in", &Handlers::sign_in_page);
    add(router, self, "POST", "/sign-in", &Handlers::sign_in);
    add(router, self, "GET", "/two-factor", &Handlers::two_factor_page);
    add(router, self, "POST", "/two-factor", &Handlers::two_factor);
    add(router, self, "POST", "/two-factor/security-key", &Handlers::two_factor_key);
    add(router, self, "POST", "/sign-out", &Handlers::sign_out);
    add(router, self, "GET", "/re-authenticate", &Handlers::reauthenticate_page);
    add(router, self, "POST", "/re-authenticate", &Handlers::reauthenticate);
    add(router, self, "POST", "/re-authenticate/security-key", &Handlers::reauthenticate_key);
    add(router, self, "GET", "/account", &Handlers::account);
    add(router, self, "GET", "/account/security-keys/new", &Handlers::new_key_page);
    add(router, self, "POST", "/account/security-keys", &Handlers::add_key);
    add(router, self, "POST", "/account/security-keys/remove", &Handlers::remove_key);
    add(router, self, "GET", "/enrol/{token}", &Handlers::enrol_page);
    add(router, self, "POST", "/enrol/{token}", &Handlers::enrol);
    add(router, self, "GET", "/assets/{name}", &Handlers::asset);
    add(router, self, "GET", "/assets/images/{name}", &Handlers::image);
  }

 private:
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
    if (who->user.platform_admin) {
      auto asked = domain::Admin(deps_.services).go_live_requests();
      if (!asked) return internal_error();
      if (!asked->empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : *asked) {
          rows.push_back({link("/services/" + s.id.to_string() + "/settings#going-live", s.name),
                          html_escape(human_time(*s.go_live_requested_at))});
        }
        main += "<h2>Requests to go live</h2>" + table("Requests to go live", {"Service", "Asked"}, rows);
      }
      main += button_link("/services/new", "Create a service", true);
      main += "<h2>Platform</h2>" + paragraph("Everything done in Herald, by anyone, and what was refused.") +
              link("/audit", "See the audit log");
    }
    return html(200, signed_in_page(*who, token, "Your services", main));
  }

  // A new service (platform admins, as `herald service create`): in trial mode, GOV.UK's limits.
  Page new_service_form(const domain::users::SignedIn& who, const std::string& token, const std::string& name,
                        const std::string& error) {
    std::string main =
        heading("Create a service") +
        paragraph("A new service starts in trial mode: it sends only to its team and guest list until made live.") +
        form("/services", domain::users::Users::csrf_token(token),
             input(
                 {"name", "Service name", "text", name, "off", "Recipients see it in text messages and emails", error}),
             "Create the service");
    Page page = signed_in_page(who, token, "Create a service", main);
    if (!error.empty()) page.errors = {{error, "name"}};
    return page;
  }

  net::Response new_service_page(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    if (!who->user.platform_admin) return not_found();
    return html(200, new_service_form(*who, token, "", ""));
  }

  net::Response create_service(const net::Request& request, const PathParams&) {
    Post post;
    if (auto refused = check_signed_in_post(request, post)) return *refused;
    if (!post.who->user.platform_admin) return not_found();
    const std::string name = field(post.fields, "name");
    if (name.empty() || name.size() > 255) {
      return html(400, new_service_form(*post.who, post.token, name, "Enter a service name of up to 255 characters"));
    }
    auto created = domain::Admin(deps_.services).create_service(name, deps_.clock.now());
    if (!created) {
      if (created.error().code != ErrorCode::kFailedPrecondition &&
          created.error().code != ErrorCode::kInvalidArgument) {
        return internal_error();
      }
      return html(400, new_service_form(*post.who, post.token, name, capitalised(created.error().message)));
    }
    record(actor_of(post.who->user.id), "service.created", {{"service_id", created->id.to_string()}}, "success",
           request);
    return redirect("/services/" + created->id.to_string());
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
    if (!key_assertion(fields, assertion)) {
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

  // A security key's signature as init.js posts it (binary fields base64url); false when a field
  // is missing or not base64url.
  static bool key_assertion(const FormFields& fields, domain::users::KeyAssertion& assertion) {
    return decode_field(fields, "challenge", assertion.challenge) &&
           decode_field(fields, "credential_id", assertion.credential_id) &&
           decode_field(fields, "client_data_json", assertion.client_data_json) &&
           decode_field(fields, "authenticator_data", assertion.authenticator_data) &&
           decode_field(fields, "signature", assertion.signature);
  }

  static bool decode_field(const FormFields& fields, std::string_view name, std::string& out) {
    auto decoded = base64url_decode(field(fields, name));
    if (!decoded || decoded->empty()) return false;
    out = std::move(*decoded);
    return true;
  }

  // Re-authentication: the second factor again before a sensitive action, then back to `next`
  // (a path on this site only).
  net::Response reauthenticate_page(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    auto page =
        reauthenticate_form(request, *who, token, safe_next(field(parse_form(request.query), "next")), "", "code");
    return page ? html(200, *page) : internal_error();
  }

  // The code form, and above it (shown by init.js where the browser can use it) a security-key
  // form when the user has keys, as at sign-in. `error_field` is "code" or "security-key".
  std::optional<Page> reauthenticate_form(const net::Request& request, const domain::users::SignedIn& who,
                                          const std::string& token, const std::string& next, const std::string& error,
                                          const std::string& error_field) {
    auto options = deps_.users.key_reauthentication_options(token);
    if (!options) {
      log::error("admin.key_options_failed", {{"error", options.error().message}});
      return std::nullopt;
    }
    std::string main = heading("Confirm it is you") + paragraph("This action needs your second factor again.");
    if (*options) {
      main += key_form("get", "/re-authenticate/security-key", Users::csrf_token(token),
                       key_options_json(relying_party(request), **options),
                       "<p>Use the security key or passkey you added to your account.</p>",
                       error_field == "security-key" ? error : "", "Use your security key", hidden("next", next)) +
              "<h2>Or enter a code</h2>";
    }
    std::string fields =
        hidden("next", next) + input({"code", "Security code", "text", "", "one-time-code",
                                      "The 6-digit code your authenticator app shows, or one of your recovery codes",
                                      error_field == "code" ? error : "", "numeric", "nhsuk-input--width-10"});
    main += form("/re-authenticate", Users::csrf_token(token), fields, "Continue");
    Page page = signed_in_page(who, token, "Confirm it is you", main);
    if (!error.empty()) page.errors = {{error, error_field}};
    return page;
  }

  net::Response reauthenticate(const net::Request& request, const PathParams&) {
    Post post;
    if (auto refused = check_signed_in_post(request, post)) return *refused;
    const std::string& token = post.token;
    const auto& who = post.who;
    const FormFields& fields = post.fields;
    const std::string next = safe_next(field(fields, "next"));
    auto attempt = deps_.users.reauthenticate(token, field(fields, "code"));
    if (!attempt) return internal_error();
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(who->user.id), "admin.reauthenticate", {{"method", attempt->reason}}, "success", request);
      return redirect(next);
    }
    const std::string message = refusal(request, *attempt, "admin.reauthenticate",
                                        "Enter the code your authenticator app shows now, or a recovery code");
    auto page = reauthenticate_form(request, *who, token, next, message, "code");
    return page ? html(refusal_status(*attempt), *page) : internal_error();
  }

  net::Response reauthenticate_key(const net::Request& request, const PathParams&) {
    Post post;
    if (auto refused = check_signed_in_post(request, post)) return *refused;
    const std::string next = safe_next(field(post.fields, "next"));
    domain::users::KeyAssertion assertion;
    if (!key_assertion(post.fields, assertion)) {
      auto page = reauthenticate_form(request, *post.who, post.token, next,
                                      "Your security key did not answer. Try again, or enter a code", "security-key");
      return page ? html(400, *page) : internal_error();
    }
    auto attempt = deps_.users.reauthenticate_key(post.token, relying_party(request), assertion);
    if (!attempt) return internal_error();
    if (attempt->outcome == Attempt::Outcome::kAccepted) {
      record(actor_of(post.who->user.id), "admin.reauthenticate", {{"method", "security key"}}, "success", request);
      return redirect(next);
    }
    const std::string message = refusal(request, *attempt, "admin.reauthenticate",
                                        "Your security key was not accepted. Try again, or enter a code");
    auto page = reauthenticate_form(request, *post.who, post.token, next, message, "security-key");
    return page ? html(refusal_status(*attempt), *page) : internal_error();
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
      std::vector<std::vector<std::string>> rows;
      for (const auto& key : *keys) {
        rows.push_back(
            {html_escape(key.name), html_escape(human_time(key.created_at)),
             key.last_used_at ? html_escape(human_time(*key.last_used_at)) : "Never",
             small_form("/account/security-keys/remove", csrf,
                        hidden("credential_id", base64url_encode(key.credential_id)), "Remove", "Remove " + key.name)});
      }
      main += table("Your security keys", {"Name", "Added", "Last used", ""}, rows);
    }
    main += button_link("/account/security-keys/new", "Add a security key", true);
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
    Post post;
    if (auto refused = check_signed_in_post(request, post)) return *refused;
    const std::string& token = post.token;
    const auto& who = post.who;
    const FormFields& fields = post.fields;
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
    Post post;
    if (auto refused = check_signed_in_post(request, post)) return *refused;
    const std::string& token = post.token;
    const auto& who = post.who;
    const FormFields& fields = post.fields;
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
    Post post;
    if (auto refused = check_post(request, post)) return *refused;
    if (auto ended = deps_.users.sign_out(post.token); !ended) return internal_error();
    if (post.who) record(actor_of(post.who->user.id), "admin.sign_out", {}, "success", request);
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
    return html(404, {"This link has expired", heading("This link has expired or has been used") +
                                                   paragraph("Ask your platform administrator for a new one.")});
  }

  Page enrol_form(const std::string& link_token, const store::AdminUserRecord& user, const std::string& secret_base32,
                  std::vector<FieldError> errors) {
    auto secret = crypto::base32_decode(secret_base32);
    const std::string uri = crypto::otpauth_uri("Herald", user.email, secret ? *secret : "");
    std::string fields = hidden("totp_secret", secret_base32);
    fields +=
        input({"password", "Create a password", "password", "", "new-password",
               "At least 12 characters. A few unrelated words make a strong one.", error_for(errors, "password")});
    fields += input({"password_again", "Enter the password again", "password", "", "new-password", "",
                     error_for(errors, "password_again")});
    fields += "<h2>Set up your authenticator app</h2>" +
              paragraph("Scan this QR code with an authenticator app on your phone, or enter the key below.") +
              "<div class=\"nhsuk-u-margin-bottom-4\">" + qr_svg(uri, "QR code of your authenticator key") + "</div>" +
              "<p>Key: <code id=\"totp-key\">" + html_escape(secret_base32) + "</code></p>";
    fields += input({"code", "Code from the app", "text", "", "one-time-code", "The 6-digit code the app shows now",
                     error_for(errors, "code"), "numeric", "nhsuk-input--width-10"});
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
};

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  Handlers::install(router, std::make_shared<Handlers>(deps));
  register_service_pages(router, deps);
  register_job_pages(router, deps);
  register_dashboard_pages(router, deps);
  register_audit_pages(router, deps);
  register_subject_pages(router, deps);
  register_unsubscribe_pages(router, deps);
  register_plan_pages(router, deps);
  register_settings_pages(router, deps);
  register_callback_pages(router, deps);
}

RouterErrors router_errors() { return {&not_found, &wrong_method, &internal_error}; }

net::Response protocol_error(int status) {
  const std::string title = status == 413 ? "Request too large" : status == 408 ? "Request timeout" : "Bad request";
  return html(status, {title, heading(title)});
}

}  // namespace herald::api::admin
