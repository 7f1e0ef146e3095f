#pragma once
// Router: maps method + path pattern ("/v2/notifications/{id}") to a route handler. Implements
// net::Handler, so it is called on a network thread, which must never wait on I/O:
//  * synchronous routes (which may read the store) run on the router's thread pool;
//  * asynchronous routes run first right there on the network thread with
//    Blocking::kNotAllowed, so the common case (everything it needs is cached) costs no thread
//    hop; a handler that would have to wait (a cache miss) returns false without replying, and
//    the router resumes it on its pool with Blocking::kAllowed and the same Progress, so the
//    steps it finished on the network thread (authentication, limits, parsing) are not run
//    again (docs/decisions/0005-resumable-accept-path.md).
// Unknown paths, known paths with the wrong method and handlers that throw get the responses of
// RouterErrors, which the wiring takes from an API's errors module (cli/serve.cc: GOV.UK's), so
// the router picks no status itself. Routes are registered before serving starts; thread-safe
// after that.
// Every request handled is counted (herald_http_requests_total by api, route pattern and status)
// and timed (herald_http_request_duration_seconds, until its response is made); the api label
// comes from name_api's prefixes.
// A gate (set_gate) may refuse a request before it is routed (intrusion prevention: a blocked
// source address), and an observer (set_response_observer) is told of every response with the
// request's source address (intrusion detection: enumeration).

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/blocking.h"
#include "core/thread_pool.h"
#include "net/http.h"

namespace herald::api {

using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<net::Response(const net::Request&, const PathParams&)>;
// A deferred reply for asynchronous routes: call it once, from any thread, with a function that
// builds the response; that function runs on the connection's network thread (so a store's
// completion thread only hands over work).
using Reply = std::function<void(net::ResponseMaker)>;
// What an asynchronous handler has done so far for one request, in a type of the handler's
// own (empty at the first run). It survives from the run on the network thread to the run on
// the pool, so that a step is never repeated: limits are counted once.
using Progress = std::any;
// Returns false, having not replied, when it would have to block and `blocking` says it may
// not; what it finished is in `progress` for the next run, and nothing else has changed.
using AsyncRouteHandler =
    std::function<bool(const net::Request&, const PathParams&, const Reply&, Blocking, Progress&)>;

// The responses the router gives on its own account; each function is called on any thread.
struct RouterErrors {
  net::Response (*unknown_path)();    // no route has the path
  net::Response (*wrong_method)();    // a route has the path, none the method
  net::Response (*internal_error)();  // a handler threw, or would still block on the pool (a bug)
};

// Unknown paths and wrong methods under one prefix, where another API answers in its own format
// and needs the request to do so (NHS Notify's echo the correlation id). Its handlers answer
// their own exceptions.
struct PrefixErrors {
  std::function<net::Response(const net::Request&)> unknown_path;
  std::function<net::Response(const net::Request&)> wrong_method;
};

class Router {
 public:
  Router(std::size_t worker_threads, RouterErrors errors)
      : errors_(errors), pool_(std::make_unique<ThreadPool>(worker_threads)) {}

  void add(std::string method, std::string pattern, RouteHandler handler);
  void add_async(std::string method, std::string pattern, AsyncRouteHandler handler);
  // Paths under `prefix` ("/comms": "/comms" itself and "/comms/...") get these errors.
  void add_prefix_errors(std::string prefix, PrefixErrors errors);
  // Every request under `prefix`, whatever its method and path, goes to `handler` (a synchronous
  // route of its own, before any other): an API that routes itself (NHS Notify's sandbox).
  void add_prefix_handler(std::string prefix, RouteHandler handler);
  // Requests under `prefix` ("/v2" covers "/v2" and "/v2/...") are of this API in the metrics;
  // the empty prefix names the default (else "other"). The longest matching prefix wins.
  void name_api(std::string prefix, std::string api);
  // Consulted before routing, on the network thread (must not block): a response refuses the
  // request (counted under the route "refused"), nullopt lets it through.
  using Gate = std::function<std::optional<net::Response>(const net::Request&)>;
  void set_gate(Gate gate) { gate_ = std::move(gate); }
  // Told of every response as it is made: the route pattern ("unmatched" for none), the status
  // and the request's source address. Runs on network threads: must not block.
  using ResponseObserver = std::function<void(const std::string& route, int status, const std::string& source)>;
  void set_response_observer(ResponseObserver observer) { observer_ = std::move(observer); }
  // net::Handler.
  void handle(net::Request&& request, net::Responder respond);
  // Synchronous dispatch on the caller's thread (tests).
  net::Response dispatch(const net::Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    std::string pattern;               // as registered: the metrics' route label
    RouteHandler handler;              // set for synchronous routes
    AsyncRouteHandler async_handler;  // set for asynchronous routes
  };
  // The matching route (with its path parameters), or the 404/405 response.
  std::variant<std::pair<const Route*, PathParams>, net::Response> find(const net::Request& request) const;
  // The prefix errors for this path, or nullptr.
  const PrefixErrors* prefix_errors(std::string_view path) const;
  std::vector<Route> routes_;
  RouterErrors errors_;
  std::vector<std::pair<std::string, PrefixErrors>> prefix_errors_;
  std::vector<std::pair<std::string, Route>> prefix_handlers_;
  std::string default_api_ = "other";
  std::vector<std::pair<std::string, std::string>> api_prefixes_;
  // The API a path belongs to, for the metrics.
  const std::string& api_of(std::string_view path) const;
  // `respond`, counting and timing the response when it is made.
  net::Responder observed(net::Responder respond, const std::string& api, const std::string& route,
                          std::string source) const;
  Gate gate_;
  ResponseObserver observer_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace herald::api
