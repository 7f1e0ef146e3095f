// The GOV.UK v2 send handlers through the Router, on the in-memory store: what a request costs
// when its first run (on the network thread) meets a cache miss and the rest runs on the pool.
#include "api/govuk_v2/handlers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "api/govuk_v2/errors.h"
#include "api/router.h"
#include "core/json.h"
#include "crypto/jwt.h"
#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::api::govuk_v2 {
namespace {

class SendHandlers : public ::testing::Test {
 protected:
  void start(int rate_limit, std::int64_t email_limit) {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = clock_.now();
    service_.rate_limit = rate_limit;
    service_.email_limit = email_limit;
    ASSERT_TRUE(store_.create_service(service_));
    key_ = {ApiKeyId{crypto::random_uuid()}, service_.id, "key", store::KeyType::kNormal,
            crypto::random_uuid().to_string(), clock_.now(), std::nullopt};
    ASSERT_TRUE(store_.create_api_key(key_));
    register_routes(router_, {authenticator_, notifications_, templates_, received_texts_, letters_, clock_,
                              "https://herald.test/", {}, {}});
  }

  TemplateId new_template() {
    store::TemplateRecord t;
    t.id = TemplateId{crypto::random_uuid()};
    t.service = service_.id;
    t.name = "Template " + t.id.to_string();
    t.type = store::Channel::kEmail;
    t.subject = "Hello";
    t.body = "Hello ((name))";
    t.created_at = clock_.now();
    EXPECT_TRUE(store_.create_template(t));
    return t.id;
  }

  // Router::handle as the HTTPS server calls it (this thread plays the network thread).
  net::Response send_email(TemplateId template_id) {
    net::Request r;
    r.method = "POST";
    r.path = r.target = "/v2/notifications/email";
    const auto iat = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    r.headers.emplace_back("Authorization", "Bearer " + crypto::sign_hs256(*json::parse(
        R"({"iss":")" + service_.id.to_string() + R"(","iat":)" + std::to_string(iat) + "}"), key_.secret));
    r.body = R"({"email_address":"person@example.com","template_id":")" + template_id.to_string() +
             R"(","personalisation":{"name":"Ada"}})";
    std::promise<net::Response> response;
    auto future = response.get_future();
    router_.handle(std::move(r), net::Responder([&response](net::ResponseMaker make) { response.set_value(make()); }));
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "no response";
      return {};
    }
    return future.get();
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  domain::Authenticator authenticator_{store_};
  domain::Notifications notifications_{store_, {}};
  domain::Templates templates_{store_};
  domain::ReceivedTexts received_texts_{store_, notifications_.lookups()};
  domain::Letters letters_{store_, notifications_};
  Router router_{2, router_errors()};
  store::ServiceRecord service_;
  store::ApiKeyRecord key_;
};

TEST_F(SendHandlers, ACacheMissAfterTheLimitsDoesNotCountTheRequestTwice) {
  // GOV.UK's bucket for 60 a minute holds ceil(60 / 3) + 1 = 21 tokens, refilled at one a
  // second. Each send names a template not yet cached: its first run authenticates and takes a
  // token from the node's grant on the network thread, then needs the store, and the pool
  // finishes it. Sends 1 ms apart make the grants two tokens each, so if the pool's run counted
  // the rate limit again, about 14 would get through instead of 21 (the 30 ms add no token).
  start(60, 250'000);
  int accepted = 0;
  int refused = 0;
  std::string refusal;
  for (int i = 0; i < 30; ++i) {
    clock_.advance(std::chrono::milliseconds(1));
    const net::Response response = send_email(new_template());
    if (response.status == 201) {
      ++accepted;
    } else {
      ++refused;
      refusal = response.body;
      EXPECT_EQ(response.status, 429) << response.body;
    }
  }
  EXPECT_EQ(accepted, 21) << "each request counts once towards the rate limit";
  EXPECT_EQ(refused, 9);
  EXPECT_NE(refusal.find("Exceeded rate limit for key type LIVE of 60 requests per 60 seconds"), std::string::npos)
      << refusal;
}

TEST_F(SendHandlers, TheDailyLimitCountsOnlyStoredNotificationsOnce) {
  start(3000, 5);
  int accepted = 0;
  std::string refusal;
  for (int i = 0; i < 8; ++i) {
    clock_.advance(std::chrono::milliseconds(1));
    const net::Response response = send_email(new_template());
    if (response.status == 201) ++accepted;
    else refusal = response.body;
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_NE(refusal.find("Exceeded send limits (email: 5) for today"), std::string::npos) << refusal;
}

}  // namespace
}  // namespace herald::api::govuk_v2
