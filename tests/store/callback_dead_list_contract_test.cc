// The CallbackQueue contract (store/store.h) for service callbacks given up on: killed, they are
// never claimed and go on their service's dead list (delivery statuses and received texts
// alike) until the service replays them, a newer status makes the notification's callback due
// again, or retention or erasure empties what they would send. And a service's go-live request,
// saved by update_service. Run against every backend as store_contract_test.cc runs the rest
// (SQLite, PostgreSQL, and the in-memory store other unit tests use).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "domain/lifecycle.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

// Fixed ids, so that ties are broken in a known order (a before b).
const Uuid kIdA = *Uuid::parse("00000000-0000-4000-8000-00000000000a");
const Uuid kIdB = *Uuid::parse("00000000-0000-4000-8000-00000000000b");

class CallbackDeadList : public testing::TwoServicesContract {
 protected:
  void SetUp() override {
    TwoServicesContract::SetUp();
    if (HasFatalFailure()) return;
    for (const ServiceRecord* service : {&service_a_, &service_b_}) {
      for (CallbackKind kind : {CallbackKind::kDeliveryStatus, CallbackKind::kInboundSms}) {
        ASSERT_TRUE(store_->set_service_callback({service->id, kind,
                                                  "https://hooks.example/" + service->email_sender_local_part,
                                                  "bearer-0123456789", now_}));
      }
    }
  }
  // A notification of `service` (created at `created`) whose delivery status the service hears
  // of: its callback due at `at`.
  NotificationId told(const ServiceRecord& service, Timestamp at, std::optional<Uuid> id = std::nullopt,
                      std::optional<Timestamp> created = std::nullopt) {
    auto r = fakes::sample_email(service.id, created.value_or(now_));
    if (id) r.id = NotificationId{*id};
    EXPECT_TRUE(store_->insert_notification(r));
    EXPECT_TRUE(store_->record_outcome(outcome(r.id, at, true)));
    return r.id;
  }
  static DeliveryOutcome outcome(NotificationId id, Timestamp at, bool callback) {
    DeliveryOutcome o{id, NotificationStatus::kDelivered, at, at, std::nullopt, "smtp"};
    o.callback = callback;
    return o;
  }
  // A received text of `service`, stored at `created`: its callback due then.
  Uuid text(const ServiceRecord& service, Timestamp created, std::optional<Uuid> id = std::nullopt) {
    InboundSms sms{id.value_or(crypto::random_uuid()),
                   service.id,
                   "07700900999",
                   "447700900123",
                   "a text",
                   "mmg",
                   std::nullopt,
                   created,
                   created};
    EXPECT_TRUE(store_->insert_inbound_sms(sms));
    return sms.id;
  }
  // What the claims at `now` hand out, by id: the attempts each has counted.
  std::map<Uuid, int> claim(Timestamp now) {
    std::map<Uuid, int> out;
    auto claimed = store_->claim_callbacks(100, now, 30s);
    EXPECT_TRUE(claimed) << claimed.error().message;
    if (claimed) {
      for (const NotificationRecord& r : *claimed) out[r.id.uuid] = r.callback_attempts;
    }
    return out;
  }
  std::map<Uuid, int> claim_inbound(Timestamp now) {
    std::map<Uuid, int> out;
    auto claimed = store_->claim_inbound_callbacks(100, now, 30s);
    EXPECT_TRUE(claimed) << claimed.error().message;
    if (claimed) {
      for (const InboundSms& sms : *claimed) out[sms.id] = sms.callback_attempts;
    }
    return out;
  }
  // The service's dead list, as another node reads it.
  std::vector<DeadCallback> dead(const ServiceRecord& service, int limit = 100) {
    auto listed = another()->dead_callbacks(service.id, limit);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<DeadCallback>{};
  }
  static std::vector<Uuid> ids_of(const std::vector<DeadCallback>& list) {
    std::vector<Uuid> out;
    for (const DeadCallback& d : list) out.push_back(d.id);
    return out;
  }
};

TEST_P(CallbackDeadList, KilledCallbackIsNeverClaimedAndIsListedWithItsAttemptsAndError) {
  const NotificationId id = told(service_a_, now_ + 1s);
  ASSERT_EQ(claim(now_ + 2s), (std::map<Uuid, int>{{id.uuid, 1}}));
  ASSERT_TRUE(store_->finish_callback(id, now_ + 10s));  // retry
  ASSERT_EQ(claim(now_ + 10s), (std::map<Uuid, int>{{id.uuid, 2}}));
  ASSERT_TRUE(store_->kill_callback(id, now_ + 11s, "HTTP 404"));

  EXPECT_TRUE(claim(now_ + 1000s).empty()) << "a dead callback has no due time, even past its lease";
  const auto list = dead(service_a_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kind, CallbackKind::kDeliveryStatus);
  EXPECT_EQ(list[0].id, id.uuid);
  EXPECT_EQ(list[0].attempts, 2);
  EXPECT_EQ(list[0].dead_at, now_ + 11s);
  EXPECT_EQ(list[0].error, "HTTP 404");
  EXPECT_TRUE(dead(service_b_).empty()) << "another service's list";

  // Done for good is not dead; killing an id nobody has changes nothing and is no error.
  const NotificationId done = told(service_a_, now_ + 20s);
  ASSERT_EQ(claim(now_ + 20s).size(), 1u);
  ASSERT_TRUE(store_->finish_callback(done, std::nullopt));
  EXPECT_TRUE(store_->kill_callback(NotificationId{crypto::random_uuid()}, now_ + 21s, "HTTP 500"));
  EXPECT_TRUE(store_->kill_inbound_callback(crypto::random_uuid(), now_ + 21s, "HTTP 500"));
  EXPECT_EQ(ids_of(dead(service_a_)), std::vector<Uuid>{id.uuid});
}

TEST_P(CallbackDeadList, ListIsMostRecentlyDeadFirstTiesByIdAtMostLimitAndOfItsServiceOnly) {
  const NotificationId first = told(service_a_, now_);
  const NotificationId tie_b = told(service_a_, now_, kIdB);  // stored before a: the id orders them
  const NotificationId tie_a = told(service_a_, now_, kIdA);
  const Uuid sms = text(service_a_, now_);
  const NotificationId other = told(service_b_, now_);
  ASSERT_EQ(claim(now_).size(), 4u);
  ASSERT_EQ(claim_inbound(now_).size(), 1u);
  ASSERT_TRUE(store_->kill_callback(first, now_ + 5s, "HTTP 410"));
  ASSERT_TRUE(store_->kill_inbound_callback(sms, now_ + 6s, "timed out"));
  ASSERT_TRUE(store_->kill_callback(tie_b, now_ + 7s, "HTTP 404"));
  ASSERT_TRUE(store_->kill_callback(tie_a, now_ + 7s, "HTTP 404"));
  ASSERT_TRUE(store_->kill_callback(other, now_ + 8s, "HTTP 401"));

  const auto list = dead(service_a_);
  EXPECT_EQ(ids_of(list), (std::vector<Uuid>{kIdA, kIdB, sms, first.uuid}));
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[2].kind, CallbackKind::kInboundSms);
  EXPECT_EQ(list[2].error, "timed out");
  EXPECT_EQ(list[2].attempts, 1);
  EXPECT_EQ(list[3].kind, CallbackKind::kDeliveryStatus);
  EXPECT_EQ(ids_of(dead(service_a_, 2)), (std::vector<Uuid>{kIdA, kIdB}));
  EXPECT_TRUE(dead(service_a_, 0).empty());
  EXPECT_EQ(ids_of(dead(service_b_)), std::vector<Uuid>{other.uuid});
  EXPECT_TRUE(another()->dead_callbacks(ServiceId{crypto::random_uuid()}, 10)->empty());
}

TEST_P(CallbackDeadList, ReplayMakesItDueAtOnceWithAttemptsFromZeroAndTakesItOffTheList) {
  const NotificationId id = told(service_a_, now_);
  ASSERT_EQ(claim(now_).size(), 1u);
  ASSERT_EQ(claim(now_ + 60s).size(), 1u);  // its lease ran out: a second attempt
  ASSERT_TRUE(store_->kill_callback(id, now_ + 61s, "HTTP 503"));

  auto replayed = store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, id.uuid, now_ + 100s);
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_TRUE(*replayed);
  EXPECT_TRUE(dead(service_a_).empty());
  EXPECT_TRUE(claim(now_ + 99s).empty()) << "due from the replay's time";
  EXPECT_EQ(claim(now_ + 100s), (std::map<Uuid, int>{{id.uuid, 1}})) << "attempts counted from 0 again";
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, id.uuid, now_ + 101s))
      << "no longer dead";

  // Killed again, it is listed again, as any other.
  ASSERT_TRUE(store_->kill_callback(id, now_ + 102s, "HTTP 503"));
  EXPECT_EQ(ids_of(dead(service_a_)), std::vector<Uuid>{id.uuid});
  EXPECT_EQ(dead(service_a_)[0].attempts, 1);
}

TEST_P(CallbackDeadList, ReplayIsFalseForAnotherServicesALiveAnUnknownOrAnotherKindsCallback) {
  const NotificationId id = told(service_a_, now_);
  const Uuid sms = text(service_a_, now_);
  const NotificationId live = told(service_a_, now_);
  ASSERT_EQ(claim(now_).size(), 2u);
  ASSERT_EQ(claim_inbound(now_).size(), 1u);
  ASSERT_TRUE(store_->kill_callback(id, now_ + 1s, "HTTP 404"));
  ASSERT_TRUE(store_->kill_inbound_callback(sms, now_ + 1s, "HTTP 404"));

  EXPECT_FALSE(*store_->replay_callback(service_b_.id, CallbackKind::kDeliveryStatus, id.uuid, now_ + 2s))
      << "another service's";
  EXPECT_FALSE(*store_->replay_callback(service_b_.id, CallbackKind::kInboundSms, sms, now_ + 2s))
      << "another service's";
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kInboundSms, id.uuid, now_ + 2s))
      << "a notification is no received text";
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, sms, now_ + 2s))
      << "a received text is no notification";
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, live.uuid, now_ + 2s))
      << "not dead";
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, crypto::random_uuid(), now_))
      << "unknown";
  EXPECT_EQ(dead(service_a_).size(), 2u) << "still dead";
  EXPECT_EQ(claim(now_ + 1000s), (std::map<Uuid, int>{{live.uuid, 2}})) << "the live one as before, its lease over";
  EXPECT_TRUE(claim_inbound(now_ + 1000s).empty());
}

TEST_P(CallbackDeadList, AnOutcomeOrReceiptThatMakesItDueTakesItOffTheList) {
  // An outcome services hear of: due again, off the list.
  const NotificationId id = told(service_a_, now_);
  ASSERT_EQ(claim(now_).size(), 1u);
  ASSERT_TRUE(store_->kill_callback(id, now_ + 1s, "HTTP 404"));
  ASSERT_TRUE(store_->record_outcome(outcome(id, now_ + 2s, false)));
  EXPECT_EQ(dead(service_a_).size(), 1u) << "an outcome the service does not hear of leaves it dead";
  EXPECT_TRUE(claim(now_ + 1000s).empty());
  ASSERT_TRUE(store_->record_outcome(outcome(id, now_ + 3s, true)));
  EXPECT_TRUE(dead(service_a_).empty());
  EXPECT_EQ(claim(now_ + 3s), (std::map<Uuid, int>{{id.uuid, 2}})) << "claimed as any due callback";

  // A receipt from the provider that sent it.
  auto sms = fakes::sample_email(service_a_.id, now_, "447700900123");
  sms.type = Channel::kSms;
  ASSERT_TRUE(store_->insert_notification(sms));
  DeliveryOutcome sent{sms.id, NotificationStatus::kSending, now_ + 4s, now_ + 4s, std::nullopt, "firetext"};
  sent.callback = true;
  ASSERT_TRUE(store_->record_outcome(sent));
  ASSERT_EQ(claim(now_ + 4s).size(), 1u);
  ASSERT_TRUE(store_->kill_callback(sms.id, now_ + 5s, "timed out"));
  ASSERT_EQ(ids_of(dead(service_a_)), std::vector<Uuid>{sms.id.uuid});
  ASSERT_TRUE(
      *store_->apply_receipt(domain::receipt_for(sms.id, "firetext", NotificationStatus::kDelivered, now_ + 6s)));
  EXPECT_TRUE(dead(service_a_).empty());
  EXPECT_EQ(claim(now_ + 6s).count(sms.id.uuid), 1u);

  // The service has no delivery-status callback any more: an outcome makes none due, the dead one stays.
  const NotificationId kept = told(service_b_, now_);
  ASSERT_EQ(claim(now_).size(), 1u);
  ASSERT_TRUE(store_->kill_callback(kept, now_ + 1s, "HTTP 404"));
  ASSERT_TRUE(*store_->delete_service_callback(service_b_.id, CallbackKind::kDeliveryStatus));
  ASSERT_TRUE(store_->record_outcome(outcome(kept, now_ + 7s, true)));
  EXPECT_EQ(ids_of(dead(service_b_)), std::vector<Uuid>{kept.uuid});
  EXPECT_EQ(claim(now_ + 1000s).count(kept.uuid), 0u);
}

TEST_P(CallbackDeadList, RetentionAndErasureTakeItOffTheList) {
  const NotificationId old = told(service_a_, now_, std::nullopt, now_ - 48h);
  const NotificationId erased = told(service_a_, now_);
  const NotificationId recent = told(service_a_, now_);
  const Uuid old_text = text(service_a_, now_ - 48h);
  const Uuid recent_text = text(service_a_, now_);
  ASSERT_EQ(claim(now_).size(), 3u);
  ASSERT_EQ(claim_inbound(now_).size(), 2u);
  for (const NotificationId& id : {old, erased, recent}) ASSERT_TRUE(store_->kill_callback(id, now_ + 1s, "HTTP 404"));
  for (const Uuid& id : {old_text, recent_text}) ASSERT_TRUE(store_->kill_inbound_callback(id, now_ + 1s, "HTTP 404"));
  ASSERT_EQ(dead(service_a_).size(), 5u);

  ASSERT_TRUE(store_->redact_before(service_a_.id, now_ - 24h, now_ + 2s));
  auto left = ids_of(dead(service_a_));
  std::sort(left.begin(), left.end());
  std::vector<Uuid> expected{erased.uuid, recent.uuid, recent_text};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected) << "what the callback would send is gone";

  SubjectErasure erasure;
  erasure.service = service_a_.id;
  erasure.notifications = {erased};
  erasure.now = now_ + 3s;
  ASSERT_TRUE(store_->erase_subject(erasure));
  left = ids_of(dead(service_a_));
  std::sort(left.begin(), left.end());
  expected = {recent.uuid, recent_text};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected);

  // Killed after its data went (a claim that raced retention): never listed, never replayed.
  ASSERT_TRUE(store_->kill_callback(old, now_ + 4s, "HTTP 404"));
  EXPECT_EQ(dead(service_a_).size(), 2u);
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kDeliveryStatus, old.uuid, now_ + 5s));
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kInboundSms, old_text, now_ + 5s));
}

TEST_P(CallbackDeadList, ReceivedTextsDieAndAreReplayedTheSameWay) {
  const Uuid id = text(service_a_, now_);
  ASSERT_EQ(claim_inbound(now_), (std::map<Uuid, int>{{id, 1}}));
  ASSERT_TRUE(store_->finish_inbound_callback(id, now_ + 10s));
  ASSERT_EQ(claim_inbound(now_ + 10s), (std::map<Uuid, int>{{id, 2}}));
  ASSERT_TRUE(store_->kill_inbound_callback(id, now_ + 11s, "timed out"));
  EXPECT_TRUE(claim_inbound(now_ + 1000s).empty());
  auto list = dead(service_a_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kind, CallbackKind::kInboundSms);
  EXPECT_EQ(list[0].id, id);
  EXPECT_EQ(list[0].attempts, 2);
  EXPECT_EQ(list[0].dead_at, now_ + 11s);
  EXPECT_EQ(list[0].error, "timed out");
  EXPECT_TRUE(dead(service_b_).empty());

  EXPECT_TRUE(*store_->replay_callback(service_a_.id, CallbackKind::kInboundSms, id, now_ + 20s));
  EXPECT_TRUE(dead(service_a_).empty());
  EXPECT_TRUE(claim_inbound(now_ + 19s).empty());
  EXPECT_EQ(claim_inbound(now_ + 20s), (std::map<Uuid, int>{{id, 1}}));
  EXPECT_FALSE(*store_->replay_callback(service_a_.id, CallbackKind::kInboundSms, id, now_ + 21s)) << "not dead";
  ASSERT_TRUE(store_->finish_inbound_callback(id, std::nullopt));
  EXPECT_TRUE(dead(service_a_).empty()) << "done for good is not dead";
  EXPECT_TRUE(claim_inbound(now_ + 1000s).empty());
}

TEST_P(CallbackDeadList, GoLiveRequestIsSavedByUpdateServiceReadEverywhereAndCleared) {
  const Uuid admin = crypto::random_uuid();
  ServiceRecord requested = service_a_;
  requested.restricted = true;
  requested.go_live_requested_at = now_ + 1500us;
  requested.go_live_requested_by = admin;
  ASSERT_TRUE(store_->update_service(requested));

  auto other = another();
  auto by_id = other->find_service(service_a_.id);
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->go_live_requested_at, now_ + 1500us);
  EXPECT_EQ((*by_id)->go_live_requested_by, admin);
  EXPECT_TRUE((*by_id)->restricted) << "a request does not make the service live";
  auto by_name = other->find_service_by_name(service_a_.name);
  ASSERT_TRUE(by_name && *by_name);
  EXPECT_EQ((*by_name)->go_live_requested_at, now_ + 1500us);
  EXPECT_EQ((*by_name)->go_live_requested_by, admin);
  auto listed = other->list_services();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  for (const ServiceRecord& s : *listed) {
    EXPECT_EQ(s.go_live_requested_at, s.id == service_a_.id ? std::optional(now_ + 1500us) : std::nullopt) << s.name;
    EXPECT_EQ(s.go_live_requested_by, s.id == service_a_.id ? std::optional(admin) : std::nullopt) << s.name;
  }

  // Made live (or turned down): both cleared.
  ServiceRecord live = requested;
  live.restricted = false;
  live.go_live_requested_at.reset();
  live.go_live_requested_by.reset();
  ASSERT_TRUE(store_->update_service(live));
  by_id = other->find_service(service_a_.id);
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_FALSE((*by_id)->go_live_requested_at);
  EXPECT_FALSE((*by_id)->go_live_requested_by);
  EXPECT_FALSE((*by_id)->restricted);

  // A service created with a request (a copy) keeps it.
  ServiceRecord created = requested;
  created.id = ServiceId{crypto::random_uuid()};
  created.name = "Service C";
  ASSERT_TRUE(store_->create_service(created));
  auto found = other->find_service(created.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->go_live_requested_at, now_ + 1500us);
  EXPECT_EQ((*found)->go_live_requested_by, admin);
}

INSTANTIATE_TEST_SUITE_P(Backends, CallbackDeadList, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
