// SmtpProvider against a scripted relay (tests/fakes/scripted_smtp_relay.h) through its stream
// seam: every line the client sends is checked in order, every reply, drop and timeout is played
// without a socket, and time moves only by the fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "delivery/smtp/smtp_client.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/scripted_smtp_relay.h"

namespace herald::delivery::smtp {
namespace {

using namespace std::chrono_literals;
using fakes::SmtpScript;

constexpr const char* kEhlo = "EHLO worker-1.herald.test";

OutgoingEmail sample_email() {
  OutgoingEmail e;
  e.message_id = "740e5834-3a29-46b4-9a6f-16142fde533a";
  e.from = "notify@herald.test";
  e.to = "person@example.com";
  e.subject = "Your appointment";
  e.text_body = "Hello Ada,\nsee you on Monday.";
  e.html_body = "<p>Hello Ada,</p>";
  return e;
}

// Banner, EHLO, and a 250 reply naming `extensions` (multi-line when there are any).
void greet(SmtpScript& s, const std::vector<std::string>& extensions = {}) {
  s.reply("220 relay.herald.test ESMTP").expect(kEhlo);
  if (extensions.empty()) {
    s.reply("250 relay.herald.test");
    return;
  }
  s.reply("250-relay.herald.test greets worker-1.herald.test");
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    s.reply((i + 1 == extensions.size() ? "250 " : "250-") + extensions[i]);
  }
}

// MAIL, RCPT, DATA one at a time, the message, and the relay's acceptance.
void deliver(SmtpScript& s, const OutgoingEmail& e = sample_email()) {
  s.expect("MAIL FROM:<" + e.from + ">").reply("250 2.1.0 Ok");
  s.expect("RCPT TO:<" + e.to + ">").reply("250 2.1.5 Ok");
  s.expect("DATA").reply("354 End data with <CR><LF>.<CR><LF>");
  s.expect_message().reply("250 2.0.0 Ok: queued as 4F2A1");
}

class SmtpClientTest : public ::testing::Test {
 protected:
  SmtpClientTest() {
    options_.host = "relay.herald.test";
    options_.port = 2525;
    options_.helo_name = "worker-1.herald.test";
    options_.message_id_domain = "herald.test";
    options_.ca_file = "/etc/herald/relay-ca.pem";
    options_.timeout = 7s;
  }
  void TearDown() override { relay_.expect_finished(); }

  SmtpProvider make() { return SmtpProvider(options_, clock_, relay_.connector()); }

  SmtpOptions options_;
  fakes::FakeClock clock_;
  fakes::ScriptedSmtpRelay relay_;
};

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(SmtpClientTest, DeliversOneMessageCommandByCommand) {
  auto& s = relay_.connection();
  greet(s);
  deliver(s);
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  EXPECT_EQ(result.detail, "250");
  EXPECT_EQ(relay_.last_host, "relay.herald.test");
  EXPECT_EQ(relay_.last_port, 2525);
  EXPECT_EQ(relay_.last_timeout, 7s);
  EXPECT_FALSE(s.tls);
  EXPECT_FALSE(s.closed) << "the connection is kept for the next message";
  // Without PIPELINING each command is its own write, sent only after the last reply was read.
  ASSERT_EQ(s.writes.size(), 5u);
  EXPECT_EQ(s.writes[0], std::string(kEhlo) + "\r\n");
  EXPECT_EQ(s.writes[1], "MAIL FROM:<notify@herald.test>\r\n");
  EXPECT_EQ(s.writes[2], "RCPT TO:<person@example.com>\r\n");
  EXPECT_EQ(s.writes[3], "DATA\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  const std::string& m = s.messages[0];
  EXPECT_EQ(s.writes[4], m) << "the message goes in one write, terminator included";
  EXPECT_EQ(m.rfind("From: <notify@herald.test>\r\nTo: <person@example.com>\r\nSubject: Your appointment\r\n", 0), 0u)
      << m;
  EXPECT_NE(m.find("\r\nDate: Fri, 15 Jan 2027 08:00:00 +0000\r\n"), std::string::npos) << "from the fake clock";
  EXPECT_NE(m.find("\r\nMessage-ID: <740e5834-3a29-46b4-9a6f-16142fde533a@herald.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nHello Ada,\r\nsee you on Monday.\r\n"), std::string::npos);
  EXPECT_EQ(m.substr(m.size() - 5), "\r\n.\r\n");
  EXPECT_EQ(count(m, "\r\n.\r\n"), 1u);
}

TEST_F(SmtpClientTest, DotStuffsLinesThatStartWithADot) {
  OutgoingEmail e = sample_email();
  e.text_body = ".hidden\nabove\n.\n..two\nend";
  e.html_body = ".";
  auto& s = relay_.connection();
  greet(s);
  deliver(s, e);
  auto smtp = make();

  const SendResult result = smtp.send(e);

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  ASSERT_EQ(s.messages.size(), 1u);
  const std::string& m = s.messages[0];
  EXPECT_NE(m.find("\r\n..hidden\r\nabove\r\n..\r\n...two\r\nend\r\n"), std::string::npos) << m;
  // A lone "." inside the message would have ended it early: the only one is the terminator.
  EXPECT_EQ(count(m, "\r\n.\r\n"), 1u) << m;
  EXPECT_EQ(m.substr(m.size() - 5), "\r\n.\r\n");
}

TEST_F(SmtpClientTest, ReadsMultiLineRepliesToTheirLastLine) {
  auto& s = relay_.connection();
  s.reply("220-relay.herald.test ESMTP").reply("220-no unsolicited mail").reply("220 ready");
  s.expect(kEhlo).reply("250-relay.herald.test").reply("250-SIZE 10240000").reply("250-8BITMIME").reply("250 HELP");
  s.expect("MAIL FROM:<notify@herald.test>").reply("250-2.1.0 sender").reply("250 2.1.0 Ok");
  s.expect("RCPT TO:<person@example.com>").reply("250-2.1.5 recipient").reply("250 2.1.5 Ok");
  s.expect("DATA").reply("354-go ahead").reply("354 End data with <CR><LF>.<CR><LF>");
  s.expect_message().reply("250-2.0.0 Ok").reply("250 queued as 4F2A1");
  auto smtp = make();

  // Had the client read only the first line of a reply, it would write its next command while
  // the relay still has lines to send: the script fails it.
  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  EXPECT_EQ(s.writes.size(), 5u) << "no pipelining when the relay does not offer it";
}

TEST_F(SmtpClientTest, PipelinesMailRcptAndDataWhenOffered) {
  auto& s = relay_.connection();
  greet(s, {"SIZE 10240000", "pipelining", "8BITMIME"});  // extension names are case-insensitive
  s.expect("MAIL FROM:<notify@herald.test>").expect("RCPT TO:<person@example.com>").expect("DATA");
  s.reply("250 2.1.0 Ok").reply("250 2.1.5 Ok").reply("354 go ahead");
  s.expect_message().reply("250 2.0.0 Ok");
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  ASSERT_EQ(s.writes.size(), 3u);
  EXPECT_EQ(s.writes[1], "MAIL FROM:<notify@herald.test>\r\nRCPT TO:<person@example.com>\r\nDATA\r\n");
}

// A refusal at one stage of the conversation: the relay's code there, and what it comes to.
struct Refusal {
  const char* stage;
  int code;
  SendStatus expected;
  const char* detail;
};

class SmtpClientRefusalTest : public SmtpClientTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(SmtpClientRefusalTest, ClassifiesTheReply) {
  const Refusal& r = GetParam();
  const std::string stage = r.stage;
  const std::string reply = std::to_string(r.code) + " 4.3.0 no";
  auto& s = relay_.connection();
  if (stage == "greeting") {
    s.reply(reply);
  } else if (stage == "EHLO") {
    s.reply("220 relay.herald.test ESMTP").expect(kEhlo).reply(reply);
  } else {
    greet(s);
    s.expect("MAIL FROM:<notify@herald.test>").reply(stage == "MAIL" ? reply : "250 Ok");
    if (stage != "MAIL") s.expect("RCPT TO:<person@example.com>").reply(stage == "RCPT" ? reply : "250 Ok");
    if (stage == "DATA" || stage == "end of data") s.expect("DATA").reply(stage == "DATA" ? reply : "354 go ahead");
    if (stage == "end of data") s.expect_message().reply(reply);
  }
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, r.expected) << result.detail;
  EXPECT_EQ(result.detail, r.detail);
  EXPECT_EQ(result.detail.find("example.com"), std::string::npos) << "details never name addresses";
  // After a temporary failure the session is in an unknown state and is dropped; after a
  // permanent refusal it is kept (and reset before the next message).
  EXPECT_EQ(s.closed, r.expected == SendStatus::kTemporaryFailure);
}

INSTANTIATE_TEST_SUITE_P(Stages, SmtpClientRefusalTest,
                         ::testing::Values(
                             // Before a transaction every refusal is the relay's trouble, not the message's.
                             Refusal{"greeting", 421, SendStatus::kTemporaryFailure, "greeting 421"},
                             Refusal{"greeting", 554, SendStatus::kTemporaryFailure, "greeting 554"},
                             Refusal{"EHLO", 421, SendStatus::kTemporaryFailure, "EHLO 421"},
                             Refusal{"EHLO", 550, SendStatus::kTemporaryFailure, "EHLO 550"},
                             Refusal{"MAIL", 451, SendStatus::kTemporaryFailure, "MAIL 451"},
                             Refusal{"MAIL", 550, SendStatus::kPermanentFailure, "MAIL 550"},
                             Refusal{"RCPT", 450, SendStatus::kTemporaryFailure, "RCPT 450"},
                             Refusal{"RCPT", 550, SendStatus::kPermanentFailure, "RCPT 550"},
                             Refusal{"DATA", 451, SendStatus::kTemporaryFailure, "DATA 451"},
                             Refusal{"DATA", 554, SendStatus::kPermanentFailure, "DATA 554"},
                             Refusal{"end of data", 452, SendStatus::kTemporaryFailure, "end of data 452"},
                             Refusal{"end of data", 552, SendStatus::kPermanentFailure, "end of data 552"}),
                         [](const auto& test) {
                           std::string name = test.param.stage;
                           for (auto& c : name) {
                             if (c == ' ') c = '_';
                           }
                           return name + "_" + std::to_string(test.param.code);
                         });

TEST_F(SmtpClientTest, AfterAPermanentRefusalTheNextMessageStartsWithRset) {
  auto& s = relay_.connection();
  greet(s);
  s.expect("MAIL FROM:<notify@herald.test>").reply("250 Ok");
  s.expect("RCPT TO:<person@example.com>").reply("550 5.1.1 no such user");
  s.expect("RSET").reply("250 2.0.0 Ok");
  deliver(s);
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kPermanentFailure);
  const SendResult second = smtp.send(sample_email());

  EXPECT_EQ(second.status, SendStatus::kAccepted) << second.detail;
  EXPECT_EQ(relay_.opened, 1u);
}

TEST_F(SmtpClientTest, ARefusedRsetOpensANewConnection) {
  auto& first = relay_.connection();
  greet(first);
  first.expect("MAIL FROM:<notify@herald.test>").reply("550 5.7.1 sender refused");
  first.expect("RSET").reply("421 4.3.2 shutting down");
  auto& second = relay_.connection();
  greet(second);
  deliver(second);
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kPermanentFailure);
  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  EXPECT_TRUE(first.closed);
  EXPECT_EQ(second.messages.size(), 1u);
}

// The relay goes away after the step named; the message fails temporarily and the next one
// goes over a new connection.
class SmtpClientDropTest : public SmtpClientTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(SmtpClientDropTest, IsATemporaryFailureAndTheNextMessageReconnects) {
  const std::string after = GetParam();
  auto& s = relay_.connection();
  if (after == "connect") {
    s.drop();
  } else if (after == "EHLO sent") {
    s.reply("220 relay.herald.test ESMTP").expect(kEhlo).drop();
  } else {
    greet(s);
    if (after == "greeting") {
      s.drop();  // the write of MAIL fails
    } else {
      s.expect("MAIL FROM:<notify@herald.test>");
      if (after == "MAIL sent") {
        s.drop();
      } else {
        s.reply("250 Ok").expect("RCPT TO:<person@example.com>").reply("250 Ok").expect("DATA");
        if (after == "DATA sent") {
          s.drop();
        } else {
          s.reply("354 go ahead");
          if (after == "354") {
            s.drop();  // the write of the message fails
          } else {
            s.expect_message().drop();  // the relay hangs up instead of confirming
          }
        }
      }
    }
  }
  auto& again = relay_.connection();
  greet(again);
  deliver(again);
  auto smtp = make();

  const SendResult dropped = smtp.send(sample_email());

  EXPECT_EQ(dropped.status, SendStatus::kTemporaryFailure) << dropped.detail;
  EXPECT_TRUE(s.closed);
  const SendResult next = smtp.send(sample_email());
  EXPECT_EQ(next.status, SendStatus::kAccepted) << next.detail;
  EXPECT_EQ(relay_.opened, 2u);
}

INSTANTIATE_TEST_SUITE_P(Stages, SmtpClientDropTest,
                         ::testing::Values("connect", "EHLO sent", "greeting", "MAIL sent", "DATA sent", "354",
                                           "message sent"),
                         [](const auto& test) {
                           std::string name = test.param;
                           for (auto& c : name) {
                             if (c == ' ') c = '_';
                           }
                           return name;
                         });

TEST_F(SmtpClientTest, AReadTimeoutIsATemporaryFailure) {
  auto& s = relay_.connection();
  greet(s);
  s.expect("MAIL FROM:<notify@herald.test>").reply("250 Ok");
  s.expect("RCPT TO:<person@example.com>").reply("250 Ok");
  s.expect("DATA").reply("354 go ahead");
  s.expect_message().time_out();
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(result.detail, "end of data: read timed out");
  EXPECT_TRUE(s.closed) << "a relay that may still answer late is not talked to again";
}

TEST_F(SmtpClientTest, ARefusedConnectionIsATemporaryFailure) {
  relay_.refuse();
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("refused"), std::string::npos) << result.detail;
}

TEST_F(SmtpClientTest, MalformedRepliesAreTemporaryFailures) {
  relay_.connection().reply("hello there");
  relay_.connection().reply("220 relay.herald.test ESMTP").expect(kEhlo).reply("250+relay.herald.test");
  auto& long_reply = relay_.connection();
  long_reply.reply("220 relay.herald.test ESMTP").expect(kEhlo);
  for (int i = 0; i < 100; ++i) long_reply.reply("250-EXTENSION" + std::to_string(i));
  auto smtp = make();

  const SendResult not_a_reply = smtp.send(sample_email());
  const SendResult bad_separator = smtp.send(sample_email());
  const SendResult too_long = smtp.send(sample_email());

  EXPECT_EQ(not_a_reply.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(not_a_reply.detail, "greeting: malformed SMTP reply");
  EXPECT_EQ(bad_separator.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(bad_separator.detail, "EHLO: malformed SMTP reply");
  EXPECT_EQ(too_long.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(too_long.detail, "EHLO: SMTP reply too long");
}

TEST_F(SmtpClientTest, UpgradesToTlsWhenOfferedAndForgetsWhatWasSaidBefore) {
  options_.tls_server_name = "mx.herald.test";
  auto& s = relay_.connection();
  greet(s, {"PIPELINING", "STARTTLS"});
  s.expect("STARTTLS").reply("220 2.0.0 Ready to start TLS").expect_tls();
  // Inside TLS the relay no longer offers PIPELINING: the client must not pipeline, and must not
  // start TLS a second time.
  s.expect(kEhlo).reply("250-relay.herald.test").reply("250 STARTTLS");
  deliver(s);
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.tls_server_name, "mx.herald.test");
  EXPECT_EQ(s.tls_ca_file, "/etc/herald/relay-ca.pem");
  ASSERT_GE(s.writes.size(), 4u);
  EXPECT_EQ(s.writes[3], "MAIL FROM:<notify@herald.test>\r\n") << "one command per write";
}

TEST_F(SmtpClientTest, VerifiesTheRelayByItsHostNameByDefault) {
  options_.require_starttls = true;
  auto& s = relay_.connection();
  greet(s, {"STARTTLS"});
  s.expect("STARTTLS").reply("220 go ahead").expect_tls();
  s.expect(kEhlo).reply("250 relay.herald.test");
  deliver(s);
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);
  EXPECT_EQ(s.tls_server_name, "relay.herald.test");
}

TEST_F(SmtpClientTest, RequiredStarttlsNotOfferedSendsNothing) {
  options_.require_starttls = true;
  auto& s = relay_.connection();
  greet(s, {"PIPELINING", "8BITMIME"});
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(result.detail, "relay does not offer STARTTLS, which is required");
  EXPECT_EQ(s.client_lines, std::vector<std::string>{kEhlo});
  EXPECT_TRUE(s.closed);
}

TEST_F(SmtpClientTest, StarttlsRefusedOrFailedHandshakeSendsNothingMore) {
  auto& refused = relay_.connection();
  greet(refused, {"STARTTLS"});
  refused.expect("STARTTLS").reply("454 4.7.0 TLS not available");
  auto& failed = relay_.connection();
  greet(failed, {"STARTTLS"});
  failed.expect("STARTTLS").reply("220 go ahead").expect_tls("TLS handshake failed: certificate has expired");
  auto smtp = make();

  const SendResult first = smtp.send(sample_email());
  const SendResult second = smtp.send(sample_email());

  // Not offered is plaintext (unless required); offered but broken is never a reason to fall back.
  EXPECT_EQ(first.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(first.detail, "STARTTLS 454");
  EXPECT_EQ(second.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(second.detail, "TLS handshake failed: certificate has expired");
  EXPECT_FALSE(failed.tls);
  ASSERT_FALSE(failed.client_lines.empty());
  EXPECT_EQ(failed.client_lines.back(), "STARTTLS");
}

TEST_F(SmtpClientTest, AuthenticatesWithPlainInsideTls) {
  options_.username = "relay-user";
  options_.password = "s3cret";
  auto& s = relay_.connection();
  greet(s, {"STARTTLS", "AUTH PLAIN LOGIN"});
  s.expect("STARTTLS").reply("220 go ahead").expect_tls();
  s.expect(kEhlo).reply("250-relay.herald.test").reply("250 AUTH PLAIN LOGIN");
  s.expect("AUTH PLAIN AHJlbGF5LXVzZXIAczNjcmV0").reply("235 2.7.0 Authentication successful");
  deliver(s);
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
}

TEST_F(SmtpClientTest, RefusedCredentialsAreATemporaryFailure) {
  options_.username = "relay-user";
  options_.password = "s3cret";
  auto& s = relay_.connection();
  greet(s, {"STARTTLS"});
  s.expect("STARTTLS").reply("220 go ahead").expect_tls();
  s.expect(kEhlo).reply("250 relay.herald.test");
  s.expect("AUTH PLAIN AHJlbGF5LXVzZXIAczNjcmV0").reply("535 5.7.8 Authentication credentials invalid");
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(result.detail, "AUTH 535");
  EXPECT_TRUE(s.closed);
}

TEST_F(SmtpClientTest, NeverSendsCredentialsWithoutTls) {
  options_.username = "relay-user";
  options_.password = "s3cret";
  auto& s = relay_.connection();
  greet(s, {"AUTH PLAIN LOGIN"});
  auto smtp = make();

  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(result.detail, "refusing AUTH without TLS");
  EXPECT_EQ(s.client_lines, std::vector<std::string>{kEhlo});
}

TEST_F(SmtpClientTest, InternationalisedAddressesNeedSmtpUtf8) {
  OutgoingEmail e = sample_email();
  e.to = "jos\xC3\xA9@example.com";
  auto& without = relay_.connection();
  greet(without, {"8BITMIME"});
  auto smtp = make();

  const SendResult refused = smtp.send(e);

  EXPECT_EQ(refused.status, SendStatus::kPermanentFailure);
  EXPECT_EQ(without.client_lines, std::vector<std::string>{kEhlo}) << "no MAIL for a relay that cannot take it";

  // A relay that offers it gets the parameter on MAIL.
  auto& with = relay_.connection();
  greet(with, {"SMTPUTF8"});
  with.expect("MAIL FROM:<notify@herald.test> SMTPUTF8").reply("250 Ok");
  with.expect("RCPT TO:<jos\xC3\xA9@example.com>").reply("250 Ok");
  with.expect("DATA").reply("354 go ahead");
  with.expect_message().reply("250 Ok");
  auto utf8 = SmtpProvider(options_, clock_, relay_.connector());

  const SendResult sent = utf8.send(e);

  EXPECT_EQ(sent.status, SendStatus::kAccepted) << sent.detail;
}

TEST_F(SmtpClientTest, PipelinedRefusalsReadEveryReplyAndReportTheFirst) {
  auto& s = relay_.connection();
  greet(s, {"PIPELINING"});
  s.expect("MAIL FROM:<notify@herald.test>").expect("RCPT TO:<person@example.com>").expect("DATA");
  s.reply("250 Ok").reply("550 5.1.1 no such user").reply("554 5.5.1 no valid recipients");
  // Some relays say 354 even so: they get an empty message.
  s.expect("RSET").reply("250 Ok");
  s.expect("MAIL FROM:<notify@herald.test>").expect("RCPT TO:<person@example.com>").expect("DATA");
  s.reply("250 Ok").reply("550 5.1.1 no such user").reply("354 go ahead");
  s.expect(".").reply("554 5.5.1 no valid recipients");
  s.expect("RSET").reply("250 Ok");
  s.expect("MAIL FROM:<notify@herald.test>").expect("RCPT TO:<person@example.com>").expect("DATA");
  s.reply("451 4.3.0 try later").reply("503 5.5.1 sender first").reply("503 5.5.1 sender first");
  auto smtp = make();

  const SendResult no_user = smtp.send(sample_email());
  const SendResult empty_message = smtp.send(sample_email());
  const SendResult busy = smtp.send(sample_email());

  EXPECT_EQ(no_user.status, SendStatus::kPermanentFailure);
  EXPECT_EQ(no_user.detail, "RCPT 550");
  EXPECT_EQ(empty_message.status, SendStatus::kPermanentFailure);
  EXPECT_EQ(empty_message.detail, "RCPT 550");
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(busy.status, SendStatus::kTemporaryFailure);
  EXPECT_EQ(busy.detail, "MAIL 451");
  EXPECT_TRUE(s.closed);
}

TEST_F(SmtpClientTest, ReusesOneConnectionForConsecutiveMessages) {
  auto& s = relay_.connection();
  greet(s);
  deliver(s);
  deliver(s);
  deliver(s);
  auto smtp = make();

  for (int i = 0; i < 3; ++i) {
    const SendResult result = smtp.send(sample_email());
    EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
    clock_.advance(1s);  // busy: no RSET between messages sent in quick succession
  }

  EXPECT_EQ(relay_.opened, 1u);
  EXPECT_EQ(s.messages.size(), 3u);
}

TEST_F(SmtpClientTest, ProbesAConnectionIdleForMoreThanFiveSecondsWithRset) {
  auto& s = relay_.connection();
  greet(s);
  deliver(s);
  deliver(s);
  s.expect("RSET").reply("250 2.0.0 Ok");
  deliver(s);
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);
  clock_.advance(5s);  // not more than five: no probe yet
  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);
  clock_.advance(5s + 1us);
  // The script has exactly one RSET: before the third message, not the second.
  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);

  EXPECT_EQ(relay_.opened, 1u);
}

TEST_F(SmtpClientTest, AnIdleConnectionTheRelayClosedIsReplaced) {
  auto& first = relay_.connection();
  greet(first);
  deliver(first);
  first.expect("RSET").drop();
  auto& second = relay_.connection();
  greet(second);
  deliver(second);
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);
  clock_.advance(60s);
  const SendResult result = smtp.send(sample_email());

  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  EXPECT_TRUE(first.closed);
  EXPECT_EQ(second.messages.size(), 1u);
}

TEST_F(SmtpClientTest, CloseSaysQuitOnce) {
  auto& s = relay_.connection();
  greet(s);
  deliver(s);
  s.expect("QUIT").reply("221 2.0.0 Bye");
  auto smtp = make();

  EXPECT_EQ(smtp.send(sample_email()).status, SendStatus::kAccepted);
  smtp.close();
  EXPECT_TRUE(s.closed);
  smtp.close();  // nothing open: no second QUIT
}

TEST_F(SmtpClientTest, CloseWithoutAConnectionSendsNothing) {
  auto smtp = make();
  smtp.close();
  EXPECT_EQ(relay_.opened, 0u);
}

}  // namespace
}  // namespace herald::delivery::smtp
