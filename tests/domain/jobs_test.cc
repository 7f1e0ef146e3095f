// domain::Jobs, sending to a list, on the in-memory store (which passes the JobStore contract
// suite) and a fake clock: each row is checked with the API's own rules and messages, a started
// job's rows become notifications exactly once, a chunk at a time, and the daily limit pauses a
// job rather than dropping its rows.
#include "domain/jobs.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = clock_.now();
    service_.permissions = {"email", "sms", "letter"};
    ASSERT_TRUE(store_.create_service(service_));
    email_ = add_template(store::Channel::kEmail, "Hello ((name))", "Dear ((name)), see you on ((day)).");
    sms_ = add_template(store::Channel::kSms, "", "Hi ((name))");
    notifications_.on_queued([this] { ++wakes_; });
  }

  store::TemplateRecord add_template(store::Channel type, std::string subject, std::string body) {
    store::TemplateRecord t;
    t.id = TemplateId{crypto::random_uuid()};
    t.service = service_.id;
    t.name = "T " + t.id.to_string();
    t.type = type;
    t.subject = std::move(subject);
    t.body = std::move(body);
    t.created_at = clock_.now();
    EXPECT_TRUE(store_.create_template(t));
    return t;
  }

  // A list of `n` people to email, each with their own address.
  static std::string email_list(int n) {
    std::string csv = "email address,name,day\n";
    for (int i = 0; i < n; ++i)
      csv += "person" + std::to_string(i) + "@example.com,P" + std::to_string(i) + ",Monday\n";
    return csv;
  }

  store::JobRecord started(const store::TemplateRecord& t, std::string csv) {
    auto job = jobs_.upload(service_.id, t, "list.csv", std::move(csv), user_, clock_.now());
    EXPECT_TRUE(job) << job.error().message;
    auto start = jobs_.start(service_.id, job->id, clock_.now());
    EXPECT_TRUE(start && *start);
    return *job;
  }

  std::vector<store::NotificationRecord> sent(int at_most = 5000) {
    store::NotificationQuery query;
    query.service = service_.id;
    query.include_jobs = true;
    query.limit = at_most;
    auto listed = store_.list_notifications(query);
    EXPECT_TRUE(listed);
    return listed ? *listed : std::vector<store::NotificationRecord>{};
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  Notifications notifications_{store_, {}};
  Letters letters_{store_, notifications_};
  Jobs jobs_{store_, store_, notifications_, &letters_};
  store::ServiceRecord service_;
  store::TemplateRecord email_;
  store::TemplateRecord sms_;
  Uuid user_ = crypto::random_uuid();
  int wakes_ = 0;
};

TEST_F(JobsTest, ACheckGivesEachBadRowTheApisMessageAndMatchesColumnsAsGovUkDoes) {
  // Column names match placeholders whatever their case, spaces, '_' or '-'; extra columns are
  // left alone; blank rows are not rows.
  const std::string csv =
      "Email_Address,NAME,Day,notes\n"
      "ada@example.com,Ada,Monday,x\n"
      "not-an-address,Bob,Monday,\n"
      ",,,\n"
      "cy@example.com,,Monday,\n"
      "dee@example.com,Dee,Tuesday,\n";
  auto checked = jobs_.check(service_.id, email_, csv, clock_.now());
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_TRUE(checked->problems.empty());
  EXPECT_EQ(checked->rows, 4);
  EXPECT_EQ(checked->sendable, 2);
  EXPECT_EQ(checked->row_errors_total, 2);
  ASSERT_EQ(checked->row_errors.size(), 2u);
  EXPECT_EQ(checked->row_errors[0].row, 3);  // the header is row 1
  EXPECT_EQ(checked->row_errors[0].message, "Not a valid email address");
  EXPECT_EQ(checked->row_errors[1].row, 5);
  EXPECT_EQ(checked->row_errors[1].message, "No value for ((name))");
  EXPECT_TRUE(sent().empty());  // a check stores nothing
}

TEST_F(JobsTest, ProblemsWithTheWholeFileAreFoundBeforeAnyRow) {
  auto problems = [&](const store::TemplateRecord& t, std::string_view csv) {
    auto checked = jobs_.check(service_.id, t, csv, clock_.now());
    EXPECT_TRUE(checked);
    return checked ? checked->problems : std::vector<std::string>{"check failed"};
  };
  EXPECT_EQ(problems(email_, "name,day\nAda,Monday\n"),
            std::vector<std::string>{"The file needs a column called \u2018email address\u2019"});
  EXPECT_EQ(problems(email_, "email address\na@example.com\n"),
            std::vector<std::string>{
                "The template needs a column for each placeholder. Missing: \u2018name\u2019, \u2018day\u2019"});
  EXPECT_EQ(problems(sms_, "phone number,phone_number,name\n07700900123,07700900123,A\n"),
            std::vector<std::string>{"The file has more than one column called \u2018phone number\u2019"});
  EXPECT_EQ(problems(email_, ""), std::vector<std::string>{"The file is empty: its first row must name the columns"});
  EXPECT_EQ(problems(email_, "email address,name,day\n\n"),
            std::vector<std::string>{"The file has no rows of recipients under its header"});
  auto broken = problems(email_, "email address,name,day\na\"b,c,d\n");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0], "This is not a CSV file Herald can read (line 2: stray quote)");
  const auto letter = add_template(store::Channel::kLetter, "Subject", "Body");
  EXPECT_EQ(problems(letter, "name\nx\n"),
            std::vector<std::string>{"The file needs a column called \u2018address line 1\u2019"});
  EXPECT_EQ(problems(letter, "address line 1,address_line_2,Address Line 2\nx,y,z\n"),
            std::vector<std::string>{"The file has more than one column called \u2018address line 2\u2019"});
  // A node that cannot render letters refuses a list of them as a whole.
  Jobs without_letters{store_, store_, notifications_};
  auto checked = without_letters.check(service_.id, letter, "address line 1\nx\n", clock_.now());
  ASSERT_TRUE(checked);
  EXPECT_EQ(checked->problems,
            std::vector<std::string>{"Letters cannot be sent to a list here: send them with the API"});
  // Nothing with problems is stored.
  EXPECT_FALSE(jobs_.upload(service_.id, email_, "x.csv", "name\nA\n", user_, clock_.now()));
}

TEST_F(JobsTest, TrialModeAndTextRulesApplyToEveryRowAsToTheApi) {
  service_.restricted = true;
  ASSERT_TRUE(store_.update_service(service_));
  ASSERT_TRUE(store_.add_guest_list_entry(
      {crypto::random_uuid(), service_.id, "mobile", "07700900111", "447700900111", clock_.now()}));
  auto checked =
      jobs_.check(service_.id, sms_, "phone number,name\n07700 900111,A\n07700900222,B\n12,C\n", clock_.now());
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->sendable, 1);
  ASSERT_EQ(checked->row_errors.size(), 2u);
  EXPECT_EQ(checked->row_errors[0].message.rfind("Can\u2019t send to this recipient when service is in trial mode", 0),
            0u);
  EXPECT_EQ(checked->row_errors[1].message.rfind("Not a valid phone number", 0), 0u);
}

TEST_F(JobsTest, AStartedJobSendsEachGoodRowOnceAndFinishes) {
  std::string csv = email_list(3);
  csv += "broken,X,Monday\n";
  const auto job = started(email_, csv);
  EXPECT_FALSE(*jobs_.start(service_.id, job.id, clock_.now()));  // a second click starts nothing

  auto ran = jobs_.run_once(clock_.now());
  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(*ran, 4);
  EXPECT_GT(wakes_, 0);  // the delivery worker is woken
  auto notifications = sent();
  ASSERT_EQ(notifications.size(), 3u);
  std::set<std::string> to;
  for (const auto& n : notifications) {
    to.insert(n.recipient);
    EXPECT_EQ(n.template_id, email_.id);
    EXPECT_EQ(n.status, store::NotificationStatus::kCreated);
    EXPECT_NE(n.subject.find("Hello P"), std::string::npos);
  }
  EXPECT_EQ(to, (std::set<std::string>{"person0@example.com", "person1@example.com", "person2@example.com"}));
  // Not in the API's list unless it asks for jobs (GOV.UK's include_jobs).
  store::NotificationQuery api;
  api.service = service_.id;
  EXPECT_TRUE(store_.list_notifications(api)->empty());

  auto found = jobs_.find(service_.id, job.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->status, store::JobStatus::kFinished);
  EXPECT_EQ((*found)->next_row, 4);
  auto progress = jobs_.progress(service_.id, **found);
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->sent, 3);
  EXPECT_EQ(progress->sending, 3);
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 0);  // nothing left to do
  EXPECT_EQ(sent().size(), 3u);
}

TEST_F(JobsTest, ALongListIsSentInChunksThatResumeWhereTheLastEnded) {
  const auto job = started(email_, email_list(1200));
  EXPECT_EQ(*jobs_.run_once(clock_.now(), 500), 500);
  EXPECT_EQ((*jobs_.find(service_.id, job.id))->next_row, 500);
  EXPECT_EQ(sent().size(), 500u);
  EXPECT_EQ(*jobs_.run_once(clock_.now(), 500), 500);
  EXPECT_EQ(*jobs_.run_once(clock_.now(), 500), 200);
  const auto all = sent();
  ASSERT_EQ(all.size(), 1200u);
  std::set<std::string> to;
  for (const auto& n : all) to.insert(n.recipient);
  EXPECT_EQ(to.size(), 1200u);  // no row twice
  EXPECT_EQ((*jobs_.find(service_.id, job.id))->status, store::JobStatus::kFinished);
}

TEST_F(JobsTest, TheDailyLimitPausesAJobUntilTheNextDayWithoutDroppingRows) {
  service_.email_limit = 5;
  ASSERT_TRUE(store_.update_service(service_));
  const auto job = started(email_, email_list(8));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 5);
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 0);  // still today: waits
  EXPECT_EQ((*jobs_.find(service_.id, job.id))->status, store::JobStatus::kInProgress);
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 3);
  EXPECT_EQ(sent().size(), 8u);
  EXPECT_EQ((*jobs_.find(service_.id, job.id))->status, store::JobStatus::kFinished);
}

TEST_F(JobsTest, ACancelledJobSendsNoMoreRowsAndKeepsWhatWasSent) {
  service_.email_limit = 5;
  ASSERT_TRUE(store_.update_service(service_));
  const auto job = started(email_, email_list(8));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 5);
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 0);  // waiting for tomorrow's limit
  ASSERT_TRUE(*jobs_.cancel(service_.id, job.id, clock_.now()));
  EXPECT_FALSE(*jobs_.cancel(service_.id, job.id, clock_.now())) << "once";
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 0) << "the rest is never sent";
  EXPECT_EQ(sent().size(), 5u);
  const auto after = *jobs_.find(service_.id, job.id);
  EXPECT_EQ(after->status, store::JobStatus::kCancelled);
  EXPECT_EQ(after->next_row, 5);
  EXPECT_EQ(jobs_.progress(service_.id, *after)->sent, 5);
  // A finished job, or another service's, cannot be cancelled.
  const auto done = started(email_, email_list(1));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 1);
  EXPECT_FALSE(*jobs_.cancel(service_.id, done.id, clock_.now()));
  EXPECT_FALSE(*jobs_.cancel(ServiceId{crypto::random_uuid()}, job.id, clock_.now()));
}

TEST_F(JobsTest, AJobWhoseFileWentWithRetentionIsClosedRatherThanRetriedForever) {
  service_.email_limit = 1;
  ASSERT_TRUE(store_.update_service(service_));
  const auto job = started(email_, email_list(3));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 1);  // then waits for the next day's limit
  clock_.advance(std::chrono::hours(24 * 8));
  ASSERT_TRUE(store_.redact_before(service_.id, clock_.now() - std::chrono::hours(24 * 7), clock_.now()));
  EXPECT_EQ(*jobs_.run_once(clock_.now()), 0);
  auto closed = jobs_.find(service_.id, job.id);
  ASSERT_TRUE(closed && *closed);
  EXPECT_EQ((*closed)->status, store::JobStatus::kFinished);
  EXPECT_EQ((*closed)->next_row, 3);
  EXPECT_TRUE((*closed)->contents.empty());
  EXPECT_EQ(jobs_.progress(service_.id, **closed)->sent, 1);  // the row sent before stays counted
}

TEST_F(JobsTest, AJobIsNotStartedOnceItsTemplateHasChanged) {
  auto job = jobs_.upload(service_.id, email_, "list.csv", email_list(2), user_, clock_.now());
  ASSERT_TRUE(job);
  store::TemplateRecord next = email_;
  next.version = 2;
  next.body = "Changed ((name)) ((day))";
  ASSERT_TRUE(store_.add_template_version(next));
  auto start = jobs_.start(service_.id, job->id, clock_.now());
  ASSERT_FALSE(start);
  EXPECT_EQ(start.error().code, ErrorCode::kFailedPrecondition);
  // Another service sees nothing of it.
  EXPECT_FALSE(*jobs_.find(ServiceId{crypto::random_uuid()}, job->id));
}

}  // namespace
}  // namespace herald::domain

namespace herald::domain {
namespace {

// Letters to a list: the address from its columns (GOV.UK's "address line 1" to "address line
// 7", or "postcode"), each row checked with the API's address rules without rendering anything,
// each row sent rendered as the PDF that prints.
class LetterJobsTest : public JobsTest {
 protected:
  void SetUp() override {
    JobsTest::SetUp();
    letter_ = add_template(store::Channel::kLetter, "Your appointment", "Dear ((name)), come on ((day)).");
  }
  store::TemplateRecord letter_;
  static constexpr std::string_view kList =
      "Address Line 1,address_line_2,address line 3,postcode,name,day\n"
      "Ada Lovelace,1 High Street,Leeds,ls1 1aa,Ada,Monday\n"
      "Bob,2 Low Street,,,Bob,Monday\n"
      "Cy,3 Mid Street,Leeds,not a postcode,Cy,Monday\n"
      "Dee,4 Side Street,York,YO1 7HH,,Monday\n"
      "Eve,5 Back Lane,Hull,HU1 1AA,Eve,Friday\n";
};

TEST_F(LetterJobsTest, EachRowsAddressIsCheckedWithTheApisRulesAndNothingIsStored) {
  auto checked = jobs_.check(service_.id, letter_, kList, clock_.now());
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_TRUE(checked->problems.empty());
  EXPECT_EQ(checked->rows, 5);
  EXPECT_EQ(checked->sendable, 2);
  ASSERT_EQ(checked->row_errors.size(), 3u);
  EXPECT_EQ(checked->row_errors[0].row, 3);
  EXPECT_EQ(checked->row_errors[0].message, "Address must be at least 3 lines");
  EXPECT_EQ(checked->row_errors[1].message, "Must be a real UK postcode");
  EXPECT_EQ(checked->row_errors[2].message, "No value for ((name))");
  EXPECT_TRUE(sent().empty());
}

TEST_F(LetterJobsTest, AStartedListOfLettersIsRenderedAndQueuedForThePrintSupplier) {
  const auto job = started(letter_, std::string(kList));
  auto ran = jobs_.run_once(clock_.now());
  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(*ran, 5);
  auto letters = sent();
  ASSERT_EQ(letters.size(), 2u);
  std::set<std::string> to;
  for (const auto& n : letters) {
    to.insert(n.recipient);
    EXPECT_EQ(n.type, store::Channel::kLetter);
    EXPECT_EQ(n.template_id, letter_.id);
    EXPECT_EQ(n.status, store::NotificationStatus::kCreated);
    EXPECT_TRUE(n.queued);
    EXPECT_EQ(n.postage, "second");
    EXPECT_GE(n.billable_units, 1);
    EXPECT_NE(n.personalisation_json.find("\"address_line_1\""), std::string::npos) << n.personalisation_json;
    auto pdf = store_.find_letter_pdf(service_.id, n.id);  // the PDF that prints, stored with it
    ASSERT_TRUE(pdf && *pdf);
    EXPECT_EQ((*pdf)->rfind("%PDF-", 0), 0u);
  }
  EXPECT_EQ(to,
            (std::set<std::string>{"Ada Lovelace\n1 High Street\nLeeds\nLS1 1AA", "Eve\n5 Back Lane\nHull\nHU1 1AA"}));
  EXPECT_EQ((*jobs_.find(service_.id, job.id))->status, store::JobStatus::kFinished);
}

TEST_F(LetterJobsTest, AServiceInTrialModeCannotSendLettersToAList) {
  auto job = jobs_.upload(service_.id, letter_, "list.csv", std::string(kList), user_, clock_.now());
  ASSERT_TRUE(job) << job.error().message;
  service_.restricted = true;
  ASSERT_TRUE(store_.update_service(service_));
  auto checked = jobs_.check(service_.id, letter_, kList, clock_.now());
  ASSERT_TRUE(checked);
  EXPECT_EQ(checked->problems, std::vector<std::string>{"Cannot send letters when service is in trial mode"});
  auto start = jobs_.start(service_.id, job->id, clock_.now());
  ASSERT_FALSE(start);
  EXPECT_EQ(start.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(jobs_.upload(service_.id, letter_, "list.csv", std::string(kList), user_, clock_.now()));
  EXPECT_TRUE(sent().empty());
}

TEST_F(LetterJobsTest, NobodyIsFoundInAListByTheirPostalAddress) {
  auto rows = csv::parse(kList);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows_for_recipient(store::Channel::kLetter, *rows, "ada lovelace").empty());
}

}  // namespace
}  // namespace herald::domain
