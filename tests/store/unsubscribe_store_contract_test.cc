// The UnsubscribeStore contract (store/store.h): requests made through the hosted unsubscribe
// links of emails, the reports a service downloads them in, and their deletion; with the
// template version's flag and what the SubjectStore does with requests. Run against every
// backend as store_contract_test.cc runs the rest (SQLite, PostgreSQL, and the in-memory store
// other unit tests use); disk scans run where there is a database (`on_disk()`).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "crypto/random.h"
#include "tests/fakes/sample_records.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAddress = "unsubscriber@example.org";

class UnsubscribeStoreContract : public testing::TwoServicesContract {
 protected:
  // A stored email template of `service` named `name` (version 1), with or without the link.
  TemplateRecord email_template(const ServiceRecord& service, const std::string& name, bool link) {
    TemplateRecord t = fakes::sample_template(service.id, Channel::kEmail, "Subject", "Body", now_);
    t.name = name;
    t.has_unsubscribe_link = link;
    EXPECT_TRUE(store_->create_template(t));
    return t;
  }
  // A stored email of `service` from `t`'s `version`, created `offset` after now_.
  NotificationRecord email(const ServiceRecord& service, const TemplateRecord& t, int version = 1,
                           Duration offset = Duration::zero(), Channel type = Channel::kEmail) {
    NotificationRecord n = fakes::sample_email(service.id, now_ + offset, kAddress);
    n.recipient_normalised = kAddress;
    n.template_id = t.id;
    n.template_version = version;
    n.type = type;
    EXPECT_TRUE(store_->insert_notification(n));
    return n;
  }
  // A request (not stored) through `n`'s link, made `offset` after now_. The service, template
  // and version are wrong on purpose: the store takes them from the notification.
  UnsubscribeRequest request(const NotificationRecord& n, Duration offset = Duration::zero(),
                             const std::string& address = kAddress) {
    UnsubscribeRequest r;
    r.id = crypto::random_uuid();
    r.service = ServiceId{crypto::random_uuid()};
    r.notification = n.id;
    r.template_id = TemplateId{crypto::random_uuid()};
    r.template_version = 9;
    r.email = address;
    r.email_normalised = address;
    r.created_at = now_ + offset;
    return r;
  }
  std::optional<bool> add(const UnsubscribeRequest& r) {
    auto added = store_->add_unsubscribe_request(r);
    EXPECT_TRUE(added) << added.error().message;
    return added ? *added : std::nullopt;
  }
  // A stored request through `n`'s link.
  UnsubscribeRequest added(const NotificationRecord& n, Duration offset = Duration::zero(),
                           const std::string& address = kAddress) {
    UnsubscribeRequest r = request(n, offset, address);
    EXPECT_EQ(add(r), std::optional<bool>(true));
    return r;
  }
  std::vector<UnsubscribeReport> reports(const ServiceRecord& service) {
    auto listed = another()->unsubscribe_reports(service.id);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<UnsubscribeReport>{};
  }
  UnsubscribeReport report(const ServiceRecord& service, Duration offset) {
    auto made = store_->create_unsubscribe_report(service.id, crypto::random_uuid(), now_ + offset);
    EXPECT_TRUE(made && *made) << (made ? "none pending" : made.error().message);
    return made && *made ? **made : UnsubscribeReport{};
  }
  std::vector<UnsubscribeRequest> requests(const ServiceRecord& service, Uuid report) {
    auto listed = another()->unsubscribe_requests(service.id, report);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<UnsubscribeRequest>{};
  }
  std::vector<UnsubscribeRequest> found(const ServiceRecord& service, const std::string& address) {
    auto listed = another()->find_unsubscribe_requests(service.id, address);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? std::move(*listed) : std::vector<UnsubscribeRequest>{};
  }
  static std::vector<Uuid> ids(const std::vector<UnsubscribeRequest>& requests) {
    std::vector<Uuid> out;
    for (const UnsubscribeRequest& r : requests) out.push_back(r.id);
    return out;
  }
  static std::vector<Uuid> ids(const std::vector<UnsubscribeReport>& reports) {
    std::vector<Uuid> out;
    for (const UnsubscribeReport& r : reports) out.push_back(r.id);
    return out;
  }
};

TEST_P(UnsubscribeStoreContract, TemplateVersionKeepsItsUnsubscribeLinkFlag) {
  TemplateRecord t = email_template(service_a_, "Newsletter", true);
  TemplateRecord v2 = t;
  v2.version = 2;
  v2.has_unsubscribe_link = false;
  v2.created_at = now_ + 1h;
  ASSERT_TRUE(store_->add_template_version(v2));
  TemplateRecord plain = email_template(service_a_, "Appointment", false);

  auto first = another()->find_template(service_a_.id, t.id, 1);
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE((*first)->has_unsubscribe_link) << "version 1 carries the link";
  auto second = another()->find_template(service_a_.id, t.id, 2);
  ASSERT_TRUE(second && *second);
  EXPECT_FALSE((*second)->has_unsubscribe_link) << "version 2 does not";
  auto current = another()->find_template(service_a_.id, t.id, std::nullopt);
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->version, 2);
  EXPECT_FALSE((*current)->has_unsubscribe_link);

  TemplateRecord v3 = v2;
  v3.version = 3;
  v3.has_unsubscribe_link = true;
  ASSERT_TRUE(store_->add_template_version(v3));
  auto listed = another()->templates_for_service(service_a_.id);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const TemplateRecord& l : *listed) {
    EXPECT_EQ(l.has_unsubscribe_link, l.id == t.id) << l.name << ": the current version's flag";
  }
  auto unflagged = store_->find_template(service_a_.id, plain.id, std::nullopt);
  ASSERT_TRUE(unflagged && *unflagged);
  EXPECT_FALSE((*unflagged)->has_unsubscribe_link);
}

TEST_P(UnsubscribeStoreContract, RequestIsRecordedOnceUntilItsReportIsProcessed) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const NotificationRecord n = email(service_a_, t);
  const NotificationRecord other = email(service_a_, t);

  EXPECT_EQ(add(request(n)), std::optional<bool>(true));
  EXPECT_EQ(add(request(n, 1min)), std::optional<bool>(false)) << "a second click: in no report yet";
  EXPECT_EQ(add(request(other, 1min)), std::optional<bool>(true)) << "another email's link";
  const UnsubscribeReport made = report(service_a_, 1h);
  EXPECT_EQ(made.count, 2);
  EXPECT_EQ(add(request(n, 2h)), std::optional<bool>(false)) << "its report is not processed yet";
  ASSERT_EQ(requests(service_a_, Uuid{}).size(), 0u);

  auto processed = store_->set_unsubscribe_report_processed(service_a_.id, made.id, now_ + 3h);
  ASSERT_TRUE(processed && *processed);
  EXPECT_EQ(add(request(n, 4h)), std::optional<bool>(true)) << "its report was processed: a new request";
  EXPECT_EQ(add(request(n, 5h)), std::optional<bool>(false));

  const auto pending = requests(service_a_, Uuid{});
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].created_at, now_ + 4h);
  EXPECT_EQ(requests(service_a_, made.id).size(), 2u) << "the processed report keeps its requests";
  const auto listed = reports(service_a_);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, Uuid{});
  EXPECT_EQ(listed[0].count, 1);
  EXPECT_EQ(listed[1].id, made.id);
}

TEST_P(UnsubscribeStoreContract, OnlyAnEmailNotificationTakesARequest) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  NotificationRecord unknown = fakes::sample_email(service_a_.id, now_);
  EXPECT_EQ(add(request(unknown)), std::nullopt) << "no such notification";
  const NotificationRecord text = email(service_a_, t, 1, Duration::zero(), Channel::kSms);
  EXPECT_EQ(add(request(text)), std::nullopt) << "a text message has no unsubscribe link";
  EXPECT_TRUE(reports(service_a_).empty()) << "nothing stored";
  EXPECT_TRUE(requests(service_a_, Uuid{}).empty());
  auto none = store_->create_unsubscribe_report(service_a_.id, crypto::random_uuid(), now_);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none) << "no report without requests";
}

// The link works for a year, longer than any retention period: the request is taken from the
// redacted notification's row, and retention never touches requests.
TEST_P(UnsubscribeStoreContract, RedactedNotificationStillTakesRequestsAndRetentionKeepsThem) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const NotificationRecord n = email(service_a_, t, 1, -48h);
  const NotificationRecord kept = email(service_a_, t, 1, -36h);
  const UnsubscribeRequest before = added(kept, -30h);
  ASSERT_TRUE(store_->redact_before(service_a_.id, now_ - 24h, now_));
  auto gone = store_->find_notification(service_a_.id, n.id);
  ASSERT_TRUE(gone);
  ASSERT_FALSE(*gone) << "redacted";

  const UnsubscribeRequest r = added(n);
  const auto pending = requests(service_a_, Uuid{});
  ASSERT_EQ(ids(pending), (std::vector<Uuid>{before.id, r.id})) << "retention left the earlier request";
  EXPECT_EQ(pending[1].service, service_a_.id);
  EXPECT_EQ(pending[1].template_id, t.id);
  EXPECT_EQ(pending[1].template_name, "Newsletter");
  EXPECT_EQ(pending[1].notification_created_at, n.created_at);
  EXPECT_EQ(pending[1].email, kAddress);
  EXPECT_EQ(found(service_a_, kAddress).size(), 2u) << "still found by address";
}

TEST_P(UnsubscribeStoreContract, ReportsAreListedPendingFirstThenNewestFirst) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  EXPECT_TRUE(reports(service_a_).empty());
  added(email(service_a_, t), 10min);
  added(email(service_a_, t), 20min);
  const UnsubscribeReport first = report(service_a_, 1h);
  EXPECT_EQ(first.service, service_a_.id);
  EXPECT_EQ(first.count, 2);
  EXPECT_EQ(first.earliest, now_ + 10min);
  EXPECT_EQ(first.latest, now_ + 20min);
  EXPECT_EQ(first.created_at, now_ + 1h);
  EXPECT_FALSE(first.processed_at);
  // Two reports made in the same microsecond: the larger id first.
  added(email(service_a_, t), 2h);
  const UnsubscribeReport tie_a = report(service_a_, 3h);
  added(email(service_a_, t), 2h + 30min);
  const UnsubscribeReport tie_b = report(service_a_, 3h);
  added(email(service_a_, t), 4h);
  added(email(service_a_, t), 5h);
  added(email(service_a_, t), 4h + 30min);

  const auto listed = reports(service_a_);
  ASSERT_EQ(listed.size(), 4u);
  const bool a_first = tie_a.id.to_string() > tie_b.id.to_string();
  EXPECT_EQ(ids(listed),
            (std::vector<Uuid>{Uuid{}, a_first ? tie_a.id : tie_b.id, a_first ? tie_b.id : tie_a.id, first.id}));
  const UnsubscribeReport& pending = listed[0];
  EXPECT_EQ(pending.service, service_a_.id);
  EXPECT_EQ(pending.count, 3);
  EXPECT_EQ(pending.earliest, now_ + 4h);
  EXPECT_EQ(pending.latest, now_ + 5h);
  EXPECT_EQ(pending.created_at, now_ + 5h) << "the latest request's";
  EXPECT_FALSE(pending.processed_at);
  EXPECT_EQ(listed[3].count, 2);
  EXPECT_EQ(listed[3].earliest, now_ + 10min);
  EXPECT_EQ(listed[3].latest, now_ + 20min);
  EXPECT_EQ(listed[3].created_at, now_ + 1h);
  EXPECT_TRUE(reports(service_b_).empty()) << "another service's";
}

TEST_P(UnsubscribeStoreContract, ReportTakesOnlyItsServicesPendingRequests) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const TemplateRecord of_b = email_template(service_b_, "Their newsletter", true);
  const UnsubscribeRequest late = added(email(service_a_, t), 2h);
  const UnsubscribeRequest early = added(email(service_a_, t), 1h);
  const UnsubscribeRequest b = added(email(service_b_, of_b), 90min);

  const Uuid id = crypto::random_uuid();
  auto made = store_->create_unsubscribe_report(service_a_.id, id, now_ + 3h);
  ASSERT_TRUE(made && *made) << (made ? "none" : made.error().message);
  EXPECT_EQ((*made)->id, id);
  EXPECT_EQ((*made)->service, service_a_.id);
  EXPECT_EQ((*made)->count, 2);
  EXPECT_EQ((*made)->earliest, now_ + 1h);
  EXPECT_EQ((*made)->latest, now_ + 2h);
  EXPECT_EQ((*made)->created_at, now_ + 3h);
  EXPECT_FALSE((*made)->processed_at);

  const auto in_report = requests(service_a_, id);
  EXPECT_EQ(ids(in_report), (std::vector<Uuid>{early.id, late.id})) << "oldest first";
  for (const UnsubscribeRequest& r : in_report) EXPECT_EQ(r.report, std::optional<Uuid>(id));
  EXPECT_TRUE(requests(service_a_, Uuid{}).empty());
  EXPECT_TRUE(requests(service_b_, id).empty()) << "another service's report";
  EXPECT_EQ(ids(requests(service_b_, Uuid{})), std::vector<Uuid>{b.id}) << "B's request stays pending";
  const auto of_service_b = reports(service_b_);
  ASSERT_EQ(of_service_b.size(), 1u);
  EXPECT_EQ(of_service_b[0].id, Uuid{});
  EXPECT_EQ(of_service_b[0].count, 1);

  auto again = store_->create_unsubscribe_report(service_a_.id, crypto::random_uuid(), now_ + 4h);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "none pending";
  EXPECT_EQ(reports(service_a_).size(), 1u);
}

TEST_P(UnsubscribeStoreContract, RequestsAreReadBackWithTemplateNotificationAndJob) {
  TemplateRecord t = email_template(service_a_, "Newsletter", true);
  TemplateRecord v2 = t;
  v2.version = 2;
  v2.name = "Renamed newsletter";
  ASSERT_TRUE(store_->add_template_version(v2));
  const NotificationRecord direct = email(service_a_, t, 1, 5min);

  JobRecord list;
  list.id = crypto::random_uuid();
  list.service = service_a_.id;
  list.template_id = t.id;
  list.template_version = 2;
  list.type = Channel::kEmail;
  list.file_name = "Spring mailing.csv";
  list.contents = std::string("email address\n") + kAddress + "\n";
  list.row_count = 1;
  list.created_by = crypto::random_uuid();
  list.created_at = now_;
  ASSERT_TRUE(store_->create_job(list));
  auto started = store_->start_job(service_a_.id, list.id, now_);
  ASSERT_TRUE(started && *started);
  NotificationRecord row = fakes::sample_email(service_a_.id, now_ + 10min, kAddress);
  row.template_id = t.id;
  row.template_version = 2;
  auto saved = store_->save_job_rows(service_a_.id, list.id, 0, 1, {row}, {0}, now_ + 10min);
  ASSERT_TRUE(saved && *saved);

  const UnsubscribeRequest from_list = added(row, 1h, "List.Person@Example.org");
  const UnsubscribeRequest from_direct = added(direct, 2h);
  const auto pending = requests(service_a_, Uuid{});
  ASSERT_EQ(ids(pending), (std::vector<Uuid>{from_list.id, from_direct.id}));

  const UnsubscribeRequest& l = pending[0];
  EXPECT_EQ(l.service, service_a_.id);
  EXPECT_EQ(l.notification, row.id);
  EXPECT_EQ(l.template_id, t.id);
  EXPECT_EQ(l.template_version, 2);
  EXPECT_EQ(l.template_name, "Renamed newsletter") << "the name of the request's version";
  EXPECT_EQ(l.email, "List.Person@Example.org") << "opened, as given";
  EXPECT_EQ(l.email_normalised, "") << "never stored";
  EXPECT_EQ(l.created_at, now_ + 1h);
  EXPECT_FALSE(l.report);
  EXPECT_EQ(l.notification_created_at, now_ + 10min);
  EXPECT_EQ(l.job_file_name, std::optional<std::string>("Spring mailing.csv"));

  const UnsubscribeRequest& d = pending[1];
  EXPECT_EQ(d.template_version, 1);
  EXPECT_EQ(d.template_name, "Newsletter");
  EXPECT_EQ(d.notification_created_at, now_ + 5min);
  EXPECT_FALSE(d.job_file_name) << "not from a list";

  SCOPED_TRACE("retention empties the list's file: its name goes, the request stays");
  const UnsubscribeReport made = report(service_a_, 3h);
  ASSERT_TRUE(store_->redact_before(service_a_.id, now_ + 1min, now_ + 3h));
  const auto in_report = requests(service_a_, made.id);
  ASSERT_EQ(ids(in_report), (std::vector<Uuid>{from_list.id, from_direct.id}));
  EXPECT_FALSE(in_report[0].job_file_name);
  EXPECT_EQ(in_report[0].email, "List.Person@Example.org");
  EXPECT_EQ(in_report[0].notification_created_at, now_ + 10min);
  EXPECT_EQ(in_report[0].report, std::optional<Uuid>(made.id));
}

TEST_P(UnsubscribeStoreContract, ProcessedIsSetAndClearedByTheReportsServiceOnly) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  added(email(service_a_, t));
  const UnsubscribeReport made = report(service_a_, 1h);

  auto by_b = store_->set_unsubscribe_report_processed(service_b_.id, made.id, now_ + 2h);
  ASSERT_TRUE(by_b);
  EXPECT_FALSE(*by_b) << "another service's report";
  auto unknown = store_->set_unsubscribe_report_processed(service_a_.id, crypto::random_uuid(), now_ + 2h);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  auto nil = store_->set_unsubscribe_report_processed(service_a_.id, Uuid{}, now_ + 2h);
  ASSERT_TRUE(nil);
  EXPECT_FALSE(*nil) << "the pending requests are no report";
  ASSERT_EQ(reports(service_a_).size(), 1u);
  EXPECT_FALSE(reports(service_a_)[0].processed_at);

  auto set = store_->set_unsubscribe_report_processed(service_a_.id, made.id, now_ + 2h);
  ASSERT_TRUE(set && *set);
  auto listed = reports(service_a_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].processed_at, std::optional<Timestamp>(now_ + 2h));

  auto cleared = store_->set_unsubscribe_report_processed(service_a_.id, made.id, std::nullopt);
  ASSERT_TRUE(cleared && *cleared);
  listed = reports(service_a_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_FALSE(listed[0].processed_at);
}

TEST_P(UnsubscribeStoreContract, OldRequestsAreDeletedByTheirCutoffsAndReportsKeepTheirCounts) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const TemplateRecord of_b = email_template(service_b_, "Their newsletter", true);
  added(email(service_a_, t));
  const UnsubscribeReport old_report = report(service_a_, 1h);
  const UnsubscribeRequest in_new = added(email(service_a_, t), 2h);
  const UnsubscribeReport new_report = report(service_a_, 3h);
  added(email(service_a_, t), 4h);
  const UnsubscribeRequest recent = added(email(service_a_, t), 6h);
  added(email(service_b_, of_b), 4h);

  // Reports made before +2h lose their requests; requests in no report made before +5h go.
  auto deleted = store_->delete_old_unsubscribe_requests(now_ + 2h, now_ + 5h);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(*deleted, 3) << "one in the old report, one pending of each service";

  EXPECT_TRUE(requests(service_a_, old_report.id).empty());
  EXPECT_EQ(ids(requests(service_a_, new_report.id)), std::vector<Uuid>{in_new.id});
  EXPECT_EQ(ids(requests(service_a_, Uuid{})), std::vector<Uuid>{recent.id});
  EXPECT_TRUE(requests(service_b_, Uuid{}).empty()) << "every service's";
  const auto listed = reports(service_a_);
  ASSERT_EQ(ids(listed), (std::vector<Uuid>{Uuid{}, new_report.id, old_report.id}));
  EXPECT_EQ(listed[2].count, 1) << "the report keeps its count";
  EXPECT_EQ(listed[2].earliest, now_);
  EXPECT_TRUE(reports(service_b_).empty());

  auto again = store_->delete_old_unsubscribe_requests(now_ + 2h, now_ + 5h);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
}

TEST_P(UnsubscribeStoreContract, RequestsAreFoundByAddressAndErasedWithTheSubject) {
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const TemplateRecord of_b = email_template(service_b_, "Their newsletter", true);
  const UnsubscribeRequest first = added(email(service_a_, t), 1h);
  const UnsubscribeRequest someone_else = added(email(service_a_, t), 1h, "someone.else@example.org");
  const UnsubscribeReport made = report(service_a_, 90min);  // holds both
  const UnsubscribeRequest second = added(email(service_a_, t), 2h);
  UnsubscribeRequest unindexed = request(email(service_a_, t), 3h);
  unindexed.email_normalised.clear();
  ASSERT_EQ(add(unindexed), std::optional<bool>(true));
  const UnsubscribeRequest of_service_b = added(email(service_b_, of_b), 1h);

  const auto by_address = found(service_a_, kAddress);
  ASSERT_EQ(ids(by_address), (std::vector<Uuid>{first.id, second.id})) << "oldest first; no index, never found";
  EXPECT_EQ(by_address[0].email, kAddress);
  EXPECT_EQ(by_address[0].email_normalised, kAddress);
  EXPECT_EQ(by_address[0].template_name, "Newsletter");
  EXPECT_EQ(by_address[0].report, std::optional<Uuid>(made.id));
  EXPECT_FALSE(by_address[1].report);
  EXPECT_EQ(ids(found(service_b_, kAddress)), std::vector<Uuid>{of_service_b.id});
  EXPECT_TRUE(found(service_a_, "nobody@example.org").empty());

  SubjectErasure e;
  e.service = service_a_.id;
  e.now = now_ + 4h;
  e.unsubscribe_requests = {first.id, second.id, first.id, of_service_b.id, crypto::random_uuid()};
  auto outcome = store_->erase_subject(e);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->unsubscribe_requests, 2) << "the service's, once each";
  EXPECT_EQ(outcome->notifications, 0);

  EXPECT_TRUE(found(service_a_, kAddress).empty());
  EXPECT_EQ(ids(found(service_b_, kAddress)), std::vector<Uuid>{of_service_b.id}) << "another service's is untouched";
  EXPECT_EQ(ids(requests(service_a_, made.id)), std::vector<Uuid>{someone_else.id});
  EXPECT_EQ(ids(requests(service_a_, Uuid{})), std::vector<Uuid>{unindexed.id});
  const auto listed = reports(service_a_);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].count, 2) << "the report keeps its count";

  auto again = store_->erase_subject(e);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->unsubscribe_requests, 0);
}

TEST_P(UnsubscribeStoreContract, AddressIsSealedInTheDatabase) {
  if (!backend_->on_disk()) GTEST_SKIP() << "about stored bytes; the in-memory store has none";
  const std::string canary = "canary-unsubscribe-" + crypto::random_uuid().to_string().substr(0, 8) + "@example.org";
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  added(email(service_a_, t), Duration::zero(), canary);
  const std::string bytes = backend_->raw_bytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(canary), std::string::npos) << "the address is in the database's files in plain text";
  const auto read = requests(service_a_, Uuid{});
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].email, canary) << "and opens";
}

// A backup (Store::snapshot_to; PostgreSQL's written as SQLite by store/transfer) holds the new
// column and tables as stored: a SQLite store opened on it reads them back.
TEST_P(UnsubscribeStoreContract, BackupHoldsTheFlagRequestsAndReports) {
  if (!backend_->on_disk()) GTEST_SKIP() << "the in-memory store has no snapshots";
  const TemplateRecord t = email_template(service_a_, "Newsletter", true);
  const UnsubscribeRequest in_report = added(email(service_a_, t), 1h);
  const UnsubscribeReport made = report(service_a_, 2h);
  ASSERT_TRUE(store_->set_unsubscribe_report_processed(service_a_.id, made.id, now_ + 3h));
  const UnsubscribeRequest pending = added(email(service_a_, t), 4h);

  const auto dir = std::filesystem::temp_directory_path() / ("herald-unsubscribe-" + crypto::random_uuid().to_string());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "backup.db").string();
  auto taken = store_->snapshot_to(path);
  ASSERT_TRUE(taken) << taken.error().message;
  {
    auto opened = sqlite::SqliteStore::open({path}, cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    sqlite::SqliteStore& backup = **opened;
    auto flagged = backup.find_template(service_a_.id, t.id, 1);
    ASSERT_TRUE(flagged && *flagged);
    EXPECT_TRUE((*flagged)->has_unsubscribe_link);
    auto listed = backup.unsubscribe_reports(service_a_.id);
    ASSERT_TRUE(listed);
    ASSERT_EQ(ids(*listed), (std::vector<Uuid>{Uuid{}, made.id}));
    EXPECT_EQ((*listed)[1].processed_at, std::optional<Timestamp>(now_ + 3h));
    auto of_report = backup.unsubscribe_requests(service_a_.id, made.id);
    ASSERT_TRUE(of_report);
    ASSERT_EQ(ids(*of_report), std::vector<Uuid>{in_report.id});
    EXPECT_EQ((*of_report)[0].email, kAddress);
    EXPECT_EQ((*of_report)[0].template_name, "Newsletter");
    auto by_address = backup.find_unsubscribe_requests(service_a_.id, kAddress);
    ASSERT_TRUE(by_address);
    EXPECT_EQ(ids(*by_address), (std::vector<Uuid>{in_report.id, pending.id})) << "the blind index is copied";
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, UnsubscribeStoreContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
