#pragma once
// The download pages of files sent by email (GOV.UK's document-download frontend), on the API's
// own HTTPS listener:
//   GET  /d/{service_id}/{document_id}?key=...           landing page (or the confirm form)
//   POST /d/{service_id}/{document_id}?key=...           email_address=... : the file, or the form
//                                                        again with an error
//   GET  /d/{service_id}/{document_id}/download?key=...  the file, when no confirmation is needed
// Unknown, expired and wrong-key links all get the same 404 page (no oracle). Pages carry no
// personal data; every response is no-store, no-referrer and nosniff. The key travels in the
// query string, which Herald never logs.

#include "api/router.h"
#include "core/time.h"
#include "domain/documents.h"
#include "domain/lookup_cache.h"

namespace herald::api::documents {

struct Dependencies {
  domain::Documents& documents;
  domain::LookupCache& lookups;  // the service's name for the page
  const Clock& clock;
};

void register_routes(Router& router, const Dependencies& deps);

}  // namespace herald::api::documents
