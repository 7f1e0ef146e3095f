// DeliveryWorker on the in-memory store and a fake clock: claims are split by channel, test keys
// never reach a dispatcher, outcomes are recorded, a lease half gone stops new sends, and the
// next claim is sized to the pace of the last.

#include "delivery/worker.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::delivery {
namespace {

using namespace std::chrono_literals;
using store::Channel;
using store::NotificationStatus;

// Answers every notification with `answer`, and notes which it saw. Each send takes `send_time`
// on the fake clock.
class ScriptedDispatcher final : public Dispatcher {
 public:
  ScriptedDispatcher(fakes::FakeClock& clock, domain::SendAttempt answer, Duration send_time = 0s)
      : clock_(clock), answer_(answer), send_time_(send_time) {}
  void dispatch(const std::vector<const store::NotificationRecord*>& claimed, const DispatchContext& context) override {
    for (const auto* record : claimed) {
      if (!context.may_start()) return;
      seen.push_back(record->id);
      clock_.advance(send_time_);
      context.record(domain::outcome_of_attempt(*record, answer_, clock_.now(), context.retry));
    }
  }
  void close() override { ++closed; }
  std::vector<NotificationId> seen;
  int closed = 0;

 private:
  fakes::FakeClock& clock_;
  domain::SendAttempt answer_;
  Duration send_time_;
};

class WorkerTest : public ::testing::Test {
 protected:
  store::NotificationRecord add(Channel type, store::KeyType key = store::KeyType::kNormal,
                                std::string recipient = "person@example.com") {
    auto r = fakes::sample_email(service_, clock_.now(), std::move(recipient));
    r.type = type;
    r.key_type = key;
    EXPECT_TRUE(store_.insert_notification(r));
    clock_.advance(1ms);  // claim order is the order added
    return r;
  }
  NotificationStatus status_of(const store::NotificationRecord& r) {
    return (*store_.find_notification(service_, r.id))->status;
  }
  // A worker with one lane: the given dispatchers by channel (nullptr: none wired).
  std::unique_ptr<DeliveryWorker> worker(ScriptedDispatcher* email, ScriptedDispatcher* sms,
                                         WorkerOptions options = {}) {
    std::vector<Lane> lanes(1);
    struct Borrowed final : Dispatcher {
      explicit Borrowed(Dispatcher& d) : inner(d) {}
      void dispatch(const std::vector<const store::NotificationRecord*>& c, const DispatchContext& ctx) override {
        inner.dispatch(c, ctx);
      }
      void close() override { inner.close(); }
      Dispatcher& inner;
    };
    if (email) lanes[0][static_cast<std::size_t>(Channel::kEmail)] = std::make_unique<Borrowed>(*email);
    if (sms) lanes[0][static_cast<std::size_t>(Channel::kSms)] = std::make_unique<Borrowed>(*sms);
    return std::make_unique<DeliveryWorker>(store_, std::move(lanes), clock_, options);
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  ServiceId service_{crypto::random_uuid()};
};

TEST_F(WorkerTest, EachChannelGoesToItsOwnDispatcher) {
  ScriptedDispatcher email(clock_, domain::SendAttempt::kAccepted);
  ScriptedDispatcher sms(clock_, domain::SendAttempt::kPermanentFailure);
  const auto e1 = add(Channel::kEmail);
  const auto s1 = add(Channel::kSms, store::KeyType::kNormal, "07700900123");
  const auto e2 = add(Channel::kEmail);
  auto w = worker(&email, &sms);
  ASSERT_EQ(*w->run_once(), 3);
  EXPECT_EQ(email.seen, (std::vector<NotificationId>{e1.id, e2.id}));
  EXPECT_EQ(sms.seen, (std::vector<NotificationId>{s1.id}));
  EXPECT_EQ(status_of(e1), NotificationStatus::kDelivered);
  EXPECT_EQ(status_of(e2), NotificationStatus::kDelivered);
  EXPECT_EQ(status_of(s1), NotificationStatus::kPermanentFailure);
  EXPECT_EQ(*w->run_once(), 0) << "final outcomes are not claimed again";
}

TEST_F(WorkerTest, TestKeysAreSimulatedAndNeverDispatched) {
  ScriptedDispatcher email(clock_, domain::SendAttempt::kAccepted);
  ScriptedDispatcher sms(clock_, domain::SendAttempt::kAccepted);
  const auto delivered = add(Channel::kEmail, store::KeyType::kTest);
  const auto perm = add(Channel::kEmail, store::KeyType::kTest, "perm-fail@simulator.notify");
  const auto temp = add(Channel::kSms, store::KeyType::kTest, "07700900003");
  auto w = worker(&email, &sms);
  ASSERT_EQ(*w->run_once(), 3);
  EXPECT_TRUE(email.seen.empty());
  EXPECT_TRUE(sms.seen.empty());
  EXPECT_EQ(status_of(delivered), NotificationStatus::kDelivered);
  EXPECT_EQ(status_of(perm), NotificationStatus::kPermanentFailure);
  EXPECT_EQ(status_of(temp), NotificationStatus::kTemporaryFailure) << "a test key's temporary failure is final";
}

TEST_F(WorkerTest, TemporaryFailuresWaitForTheirRetryThenGiveUp) {
  ScriptedDispatcher email(clock_, domain::SendAttempt::kTemporaryFailure);
  WorkerOptions options;
  options.retry.max_attempts = 2;
  const auto e = add(Channel::kEmail);
  auto w = worker(&email, nullptr, options);
  ASSERT_EQ(*w->run_once(), 1);
  EXPECT_EQ(status_of(e), NotificationStatus::kSending) << "waiting for its retry";
  EXPECT_EQ(*w->run_once(), 0) << "not due before first_delay";
  clock_.advance(options.retry.first_delay);
  ASSERT_EQ(*w->run_once(), 1);
  EXPECT_EQ(status_of(e), NotificationStatus::kTechnicalFailure) << "attempts exhausted";
  EXPECT_EQ(email.seen.size(), 2u);
}

TEST_F(WorkerTest, AChannelWithNoDispatcherFailsRatherThanWaitsForever) {
  ScriptedDispatcher email(clock_, domain::SendAttempt::kAccepted);
  const auto s = add(Channel::kSms, store::KeyType::kNormal, "07700900123");
  auto w = worker(&email, nullptr);
  ASSERT_EQ(*w->run_once(), 1);
  EXPECT_EQ(status_of(s), NotificationStatus::kTechnicalFailure);
}

TEST_F(WorkerTest, NoSendStartsAfterHalfTheLeaseAndTheNextClaimIsSmaller) {
  // Each send takes 25 s of a 120 s lease: sends start at 0, 25 and 50 s; at 75 s half the
  // lease is gone, so the other two are left to be claimed again when it expires.
  ScriptedDispatcher email(clock_, domain::SendAttempt::kAccepted, 25s);
  WorkerOptions options;
  options.batch_size = 5;
  std::vector<store::NotificationRecord> added;
  for (int i = 0; i < 5; ++i) added.push_back(add(Channel::kEmail));
  auto w = worker(&email, nullptr, options);
  ASSERT_EQ(*w->run_once(), 5);
  EXPECT_EQ(email.seen.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(added[static_cast<std::size_t>(i)]), NotificationStatus::kDelivered);
  EXPECT_EQ(status_of(added[3]), NotificationStatus::kSending) << "still leased";
  EXPECT_EQ(*w->run_once(), 0) << "leased until the lease expires";
  clock_.advance(options.lease);
  for (int i = 0; i < 3; ++i) added.push_back(add(Channel::kEmail));
  // Five are due, but the next claim is sized to the last one's pace: 3 sends fitted.
  ASSERT_EQ(*w->run_once(), 3);
  EXPECT_EQ(status_of(added[3]), NotificationStatus::kDelivered);
  EXPECT_EQ(status_of(added[4]), NotificationStatus::kDelivered) << "re-claimed once its lease expired";
}

TEST_F(WorkerTest, StopClosesEveryDispatcher) {
  ScriptedDispatcher email(clock_, domain::SendAttempt::kAccepted);
  ScriptedDispatcher sms(clock_, domain::SendAttempt::kAccepted);
  auto w = worker(&email, &sms);
  w->start();
  w->notify();
  w->stop();
  EXPECT_EQ(email.closed, 1);
  EXPECT_EQ(sms.closed, 1);
}

}  // namespace
}  // namespace herald::delivery
