#include "domain/recipients/postal_address.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace herald::domain {
namespace {

Personalisation text_entries(std::vector<std::pair<std::string, std::string>> entries) {
  Personalisation personalisation;
  for (auto& [key, text] : entries) {
    PersonalisationValue value;
    value.kind = PersonalisationValue::Kind::kText;
    value.text = std::move(text);
    personalisation.entries.emplace_back(std::move(key), std::move(value));
  }
  return personalisation;
}

// address_line_1.. for the given lines, the last one as `postcode`.
Personalisation address(const std::vector<std::string>& lines) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    entries.emplace_back("address_line_" + std::to_string(i + 1), lines[i]);
  }
  if (!lines.empty()) entries.emplace_back("postcode", lines.back());
  return text_entries(std::move(entries));
}

std::string error_of(const Personalisation& personalisation,
                     InternationalLetters international = InternationalLetters::kNotAllowed) {
  const auto result = validate_postal_address(personalisation, international);
  if (result) return "(valid)";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().refusal, Refusal::kInvalidLetter);
  return result.error().message;
}

TEST(PostalAddress, NormalisesAUkAddress) {
  const auto result = validate_postal_address(
      address({"  The  Occupier ", "10 Downing Street ,", "London", "sw1a2aa"}),
      InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines,
            (std::vector<std::string>{"The Occupier", "10 Downing Street", "London", "SW1A 2AA"}));
  EXPECT_EQ(result->zone, PostageZone::kUnitedKingdom);
  EXPECT_EQ(result->postcode, "SW1A 2AA");
  EXPECT_FALSE(result->country);
  EXPECT_FALSE(result->bfpo_number);
}

TEST(PostalAddress, EmptyLinesAreDroppedAndLine7ReplacesPostcode) {
  auto personalisation = text_entries({{"address_line_1", "A Person"},
                                       {"address_line_2", ""},
                                       {"address_line_3", "1 High Street"},
                                       {"address_line_7", "BS1 4ST"},
                                       {"postcode", "ignored"}});
  const auto result = validate_postal_address(personalisation, InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines, (std::vector<std::string>{"A Person", "1 High Street", "BS1 4ST"}));
}

TEST(PostalAddress, KeysMatchExactlyAndTheLastDuplicateWins) {
  auto personalisation = text_entries({{"address_line_1", "First"},
                                       {"Address Line 2", "not read"},
                                       {"address_line_2", "2 Road"},
                                       {"address_line_3", "Town"},
                                       {"postcode", "nope"},
                                       {"postcode", "ec1a 1bb"}});
  const auto result = validate_postal_address(personalisation, InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines, (std::vector<std::string>{"First", "2 Road", "Town", "EC1A 1BB"}));
}

// api validators.py `validate_address`, one case per error, in the order they are checked.
TEST(PostalAddress, ErrorsInNotifyOrderWithExactMessages) {
  EXPECT_EQ(error_of(address({"A Person", "SW1A 1AA"})), "Address must be at least 3 lines");
  EXPECT_EQ(error_of(text_entries({})), "Address must be at least 3 lines");
  EXPECT_EQ(error_of(text_entries({{"address_line_1", "1"},
                                   {"address_line_2", "2"},
                                   {"address_line_3", "3"},
                                   {"address_line_4", "4"},
                                   {"address_line_5", "5"},
                                   {"address_line_6", "6"},
                                   {"address_line_7", "7"}})),
            "Must be a real UK postcode");
  // Eight lines: 1-6, a BFPO line and the postcode.
  EXPECT_EQ(error_of(text_entries({{"address_line_1", "1"},
                                   {"address_line_2", "2"},
                                   {"address_line_3", "3"},
                                   {"address_line_4", "4"},
                                   {"address_line_5", "5"},
                                   {"address_line_6", "BFPO 123"},
                                   {"postcode", "BF1 1AA"}})),
            "(valid)");
  // With address_line_7 present, postcode is not read.
  EXPECT_EQ(error_of(address({"1", "2", "3", "4", "5", "6", "SW1A 1AA", "8"})), "(valid)");
  EXPECT_EQ(error_of(text_entries({{"address_line_1", "1"},
                                   {"address_line_2", "2"},
                                   {"address_line_3", "3"},
                                   {"address_line_4", "4"},
                                   {"address_line_5", "5"},
                                   {"address_line_6", "6\n7"},
                                   {"address_line_7", "SW1A 1AA"}})),
            "Address must be no more than 7 lines");
  EXPECT_EQ(error_of(address({"!!!", "1 Road", "Town", "SW1A 1AA"})),
            "The first 2 lines of the address must both include at least one alphanumeric "
            "character");
  EXPECT_EQ(error_of(address({"A Person", "1 Road", "BFPO 1234", "France"}),
                     InternationalLetters::kAllowed),
            "The last line of a BFPO address must not be a country.");
  EXPECT_EQ(error_of(address({"A Person", "1 Road", "Town", "XX1 1XX"})),
            "Must be a real UK postcode");
  EXPECT_EQ(
      error_of(address({"A Person", "1 Road", "Town", "XX1 1XX"}), InternationalLetters::kAllowed),
      "Last line of address must be a real UK postcode or another country");
  EXPECT_EQ(error_of(address({"A Person", "=1 Road", "Town", "SW1A 1AA"})),
            "Address lines must not start with any of the following characters: "
            "@ ( ) = [ ] \u201D \\ / , < >");
  for (const char* start : {"@", "(", ")", "=", "[", "]", "\"", "\\", "/", "<", ">", "~"}) {
    EXPECT_EQ(error_of(address({"A Person", "1 Road", std::string(start) + "Town", "SW1A 1AA"})),
              "Address lines must not start with any of the following characters: "
              "@ ( ) = [ ] \u201D \\ / , < >")
        << start;
  }
  EXPECT_EQ(error_of(address({"A Person", "NFA", "Town", "SW1A 1AA"})), "Must be a real address");
  EXPECT_EQ(error_of(address({"A Person", "1 Road", "No Fixed Abode", "SW1A 1AA"})),
            "Must be a real address");
  EXPECT_EQ(error_of(address({"A Person", "no fixed ADDRESS", "Town", "SW1A 1AA"})),
            "Must be a real address");
}

TEST(PostalAddress, EarlierChecksWin) {
  // Too few lines and a bad postcode: the line count is reported.
  EXPECT_EQ(error_of(address({"@", "XX"})), "Address must be at least 3 lines");
  // No alphanumerics and a bad postcode: the alphanumeric check comes first.
  EXPECT_EQ(error_of(address({"...", "1 Road", "Town", "nope"})),
            "The first 2 lines of the address must both include at least one alphanumeric "
            "character");
  // Bad postcode and a forbidden first character: the postcode comes first.
  EXPECT_EQ(error_of(address({"A Person", "(1 Road", "Town", "nope"})),
            "Must be a real UK postcode");
  // Forbidden first character and NFA: the character comes first.
  EXPECT_EQ(error_of(address({"A Person", "<NFA", "NFA", "SW1A 1AA"})),
            "Address lines must not start with any of the following characters: "
            "@ ( ) = [ ] \u201D \\ / , < >");
}

TEST(PostalAddress, BfpoAddresses) {
  const auto result =
      validate_postal_address(address({"Lt A Person", "Unit 1", "bfpo c/o 0801", "BF1 4AA"}),
                              InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines,
            (std::vector<std::string>{"Lt A Person", "Unit 1", "BF1 4AA", "BFPO 801"}));
  EXPECT_EQ(result->bfpo_number, "801");
  EXPECT_EQ(result->zone, PostageZone::kUnitedKingdom);

  // Without a postcode: the BFPO line is enough.
  const auto no_postcode = validate_postal_address(address({"A Person", "Unit 2", "BFPO 57"}),
                                                   InternationalLetters::kNotAllowed);
  ASSERT_TRUE(no_postcode) << no_postcode.error().message;
  EXPECT_EQ(no_postcode->lines, (std::vector<std::string>{"A Person", "Unit 2", "BFPO 57"}));
  EXPECT_FALSE(no_postcode->postcode);

  // "BFPO" with no number anywhere is just text.
  EXPECT_EQ(error_of(address({"A Person", "Unit 2", "BFPO"})), "Must be a real UK postcode");
}

TEST(PostalAddress, InternationalNeedsThePermission) {
  const auto lines =
      address({"Herr A Person", "Unter den Linden 1", "10117 Berlin", "Deutschland"});
  EXPECT_EQ(error_of(lines), "Must be a real UK postcode");

  const auto result = validate_postal_address(lines, InternationalLetters::kAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines, (std::vector<std::string>{"Herr A Person", "Unter den Linden 1",
                                                     "10117 Berlin", "Germany"}));
  EXPECT_EQ(result->zone, PostageZone::kEurope);
  EXPECT_EQ(result->country, "Germany");
  EXPECT_FALSE(result->postcode);
  EXPECT_EQ(letter_postage(*result, UkPostage::kFirst), "europe");

  const auto usa = validate_postal_address(
      address({"A Person", "1 Main St", "Springfield IL 62701", "United States of America"}),
      InternationalLetters::kAllowed);
  ASSERT_TRUE(usa) << usa.error().message;
  EXPECT_EQ(usa->zone, PostageZone::kRestOfWorld);
  EXPECT_EQ(letter_postage(*usa, UkPostage::kSecond), "rest-of-world");
}

TEST(PostalAddress, TrailingUkCountryIsDroppedAndPostcodeKept) {
  const auto result =
      validate_postal_address(address({"A Person", "1 Road", "Cardiff", "cf10 1aa", "Wales"}),
                              InternationalLetters::kAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines, (std::vector<std::string>{"A Person", "1 Road", "Cardiff", "CF10 1AA"}));
  EXPECT_EQ(result->zone, PostageZone::kUnitedKingdom);
  EXPECT_EQ(letter_postage(*result, UkPostage::kEconomy), "economy");
}

TEST(PostalAddress, PostageZones) {
  EXPECT_EQ(find_country("france"), "France");
  EXPECT_EQ(find_country("Holland"), "Netherlands");
  EXPECT_EQ(find_country("Gambia"), "The Gambia") << "Notify also tries \"the \" + name";
  EXPECT_EQ(find_country("R\u00c9UNION"), "R\u00e9union");
  EXPECT_EQ(find_country("Jersey"), "United Kingdom");
  EXPECT_EQ(find_country("Canaries"), "Canary Islands");
  EXPECT_EQ(find_country("Swiss Confederation"), "Switzerland");
  EXPECT_FALSE(find_country("Narnia"));
  EXPECT_FALSE(find_country("France 2"));
  EXPECT_EQ(postage_zone_of_country("United Kingdom"), PostageZone::kUnitedKingdom);
  EXPECT_EQ(postage_zone_of_country("Ireland"), PostageZone::kEurope);
  EXPECT_EQ(postage_zone_of_country("Canary Islands"), PostageZone::kEurope);
  EXPECT_EQ(postage_zone_of_country("Turkey"), PostageZone::kEurope);
  EXPECT_EQ(postage_zone_of_country("Japan"), PostageZone::kRestOfWorld);
  EXPECT_EQ(postage_zone_of_country("Australia"), PostageZone::kRestOfWorld);
}

TEST(PostalAddress, UkPostageChoices) {
  EXPECT_EQ(*parse_uk_postage("first"), UkPostage::kFirst);
  EXPECT_EQ(*parse_uk_postage("second"), UkPostage::kSecond);
  EXPECT_EQ(*parse_uk_postage("economy"), UkPostage::kEconomy);
  const auto bad = parse_uk_postage("europe");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "postage invalid. It must be either first, second or economy.");
  EXPECT_EQ(bad.error().refusal, Refusal::kInvalidLetter);
}

TEST(PostalAddress, PostcodeNormalisation) {
  EXPECT_EQ(format_uk_postcode("sw1a1aa"), "SW1A 1AA");
  EXPECT_EQ(format_uk_postcode(" S W 1 A\t1 A A "), "SW1A 1AA");
  EXPECT_EQ(format_uk_postcode("sw1a\u00a01aa"), "SW1A 1AA");
  EXPECT_EQ(format_uk_postcode("m11ae"), "M1 1AE");
  EXPECT_EQ(format_uk_postcode("b338th"), "B33 8TH");
  EXPECT_EQ(format_uk_postcode("cr26xh"), "CR2 6XH");
  EXPECT_EQ(format_uk_postcode("dn551pt"), "DN55 1PT");
  EXPECT_EQ(format_uk_postcode("w1a0ax"), "W1A 0AX");
  EXPECT_EQ(format_uk_postcode("ec1a1bb"), "EC1A 1BB");
  EXPECT_EQ(format_uk_postcode("je24wd"), "JE2 4WD");
  EXPECT_FALSE(format_uk_postcode("QQ1 1AA")) << "QQ is no postcode area";
  EXPECT_FALSE(format_uk_postcode("SW1A 1AC")) << "C never ends a postcode";
  EXPECT_FALSE(format_uk_postcode("SW1A 1A"));
  EXPECT_FALSE(format_uk_postcode("SW1A1AAA"));
  EXPECT_FALSE(format_uk_postcode("GIR 0AA")) << "not in Notify's pattern";
  EXPECT_FALSE(format_uk_postcode(""));
  EXPECT_FALSE(format_uk_postcode("\xff\xfe"));
}

TEST(PostalAddress, WhitespaceAndPunctuationAreTidied) {
  const auto result = validate_postal_address(
      address({"A\u200b Person ,", "Flat 1 , 2 Road .", "Town,,", "sw1a 1aa"}),
      InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines,
            (std::vector<std::string>{"A Person", "Flat 1, 2 Road.", "Town", "SW1A 1AA"}));
}

TEST(PostalAddress, NullAndListValues) {
  Personalisation personalisation = address({"A Person", "1 Road", "Town", "SW1A 1AA"});
  personalisation.entries[1].second.kind = PersonalisationValue::Kind::kNull;
  const auto result = validate_postal_address(personalisation, InternationalLetters::kNotAllowed);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->lines, (std::vector<std::string>{"A Person", "Town", "SW1A 1AA"}));
}

// Normalisation examples from notifications-utils
// tests/recipient_validation/test_postal_address.py.
TEST(PostalAddress, NotifyNormalisationExamples) {
  auto normalised = [](std::vector<std::string> lines) {
    const auto result = validate_postal_address_lines(lines, InternationalLetters::kAllowed);
    EXPECT_TRUE(result) << result.error().message;
    return result ? result->lines : std::vector<std::string>{};
  };
  EXPECT_EQ(normalised({"", "        123 Example    St  .", "        City    of Town", "",
                        "        S W1 A 1 AA", "        "}),
            (std::vector<std::string>{"123 Example St.", "City of Town", "SW1A 1AA"}));
  EXPECT_EQ(normalised({"123 Example St. \t  ,    ", ", , ,  ,   ,     ,        ,",
                        "City of Town, Region,", "SW1A 1AA,,", ""}),
            (std::vector<std::string>{"123 Example St.", "City of Town, Region", "SW1A 1AA"}));
  EXPECT_EQ(normalised({"Senedd Cymru", "Cardiff", "CF99 1SN", "Cymru", "UK"}),
            (std::vector<std::string>{"Senedd Cymru", "Cardiff", "CF99 1SN"}));
  const auto bfpo = validate_postal_address_lines(
      {"Mr X", "Unit 5", "BFPO", "BFPO 5432", "London", "BF1 1AA"}, InternationalLetters::kAllowed);
  ASSERT_TRUE(bfpo) << bfpo.error().message;
  EXPECT_EQ(bfpo->bfpo_number, "5432");
  EXPECT_EQ(bfpo->lines,
            (std::vector<std::string>{"Mr X", "Unit 5", "London", "BF1 1AA", "BFPO 5432"}));
  const auto no_spaces = validate_postal_address_lines({"Mr X", "Unit 5", "BFPOC/O1"},
                                                       InternationalLetters::kNotAllowed);
  ASSERT_TRUE(no_spaces) << no_spaces.error().message;
  EXPECT_EQ(no_spaces->bfpo_number, "1");
  // "A / B / Chad": valid only with the permission (Chad is a country, no postcode).
  EXPECT_TRUE(validate_postal_address_lines({"A", "B", "Chad"}, InternationalLetters::kAllowed));
  EXPECT_FALSE(
      validate_postal_address_lines({"A", "B", "Chad"}, InternationalLetters::kNotAllowed));
  // A postcode and a country: international, and refused without the permission.
  EXPECT_FALSE(
      validate_postal_address_lines({"Postcode and country", "No permission", "SW1 1AA", "France"},
                                    InternationalLetters::kNotAllowed));
}

}  // namespace
}  // namespace herald::domain
