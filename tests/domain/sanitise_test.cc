#include <gtest/gtest.h>

#include "domain/sanitise.h"

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

TEST(Sanitise, LinearOnLongInput) {
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "a.";
  const auto out = sanitise_personalisation_value(text);
  EXPECT_GT(out.size(), text.size());
}

}  // namespace
}  // namespace herald::domain
