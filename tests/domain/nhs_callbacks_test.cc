// NHS Notify callbacks: the exact bytes of each item (compact JSON, NHS's field order, one item),
// which status changes make callbacks for which receivers, stable event keys, the HMAC signature,
// and what an operator may register.
#include "domain/nhs/callbacks.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace herald::domain::nhs {
namespace {

using store::NhsCallbackKind;
using store::NhsChannel;
using store::NhsChannelStatus;
using store::NhsMessageStatus;

const Timestamp kAt = from_micros(1'796'256'000'123'456);  // 2026-12-03T00:00:00.123456Z
const std::string kLinks = "https://herald.example/comms/v1/messages/";

store::NhsMessageRecord message() {
  store::NhsMessageRecord m;
  m.id = "2WL3qFTEFM0qMY8xjRbt1LIKCzM";
  m.client = *Uuid::parse("7d2b3c1e-0000-4000-8000-000000000001");
  m.service = ServiceId{*Uuid::parse("7d2b3c1e-0000-4000-8000-000000000002")};
  m.message_reference = "ref-1";
  m.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000006");
  m.routing_plan_version = "1";
  m.status = NhsMessageStatus::kSending;
  store::NhsChannelRecord app;
  app.type = NhsChannel::kNhsApp;
  app.status = NhsChannelStatus::kSending;
  app.supplier_status = "received";
  store::NhsChannelRecord sms;
  sms.type = NhsChannel::kSms;
  sms.order = 2;
  m.channels = {app, sms};
  return m;
}

store::NhsCallbackTarget target(NhsCallbackKind kind, std::vector<std::string> statuses = {},
                                std::vector<std::string> supplier = {}) {
  store::NhsCallbackTarget t;
  t.id = *Uuid::parse(kind == NhsCallbackKind::kMessage ? "7d2b3c1e-0000-4000-8000-000000000011"
                                                        : "7d2b3c1e-0000-4000-8000-000000000012");
  t.client = message().client;
  t.kind = kind;
  t.url = "https://receiver.example/callbacks";
  t.statuses = std::move(statuses);
  t.supplier_statuses = std::move(supplier);
  t.api_key = "callback-key-0123456789";
  return t;
}

TEST(NhsCallbackBodies, AMessageStatusIsOneItemInNhssFieldOrder) {
  store::NhsMessageRecord m = message();
  m.status = NhsMessageStatus::kFailed;
  m.status_description = "Failed reason: No reachable communication channels.";
  m.failure_reason_code = "MFR_PDSV_0002";
  const RoutingPlan& plan = *find_built_in_plan(m.routing_plan_id);
  EXPECT_EQ(message_status_callback(m, &plan, kLinks, "key-1", kAt),
            R"({"data":[{"type":"MessageStatus","attributes":{"messageId":"2WL3qFTEFM0qMY8xjRbt1LIKCzM",)"
            R"("messageReference":"ref-1","messageStatus":"failed",)"
            R"("messageStatusDescription":"Failed reason: No reachable communication channels.",)"
            R"("messageFailureReasonCode":"MFR_PDSV_0002","channels":[{"type":"nhsapp","channelStatus":"sending"},)"
            R"({"type":"sms","channelStatus":"created"}],"timestamp":"2026-12-03T00:00:00.123Z",)"
            R"("routingPlan":{"id":"00000000-0000-0000-0000-000000000006",)"
            R"("name":"Free text: NHS App, then text message after 24 hours","version":"1",)"
            R"("createdDate":"2025-12-01T00:00:00.000Z"}},)"
            R"("links":{"message":"https://herald.example/comms/v1/messages/2WL3qFTEFM0qMY8xjRbt1LIKCzM"},)"
            R"("meta":{"idempotencyKey":"key-1"}}]})");
}

TEST(NhsCallbackBodies, AChannelStatusAlwaysHasItsSupplierStatusAndRetryCount) {
  store::NhsMessageRecord m = message();
  EXPECT_EQ(channel_status_callback(m, m.channels[1], kLinks, "key-2", kAt),
            R"({"data":[{"type":"ChannelStatus","attributes":{"messageId":"2WL3qFTEFM0qMY8xjRbt1LIKCzM",)"
            R"("messageReference":"ref-1","cascadeType":"primary","cascadeOrder":2,"channel":"sms",)"
            R"("channelStatus":"created","supplierStatus":"unknown","timestamp":"2026-12-03T00:00:00.123Z",)"
            R"("retryCount":0},"links":{"message":"https://herald.example/comms/v1/messages/)"
            R"(2WL3qFTEFM0qMY8xjRbt1LIKCzM"},"meta":{"idempotencyKey":"key-2"}}]})");
  // Parses as one item.
  auto parsed = json::parse(channel_status_callback(m, m.channels[0], kLinks, "k", kAt));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->find("data")->as_array().size(), 1u);
}

TEST(NhsCallbackBodies, TheSignatureIsHexHmacSha256OfTheBytesWithAppIdDotKey) {
  // python3: hmac.new(b"<id>.<key>", b'{"data":[]}', hashlib.sha256).hexdigest()
  EXPECT_EQ(callback_signature(*Uuid::parse("7d2b3c1e-0000-4000-8000-000000000001"), "callback-key-0123456789",
                               R"({"data":[]})"),
            "5a0256da6d44335f9ef4d54f34e81207d4eef2bcafaafa4bd129e44f4feb495e");
}

TEST(NhsCallbacksFor, MessageTargetsHearOfOutcomesByDefault) {
  const store::NhsMessageRecord before = message();
  const std::vector<store::NhsCallbackTarget> targets = {target(NhsCallbackKind::kMessage)};
  store::NhsMessageRecord after = before;
  EXPECT_TRUE(callbacks_for(before, after, nullptr, targets, kLinks, kAt).empty()) << "nothing changed";
  after.status = NhsMessageStatus::kDelivered;
  after.delivered_at = kAt;
  auto made = callbacks_for(before, after, nullptr, targets, kLinks, kAt);
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(made[0].target, targets[0].id);
  EXPECT_EQ(made[0].message_id, after.id);
  EXPECT_EQ(made[0].service, after.service);
  EXPECT_EQ(made[0].next_attempt_at, kAt);
  EXPECT_NE(made[0].body.find(R"("messageStatus":"delivered")"), std::string::npos);
  // The same event makes the same key; another event another.
  auto again = callbacks_for(before, after, nullptr, targets, kLinks, kAt);
  EXPECT_EQ(again[0].body, made[0].body);
  store::NhsMessageRecord failed = before;
  failed.status = NhsMessageStatus::kFailed;
  failed.failed_at = kAt;
  auto other = callbacks_for(before, failed, nullptr, targets, kLinks, kAt);
  ASSERT_EQ(other.size(), 1u);
  auto key = [](const std::string& body) {
    return json::parse(body)->find("data")->as_array()[0].find("meta")->find("idempotencyKey")->as_string();
  };
  EXPECT_NE(key(other[0].body), key(made[0].body));
  // "sending" is not an outcome: only a target that asks hears of it.
  store::NhsMessageRecord created = before;
  created.status = NhsMessageStatus::kEnriched;
  EXPECT_TRUE(callbacks_for(created, before, nullptr, targets, kLinks, kAt).empty());
  const std::vector<store::NhsCallbackTarget> asking = {target(NhsCallbackKind::kMessage, {"sending"})};
  EXPECT_EQ(callbacks_for(created, before, nullptr, asking, kLinks, kAt).size(), 1u);
}

TEST(NhsCallbacksFor, ChannelTargetsHearOfChannelAndAskedForSupplierStatuses) {
  const store::NhsMessageRecord before = message();
  const std::vector<store::NhsCallbackTarget> targets = {target(NhsCallbackKind::kChannel, {}, {"read"}),
                                                         target(NhsCallbackKind::kMessage)};
  store::NhsMessageRecord notified = before;
  notified.channels[0].supplier_status = "notified";
  EXPECT_TRUE(callbacks_for(before, notified, nullptr, targets, kLinks, kAt).empty()) << "not asked for";
  store::NhsMessageRecord read = before;
  read.channels[0].supplier_status = "read";
  read.channels[0].status = NhsChannelStatus::kDelivered;
  read.channels[0].delivered_at = kAt;
  auto made = callbacks_for(before, read, nullptr, targets, kLinks, kAt);
  ASSERT_EQ(made.size(), 1u) << "one for the channel target; the message did not change";
  EXPECT_NE(made[0].body.find(R"("channel":"nhsapp","channelStatus":"delivered","supplierStatus":"read")"),
            std::string::npos)
      << made[0].body;
  // A channel laid out and skipped in one step: skipped is an outcome.
  store::NhsMessageRecord fresh = before;
  fresh.channels.clear();
  store::NhsMessageRecord skipped = before;
  skipped.channels[1].status = NhsChannelStatus::kSkipped;
  skipped.channels[0].supplier_status.reset();
  skipped.channels[0].status = NhsChannelStatus::kCreated;
  made = callbacks_for(fresh, skipped, nullptr, targets, kLinks, kAt);
  ASSERT_EQ(made.size(), 1u);
  EXPECT_NE(made[0].body.find(R"("channel":"sms","channelStatus":"skipped")"), std::string::npos);
}

TEST(NhsCallbackTargets, WhatAnOperatorMayRegister) {
  NewCallbackTarget in;
  in.client = message().client;
  in.url = "https://receiver.example/cb";
  auto made = make_callback_target(in, kAt);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->api_key.size(), 32u) << "Herald made a key";
  EXPECT_EQ(made->api_key_header, "x-api-key");
  auto refused = [&](auto change) {
    NewCallbackTarget t = in;
    change(t);
    auto r = make_callback_target(t, kAt);
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.url = "http://receiver.example/cb"; }), "the URL must be https://");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.statuses = {"read"}; }),
            "\"read\" is not a message status that makes a callback");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.supplier_statuses = {"read"}; }),
            "supplier statuses are for channel callbacks");
  EXPECT_EQ(refused([](NewCallbackTarget& t) {
              t.kind = NhsCallbackKind::kChannel;
              t.supplier_statuses = {"opened"};
            }),
            "\"opened\" is not a supplier status");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.api_key_header = "x api key"; }),
            "the API key header must be a header name such as x-api-key");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.client_certificate_file = "/etc/cert.pem"; }),
            "a client certificate needs its key, and a key its certificate");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.api_key = "short"; }),
            "the callback API key must be 16-256 characters");
  EXPECT_EQ(refused([](NewCallbackTarget& t) { t.rate_per_second = 0; }), "the rate must be 1-1000 a second");
}

}  // namespace
}  // namespace herald::domain::nhs
