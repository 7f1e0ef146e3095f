#pragma once
// The operations listener's routes (herald serve's [metrics] listener, loopback by default, on
// every role): /health/live, /health/ready and /metrics, for a load balancer, an orchestrator and
// Prometheus. They read nothing themselves: the wiring hands them the checks and the figures.
//
// GET /health/live: 200 {"status":"live"} while the process answers at all.
// GET /health/ready: 200 {"status":"ready","checks":[...]} when every check passes, else 503
//   {"status":"not ready","checks":[{"name","status":"pass"|"fail","detail"}]}.
// GET /metrics: Prometheus' text exposition format 0.0.4.
// GET /version: 200 {"version","commit","binary_sha256"}: which build this process runs, by the
//   SHA-256 of its own executable (a staging acceptance run records it; docs/releases.md).
// Anything else: 404 (405 for another method) as {"error": "..."}.

#include <functional>
#include <string>
#include <vector>

#include "api/router.h"
#include "core/json.h"
#include "net/http.h"

namespace herald::api::ops {

struct HealthCheck {
  std::string name;
  bool passed = false;
  std::string detail;  // what was found, for the operator (never personal data or secrets)
};

struct OpsDependencies {
  std::function<std::vector<HealthCheck>()> ready;  // run for each /health/ready (on the router's pool)
  std::function<std::string()> metrics;             // the exposition text, for each /metrics
  std::function<json::Value()> version;             // /version's body
};

void register_routes(Router& router, OpsDependencies dependencies);
RouterErrors router_errors();
// The listener's own refusals (malformed, too large, too slow) in the same form.
net::Response protocol_error(int status);

}  // namespace herald::api::ops
