// The dashboard's part of the NotificationStore contract (store/store.h): daily counts by channel
// and status, providers' figures, and list_notifications over every key type and a creation range.
// Run against every backend as store_contract_test.cc runs the rest (SQLite, PostgreSQL and the
// in-memory store other unit tests use). Times are explicit, never the wall clock, so UTC days
// fall where the tests say.
#include <gtest/gtest.h>

#include <tuple>

#include "crypto/random.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

Timestamp at(const char* text) {
  auto parsed = parse_timestamp(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Timestamp{});
}

// 2026-03-01 and 2026-03-02 as days since 1970-01-01.
constexpr std::int64_t kMarch1 = 20513;
constexpr std::int64_t kMarch2 = 20514;
static_assert(std::chrono::sys_days{std::chrono::year{2026} / 3 / 1}.time_since_epoch().count() == kMarch1);

using Count = std::tuple<std::int64_t, Channel, NotificationStatus, std::int64_t>;

std::vector<Count> tuples(const std::vector<DailyStatusCount>& counts) {
  std::vector<Count> out;
  for (const DailyStatusCount& c : counts) out.emplace_back(c.day, c.type, c.status, c.count);
  return out;
}

std::vector<NotificationId> ids(const std::vector<NotificationRecord>& records) {
  std::vector<NotificationId> out;
  for (const NotificationRecord& r : records) out.push_back(r.id);
  return out;
}

class DashboardContract : public testing::TwoServicesContract {
 protected:
  DashboardContract() { now_ = at("2026-03-03T12:00:00.000000Z"); }
  // A stored notification of `service`, created at `created`.
  NotificationRecord stored(const ServiceRecord& service, Timestamp created, Channel type = Channel::kEmail,
                            NotificationStatus status = NotificationStatus::kCreated,
                            KeyType key_type = KeyType::kNormal) {
    NotificationRecord r = fakes::sample_email(service.id, created);
    r.type = type;
    r.status = status;
    r.key_type = key_type;
    auto inserted = store_->insert_notification(r);
    EXPECT_TRUE(inserted) << inserted.error().message;
    return r;
  }
  // What a worker records when `provider` took the notification and said `status` at `updated`.
  void outcome(const NotificationRecord& r, NotificationStatus status, Timestamp updated, const std::string& provider) {
    DeliveryOutcome o;
    o.id = r.id;
    o.status = status;
    o.updated_at = updated;
    o.sent_at = updated;
    o.sent_by = provider;
    auto recorded = store_->record_outcome(o);
    EXPECT_TRUE(recorded) << recorded.error().message;
  }
  std::vector<Count> counts(Timestamp from, Timestamp to, const ServiceRecord* service = nullptr) {
    auto got = store_->daily_status_counts((service ? *service : service_a_).id, from, to);
    EXPECT_TRUE(got) << got.error().message;
    return got ? tuples(*got) : std::vector<Count>{};
  }
  std::vector<ProviderStats> providers(Timestamp from, Timestamp to) {
    auto got = store_->provider_stats(service_a_.id, from, to);
    EXPECT_TRUE(got) << got.error().message;
    return got ? *got : std::vector<ProviderStats>{};
  }
  std::vector<NotificationId> listed(const NotificationQuery& query) {
    auto got = store_->list_notifications(query);
    EXPECT_TRUE(got) << got.error().message;
    return got ? ids(*got) : std::vector<NotificationId>{};
  }
};

TEST_P(DashboardContract, CountsAreByUtcDayThenChannelAndStatusNamesWithinTheRange) {
  using S = NotificationStatus;
  const Timestamp last_second = at("2026-03-01T23:59:59.000000Z");
  const Timestamp midnight = at("2026-03-02T00:00:00.000000Z");
  const Timestamp from = at("2026-03-01T08:00:00.000000Z");
  const Timestamp to = at("2026-03-02T18:00:00.000000Z");

  stored(service_a_, last_second);
  stored(service_a_, from, Channel::kEmail, S::kCreated, KeyType::kTest);  // the first microsecond counts
  outcome(stored(service_a_, last_second), S::kDelivered, midnight + 5s, "smtp");
  stored(service_a_, last_second, Channel::kSms, S::kCreated, KeyType::kTeam);
  // Letters sort between emails and texts, and cancelled before created: by name, not as declared.
  stored(service_a_, last_second, Channel::kLetter, S::kCreated);
  stored(service_a_, last_second, Channel::kLetter, S::kCancelled);
  stored(service_a_, midnight, Channel::kEmail, S::kCreated, KeyType::kTeam);
  stored(service_a_, midnight + 1h);
  // Outside [from, to), or another service's: never counted.
  stored(service_a_, from - 1us);
  stored(service_a_, to);
  stored(service_b_, last_second);
  stored(service_b_, midnight, Channel::kSms);

  EXPECT_EQ(counts(from, to), (std::vector<Count>{
                                  {kMarch1, Channel::kEmail, S::kCreated, 2},
                                  {kMarch1, Channel::kEmail, S::kDelivered, 1},
                                  {kMarch1, Channel::kLetter, S::kCancelled, 1},
                                  {kMarch1, Channel::kLetter, S::kCreated, 1},
                                  {kMarch1, Channel::kSms, S::kCreated, 1},
                                  {kMarch2, Channel::kEmail, S::kCreated, 2},
                              }));
  EXPECT_EQ(counts(from, to, &service_b_), (std::vector<Count>{
                                               {kMarch1, Channel::kEmail, S::kCreated, 1},
                                               {kMarch2, Channel::kSms, S::kCreated, 1},
                                           }));
  EXPECT_EQ(counts(midnight, midnight + 1h), (std::vector<Count>{{kMarch2, Channel::kEmail, S::kCreated, 1}}))
      << "from is in the range, to is not";
  EXPECT_TRUE(counts(to + 1us, to + 24h).empty());
  EXPECT_TRUE(store_->daily_status_counts(ServiceId{crypto::random_uuid()}, from, to)->empty());
}

TEST_P(DashboardContract, RedactedAndJobsNotificationsAreCountedWithTheirStatuses) {
  using S = NotificationStatus;
  const Timestamp day1 = at("2026-03-01T10:00:00.000000Z");
  const Timestamp day2 = at("2026-03-02T10:00:00.000000Z");
  outcome(stored(service_a_, day1), S::kDelivered, day1 + 2s, "smtp");
  stored(service_a_, day1);  // still undelivered when retention comes: failed by it
  auto redacted = store_->redact_before(service_a_.id, day1 + 1h, now_);
  ASSERT_TRUE(redacted) << redacted.error().message;
  ASSERT_EQ(redacted->redacted, 2);

  JobRecord job;
  job.id = crypto::random_uuid();
  job.service = service_a_.id;
  job.template_id = TemplateId{crypto::random_uuid()};
  job.type = Channel::kEmail;
  job.file_name = "list.csv";
  job.contents = "email address\nada@example.org\ngrace@example.org\n";
  job.row_count = 2;
  job.created_by = crypto::random_uuid();
  job.created_at = day2;
  ASSERT_TRUE(store_->create_job(job));
  ASSERT_TRUE(*store_->start_job(service_a_.id, job.id, day2));
  std::vector<NotificationRecord> rows = {fakes::sample_email(service_a_.id, day2, "ada@example.org"),
                                          fakes::sample_email(service_a_.id, day2, "grace@example.org")};
  auto saved = store_->save_job_rows(service_a_.id, job.id, 0, 2, rows, {0, 1}, day2);
  ASSERT_TRUE(saved && *saved) << (saved ? "not saved" : saved.error().message);

  EXPECT_EQ(counts(day1 - 24h, day2 + 24h), (std::vector<Count>{
                                                {kMarch1, Channel::kEmail, S::kDelivered, 1},
                                                {kMarch1, Channel::kEmail, S::kTechnicalFailure, 1},
                                                {kMarch2, Channel::kEmail, S::kCreated, 2},
                                            }));
  // GOV.UK's list leaves all of them out (redacted; a job's), the counts do not.
  NotificationQuery query;
  query.service = service_a_.id;
  query.any_key_type = true;
  EXPECT_TRUE(listed(query).empty());
  auto stats = providers(day1 - 24h, day2 + 24h);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].provider, "smtp");
  EXPECT_EQ(stats[0].delivered, 1) << "a redacted notification still counts for its provider";
  EXPECT_DOUBLE_EQ(stats[0].mean_seconds_to_delivered, 2.0);
}

TEST_P(DashboardContract, ProviderStatsCountWhatEachProviderTookAndTimeTheDelivered) {
  using S = NotificationStatus;
  const Timestamp t = at("2026-03-01T23:00:00.000000Z");
  // mmg: delivered after 10 s (a receipt), sent abroad after 21 s, one failed, one still with it.
  const NotificationRecord receipted = stored(service_a_, t, Channel::kSms);
  outcome(receipted, S::kSending, t + 1s, "mmg");
  DeliveryReceipt receipt;
  receipt.id = receipted.id;
  receipt.provider = "mmg";
  receipt.status = S::kDelivered;
  receipt.received_at = t + 10s;
  receipt.transitions = {{S::kSending, S::kDelivered}};
  auto applied = store_->apply_receipt(receipt);
  ASSERT_TRUE(applied && *applied) << (applied ? "not applied" : applied.error().message);
  outcome(stored(service_a_, t + 2h, Channel::kSms), S::kSent, t + 2h + 21s, "mmg");  // the next UTC day
  outcome(stored(service_a_, t, Channel::kSms), S::kPermanentFailure, t + 3s, "mmg");
  outcome(stored(service_a_, t, Channel::kSms), S::kSending, t + 1s, "mmg");
  // smtp: one delivered after 1.5 s, one the worker could not hand over, one test key's bounce.
  outcome(stored(service_a_, t), S::kDelivered, t + 1500ms, "smtp");
  outcome(stored(service_a_, t), S::kTechnicalFailure, t + 1s, "smtp");
  outcome(stored(service_a_, t, Channel::kEmail, S::kCreated, KeyType::kTest), S::kTemporaryFailure, t + 1s, "smtp");
  // firetext: nothing delivered, so no mean; a letter supplier's returned letter is a failure.
  outcome(stored(service_a_, t, Channel::kSms), S::kTemporaryFailure, t + 1s, "firetext");
  outcome(stored(service_a_, t, Channel::kLetter), S::kReturnedLetter, t + 48h, "dvla");
  // Not counted: never taken by a provider, outside the range, another service's.
  stored(service_a_, t);
  outcome(stored(service_a_, t - 24h), S::kDelivered, t, "smtp");
  outcome(stored(service_b_, t), S::kDelivered, t + 1s, "smtp");

  const auto stats = providers(t - 1h, t + 24h);
  ASSERT_EQ(stats.size(), 4u);
  EXPECT_EQ(stats[0].provider, "dvla");
  EXPECT_EQ(stats[0].sent, 1);
  EXPECT_EQ(stats[0].delivered, 0);
  EXPECT_EQ(stats[0].failed, 1);
  EXPECT_EQ(stats[0].mean_seconds_to_delivered, 0.0);
  EXPECT_EQ(stats[1].provider, "firetext");
  EXPECT_EQ(stats[1].sent, 1);
  EXPECT_EQ(stats[1].delivered, 0);
  EXPECT_EQ(stats[1].failed, 1);
  EXPECT_EQ(stats[1].mean_seconds_to_delivered, 0.0);
  EXPECT_EQ(stats[2].provider, "mmg");
  EXPECT_EQ(stats[2].sent, 4);
  EXPECT_EQ(stats[2].delivered, 2) << "sent (abroad) counts as delivered";
  EXPECT_EQ(stats[2].failed, 1) << "the one still sending is neither";
  EXPECT_DOUBLE_EQ(stats[2].mean_seconds_to_delivered, 15.5) << "(10 + 21) / 2";
  EXPECT_EQ(stats[3].provider, "smtp");
  EXPECT_EQ(stats[3].sent, 3);
  EXPECT_EQ(stats[3].delivered, 1);
  EXPECT_EQ(stats[3].failed, 2);
  EXPECT_DOUBLE_EQ(stats[3].mean_seconds_to_delivered, 1.5);

  const auto later = providers(t + 1h, t + 24h);
  ASSERT_EQ(later.size(), 1u) << "[from, to) as the counts";
  EXPECT_EQ(later[0].provider, "mmg");
  EXPECT_EQ(later[0].sent, 1);
  EXPECT_DOUBLE_EQ(later[0].mean_seconds_to_delivered, 21.0);
  EXPECT_TRUE(providers(t + 24h, t + 48h).empty());
}

TEST_P(DashboardContract, ListingTakesEveryKeyTypeOnlyWhenAskedAndBoundsCreation) {
  const Timestamp t0 = at("2026-03-01T09:00:00.000000Z");
  const NotificationRecord normal0 = stored(service_a_, t0);
  const NotificationRecord test1 =
      stored(service_a_, t0 + 1s, Channel::kSms, NotificationStatus::kCreated, KeyType::kTest);
  const NotificationRecord team2 =
      stored(service_a_, t0 + 2s, Channel::kEmail, NotificationStatus::kCreated, KeyType::kTeam);
  const NotificationRecord normal3 = stored(service_a_, t0 + 3s);
  stored(service_b_, t0 + 1s);
  stored(service_b_, t0 + 2s, Channel::kEmail, NotificationStatus::kCreated, KeyType::kTest);

  NotificationQuery query;
  query.service = service_a_.id;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{normal3.id, normal0.id})) << "normal keys' by default";
  query.key_type = KeyType::kTest;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{test1.id}));

  query.any_key_type = true;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{normal3.id, team2.id, test1.id, normal0.id}))
      << "key_type ignored";
  query.created_from = t0 + 1s;
  query.created_before = t0 + 3s;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{team2.id, test1.id})) << "[created_from, created_before)";
  query.created_before.reset();
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{normal3.id, team2.id, test1.id}));
  query.created_from.reset();
  query.created_before = t0 + 2s;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{test1.id, normal0.id}));

  // With the other filters and paging as before.
  query.created_from = t0;
  query.created_before = t0 + 1h;
  query.types = {Channel::kEmail};
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{normal3.id, team2.id, normal0.id}));
  query.types.clear();
  query.older_than = team2.id;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{test1.id, normal0.id}));
  query.limit = 1;
  EXPECT_EQ(listed(query), (std::vector<NotificationId>{test1.id}));

  // A range without any_key_type still keeps to the key type.
  NotificationQuery normal_only;
  normal_only.service = service_a_.id;
  normal_only.created_from = t0;
  normal_only.created_before = t0 + 3s;
  EXPECT_EQ(listed(normal_only), (std::vector<NotificationId>{normal0.id}));
  normal_only.key_type = KeyType::kTeam;
  EXPECT_EQ(listed(normal_only), (std::vector<NotificationId>{team2.id}));
  normal_only.created_before = t0 + 2s;
  EXPECT_TRUE(listed(normal_only).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, DashboardContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
