#include "domain/rendering/personalisation.h"

#include <gtest/gtest.h>

#include "tests/fakes/personalisation_values.h"

namespace herald::domain {
namespace {

using fakes::text;
using fakes::null_value;

TEST(NormalisePlaceholderKey, LowerCasesAndDropsSpacesUnderscoresAndHyphens) {
  EXPECT_EQ(normalise_placeholder_key("First Name"), "firstname");
  EXPECT_EQ(normalise_placeholder_key("first_name"), "firstname");
  EXPECT_EQ(normalise_placeholder_key("FIRST-NAME"), "firstname");
  EXPECT_EQ(normalise_placeholder_key(" _-A b_C-d "), "abcd");
  EXPECT_EQ(normalise_placeholder_key(""), "");
  EXPECT_EQ(normalise_placeholder_key(" _-"), "");
}

TEST(NormalisePlaceholderKey, KeepsOtherCharacters) {
  EXPECT_EQ(normalise_placeholder_key("a.b?c\td"), "a.b?c\td");
  EXPECT_EQ(normalise_placeholder_key("Café"), "café");
  EXPECT_EQ(normalise_placeholder_key("ÉCOLE"), "École") << "only ASCII letters are lower-cased";
}

TEST(PersonalisationFind, MatchesInsensitivelyToCaseSpacesUnderscoresAndHyphens) {
  Personalisation personalisation;
  personalisation.entries.emplace_back("first-name", text("Ada"));
  for (const char* name :
       {"first-name", "First Name", "first_name", "FIRSTNAME", "fIrSt - _nAmE"}) {
    const PersonalisationValue* found = personalisation.find(name);
    ASSERT_NE(found, nullptr) << name;
    EXPECT_EQ(found->text, "Ada") << name;
  }
}

TEST(PersonalisationFind, AbsentIsNullptr) {
  Personalisation personalisation;
  EXPECT_EQ(personalisation.find("name"), nullptr);
  personalisation.entries.emplace_back("name", text("x"));
  EXPECT_EQ(personalisation.find("names"), nullptr);
  EXPECT_EQ(personalisation.find("nam"), nullptr);
  EXPECT_EQ(personalisation.find(""), nullptr);
}

TEST(PersonalisationFind, LastMatchingEntryWins) {
  Personalisation personalisation;
  personalisation.entries.emplace_back("Name", text("first"));
  personalisation.entries.emplace_back("other", text("other"));
  personalisation.entries.emplace_back("n_a_m_e", text("last"));
  EXPECT_EQ(personalisation.find("name")->text, "last");
}

TEST(PersonalisationFind, ReturnsNullValuesForTheCallerToTreatAsMissing) {
  Personalisation personalisation;
  personalisation.entries.emplace_back("name", text("x"));
  personalisation.entries.emplace_back("NAME", null_value());
  const PersonalisationValue* found = personalisation.find("name");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->kind, PersonalisationValue::Kind::kNull);
}

TEST(PersonalisationFind, KeysOfOnlyIgnoredCharactersMatchTheEmptyName) {
  Personalisation personalisation;
  personalisation.entries.emplace_back(" _-", text("blank"));
  ASSERT_NE(personalisation.find(""), nullptr);
  EXPECT_EQ(personalisation.find("")->text, "blank");
  EXPECT_EQ(personalisation.find("-")->text, "blank");
}

}  // namespace
}  // namespace herald::domain
