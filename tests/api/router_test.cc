#include "api/router.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "api/govuk_v2/errors.h"

namespace herald::api {
namespace {

net::Request request(std::string method, std::string path) {
  net::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

// Hands Router::handle a Responder and waits for the response it makes, noting the thread the
// response maker was handed over on.
struct Call {
  std::promise<net::Response> response;
  std::thread::id replied_on;

  net::Response run(Router& router, net::Request r) {
    auto future = response.get_future();
    router.handle(std::move(r), net::Responder([this](net::ResponseMaker make) {
      replied_on = std::this_thread::get_id();
      response.set_value(make());
    }));
    EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return future.get();
  }
};

TEST(Router, UnknownPathIs404AndWrongMethodIs405InTheV2Envelope) {
  Router router(1, govuk_v2::router_errors());
  router.add("GET", "/v2/things/{id}", [](const net::Request&, const PathParams&) { return net::Response{}; });
  Call missing;
  auto r404 = missing.run(router, request("GET", "/v2/other"));
  EXPECT_EQ(r404.status, 404);
  EXPECT_NE(r404.body.find("\"NotFound\""), std::string::npos);
  Call wrong;
  auto r405 = wrong.run(router, request("POST", "/v2/things/1"));
  EXPECT_EQ(r405.status, 405);
}

TEST(Router, SynchronousRoutesRunOnThePoolWithPathParameters) {
  Router router(1, govuk_v2::router_errors());
  std::thread::id ran_on;
  router.add("GET", "/v2/things/{id}", [&](const net::Request&, const PathParams& params) {
    ran_on = std::this_thread::get_id();
    return net::Response{200, "text/plain", params.at("id"), {}};
  });
  Call call;
  auto response = call.run(router, request("GET", "/v2/things/abc"));
  EXPECT_EQ(response.body, "abc");
  EXPECT_NE(ran_on, std::this_thread::get_id());  // never on the (network) caller's thread
}

TEST(Router, AsynchronousRoutesRunInlineWhenTheyNeedNotBlock) {
  Router router(1, govuk_v2::router_errors());
  std::vector<std::pair<std::thread::id, Blocking>> runs;
  router.add_async("POST", "/v2/send", [&](const net::Request&, const PathParams&, const Reply& reply, Blocking b,
                                          Progress&) {
    runs.emplace_back(std::this_thread::get_id(), b);
    reply([] { return net::Response{201, "text/plain", "made", {}}; });
    return true;
  });
  Call call;
  auto response = call.run(router, request("POST", "/v2/send"));
  EXPECT_EQ(response.status, 201);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].first, std::this_thread::get_id());
  EXPECT_EQ(runs[0].second, Blocking::kNotAllowed);
}

TEST(Router, AnAsynchronousRouteThatWouldBlockIsResumedOnThePool) {
  Router router(1, govuk_v2::router_errors());
  std::mutex mutex;
  std::vector<std::pair<std::thread::id, Blocking>> runs;
  int steps_done = 0;  // a step that must run once, whichever run reaches it
  router.add_async("POST", "/v2/send", [&](const net::Request& r, const PathParams&, const Reply& reply, Blocking b,
                                          Progress& progress) {
    std::lock_guard lock(mutex);
    runs.emplace_back(std::this_thread::get_id(), b);
    if (!progress.has_value()) {
      ++steps_done;
      progress = std::string("authenticated");
    }
    if (b == Blocking::kNotAllowed) return false;  // a cache miss: needs the store
    reply([body = r.body, seen = std::any_cast<std::string>(progress)] {
      return net::Response{201, "text/plain", body + " / " + seen, {}};
    });
    return true;
  });
  net::Request r = request("POST", "/v2/send");
  r.body = "the request survives the hand-over";
  Call call;
  auto response = call.run(router, std::move(r));
  EXPECT_EQ(response.body, "the request survives the hand-over / authenticated") << "and so does its progress";
  std::lock_guard lock(mutex);
  EXPECT_EQ(steps_done, 1) << "what the first run finished is not run again";
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].second, Blocking::kNotAllowed);
  EXPECT_EQ(runs[0].first, std::this_thread::get_id());
  EXPECT_EQ(runs[1].second, Blocking::kAllowed);
  EXPECT_NE(runs[1].first, std::this_thread::get_id());
}

TEST(Router, AHandlerThatThrowsOrStillWouldBlockAnswers500WithoutDetail) {
  Router router(1, govuk_v2::router_errors());
  router.add_async("POST", "/v2/throws", [](const net::Request&, const PathParams&, const Reply&, Blocking, Progress&) -> bool {
    throw std::runtime_error("secret detail");
  });
  router.add_async("POST", "/v2/blocks", [](const net::Request&, const PathParams&, const Reply&, Blocking, Progress&) {
    return false;
  });
  for (const char* path : {"/v2/throws", "/v2/blocks"}) {
    Call call;
    auto response = call.run(router, request("POST", path));
    EXPECT_EQ(response.status, 500) << path;
    EXPECT_EQ(response.body.find("secret"), std::string::npos);
  }
}

TEST(Router, ResponseMakersRunWhereTheResponderRunsThem) {
  // The maker a handler replies with is handed to the responder unrun, so the server can build
  // the body on the connection's thread rather than on the thread that completed the work.
  Router router(1, govuk_v2::router_errors());
  std::thread::id made_on;
  std::thread completer;
  router.add_async("POST", "/v2/send", [&](const net::Request&, const PathParams&, const Reply& reply, Blocking, Progress&) {
    completer = std::thread([reply, &made_on] {
      reply([&made_on] {
        made_on = std::this_thread::get_id();
        return net::Response{201, "text/plain", "", {}};
      });
    });
    return true;
  });
  std::promise<net::ResponseMaker> handed;
  auto future = handed.get_future();
  router.handle(request("POST", "/v2/send"),
                net::Responder([&handed](net::ResponseMaker make) { handed.set_value(std::move(make)); }));
  auto make = future.get();
  completer.join();
  EXPECT_EQ(make().status, 201);
  EXPECT_EQ(made_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace herald::api
