#include "domain/recipients/email_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::domain {
namespace {

// notifications-utils tests/recipient_validation/test_email_address.py valid_email_addresses.
TEST(EmailAddress, AcceptsNotifyUtilsValidAddressesUnchanged) {
  for (const char* address :
       {"email@domain.com", "email@domain.COM", "firstname.lastname@domain.com",
        "firstname.o'lastname@domain.com", "email@subdomain.domain.com",
        "firstname+lastname@domain.com", "1234567890@domain.com", "email@domain-one.com",
        "_______@domain.com", "email@domain.name", "email@domain.superlongtld",
        "email@domain.co.jp", "firstname-lastname@domain.com",
        "info@german-financial-services.vermögensberatung",
        "info@german-financial-services.reallylongarbitrarytldthatiswaytoohugejustincase",
        "japanese-info@例え.テスト", "email@double--hyphen.com"}) {
    const auto result = validate_email_address(address);
    ASSERT_TRUE(result) << address;
    EXPECT_EQ(*result, address);
  }
}

// notifications-utils invalid_email_addresses.
TEST(EmailAddress, RejectsNotifyUtilsInvalidAddresses) {
  const std::vector<std::string> addresses = {
      "email@123.123.123.123",
      "email@[123.123.123.123]",
      "plainaddress",
      "@no-local-part.com",
      "Outlook Contact <outlook-contact@domain.com>",
      "no-at.domain.com",
      "no-tld@domain",
      ";beginning-semicolon@domain.co.uk",
      "middle-semicolon@domain.co;uk",
      "trailing-semicolon@domain.com;",
      "\"email+leading-quotes@domain.com",
      "email+middle\"-quotes@domain.com",
      "\"quoted-local-part\"@domain.com",
      "\"quoted@domain.com\"",
      "lots-of-dots@domain..gov..uk",
      "two-dots..in-local@domain.com",
      "multiple@domains@domain.com",
      "spaces in local@domain.com",
      "spaces-in-domain@dom ain.com",
      "underscores-in-domain@dom_ain.com",
      "pipe-in-domain@example.com|gov.uk",
      "comma,in-local@gov.uk",
      "comma-in-domain@domain,gov.uk",
      "pound-sign-in-local£@domain.com",
      "local-with-’-apostrophe@domain.com",
      "local-with-”-quotes@domain.com",
      "domain-starts-with-a-dot@.domain.com",
      "brackets(in)local@domain.com",
      "email-too-long-" + std::string(320, 'a') + "@example.com",
      "incorrect-punycode@xn---something.com"};
  for (const std::string& address : addresses) {
    const auto result = validate_email_address(address);
    ASSERT_FALSE(result) << address;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message, "Not a valid email address");
  }
}

TEST(EmailAddress, RejectsOtherShapes) {
  for (const std::string address : {"",
                                    " ",
                                    "@",
                                    "a@",
                                    "a@b",
                                    "a@c.c",
                                    "a@c..com",
                                    "a@.c.com",
                                    "a@b.com.",
                                    "a@bü.com.",
                                    "a@-ex.com",
                                    "a@ex-.com",
                                    "a@ex---ample.com",
                                    "a@d.c0m",
                                    "a@d.co-m",
                                    "a@d.xn--",
                                    "a@d.xn--p1ai-",
                                    "a@d.xn----p1ai",
                                    "a@ b.com",
                                    "x@\u3000b.com",
                                    "a@b.com\u3000",
                                    "a(b)@c.com",
                                    "a@b@c.com",
                                    "a\u200b@b"}) {
    EXPECT_FALSE(validate_email_address(address)) << address;
  }
}

TEST(EmailAddress, AcceptsOtherShapes) {
  for (const char* address :
       {"a@c.cc", ".a@c.com", "a.@c.com", "a!#$%&'*+/=?^_`{|}~-@c.com", "a@d.xn--p1ai",
        "a@d.XN--P1AI", "a@b.xn--vermgensberatung-pwb", "a@d.рф"}) {
    EXPECT_TRUE(validate_email_address(address)) << address;
  }
}

// notifications-utils test_validate_email_address_strips_whitespace.
TEST(EmailAddress, StripsSurroundingWhitespace) {
  for (const char* address : {" email@domain.com ", "\temail@domain.com", "\temail@domain.com\n",
                              "\u200bemail@domain.com\u200b", "\r\n email@domain.com\x0b\x0c"}) {
    const auto result = validate_email_address(address);
    ASSERT_TRUE(result) << address;
    EXPECT_EQ(*result, "email@domain.com");
  }
}

TEST(EmailAddress, RemovesObscureWhitespaceAnywhere) {
  EXPECT_EQ(*validate_email_address("em\u200bail@dom\u00a0ain.com"), "email@domain.com");
  EXPECT_EQ(*validate_email_address("\ufeff\u2060email@domain.com\u202f\u180e"),
            "email@domain.com");
  EXPECT_EQ(*validate_email_address("email@domain.com\u200c\u200d"), "email@domain.com");
}

// GOV.UK deletes U+2028 and U+2029 too, so "a\u2028b@x" is sent to "ab@x"; Herald refuses them.
TEST(EmailAddress, RefusesLineAndParagraphSeparators) {
  for (const char* address :
       {"email@domain.com\u2028", "\u2029email@domain.com", "em\u2028ail@domain.com", "email@dom\u2029ain.com"}) {
    const auto result = validate_email_address(address);
    ASSERT_FALSE(result) << address;
    EXPECT_EQ(result.error().message, "Not a valid email address") << address;
  }
}

TEST(EmailAddress, OnlyAsciiWhitespaceIsStrippedFromTheEnds) {
  EXPECT_FALSE(validate_email_address("\u3000email@domain.com"));
  EXPECT_FALSE(validate_email_address("email@domain.com\u2003"));
}

TEST(EmailAddress, KeepsCaseAsSubmitted) {
  EXPECT_EQ(*validate_email_address("First.Last@Domain.COM"), "First.Last@Domain.COM");
  EXPECT_EQ(*validate_email_address(" a@MÜNCHEN.DE "), "a@MÜNCHEN.DE");
}

TEST(EmailAddress, LengthLimitIs320CodePoints) {
  EXPECT_TRUE(validate_email_address(std::string(308, 'a') + "@example.com"));   // 320
  EXPECT_FALSE(validate_email_address(std::string(309, 'a') + "@example.com"));  // 321
  // 320 code points but 324 bytes.
  EXPECT_TRUE(validate_email_address(std::string(311, 'a') + "@üüüü.com"));
  EXPECT_FALSE(validate_email_address(std::string(312, 'a') + "@üüüü.com"));
}

TEST(EmailAddress, LabelsAreAtMost63Characters) {
  EXPECT_TRUE(validate_email_address("a@" + std::string(63, 'x') + ".com"));
  EXPECT_FALSE(validate_email_address("a@" + std::string(64, 'x') + ".com"));
}

TEST(EmailAddress, HostnameIsAtMost253Characters) {
  const std::string three_labels =
      std::string(63, 'x') + "." + std::string(63, 'x') + "." + std::string(63, 'x') + ".";
  EXPECT_TRUE(validate_email_address("a@" + three_labels + std::string(61, 'x')));   // 253
  EXPECT_FALSE(validate_email_address("a@" + three_labels + std::string(62, 'x')));  // 254
}

std::string repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

TEST(EmailAddress, PunycodeLengthOfNonAsciiLabelsCounts) {
  // "ü" * n encodes as "xn--" + n + 2 characters ("xn--tdaaa..." style).
  EXPECT_TRUE(validate_email_address("a@" + repeat("ü", 57) + ".com"));   // 63 encoded
  EXPECT_FALSE(validate_email_address("a@" + repeat("ü", 58) + ".com"));  // 64 encoded
}

TEST(EmailAddress, InternationalisedHostnames) {
  for (const char* address :
       {"a@münchen.de", "a@MÜNCHEN.DE", "a@straße.de", "a@例え.テスト", "a@üü.üü", "a@example。com",
        "a@example．com", "a@ex\u00adample.com", "a@Ａ.com", "a@ΣΑΣ.com", "a@ЁЖ.com", "a@שלום.com",
        "a@\u0627\u0644.com"}) {
    EXPECT_TRUE(validate_email_address(address)) << address;
  }
}

TEST(EmailAddress, RejectsBadInternationalisedHostnames) {
  for (const char* address :
       {"a@xn--ü.com",        // non-ASCII label already carrying the ACE prefix
        "a@\u00ad.com",       // maps to an empty label
        "a@ü\ue000.com",      // private use character
        "a@שלוםa.com",        // right-to-left label with a left-to-right letter
        "a@1שלום.com",        // right-to-left label not starting with a right-to-left character
        "a@exa_mple.cöm"}) {  // '_' survives into the encoded label
    EXPECT_FALSE(validate_email_address(address)) << address;
  }
}

TEST(EmailAddress, RejectsMalformedUtf8) {
  EXPECT_FALSE(validate_email_address("a@b\xff.com"));
  EXPECT_FALSE(validate_email_address("a@b\xc3.com"));
  EXPECT_FALSE(validate_email_address("\xed\xa0\x80@b.com"));
}

TEST(EmailAddress, LongInputIsHandled) {
  EXPECT_FALSE(validate_email_address(std::string(1'000'000, 'a') + "@" + std::string(10, 'b')));
  EXPECT_TRUE(
      validate_email_address(std::string(100'000, ' ') + "a@b.com" + std::string(100'000, '\n')));
}

}  // namespace
}  // namespace herald::domain
