// The JobStore contract (store/store.h): jobs uploaded in the admin UI to send to a list, and the
// notifications of their rows, run against every backend as store_contract_test.cc runs the rest
// (SQLite, PostgreSQL, and the in-memory store other unit tests use). Checks of sealed bytes and
// of what reaches the disk run where there is one (`on_disk()`).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/data_keys.h"
#include "crypto/random.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

class JobStoreContract : public testing::TwoServicesContract {
 protected:
  // The store opened again, with cipher_ as it is now.
  void reopen() {
    store_.reset();
    auto opened = backend_->open(cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  // A new job of `service` (not stored), created `offset` after now_.
  JobRecord job(const ServiceRecord& service, Duration offset = Duration::zero(), int row_count = 3) {
    JobRecord j;
    j.id = crypto::random_uuid();
    j.service = service.id;
    j.template_id = TemplateId{crypto::random_uuid()};
    j.template_version = 2;
    j.type = Channel::kEmail;
    j.file_name = "list.csv";
    j.contents = "email address,name\nada@example.org,Ada\ngrace@example.org,Grace\nalan@example.org,Alan\n";
    j.row_count = row_count;
    j.created_by = crypto::random_uuid();
    j.created_at = now_ + offset;
    return j;
  }
  // A stored, started job of service A.
  JobRecord running_job(int row_count = 3) {
    JobRecord j = job(service_a_, Duration::zero(), row_count);
    auto created = store_->create_job(j);
    EXPECT_TRUE(created) << created.error().message;
    auto started = store_->start_job(service_a_.id, j.id, now_);
    EXPECT_TRUE(started && *started);
    return j;
  }
  // Notifications of service A for rows [from, to), as the worker makes them.
  std::vector<NotificationRecord> row_notifications(int from, int to) {
    std::vector<NotificationRecord> out;
    for (int row = from; row < to; ++row) {
      out.push_back(fakes::sample_email(service_a_.id, now_, "row" + std::to_string(row) + "@example.org"));
    }
    return out;
  }
  static std::vector<int> row_numbers(int from, int to) {
    std::vector<int> out;
    for (int row = from; row < to; ++row) out.push_back(row);
    return out;
  }
  std::map<NotificationStatus, std::int64_t> counts(Uuid job) {
    auto counted = store_->job_status_counts(service_a_.id, job);
    EXPECT_TRUE(counted) << counted.error().message;
    std::map<NotificationStatus, std::int64_t> out;
    if (counted) {
      for (const auto& [status, n] : *counted) out[status] += n;
    }
    return out;
  }
  std::vector<NotificationRecord> listed(bool include_jobs) {
    NotificationQuery query;
    query.service = service_a_.id;
    query.include_jobs = include_jobs;
    auto out = store_->list_notifications(query);
    EXPECT_TRUE(out) << out.error().message;
    return out ? std::move(*out) : std::vector<NotificationRecord>{};
  }
};

TEST_P(JobStoreContract, JobIsCreatedPendingAndFoundWithItsFileByItsServiceOnly) {
  JobRecord j = job(service_a_, 1s);
  j.type = Channel::kSms;
  j.file_name = "Clinic list – März.csv";
  j.contents = std::string("phone number\n07700900001\n\xc3\xa9") + '\0' + "end";
  // What the store decides, whatever the caller says.
  j.status = JobStatus::kFinished;
  j.next_row = 2;
  j.started_at = now_;
  j.finished_at = now_;
  ASSERT_TRUE(store_->create_job(j));

  auto found = another()->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  const JobRecord& f = **found;
  EXPECT_EQ(f.id, j.id);
  EXPECT_EQ(f.service, service_a_.id);
  EXPECT_EQ(f.template_id, j.template_id);
  EXPECT_EQ(f.template_version, 2);
  EXPECT_EQ(f.type, Channel::kSms);
  EXPECT_EQ(f.file_name, j.file_name);
  EXPECT_EQ(f.contents, j.contents) << "the file's bytes round-trip";
  EXPECT_EQ(f.row_count, 3);
  EXPECT_EQ(f.next_row, 0);
  EXPECT_EQ(f.status, JobStatus::kPending);
  EXPECT_EQ(f.created_by, j.created_by);
  EXPECT_EQ(f.created_at, j.created_at);
  EXPECT_FALSE(f.started_at);
  EXPECT_FALSE(f.finished_at);

  EXPECT_FALSE(*store_->find_job(service_b_.id, j.id)) << "another service's job";
  EXPECT_FALSE(*store_->find_job(service_a_.id, crypto::random_uuid()));

  auto again = store_->create_job(j);
  ASSERT_FALSE(again) << "the same id twice";
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  JobRecord orphan = job(service_a_);
  orphan.service = ServiceId{crypto::random_uuid()};
  auto refused = store_->create_job(orphan);
  ASSERT_FALSE(refused) << "a job of no service";
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(JobStoreContract, JobsOfAServiceAreListedNewestFirstWithoutContents) {
  JobRecord oldest = job(service_a_, -2h);
  JobRecord newest = job(service_a_, 1h);
  newest.file_name = "newest.csv";
  JobRecord tie_a = job(service_a_);
  JobRecord tie_b = job(service_a_);
  JobRecord others = job(service_b_, 2h);
  for (const JobRecord* j : {&oldest, &newest, &tie_a, &tie_b, &others}) ASSERT_TRUE(store_->create_job(*j));
  // Created in the same microsecond: the larger id first (created_at, then id, descending).
  const bool a_first = tie_a.id.to_string() > tie_b.id.to_string();
  const Uuid first_tie = a_first ? tie_a.id : tie_b.id;
  const Uuid second_tie = a_first ? tie_b.id : tie_a.id;

  auto all = store_->jobs_for_service(service_a_.id, 10);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, newest.id);
  EXPECT_EQ((*all)[1].id, first_tie);
  EXPECT_EQ((*all)[2].id, second_tie);
  EXPECT_EQ((*all)[3].id, oldest.id);
  EXPECT_EQ((*all)[0].file_name, "newest.csv") << "file names are listed";
  for (const JobRecord& j : *all) {
    EXPECT_EQ(j.service, service_a_.id);
    EXPECT_EQ(j.contents, "") << "listings leave the contents out";
    EXPECT_EQ(j.row_count, 3);
    EXPECT_EQ(j.status, JobStatus::kPending);
  }

  auto page = store_->jobs_for_service(service_a_.id, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, newest.id);
  EXPECT_EQ((*page)[1].id, first_tie);
  auto of_b = store_->jobs_for_service(service_b_.id, 10);
  ASSERT_TRUE(of_b);
  ASSERT_EQ(of_b->size(), 1u);
  EXPECT_EQ((*of_b)[0].id, others.id);
  EXPECT_TRUE(store_->jobs_for_service(ServiceId{crypto::random_uuid()}, 10)->empty());
}

TEST_P(JobStoreContract, JobStartsOnceAndOnlyForItsServiceThenIsInProgress) {
  JobRecord later = job(service_a_, 1h);
  JobRecord earlier = job(service_b_, -1h);
  JobRecord pending = job(service_a_, -2h);
  for (const JobRecord* j : {&later, &earlier, &pending}) ASSERT_TRUE(store_->create_job(*j));

  EXPECT_FALSE(*store_->start_job(service_b_.id, later.id, now_)) << "not service B's";
  EXPECT_FALSE(*store_->start_job(service_a_.id, crypto::random_uuid(), now_)) << "no such job";
  EXPECT_TRUE(*store_->start_job(service_a_.id, later.id, now_ + 1min));
  EXPECT_FALSE(*another()->start_job(service_a_.id, later.id, now_ + 2min)) << "a second click, or another node";
  EXPECT_TRUE(*store_->start_job(service_b_.id, earlier.id, now_));

  auto started = store_->find_job(service_a_.id, later.id);
  ASSERT_TRUE(started && *started);
  EXPECT_EQ((*started)->status, JobStatus::kInProgress);
  EXPECT_EQ((*started)->started_at, now_ + 1min) << "the first start's time";
  EXPECT_EQ((*started)->contents, later.contents);

  auto running = store_->jobs_in_progress(10);
  ASSERT_TRUE(running) << running.error().message;
  ASSERT_EQ(running->size(), 2u) << "every service's, and not the pending one";
  EXPECT_EQ((*running)[0].id, earlier.id) << "oldest first";
  EXPECT_EQ((*running)[0].service, service_b_.id);
  EXPECT_EQ((*running)[1].id, later.id);
  for (const JobRecord& j : *running) {
    EXPECT_EQ(j.status, JobStatus::kInProgress);
    EXPECT_EQ(j.file_name, "") << "without the file";
    EXPECT_EQ(j.contents, "");
    EXPECT_EQ(j.row_count, 3);
  }
  auto one = store_->jobs_in_progress(1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, earlier.id);
}

TEST_P(JobStoreContract, RowsAreSavedOnlyFromWhereTheJobHasReachedAndFinishItAtTheEnd) {
  const JobRecord j = running_job(3);

  // Not where the job is: nothing stored.
  auto wrong = row_notifications(1, 3);
  auto saved = store_->save_job_rows(service_a_.id, j.id, 1, 3, wrong, row_numbers(1, 3), now_);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_FALSE(*saved);
  for (const NotificationRecord& n : wrong) EXPECT_FALSE(*store_->find_notification(service_a_.id, n.id));
  EXPECT_TRUE(counts(j.id).empty());
  EXPECT_FALSE(*store_->save_job_rows(service_b_.id, j.id, 0, 1, {}, {}, now_)) << "not service B's job";

  auto first = row_notifications(0, 2);
  saved = store_->save_job_rows(service_a_.id, j.id, 0, 2, first, row_numbers(0, 2), now_ + 1s);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_TRUE(*saved);
  auto found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->next_row, 2);
  EXPECT_EQ((*found)->status, JobStatus::kInProgress);
  EXPECT_FALSE((*found)->finished_at);
  EXPECT_EQ(counts(j.id), (std::map<NotificationStatus, std::int64_t>{{NotificationStatus::kCreated, 2}}));
  auto stored = store_->find_notification(service_a_.id, first[1].id);
  ASSERT_TRUE(stored && *stored) << "found by id like any other";
  EXPECT_EQ((*stored)->recipient, "row1@example.org");
  // The same rows again (another worker that read the job before): refused.
  EXPECT_FALSE(*another()->save_job_rows(service_a_.id, j.id, 0, 2, row_notifications(0, 2), row_numbers(0, 2), now_));
  EXPECT_EQ(counts(j.id)[NotificationStatus::kCreated], 2);

  // GOV.UK's API lists only what was sent through it, unless asked for the jobs' too.
  NotificationRecord by_api = fakes::sample_email(service_a_.id, now_ - 1s, "api@example.org");
  ASSERT_TRUE(store_->insert_notification(by_api));
  auto api_only = listed(false);
  ASSERT_EQ(api_only.size(), 1u);
  EXPECT_EQ(api_only[0].id, by_api.id);
  EXPECT_EQ(listed(true).size(), 3u);

  // The worker sends them like any other.
  auto claimed = store_->claim_due(10, now_ + 2s, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::set<NotificationId> ids;
  for (const NotificationRecord& n : *claimed) ids.insert(n.id);
  EXPECT_EQ(ids, (std::set<NotificationId>{first[0].id, first[1].id, by_api.id}));
  DeliveryOutcome delivered;
  delivered.id = first[0].id;
  delivered.status = NotificationStatus::kDelivered;
  delivered.updated_at = delivered.sent_at.emplace(now_ + 3s);
  ASSERT_TRUE(store_->record_outcome(delivered));
  EXPECT_EQ(counts(j.id), (std::map<NotificationStatus, std::int64_t>{{NotificationStatus::kSending, 1},
                                                                      {NotificationStatus::kDelivered, 1}}));

  // The last row: it had an error, so no notification (and one not queued stays unclaimed).
  auto last = row_notifications(2, 3);
  last[0].queued = false;
  saved = store_->save_job_rows(service_a_.id, j.id, 2, 3, last, {2}, now_ + 5s);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_TRUE(*saved);
  found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->next_row, 3);
  EXPECT_EQ((*found)->status, JobStatus::kFinished);
  EXPECT_EQ((*found)->finished_at, now_ + 5s);
  EXPECT_TRUE(store_->claim_due(10, now_ + 6s, 60s)->empty()) << "not queued";
  EXPECT_EQ(counts(j.id)[NotificationStatus::kCreated], 1);
  EXPECT_FALSE(*store_->save_job_rows(service_a_.id, j.id, 3, 3, {}, {}, now_)) << "finished: no more rows";
  EXPECT_TRUE(store_->jobs_in_progress(10)->empty());

  // A job not started takes no rows.
  JobRecord pending = job(service_a_);
  ASSERT_TRUE(store_->create_job(pending));
  EXPECT_FALSE(*store_->save_job_rows(service_a_.id, pending.id, 0, 1, {}, {}, now_));
  EXPECT_TRUE(store_->job_status_counts(service_b_.id, j.id)->empty()) << "another service's job";
}

TEST_P(JobStoreContract, RowsMustMatchTheirNumbersAndTheJob) {
  const JobRecord j = running_job(2);
  auto two = row_notifications(0, 2);
  auto mismatched = store_->save_job_rows(service_a_.id, j.id, 0, 2, two, {0}, now_);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, ErrorCode::kInvalidArgument);
  auto past_end = store_->save_job_rows(service_a_.id, j.id, 0, 3, row_notifications(0, 3), row_numbers(0, 3), now_);
  ASSERT_FALSE(past_end);
  EXPECT_EQ(past_end.error().code, ErrorCode::kInvalidArgument);
  auto found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->next_row, 0) << "nothing moved";
  EXPECT_TRUE(counts(j.id).empty()) << "nothing stored";
  EXPECT_TRUE(*store_->save_job_rows(service_a_.id, j.id, 0, 2, two, row_numbers(0, 2), now_));
}

// Two workers (on two nodes) saving the same rows at once: one stores them, the other nothing.
TEST_P(JobStoreContract, OfWorkersRacingToSaveTheSameRowsExactlyOneWins) {
  const JobRecord j = running_job(4);
  std::vector<std::shared_ptr<Store>> nodes{store_, another()};
  ASSERT_TRUE(nodes[1]);
  std::vector<std::vector<NotificationRecord>> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(row_notifications(0, 2));
  std::atomic<int> wins{0}, failures{0};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    threads.emplace_back([&, i, node = nodes[i % nodes.size()]] {
      auto saved = node->save_job_rows(service_a_.id, j.id, 0, 2, batches[i], row_numbers(0, 2), now_);
      if (!saved) {
        ++failures;
      } else if (*saved) {
        ++wins;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(counts(j.id), (std::map<NotificationStatus, std::int64_t>{{NotificationStatus::kCreated, 2}}));
  EXPECT_EQ((*store_->find_job(service_a_.id, j.id))->next_row, 2);
  EXPECT_EQ(listed(true).size(), 2u) << "only the winner's notifications";
}

TEST_P(JobStoreContract, PendingJobIsCancelledOnceAndThenNeverStarts) {
  const JobRecord j = job(service_a_);
  ASSERT_TRUE(store_->create_job(j));

  auto cancelled = store_->cancel_job(service_a_.id, j.id, now_ + 1min);
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_TRUE(*cancelled);
  auto found = another()->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, JobStatus::kCancelled);
  EXPECT_EQ((*found)->finished_at, now_ + 1min);
  EXPECT_FALSE((*found)->started_at) << "it never started";
  EXPECT_EQ((*found)->contents, j.contents) << "the file stays, until retention";

  EXPECT_FALSE(*store_->start_job(service_a_.id, j.id, now_ + 2min)) << "a cancelled job never starts";
  EXPECT_FALSE(*another()->cancel_job(service_a_.id, j.id, now_ + 3min)) << "cancelled already";
  found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, JobStatus::kCancelled);
  EXPECT_EQ((*found)->finished_at, now_ + 1min) << "the first cancel's time";
  auto listing = store_->jobs_for_service(service_a_.id, 10);
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->size(), 1u);
  EXPECT_EQ((*listing)[0].status, JobStatus::kCancelled);
  EXPECT_EQ((*listing)[0].finished_at, now_ + 1min);
  EXPECT_TRUE(store_->jobs_in_progress(10)->empty());
}

TEST_P(JobStoreContract, CancelledJobTakesNoMoreRowsAndKeepsThoseSaved) {
  const JobRecord j = running_job(4);
  JobRecord others = job(service_b_, 1s);
  ASSERT_TRUE(store_->create_job(others));
  ASSERT_TRUE(*store_->start_job(service_b_.id, others.id, now_));
  auto first = row_notifications(0, 2);
  ASSERT_TRUE(*store_->save_job_rows(service_a_.id, j.id, 0, 2, first, row_numbers(0, 2), now_ + 1s));

  auto cancelled = another()->cancel_job(service_a_.id, j.id, now_ + 10s);
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_TRUE(*cancelled);

  // The worker, still holding the job, saves the next rows: refused, nothing stored.
  auto next = row_notifications(2, 4);
  auto saved = store_->save_job_rows(service_a_.id, j.id, 2, 4, next, row_numbers(2, 4), now_ + 11s);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_FALSE(*saved);
  for (const NotificationRecord& n : next) EXPECT_FALSE(*store_->find_notification(service_a_.id, n.id));
  auto found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, JobStatus::kCancelled);
  EXPECT_EQ((*found)->finished_at, now_ + 10s) << "not the refused save's time";
  EXPECT_EQ((*found)->started_at, now_);
  EXPECT_EQ((*found)->next_row, 2) << "where it stopped";

  auto running = store_->jobs_in_progress(10);
  ASSERT_TRUE(running) << running.error().message;
  ASSERT_EQ(running->size(), 1u) << "the cancelled job is left out";
  EXPECT_EQ((*running)[0].id, others.id);

  // The notifications already saved stay, and are sent like any others.
  EXPECT_EQ(counts(j.id), (std::map<NotificationStatus, std::int64_t>{{NotificationStatus::kCreated, 2}}));
  auto claimed = store_->claim_due(10, now_ + 12s, 60s);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::set<NotificationId> ids;
  for (const NotificationRecord& n : *claimed) ids.insert(n.id);
  EXPECT_EQ(ids, (std::set<NotificationId>{first[0].id, first[1].id}));
}

TEST_P(JobStoreContract, OnlyItsServiceCancelsAJobAndNeverOnceFinished) {
  const JobRecord pending = job(service_a_);
  ASSERT_TRUE(store_->create_job(pending));
  EXPECT_FALSE(*store_->cancel_job(service_b_.id, pending.id, now_)) << "not service B's";
  EXPECT_FALSE(*store_->cancel_job(service_a_.id, crypto::random_uuid(), now_)) << "no such job";
  auto found = store_->find_job(service_a_.id, pending.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, JobStatus::kPending) << "unchanged";
  EXPECT_FALSE((*found)->finished_at);
  EXPECT_TRUE(*store_->start_job(service_a_.id, pending.id, now_)) << "and still starts";

  const JobRecord j = running_job(1);
  ASSERT_TRUE(*store_->save_job_rows(service_a_.id, j.id, 0, 1, row_notifications(0, 1), {0}, now_ + 5s));
  auto cancelled = store_->cancel_job(service_a_.id, j.id, now_ + 10s);
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_FALSE(*cancelled) << "finished: nothing left to cancel";
  found = store_->find_job(service_a_.id, j.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, JobStatus::kFinished);
  EXPECT_EQ((*found)->finished_at, now_ + 5s);
}

TEST_P(JobStoreContract, RetentionEmptiesTheFilesOfJobsBeforeTheCutoff) {
  const JobRecord old_job = job(service_a_, -240h);
  const JobRecord recent = job(service_a_);
  const JobRecord others_old = job(service_b_, -240h);
  for (const JobRecord* j : {&old_job, &recent, &others_old}) ASSERT_TRUE(store_->create_job(*j));
  ASSERT_TRUE(*store_->start_job(service_a_.id, old_job.id, now_ - 239h));

  auto outcome = store_->redact_before(service_a_.id, now_ - 24h, now_);
  ASSERT_TRUE(outcome) << outcome.error().message;

  auto emptied = another()->find_job(service_a_.id, old_job.id);
  ASSERT_TRUE(emptied && *emptied) << "the job stays, for its counts";
  EXPECT_EQ((*emptied)->file_name, "");
  EXPECT_EQ((*emptied)->contents, "");
  EXPECT_EQ((*emptied)->status, JobStatus::kInProgress);
  EXPECT_EQ((*emptied)->row_count, 3);
  auto kept = store_->find_job(service_a_.id, recent.id);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->contents, recent.contents) << "after the cutoff";
  auto others = store_->find_job(service_b_.id, others_old.id);
  ASSERT_TRUE(others && *others);
  EXPECT_EQ((*others)->contents, others_old.contents) << "another service's";
  auto listing = store_->jobs_for_service(service_a_.id, 10);
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[1].id, old_job.id);
  EXPECT_EQ((*listing)[1].file_name, "");
}

// Retention shreds the day's data key: the job's file cannot be opened, so the job is gone.
TEST_P(JobStoreContract, JobWhoseDataKeyIsGoneIsNotFoundNorListed) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about sealed bytes; the in-memory store seals nothing";
  auto keys = std::make_shared<testing::ShreddableDataKeys>();
  cipher_ = std::make_shared<crypto::FieldCipher>(keys, crypto::FieldCipher::Mode::kEncrypt);
  reopen();
  const JobRecord first_day = job(service_a_, -24h);
  const JobRecord next_day = job(service_a_);
  ASSERT_TRUE(store_->create_job(first_day));
  ASSERT_TRUE(store_->create_job(next_day));
  keys->destroy(crypto::notification_scope(service_a_.id.to_string(), now_ - 24h), true);

  auto found = store_->find_job(service_a_.id, first_day.id);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
  auto listing = store_->jobs_for_service(service_a_.id, 10);
  ASSERT_TRUE(listing) << listing.error().message;
  ASSERT_EQ(listing->size(), 1u);
  EXPECT_EQ((*listing)[0].id, next_day.id);
  auto kept = store_->find_job(service_a_.id, next_day.id);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->contents, next_day.contents);
}

// The uploaded file's name and contents never reach the disk in plain text (the database file
// and its write-ahead log on SQLite; the whole cluster's files, WAL included, on PostgreSQL).
TEST_P(JobStoreContract, JobFilesAreSealedOnDiskCanary) {
  if (!backend_->on_disk()) GTEST_SKIP() << "the in-memory store keeps nothing on disk";
  JobRecord emails = job(service_a_);
  emails.file_name = "canary-list-jobfile-4d1e.csv";
  emails.contents = "email address,name\ncanary.jobrow.5b2c@example.org,Canaryperson Listname\n";
  emails.row_count = 1;
  JobRecord texts = job(service_a_, 1s);
  texts.type = Channel::kSms;
  texts.file_name = "07700 900 817 canary texts.csv";
  texts.contents = "phone number\n07700900817\n+447700900817\n";
  texts.row_count = 2;
  ASSERT_TRUE(store_->create_job(emails));
  ASSERT_TRUE(store_->create_job(texts));
  ASSERT_TRUE(*store_->start_job(service_a_.id, emails.id, now_));
  NotificationRecord row = fakes::sample_email(service_a_.id, now_, "canary.jobrow.5b2c@example.org");
  ASSERT_TRUE(*store_->save_job_rows(service_a_.id, emails.id, 0, 1, {row}, {0}, now_));
  ASSERT_TRUE(store_->find_job(service_a_.id, texts.id)->has_value());

  const std::string disk = backend_->raw_bytes();
  EXPECT_NE(disk.find(emails.id.to_string()), std::string::npos)
      << "the job's row itself must be on disk, or the scan proves nothing";
  for (const char* canary : {"canary-list-jobfile", "canary.jobrow", "Canaryperson", "07700 900 817", "07700900817",
                             "+447700900817", "canary texts"}) {
    EXPECT_EQ(disk.find(canary), std::string::npos) << canary;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JobStoreContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
