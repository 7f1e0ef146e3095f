// What is handed to a provider: an email is made from what was stored when it was accepted and
// is exactly what rendering the template would have sent; a later edit of the template changes
// nothing already accepted.

#include "domain/rendering/outgoing.h"

#include <gtest/gtest.h>

#include "domain/rendering/template_render.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/personalisation_values.h"
#include "tests/fakes/sample_records.h"

namespace herald::domain {
namespace {

class OutgoingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.id = ServiceId{crypto::random_uuid()};
    service_.name = "Clinic";
    service_.email_sender_local_part = "clinic";
    ASSERT_TRUE(store_.create_service(service_));
  }

  fakes::MemoryStore store_;
  store::ServiceRecord service_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_F(OutgoingTest, AnEmailIsSentExactlyAsItWasRenderedWhenAccepted) {
  const EmailTemplateContent content{"Your ((thing)) on ((day))",
                                     "# Hello ((name))\n\n* one\n* ((item))\n\n[link](https://example.org)"};
  Personalisation values;
  values.entries = {{"thing", fakes::text("appointment")},
                    {"day", fakes::text("Monday")},
                    {"name", fakes::text("Ada *bold*")},
                    {"item", fakes::text("two")}};
  const std::string unsubscribe = "https://example.org/unsubscribe";
  auto rendered = render_email(content, values, RenderParts::kContentAndMime, unsubscribe);
  ASSERT_TRUE(rendered);
  // What the accept path stores: the content only (the API's subject and body).
  auto record = fakes::sample_email(service_.id, now_, "ada@example.org");
  record.subject = rendered->subject;
  record.body = rendered->body;
  record.one_click_unsubscribe_url = unsubscribe;
  record.sender = "replies@example.org";
  // No template is in the store at all: the email needs none.
  Outgoing outgoing(store_, "notify.example");
  auto email = outgoing.email(record, now_);
  ASSERT_TRUE(email) << email.error().message;
  EXPECT_EQ(email->subject, rendered->subject);
  EXPECT_EQ(email->text_body, rendered->text_body);
  EXPECT_EQ(email->html_body, rendered->html_body);
  EXPECT_EQ(email->from, "clinic@notify.example");
  EXPECT_EQ(email->to, "ada@example.org");
  EXPECT_EQ(email->reply_to, "replies@example.org");
  EXPECT_EQ(email->message_id, record.id.to_string());
  EXPECT_EQ(email->one_click_unsubscribe_url, unsubscribe);
  EXPECT_NE(email->text_body.find("Unsubscribe"), std::string::npos) << "the footer the API body never shows";
  EXPECT_EQ(record.body.find("Unsubscribe"), std::string::npos);
}

TEST_F(OutgoingTest, AnEmailOfAServiceThatIsGoneIsNotFound) {
  Outgoing outgoing(store_, "notify.example");
  auto email = outgoing.email(fakes::sample_email(ServiceId{crypto::random_uuid()}, now_), now_);
  ASSERT_FALSE(email);
  EXPECT_EQ(email.error().code, ErrorCode::kNotFound);
}

TEST_F(OutgoingTest, ATextIsRenderedWithTheServicePrefixItHasWhenSent) {
  store::TemplateRecord t;
  t.id = TemplateId{crypto::random_uuid()};
  t.service = service_.id;
  t.name = "Reminder";
  t.type = store::Channel::kSms;
  t.body = "Hello ((name))";
  t.created_at = now_;
  ASSERT_TRUE(store_.create_template(t));
  auto record = fakes::sample_email(service_.id, now_, "07700900123");
  record.type = store::Channel::kSms;
  record.template_id = t.id;
  record.template_version = t.version;
  Outgoing outgoing(store_, "notify.example");
  auto text = outgoing.sms_text(record, now_);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "Clinic: Hello Ada");
}

}  // namespace
}  // namespace herald::domain
