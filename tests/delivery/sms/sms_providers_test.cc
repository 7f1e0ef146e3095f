// The SMS provider adapters against stand-ins speaking Firetext's and MMG's HTTP APIs on
// 127.0.0.1, and the router's failover.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "core/json.h"
#include "core/url.h"
#include "crypto/self_signed.h"
#include "delivery/sms/http_providers.h"
#include "delivery/sms/sms_router.h"
#include "net/https_server.h"
#include "tests/fakes/fake_clock.h"

namespace herald::delivery::sms {
namespace {

using namespace std::chrono_literals;

const OutgoingSms kSms{"740e5834-3a29-46b4-9a6f-16142fde533a", "447700900123", "HERALD", "Hello & welcome: 50% off",
                       false};

class ProviderStandIn : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-sms-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string cert = (dir_ / "cert.pem").string();
    ASSERT_TRUE(crypto::write_self_signed_certificate(cert, (dir_ / "key.pem").string(), 1));
    net::ServerOptions options;
    options.port = 0;
    options.certificate_file = cert;
    options.private_key_file = (dir_ / "key.pem").string();
    auto server = net::HttpsServer::start(
        options,
        [this](net::Request&& request, net::Responder respond) {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
          respond(net::Response{status_, "application/json", answer_, {}});
        },
        [](int status, std::string_view message) { return net::Response{status, "text/plain", std::string(message), {}}; });
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    options_.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/api";
    options_.api_key = "key-123";
    options_.receipt_url = "https://notify:secret@herald.example/notifications/sms/x";
    options_.http.ca_file = cert;
    options_.http.policy = net::AddressPolicy::kAny;
  }
  void TearDown() override {
    server_->stop();
    std::filesystem::remove_all(dir_);
  }
  net::Request last() {
    std::lock_guard lock(mutex_);
    return requests_.back();
  }

  std::filesystem::path dir_;
  std::unique_ptr<net::HttpsServer> server_;
  HttpProviderOptions options_;
  std::mutex mutex_;
  std::vector<net::Request> requests_;
  int status_ = 200;
  std::string answer_ = R"({"code":0,"description":"SMS successfully queued"})";
};

std::string field(const FormFields& form, std::string_view key) {
  for (const auto& [k, v] : form) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST_F(ProviderStandIn, FiretextPostsTheFormAndReadsTheCode) {
  auto firetext = make_firetext(options_);
  auto sent = firetext->send(kSms);
  EXPECT_EQ(sent.status, SendStatus::kAccepted) << sent.detail;
  const auto request = last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/api");
  EXPECT_EQ(request.header("content-type"), "application/x-www-form-urlencoded");
  const FormFields form = parse_form(request.body);
  EXPECT_EQ(field(form, "apiKey"), "key-123");
  EXPECT_EQ(field(form, "from"), "HERALD");
  EXPECT_EQ(field(form, "to"), "447700900123");
  EXPECT_EQ(field(form, "message"), "Hello & welcome: 50% off");
  EXPECT_EQ(field(form, "reference"), kSms.reference);
  EXPECT_EQ(field(form, "receipt"), options_.receipt_url);

  answer_ = R"({"code":3,"description":"Invalid API key"})";
  EXPECT_EQ(firetext->send(kSms).status, SendStatus::kTemporaryFailure);
  answer_ = "<html>";
  EXPECT_EQ(firetext->send(kSms).status, SendStatus::kTemporaryFailure);
  answer_ = R"({"code":0})";
  status_ = 500;
  EXPECT_EQ(firetext->send(kSms).status, SendStatus::kTemporaryFailure);
}

TEST_F(ProviderStandIn, MmgPostsJsonWithBasicAuth) {
  answer_ = R"({"reference":"12345"})";
  auto mmg = make_mmg(options_);
  auto sent = mmg->send(kSms);
  EXPECT_EQ(sent.status, SendStatus::kAccepted) << sent.detail;
  const auto request = last();
  EXPECT_EQ(request.header("authorization"), "Basic key-123");
  auto body = json::parse(request.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->find("reqType")->as_string(), "BULK");
  EXPECT_EQ(body->find("MSISDN")->as_string(), "447700900123");
  EXPECT_EQ(body->find("msg")->as_string(), kSms.content);
  EXPECT_EQ(body->find("sender")->as_string(), "HERALD");
  EXPECT_EQ(body->find("cid")->as_string(), kSms.reference);
  EXPECT_TRUE(body->find("multi")->as_bool());
  EXPECT_EQ(body->find("delurl")->as_string(), options_.receipt_url);
  status_ = 401;
  EXPECT_EQ(mmg->send(kSms).status, SendStatus::kTemporaryFailure);
}

TEST_F(ProviderStandIn, AnUnreachableProviderIsATemporaryFailure) {
  options_.url = "https://127.0.0.1:1/api";
  options_.http.timeout = 500ms;
  EXPECT_EQ(make_firetext(options_)->send(kSms).status, SendStatus::kTemporaryFailure);
}

// A provider whose answers the test scripts.
class Scripted final : public SmsProvider {
 public:
  explicit Scripted(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  SendResult send(const OutgoingSms&) override {
    ++calls;
    return up ? SendResult{SendStatus::kAccepted, "ok"} : SendResult{SendStatus::kTemporaryFailure, name_ + " down"};
  }
  std::atomic<bool> up{true};
  std::atomic<int> calls{0};

 private:
  std::string name_;
};

TEST(SmsRouter, FailsOverAtOnceAndMovesBackWhenThePreferredProviderRecovers) {
  fakes::FakeClock clock;
  auto first = std::make_unique<Scripted>("firetext");
  auto second = std::make_unique<Scripted>("mmg");
  Scripted* a = first.get();
  Scripted* b = second.get();
  std::vector<std::unique_ptr<SmsProvider>> providers;
  providers.push_back(std::move(first));
  providers.push_back(std::move(second));
  SmsRouter router(std::move(providers), clock, {3, 30s});

  EXPECT_EQ(router.send(kSms).provider, "firetext");
  a->up = false;
  for (int i = 0; i < 3; ++i) {
    auto routed = router.send(kSms);
    EXPECT_EQ(routed.result.status, SendStatus::kAccepted) << "each message its provider failed goes to the next";
    EXPECT_EQ(routed.provider, "mmg");
  }
  EXPECT_TRUE(router.states()[0].passed_over);
  const int tried = a->calls;
  EXPECT_EQ(router.send(kSms).provider, "mmg");
  EXPECT_EQ(a->calls, tried) << "a passed-over provider is not tried while its retry_after runs";

  clock.advance(31s);
  EXPECT_EQ(router.send(kSms).provider, "mmg") << "tried again after retry_after, still failing";
  EXPECT_EQ(a->calls, tried + 1);
  EXPECT_TRUE(router.states()[0].passed_over) << "its first failure sends it back";

  a->up = true;
  clock.advance(31s);
  EXPECT_EQ(router.send(kSms).provider, "firetext") << "back to the preferred provider once it recovers";
  EXPECT_EQ(router.states()[0].consecutive_failures, 0);

  a->up = false;
  b->up = false;
  auto routed = router.send(kSms);
  EXPECT_EQ(routed.result.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(routed.result.detail, "firetext down; mmg down");
}

}  // namespace
}  // namespace herald::delivery::sms
