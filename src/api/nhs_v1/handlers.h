#pragma once
// NHS Notify's API (`comms/v1`, spec: docs of issue 18) and its token endpoint. Each handler is
// thin: negotiate, authenticate, parse, call the domain, map the result.
//
// Every response under the prefix carries X-Correlation-Id (the client's, or the request id
// when it sent none), Cache-Control no-store and nosniff; errors are JSON:API (errors.h).

#include <functional>
#include <string>
#include <string_view>

#include "api/router.h"
#include "domain/nhs/clients.h"
#include "domain/nhs/messages.h"
#include "domain/nhs/token_issuer.h"

namespace herald::api::nhs_v1 {

struct Dependencies {
  domain::nhs::TokenIssuer& tokens;
  domain::nhs::NhsClients& clients;
  domain::nhs::NhsMessages& messages;
  domain::nhs::NhsRateLimits& rate_limits;
  const Clock& clock;
  std::string prefix = "/comms";  // where the API's paths start ("" for none)
  std::string token_path = "/oauth2/token";
  // The audience assertions must name; empty: "https://<Host>/oauth2/token" as the client called it.
  std::string token_url;
  // When set ("https://notify.example.org/"), links use it instead of the Host header.
  std::string public_root;
  // Told of every refused token request and refused bearer token (reason, source address), for
  // the audit log (SC-31); never the assertion or the token. May be empty.
  std::function<void(std::string_view reason, std::string_view source)> on_auth_failure;
  // Told of every request a client's token admitted (the intrusion detector); may be empty.
  std::function<void(const store::NhsClientRecord& client, std::string_view source)> on_authenticated;
};

void register_routes(Router& router, const Dependencies& deps);

// Shared with the sandbox (sandbox.h). Accept: absent, or a list in which some range the API can
// answer (406 otherwise); a JSON Content-Type (415 otherwise); the API's root URL for links
// ("https://host/comms": public_root, else the Host header).
bool acceptable(const net::Request& request);
bool json_body(const net::Request& request);
std::string api_root(const std::string& public_root, const std::string& prefix, const net::Request& request);
// A GP practice ODS code as NHS accepts it on the NHS App accounts report: A12345, A1B2C, X26.
bool valid_practice_code(std::string_view code);

}  // namespace herald::api::nhs_v1
