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

// Told of every refused request: (reason, source address). For the audit log, which counts
// them per reason and source rather than writing one entry each (SC-31).
using AuthFailureHook = std::function<void(std::string_view reason, std::string_view source)>;

// A Caller, or the error response to send; ErrorCode::kWouldBlock (only) when the
// authenticator needs the store and `blocking` forbids it.
Result<std::variant<domain::Caller, net::Response>> authenticate(
    const net::Request& request, domain::Authenticator& authenticator, Timestamp now,
    Blocking blocking = Blocking::kAllowed, const AuthFailureHook* on_failure = nullptr);

}  // namespace herald::api::govuk_v2
