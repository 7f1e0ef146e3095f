// The OperationsStore contract (store/store.h): the queue figures herald serve's /metrics and
// /health/ready read (notifications waiting per channel, GOV.UK callbacks due and dead, NHS
// Notify's callbacks and messages), and the named marks every node shares. Run against every
// backend as store_contract_test.cc runs the rest (SQLite, PostgreSQL, and the in-memory store
// other unit tests use).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "domain/lifecycle.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;
using Marks = std::vector<std::pair<std::string, Timestamp>>;

class Operations : public testing::TwoServicesContract {
 protected:
  QueueFigures figures() {
    auto read = another()->queue_figures();
    EXPECT_TRUE(read) << read.error().message;
    return read ? *read : QueueFigures{};
  }
  static const ChannelQueue& of(const QueueFigures& f, Channel channel) {
    return f.channels[static_cast<std::size_t>(channel)];
  }
  // A notification of `service` on `channel`, accepted at `created` (status created, due then).
  // `queued` false: one to a simulated recipient, never queued (no due_at).
  NotificationId accept(const ServiceRecord& service, Channel channel, Timestamp created, bool queued = true) {
    auto r = fakes::sample_email(service.id, created, channel == Channel::kSms ? "07700900123" : "person@example.com");
    r.type = channel;
    r.queued = queued;
    EXPECT_TRUE(store_->insert_notification(r));
    return r.id;
  }
  void outcome(NotificationId id, NotificationStatus status, Timestamp at, std::optional<Timestamp> retry = {}) {
    DeliveryOutcome o{id, status, at, std::nullopt, retry, "smtp"};
    ASSERT_TRUE(store_->record_outcome(o));
  }
  Marks marks(std::string_view prefix) {
    auto read = another()->marks(prefix);
    EXPECT_TRUE(read) << read.error().message;
    return read ? std::move(*read) : Marks{};
  }
  // A new NHS Notify client of service A (empty id on failure).
  Uuid nhs_client() {
    NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_a_.id;
    c.name = "client";
    c.api_key_hash = std::string(64, 'a');
    c.created_at = now_;
    return store_->create_nhs_client(c) ? c.id : Uuid{};
  }
  // A message of `client`, its next step due at `next_step` (none: settled).
  std::string nhs_message(Uuid client, std::string id, std::optional<Timestamp> next_step) {
    NhsMessageRecord m;
    m.id = std::move(id);
    m.client = client;
    m.service = service_a_.id;
    m.message_reference = "ref-" + m.id;
    m.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000003");
    m.routing_plan_version = "1";
    m.created_at = now_;
    m.next_step_at = next_step;
    auto inserted = store_->insert_nhs_message(m, now_ - 1h);
    EXPECT_TRUE(inserted && *inserted) << (inserted ? "a repeated reference" : inserted.error().message);
    return m.id;
  }
};

TEST_P(Operations, AnEmptyStoreHasNothingWaitingAndNoOldest) {
  const QueueFigures f = figures();
  for (const Channel channel : kAllChannels) {
    EXPECT_EQ(of(f, channel).waiting, 0) << channel_name(channel);
    EXPECT_EQ(of(f, channel).retrying, 0) << channel_name(channel);
    EXPECT_FALSE(of(f, channel).oldest) << channel_name(channel);
  }
  EXPECT_EQ(f.callbacks_due, 0);
  EXPECT_FALSE(f.oldest_callback_due);
  EXPECT_EQ(f.callbacks_dead, 0);
  EXPECT_EQ(f.nhs_callbacks_pending, 0);
  EXPECT_FALSE(f.oldest_nhs_callback);
  EXPECT_EQ(f.nhs_callbacks_dead, 0);
  EXPECT_EQ(f.nhs_messages_waiting, 0);
  EXPECT_FALSE(f.oldest_nhs_message_step);
  EXPECT_TRUE(marks("").empty());
}

// Per channel: created and sending wait (a delivery attempt made: retrying), delivered and failed
// do not; the oldest is the earliest created_at among the waiting, of every service.
TEST_P(Operations, NotificationsWaitPerChannelUntilTheirStatusIsFinal) {
  struct Expected {
    Channel channel;
    Timestamp retried, created, delivered, failed;
  };
  // Email: the retried one is the oldest waiting; texts: the created one; letters: the delivered
  // and failed ones are older than both.
  const std::vector<Expected> cases{
      {Channel::kEmail, now_ + 1001us, now_ + 3s, now_ - 5s, now_ - 4s},
      {Channel::kSms, now_ + 12s, now_ + 11s + 7us, now_ + 10s, now_ + 9s},
      {Channel::kLetter, now_ + 21s, now_ + 22s, now_ + 1s, now_ + 2s},
  };
  // First the ones a worker takes: all claimed (sending, one attempt each), then their outcomes.
  std::vector<std::pair<NotificationId, const Expected*>> claimed;
  for (const Expected& c : cases) {
    claimed.emplace_back(accept(service_a_, c.channel, c.retried), &c);
    claimed.emplace_back(accept(service_a_, c.channel, c.delivered), &c);
    claimed.emplace_back(accept(service_b_, c.channel, c.failed), &c);
    claimed.emplace_back(accept(service_b_, c.channel, c.failed - 1s), &c);  // handed over, no receipt yet
    // A simulated recipient's: created, never queued, older than all: neither waits nor counts.
    accept(service_a_, c.channel, now_ - 1h, /*queued=*/false);
  }
  auto taken = store_->claim_due(100, now_ + 1h, 60s);
  ASSERT_TRUE(taken) << taken.error().message;
  ASSERT_EQ(taken->size(), claimed.size());
  for (std::size_t i = 0; i < claimed.size(); i += 4) {
    // A temporary failure: sending, due again later (attempts stay 1).
    outcome(claimed[i].first, NotificationStatus::kSending, now_ + 1h, now_ + 2h);
    outcome(claimed[i + 1].first, NotificationStatus::kDelivered, now_ + 1h);
    outcome(claimed[i + 2].first, NotificationStatus::kPermanentFailure, now_ + 1h);
    outcome(claimed[i + 3].first, NotificationStatus::kSending, now_ + 1h);  // with the provider
  }
  // Then the ones not yet taken: created, no attempt (one of service B).
  for (const Expected& c : cases) accept(c.channel == Channel::kSms ? service_b_ : service_a_, c.channel, c.created);

  const QueueFigures f = figures();
  for (const Expected& c : cases) {
    EXPECT_EQ(of(f, c.channel).waiting, 2) << channel_name(c.channel);
    EXPECT_EQ(of(f, c.channel).retrying, 1) << channel_name(c.channel);
    EXPECT_EQ(of(f, c.channel).oldest, std::min(c.retried, c.created)) << channel_name(c.channel);
    EXPECT_EQ(of(f, c.channel).awaiting_receipt, 1) << channel_name(c.channel);
  }

  // Then a worker takes every one (all due by now) and delivers it: nothing waits.
  taken = store_->claim_due(100, now_ + 2h, 60s);
  ASSERT_TRUE(taken) << taken.error().message;
  for (const NotificationRecord& r : *taken) {
    outcome(r.id, NotificationStatus::kDelivered, now_ + 2h);
  }
  for (std::size_t i = 3; i < claimed.size(); i += 4)
    outcome(claimed[i].first, NotificationStatus::kDelivered, now_ + 2h);
  const QueueFigures after = figures();
  for (const Channel channel : kAllChannels) {
    EXPECT_EQ(of(after, channel).waiting, 0) << channel_name(channel) << ": every one was due by then";
    EXPECT_EQ(of(after, channel).retrying, 0) << channel_name(channel);
    EXPECT_FALSE(of(after, channel).oldest) << channel_name(channel);
    EXPECT_EQ(of(after, channel).awaiting_receipt, 0) << channel_name(channel);
  }
}

// GOV.UK callbacks of both kinds: due while callback_due_at is set (leased ones included), dead
// once killed (never due as well), due again when replayed, neither when done for good.
TEST_P(Operations, CallbacksAreDueUntilKilledDeadUntilReplayedAndNeitherWhenDone) {
  for (const CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
    ASSERT_TRUE(
        store_->set_service_callback({service_a_.id, kind, "https://hooks.example/a", "bearer-0123456789", now_}));
  }
  auto told = [&](Timestamp at) {
    const NotificationId id = accept(service_a_, Channel::kEmail, now_);
    DeliveryOutcome o{id, NotificationStatus::kDelivered, at, at, std::nullopt, "smtp"};
    o.callback = true;
    EXPECT_TRUE(store_->record_outcome(o));
    return id;
  };
  auto text = [&](Timestamp at) {
    InboundSms sms{
        crypto::random_uuid(), service_a_.id, "07700900999", "447700900123", "a text", "mmg", std::nullopt, at, at};
    EXPECT_TRUE(store_->insert_inbound_sms(sms));
    return sms.id;
  };
  const NotificationId killed = told(now_ + 31s);
  const NotificationId done = told(now_ + 32s + 250us);
  const Uuid sms = text(now_ + 30s + 5us);
  QueueFigures f = figures();
  EXPECT_EQ(f.callbacks_due, 3);
  EXPECT_EQ(f.oldest_callback_due, now_ + 30s + 5us) << "a received text's";
  EXPECT_EQ(f.callbacks_dead, 0);
  EXPECT_EQ(of(f, Channel::kEmail).waiting, 0) << "delivered";

  // Claimed (leased: still due, at the lease's end), then one of each kind killed.
  ASSERT_EQ(store_->claim_callbacks(10, now_ + 40s, 30s)->size(), 2u);
  ASSERT_EQ(store_->claim_inbound_callbacks(10, now_ + 40s, 30s)->size(), 1u);
  f = figures();
  EXPECT_EQ(f.callbacks_due, 3);
  EXPECT_EQ(f.oldest_callback_due, now_ + 70s);
  ASSERT_TRUE(store_->kill_callback(killed, now_ + 41s, "HTTP 404"));
  ASSERT_TRUE(store_->kill_inbound_callback(sms, now_ + 42s, "timed out"));
  f = figures();
  EXPECT_EQ(f.callbacks_due, 1) << "a dead callback is not due";
  EXPECT_EQ(f.oldest_callback_due, now_ + 70s);
  EXPECT_EQ(f.callbacks_dead, 2);

  // Done for good: neither. Replayed: due from the replay's time, off the dead list.
  ASSERT_TRUE(store_->finish_callback(done, std::nullopt));
  f = figures();
  EXPECT_EQ(f.callbacks_due, 0);
  EXPECT_FALSE(f.oldest_callback_due);
  EXPECT_EQ(f.callbacks_dead, 2);
  ASSERT_TRUE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, killed.uuid, now_ + 50s));
  f = figures();
  EXPECT_EQ(f.callbacks_due, 1);
  EXPECT_EQ(f.oldest_callback_due, now_ + 50s);
  EXPECT_EQ(f.callbacks_dead, 1);
  ASSERT_TRUE(*store_->replay_callback(service_a_.id, CallbackKind::kInboundSms, sms, now_ + 45s));
  f = figures();
  EXPECT_EQ(f.callbacks_due, 2);
  EXPECT_EQ(f.oldest_callback_due, now_ + 45s);
  EXPECT_EQ(f.callbacks_dead, 0);
}

// NHS Notify: messages with a next step wait (the earliest step first); callbacks stored with a
// step are pending (the earliest created first) until sent or dead.
TEST_P(Operations, NhsMessagesWaitForTheirNextStepAndNhsCallbacksArePendingOrDead) {
  const Uuid client = nhs_client();
  ASSERT_NE(client, Uuid{});
  nhs_message(client, "2WL3qFTEFM0qMY8xjRbt1LIKCzA", now_ + 7s + 3us);
  nhs_message(client, "2WL3qFTEFM0qMY8xjRbt1LIKCzB", now_ + 9s);
  nhs_message(client, "2WL3qFTEFM0qMY8xjRbt1LIKCzC", std::nullopt);
  QueueFigures f = figures();
  EXPECT_EQ(f.nhs_messages_waiting, 2);
  EXPECT_EQ(f.oldest_nhs_message_step, now_ + 7s + 3us);
  EXPECT_EQ(f.nhs_callbacks_pending, 0);

  NhsCallbackTarget target;
  target.id = crypto::random_uuid();
  target.client = client;
  target.url = "https://receiver.example/cb";
  target.api_key = "api-key";
  target.created_at = now_;
  ASSERT_TRUE(store_->put_nhs_callback_target(target));
  // The earliest message's step: delivered (no next step), with three callbacks.
  auto claimed = store_->claim_nhs_messages(1, now_ + 8s, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  NhsCascadeStep step{(*claimed)[0].message, (*claimed)[0].claim, {}};
  step.message.status = NhsMessageStatus::kDelivered;
  step.message.delivered_at = now_ + 8s;
  step.message.next_step_at.reset();
  for (const Timestamp created : {now_ + 20s, now_ + 19s + 1us, now_ + 21s}) {
    NhsCallbackRecord c;
    c.target = target.id;
    c.client = client;
    c.service = service_a_.id;
    c.message_id = step.message.id;
    c.body = R"({"data":[]})";
    c.created_at = created;
    c.next_attempt_at = now_ + 8s;
    step.callbacks.push_back(c);
  }
  ASSERT_TRUE(*store_->save_nhs_step(step, now_ + 8s));
  f = figures();
  EXPECT_EQ(f.nhs_messages_waiting, 1);
  EXPECT_EQ(f.oldest_nhs_message_step, now_ + 9s);
  EXPECT_EQ(f.nhs_callbacks_pending, 3);
  EXPECT_EQ(f.oldest_nhs_callback, now_ + 19s + 1us);
  EXPECT_EQ(f.nhs_callbacks_dead, 0);

  // One sent (deleted), one dead, one retried (still pending).
  auto due = store_->claim_nhs_callbacks(10, now_ + 8s, 60s);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 3u);
  for (const NhsCallbackRecord& c : *due) {
    using O = NhsCallbackAttempt::Outcome;
    const O outcome = c.created_at == now_ + 19s + 1us ? O::kDead : c.created_at == now_ + 20s ? O::kSent : O::kRetry;
    ASSERT_TRUE(store_->finish_nhs_callback(
        {c.id, outcome, now_ + 10s, outcome == O::kRetry ? std::optional(now_ + 100s) : std::nullopt,
         outcome == O::kSent ? std::nullopt : std::optional<std::string>("HTTP 503")}));
  }
  f = figures();
  EXPECT_EQ(f.nhs_callbacks_pending, 1);
  EXPECT_EQ(f.oldest_nhs_callback, now_ + 21s);
  EXPECT_EQ(f.nhs_callbacks_dead, 1);
  EXPECT_EQ(f.callbacks_dead, 0) << "NHS Notify's are not GOV.UK's";
}

TEST_P(Operations, MarksAreSetReplacedAndListedByNameForEveryNode) {
  ASSERT_TRUE(store_->set_mark("heartbeat:node-b", now_ + 3s));
  ASSERT_TRUE(store_->set_mark("backup.verified", now_ + 1s));
  ASSERT_TRUE(store_->set_mark("heartbeat:node-a", now_ + 2s + 7us));
  ASSERT_TRUE(store_->set_mark("backup.created", now_));
  EXPECT_EQ(marks(""), (Marks{{"backup.created", now_},
                              {"backup.verified", now_ + 1s},
                              {"heartbeat:node-a", now_ + 2s + 7us},
                              {"heartbeat:node-b", now_ + 3s}}));
  EXPECT_EQ(marks("heartbeat:"), (Marks{{"heartbeat:node-a", now_ + 2s + 7us}, {"heartbeat:node-b", now_ + 3s}}));
  EXPECT_EQ(marks("backup.created"), (Marks{{"backup.created", now_}})) << "a whole name is its own prefix";
  EXPECT_TRUE(marks("backup.created.").empty());
  EXPECT_TRUE(marks("Backup").empty()) << "names are matched case and all";
  EXPECT_TRUE(marks("zzz").empty());

  // The later call wins, even with an earlier time; another node sets them as well.
  ASSERT_TRUE(store_->set_mark("backup.created", now_ - 5s));
  ASSERT_TRUE(another()->set_mark("heartbeat:node-b", now_ + 4s));
  EXPECT_EQ(marks("backup.c"), (Marks{{"backup.created", now_ - 5s}}));
  auto read = store_->marks("heartbeat:node-b");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, (Marks{{"heartbeat:node-b", now_ + 4s}}));
}

// A prefix is text, not a pattern: LIKE's wildcards and escape character match themselves only;
// names order bytewise (as every backend's byte order, whatever a database's collation).
TEST_P(Operations, APrefixMatchesItselfOnlyAndNamesOrderBytewise) {
  for (const char* name :
       {"p:axb", "p:a%b", "p:a_b", "p:aXb", "p:a\\b", "p:ab", "p:a%", "u:nœ", "u:nœud", "u:nŔ", "u:no"}) {
    ASSERT_TRUE(store_->set_mark(name, now_)) << name;
  }
  auto names = [&](std::string_view prefix) {
    std::vector<std::string> out;
    for (const auto& [name, at] : marks(prefix)) out.push_back(name);
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names("p:"), (Names{"p:a%", "p:a%b", "p:aXb", "p:a\\b", "p:a_b", "p:ab", "p:axb"}));
  EXPECT_EQ(names("p:a%"), (Names{"p:a%", "p:a%b"}));
  EXPECT_EQ(names("p:a_"), (Names{"p:a_b"}));
  EXPECT_EQ(names("p:a\\"), (Names{"p:a\\b"}));
  EXPECT_EQ(names("p:a%b"), (Names{"p:a%b"}));
  EXPECT_TRUE(names("p:%").empty());
  EXPECT_TRUE(names("p:_").empty());
  // "nŔ" is "nœ" with its last byte raised by one: the first name after every "nœ...".
  EXPECT_EQ(names("u:nœ"), (Names{"u:nœ", "u:nœud"}));
  EXPECT_EQ(names("u:n"), (Names{"u:no", "u:nœ", "u:nœud", "u:nŔ"}));
}

TEST_P(Operations, BadNamesAndPrefixesAreRefusedAndNothingIsStored) {
  const std::string longest(200, 'm');
  ASSERT_TRUE(store_->set_mark(longest, now_));
  for (const std::string& bad : {std::string(), std::string(201, 'm'), std::string("a\0b", 3), std::string("\xff"),
                                 std::string("heartbeat:\xc3")}) {
    auto set = store_->set_mark(bad, now_);
    ASSERT_FALSE(set) << bad.size() << " bytes";
    EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument) << bad.size() << " bytes";
  }
  for (const std::string& bad : {std::string("a\0", 2), std::string("\xc3")}) {
    auto read = store_->marks(bad);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(marks(""), (Marks{{longest, now_}}));
  EXPECT_EQ(marks(std::string(250, 'm')), Marks{}) << "a prefix longer than any name finds none";
}

INSTANTIATE_TEST_SUITE_P(Backends, Operations, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
