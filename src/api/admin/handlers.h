#pragma once
// The admin web UI's routes, on a listener of their own (cli/serve.cc: [admin], loopback unless
// configured). Thin: each reads the form, asks domain::users::Users (and the service directory),
// and renders a page. What every response carries (SC-38): a CSP with no inline script or style,
// frame-ancestors none, no referrer beyond its own origin; the server adds HSTS, nosniff and no-store. Sessions ride in
// a __Host- cookie (Secure, HttpOnly, SameSite=Strict); every POST must come from the UI's own
// origin, and every form carries a CSRF token bound to the session (or, before sign-in, to a
// form cookie or the enrolment link).

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "api/router.h"
#include "domain/jobs.h"
#include "domain/nhs/routing_plans.h"
#include "domain/notifications.h"
#include "domain/subjects.h"
#include "domain/unsubscribe.h"
#include "domain/users/users.h"
#include "net/address_policy.h"
#include "store/store.h"

namespace herald::api::admin {

// An action or refusal for the audit log (cli/serve.cc records it).
struct Event {
  std::string actor;   // "admin-user:<id>", or "anonymous"
  std::string action;  // "admin.sign_in", "admin.second_factor", "admin.enrolled", ...
  std::vector<std::pair<std::string, std::string>> objects;
  std::string outcome = "success";  // or "failure: <reason>"
  std::string source;               // the browser's address
};

struct Dependencies {
  domain::users::Users& users;
  store::ServiceDirectory& services;
  store::NotificationStore& notifications;  // read only: finding a service's notifications
  store::AuditStore& audit;                 // read only: the audit log's pages
  domain::Notifications& sender;            // sending a template to one person
  domain::Jobs& jobs;                       // sending a template to a list (a CSV file)
  domain::Subjects& subjects;               // data-subject requests: find, export, erase
  domain::Unsubscribes& unsubscribes;       // hosted unsubscribe: the requests and their reports
  domain::nhs::RoutingPlans& plans;         // NHS Notify routing plans of the service's clients
  store::NhsClientStore& nhs_clients;       // read only: which NHS Notify clients a service has
  store::NhsCallbackStore& nhs_callbacks;   // the receivers of those clients' callbacks, dead ones
  store::CallbackQueue& callbacks;          // the service callbacks given up on, sent again
  const Clock& clock;
  // Where browsers reach the UI, ending in '/' (its origin is the only one whose forms are
  // taken); empty: the origin of the request's own Host.
  std::string public_url;
  std::function<void(Event)> record;
  // Where the service callbacks saved here may lead (callbacks.allow_private_addresses).
  net::AddressPolicy callback_policy = net::AddressPolicy::kPublicOnly;
};

void register_routes(Router& router, const Dependencies& deps);
// 404/405/500 as pages.
RouterErrors router_errors();
// What the listener answers for requests it refused before routing (too large, malformed, slow).
net::Response protocol_error(int status);

}  // namespace herald::api::admin
