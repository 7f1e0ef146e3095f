#include "api/ops/routes.h"

#include "api/ops/openapi.h"

#include "core/json.h"

namespace herald::api::ops {
namespace {

net::Response json_response(int status, const json::Value& body) {
  net::Response response;
  response.status = status;
  response.body = json::serialize(body);
  return response;
}

net::Response error(int status, const char* message) {
  return json_response(status, json::Value::object({{"error", json::Value::string(message)}}));
}

net::Response not_found() { return error(404, "Not found"); }
net::Response wrong_method() { return error(405, "Method not allowed"); }
net::Response internal_error() { return error(500, "Internal error"); }

}  // namespace

void register_routes(Router& router, OpsDependencies dependencies) {
  router.add("GET", "/health/live", [](const net::Request&, const PathParams&) {
    return json_response(200, json::Value::object({{"status", json::Value::string("live")}}));
  });
  router.add("GET", "/health/ready", [ready = dependencies.ready](const net::Request&, const PathParams&) {
    const std::vector<HealthCheck> checks = ready();
    bool all = true;
    json::Array listed;
    for (const HealthCheck& check : checks) {
      all = all && check.passed;
      listed.push_back(json::Value::object({{"name", json::Value::string(check.name)},
                                            {"status", json::Value::string(check.passed ? "pass" : "fail")},
                                            {"detail", json::Value::string(check.detail)}}));
    }
    return json_response(all ? 200 : 503,
                         json::Value::object({{"status", json::Value::string(all ? "ready" : "not ready")},
                                              {"checks", json::Value::array(std::move(listed))}}));
  });
  router.add("GET", "/version", [version = dependencies.version](const net::Request&, const PathParams&) {
    return json_response(200, version());
  });
  router.add("GET", "/metrics", [metrics = dependencies.metrics](const net::Request&, const PathParams&) {
    net::Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics();
    return response;
  });
}

RouterErrors router_errors() { return {&not_found, &wrong_method, &internal_error}; }

net::Response protocol_error(int status) {
  return error(status, status == 413 ? "Request too large" : status == 408 ? "Request timeout" : "Bad request");
}

void register_openapi_routes(Router& router) {
  for (const auto& [name, text] : openapi_documents()) {
    router.add("GET", "/openapi/" + std::string(name), [text = text](const net::Request&, const PathParams&) {
      net::Response response;
      response.content_type = "application/yaml";
      response.body = std::string(text);
      return response;
    });
  }
}

}  // namespace herald::api::ops
