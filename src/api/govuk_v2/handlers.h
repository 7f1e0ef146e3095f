#pragma once
// The GOV.UK Notify v2 API routes. Each handler is thin: authenticate, parse, call the domain,
// map the result (docs/architecture.md, "Conventions": thin handlers).

#include <string>

#include "api/govuk_v2/auth.h"
#include "api/govuk_v2/responses.h"
#include "api/router.h"
#include "core/time.h"
#include "domain/authenticator.h"
#include "domain/letters/letters.h"
#include "domain/notifications.h"
#include "domain/received_texts.h"
#include "domain/templates.h"

namespace herald::api::govuk_v2 {

struct Dependencies {
  domain::Authenticator& authenticator;
  domain::Notifications& notifications;
  domain::Templates& templates;
  domain::ReceivedTexts& received_texts;
  domain::Letters& letters;
  const Clock& clock;
  // When set (e.g. "https://notify.example.org/"), absolute URLs use it instead of the Host
  // header the client sent.
  std::string public_root;
  // For cost_in_pounds: what the service pays its SMS provider and its print supplier.
  Prices prices;
  // Told of every refused and every accepted authentication (the audit log, the intrusion
  // detector); either may be empty.
  AuthHooks auth_hooks;
};

void register_routes(Router& router, const Dependencies& deps);

}  // namespace herald::api::govuk_v2
