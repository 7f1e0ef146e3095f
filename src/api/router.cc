#include "api/router.h"

#include <exception>
#include <future>

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
  routes_.push_back(Route{std::move(method), split_path(pattern), std::move(handler), nullptr});
}

void Router::add_async(std::string method, std::string pattern, AsyncRouteHandler handler) {
  routes_.push_back(Route{std::move(method), split_path(pattern), nullptr, std::move(handler)});
}

std::variant<std::pair<const Router::Route*, PathParams>, net::Response> Router::find(
    const net::Request& request) const {
  const auto segments = split_path(request.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    PathParams params;
    if (!match(route.segments, segments, params)) continue;
    path_known = true;
    if (route.method == request.method) return std::make_pair(&route, std::move(params));
  }
  if (path_known) return error_response(405, "MethodNotAllowed", "The method is not allowed for the requested URL.");
  return error_response(404, "NotFound", "The requested URL was not found on the server.");
}

namespace {

// Handlers return errors as values; an exception here is a bug. Never echo it.
template <typename F>
net::Response guarded(const net::Request& request, F&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    log::error("api.handler_exception", {{"path", request.path}, {"what", e.what()}});
    return error_response(500, "InternalServerError", "Internal server error");
  }
}

}  // namespace

net::Response Router::dispatch(const net::Request& request) const {
  auto found = find(request);
  if (auto* response = std::get_if<net::Response>(&found)) return std::move(*response);
  const auto& [route, params] = std::get<0>(found);
  if (route->handler) return guarded(request, [&] { return route->handler(request, params); });
  std::promise<std::function<net::Response()>> made;
  auto future = made.get_future();
  route->async_handler(request, params, [&made](std::function<net::Response()> make) { made.set_value(std::move(make)); });
  auto make = future.get();
  return guarded(request, make);
}

void Router::handle(net::Request&& request, net::Responder respond) {
  auto shared = std::make_shared<net::Request>(std::move(request));
  pool_->post([this, shared, respond = std::move(respond)]() mutable {
    auto found = find(*shared);
    if (auto* response = std::get_if<net::Response>(&found)) return respond(std::move(*response));
    const auto& [route, params] = std::get<0>(found);
    if (route->handler) return respond(guarded(*shared, [&] { return route->handler(*shared, params); }));
    ThreadPool* pool = pool_.get();
    Reply reply = [pool, shared, respond](std::function<net::Response()> make) {
      pool->post([shared, respond, make = std::move(make)] { respond(guarded(*shared, make)); });
    };
    route->async_handler(*shared, params, std::move(reply));
  });
}

}  // namespace herald::api
