#include "domain/email_address.h"

#include <gtest/gtest.h>

namespace herald::domain {
namespace {

TEST(EmailAddress, AcceptsValidAddresses) {
  for (const char* ok : {"email@domain.com", "email@domain.COM", "firstname.lastname@domain.com",
                         "firstname.o'lastname@domain.com", "email@subdomain.domain.com",
                         "firstname+lastname@domain.com", "1234567890@domain.com", "email@domain-one.com",
                         "_______@domain.com", "email@domain.name", "email@domain.superlongtld",
                         "email@domain.co.jp", "firstname-lastname@domain.com", "info@german-financial-services.vermögensberatung",
                         "info@german-financial-services.reallylongarbitrarytldthatiswaytoohugejustincase",
                         "japanese-info@例え.テスト", "email@double--hyphen.com", "email@domain.xn--p1ai"}) {
    EXPECT_TRUE(validate_email_address(ok)) << ok;
  }
}

TEST(EmailAddress, RejectsInvalidAddresses) {
  for (const char* bad : {"email@123.123.123.123", "email@[123.123.123.123]", "plainaddress", "@no-local-part.com",
                          "Outlook Contact <outlook-contact@domain.com>", "no-at.domain.com", "no-tld@domain",
                          ";beginning-semicolon@domain.co.uk", "middle-semicolon@domain.co;uk",
                          "trailing-semicolon@domain.com;", "\"email+leading-quotes@domain.com",
                          "email+middle\"-quotes@domain.com", "quoted-local-part\"@domain.com",
                          "\"quoted@domain.com\"", "lots-of-dots@domain..gov..uk", "two-dots..in-local@domain.com",
                          "multiple@domains@domain.com", "spaces in local@domain.com",
                          "spaces-in-domain@dom ain.com", "underscores-in-domain@dom_ain.com",
                          "pipe-in-domain@example.com|gov.uk", "comma,in-local@gov.uk", "comma-in-domain@domain,gov.uk",
                          "pound-sign-in-local£@domain.com", "local-with-’-apostrophe@domain.com",
                          "local-with-”-quotes@domain.com", "domain-starts-with-a-dot@.domain.com",
                          "brackets(in)local@domain.com", "incorrect-punycode@xn---something.com", "trailing-hyphen@domain-.com",
                          "", "a@b", "email@domain.c"}) {
    auto r = validate_email_address(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().message, "Not a valid email address");
    }
  }
}

TEST(EmailAddress, LengthLimitIs320) {
  EXPECT_TRUE(validate_email_address(std::string(308, 'a') + "@example.com"));   // 320
  EXPECT_FALSE(validate_email_address(std::string(309, 'a') + "@example.com"));  // 321
}

TEST(EmailAddress, StripsSurroundingAndInvisibleWhitespace) {
  EXPECT_EQ(*validate_email_address("  email@domain.com\t\n"), "email@domain.com");
  EXPECT_EQ(*validate_email_address("\u200Bemail@domain.com\u00A0"), "email@domain.com");
  EXPECT_EQ(*validate_email_address("Email@Domain.com"), "Email@Domain.com") << "case is kept as submitted";
}

}  // namespace
}  // namespace herald::domain
