// CallbackSender and its bodies: what services are told (GOV.UK Notify's delivery-status and
// inbound-SMS callbacks), with which token, and when a failed POST is tried again or given up.
// The HTTP side is a scripted CallbackTransport; the store is the in-memory one; time moves only
// by the fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "crypto/random.h"
#include "delivery/callbacks.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::delivery {
namespace {

using namespace std::chrono_literals;

const char kStatusUrl[] = "https://service.example/notify/status";
const char kInboundUrl[] = "https://service.example/notify/inbound";

Uuid uuid(std::string_view text) { return *Uuid::parse(text); }

// Answers POSTs from a script and keeps what was sent.
class ScriptedTransport final : public CallbackTransport {
 public:
  struct Call {
    std::string url;
    net::Headers headers;
    std::string body;
    net::HttpClientOptions options;
  };

  void answer(int status) { answers_.push_back(net::HttpResponse{status, {}, ""}); }
  void fail(Error error) { answers_.push_back(std::move(error)); }

  Result<net::HttpResponse> post(std::string_view url, const net::Headers& headers, std::string_view body,
                                 const net::HttpClientOptions& options) override {
    calls.push_back({std::string(url), headers, std::string(body), options});
    if (answers_.empty()) {
      ADD_FAILURE() << "unexpected POST to " << url;
      return unavailable("connect failed: Connection refused");
    }
    auto next = std::move(answers_.front());
    answers_.pop_front();
    return next;
  }
  bool finished() const { return answers_.empty(); }

  std::vector<Call> calls;

 private:
  std::deque<Result<net::HttpResponse>> answers_;
};

json::Value parse(const std::string& body) {
  auto value = json::parse(body);
  EXPECT_TRUE(value) << body;
  return value ? *value : json::Value();
}

// A member's text, or a marker saying why there is none: a broken body fails the test rather
// than aborting it.
std::string text(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  if (value == nullptr) return "<absent>";
  if (value->is_null()) return "<null>";
  if (!value->is_string()) return "<not text>";
  return value->as_string();
}

std::vector<std::string> keys(const json::Value& object) {
  std::vector<std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.as_object()) out.push_back(key);
  return out;
}

// --- The bodies -------------------------------------------------------------------------------

store::NotificationRecord delivered_email() {
  store::NotificationRecord r;
  r.id = NotificationId{uuid("740e5834-3a29-46b4-9a6f-16142fde533a")};
  r.service = ServiceId{uuid("5b3c1a5e-8a52-4a0e-9d2c-3b1f0b7f2f10")};
  r.template_id = TemplateId{uuid("f33517ff-2a88-4f6e-b855-c550268ce08a")};
  r.template_version = 3;
  r.type = store::Channel::kEmail;
  r.status = store::NotificationStatus::kDelivered;
  r.reference = "appointment-42";
  r.recipient = "person@example.com";
  r.created_at = from_micros(1'800'000'000'123'456);
  r.sent_at = from_micros(1'800'000'001'123'456);
  r.updated_at = from_micros(1'800'000'002'623'456);
  return r;
}

TEST(CallbackPayload, DeliveryStatusCarriesGovukFieldsInOrder) {
  EXPECT_EQ(delivery_status_json(delivered_email()),
            R"({"id":"740e5834-3a29-46b4-9a6f-16142fde533a","reference":"appointment-42",)"
            R"("to":"person@example.com","status":"delivered","created_at":"2027-01-15T08:00:00.123456Z",)"
            R"("completed_at":"2027-01-15T08:00:02.623456Z","sent_at":"2027-01-15T08:00:01.123456Z",)"
            R"("notification_type":"email","template_id":"f33517ff-2a88-4f6e-b855-c550268ce08a",)"
            R"("template_version":3})");
}

TEST(CallbackPayload, DeliveryStatusSaysNullForWhatIsNotKnown) {
  store::NotificationRecord r = delivered_email();
  r.type = store::Channel::kSms;
  r.status = store::NotificationStatus::kTemporaryFailure;
  r.recipient = "07700900123";
  r.reference.reset();
  r.sent_at.reset();
  r.updated_at.reset();

  const json::Value body = parse(delivery_status_json(r));

  EXPECT_EQ(keys(body), (std::vector<std::string>{"id", "reference", "to", "status", "created_at", "completed_at",
                                                  "sent_at", "notification_type", "template_id", "template_version"}));
  EXPECT_EQ(text(body, "reference"), "<null>");
  EXPECT_EQ(text(body, "completed_at"), "<null>");
  EXPECT_EQ(text(body, "sent_at"), "<null>");
  EXPECT_EQ(text(body, "status"), "temporary-failure");
  EXPECT_EQ(text(body, "notification_type"), "sms");
  EXPECT_EQ(text(body, "to"), "07700900123");
  const json::Value* version = body.find("template_version");
  ASSERT_NE(version, nullptr);
  ASSERT_TRUE(version->is_number()) << "a number, not a string";
  EXPECT_EQ(version->as_int64(), 3);
}

TEST(CallbackPayload, DeliveryStatusNamesEveryFinalStatusAsGovukDoes) {
  store::NotificationRecord r = delivered_email();
  for (const auto& [status, name] : {std::pair{store::NotificationStatus::kDelivered, "delivered"},
                                     {store::NotificationStatus::kPermanentFailure, "permanent-failure"},
                                     {store::NotificationStatus::kTemporaryFailure, "temporary-failure"},
                                     {store::NotificationStatus::kTechnicalFailure, "technical-failure"}}) {
    r.status = status;
    EXPECT_EQ(text(parse(delivery_status_json(r)), "status"), name);
  }
}

TEST(CallbackPayload, TextIsEscapedNotSpliced) {
  store::NotificationRecord r = delivered_email();
  r.reference = "quote \" backslash \\ newline \n caf\xC3\xA9";

  const json::Value body = parse(delivery_status_json(r));

  EXPECT_EQ(text(body, "reference"), *r.reference);
}

store::InboundSms received_text() {
  store::InboundSms sms;
  sms.id = uuid("0f8f5a4e-6a2b-4c1d-8e3f-9a7b6c5d4e3f");
  sms.service = ServiceId{uuid("5b3c1a5e-8a52-4a0e-9d2c-3b1f0b7f2f10")};
  sms.notify_number = "07700900000";
  sms.user_number = "447700900123";
  sms.content = "Yes, \"please\"";
  sms.provider = "mmg";
  sms.received_at = from_micros(1'800'000'000'123'456);
  sms.created_at = from_micros(1'800'000'003'000'000);
  return sms;
}

TEST(CallbackPayload, InboundSmsCarriesGovukFields) {
  EXPECT_EQ(inbound_sms_json(received_text()),
            R"({"id":"0f8f5a4e-6a2b-4c1d-8e3f-9a7b6c5d4e3f","source_number":"447700900123",)"
            R"("destination_number":"07700900000","message":"Yes, \"please\"",)"
            R"("date_received":"2027-01-15T08:00:00.123456Z"})");
}

// --- The sender -------------------------------------------------------------------------------

class CallbackSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.set_service_callback(
        {service_, store::CallbackKind::kDeliveryStatus, kStatusUrl, "status-token-123", clock_.now()}));
    ASSERT_TRUE(store_.set_service_callback(
        {service_, store::CallbackKind::kInboundSms, kInboundUrl, "inbound-token-456", clock_.now()}));
  }
  void TearDown() override { EXPECT_TRUE(http_.finished()) << "scripted answers left over"; }

  // A notification whose delivery the worker has just recorded: its callback is due now.
  store::NotificationRecord delivered() {
    store::NotificationRecord r = fakes::sample_email(service_, clock_.now());
    r.queued = false;
    EXPECT_TRUE(store_.insert_notification(r));
    store::DeliveryOutcome outcome;
    outcome.id = r.id;
    outcome.status = store::NotificationStatus::kDelivered;
    outcome.updated_at = clock_.now();
    outcome.sent_at = clock_.now();
    outcome.sent_by = "smtp";
    outcome.callback = true;
    EXPECT_TRUE(store_.record_outcome(outcome));
    return r;
  }

  int run() {
    auto claimed = sender_.run_once();
    EXPECT_TRUE(claimed) << claimed.error().message;
    return claimed ? *claimed : -1;
  }

  static std::string header(const ScriptedTransport::Call& call, std::string_view name) {
    for (const auto& [key, value] : call.headers) {
      if (key == name) return value;
    }
    return "<absent>";
  }

  ServiceId service_{crypto::random_uuid()};
  fakes::MemoryStore store_;
  fakes::FakeClock clock_;
  ScriptedTransport http_;
  CallbackSender sender_{store_, clock_, CallbackOptions{}, http_};
};

TEST_F(CallbackSenderTest, PostsTheDeliveryStatusWithTheServicesBearerToken) {
  const store::NotificationRecord r = delivered();
  http_.answer(200);

  EXPECT_EQ(run(), 1);

  ASSERT_EQ(http_.calls.size(), 1u);
  const auto& call = http_.calls[0];
  EXPECT_EQ(call.url, kStatusUrl);
  EXPECT_EQ(call.headers,
            (net::Headers{{"Content-Type", "application/json"}, {"Authorization", "Bearer status-token-123"}}));
  const json::Value body = parse(call.body);
  EXPECT_EQ(text(body, "id"), r.id.to_string());
  EXPECT_EQ(text(body, "status"), "delivered");
  EXPECT_EQ(text(body, "to"), "person@example.com");
  EXPECT_EQ(text(body, "reference"), "ref");
  EXPECT_EQ(text(body, "completed_at"), format_timestamp(clock_.now()));
  EXPECT_EQ(text(body, "sent_at"), format_timestamp(clock_.now()));
  EXPECT_EQ(text(body, "notification_type"), "email");
  // GOV.UK's client settings: 5 s, and only public addresses (the SSRF guard).
  EXPECT_EQ(call.options.timeout, 5000ms);
  EXPECT_EQ(call.options.policy, net::AddressPolicy::kPublicOnly);

  clock_.advance(24h);
  EXPECT_EQ(run(), 0) << "sent once, never again";
  EXPECT_EQ(http_.calls.size(), 1u);
}

TEST_F(CallbackSenderTest, PostsReceivedTextsToTheInboundUrl) {
  store::InboundSms sms = received_text();
  sms.service = service_;
  sms.created_at = clock_.now();
  ASSERT_TRUE(store_.insert_inbound_sms(sms));
  http_.answer(204);

  EXPECT_EQ(run(), 1);

  ASSERT_EQ(http_.calls.size(), 1u);
  EXPECT_EQ(http_.calls[0].url, kInboundUrl);
  EXPECT_EQ(header(http_.calls[0], "Authorization"), "Bearer inbound-token-456");
  EXPECT_EQ(http_.calls[0].body, inbound_sms_json(sms));
  clock_.advance(24h);
  EXPECT_EQ(run(), 0);
}

TEST_F(CallbackSenderTest, AnySuccessStatusEndsIt) {
  for (int status : {200, 201, 202, 204, 299}) {
    delivered();
    http_.answer(status);
    EXPECT_EQ(run(), 1) << status;
    clock_.advance(1h);
    EXPECT_EQ(run(), 0) << status;
  }
}

// What the service's end said; whether Herald tries again.
struct Answer {
  const char* name;
  int status;  // 0: the request failed with `code`
  ErrorCode code;
  bool retried;
};

class CallbackSenderAnswerTest : public CallbackSenderTest, public ::testing::WithParamInterface<Answer> {
 protected:
  void script(const Answer& a) {
    if (a.status != 0) {
      http_.answer(a.status);
    } else {
      http_.fail(Error{a.code, a.code == ErrorCode::kPermissionDenied
                                   ? "service.example resolves only to addresses that are not public: refused"
                                   : "service.example:443: connect failed: Connection refused"});
    }
  }
};

TEST_P(CallbackSenderAnswerTest, IsRetriedAfterTheDelayOrGivenUp) {
  const Answer& a = GetParam();
  delivered();
  script(a);

  EXPECT_EQ(run(), 1);
  ASSERT_EQ(http_.calls.size(), 1u);

  // Not before the retry delay (300 s), however often the sender looks.
  clock_.advance(299s);
  EXPECT_EQ(run(), 0);
  clock_.advance(1s);
  if (!a.retried) {
    EXPECT_EQ(run(), 0);
    clock_.advance(7 * 24h);
    EXPECT_EQ(run(), 0) << "given up for good";
    EXPECT_EQ(http_.calls.size(), 1u);
    // On the service's dead list, with what the attempt got and never the host it tried.
    auto dead = store_.dead_callbacks(service_, 10);
    ASSERT_TRUE(dead);
    ASSERT_EQ(dead->size(), 1u);
    EXPECT_EQ((*dead)[0].kind, store::CallbackKind::kDeliveryStatus);
    EXPECT_EQ((*dead)[0].error, a.status != 0 ? "HTTP " + std::to_string(a.status)
                                              : std::string("refused: the URL's host is not a public address"));
    EXPECT_EQ((*dead)[0].error.find("service.example"), std::string::npos);
    return;
  }
  http_.answer(200);
  EXPECT_EQ(run(), 1);
  ASSERT_EQ(http_.calls.size(), 2u);
  EXPECT_EQ(http_.calls[1].body, http_.calls[0].body) << "the same news, not lost";
  EXPECT_EQ(http_.calls[1].headers, http_.calls[0].headers);
  clock_.advance(7 * 24h);
  EXPECT_EQ(run(), 0) << "done once delivered";
}

INSTANTIATE_TEST_SUITE_P(Answers, CallbackSenderAnswerTest,
                         ::testing::Values(Answer{"http_500", 500, ErrorCode::kInternal, true},
                                           Answer{"http_502", 502, ErrorCode::kInternal, true},
                                           Answer{"http_503", 503, ErrorCode::kInternal, true},
                                           Answer{"http_429", 429, ErrorCode::kInternal, true},
                                           Answer{"connection_failed", 0, ErrorCode::kUnavailable, true},
                                           Answer{"http_400", 400, ErrorCode::kInternal, false},
                                           Answer{"http_401", 401, ErrorCode::kInternal, false},
                                           Answer{"http_403", 403, ErrorCode::kInternal, false},
                                           Answer{"http_404", 404, ErrorCode::kInternal, false},
                                           Answer{"http_410", 410, ErrorCode::kInternal, false},
                                           Answer{"http_301", 301, ErrorCode::kInternal, false},
                                           Answer{"address_refused", 0, ErrorCode::kPermissionDenied, false}),
                         [](const auto& test) { return std::string(test.param.name); });

TEST_F(CallbackSenderTest, GivesUpAfterFiveRetries) {
  delivered();
  for (int i = 0; i < 6; ++i) http_.answer(503);

  for (int attempt = 1; attempt <= 6; ++attempt) {
    EXPECT_EQ(run(), 1) << "attempt " << attempt;
    clock_.advance(300s);
  }
  clock_.advance(7 * 24h);
  EXPECT_EQ(run(), 0);

  // The first try and GOV.UK's five retries, all with the same body.
  ASSERT_EQ(http_.calls.size(), 6u);
  for (const auto& call : http_.calls) EXPECT_EQ(call.body, http_.calls[0].body);

  // Then it is dead: listed for the service, and sent again (the same news) when it asks.
  auto dead = store_.dead_callbacks(service_, 10);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].error, "HTTP 503");
  EXPECT_EQ((*dead)[0].attempts, 6);
  EXPECT_EQ((*dead)[0].dead_at, clock_.now() - 7 * 24h - 300s);
  ASSERT_TRUE(*store_.replay_callback(service_, store::CallbackKind::kDeliveryStatus, (*dead)[0].id, clock_.now()));
  EXPECT_TRUE(store_.dead_callbacks(service_, 10)->empty());
  http_.answer(200);
  EXPECT_EQ(run(), 1);
  ASSERT_EQ(http_.calls.size(), 7u);
  EXPECT_EQ(http_.calls[6].body, http_.calls[0].body);
  EXPECT_TRUE(store_.dead_callbacks(service_, 10)->empty());
}

TEST_F(CallbackSenderTest, ACallbackWhoseUrlWasRemovedIsDroppedNotDead) {
  delivered();
  ASSERT_TRUE(*store_.delete_service_callback(service_, store::CallbackKind::kDeliveryStatus));
  EXPECT_EQ(run(), 1);
  EXPECT_TRUE(http_.calls.empty());
  EXPECT_TRUE(store_.dead_callbacks(service_, 10)->empty());
}

TEST_F(CallbackSenderTest, AReceivedTextsCallbackGivenUpOnIsDeadToo) {
  store::InboundSms sms = received_text();
  sms.service = service_;
  sms.created_at = clock_.now();
  ASSERT_TRUE(store_.insert_inbound_sms(sms));
  http_.answer(404);
  EXPECT_EQ(run(), 1);
  auto dead = store_.dead_callbacks(service_, 10);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].kind, store::CallbackKind::kInboundSms);
  EXPECT_EQ((*dead)[0].id, sms.id);
  EXPECT_EQ((*dead)[0].error, "HTTP 404");
}

TEST_F(CallbackSenderTest, RetryRulesAreTheOperatorsToSet) {
  CallbackOptions options;
  options.max_retries = 1;
  options.retry_delay = 30s;
  CallbackSender sender(store_, clock_, options, http_);
  delivered();
  http_.answer(500);
  http_.answer(500);

  EXPECT_EQ(*sender.run_once(), 1);
  clock_.advance(30s);
  EXPECT_EQ(*sender.run_once(), 1);
  clock_.advance(24h);
  EXPECT_EQ(*sender.run_once(), 0);
  EXPECT_EQ(http_.calls.size(), 2u);
}

TEST_F(CallbackSenderTest, ReceivedTextsAreRetriedToo) {
  store::InboundSms sms = received_text();
  sms.service = service_;
  sms.created_at = clock_.now();
  ASSERT_TRUE(store_.insert_inbound_sms(sms));
  http_.fail(unavailable("read timed out"));
  http_.answer(200);

  EXPECT_EQ(run(), 1);
  clock_.advance(300s);
  EXPECT_EQ(run(), 1);
  clock_.advance(24h);
  EXPECT_EQ(run(), 0);

  ASSERT_EQ(http_.calls.size(), 2u);
  EXPECT_EQ(http_.calls[1].body, http_.calls[0].body);
}

TEST_F(CallbackSenderTest, TakesDueCallbacksInBatches) {
  CallbackOptions options;
  options.batch_size = 2;
  CallbackSender sender(store_, clock_, options, http_);
  for (int i = 0; i < 3; ++i) {
    delivered();
    http_.answer(200);
  }

  EXPECT_EQ(*sender.run_once(), 2);
  EXPECT_EQ(*sender.run_once(), 1);
  EXPECT_EQ(*sender.run_once(), 0);

  ASSERT_EQ(http_.calls.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& call : http_.calls) ids.push_back(text(parse(call.body), "id"));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "each notification told once";
}

}  // namespace
}  // namespace herald::delivery

namespace herald::delivery {
namespace {

// A receiver that never answers costs one timeout per retry interval, not one per callback, and
// another service's callbacks go out meanwhile (before, one thread waited out every timeout in
// turn: a silent URL held every service's callbacks behind it). Answers go by URL: the claim
// order is the store's.
class SilentUrl final : public CallbackTransport {
 public:
  Result<net::HttpResponse> post(std::string_view url, const net::Headers& /*headers*/, std::string_view /*body*/,
                                 const net::HttpClientOptions& /*options*/) override {
    ++calls[std::string(url)];
    if (url == kStatusUrl && silent) return unavailable("read timed out");
    return net::HttpResponse{200, {}, ""};
  }
  std::map<std::string, int> calls;
  bool silent = true;
};

TEST_F(CallbackSenderTest, ASilentUrlIsLeftAloneForTheRetryIntervalWhileOthersAreSent) {
  SilentUrl transport;
  CallbackSender sender(store_, clock_, CallbackOptions{}, transport);
  const ServiceId other{crypto::random_uuid()};
  ASSERT_TRUE(store_.set_service_callback(
      {other, store::CallbackKind::kDeliveryStatus, "https://other.example/status", "other-token-789", clock_.now()}));
  for (int i = 0; i < 3; ++i) delivered();
  store::NotificationRecord theirs = fakes::sample_email(other, clock_.now());
  theirs.queued = false;
  ASSERT_TRUE(store_.insert_notification(theirs));
  store::DeliveryOutcome outcome{
      theirs.id, store::NotificationStatus::kDelivered, clock_.now(), clock_.now(), std::nullopt, "smtp"};
  outcome.callback = true;
  ASSERT_TRUE(store_.record_outcome(outcome));

  EXPECT_EQ(*sender.run_once(), 4);
  EXPECT_EQ(transport.calls, (std::map<std::string, int>{{kStatusUrl, 1}, {"https://other.example/status", 1}}))
      << "one try of the silent URL, and the other service's callback";

  // After the interval the URL is tried again; it answers now, and all three are sent.
  clock_.advance(300s);
  transport.silent = false;
  EXPECT_EQ(*sender.run_once(), 3);
  EXPECT_EQ(transport.calls[kStatusUrl], 4);
  clock_.advance(300s);
  EXPECT_EQ(*sender.run_once(), 0) << "all done";
}

}  // namespace
}  // namespace herald::delivery
