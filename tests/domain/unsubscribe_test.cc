// Hosted unsubscribe (domain/unsubscribe.h) on the in-memory store (which passes the
// UnsubscribeStore contract suite) and a fake clock: the link's token opens only for its own
// notification, only on this server and only for a year; a request is recorded once until the
// service deals with it; an email from a template that asks for a link carries it in its
// headers and body; the report is GOV.UK's CSV, formula-safe.
#include "domain/unsubscribe.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "domain/recipients/email_address.h"
#include "domain/rendering/outgoing.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::domain {
namespace {

crypto::FieldCipher cipher(char fill) {
  return crypto::FieldCipher(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, fill)),
                             crypto::FieldCipher::Mode::kEncrypt);
}

class UnsubscribeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    service_.created_at = clock_.now();
    ASSERT_TRUE(store_.create_service(service_));
    template_ = fakes::sample_template(service_.id, store::Channel::kEmail, "News", "Dear ((name))", clock_.now());
    template_.name = "=Newsletter";  // a formula, were it not neutralised in the report
    template_.has_unsubscribe_link = true;
    ASSERT_TRUE(store_.create_template(template_));
  }

  store::NotificationRecord sent(std::string to) {
    auto n = fakes::sample_email(service_.id, clock_.now(), std::move(to));
    n.template_id = template_.id;
    n.recipient_normalised = normalise_email_for_index(n.recipient);
    EXPECT_TRUE(store_.insert_notification(n));
    return n;
  }

  // The path's notification id and token of a link.
  static std::pair<std::string, std::string> parts(const std::string& link) {
    const std::string path = link.substr(link.find("/unsubscribe/") + 13);
    return {path.substr(0, path.find('/')), path.substr(path.find('/') + 1)};
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  crypto::FieldCipher cipher_ = cipher('k');
  UnsubscribeLinks links_{cipher_, "https://notify.example/"};
  Unsubscribes unsubscribes_{store_, links_};
  store::ServiceRecord service_;
  store::TemplateRecord template_;
};

TEST_F(UnsubscribeTest, ALinkOpensOnlyForItsNotificationOnThisServerAndForAYear) {
  const auto n = sent("Reader@Example.com");
  auto link = links_.link(n, clock_.now());
  ASSERT_TRUE(link);
  EXPECT_TRUE(link->starts_with("https://notify.example/unsubscribe/" + n.id.to_string() + "/"));
  EXPECT_EQ(link->find("Reader"), std::string::npos) << "the address is sealed, not in the URL";
  const auto [id, token] = parts(*link);
  EXPECT_EQ(links_.open(n.id, token, clock_.now()), std::optional<std::string>("Reader@Example.com"));
  EXPECT_TRUE(links_.open(n.id, token, clock_.now() + std::chrono::days(365)));
  EXPECT_FALSE(links_.open(n.id, token, clock_.now() + std::chrono::days(367))) << "older than a year";
  EXPECT_FALSE(links_.open(sent("other@example.com").id, token, clock_.now())) << "another notification's token";
  crypto::FieldCipher elsewhere = cipher('x');
  EXPECT_FALSE(UnsubscribeLinks(elsewhere, "https://x/").open(n.id, token, clock_.now())) << "another server's key";
  std::string flipped = token;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(links_.open(n.id, flipped, clock_.now()));
  EXPECT_FALSE(links_.open(n.id, "not base64!", clock_.now()));
}

TEST_F(UnsubscribeTest, ARequestIsRecordedOnceUntilTheServiceHasDealtWithIt) {
  const auto n = sent("reader@example.com");
  const auto [id, token] = parts(*links_.link(n, clock_.now()));
  EXPECT_EQ(*unsubscribes_.request(id, token, clock_.now()), UnsubscribeOutcome::kRecorded);
  EXPECT_EQ(*unsubscribes_.request(id, token, clock_.now()), UnsubscribeOutcome::kAlreadyRequested);
  EXPECT_EQ(*unsubscribes_.request(id, token + "x", clock_.now()), UnsubscribeOutcome::kInvalidLink);
  EXPECT_EQ(*unsubscribes_.request("not-an-id", token, clock_.now()), UnsubscribeOutcome::kInvalidLink);

  auto reports = unsubscribes_.reports(service_.id);
  ASSERT_TRUE(reports);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].id, Uuid{}) << "not downloaded yet";
  store::UnsubscribeReport made;
  clock_.advance(std::chrono::minutes(5));
  auto csv = unsubscribes_.download(service_.id, Uuid{}, clock_.now(), made);
  ASSERT_TRUE(csv) << csv.error().message;
  EXPECT_NE(made.id, Uuid{});
  EXPECT_EQ(made.count, 1);
  EXPECT_EQ(*csv,
            "Email address,Template name,Uploaded spreadsheet file name,Template sent at,Unsubscribe request received "
            "at\r\nreader@example.com,'=Newsletter,N/A," +
                format_timestamp(n.created_at) + "," + format_timestamp(n.created_at) + "\r\n");
  EXPECT_EQ(unsubscribe_report_file_name(made), "Email unsubscribe requests " +
                                                    format_timestamp(n.created_at).substr(0, 10) + " to " +
                                                    format_timestamp(n.created_at).substr(0, 10) + ".csv");
  EXPECT_EQ(unsubscribes_.download(service_.id, Uuid{}, clock_.now(), made).error().code, ErrorCode::kNotFound);
  // Downloaded but not done: still waiting; once done, a new click is a new request.
  EXPECT_EQ(*unsubscribes_.request(id, token, clock_.now()), UnsubscribeOutcome::kAlreadyRequested);
  ASSERT_TRUE(*unsubscribes_.mark_done(service_.id, made.id, true, clock_.now()));
  EXPECT_EQ(*unsubscribes_.request(id, token, clock_.now()), UnsubscribeOutcome::kRecorded);

  // Kept 7 days once in a report, 90 when never downloaded.
  EXPECT_EQ(*unsubscribes_.expire(clock_.now() + std::chrono::days(8)), 1);
  EXPECT_EQ(*unsubscribes_.expire(clock_.now() + std::chrono::days(91)), 1);
  EXPECT_TRUE(unsubscribes_.download(service_.id, made.id, clock_.now(), made)->ends_with("received at\r\n"));
}

TEST_F(UnsubscribeTest, AnEmailFromATemplateThatAsksCarriesTheLinkInItsHeadersAndBody) {
  const auto n = sent("reader@example.com");
  Outgoing outgoing(store_, "notify.example", &links_);
  auto email = outgoing.email(n, clock_.now());
  ASSERT_TRUE(email) << email.error().message;
  ASSERT_TRUE(email->one_click_unsubscribe_url);
  EXPECT_TRUE(email->one_click_unsubscribe_url->starts_with("https://notify.example/unsubscribe/" + n.id.to_string()));
  EXPECT_NE(email->text_body.find("Unsubscribe from these emails"), std::string::npos);
  EXPECT_NE(email->html_body.find(*email->one_click_unsubscribe_url), std::string::npos);

  // The request's own one-click URL wins in the header; the body keeps Herald's link.
  auto own = n;
  own.one_click_unsubscribe_url = "https://service.example/unsubscribe?u=1";
  auto with_own = outgoing.email(own, clock_.now());
  ASSERT_TRUE(with_own);
  EXPECT_EQ(with_own->one_click_unsubscribe_url, own.one_click_unsubscribe_url);
  EXPECT_NE(with_own->html_body.find("https://notify.example/unsubscribe/"), std::string::npos);

  // A template that does not ask: no link at all.
  auto plain = fakes::sample_template(service_.id, store::Channel::kEmail, "News", "Hi", clock_.now());
  ASSERT_TRUE(store_.create_template(plain));
  auto other = n;
  other.template_id = plain.id;
  auto without = outgoing.email(other, clock_.now());
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->one_click_unsubscribe_url);
  EXPECT_EQ(without->text_body.find("Unsubscribe"), std::string::npos);
}

}  // namespace
}  // namespace herald::domain
