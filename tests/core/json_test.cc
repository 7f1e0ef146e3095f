#include "core/json.h"

#include <gtest/gtest.h>

namespace herald::json {
namespace {

TEST(Json, ParsesObjectsKeepingOrderAndLastDuplicate) {
  auto v = parse(R"( {"b": 1, "a": [true, null, "x"], "b": 2.50} )");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_object());
  EXPECT_EQ(v->as_object().size(), 3u);
  EXPECT_EQ(v->as_object()[0].first, "b");
  EXPECT_EQ(v->find("b")->as_string(), "2.50");  // lexeme kept
  EXPECT_EQ(v->find("a")->as_array().size(), 3u);
}

TEST(Json, DecodesEscapesAndSurrogatePairs) {
  auto v = parse(R"("a\"b\\c\u00e9\ud83d\ude00\n")");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->as_string(), "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n");
}

TEST(Json, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "nul", "\"\\x\"", "\"\\ud800\"",
                          "{\"a\" 1}", "[1] x", "\"raw\ncontrol\"", "NaN", "{'a':1}"}) {
    EXPECT_FALSE(parse(bad)) << bad;
  }
}

TEST(Json, LimitsDepth) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(parse(deep));
  EXPECT_TRUE(parse("[[[]]]"));
}

TEST(Json, WriterEscapesAndRoundTrips) {
  Writer w;
  w.begin_object().key("k\"").string("line\nbreak\x01").key("n").integer(-5).key("z").null().end_object();
  EXPECT_EQ(w.str(), R"({"k\"":"line\nbreak\u0001","n":-5,"z":null})");
  auto v = parse(w.str());
  ASSERT_TRUE(v);
  EXPECT_EQ(serialize(*v), w.str());
  Writer edges;  // escapes first, last and back to back, and an untouched multi-byte character
  edges.begin_array().string("\"\\\t\x1f").string("\bé\r").string("").string("plain").end_array();
  EXPECT_EQ(edges.str(), R"(["\"\\\t\u001f","\bé\r","","plain"])");
}

TEST(Json, Int64OnlyForIntegers) {
  EXPECT_EQ(parse("42")->as_int64(), 42);
  EXPECT_FALSE(parse("4.2")->as_int64());
  EXPECT_FALSE(parse("1e3")->as_int64());
  EXPECT_FALSE(parse("99999999999999999999")->as_int64());
}

}  // namespace
}  // namespace herald::json
