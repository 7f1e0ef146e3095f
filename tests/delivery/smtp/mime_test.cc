// The message SmtpProvider sends: MIME encoding, header safety and the DATA form.
#include <gtest/gtest.h>

#include <sstream>

#include "core/base64.h"
#include "delivery/smtp/mime.h"

namespace herald::delivery::smtp {
namespace {

TEST(SmtpMime, DotStuffDoublesEveryLeadingDotAndTerminates) {
  EXPECT_EQ(dot_stuff(".first\r\nmiddle\r\n.\r\n..two\r\n"), "..first\r\nmiddle\r\n..\r\n...two\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a.b\r\n"), "a.b\r\n.\r\n") << "only dots at the start of a line";
  EXPECT_EQ(dot_stuff("no final line break"), "no final line break\r\n.\r\n");
}

TEST(SmtpMime, QuotedPrintableEncodesWhatMustBeAndWrapsLongLines) {
  EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(quoted_printable("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(quoted_printable("trailing \nspace\tkept"), "trailing=20\r\nspace\tkept");
  EXPECT_EQ(quoted_printable("crlf\r\nstays one"), "crlf\r\nstays one");
  const std::string wrapped = quoted_printable(std::string(200, 'x'));
  std::istringstream lines(wrapped);
  std::string line;
  std::string joined;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    EXPECT_LE(line.size(), 76u);
    if (!line.empty() && line.back() == '=') line.pop_back();  // a soft line break
    joined += line;
  }
  EXPECT_EQ(joined, std::string(200, 'x'));
}

TEST(SmtpMime, HeaderTextCannotStartANewHeader) {
  EXPECT_EQ(encode_header_text("Your appointment"), "Your appointment");
  const std::string encoded = encode_header_text("Hi\r\nBcc: someone@example.com");
  EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u) << encoded;
  EXPECT_EQ(encoded.find_first_of("\r\n"), std::string::npos) << encoded;
  EXPECT_EQ(base64_decode(encoded.substr(10, encoded.size() - 12)), "Hi\r\nBcc: someone@example.com");
}

TEST(SmtpMime, AddressesCannotInjectHeaders) {
  OutgoingEmail e;
  e.message_id = "740e5834-3a29-46b4-9a6f-16142fde533a";
  e.from = "notify@herald.test";
  e.to = "person@example.com>\r\nBcc: <someone@example.com";
  e.subject = "Hello";
  e.text_body = "Body";
  e.html_body = "<p>Body</p>";
  e.reply_to = "replies@herald.test";
  e.one_click_unsubscribe_url = "https://herald.test/unsubscribe/abc";

  const std::string m = build_message(e, "herald.test", from_micros(1'800'000'000'000'000), "b0undary");

  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos) << m;
  EXPECT_NE(m.find("\r\nTo: <person@example.comBcc: someone@example.com>\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\r\nReply-To: <replies@herald.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nList-Unsubscribe: <https://herald.test/unsubscribe/abc>\r\n"
                   "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/alternative; boundary=\"b0undary\"\r\n"), std::string::npos);
  EXPECT_EQ(m.substr(m.size() - 14), "--b0undary--\r\n");
}

}  // namespace
}  // namespace herald::delivery::smtp
