#include "api/govuk_v2/auth.h"

#include "api/govuk_v2/errors.h"
#include "core/hex.h"
#include "core/log.h"
#include "crypto/hmac.h"
#include "crypto/jwt.h"

namespace herald::api::govuk_v2 {
namespace {

constexpr const char* kGeneralTokenError =
    "Invalid token: make sure your API token matches the example at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header";

const char* message_for(domain::AuthFailure failure) {
  using F = domain::AuthFailure;
  switch (failure) {
    case F::kInvalidToken: return kGeneralTokenError;
    case F::kMissingIssuer: return "Invalid token: iss field not provided";
    case F::kIssuerNotUuid: return "Invalid token: service id is not the right data type";
    case F::kServiceNotFound: return "Invalid token: service not found";
    case F::kServiceHasNoKeys: return "Invalid token: service has no API keys";
    case F::kServiceArchived: return "Invalid token: service is archived";
    case F::kClockSkew: return "Error: Your system clock must be accurate to within 30 seconds";
    case F::kAlgorithmNotHs256: return "Invalid token: algorithm used is not HS256";
    case F::kKeyRevoked: return "Invalid token: API key revoked";
    case F::kKeyNotFound: return "Invalid token: API key not found";
    case F::kGeneric: return kGeneralTokenError;
    case F::kNetworkNotAllowed: return "Invalid token: API key cannot be used from this network";
  }
  return kGeneralTokenError;
}

const char* failure_name(domain::AuthFailure failure) {
  using F = domain::AuthFailure;
  switch (failure) {
    case F::kInvalidToken: return "invalid_token";
    case F::kMissingIssuer: return "missing_iss";
    case F::kIssuerNotUuid: return "bad_iss";
    case F::kServiceNotFound: return "service_not_found";
    case F::kServiceHasNoKeys: return "no_keys";
    case F::kServiceArchived: return "service_archived";
    case F::kClockSkew: return "clock_skew";
    case F::kAlgorithmNotHs256: return "bad_algorithm";
    case F::kKeyRevoked: return "key_revoked";
    case F::kKeyNotFound: return "key_not_found";
    case F::kGeneric: return "invalid_token";
    case F::kNetworkNotAllowed: return "network_not_allowed";
  }
  return "invalid_token";
}

// Python's str.title() of the first seven characters must be "Bearer ".
bool has_bearer_scheme(std::string_view header) {
  if (header.size() < 7) return false;
  return net::iequals(header.substr(0, 6), "bearer") && header[6] == ' ';
}

// "service:<iss>" when the token decodes and its iss is a UUID (which service was guessed at),
// else empty. Read without verifying: it only names what the request claimed.
std::string claimed_service(std::string_view token) {
  auto decoded = crypto::decode_jwt(token);
  if (!decoded) return {};
  const json::Value* iss = decoded->claims.find("iss");
  if (iss == nullptr || !iss->is_string()) return {};
  auto service = ServiceId::parse(iss->as_string());
  return service ? "service:" + service->to_string() : std::string();
}

}  // namespace

Result<std::variant<domain::Caller, net::Response>> authenticate(const net::Request& request,
                                                                 domain::Authenticator& authenticator, Timestamp now,
                                                                 Blocking blocking, const AuthHooks* hooks) {
  using Outcome = std::variant<domain::Caller, net::Response>;
  std::string_view token;
  auto refuse = [&](std::string_view reason, ErrorCode code, std::string message) {
    if (hooks != nullptr && hooks->refused) hooks->refused(reason, request.remote_address, claimed_service(token));
    return Outcome(error_response(Error{code, std::move(message)}));  // 401 or 403 AuthError
  };
  const auto header = request.header("Authorization");
  if (!header || header->empty()) {
    return refuse("no_token", ErrorCode::kUnauthenticated, "Unauthorized: authentication token must be provided");
  }
  if (!has_bearer_scheme(*header)) {
    return refuse("not_bearer", ErrorCode::kUnauthenticated, "Unauthorized: authentication bearer scheme must be used");
  }
  token = header->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto outcome = authenticator.authenticate(token, now, blocking, request.remote_address);
  if (!outcome && outcome.error().code == ErrorCode::kWouldBlock) return outcome.error();
  if (!outcome) return Outcome(error_response(outcome.error()));
  if (auto* failure = std::get_if<domain::AuthFailure>(&*outcome)) {
    // Logged without the token (SC-32); the intrusion detector will count these.
    log::info("auth.refused", {{"reason", failure_name(*failure)}, {"remote", request.remote_address}});
    return refuse(failure_name(*failure), ErrorCode::kPermissionDenied, message_for(*failure));
  }
  const auto& caller = std::get<domain::Caller>(*outcome);
  if (hooks != nullptr && hooks->admitted) {
    hooks->admitted(caller, hex_encode(crypto::sha256(token)).substr(0, 32), request.remote_address);
  }
  return Outcome(caller);
}

}  // namespace herald::api::govuk_v2
