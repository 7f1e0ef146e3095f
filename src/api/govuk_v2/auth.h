#pragma once
// GOV.UK Notify v2 authentication at the HTTP edge: the Authorization header checks (401) and
// the exact AuthError messages for each refusal (GOV.UK's app/authentication/auth.py).

#include <variant>

#include "core/blocking.h"
#include "core/result.h"
#include "core/time.h"
#include <functional>
#include <string_view>

#include "domain/authenticator.h"
#include "net/http.h"

namespace herald::api::govuk_v2 {

// Told of every refused request: (reason, source address, the credential it claimed:
// "service:<iss>" when the token names a service, else empty). For the audit log, which counts
// them per reason and source rather than writing one entry each (SC-31), and the intrusion
// detector.
using AuthFailureHook = std::function<void(std::string_view reason, std::string_view source, std::string_view subject)>;
// Told of every request that authenticated: the caller, a fingerprint of its token (SHA-256,
// 32 hex digits; never the token) and the source address. For the intrusion detector.
using AuthSuccessHook =
    std::function<void(const domain::Caller& caller, std::string_view token_fingerprint, std::string_view source)>;
struct AuthHooks {
  AuthFailureHook refused;   // may be empty
  AuthSuccessHook admitted;  // may be empty
};

// A Caller, or the error response to send; ErrorCode::kWouldBlock (only) when the
// authenticator needs the store and `blocking` forbids it.
Result<std::variant<domain::Caller, net::Response>> authenticate(const net::Request& request,
                                                                 domain::Authenticator& authenticator, Timestamp now,
                                                                 Blocking blocking = Blocking::kAllowed,
                                                                 const AuthHooks* hooks = nullptr);

}  // namespace herald::api::govuk_v2
