#include "domain/rendering/sms_text.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/personalisation_values.h"

namespace herald::domain {
namespace {

using fakes::list;
using fakes::null_value;
using fakes::text;

// Expected values were checked against notifications-utils (sanitise_text.py SanitiseSMS and
// template.py SMSMessageTemplate, Python 3.13, Unicode 15.1) running the same input; several
// come from its own tests (tests/test_sanitise_text.py, tests/test_template_types.py).

Personalisation values(std::vector<std::pair<std::string, PersonalisationValue>> entries = {}) {
  return Personalisation{std::move(entries)};
}

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

RenderedSms render_ok(std::string_view body, const Personalisation& personalisation = {},
                      std::string_view prefix = {}) {
  auto rendered = render_sms(body, personalisation, prefix);
  EXPECT_TRUE(rendered) << rendered.error().message;
  return rendered ? *std::move(rendered) : RenderedSms{};
}

std::string error_of(std::string_view body, const Personalisation& personalisation = {},
                     std::string_view prefix = {}) {
  auto rendered = render_sms(body, personalisation, prefix);
  EXPECT_FALSE(rendered);
  if (rendered) return "";
  EXPECT_EQ(rendered.error().code, ErrorCode::kInvalidArgument);
  return rendered.error().message;
}

// ---------------------------------------------------------------------------------------------
// downgrade_sms_characters

struct DowngradeCase {
  const char* name;
  std::string input;
  std::string expected;
};

void PrintTo(const DowngradeCase& c, std::ostream* os) { *os << c.name; }

class SmsDowngradeTest : public testing::TestWithParam<DowngradeCase> {};

TEST_P(SmsDowngradeTest, MatchesSanitiseSms) {
  EXPECT_EQ(downgrade_sms_characters(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SmsDowngradeTest,
    testing::Values(
        // GSM 03.38 extension table: kept.
        DowngradeCase{"caret", "^", "^"}, DowngradeCase{"open_brace", "{", "{"},
        DowngradeCase{"close_brace", "}", "}"}, DowngradeCase{"backslash", "\\", "\\"},
        DowngradeCase{"open_bracket", "[", "["}, DowngradeCase{"tilde", "~", "~"},
        DowngradeCase{"close_bracket", "]", "]"}, DowngradeCase{"pipe", "|", "|"},
        DowngradeCase{"euro", "€", "€"},
        // GSM 03.38 basic table beyond ASCII: kept.
        DowngradeCase{"gsm_latin", "@£$¥èéùìòÇØøÅåÆæßÉ¤¡ÄÖÑÜ§¿äöñüà",
                      "@£$¥èéùìòÇØøÅåÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"},
        DowngradeCase{"gsm_greek", "ΔΦΓΛΩΠΨΣΘΞ", "ΔΦΓΛΩΠΨΣΘΞ"},
        DowngradeCase{"newline_return_escape", "a\nb\rc\x1b", "a\nb\rc\x1b"},
        DowngradeCase{"printable_ascii", "The quick brown fox jumps over the lazy dog 0-9 !?#%&*",
                      "The quick brown fox jumps over the lazy dog 0-9 !?#%&*"},
        // Welsh letters: kept, whether GSM has them or not.
        DowngradeCase{"welsh_grave", "àèìòùẁỳÀÈÌÒÙẀỲ", "àèìòùẁỳÀÈÌÒÙẀỲ"},
        DowngradeCase{"welsh_acute", "áéíóúẃýÁÉÍÓÚẂÝ", "áéíóúẃýÁÉÍÓÚẂÝ"},
        DowngradeCase{"welsh_diaeresis", "äëïöüẅÿÄËÏÖÜẄŸ", "äëïöüẅÿÄËÏÖÜẄŸ"},
        DowngradeCase{"welsh_circumflex", "âêîôûŵŷÂÊÎÔÛŴŶ", "âêîôûŵŷÂÊÎÔÛŴŶ"},
        // Fixed replacements.
        DowngradeCase{"curly_single_quotes", "‘a’ ‚b", "'a' 'b"},
        DowngradeCase{"curly_double_quotes", "“a” „b", "\"a\" \"b"},
        DowngradeCase{"dashes", "a‑b–c—d−e", "a-b-c-d-e"},
        DowngradeCase{"ellipsis", "wait…", "wait..."},
        DowngradeCase{"zero_width", "a\u180Eb\u200Bc\u200Cd\u200De\u2060f\uFEFFg\u2028h\u2029i",
                      "abcdefghi"},
        DowngradeCase{"nbsp", "a\u00A0b", "a b"}, DowngradeCase{"narrow_nbsp", "a\u202Fb", "a b"},
        DowngradeCase{"tab", "a\tb", "a b"},
        DowngradeCase{"l_with_stroke", "Łódź", "Lódz"},
        DowngradeCase{"lodz_macron", "Łōdź", "Lodz"},
        // Canonical decompositions whose first character is kept.
        DowngradeCase{"c_cedilla", "ç", "c"}, DowngradeCase{"tildes", "ÃõĨ", "AoI"},
        DowngradeCase{"polish", "ąęśćńźż", "aescnzz"}, DowngradeCase{"czech", "čřůž", "cruz"},
        DowngradeCase{"decomposes_to_gsm_letter", "ǖ", "ü"},
        DowngradeCase{"decomposes_to_welsh_letter", "ế", "ê"},
        DowngradeCase{"ohm_sign", "\u2126", "Ω"}, DowngradeCase{"angstrom_sign", "\u212B", "Å"},
        DowngradeCase{"kelvin_sign", "\u212A", "K"}, DowngradeCase{"not_equal", "≠", "="},
        DowngradeCase{"greek_question_mark", "\u037E", ";"},
        // Everything else: '?'.
        DowngradeCase{"emoji", "😬", "?"}, DowngradeCase{"rocket", "🚀🚀", "??"},
        DowngradeCase{"zwj_sequence", "🏳️‍🌈", "???"}, DowngradeCase{"cjk", "深", "?"},
        DowngradeCase{"cjk_extension_f", "\U0002F9F4", "?"},
        // U+FA6C decomposes to U+242EE: upstream raises ValueError, Herald gives '?'.
        DowngradeCase{"decomposes_above_bmp", "\uFA6C", "?"},
        DowngradeCase{"vulgar_fraction", "↉", "?"}, DowngradeCase{"trade_mark", "It Just Works™",
                                                                 "It Just Works?"},
        DowngradeCase{"backtick", "`", "?"}, DowngradeCase{"cyrillic", "Привет", "??????"},
        DowngradeCase{"compatibility_only", "ﬁ", "?"}, DowngradeCase{"nul", std::string(1, '\0'), "?"},
        DowngradeCase{"em_quad", "\u2000", "?"},
        DowngradeCase{"malformed_utf8", "a\xFF\xC3z", "a??z"},
        DowngradeCase{"empty", "", ""}));

TEST(SmsDowngrade, IsIdempotent) {
  const std::string once = downgrade_sms_characters("Ŵ “café” – 😀 Łódź… ǖ\t\u200B");
  EXPECT_EQ(downgrade_sms_characters(once), once);
}

// ---------------------------------------------------------------------------------------------
// Whitespace pipeline and placeholders (content.body)

struct BodyCase {
  const char* name;
  std::string body;
  std::string expected;
};

void PrintTo(const BodyCase& c, std::ostream* os) { *os << c.name; }

class SmsBodyTest : public testing::TestWithParam<BodyCase> {};

TEST_P(SmsBodyTest, NormalisesAsNotifyDoes) {
  EXPECT_EQ(render_ok(GetParam().body).body, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Pipeline, SmsBodyTest,
    testing::Values(
        BodyCase{"trailing_newline", "'First line.\n", "'First line."},
        BodyCase{"inner_spaces", "  G      D       S  ", "G D S"},
        BodyCase{"many_newlines", "P1 \n\n\n\n\n\n P2", "P1\n\nP2"},
        BodyCase{"space_before_punctuation", "Hello , world .", "Hello, world."},
        BodyCase{"tab_before_punctuation", "Hello\t \t, world", "Hello, world"},
        BodyCase{"line_boundaries", "a\r\nb\rc\x0B" "d\x1C" "e\u0085f", "a\nb\nc\nd\ne\nf"},
        BodyCase{"nbsp_and_zero_width", "a\u00A0\u00A0b c\u200Bd", "a b cd"},
        BodyCase{"lines_trimmed", "Line one  \n   Line two", "Line one\nLine two"},
        BodyCase{"line_separator", "a\u2028b", "a\nb"},
        BodyCase{"tab_and_narrow_nbsp", "a\tb\u202Fc", "a b c"},
        BodyCase{"word_joiner_bom_mvs", "x\u2060y\uFEFFz\u180E", "xyz"},
        BodyCase{"blank_lines_with_spaces", "a\n  \n \t\n\nb", "a\n\nb"},
        BodyCase{"downgraded_after_normalising", "A “hi” „lo” café ça Łódź",
                 "A \"hi\" \"lo\" café ca Lódz"},
        BodyCase{"escape_and_backtick", "\x1B" "Esc `tick`", "\x1B" "Esc ?tick?"},
        // Notify removes its internal marker from rendered text, leaving the spaces around it.
        BodyCase{"magic_sequence", "x \U0001F1EC\U0001F1E7\U0001F426\u2709\uFE0F y", "x  y"}));

TEST(SmsRender, ListsAreInlineAsNotifyRendersThemInTexts) {
  EXPECT_EQ(render_ok("Hi ((x))", values({{"x", list({"a", "b", "c"})}})).body, "Hi a, b and c");
  EXPECT_EQ(render_ok("Hi ((x))", values({{"x", list({"a", std::nullopt, " ", "\u200Bb"})}})).body,
            "Hi a and b");
  EXPECT_EQ(render_ok("Hi ((x))", values({{"x", list({})}})).body, "Hi");
}

TEST(SmsRender, Conditionals) {
  EXPECT_EQ(render_ok("((show??Yes text)) end", values({{"show", text("yes")}})).body,
            "Yes text end");
  EXPECT_EQ(render_ok("((show??Yes text)) end", values({{"show", text("no")}})).body, "end");
  EXPECT_EQ(render_ok("a    ((placeholder))    b", values({{"placeholder", text("")}})).body,
            "a b");
}

TEST(SmsRender, ValuesAreDowngradedAndCounted) {
  const RenderedSms sms =
      render_ok("Hello ((name))", values({{"name", text("😀 ‘quoted’ …")}}));
  EXPECT_EQ(sms.body, "Hello ? 'quoted' ...");
  EXPECT_EQ(sms.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(sms.content_count, 20u);

  const RenderedSms welsh = render_ok("Hello ((name))", values({{"name", text("Ŵyn")}}));
  EXPECT_EQ(welsh.body, "Hello Ŵyn");
  EXPECT_EQ(welsh.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(welsh.content_count, 9u);
}

TEST(SmsRender, MissingPersonalisation) {
  EXPECT_EQ(error_of("((a)) ((B)) ((a))", values({{"b", null_value()}})),
            "Missing personalisation: a, B");
  EXPECT_EQ(error_of("((name??text))"), "Missing personalisation: name");
}

TEST(SmsRender, EmptyMessage) {
  EXPECT_EQ(error_of(""), "Your message is empty.");
  EXPECT_EQ(error_of("\t\n\r"), "Your message is empty.");
  EXPECT_EQ(error_of("((a))", values({{"a", text("")}})), "Your message is empty.");
  EXPECT_EQ(error_of("((a))((b))", values({{"a", text(" ")}, {"b", text("\u200B")}})),
            "Your message is empty.");
  EXPECT_EQ(error_of("\U0001F1EC\U0001F1E7\U0001F426\u2709\uFE0F"), "Your message is empty.");
  // Counted without the prefix: "GDS:" alone is empty.
  EXPECT_EQ(error_of("((p))  ", values({{"p", text("  ")}}), "GDS"), "Your message is empty.");
  EXPECT_EQ(error_of("x", {}, "  \t "), "Your message is empty.");
}

// ---------------------------------------------------------------------------------------------
// Prefix (the provider's text)

TEST(SmsPrefix, ProviderTextHasServiceName) {
  const RenderedSms sms =
      render_ok("Content with ((p))", values({{"p", text("something extra here")}}), "GDS");
  EXPECT_EQ(sms.body, "GDS: Content with something extra here");
  EXPECT_EQ(sms.content_count, 38u);
  EXPECT_EQ(sms.content_count_without_prefix, 33u);
  const RenderedSms plain =
      render_ok("Content with ((p))", values({{"p", text("something extra here")}}));
  EXPECT_EQ(plain.body, "Content with something extra here");
  EXPECT_EQ(plain.content_count_without_prefix, 33u);
}

TEST(SmsPrefix, PipelineRunsOverThePrefixedText) {
  EXPECT_EQ(render_ok(", hi", {}, "GDS").body, "GDS:, hi");
  EXPECT_EQ(render_ok("\n\nHello", {}, "GDS").body, "GDS:\n\nHello");
  EXPECT_EQ(render_ok("Hi", {}, "My  Service").body, "My Service: Hi");
}

TEST(SmsPrefix, CountWithoutPrefixSubtractsTheRawSanitisedName) {
  // Upstream strips the name in the text but not when it subtracts its length.
  const RenderedSms sms = render_ok("Hello there", {}, " My Service ");
  EXPECT_EQ(sms.body, "My Service: Hello there");
  EXPECT_EQ(sms.content_count, 23u);
  EXPECT_EQ(sms.content_count_without_prefix, 9u);
  EXPECT_EQ(render_ok("Hi", {}, "My  Service").content_count_without_prefix, 1u);
}

TEST(SmsPrefix, NameCountsTowardsEncodingAndFragments) {
  const RenderedSms welsh = render_ok("Hello", {}, "Gwasanaeth Ŵ");
  EXPECT_EQ(welsh.body, "Gwasanaeth Ŵ: Hello");
  EXPECT_EQ(welsh.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(render_ok("Hello").encoding, SmsEncoding::kGsm7);

  const RenderedSms pipe = render_ok("Hello", {}, "A|B");
  EXPECT_EQ(pipe.extension_characters, 1u);
  EXPECT_EQ(pipe.content_count, 10u);

  // 156 characters fit one fragment; with "GDS: " in front they take two.
  EXPECT_EQ(render_ok(repeat("a", 156)).fragment_count, 1u);
  const RenderedSms prefixed = render_ok(repeat("a", 156), {}, "GDS");
  EXPECT_EQ(prefixed.content_count, 161u);
  EXPECT_EQ(prefixed.content_count_without_prefix, 156u);
  EXPECT_EQ(prefixed.fragment_count, 2u);
}

TEST(SmsPrefix, UnicodePrefixIsCountedAfterDowngrading) {
  // tests/test_template_types.py test_character_count_for_unicode_sms_template_with_unicode_prefix
  const RenderedSms sms = render_ok("\U0002F9F4", {}, "👨‍👩‍👧‍👦");
  EXPECT_EQ(sms.body, "????: ?");
  EXPECT_EQ(sms.content_count, 7u);
  EXPECT_EQ(sms.content_count_without_prefix, 1u);
}

// ---------------------------------------------------------------------------------------------
// Fragments

struct FragmentCase {
  std::string body;
  SmsEncoding encoding;
  std::size_t fragments;
};

class SmsFragmentTest : public testing::TestWithParam<FragmentCase> {};

TEST_P(SmsFragmentTest, CountsAsNotify) {
  const RenderedSms sms = render_ok(GetParam().body);
  EXPECT_EQ(sms.encoding, GetParam().encoding);
  EXPECT_EQ(sms.fragment_count, GetParam().fragments);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, SmsFragmentTest,
    testing::Values(FragmentCase{repeat("a", 160), SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("a", 161), SmsEncoding::kGsm7, 2},
                    FragmentCase{repeat("a", 306), SmsEncoding::kGsm7, 2},
                    FragmentCase{repeat("a", 307), SmsEncoding::kGsm7, 3},
                    FragmentCase{repeat("à", 160), SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("à", 918), SmsEncoding::kGsm7, 6},
                    FragmentCase{repeat("à", 919), SmsEncoding::kGsm7, 7},
                    FragmentCase{repeat("ÿ", 70), SmsEncoding::kUcs2, 1},
                    FragmentCase{repeat("ÿ", 71), SmsEncoding::kUcs2, 2},
                    FragmentCase{repeat("ÿ", 134), SmsEncoding::kUcs2, 2},
                    FragmentCase{repeat("ÿ", 135), SmsEncoding::kUcs2, 3},
                    FragmentCase{repeat("ÿ", 402), SmsEncoding::kUcs2, 6},
                    FragmentCase{repeat("ÿ", 403), SmsEncoding::kUcs2, 7},
                    FragmentCase{repeat("à", 70) + "ÿ", SmsEncoding::kUcs2, 2},
                    FragmentCase{repeat("🚀", 160), SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("🚀", 161), SmsEncoding::kGsm7, 2},
                    // Extension characters take two septets in GSM, one character in UCS-2.
                    FragmentCase{repeat("^", 80), SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("^", 81), SmsEncoding::kGsm7, 2},
                    FragmentCase{repeat("a", 158) + "|", SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("a", 159) + "|", SmsEncoding::kGsm7, 2},
                    FragmentCase{repeat("a", 304) + "[", SmsEncoding::kGsm7, 2},
                    FragmentCase{repeat("a", 304) + "[]", SmsEncoding::kGsm7, 3},
                    FragmentCase{repeat("â", 69) + "{", SmsEncoding::kUcs2, 1},
                    FragmentCase{repeat("â", 70) + "{", SmsEncoding::kUcs2, 2},
                    FragmentCase{repeat("â", 133) + "}", SmsEncoding::kUcs2, 2},
                    FragmentCase{repeat("â", 134) + "}", SmsEncoding::kUcs2, 3},
                    // "…" becomes three characters before counting.
                    FragmentCase{repeat("…", 53) + "a", SmsEncoding::kGsm7, 1},
                    FragmentCase{repeat("…", 54), SmsEncoding::kGsm7, 2}));

TEST(SmsFragmentCount, Arithmetic) {
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kGsm7, 0, 0), 1u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kGsm7, 159, 1), 1u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kGsm7, 160, 1), 2u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kGsm7, 918, 0), 6u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kGsm7, 919, 0), 7u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kUcs2, 70, 5), 1u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kUcs2, 71, 0), 2u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kUcs2, 134, 0), 2u);
  EXPECT_EQ(sms_fragment_count(SmsEncoding::kUcs2, 135, 0), 3u);
}

// ---------------------------------------------------------------------------------------------
// Length limit

TEST(SmsLength, LimitIs918Characters) {
  const RenderedSms at_limit = render_ok(repeat("b", 918));
  EXPECT_FALSE(is_sms_too_long(at_limit));
  EXPECT_TRUE(check_sms_length(at_limit));

  const RenderedSms over = render_ok(repeat("b", 919));
  EXPECT_TRUE(is_sms_too_long(over));
  const auto checked = check_sms_length(over);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(checked.error().message,
            "Your message is too long. Text messages cannot be longer than 918 characters. "
            "Your message is 919 characters long.");
}

TEST(SmsLength, PrefixIsNotCounted) {
  // tests/test_template_types.py test_message_is_not_too_long_ignoring_prefix and
  // test_message_too_long_ignoring_prefix.
  const std::string body = repeat("b", 917) + "((foo))";
  const RenderedSms fits = render_ok(body, values({{"foo", text("c")}}), repeat("a", 100));
  EXPECT_EQ(fits.content_count, 1020u);
  EXPECT_FALSE(is_sms_too_long(fits));
  const RenderedSms over = render_ok(body, values({{"foo", text("cc")}}), repeat("a", 100));
  EXPECT_TRUE(is_sms_too_long(over));
  EXPECT_EQ(check_sms_length(over).error().message,
            "Your message is too long. Text messages cannot be longer than 918 characters. "
            "Your message is 919 characters long.");
}

TEST(SmsLength, CountsCharactersAfterDowngrading) {
  // Each flag is U+1F3F3 U+FE0F U+200D U+1F308: "?" "?" (removed) "?".
  const RenderedSms flags =
      render_ok(repeat("🏳️‍🌈", 917) + "((foo))", values({{"foo", text("cc")}}));
  EXPECT_EQ(flags.content_count, 2753u);
  EXPECT_EQ(check_sms_length(flags).error().message,
            "Your message is too long. Text messages cannot be longer than 918 characters. "
            "Your message is 2753 characters long.");
  // Welsh letters are one character each.
  EXPECT_FALSE(is_sms_too_long(render_ok(repeat("Ŵ", 918))));
  EXPECT_TRUE(is_sms_too_long(render_ok(repeat("Ŵ", 919))));
}

}  // namespace
}  // namespace herald::domain
