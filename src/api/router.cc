#include "api/router.h"

#include <chrono>
#include <exception>
#include <future>

#include "core/log.h"
#include "core/metrics.h"

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
  auto segments = split_path(pattern);
  routes_.push_back(Route{std::move(method), std::move(segments), std::move(pattern), std::move(handler), nullptr});
}

void Router::add_async(std::string method, std::string pattern, AsyncRouteHandler handler) {
  auto segments = split_path(pattern);
  routes_.push_back(Route{std::move(method), std::move(segments), std::move(pattern), nullptr, std::move(handler)});
}

void Router::name_api(std::string prefix, std::string api) {
  if (prefix.empty()) {
    default_api_ = std::move(api);
  } else {
    api_prefixes_.emplace_back(std::move(prefix), std::move(api));
  }
}

void Router::add_prefix_errors(std::string prefix, PrefixErrors errors) {
  prefix_errors_.emplace_back(std::move(prefix), std::move(errors));
}

void Router::add_prefix_handler(std::string prefix, RouteHandler handler) {
  std::string pattern = prefix + "/*";
  prefix_handlers_.emplace_back(std::move(prefix), Route{"*", {}, std::move(pattern), std::move(handler), nullptr});
}

namespace {
bool under(std::string_view path, std::string_view prefix) {
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}
}  // namespace

const std::string& Router::api_of(std::string_view path) const {
  const std::string* best = &default_api_;
  std::size_t longest = 0;
  for (const auto& [prefix, api] : api_prefixes_) {
    if (prefix.size() > longest && under(path, prefix)) {
      best = &api;
      longest = prefix.size();
    }
  }
  return *best;
}

net::Responder Router::observed(net::Responder respond, const std::string& api, const std::string& route,
                                std::string source) const {
  static auto& requests = metrics::registry().counter("herald_http_requests_total",
                                                      "HTTP requests answered, by API, route pattern and status.",
                                                      {"api", "route", "status"});
  static auto& latency = metrics::registry().histogram(
      "herald_http_request_duration_seconds",
      "Time from a request's arrival at the router to its response being made, by API and route pattern.",
      {"api", "route"}, metrics::latency_buckets());
  const auto started = std::chrono::steady_clock::now();
  const ResponseObserver* observer = observer_ ? &observer_ : nullptr;
  return net::Responder([respond = std::move(respond), started, &api, &route, observer,
                         source = std::move(source)](net::ResponseMaker make) {
    respond.later([make = std::move(make), started, &api, &route, observer, source] {
      net::Response response = make();
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      latency.with({api, route}).observe(took.count());
      requests.with({api, route, std::to_string(response.status)}).inc();
      if (observer != nullptr) (*observer)(route, response.status, source);
      return response;
    });
  });
}

const PrefixErrors* Router::prefix_errors(std::string_view path) const {
  for (const auto& [prefix, errors] : prefix_errors_) {
    if (under(path, prefix)) return &errors;
  }
  return nullptr;
}

std::variant<std::pair<const Router::Route*, PathParams>, net::Response> Router::find(
    const net::Request& request) const {
  for (const auto& [prefix, route] : prefix_handlers_) {
    if (under(request.path, prefix)) return std::make_pair(&route, PathParams{});
  }
  const auto segments = split_path(request.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    PathParams params;
    if (!match(route.segments, segments, params)) continue;
    path_known = true;
    if (route.method == request.method) return std::make_pair(&route, std::move(params));
  }
  if (const PrefixErrors* own = prefix_errors(request.path)) {
    return path_known ? own->wrong_method(request) : own->unknown_path(request);
  }
  return path_known ? errors_.wrong_method() : errors_.unknown_path();
}

namespace {

using InternalError = net::Response (*)();

// Handlers return errors as values; an exception here is a bug. Never echo it.
template <typename F>
net::Response guarded(std::string_view path, InternalError internal_error, F&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    log::error("api.handler_exception", {{"path", path}, {"what", e.what()}});
    return internal_error();
  }
}

// Runs an asynchronous handler; when it throws (a bug) or would block where it may, replies
// with `internal_error`. Returns whether the request was dealt with.
bool run_async(const AsyncRouteHandler& handler, const net::Request& request, const PathParams& params,
               const Reply& reply, Blocking blocking, Progress& progress, InternalError internal_error) {
  try {
    if (handler(request, params, reply, blocking, progress)) return true;
    if (blocking == Blocking::kNotAllowed) return false;
    log::error("api.handler_would_block", {{"path", request.path}});
  } catch (const std::exception& e) {
    log::error("api.handler_exception", {{"path", request.path}, {"what", e.what()}});
  }
  reply(internal_error);
  return true;
}

}  // namespace

net::Response Router::dispatch(const net::Request& request) const {
  auto found = find(request);
  if (auto* response = std::get_if<net::Response>(&found)) return std::move(*response);
  // Named, not a structured binding: clang-tidy 14 (lint.clang_tidy) cannot capture bindings.
  const auto& hit = std::get<0>(found);
  const Route* route = hit.first;
  const PathParams& params = hit.second;
  const InternalError internal_error = errors_.internal_error;
  if (route->handler) return guarded(request.path, internal_error, [&] { return route->handler(request, params); });
  std::promise<net::ResponseMaker> made;
  auto future = made.get_future();
  Progress progress;
  run_async(
      route->async_handler, request, params, [&made](net::ResponseMaker make) { made.set_value(std::move(make)); },
      Blocking::kAllowed, progress, internal_error);
  return guarded(request.path, internal_error, future.get());
}

void Router::handle(net::Request&& request, net::Responder raw_respond) {
  static const std::string kUnmatched = "unmatched";
  static const std::string kRefused = "refused";
  static const std::string kNoSource;
  const std::string& api = api_of(request.path);
  // The source goes with the response only when someone is told of it.
  const std::string& source = observer_ ? request.remote_address : kNoSource;
  if (gate_) {
    if (auto refused = gate_(request)) {
      return observed(std::move(raw_respond), api, kRefused, source)(std::move(*refused));
    }
  }
  auto found = find(request);
  if (auto* response = std::get_if<net::Response>(&found)) {
    return observed(std::move(raw_respond), api, kUnmatched, source)(std::move(*response));
  }
  // Named, not a structured binding: clang-tidy 14 (lint.clang_tidy) cannot capture bindings.
  const auto& hit = std::get<0>(found);
  const Route* route = hit.first;
  net::Responder respond = observed(std::move(raw_respond), api, route->pattern, source);
  const PathParams& params = hit.second;
  const InternalError internal_error = errors_.internal_error;
  if (route->handler) {
    auto shared = std::make_shared<net::Request>(std::move(request));
    pool_->post([shared, route, params, internal_error, respond = std::move(respond)]() mutable {
      respond(guarded(shared->path, internal_error, [&] { return route->handler(*shared, params); }));
    });
    return;
  }
  Reply reply = [respond, internal_error, path = request.path](net::ResponseMaker make) {
    respond.later([path, internal_error, make = std::move(make)] { return guarded(path, internal_error, make); });
  };
  auto progress = std::make_shared<Progress>();
  if (run_async(route->async_handler, request, params, reply, Blocking::kNotAllowed, *progress, internal_error)) {
    return;
  }
  auto shared = std::make_shared<net::Request>(std::move(request));
  pool_->post([shared, route, params, reply = std::move(reply), progress, internal_error] {
    run_async(route->async_handler, *shared, params, reply, Blocking::kAllowed, *progress, internal_error);
  });
}

}  // namespace herald::api
