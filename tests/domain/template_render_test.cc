#include "domain/rendering/template_render.h"

#include <gtest/gtest.h>

#include "tests/fakes/personalisation_values.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herald::domain {
namespace {

using fakes::text;
using fakes::list;
using fakes::null_value;

// Expected values were checked against notifications-utils (field.py, formatters.py and
// smartypants 2.0) running the same input.

Personalisation values(std::vector<std::pair<std::string, PersonalisationValue>> entries = {}) {
  return Personalisation{std::move(entries)};
}

Result<RenderedEmail> render(const std::string& subject, const std::string& body,
                             const Personalisation& personalisation = {}) {
  return render_email({subject, body}, personalisation);
}

std::string subject_of(const std::string& subject, const Personalisation& personalisation = {}) {
  auto rendered = render(subject, "body", personalisation);
  EXPECT_TRUE(rendered) << rendered.error().message;
  return rendered ? rendered->subject : "";
}

std::string body_of(const std::string& body, const Personalisation& personalisation = {}) {
  auto rendered = render("subject", body, personalisation);
  EXPECT_TRUE(rendered) << rendered.error().message;
  return rendered ? rendered->body : "";
}

std::string error_of(const std::string& subject, const std::string& body,
                     const Personalisation& personalisation = {}) {
  auto rendered = render(subject, body, personalisation);
  EXPECT_FALSE(rendered);
  if (rendered) return "";
  EXPECT_EQ(rendered.error().code, ErrorCode::kInvalidArgument);
  return rendered.error().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// placeholder_names

TEST(PlaceholderNames, FirstOccurrenceOrderAsWritten) {
  EXPECT_EQ(placeholder_names("((b)) ((a)) ((b)) ((c??show)) (((d))) ((not(valid))) (()) ((e)"),
            (std::vector<std::string>{"b", "a", "c", "d"}));
}

TEST(PlaceholderNames, DeduplicatesByNormalisedKeyKeepingTheFirstSpelling) {
  EXPECT_EQ(placeholder_names("((First Name)) ((first_name)) ((FIRST-NAME)) ((firstname??x))"),
            (std::vector<std::string>{"First Name"}));
}

TEST(PlaceholderNames, FollowsNotifyUtilsFieldTests) {
  EXPECT_EQ(placeholder_names("((warning?))"), (std::vector<std::string>{"warning?"}));
  EXPECT_EQ(placeholder_names("((warning?warning))"),
            (std::vector<std::string>{"warning?warning"}));
  EXPECT_EQ(placeholder_names("((warning??foo??bar))"), (std::vector<std::string>{"warning"}));
  EXPECT_EQ(placeholder_names("((warning??line\nbreak))"), (std::vector<std::string>{"warning"}));
  EXPECT_EQ(placeholder_names("((>location)) ((&time))"),
            (std::vector<std::string>{">location", "&time"}));
  EXPECT_EQ(placeholder_names("((\\name)) ((/collection_point))"),
            (std::vector<std::string>{"\\name", "/collection_point"}));
}

TEST(PlaceholderNames, NoneInPlainText) {
  EXPECT_TRUE(placeholder_names("").empty());
  EXPECT_TRUE(placeholder_names("no placeholders (here) ((or here)").empty());
  EXPECT_TRUE(placeholder_names("(( ((").empty());
}

TEST(PlaceholderNames, MultiLineAndConditionalNames) {
  EXPECT_EQ(placeholder_names("((a\nb)) ((??text)) ((x ?? y))"),
            (std::vector<std::string>{"a\nb", "", "x "}));
}

// ---------------------------------------------------------------------------------------------
// Substitution and missing personalisation

TEST(Render, SubstitutesCaseSpaceUnderscoreAndHyphenInsensitively) {
  auto rendered = render("Hi ((First Name))", "Dear ((first_name)), ((FIRST-NAME)).",
                         values({{"firstname", text("Ada")}}));
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_EQ(rendered->subject, "Hi Ada");
  EXPECT_EQ(rendered->body, "Dear Ada, Ada.");
}

TEST(Render, ExtraPersonalisationIsIgnored) {
  EXPECT_EQ(body_of("Hi ((name))", values({{"name", text("Jo")}, {"unused", text("x")}})), "Hi Jo");
}

TEST(Render, MissingListsSubjectFirstThenBodyAsWrittenInFirstOccurrenceOrder) {
  EXPECT_EQ(error_of("((Zed)) ((b))", "((a)) ((b)) ((A)) ((c))", values({{"b", text("x")}})),
            "Missing personalisation: Zed, a, c");
}

TEST(Render, MissingNamesAreDeduplicatedAcrossSubjectAndBody) {
  EXPECT_EQ(error_of("((First Name))", "((first_name)) ((Other))"),
            "Missing personalisation: First Name, Other");
}

TEST(Render, NullCountsAsMissing) {
  EXPECT_EQ(error_of("s", "((a))", values({{"a", null_value()}})), "Missing personalisation: a");
  EXPECT_EQ(error_of("s", "((a)) ((b))", values({{"a", text("x")}, {"A", null_value()}})),
            "Missing personalisation: a, b")
      << "the last matching key wins, and it is null";
}

TEST(Render, ConditionalsAreRequiredToo) {
  EXPECT_EQ(error_of("s", "((flag??text))"), "Missing personalisation: flag");
  EXPECT_EQ(error_of("s", "((flag??text))", values({{"flag", null_value()}})),
            "Missing personalisation: flag");
}

TEST(Render, EmptyStringIsNotMissing) {
  EXPECT_EQ(body_of("a((x))b", values({{"x", text("")}})), "ab");
}

TEST(Render, ValuesAreNotScannedForPlaceholders) {
  EXPECT_EQ(body_of("((a))", values({{"a", text("((b))")}})), "((b))");
}

TEST(Render, TextOutsidePlaceholdersIsKept) {
  EXPECT_EQ(body_of("(((a))) ((b) (c)) ((", values({{"a", text("x")}})), "(x) ((b) (c)) ((");
}

// ---------------------------------------------------------------------------------------------
// Conditionals

TEST(Render, ConditionalsShowForTruthyWordsInAnyCase) {
  for (const char* yes : {"yes", "Y", "true", "True", "T", "1", "include", "SHOW"}) {
    EXPECT_EQ(body_of("a((f??, shown)) b", values({{"f", text(yes)}})), "a, shown b") << yes;
  }
}

TEST(Render, ConditionalsHideForOtherValues) {
  for (const char* no : {"no", "0", "", "false", "False", "off", "exclude", "yes please", " yes"}) {
    EXPECT_EQ(body_of("a((f??, shown)) b", values({{"f", text(no)}})), "a b") << no;
  }
}

TEST(Render, ConditionalTextAfterTheFirstDoubleQuestionMarkIsKeptVerbatim) {
  auto personalisation = values({{"warning", text("yes")}});
  EXPECT_EQ(body_of("((warning??foo??bar))", personalisation), "foo??bar");
  EXPECT_EQ(body_of("x((warning??line\nbreak))", personalisation), "xline\nbreak");
  EXPECT_EQ(body_of("x((Warning?? spaced ))y", personalisation), "x spaced y");
}

TEST(Render, ListConditionalsUseTheListAsSubstituted) {
  // In the subject a one-item list is the item itself, so ["yes"] is truthy; in the body it
  // is a markdown bullet, which is not.
  auto personalisation = values({{"l", list({"yes"})}});
  auto rendered = render("((l??shown))|", "((l??shown))|", personalisation);
  ASSERT_TRUE(rendered);
  EXPECT_EQ(rendered->subject, "shown|");
  EXPECT_EQ(rendered->body, "|");
}

// ---------------------------------------------------------------------------------------------
// Lists

TEST(Render, ListsAreMarkdownBulletsInTheBody) {
  EXPECT_EQ(body_of("list: ((l))", values({{"l", list({"one"})}})), "list: \n\n* one");
  EXPECT_EQ(body_of("list: ((l))", values({{"l", list({"one", "two", "three"})}})),
            "list: \n\n* one\n* two\n* three");
}

TEST(Render, ListItemsAreCleanedAndEmptyOrNullItemsDropped) {
  auto personalisation =
      values({{"l", list({" one ", std::nullopt, "", "\t\n", "t\u200bwo", "\u00a0three\u180e"})}});
  EXPECT_EQ(body_of("Items:((l))", personalisation), "Items:\n\n* one\n* two\n* three");
}

TEST(Render, EmptyListsRenderAsNothingAndAreNotMissing) {
  EXPECT_EQ(body_of("x((l))y", values({{"l", list({})}})), "xy");
  EXPECT_EQ(body_of("x((l))y", values({{"l", list({std::nullopt, " ", "\u200b"})}})), "xy");
}

TEST(Render, ListsAreJoinedWithCommasAndAndInTheSubject) {
  EXPECT_EQ(subject_of("list: ((l))", values({{"l", list({"one"})}})), "list: one");
  EXPECT_EQ(subject_of("list: ((l))", values({{"l", list({"one", "two"})}})), "list: one and two");
  EXPECT_EQ(subject_of("list: ((l))", values({{"l", list({"one", std::nullopt, "two", "three"})}})),
            "list: one, two and three");
  EXPECT_EQ(subject_of("list: ((l)).", values({{"l", list({})}})), "list:.");
}

// ---------------------------------------------------------------------------------------------
// Body: raw text, line endings kept, Python strip

TEST(Render, BodyKeepsLineEndingsAndMarkdownAndIsStripped) {
  auto rendered = render("s", "  # Hello ((name))\r\n\r\n* Functional test\rDone\r\n  ",
                         values({{"name", text("Foo")}}));
  ASSERT_TRUE(rendered);
  EXPECT_EQ(rendered->body, "# Hello Foo\r\n\r\n* Functional test\rDone");
  EXPECT_EQ(rendered->text_body,
            "Hello Foo\n" + std::string(65, '=') + "\n\n\u2022 Functional test\nDone\n");
}

TEST(Render, BodyStripRemovesUnicodeWhitespaceAtTheEndsOnly) {
  EXPECT_EQ(body_of("\u3000\u00a0 Hi ((a))\u2003x\r\n \u2028\x1c", values({{"a", text("Jo")}})),
            "Hi Jo\u2003x");
}

TEST(Render, BodyHasNoTypography) {
  EXPECT_EQ(body_of("It's \"raw\" - really , ok"), "It's \"raw\" - really , ok");
}

TEST(Render, ValuesArePassedThroughUnescapedInTheBody) {
  EXPECT_EQ(body_of("Hi ((x))", values({{"x", text("<script>\"&'")}})), "Hi <script>\"&'");
}

// ---------------------------------------------------------------------------------------------
// Subject: substitution, nice typography, whitespace collapsed

TEST(RenderSubject, SmartQuotesEnDashesAndWhitespace) {
  EXPECT_EQ(subject_of("  It's \"done\" - ((x))\n  now  ", values({{"x", text("ok")}})),
            "It\u2019s \u201Cdone\u201D \u2013 ok now");
  EXPECT_EQ(subject_of("And I said, \"what about breakfast at Tiffany's\"?"),
            "And I said, \u201Cwhat about breakfast at Tiffany\u2019s\u201D?");
  EXPECT_EQ(subject_of("He said, \"'Quoted' words in a larger quote.\""),
            "He said, \u201C\u2018Quoted\u2019 words in a larger quote.\u201D");
  EXPECT_EQ(subject_of("'Hello'"), "\u2018Hello\u2019");
  EXPECT_EQ(subject_of("the '80s and rock 'n' roll"), "the \u201880s and rock \u2018n\u2019 roll");
}

TEST(RenderSubject, HyphensSurroundedBySpacesBecomeEnDashes) {
  EXPECT_EQ(subject_of("double -- dash, triple --- dash, quadruple ---- dash, em \u2014 dash, "
                       "2004-2008"),
            "double \u2013 dash, triple \u2013 dash, quadruple ---- dash, em \u2013 dash, "
            "2004-2008");
  EXPECT_EQ(subject_of("already \u2013 correct"), "already \u2013 correct");
}

TEST(RenderSubject, WhitespaceBeforeCommasAndFullStopsIsRemoved) {
  EXPECT_EQ(subject_of("Hello Jo , see you ."), "Hello Jo, see you.");
  EXPECT_EQ(subject_of("Hello ((name)) , hi", values({{"name", text("Jo")}})), "Hello Jo, hi");
}

TEST(RenderSubject, ApostrophesInEmailAddressesStayStraight) {
  EXPECT_EQ(subject_of("Email first.o'last@example.com about Jo's form"),
            "Email first.o'last@example.com about Jo\u2019s form");
  EXPECT_EQ(subject_of("Email ((address)) now", values({{"address", text("o'neil@x.com")}})),
            "Email o'neil@x.com now");
}

TEST(RenderSubject, HtmlTagsAreLeftAloneAndCodeLikeTagsSkipped) {
  EXPECT_EQ(subject_of("<pre>'x'</pre> 'y' <a href='u'>'z'</a> <abbr>'w'</abbr>"),
            "<pre>'x'</pre> \u2018y\u2019 <a href='u'>'z'</a> <abbr>'w'</abbr>");
  EXPECT_EQ(subject_of("<b>'</b>"), "<b>\u2018</b>");
  EXPECT_EQ(subject_of("x<b>'</b>"), "x<b>\u2019</b>");
}

TEST(RenderSubject, BackslashEscapesAndEntitiesAsSmartypantsDoesThem) {
  EXPECT_EQ(subject_of("\\\"dumb\\\" and \\'dumb\\' and \\\\ back"),
            "&#34;dumb&#34; and &#39;dumb&#39; and &#92; back");
  EXPECT_EQ(subject_of("&#8220;literal&#8221; &#8211; &#8230;"),
            "\u201Cliteral\u201D \u2013 \u2026");
}

TEST(RenderSubject, WhitespaceIsNormalised) {
  EXPECT_EQ(subject_of("a\u00a0b\u202fc\u200bd\u2028e\tf\ng"), "a b cde f g");
  EXPECT_EQ(subject_of(" \t\r\n "), "");
}

TEST(RenderSubject, IsNotHtmlEscaped) {
  EXPECT_EQ(subject_of("<b>((x))</b> & co", values({{"x", text("<i>")}})), "<b><i></b> & co");
}

// ---------------------------------------------------------------------------------------------
// HTML part

TEST(RenderHtml, EscapesValuesAndTemplateText) {
  auto rendered =
      render("<b>((x))</b>", "Hi ((x))\n\nline & more <br>", values({{"x", text("<script>\"&'")}}));
  ASSERT_TRUE(rendered);
  const std::string& html = rendered->html_body;
  EXPECT_TRUE(contains(html, "Hi &lt;script&gt;&quot;&amp;&#39;")) << html;
  EXPECT_TRUE(contains(html, "line &amp; more &lt;br&gt;")) << html;
  EXPECT_FALSE(contains(html, "<script>")) << html;
  EXPECT_TRUE(contains(html, "<title>&lt;b&gt;&lt;script&gt;&quot;&amp;&#39;&lt;/b&gt;</title>"))
      << html;
}

TEST(RenderHtml, ParagraphsOnBlankLinesAndBreaksOnSingleNewlines) {
  auto rendered = render("s", "one\r\ntwo\r\n\r\n \r\n\r\nthree\n\n\nfour");
  ASSERT_TRUE(rendered);
  const std::string& html = rendered->html_body;
  EXPECT_TRUE(contains(html, ">one<br>\ntwo</p>\n<p")) << html;
  EXPECT_TRUE(contains(html,
                       ">three</p>\n<p style=\"Margin: 0 0 20px 0; font-size: 19px; line-height: "
                       "25px; color: #0B0C0C;\">four</p>\n"))
      << html;
  EXPECT_FALSE(contains(html, "\r")) << html;
}

TEST(RenderHtml, IsACompleteDocument) {
  auto rendered = render("Subject", "Body");
  ASSERT_TRUE(rendered);
  const std::string& html = rendered->html_body;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u) << html;
  EXPECT_TRUE(contains(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(contains(html, "<title>Subject</title>"));
  EXPECT_TRUE(contains(html, ">Body</p>"));
  EXPECT_TRUE(contains(html, "</body>\n</html>\n"));
}

TEST(RenderHtml, ListsBecomeABulletList) {
  auto rendered = render("s", "Items:((l))", values({{"l", list({"<a>", "b"})}}));
  ASSERT_TRUE(rendered);
  EXPECT_TRUE(contains(rendered->html_body, ">Items:</p>\n<table role=\"presentation\""))
      << rendered->html_body;
  EXPECT_TRUE(contains(rendered->html_body, "list-style-type: disc;\">\n<li style="))
      << rendered->html_body;
  EXPECT_TRUE(contains(rendered->html_body, "color: #0B0C0C;\">&lt;a&gt;</li>\n<li style="))
      << rendered->html_body;
  EXPECT_TRUE(contains(rendered->html_body, "color: #0B0C0C;\">b</li>\n</ul>"))
      << rendered->html_body;
}

// ---------------------------------------------------------------------------------------------
// Empty messages (§7.5)

TEST(Render, EmptyMessageWhenAPlaceholderOnlyBodyRendersToNothing) {
  EXPECT_EQ(error_of("s", "((a))", values({{"a", text("")}})), "Your message is empty.");
  EXPECT_EQ(error_of("s", "((a)) \n ((b))", values({{"a", text(" ")}, {"b", text("\t")}})),
            "Your message is empty.");
  EXPECT_EQ(error_of("s", "((a??text))", values({{"a", text("no")}})), "Your message is empty.");
  EXPECT_EQ(error_of("s", "((l))", values({{"l", list({})}})), "Your message is empty.");
}

TEST(Render, EmptyTemplateBodyIsAnEmptyMessage) {
  EXPECT_EQ(error_of("subject", ""), "Your message is empty.");
}

TEST(Render, BodiesNotBothStartingAndEndingWithAPlaceholderAreNeverEmpty) {
  auto rendered = render("s", " ((a))", values({{"a", text("")}}));
  ASSERT_TRUE(rendered);
  EXPECT_EQ(rendered->body, "");
  EXPECT_TRUE(render("s", "((a)) ", values({{"a", text("")}})));
  EXPECT_TRUE(render("s", "x((a))", values({{"a", text("")}})));
}

TEST(Render, MissingPersonalisationIsReportedBeforeAnEmptyMessage) {
  EXPECT_EQ(error_of("((s))", "((a))", values({{"a", text("")}})), "Missing personalisation: s");
}

// ---------------------------------------------------------------------------------------------
// Untrusted input stays linear

TEST(Render, PathologicalTemplatesFinish) {
  std::string parens;
  std::string comments;
  std::string quotes;
  for (int i = 0; i < 20'000; ++i) {
    parens += "((a";
    comments += "<!-- >";
    quotes += "'\"";
  }
  std::string spaces = "a" + std::string(300'000, ' ') + "a";
  for (const std::string* text : {&parens, &comments, &quotes, &spaces}) {
    EXPECT_TRUE(render(*text, *text)) << text->substr(0, 10);
  }
}

TEST(Render, ManyDistinctPlaceholdersFinish) {
  std::string body;
  for (int i = 0; i < 20'000; ++i) body += "((p" + std::to_string(i) + "))";
  const std::string message = error_of("s", body);
  EXPECT_EQ(message.rfind("Missing personalisation: p0, p1, p2, ", 0), 0u);
  EXPECT_EQ(placeholder_names(body).size(), 20'000u);
}

}  // namespace
}  // namespace herald::domain
