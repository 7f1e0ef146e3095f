#include "api/providers/errors.h"

#include "api/govuk_v2/errors.h"
#include "core/json.h"

namespace herald::api::providers {

net::Response unauthorised() {
  return net::Response{401,
                       "application/json",
                       R"({"result":"error","message":"Unauthorized"})",
                       {{"WWW-Authenticate", "Basic realm=\"herald\""}}};
}

net::Response forbidden() {
  return net::Response{403, "application/json", R"({"result":"error","message":"Forbidden"})", {}};
}

net::Response missing_fields(const std::vector<std::string>& messages) {
  json::Writer w;
  w.begin_object().key("result").string("error").key("message").begin_array();
  for (const auto& m : messages) w.string(m);
  w.end_array().end_object();
  return net::Response{400, "application/json", w.take(), {}};
}

net::Response no_such_provider() { return govuk_v2::unknown_url(); }

net::Response bad_callback(std::string message) { return govuk_v2::bad_request(std::move(message)); }

net::Response error_response(const Error& error) { return govuk_v2::error_response(error); }

namespace {

net::Response fhir_outcome(int status, std::string_view code, std::string_view diagnostics) {
  json::Writer w;
  w.begin_object().key("resourceType").string("OperationOutcome").key("issue").begin_array().begin_object();
  w.key("severity").string("error").key("code").string(code).key("diagnostics").string(diagnostics);
  w.end_object().end_array().end_object();
  return net::Response{status, "application/fhir+json", w.take(), {}};
}

}  // namespace

net::Response nhs_app_receipt_recorded() { return net::Response{202, "application/fhir+json", "", {}}; }
net::Response nhs_app_not_configured() { return fhir_outcome(404, "not-found", "Not configured"); }
net::Response nhs_app_unauthorised() { return fhir_outcome(401, "security", "Unauthorised"); }
net::Response nhs_app_bad_receipt(std::string diagnostics) { return fhir_outcome(400, "invalid", diagnostics); }
net::Response nhs_app_failed() { return fhir_outcome(500, "exception", "Internal error"); }

}  // namespace herald::api::providers
