#include "api/router.h"

#include <exception>

#include "api/errors.h"
#include "core/log.h"

namespace herald::api {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           PathParams& params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, RouteHandler handler) {
  routes_.push_back(Route{std::move(method), split_path(pattern), std::move(handler)});
}

net::Response Router::dispatch(const net::Request& request) const {
  const auto segments = split_path(request.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    PathParams params;
    if (!match(route.segments, segments, params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    try {
      return route.handler(request, params);
    } catch (const std::exception& e) {
      // Handlers return errors as values; an exception here is a bug. Never echo it.
      log::error("api.handler_exception", {{"path", request.path}, {"what", e.what()}});
      return error_response(500, "InternalServerError", "Internal server error");
    }
  }
  if (path_known) return error_response(405, "MethodNotAllowed", "The method is not allowed for the requested URL.");
  return error_response(404, "NotFound", "The requested URL was not found on the server.");
}

void Router::handle(net::Request&& request, net::Responder respond) {
  auto shared = std::make_shared<net::Request>(std::move(request));
  pool_->post([this, shared, respond = std::move(respond)] { respond(dispatch(*shared)); });
}

}  // namespace herald::api
