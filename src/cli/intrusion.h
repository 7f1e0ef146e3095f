#pragma once
// herald serve's intrusion detection and prevention (security/intrusion.h) put together: the
// detector with the configured thresholds, its events written to the audit log
// ("security.<detector>"), syslog (LOG_AUTHPRIV) and the optional signed SIEM webhook; the
// refusal a blocked source gets, in the format of the API it called; and the egress allow-list.

#include <memory>
#include <optional>
#include <string>

#include "cli/config.h"
#include "cli/context.h"
#include "net/http.h"
#include "security/intrusion.h"

namespace herald::cli {

// The detector serve wires into its routers (nullptr when security.intrusion_detection is off).
std::unique_ptr<security::IntrusionDetector> make_intrusion_detector(Context& context, const Config& config,
                                                                     const Clock& clock);

// A blocked source's refusal (429, Retry-After until the block ends): NHS Notify's CM_QUOTA under
// its prefix and /oauth2, GOV.UK's TooManyRequestsError elsewhere.
net::Response blocked_response(const net::Request& request, const std::string& nhs_prefix, Timestamp now,
                               Timestamp until);

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
