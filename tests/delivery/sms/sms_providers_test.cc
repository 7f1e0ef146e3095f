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
#include "delivery/sms/firetext/firetext.h"
#include "delivery/sms/mmg/mmg.h"
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
        [](int status, std::string_view message, std::string_view) {
          return net::Response{status, "text/plain", std::string(message), {}};
        });
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
  auto firetext = firetext::kKind.make(options_);
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
  auto mmg = mmg::kKind.make(options_);
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
  EXPECT_EQ(firetext::kKind.make(options_)->send(kSms).status, SendStatus::kTemporaryFailure);
}

// Reading callbacks: each provider's receipt and inbound-text formats, and what is refused.
template <typename T>
const T& read_ok(const CallbackRead<T>& read) {
  if (const auto* fault = std::get_if<CallbackFault>(&read)) {
    ADD_FAILURE() << (fault->messages.empty() ? "fault" : fault->messages.front());
    static const T empty{};
    return empty;
  }
  return std::get<T>(read);
}

template <typename T>
CallbackFault fault_of(const CallbackRead<T>& read) {
  if (const auto* fault = std::get_if<CallbackFault>(&read)) return *fault;
  ADD_FAILURE() << "read succeeded";
  return {};
}

TEST(SmsCallbacks, FiretextReceiptCodesMapToStatuses) {
  using S = store::NotificationStatus;
  const auto receipt = [](std::string body) { return firetext::kKind.read_receipt(body); };
  EXPECT_EQ(read_ok(receipt("status=0&reference=abc&code=000")).status, S::kDelivered);
  EXPECT_EQ(read_ok(receipt("status=1&reference=abc")).status, S::kPermanentFailure);
  EXPECT_EQ(read_ok(receipt("status=2&reference=abc")).status, S::kPending);
  EXPECT_EQ(read_ok(receipt("status=0&reference=abc")).reference, "abc");
  EXPECT_EQ(read_ok(receipt("status=0&reference=first&reference=second")).reference, "first");
  const auto unknown = fault_of(receipt("status=9&reference=abc"));
  EXPECT_EQ(unknown.kind, CallbackFault::Kind::kMalformed);
  EXPECT_EQ(unknown.messages, std::vector<std::string>{"Firetext callback failed: unknown status 9"});
  const auto both = fault_of(receipt("code=000"));
  EXPECT_EQ(both.kind, CallbackFault::Kind::kMissingFields);
  EXPECT_EQ(both.messages, (std::vector<std::string>{"Firetext callback failed: status missing",
                                                     "Firetext callback failed: reference missing"}));
  EXPECT_EQ(fault_of(receipt("status=0")).messages,
            std::vector<std::string>{"Firetext callback failed: reference missing"});
}

TEST(SmsCallbacks, MmgReceiptCodesMapToStatuses) {
  using S = store::NotificationStatus;
  const auto receipt = [](std::string body) { return mmg::kKind.read_receipt(body); };
  EXPECT_EQ(read_ok(receipt(R"({"status":"3","CID":"abc"})")).status, S::kDelivered);
  EXPECT_EQ(read_ok(receipt(R"({"status":4,"CID":"abc"})")).status, S::kTemporaryFailure);
  EXPECT_EQ(read_ok(receipt(R"({"status":"2","CID":"abc"})")).status, S::kPermanentFailure);
  EXPECT_EQ(read_ok(receipt(R"({"status":"5","CID":"abc","substatus":1})")).status, S::kPermanentFailure);
  EXPECT_EQ(fault_of(receipt("not json")).messages, std::vector<std::string>{"MMG callback failed: invalid JSON"});
  EXPECT_EQ(fault_of(receipt(R"({"status":"7","CID":"abc"})")).messages,
            std::vector<std::string>{"MMG callback failed: unknown status 7"});
  EXPECT_EQ(fault_of(receipt(R"({"status":null,"CID":["x"]})")).messages,
            (std::vector<std::string>{"MMG callback failed: status missing", "MMG callback failed: CID missing"}));
}

TEST(SmsCallbacks, InboundTextsReadEachProvidersFields) {
  const Timestamp now = *parse_timestamp("2026-12-02T10:00:00.000000Z");
  const auto ft = read_ok(firetext::kKind.read_inbound(
      "source=447700900111&destination=07700900222&message=Hi+there&time=2026-11-30+08%3A15%3A00", now));
  EXPECT_EQ(ft.user_number, "447700900111");
  EXPECT_EQ(ft.notify_number, "07700900222");
  EXPECT_EQ(ft.content, "Hi there");
  EXPECT_EQ(format_timestamp(ft.received_at), "2026-11-30T08:15:00.000000Z");
  EXPECT_EQ(read_ok(firetext::kKind.read_inbound("source=1&destination=2&time=garbage", now)).received_at, now);
  EXPECT_EQ(fault_of(firetext::kKind.read_inbound("message=x", now)).messages,
            std::vector<std::string>{"Firetext callback failed: source or destination missing"});

  const auto mm = read_ok(mmg::kKind.read_inbound(
      R"({"MSISDN":"447700900111","Number":"07700900222","Message":"Hi+%C3%A9","ID":"m-1","DateRecieved":"2026-11-30+08%3A15%3A00"})",
      now));
  EXPECT_EQ(mm.user_number, "447700900111");
  EXPECT_EQ(mm.notify_number, "07700900222");
  EXPECT_EQ(mm.content, "Hi \xC3\xA9");
  EXPECT_EQ(mm.provider_reference, "m-1");
  EXPECT_EQ(format_timestamp(mm.received_at), "2026-11-30T08:15:00.000000Z");
  EXPECT_EQ(fault_of(mmg::kKind.read_inbound("[]", now)).messages,
            std::vector<std::string>{"MMG inbound: invalid JSON"});
  EXPECT_EQ(fault_of(mmg::kKind.read_inbound(R"({"MSISDN":"1"})", now)).messages,
            std::vector<std::string>{"MMG callback failed: MSISDN or Number missing"});
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
