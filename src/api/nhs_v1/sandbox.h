#pragma once
// NHS Notify's public sandbox as Herald's sandbox mode (`[nhs] sandbox = true`, spec §8.1), for
// integrators who build against the sandbox: stateless, open (no token), fixed data, and the
// triggers NHS's sandbox has, in the order its gateway checks them:
//   1. Prefer: code=408, 504, 503, 500, 401 (or Authorization "Bearer InvalidMockToken"), 403 (or
//      "Bearer ClientNotRecognised"), 403.1, 425, 422_batch, 422_message: that error, on any
//      path and method;
//   2. content negotiation (406, then 415 for bodies); 3. Prefer: code=429;
//   4. the routes (404/405; CORS preflights), the sandbox's own paths (/_timeout?sleep=ms,
//      /_timeout_504, /_timeout_408, /_invalid_certificate);
//   5. the live API's request validation (400/413), then Authorization "banned" (403),
//      "noDefaultOds", "noOdsChange", "notAllowedContactDetailOverride" (400s) and the special
//      routing plans (404, 400, 425, 500s).
// A valid request gets 201 with new ids and nothing is stored; GET knows only NHS's fixed
// message ids (one per status and failure reason), and the NHS App accounts report answers
// for the sandbox's ODS codes. Facts from NHSDigital/communications-manager-api (sandbox/ and
// its tests); no code of it.

#include <string>

#include "api/router.h"
#include "core/time.h"

namespace herald::api::nhs_v1 {

struct SandboxDependencies {
  const Clock& clock;
  std::string prefix = "/comms";
  std::string public_root;  // as Dependencies::public_root
  // /_timeout waits at most this long before answering 504 (NHS's sandbox gateway: 10 s).
  std::chrono::milliseconds gateway_timeout{10'000};
};

void register_sandbox_routes(Router& router, const SandboxDependencies& deps);

}  // namespace herald::api::nhs_v1
