#pragma once
// herald serve's intrusion detection and prevention (security/intrusion.h) put together: the
// detector with the configured thresholds, its events written to the audit log
// ("security.<detector>"), syslog (LOG_AUTHPRIV) and the optional signed SIEM webhook; the
// refusal a blocked source gets, in the format of the API it called; and the egress allow-list.

#include <memory>
#include <optional>
#include <string>

#include "api/admin/handlers.h"
#include "api/router.h"
#include "cli/config.h"
#include "cli/context.h"
#include "net/http.h"
#include "security/intrusion.h"

namespace herald::cli {

// The detector serve wires into its routers (nullptr when security.intrusion_detection is off).
// `node` names this process in the webhook's events.
std::unique_ptr<security::IntrusionDetector> make_intrusion_detector(Context& context, const Config& config,
                                                                     const Clock& clock, std::string node);

// A blocked source's refusal (429, Retry-After until the block ends): NHS Notify's CM_QUOTA under
// its prefix and /oauth2, GOV.UK's TooManyRequestsError elsewhere.
net::Response blocked_response(const net::Request& request, const std::string& nhs_prefix, Timestamp now,
                               Timestamp until);

// The API listener's router: blocked sources refused before routing (blocked_response), every
// response shown to the enumeration detector. The admin UI's: blocked sources get its 429 page.
// Nothing when `detector` is null.
void guard_api_router(api::Router& router, security::IntrusionDetector* detector, const Clock& clock,
                      std::string nhs_prefix);
void guard_admin_router(api::Router& router, security::IntrusionDetector* detector);
// An admin UI audit event, as the detectors see it: a refused sign-in step counts as an
// authentication failure (per address and per user), a completed sign-in is the user's use (new
// network, unusual hours). Nothing when `detector` is null.
void note_admin_event(security::IntrusionDetector* detector, const api::admin::Event& event);

// The security event as the webhook sends it: a JSON object (detector, subject, source, detail,
// blocked_until, at, node), and the X-Herald-Signature value for it (sha256=<hex HMAC-SHA256 of
// the body with `secret`).
std::string security_event_json(const security::SecurityEvent& event, Timestamp at, const std::string& node);
std::string webhook_signature(const std::string& body, const std::string& secret);

// `herald security events [--since T]`: the security events in the audit log, as JSON Lines.
int run_security_events(const std::string& config_path, const std::string& since);
// `herald security blocks`: the running blocks, one per line (source, until, strikes, reason).
int run_security_blocks(const std::string& config_path);
// `herald security unblock --source ADDRESS`: ends a block everywhere (audited).
int run_security_unblock(const std::string& config_path, const std::string& source);

}  // namespace herald::cli
