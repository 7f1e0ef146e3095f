#pragma once
// Inside the admin UI (not for other layers): what every page handler shares. The responses
// every page carries (security headers, the session cookie), reading cookies and forms, and a
// base for the handler classes of each area (handlers.cc: sign-in and account; service_pages.cc:
// a service's pages) with the checks each request goes through: who is signed in, whether a
// form came from this site with its CSRF token, and what the user may do in a service.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/admin/handlers.h"
#include "api/admin/pages.h"
#include "core/multipart.h"
#include "core/url.h"

namespace herald::api::admin {

inline constexpr std::string_view kSessionCookie = "__Host-herald-session";
inline constexpr std::string_view kFormCookie = "__Host-herald-form";

// What every page carries besides the server's own headers; `frames_self`: it may frame pages
// of this site (a template's email preview).
void secure(net::Response& response, bool frames_self = false);
net::Response html(int status, const Page& page);
net::Response redirect(std::string_view to);
std::string session_cookie(std::string_view token);
std::string expired_cookie(std::string_view name);
net::Response with_cookie(net::Response response, std::string cookie);
// The value of cookie `name`, or "".
std::string cookie(const net::Request& request, std::string_view name);
// The first field called `name`, or "".
std::string field(const FormFields& fields, std::string_view name);
// Every field called `name` (ticked checkboxes), in order.
std::vector<std::string> fields_named(const FormFields& fields, std::string_view name);
net::Response not_found();
net::Response wrong_method();
net::Response internal_error();
// A path on this site to go back to (anything else, "//host" or "https://…" included: "/").
std::string safe_next(std::string_view next);
// To the re-authentication page, then back to `next`.
net::Response reauthentication_needed(std::string_view next);

// A form posted by a signed-in user, checked (same origin, the session's CSRF token). A
// multipart form's text fields are in `fields`, its file inputs in `files`.
struct Post {
  std::string token;                           // the session's
  std::optional<domain::users::SignedIn> who;  // nullopt: the session has ended
  FormFields fields;
  std::vector<multipart::Part> files;
};

// A request for one of a service's pages by a member allowed to see it.
struct ServiceAccess {
  std::string token;
  domain::users::SignedIn who;
  store::ServiceRecord service;
  std::vector<domain::users::Permission> permissions;
  bool can(domain::users::Permission p) const;
};

// "/services/{id}" and `rest` after it.
std::string service_path(const ServiceAccess& access, std::string_view rest = {});

class PageHandlers {
 protected:
  explicit PageHandlers(Dependencies deps);

  // Routes hold their handlers (shared), so they live as long as the router.
  template <typename Self>
  static void add(Router& router, const std::shared_ptr<Self>& self, const char* method, const char* pattern,
                  net::Response (Self::*handler)(const net::Request&, const PathParams&)) {
    router.add(method, pattern, [self, handler](const net::Request& request, const PathParams& params) {
      return ((*self).*handler)(request, params);
    });
  }

  void record(std::string actor, std::string action, std::vector<std::pair<std::string, std::string>> objects,
              std::string outcome, const net::Request& request);
  static std::string actor_of(const std::optional<Uuid>& user);
  // A POST from another origin (a forged form) is refused before anything else: the browser's
  // Origin (or Sec-Fetch-Site) says where the form was.
  bool same_origin(const net::Request& request) const;
  // 403, audited with `why`.
  net::Response forbidden(const net::Request& request, std::string_view why);
  // The signed-in user of the request's session cookie (its token into `token`), or nullopt.
  std::optional<domain::users::SignedIn> signed_in(const net::Request& request, std::string& token);
  Page signed_in_page(const domain::users::SignedIn& who, const std::string& token, std::string title,
                      std::string main_html);
  // Checks a signed-in user's form post: the refusal (403) when it came from another origin or
  // without the session's CSRF token; else nullopt, with the post in `out`.
  std::optional<net::Response> check_post(const net::Request& request, Post& out);
  // The same, and to the sign-in page when the session has ended (then `out.who` is set).
  std::optional<net::Response> check_signed_in_post(const net::Request& request, Post& out);
  // Opens one of a service's pages (its id the route's {id}) for a user who holds `needed`
  // there: to the sign-in page when signed out; 404 when the service is not theirs (as if it
  // did not exist); 403 when they are a member without `needed`. nullopt: go on, with `out`.
  std::optional<net::Response> open_service(const net::Request& request, const PathParams& params,
                                            domain::users::Permission needed, ServiceAccess& out);
  // A 403 page for a member without the permission an action needs (audited).
  net::Response not_permitted(const net::Request& request, const ServiceAccess& access, std::string_view what);
  // A form post to one of the service's pages: checked (origin, CSRF token), the user still
  // signed in and holding `needed` there. nullopt: go on, with `access` and `post`.
  std::optional<net::Response> open_post(const net::Request& request, const PathParams& params,
                                         domain::users::Permission needed, ServiceAccess& access, Post& post);
  // A page of the service, with its navigation (the pages this user may use).
  Page service_page(const ServiceAccess& access, std::string current, std::string title, std::string main_html);
  // A page of the service that is one form: its heading (the title), the form posting `fields`
  // to `action` with the session's CSRF token, and the errors of the last try.
  Page form_page(const ServiceAccess& access, std::string current, const std::string& title, const std::string& action,
                 const std::string& fields, std::string_view button, std::vector<FieldError> errors);
  // The service's NHS Notify clients, oldest first; and one of them by id (nullopt: not theirs).
  Result<std::vector<store::NhsClientRecord>> nhs_clients_of(const ServiceAccess& access);
  Result<std::optional<store::NhsClientRecord>> nhs_client_of(const ServiceAccess& access, std::string_view id);
  // Audits a change to the service by the signed-in user (the service first among its objects).
  void audit(const net::Request& request, const ServiceAccess& access, std::string action,
             std::vector<std::pair<std::string, std::string>> objects, std::string outcome = "success");

  Dependencies deps_;
  std::string origin_;  // of the public URL; empty: the request's own
};

// The routes of a service's pages (service_pages.cc), its dashboard (dashboard_pages.cc), sending
// to a list (job_pages.cc), the audit log (audit_pages.cc), data-subject requests
// (subject_pages.cc), unsubscribe requests (unsubscribe_pages.cc), NHS Notify routing plans
// (plan_pages.cc), contacts and the guest list (settings_pages.cc) and callbacks
// (callback_pages.cc).
void register_service_pages(Router& router, const Dependencies& deps);
void register_job_pages(Router& router, const Dependencies& deps);
void register_dashboard_pages(Router& router, const Dependencies& deps);
void register_audit_pages(Router& router, const Dependencies& deps);
void register_subject_pages(Router& router, const Dependencies& deps);
void register_unsubscribe_pages(Router& router, const Dependencies& deps);
void register_plan_pages(Router& router, const Dependencies& deps);
void register_settings_pages(Router& router, const Dependencies& deps);
void register_callback_pages(Router& router, const Dependencies& deps);

}  // namespace herald::api::admin
