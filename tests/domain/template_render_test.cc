#include "domain/template_render.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "domain/personalisation_json.h"

namespace herald::domain {
namespace {

Personalisation values(const char* json_text) {
  auto parsed = json::parse(json_text);
  EXPECT_TRUE(parsed);
  return personalisation_from_json(*parsed);
}

Result<RenderedEmail> render(const std::string& subject, const std::string& body, const char* json_text) {
  return render_email({subject, body}, values(json_text));
}

TEST(PlaceholderNames, FirstOccurrenceOrderAsWritten) {
  EXPECT_EQ(placeholder_names("((b)) ((a)) ((b)) ((c??show)) (((d))) ((not(valid))) (()) ((e)"),
            (std::vector<std::string>{"b", "a", "c", "d"}));
}

TEST(Render, SubstitutesCaseAndSpaceInsensitively) {
  auto r = render("Hi ((First Name))", "Dear ((first_name)), ((FIRST-NAME)).", R"({"firstname": "Ada"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->subject, "Hi Ada");
  EXPECT_EQ(r->body, "Dear Ada, Ada.");
}

TEST(Render, MissingListsSubjectFirstThenBodyAsWritten) {
  auto r = render("((Zed))", "((a)) ((b)) ((a))", R"({"b": "x"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "Missing personalisation: Zed, a");
}

TEST(Render, NullCountsAsMissingAndConditionalsAreRequired) {
  EXPECT_EQ(render("s", "((a))", R"({"a": null})").error().message, "Missing personalisation: a");
  EXPECT_EQ(render("s", "((flag??text))", R"({})").error().message, "Missing personalisation: flag");
}

TEST(Render, ConditionalsShowOnlyForTruthyWords) {
  for (const char* yes : {"yes", "Y", "true", "T", "1", "include", "SHOW"}) {
    auto r = render("s", "a((f??, shown)) b", (std::string(R"({"f": ")") + yes + "\"}").c_str());
    EXPECT_EQ(r->body, "a, shown b") << yes;
  }
  EXPECT_EQ(render("s", "a((f??, shown)) b", R"({"f": "no"})")->body, "a b");
  EXPECT_EQ(render("s", "a((f??, shown)) b", R"({"f": true})")->body, "a, shown b");
  EXPECT_EQ(render("s", "a((f??, shown)) b", R"({"f": 0})")->body, "a b");
}

TEST(Render, ListsAsBulletsInBodyAndInlineInSubject) {
  auto r = render("((l))", "Items:((l))", R"({"l": [" one ", null, "", "two", "three"]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "Items:\n\n* one\n* two\n* three");
  EXPECT_EQ(r->subject, "one, two and three");
  EXPECT_EQ(render("((l))", "x((l))", R"({"l": ["a", "b"]})")->subject, "a and b");
  EXPECT_EQ(render("s", "x((l))", R"({"l": []})")->body, "x");
}

TEST(Render, BodyKeepsLineEndingsAndIsStripped) {
  auto r = render("s", "  Hello ((name))\r\n\r\nFunctional test\r\n  ", R"({"name": "Foo"})");
  EXPECT_EQ(r->body, "Hello Foo\r\n\r\nFunctional test");
  EXPECT_EQ(r->text_body, "Hello Foo\n\nFunctional test");
}

TEST(Render, NumbersAndBooleansPrintAsPython) {
  auto r = render("s", "((a)) ((b)) ((c)) ((d)) ((e))", R"({"a": 1, "b": 1.50, "c": true, "d": 1e2, "e": 1e20})");
  EXPECT_EQ(r->body, "1 1.5 True 100.0 1e+20");
}

TEST(Render, HtmlEscapesValuesAndTemplateButNotTheApiBody) {
  auto r = render("<b>((x))</b>", "Hi ((x))\n\nline & more", R"({"x": "<script>\"&'"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "Hi <script>\"&'\n\nline & more");
  EXPECT_NE(r->html_body.find("Hi &lt;script&gt;&quot;&amp;&#x27;"), std::string::npos) << r->html_body;
  EXPECT_NE(r->html_body.find("line &amp; more"), std::string::npos);
  EXPECT_EQ(r->html_body.find("<script>"), std::string::npos);
  EXPECT_NE(r->html_body.find("<title>&lt;b&gt;"), std::string::npos);
}

TEST(Render, SubjectTypographyAndWhitespace) {
  auto r = render("  It's \"done\" - ((x))\n  now  ", "b", R"({"x": "ok"})");
  EXPECT_EQ(r->subject, "It\u2019s \u201Cdone\u201D \u2013 ok now");
}

TEST(Render, EmptyMessage) {
  EXPECT_EQ(render("s", "((a))", R"({"a": ""})").error().message, "Your message is empty.");
  EXPECT_TRUE(render("s", "x((a))", R"({"a": ""})"));
}

TEST(Render, ValuesAreNotReinterpretedAsPlaceholders) {
  EXPECT_EQ(render("s", "((a))", R"j({"a": "((b))"})j")->body, "((b))");
}

TEST(Render, PathologicalInputIsLinear) {
  std::string nasty;
  for (int i = 0; i < 20000; ++i) nasty += "((a";
  auto r = render("s", nasty, R"({})");
  EXPECT_TRUE(r);
}

}  // namespace
}  // namespace herald::domain
