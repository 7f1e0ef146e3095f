#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/time.h"
#include "core/uuid.h"

#include <vector>

namespace herald {
namespace {

TEST(Uuid, AcceptsWhatPythonAccepts) {
  const std::string canonical = "740e5834-3a29-46b4-9a6f-16142fde533a";
  for (const char* form : {"740e5834-3a29-46b4-9a6f-16142fde533a", "740E5834-3A29-46B4-9A6F-16142FDE533A",
                           "{740e5834-3a29-46b4-9a6f-16142fde533a}", "urn:uuid:740e5834-3a29-46b4-9a6f-16142fde533a",
                           "740e58343a2946b49a6f16142fde533a"}) {
    auto u = Uuid::parse(form);
    ASSERT_TRUE(u) << form;
    EXPECT_EQ(u->to_string(), canonical);
  }
  for (const char* bad : {"", "abc", "740e5834-3a29-46b4-9a6f-16142fde533", "740e5834-3a29-46b4-9a6f-16142fde533az",
                          "740e5834-3a29-46b4-9a6f-16142fde533a0"}) {
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
  }
}

TEST(Time, FormatsAsGovukDatetime) {
  auto t = parse_timestamp("2026-11-22T21:59:09.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_timestamp(*t), "2026-11-22T21:59:09.123456Z");
  EXPECT_EQ(format_timestamp(from_micros(0)), "1970-01-01T00:00:00.000000Z");
  EXPECT_FALSE(parse_timestamp("2026-13-22T21:59:09.123456Z"));
  // Every field at its widest and narrowest, and before 1970.
  for (const char* text : {"9999-12-31T23:59:59.999999Z", "0001-02-03T04:05:06.000007Z", "1969-12-31T23:59:59.999999Z",
                           "2000-02-29T12:00:00.500000Z"}) {
    auto parsed = parse_timestamp(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(format_timestamp(*parsed), text);
  }
  EXPECT_EQ(format_timestamp(from_micros(-1)), "1969-12-31T23:59:59.999999Z");
  // Beyond four-digit years the form widens rather than wraps.
  EXPECT_EQ(format_timestamp(*parse_timestamp("9999-12-31T23:59:59.999999Z") + std::chrono::hours(24)),
            "10000-01-01T23:59:59.999999Z");
}

TEST(Base64, RoundTripsBothAlphabets) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64url_decode("Zm9vY"));   // impossible length
  EXPECT_FALSE(base64url_decode("Zm9vYh"));  // non-canonical trailing bits
}

}  // namespace
}  // namespace herald
