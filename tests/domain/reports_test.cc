// domain::dashboard and day_report_csv on the in-memory store (which passes the store's
// dashboard contract) with explicit times: a UTC day is a day wherever the test runs, days
// without messages show as zeros, and a report's cells can never be a spreadsheet formula.
#include "domain/reports.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

Timestamp at(const char* text) {
  auto t = parse_timestamp(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(Timestamp{});
}

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.created_at = at("2026-02-01T00:00:00.000000Z");
    ASSERT_TRUE(store_.create_service(service_));
  }

  NotificationId add(store::Channel type, Timestamp created, std::string recipient,
                     std::optional<store::NotificationStatus> outcome = std::nullopt, Duration after = {},
                     store::KeyType key_type = store::KeyType::kNormal, std::optional<std::string> reference = {}) {
    store::NotificationRecord n;
    n.id = NotificationId{crypto::time_ordered_uuid(created)};
    n.service = service_.id;
    n.key_type = key_type;
    n.type = type;
    n.recipient = std::move(recipient);
    n.reference = std::move(reference);
    n.personalisation_json = "{}";
    n.created_at = created;
    EXPECT_TRUE(store_.insert_notification(n));
    if (outcome) {
      store::DeliveryOutcome o;
      o.id = n.id;
      o.status = *outcome;
      o.updated_at = created + after;
      o.sent_at = created + after;
      o.sent_by = type == store::Channel::kEmail ? "smtp" : "firetext";
      EXPECT_TRUE(store_.record_outcome(o));
    }
    return n.id;
  }

  fakes::MemoryStore store_;
  store::ServiceRecord service_;
};

TEST(Days, AreUtcDatesBothWays) {
  EXPECT_EQ(day_text(0), "1970-01-01");
  EXPECT_EQ(parse_day("2028-02-29"), day_of(at("2028-02-29T23:59:59.999999Z")));
  EXPECT_EQ(day_of(at("2026-03-02T00:00:00.000000Z")) - day_of(at("2026-03-01T23:59:59.999999Z")), 1);
  EXPECT_EQ(day_text(*parse_day("2026-12-03")), "2026-12-03");
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-1-01", "20261203", "2026-12-3x", ""}) {
    EXPECT_FALSE(parse_day(bad)) << bad;
  }
}

TEST_F(ReportsTest, TheDashboardCountsEachChannelPerUtcDayAndEachProvider) {
  add(store::Channel::kEmail, at("2026-03-01T23:59:59.000000Z"), "a@example.org", store::NotificationStatus::kDelivered,
      std::chrono::seconds(4));
  add(store::Channel::kEmail, at("2026-03-02T00:00:01.000000Z"), "b@example.org",
      store::NotificationStatus::kPermanentFailure, std::chrono::seconds(1));
  add(store::Channel::kEmail, at("2026-03-02T10:00:00.000000Z"), "c@example.org");  // not yet sent
  add(store::Channel::kSms, at("2026-03-02T10:00:00.000000Z"), "07700900123", store::NotificationStatus::kDelivered,
      std::chrono::seconds(10), store::KeyType::kTest);
  add(store::Channel::kEmail, at("2026-02-20T10:00:00.000000Z"), "old@example.org",
      store::NotificationStatus::kDelivered);  // before the week

  auto d = dashboard(store_, service_.id, at("2026-03-02T12:00:00.000000Z"), 7);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(day_text(d->first_day), "2026-02-24");
  ASSERT_EQ(d->channels.size(), 3u);
  const ChannelFigures& email = d->channels[0];
  ASSERT_EQ(email.days.size(), 7u);
  EXPECT_EQ(email.days[5].delivered, 1);  // 1 March
  EXPECT_EQ(email.days[6].failed, 1);     // 2 March
  EXPECT_EQ(email.days[6].in_progress, 1);
  EXPECT_EQ(email.days[0].total(), 0);
  EXPECT_EQ(email.totals.total(), 3);
  EXPECT_EQ(d->channels[1].totals.delivered, 1);  // a test key's text counts too
  EXPECT_EQ(d->channels[2].totals.total(), 0);
  ASSERT_EQ(d->providers.size(), 2u);
  EXPECT_EQ(d->providers[0].provider, "firetext");
  EXPECT_DOUBLE_EQ(d->providers[0].mean_seconds_to_delivered, 10);
  EXPECT_EQ(d->providers[1].provider, "smtp");
  EXPECT_EQ(d->providers[1].sent, 2);
  EXPECT_EQ(d->providers[1].failed, 1);

  ServiceId other{crypto::random_uuid()};
  auto none = dashboard(store_, other, at("2026-03-02T12:00:00.000000Z"), 7);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->channels[0].totals.total(), 0);
}

TEST_F(ReportsTest, ADaysReportHoldsThatDaysMessagesOfEveryKindAndNoFormula) {
  add(store::Channel::kEmail, at("2026-03-01T23:59:59.000000Z"), "yesterday@example.org");
  add(store::Channel::kEmail, at("2026-03-02T08:00:00.000000Z"), "=HYPERLINK(\"x\")@example.org", std::nullopt, {},
      store::KeyType::kNormal, "+ref, \"quoted\"");
  add(store::Channel::kSms, at("2026-03-02T09:00:00.000000Z"), "07700900123", store::NotificationStatus::kDelivered,
      std::chrono::seconds(2), store::KeyType::kTeam);
  std::size_t count = 0;
  auto csv = day_report_csv(store_, service_.id, *parse_day("2026-03-02"), count);
  ASSERT_TRUE(csv) << csv.error().message;
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(csv->find("yesterday"), std::string::npos);
  EXPECT_NE(csv->find(",07700900123,"), std::string::npos);
  EXPECT_NE(csv->find(",\"'=HYPERLINK(\"\"x\"\")@example.org\","), std::string::npos) << *csv;
  EXPECT_NE(csv->find(",\"'+ref, \"\"quoted\"\"\","), std::string::npos) << *csv;
  EXPECT_EQ(csv->rfind("id,recipient,", 0), 0u);
  // The newest first; every line ends CRLF.
  EXPECT_LT(csv->find("07700900123"), csv->find("HYPERLINK"));
}

TEST_F(ReportsTest, ALongDayIsReadPageByPage) {
  for (int i = 0; i < 2500; ++i) {
    add(store::Channel::kEmail, at("2026-03-02T08:00:00.000000Z") + std::chrono::milliseconds(i),
        "p" + std::to_string(i) + "@example.org");
  }
  std::size_t count = 0;
  auto csv = day_report_csv(store_, service_.id, *parse_day("2026-03-02"), count);
  ASSERT_TRUE(csv);
  EXPECT_EQ(count, 2500u);
  EXPECT_NE(csv->find("p0@example.org"), std::string::npos);
  EXPECT_NE(csv->find("p2499@example.org"), std::string::npos);
}

}  // namespace
}  // namespace herald::domain
