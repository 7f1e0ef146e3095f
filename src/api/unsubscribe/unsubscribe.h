#pragma once
// The hosted unsubscribe link of emails whose template asks for one (domain/unsubscribe.h), on
// the API's own HTTPS listener, as GOV.UK Notify serves it:
//   GET  /unsubscribe/{notification_id}/{token}  "Are you sure you want to unsubscribe?" and a
//                                                Confirm button (a GET never unsubscribes: mail
//                                                scanners follow links)
//   POST /unsubscribe/{notification_id}/{token}  records the request: a mail client's RFC 8058
//                                                one-click POST ("List-Unsubscribe=One-Click")
//                                                gets JSON, a person's form the confirmation page
// A link that is not Herald's, too old, or for no email answers 404 with GOV.UK's words. No
// authentication: the token is the credential. Pages carry no personal data and are no-store.

#include "api/router.h"
#include "core/time.h"
#include "domain/unsubscribe.h"

namespace herald::api::unsubscribe {

struct Dependencies {
  domain::Unsubscribes& unsubscribes;
  const Clock& clock;
};

void register_routes(Router& router, const Dependencies& deps);

}  // namespace herald::api::unsubscribe
