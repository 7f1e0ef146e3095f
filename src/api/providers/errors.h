#pragma once
// The SMS provider endpoints' refusals and their statuses (docs/architecture.md, "Conventions":
// errors). GOV.UK's own receipt endpoints answer a credentials problem or missing fields in
// their own small JSON ({"result": "error", ...}) and everything else in GOV.UK's v2 envelope,
// which these take from api/govuk_v2/errors.h.

#include <string>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace herald::api::providers {

net::Response unauthorised();  // 401 {"result":"error","message":"Unauthorized"}, with a Basic challenge
net::Response forbidden();     // 403 {"result":"error","message":"Forbidden"}
// 400 {"result":"error","message":[...]}, e.g. ["Firetext callback failed: status missing"]
net::Response missing_fields(const std::vector<std::string>& messages);

// In GOV.UK's v2 envelope:
net::Response no_such_provider();                  // 404 NotFound: no credentials configured for it
net::Response bad_callback(std::string message);   // 400 BadRequestError
net::Response error_response(const Error& error);  // as GOV.UK's API maps it

// The NHS App's receipts endpoint answers as the NHS App's own FHIR API does: a FHIR
// OperationOutcome ({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code",
// "diagnostics"}]}), application/fhir+json.
net::Response nhs_app_receipt_recorded();                    // 202, empty
net::Response nhs_app_not_configured();                      // 404 not-found
net::Response nhs_app_unauthorised();                        // 401 security
net::Response nhs_app_bad_receipt(std::string diagnostics);  // 400 invalid
net::Response nhs_app_failed();                              // 500 exception (the NHS App retries)

}  // namespace herald::api::providers
