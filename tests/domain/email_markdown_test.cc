#include "domain/rendering/email_markdown.h"

#include <gtest/gtest.h>

#include "domain/rendering/template_render.h"
#include "tests/fakes/personalisation_values.h"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace herald::domain {
namespace {

// Expected layouts follow Notify's email and plain-text renderers (notifications-utils
// markdown.py and tests/test_markdown.py); the HTML adds a newline after each block.

std::string element(std::string_view tag, std::string_view style, std::string_view inner) {
  return "<" + std::string(tag) + " style=\"" + std::string(style) + "\">" + std::string(inner) +
         "</" + std::string(tag) + ">\n";
}

std::string p(std::string_view inner) {
  return element("p", "Margin: 0 0 20px 0; font-size: 19px; line-height: 25px; color: #0B0C0C;",
                 inner);
}

std::string h2(std::string_view inner) {
  return element("h2",
                 "Margin: 0 0 15px 0; padding: 10px 0 0 0; font-size: 27px; line-height: 35px; "
                 "font-weight: bold; color: #0B0C0C;",
                 inner);
}

std::string h3(std::string_view inner) {
  return element("h3",
                 "Margin: 0 0 15px 0; padding: 10px 0 0 0; font-size: 19px; line-height: 25px; "
                 "font-weight: bold; color: #0B0C0C;",
                 inner);
}

const std::string kHr =
    "<hr style=\"border: 0; height: 1px; background: #B1B4B6; Margin: 30px 0 30px 0;\">\n";

std::string list(std::string_view tag, std::string_view type,
                 std::initializer_list<std::string_view> items) {
  std::string out =
      "<table role=\"presentation\" style=\"padding: 0 0 20px 0;\"><tr><td style=\"font-family: "
      "Helvetica, Arial, sans-serif;\">\n<" +
      std::string(tag) + " style=\"Margin: 0 0 0 20px; padding: 0; list-style-type: " +
      std::string(type) + ";\">\n";
  for (const std::string_view item : items) {
    out += element("li",
                   "Margin: 5px 0 5px; padding: 0 0 0 5px; font-size: 19px; line-height: 25px; "
                   "color: #0B0C0C;",
                   item);
  }
  return out + "</" + std::string(tag) + ">\n</td></tr></table>\n";
}

std::string ul(std::initializer_list<std::string_view> items) { return list("ul", "disc", items); }
std::string ol(std::initializer_list<std::string_view> items) {
  return list("ol", "decimal", items);
}

std::string inset(std::string_view inner) {
  return "<div style=\"Margin: 0 0 20px 0;\"><blockquote style=\"Margin: 0; border-left: 10px "
         "solid #B1B4B6; padding: 15px 0 0.1px 15px; font-size: 19px; line-height: 25px;\">\n" +
         std::string(inner) + "</blockquote></div>\n";
}

std::string a(std::string_view href, std::string_view text, std::string_view title = "") {
  std::string out = "<a style=\"word-wrap: break-word; color: #1D70B8;\" href=\"" +
                    std::string(href) + "\"";
  if (!title.empty()) out += " title=\"" + std::string(title) + "\"";
  return out + ">" + std::string(text) + "</a>";
}

const std::string kUnderline1(65, '=');
const std::string kUnderline2(65, '-');
const std::string kPlainRule = "=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=";

struct Case {
  const char* name;
  std::string markdown;
  std::string html;
  std::string plain;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class EmailMarkdownConstructs : public testing::TestWithParam<Case> {};

TEST_P(EmailMarkdownConstructs, RendersHtml) {
  EXPECT_EQ(email_markdown_to_html(GetParam().markdown), GetParam().html);
}

TEST_P(EmailMarkdownConstructs, RendersPlainText) {
  EXPECT_EQ(email_markdown_to_plain_text(GetParam().markdown), GetParam().plain);
}

// clang-format off
const Case kConstructs[] = {
    // Paragraphs and line breaks.
    {"Paragraphs", "line one\nline two\n\nnew paragraph",
     p("line one<br>\nline two") + p("new paragraph"), "line one\nline two\n\nnew paragraph\n"},
    {"ManyBlankLines", "before\n\n\n\n\n\nafter", p("before") + p("after"), "before\n\nafter\n"},
    {"CrLfAndCr", "one\r\ntwo\r\n\r\nthree\rfour", p("one<br>\ntwo") + p("three<br>\nfour"),
     "one\ntwo\n\nthree\nfour\n"},
    {"WhitespaceOnlyLinesSeparate", "a\n \t \nb", p("a") + p("b"), "a\n\nb\n"},
    {"Empty", "", "", "\n"},
    {"UnsupportedSeparatorsRemoved", "a\u2028b\u3164c", p("abc"), "abc\n"},
    // Headings.
    {"Heading1", "# heading", h2("heading"), "heading\n" + kUnderline1 + "\n"},
    {"Heading1WithoutSpace", "#heading", h2("heading"), "heading\n" + kUnderline1 + "\n"},
    {"Heading2", "## heading", h3("heading"), "heading\n" + kUnderline2 + "\n"},
    {"Heading3IsAParagraph", "### inset text", p("inset text"), "inset text\n"},
    {"ClosingHashesDropped", "# Title ##", h2("Title"), "Title\n" + kUnderline1 + "\n"},
    {"HashInWordKept", "# C#", h2("C#"), "C#\n" + kUnderline1 + "\n"},
    {"LoneHashIsText", "#", p("#"), "#\n"},
    {"SetextHeadings", "Title\n===\nSub\n---", h2("Title") + h3("Sub"),
     "Title\n" + kUnderline1 + "\n\n\nSub\n" + kUnderline2 + "\n"},
    {"HeadingInterruptsParagraph", "text\n# Head\nmore", p("text") + h2("Head") + p("more"),
     "text\n\n\nHead\n" + kUnderline1 + "\n\nmore\n"},
    {"HeadingAfterParagraph", "Intro\n\n# Head\n\nBody",
     p("Intro") + h2("Head") + p("Body"), "Intro\n\n\nHead\n" + kUnderline1 + "\n\nBody\n"},
    // Rules.
    {"RuleDashes", "a\n\n---\n\nb", p("a") + kHr + p("b"), "a\n\n" + kPlainRule + "\n\nb\n"},
    {"RuleStars", "a\n\n***\n\nb", p("a") + kHr + p("b"), "a\n\n" + kPlainRule + "\n\nb\n"},
    {"RuleSpacedAndUnderscores", "- - -\n\n___", kHr + kHr,
     kPlainRule + "\n\n" + kPlainRule + "\n"},
    {"RuleEndsList", "* one\n\n---", ul({"one"}) + kHr, "• one\n\n" + kPlainRule + "\n"},
    {"SetextBeatsList", "* one\n---", h3("* one"), "* one\n" + kUnderline2 + "\n"},
    // Bullet lists.
    {"BulletStar", "* one\n* two\n* three\n", ul({"one", "two", "three"}),
     "• one\n• two\n• three\n"},
    {"BulletNoSpace", "*one\n*two", ul({"one", "two"}), "• one\n• two\n"},
    {"BulletDash", "- one\n- two", ul({"one", "two"}), "• one\n• two\n"},
    {"BulletDot", "\u2022 one\n\u2022 two", ul({"one", "two"}), "• one\n• two\n"},
    {"BulletTwoSpaces", "*  one\n*\ttwo", ul({"one", "two"}), "• one\n• two\n"},
    {"PlusIsNotABullet", "+ one\n+ two", p("+ one<br>\n+ two"), "+ one\n+ two\n"},
    {"ListAfterParagraph", "Items:\n\n* a\n* b", p("Items:") + ul({"a", "b"}),
     "Items:\n\n• a\n• b\n"},
    {"ListInterruptsParagraph", "Items:\n* a\n- b", p("Items:") + ul({"a", "b"}),
     "Items:\n\n• a\n• b\n"},
    {"StarWithoutSpaceDoesNotInterrupt", "Price\n*10", p("Price<br>\n*10"), "Price\n*10\n"},
    {"ContinuationLine", "* one\ncontinued\n* two", ul({"one<br>\ncontinued", "two"}),
     "• one\ncontinued\n• two\n"},
    {"BlankLinesBetweenItems", "* one\n\n* two\n\n\n* three", ul({"one", "two", "three"}),
     "• one\n• two\n• three\n"},
    {"IndentedLineAfterBlankContinues", "* one\n\n  more\n\nafter",
     ul({"one<br>\nmore"}) + p("after"),
     "• one\nmore\n\nafter\n"},
    {"ListEndsAtUnindentedText", "* one\n\ntext", ul({"one"}) + p("text"), "• one\n\ntext\n"},
    {"IndentedItemsAreFlat", "* one\n  * sub", ul({"one", "sub"}), "• one\n• sub\n"},
    {"EmptyBulletIsText", "*\n\n-", p("*") + p("-"), "*\n\n-\n"},
    {"ListValueFromPersonalisation", "Items:\n\n* <a>\n* b&c",
     p("Items:") + ul({"&lt;a&gt;", "b&amp;c"}), "Items:\n\n• <a>\n• b&c\n"},
    // Numbered lists.
    {"Numbered", "1. one\n2. two\n3. three\n", ol({"one", "two", "three"}),
     "1. one\n2. two\n3. three\n"},
    {"NumberedNoSpace", "1.one\n2.two", ol({"one", "two"}), "1. one\n2. two\n"},
    {"NumberedRenumbers", "7. one\n7. two", ol({"one", "two"}), "1. one\n2. two\n"},
    {"ParenthesisIsNotNumbered", "1) one\n2) two", p("1) one<br>\n2) two"), "1) one\n2) two\n"},
    {"MixedMarkersFollowTheFirst", "1. one\n* two", ol({"one", "two"}), "1. one\n2. two\n"},
    {"EscapedDotIsText", "1\\. not a list", p("1. not a list"), "1. not a list\n"},
    // Inset text.
    {"Inset", "^ inset text", inset(p("inset text")), "inset text\n"},
    {"InsetNoSpace", "^inset", inset(p("inset")), "inset\n"},
    {"InsetLazyContinuation", "^ one\ntwo\n\nafter", inset(p("one<br>\ntwo")) + p("after"),
     "one\ntwo\n\nafter\n"},
    {"InsetParagraphs", "^ one\n\n^ two", inset(p("one") + p("two")), "one\n\ntwo\n"},
    {"InsetHoldsBlocks", "^ # Head\n^ * item", inset(h2("Head") + ul({"item"})),
     "Head\n" + kUnderline1 + "\n\n• item\n"},
    {"InsetDoesNotNest", "^ ^ deeper", inset(p("^ deeper")), "^ deeper\n"},
    {"InsetInterruptsParagraph", "text\n^ inset", p("text") + inset(p("inset")), "text\n\ninset\n"},
    {"CaretAloneIsText", "^", p("^"), "^\n"},
    // Links.
    {"Link", "[Example](http://example.com)", p(a("http://example.com", "Example")),
     "Example: http://example.com\n"},
    {"LinkWithTitle", "[Example](http://example.com \"An example URL\")",
     p(a("http://example.com", "Example", "An example URL")),
     "Example (An example URL): http://example.com\n"},
    {"LinkWithSingleQuotedTitle", "Visit our [website](https://www.example.com/xyz 'Link Title').",
     p("Visit our " + a("https://www.example.com/xyz", "website", "Link Title") + "."),
     "Visit our website (Link Title): https://www.example.com/xyz.\n"},
    {"LinkWithoutScheme", "Visit our [website](www.example.com/xyz).",
     p("Visit our " + a("http://www.example.com/xyz", "website") + "."),
     "Visit our website: www.example.com/xyz.\n"},
    {"MailtoLink", "[Email us](mailto:help@example.com)",
     p(a("mailto:help@example.com", "Email us")), "Email us: mailto:help@example.com\n"},
    {"UpperCaseScheme", "[x](HTTPS://EXAMPLE.COM)", p(a("HTTPS://EXAMPLE.COM", "x")),
     "x: HTTPS://EXAMPLE.COM\n"},
    {"EmptyLinkTextShowsUrl", "[](https://example.com)",
     p(a("https://example.com", "https://example.com")),
     "https://example.com: https://example.com\n"},
    {"HrefIsPercentEncoded", "[x](https://example.com/a\"b'c(d<e>f?q=1&r=%2F)",
     p(a("https://example.com/a%22b%27c%28d%3Ce%3Ef?q=1&amp;r=%2F", "x")),
     "x: https://example.com/a\"b'c(d<e>f?q=1&r=%2F\n"},
    {"HrefEncodesQuotesAndNonAscii", "[x](https://example.com/\u00e9'\")",
     p(a("https://example.com/%C3%A9%27%22", "x")), "x: https://example.com/\u00e9'\"\n"},
    {"LinkTextIsEscapedNotParsed", "[<b> http://a.com](https://b.com)",
     p(a("https://b.com", "&lt;b&gt; http://a.com")), "<b> http://a.com: https://b.com\n"},
    {"UnclosedLinkIsText", "[a](http://x.com", p("[a](" + a("http://x.com", "http://x.com")),
     "[a](http://x.com\n"},
    {"EmptyUrlIsText", "[click here]()", p("[click here]()"), "[click here]()\n"},
    {"SanitisedValueIsLiteral", "User, \\[click here\\]\\(\\)", p("User, [click here]()"),
     "User, [click here]()\n"},
    {"LinkInHeadingAndItem", "# [a](https://a.com)\n\n* [b](https://b.com)",
     h2(a("https://a.com", "a")) + ul({a("https://b.com", "b")}),
     "a: https://a.com\n" + kUnderline1 + "\n\n• b: https://b.com\n"},
    // Bare URLs.
    {"BareUrl", "http://example.com", p(a("http://example.com", "http://example.com")),
     "http://example.com\n"},
    {"BareUrlInContext", "see http://example.com/x?a=1&b=2 now",
     p("see " + a("http://example.com/x?a=1&amp;b=2", "http://example.com/x?a=1&amp;b=2") + " now"),
     "see http://example.com/x?a=1&b=2 now\n"},
    {"BareUrlTrailingPunctuation", "(https://example.com/a).",
     p("(" + a("https://example.com/a", "https://example.com/a") + ")."),
     "(https://example.com/a).\n"},
    {"BareUrlQuoteBreakout", "https://example.com\"onclick=\"alert('hi')",
     p(a("https://example.com%22onclick=%22alert%28%27hi",
         "https://example.com&quot;onclick=&quot;alert(&#39;hi") + "&#39;)"),
     "https://example.com\"onclick=\"alert('hi')\n"},
    {"BareUrlStopsAtAngleBracket", "https://example.com<b>",
     p(a("https://example.com", "https://example.com") + "&lt;b&gt;"), "https://example.com<b>\n"},
    {"NotUrls", "example.com www.example.com ftp://example.com test@example.com",
     p("example.com www.example.com ftp://example.com test@example.com"),
     "example.com www.example.com ftp://example.com test@example.com\n"},
    {"BareUrlThenParagraph", "https://example.com\n\nNext paragraph",
     p(a("https://example.com", "https://example.com")) + p("Next paragraph"),
     "https://example.com\n\nNext paragraph\n"},
    // Deliberately unsupported: stays literal.
    {"NoEmphasis", "something **important** and *this* and _that_ ~~Strike~~",
     p("something **important** and *this* and _that_ ~~Strike~~"),
     "something **important** and *this* and _that_ ~~Strike~~\n"},
    {"NoCode", "variable called `thing`\n\n```\nprint(1)\n```",
     p("variable called `thing`") + p("```<br>\nprint(1)<br>\n```"),
     "variable called `thing`\n\n```\nprint(1)\n```\n"},
    {"NoTables", "col | col\n----|----", p("col | col<br>\n----|----"), "col | col\n----|----\n"},
    {"ImagesDropped", "before ![alt text](http://example.com/image.png) after",
     p("before  after"), "before  after\n"},
    {"ImageOnlyParagraphDropped", "![alt](http://x.com/i.png)\n\ntext", p("text"), "text\n"},
    {"BackslashEscapes", "\\# not heading\n\n\\* not list\n\n\\\\ and \\q",
     p("# not heading") + p("* not list") + p("\\ and \\q"),
     "# not heading\n\n* not list\n\n\\ and \\q\n"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Table, EmailMarkdownConstructs, testing::ValuesIn(kConstructs),
                         [](const testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Security: hostile text never reaches the HTML as markup.

struct Hostile {
  const char* name;
  std::string markdown;
};

class EmailMarkdownHostile : public testing::TestWithParam<Hostile> {};

TEST_P(EmailMarkdownHostile, StaysEscapedText) {
  const std::string html = email_markdown_to_html(GetParam().markdown);
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  EXPECT_EQ(html.find("href=\"javascript"), std::string::npos) << html;
  EXPECT_EQ(html.find("href=\"data"), std::string::npos) << html;
  EXPECT_EQ(html.find("href=\"vbscript"), std::string::npos) << html;
  // Every '<' in the output opens one of the elements the renderer makes itself.
  for (std::size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    const std::string_view tag = std::string_view(html).substr(at + 1, 11);
    bool known = false;
    for (const std::string_view allowed :
         {"p ", "/p>", "a ", "/a>", "br>", "h2 ", "/h2>", "h3 ", "/h3>", "hr ", "ul ", "/ul>",
          "ol ", "/ol>", "li ", "/li>", "table role", "/table>", "tr>", "/tr>", "td ", "/td>",
          "div ", "/div>", "blockquote ", "/blockquote"}) {
      known = known || tag.starts_with(allowed);
    }
    EXPECT_TRUE(known) << "unexpected markup at " << at << ": " << html;
  }
}

const Hostile kHostile[] = {
    {"JavascriptLink", "[click](javascript:alert(1))"},
    {"JavascriptLinkUpperCase", "[click](JavaScript:alert(document.cookie))"},
    {"JavascriptWithLeadingControl", "[click](\x01javascript:alert(1))"},
    {"JavascriptEntity", "[click](javascript&#58;alert(1))"},
    {"DataLink", "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"},
    {"VbscriptLink", "[click](vbscript:msgbox)"},
    {"ScriptTag", "Hello <script>alert(1)</script>"},
    {"ScriptInEveryBlock",
     "# <script>1</script>\n\n* <script>2</script>\n\n^ <script>3</script>\n\n"
     "[<script>4</script>](https://x.com \"<script>5</script>\")"},
    {"ImageTag", "<img src=x onerror=alert(1)>"},
    {"AttributeBreakoutInLink", "[x](https://a.com/\"><script>alert(1)</script>)"},
    {"AttributeBreakoutInTitle", "[x](https://a.com \"t\\\"><script>\")"},
    {"AttributeBreakoutInBareUrl", "https://a.com/\"onmouseover='alert(1)'x"},
};

INSTANTIATE_TEST_SUITE_P(Table, EmailMarkdownHostile, testing::ValuesIn(kHostile),
                         [](const testing::TestParamInfo<Hostile>& param) {
                           return std::string(param.param.name);
                         });

TEST(EmailMarkdown, JavascriptLinkStaysVisibleText) {
  EXPECT_EQ(email_markdown_to_html("[click](javascript:alert(1))"),
            p("[click](javascript:alert(1))"));
  EXPECT_EQ(email_markdown_to_plain_text("[click](javascript:alert(1))"),
            "[click](javascript:alert(1))\n");
}

TEST(EmailMarkdown, ScriptValueIsEscaped) {
  EXPECT_EQ(email_markdown_to_html("Hi <script>\"&'</script>"),
            p("Hi &lt;script&gt;&quot;&amp;&#39;&lt;/script&gt;"));
}

// ---------------------------------------------------------------------------------------------
// Untrusted input: linear time on pathological shapes.

// Renders `unit` repeated to `size` bytes both ways; fails when that takes longer than `limit`.
void expect_fast(const std::string& unit, std::size_t size, std::chrono::seconds limit) {
  std::string input;
  input.reserve(size + unit.size());
  while (input.size() < size) input += unit;
  const auto start = std::chrono::steady_clock::now();
  const std::string html = email_markdown_to_html(input);
  const std::string plain = email_markdown_to_plain_text(input);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, limit) << "unit: " << unit;
  EXPECT_FALSE(plain.empty());
}

// A quadratic scan over 1 MB would take hours; the linear one takes about two seconds per shape
// in a Debug build (more under sanitizers), so the limit is generous rather than tight.
TEST(EmailMarkdown, PathologicalMegabyteInputsFinishFast) {
  for (const std::string unit : {"[", "* a\n\n^ a\n", "[a](http://x \"t[", "h"}) {
    expect_fast(unit, 1 << 20, std::chrono::seconds(60));
  }
}

// The renderers' scan steps (email_markdown_steps_for_test) for `unit` repeated to `size`
// bytes, rendered both ways.
std::uint64_t steps_to_render(const std::string& unit, std::size_t size) {
  std::string input;
  input.reserve(size + unit.size());
  while (input.size() < size) input += unit;
  const std::uint64_t before = email_markdown_steps_for_test();
  const std::string html = email_markdown_to_html(input);
  const std::string plain = email_markdown_to_plain_text(input);
  EXPECT_FALSE(plain.empty()) << "unit: " << unit;
  return email_markdown_steps_for_test() - before;
}

// More shapes, each rendered at 16 KB and at 64 KB. The work is counted, not timed: linear
// scans take about 4 times the steps for 4 times the input, a quadratic one about 16 times.
TEST(EmailMarkdown, PathologicalShapesFinishFast) {
  constexpr std::size_t kSmall = 1 << 14;
  constexpr std::size_t kLarge = 4 * kSmall;
  for (const std::string unit :
       {"[a](", "[a](b \"", "![", "http://", "https://.", "\\", "#", "* ", "^\n\n", "-", "a\n",
        "1.", "a\n===\n", "`*_~|", "\n", " \n", "<&>\"'", "[a]", "](", "^ ", "* a\n  b\n\n",
        "[", "* a\n\n^ a\n", "[a](http://x \"t[", "h"}) {
    const std::uint64_t small = steps_to_render(unit, kSmall);
    const std::uint64_t large = steps_to_render(unit, kLarge);
    ASSERT_GT(small, 0u) << "the counting seam counts nothing";
    EXPECT_LE(large, 5 * small) << "unit: " << unit << ": 4x the input took " << large << " / "
                                << small << " = " << static_cast<double>(large) / static_cast<double>(small)
                                << "x the steps (linear: ~4x, quadratic: ~16x)";
    EXPECT_LE(large, 64 * kLarge) << "unit: " << unit << ": more than 64 steps a byte";
  }
}

TEST(EmailMarkdown, NestingIsBounded) {
  std::string input(100000, '^');
  input += " deep";
  const std::string html = email_markdown_to_html(input);
  EXPECT_EQ(html, inset(p(input.substr(1))));
}

// ---------------------------------------------------------------------------------------------
// Document and unsubscribe footer.

TEST(EmailMarkdown, DocumentWrapsFragmentAndEscapesSubject) {
  const std::string document = email_html_document("<b>Hi & bye</b>", p("Body"));
  EXPECT_EQ(document.rfind("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n", 0), 0u) << document;
  EXPECT_NE(document.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(document.find("<title>&lt;b&gt;Hi &amp; bye&lt;/b&gt;</title>"), std::string::npos);
  EXPECT_NE(document.find("max-width: 560px;\">\n" + p("Body") + "</td>"), std::string::npos)
      << document;
  EXPECT_TRUE(document.ends_with("</table>\n</body>\n</html>\n")) << document;
}

TEST(EmailMarkdown, UnsubscribeFooterIsARuleAndALink) {
  const std::string body = with_unsubscribe_footer("Hello", "https://example.com/unsub?a=1&b=2");
  EXPECT_EQ(body,
            "Hello\n\n---\n\n[Unsubscribe from these emails](https://example.com/unsub?a=1&b=2)");
  EXPECT_EQ(email_markdown_to_html(body),
            p("Hello") + kHr +
                p(a("https://example.com/unsub?a=1&amp;b=2", "Unsubscribe from these emails")));
  EXPECT_EQ(email_markdown_to_plain_text(body),
            "Hello\n\n" + kPlainRule +
                "\n\nUnsubscribe from these emails: https://example.com/unsub?a=1&b=2\n");
  EXPECT_EQ(with_unsubscribe_footer("Hello", ""), "Hello");
}

TEST(EmailMarkdown, UnsubscribeUrlStaysOneLink) {
  const std::string body = with_unsubscribe_footer("Hi", "https://example.com/a b(c)[d]");
  EXPECT_EQ(body, "Hi\n\n---\n\n[Unsubscribe from these emails]"
                  "(https://example.com/a%20b%28c%29%5Bd%5D)");
  EXPECT_EQ(email_markdown_to_html(body),
            p("Hi") + kHr +
                p(a("https://example.com/a%20b%28c%29%5Bd%5D", "Unsubscribe from these emails")));
}

TEST(EmailMarkdown, UnsubscribeFooterWithHostileUrlIsNotALink) {
  const std::string html =
      email_markdown_to_html(with_unsubscribe_footer("Hello", "javascript:alert(1)"));
  EXPECT_EQ(html.find("<a "), std::string::npos) << html;
}

// ---------------------------------------------------------------------------------------------
// render_email uses this module for both MIME parts.

TEST(EmailMarkdownInRenderEmail, ValuesAreEscapedAndTheirMarkdownRendered) {
  const Personalisation personalisation{
      {{"name", fakes::text("<script>alert(1)</script>")},
       {"link", fakes::text("[click](javascript:alert(1))")},
       {"more", fakes::text("[ok](https://example.com)")}}};
  auto rendered = render_email({"Hi", "# Hello ((name))\n\n((link)) ((more))"}, personalisation);
  ASSERT_TRUE(rendered) << rendered.error().message;
  const std::string& html = rendered->html_body;
  EXPECT_NE(html.find(h2("Hello &lt;script&gt;alert(1)&lt;/script&gt;") +
                      p("[click](javascript:alert(1)) " + a("https://example.com", "ok"))),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("href=\"javascript"), std::string::npos) << html;
  EXPECT_EQ(rendered->text_body, "Hello <script>alert(1)</script>\n" + kUnderline1 +
                                     "\n\n[click](javascript:alert(1)) ok: https://example.com\n");
  EXPECT_EQ(rendered->body, "# Hello <script>alert(1)</script>\n\n[click](javascript:alert(1)) "
                            "[ok](https://example.com)");
}

TEST(EmailMarkdownInRenderEmail, ListValuesBecomeLists) {
  const Personalisation personalisation{{{"items", fakes::list({"one", "two"})}}};
  auto rendered = render_email({"s", "You need:((items))"}, personalisation);
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_NE(rendered->html_body.find(p("You need:") + ul({"one", "two"})), std::string::npos)
      << rendered->html_body;
  EXPECT_EQ(rendered->text_body, "You need:\n\n\u2022 one\n\u2022 two\n");
}

TEST(EmailMarkdownInRenderEmail, UnsubscribeFooterInMimePartsOnly) {
  auto rendered = render_email({"s", "Hello"}, Personalisation{}, RenderParts::kContentAndMime,
                               "https://example.com/unsubscribe");
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_EQ(rendered->body, "Hello");
  EXPECT_NE(rendered->html_body.find(p("Hello") + kHr +
                                     p(a("https://example.com/unsubscribe",
                                         "Unsubscribe from these emails"))),
            std::string::npos)
      << rendered->html_body;
  EXPECT_EQ(rendered->text_body, "Hello\n\n" + kPlainRule +
                                     "\n\nUnsubscribe from these emails: "
                                     "https://example.com/unsubscribe\n");
  auto without = render_email({"s", "Hello"}, Personalisation{});
  ASSERT_TRUE(without);
  EXPECT_EQ(without->html_body.find("Unsubscribe"), std::string::npos);
}

}  // namespace
}  // namespace herald::domain
