#include <gtest/gtest.h>

#include "domain/rendering/sanitise.h"

#include <cstdint>
#include <string>

namespace herald::domain {
namespace {

// Expectations checked against notifications-utils' own pattern with Python's re.
TEST(Sanitise, LinksRemovedBareDomainsBrokenUpMarkdownEscaped) {
  const std::pair<const char*, const char*> cases[] = {
      // GOV.UK's own examples (Node and Python integration tests).
      {"User, [click here](https://evil.link)", "User, \\[click here\\]\\(\\)"},
      {"a-b-c", "a\\-b\\-c"},
      {"Ada", "Ada"},
      {"evil.link", "evil\\. link"},
      {"go to www.example.co.uk now", "go to www\\. example\\. co\\. uk now"},
      {"http://example.com/path?q=1 and more", " and more"},
      {"HTTPS://EXAMPLE.COM", ""},
      {"example.com/login", ""},
      {"mail me: ada@example.com", "mail me: ada@example\\.com"},  // not after '@'
      {"a.bc.d1", "a\\. bc\\.d1"},                                  // the regex backtracks to a.bc
      {"x-.y.com", "x\\-\\. y\\. com"},
      {"caf\xc3\xa9.com", ""},                                        // not ASCII: not a bare domain
      {"version 1.2.3", "version 1\\.2\\.3"},
      {"foo.b1", "foo\\.b1"},
      {"# heading *bold* _x_ `code` <b> !|+", "\\# heading \\*bold\\* \\_x\\_ \\`code\\` \\<b\\> \\!\\|\\+"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(sanitise_personalisation_value(in), want) << in;
}

// The scan steps (sanitise_steps_for_test) for `unit` repeated to `size` bytes.
std::uint64_t steps_to_sanitise(const std::string& unit, std::size_t size) {
  std::string text;
  text.reserve(size + unit.size());
  while (text.size() < size) text += unit;
  const std::uint64_t before = sanitise_steps_for_test();
  (void)sanitise_personalisation_value(text);
  return sanitise_steps_for_test() - before;
}

// The work is counted, not timed: for 4 times the input a linear scan takes about 4 times the
// steps, a quadratic one about 16 times. The shapes make the URL matcher start often and scan
// far: labels and dots, many dots, long labels, schemes, paths, '@'.
TEST(Sanitise, LinearOnLongInput) {
  constexpr std::size_t kSmall = 1 << 14;
  constexpr std::size_t kLarge = 4 * kSmall;
  for (const std::string unit :
       {"a.", "a. ", "ab.", "a.b", "aa.bb.cc ", "x-.y.", "a.bc.d1 ", "http://", "https://a.",
        "http://a.bc/", "www.example.co.uk ", "a@b.", ".", "a", "a ", "aaaaaaaaaaaaaaaaaaaaaaaa.",
        "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.bc/"}) {
    const std::uint64_t small = steps_to_sanitise(unit, kSmall);
    const std::uint64_t large = steps_to_sanitise(unit, kLarge);
    ASSERT_GT(small, 0u) << "the counting seam counts nothing";
    EXPECT_LE(large, 5 * small) << "unit: " << unit << ": 4x the input took " << large << " / " << small
                                << " = " << static_cast<double>(large) / static_cast<double>(small)
                                << "x the steps (linear: ~4x, quadratic: ~16x)";
    EXPECT_LE(large, 200 * kLarge) << "unit: " << unit << ": more than 200 steps a byte";
  }
  // And the original long input still comes out escaped.
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "a.";
  EXPECT_GT(sanitise_personalisation_value(text).size(), text.size());
}

// Words joined by '-' with no '.' after them ("a-a-a-...") were quadratic: every word started a
// URL match whose first label ran on to the end of the hyphenated run (16x the steps for 4x the
// input, about 4,000 steps a byte at 64 KB). The scan now skips a run it has found holds no link.
TEST(Sanitise, ASchemeInsideAHyphenatedRunIsStillALink) {
  // The skip above must not hide a link that starts inside a run already scanned.
  EXPECT_EQ(sanitise_personalisation_value("a-b-http://evil.example.com/x"), "a\\-b\\-");
  EXPECT_EQ(sanitise_personalisation_value("see-evil.example.com"), "see\\-evil\\. example\\. com");
}

TEST(Sanitise, LinearOnHyphenatedWords) {
  for (const std::string unit : {"a-", "-a", "ab-cd-"}) {
    const std::uint64_t small = steps_to_sanitise(unit, 1 << 12);
    const std::uint64_t large = steps_to_sanitise(unit, 1 << 14);
    EXPECT_LE(large, 5 * small) << "unit: " << unit << ": 4x the input took "
                                << static_cast<double>(large) / static_cast<double>(small) << "x the steps";
  }
}

}  // namespace
}  // namespace herald::domain
