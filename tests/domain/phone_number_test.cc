#include "domain/recipients/phone_number.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace herald::domain {
namespace {

using E = PhoneNumberError;

constexpr SmsPermissions kUkMobilesOnly{};
constexpr SmsPermissions kInternational{.international_sms = true, .sms_to_uk_landlines = false};
constexpr SmsPermissions kLandlines{.international_sms = false, .sms_to_uk_landlines = true};
constexpr SmsPermissions kEverything{.international_sms = true, .sms_to_uk_landlines = true};

// The code of a failed Result, or nullopt when it succeeded or failed for another reason.
template <typename T>
std::optional<PhoneNumberError> code_of(const Result<T>& result) {
  if (result) return std::nullopt;
  return phone_number_error_of(result.error());
}

std::string describe(const std::optional<PhoneNumberError>& code) {
  return code ? std::string(phone_number_error_name(*code)) : std::string("(accepted)");
}

// --- error codes and messages ---------------------------------------------------------------

TEST(PhoneNumberErrors, NamesAndLegacyV2Messages) {
  struct Case {
    E code;
    const char* name;
    const char* message;
  };
  const Case cases[] = {
      {E::kInvalidNumber, "INVALID_NUMBER",
       "Number is not valid \xE2\x80\x93 double check the phone number you entered"},
      {E::kTooLong, "TOO_LONG", "Too many digits"},
      {E::kTooShort, "TOO_SHORT", "Not enough digits"},
      {E::kNotAUkMobile, "NOT_A_UK_MOBILE", "Not a UK mobile number"},
      {E::kUnknownCharacter, "UNKNOWN_CHARACTER", "Must not contain letters or symbols"},
      {E::kUnsupportedCountryCode, "UNSUPPORTED_COUNTRY_CODE", "Not a valid country prefix"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(phone_number_error_name(c.code), c.name);
    EXPECT_EQ(legacy_v2_api_message(c.code), c.message) << c.name;
    const Error error = to_error(c.code);
    EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.message, c.message);
    EXPECT_EQ(phone_number_error_of(error), c.code) << c.name;
  }
}

TEST(PhoneNumberErrors, OtherErrorsHaveNoPhoneNumberCode) {
  EXPECT_EQ(phone_number_error_of(invalid_argument("Not a valid email address")), std::nullopt);
  // The right text under another ErrorCode is not a phone-number error either.
  EXPECT_EQ(phone_number_error_of(internal_error("Too many digits")), std::nullopt);
}

// --- schema stage: accepted numbers ---------------------------------------------------------

struct Accepted {
  const char* input;
  const char* normalised;
};

// Every format of §8.2 step 3, including those only the thorough normalisation saves.
TEST(PhoneNumberParse, AcceptsEveryUkFormatOfSection8_2) {
  const Accepted cases[] = {
      {"07723 456789", "447723456789"},
      {"+44 7723 456789", "447723456789"},
      {"0044 7723 456789", "447723456789"},
      {"44 7723456789", "447723456789"},
      {"0+447723456789", "447723456789"},
      {"+07723456789", "447723456789"},
      {"0+44(0)7723456789", "447723456789"},
      // The same formats over the OFCOM drama range, which libphonenumber calls invalid.
      {"07700 900123", "447700900123"},
      {"+44 7700 900123", "447700900123"},
      {"0044 7700 900123", "447700900123"},
      {"44 7700900123", "447700900123"},
      {"0+447700900123", "447700900123"},
      {"+07700900123", "447700900123"},
      {"0+44(0)7700900123", "447700900123"},
  };
  for (const Accepted& c : cases) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, c.normalised) << c.input;
    EXPECT_EQ(number->country_code, 44) << c.input;
    EXPECT_TRUE(number->is_uk) << c.input;
    EXPECT_FALSE(number->is_international) << c.input;
    EXPECT_FALSE(number->is_crown_dependency) << c.input;
    EXPECT_FALSE(number->is_uk_landline) << c.input;
    EXPECT_TRUE(check_sms_permissions(*number, kUkMobilesOnly)) << c.input;
  }
}

// notifications-utils valid_uk_mobile_phone_numbers: all normalise to 447723456789.
TEST(PhoneNumberParse, AcceptsNotifyUtilsUkMobiles) {
  for (const char* input :
       {"7723456789", "07723456789", "07723 456789", "07723-456-789", "00447723456789",
        "00 44 7723456789", "+447723456789", "+44 7723 456 789", "+44 (0)7723 456 789",
        "\u200b\t\t+44 (0)7723 456 789\ufeff \r\n"}) {
    const auto number = parse_phone_number(input);
    ASSERT_TRUE(number) << input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, "447723456789") << input;
    EXPECT_TRUE(number->is_uk) << input;
    EXPECT_FALSE(number->is_tv_number) << input;
    EXPECT_TRUE(check_sms_permissions(*number, kUkMobilesOnly)) << input;
    EXPECT_TRUE(validate_sms_recipient(input, kUkMobilesOnly)) << input;
  }
}

// notifications-utils test_validate_normalised_succeeds: numbers that only parse once stray
// '+'s and leading '0's are gone (and those that parse as they are).
TEST(PhoneNumberParse, ThoroughNormalisationOfNotifyUtilsCases) {
  const Accepted cases[] = {
      {"+07044123456", "447044123456"},
      {"0+44(0)7779123456", "447779123456"},
      {"0+447988123456", "447988123456"},
      {"00447911123456", "447911123456"},
      {"04407379123456", "447379123456"},
      {"0447300123456", "447300123456"},
      {"000007392123456", "447392123456"},
      {"0007465123456", "447465123456"},
      {"007341123456", "447341123456"},
      // Could be a UK landline or a US number: UK is assumed.
      {"001708123456", "441708123456"},
      {"+01158123456", "441158123456"},
      {"+01323123456", "441323123456"},
      {"+03332123456", "443332123456"},
      {"+04915161123456", "4915161123456"},  // German
  };
  for (const Accepted& c : cases) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, c.normalised) << c.input;
  }
}

// notifications-utils valid_international_phone_numbers and the normalised forms it expects.
TEST(PhoneNumberParse, AcceptsNotifyUtilsInternationalNumbers) {
  const Accepted cases[] = {
      {"+7 (8) (495) 123-45-67", "74951234567"},   // Russia
      {"007 (8) (495) 123-45-67", "74951234567"},  // Russia
      {"784951234567", "74951234567"},    // Russia with no + or 00: looks like it could be UK
      {"1-202-555-0104", "12025550104"},  // USA
      {"1\u2011202\u2013555\u2014010\u22124", "12025550104"},  // dashes of all kinds
      {"+12025550104", "12025550104"},
      {"0012025550104", "12025550104"},
      {"+0012025550104", "12025550104"},
      {"230 5 2512345", "23052512345"},  // Mauritius
      {"+682 50 123", "68250123"},       // Cook Islands: five digits
      {"+33122334455", "33122334455"},   // France
      {"0033122334455", "33122334455"},
      {"+43 676 111 222 333 4", "436761112223334"},  // Austria, 13 digits
      {"77234567890", "77234567890"},
      {"74991231212", "74991231212"},
      {"23052512345", "23052512345"},
  };
  for (const Accepted& c : cases) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, c.normalised) << c.input;
    EXPECT_FALSE(number->is_uk) << c.input;
    EXPECT_TRUE(number->is_international) << c.input;
    EXPECT_FALSE(number->is_uk_landline) << c.input;
    EXPECT_TRUE(check_sms_permissions(*number, kInternational)) << c.input;
    const auto refused = check_sms_permissions(*number, kLandlines);
    ASSERT_FALSE(refused) << c.input;
    EXPECT_EQ(phone_number_error_of(refused.error()), E::kNotAUkMobile) << c.input;
    EXPECT_TRUE(refused_as_international(*number, refused.error())) << c.input;
  }
}

// --- schema stage: refused numbers ----------------------------------------------------------

struct Refused {
  const char* input;
  PhoneNumberError code;
};

void expect_refused(const Refused& c) {
  const auto number = parse_phone_number(c.input);
  EXPECT_EQ(describe(code_of(number)), describe(c.code)) << '"' << c.input << '"';
}

// notifications-utils invalid_uk_mobile_phone_numbers, invalid_international_numbers,
// invalid_uk_landlines, test_validate_normalised_fails and the unparseable characters.
TEST(PhoneNumberParse, RefusesNotifyUtilsInvalidNumbers) {
  const Refused cases[] = {
      // too long
      {"772345678910", E::kTooLong},
      {"0772345678910", E::kTooLong},
      {"0044772345678910", E::kTooLong},
      {"+44 (0)7723 456 789 10", E::kTooLong},
      {"80100000000", E::kTooLong},
      {"+12345 12345 12345 6", E::kTooLong},
      // right length, wrong digits
      {"0772345678", E::kInvalidNumber},
      {"004477234567", E::kInvalidNumber},
      {"00447723456", E::kInvalidNumber},
      {"+44 (0)7723 456 78", E::kInvalidNumber},
      {"1234567", E::kInvalidNumber},
      {"+682 1234", E::kInvalidNumber},
      {"0033877123456", E::kInvalidNumber},  // 87 starts no French number
      // letters and symbols
      {"07890x32109", E::kUnknownCharacter},
      {"07723 456789...", E::kUnknownCharacter},
      {"07723 \u261f\u261c\u2b07\u2b06\u261e\u261d", E::kUnknownCharacter},
      {"07723\u261f\u261c\u2b07\u2b06\u261e\u261d", E::kUnknownCharacter},
      {"07\";DROP TABLE;\"", E::kUnknownCharacter},
      {"+44 07ab cde fgh", E::kUnknownCharacter},
      {"ALPHANUM3R1C", E::kUnknownCharacter},
      {"abcd", E::kUnknownCharacter},
      {"079OO900123", E::kUnknownCharacter},
      // UK numbers that are not landlines or mobiles
      {"0400 123 4567", E::kInvalidNumber},  // not in use
      {"0600 123 4567", E::kInvalidNumber},  // not in use
      {"0300 46 46", E::kInvalidNumber},     // short but not 01x or 08x
      {"0800 11 12", E::kInvalidNumber},
      {"0845 46 31", E::kInvalidNumber},
      {"0845 46 46", E::kInvalidNumber},     // short premium rate
      {"0900 123 4567", E::kInvalidNumber},  // premium rate
      // real numbers Notify once sent to that no longer validate
      {"(07417)4123456", E::kTooLong},
      {"(06)25123456", E::kInvalidNumber},
      {"+00263 71123456", E::kInvalidNumber},
      {"+0065951123456", E::kTooLong},
      {"00129123456", E::kInvalidNumber},
      {"003570123456", E::kInvalidNumber},
      {"0038097123456", E::kTooLong},
      {"00407833123456", E::kTooLong},
      {"0041903123456", E::kInvalidNumber},
      {"005915209123456", E::kTooLong},
      {"00617584123456", E::kInvalidNumber},
      {"0064 495123456", E::kInvalidNumber},
      {"00667123456", E::kInvalidNumber},
      {"0092363123456", E::kInvalidNumber},
      {"009677337123456", E::kTooLong},
      {"047354123456", E::kTooLong},
      {"0049 160 123456", E::kInvalidNumber},
  };
  for (const Refused& c : cases) expect_refused(c);
}

TEST(PhoneNumberParse, RefusesEmptyAndShortInput) {
  for (const Refused& c :
       {Refused{"", E::kTooShort}, Refused{"0", E::kTooShort}, Refused{"+", E::kTooShort},
        Refused{"000", E::kTooShort}, Refused{"  ", E::kInvalidNumber},
        Refused{"0772345", E::kTooShort}, Refused{"123", E::kTooShort},
        Refused{"+12345", E::kTooShort}, Refused{"(1)2345", E::kTooShort},
        // Eight digits: between the lengths GB numbers can have.
        Refused{"07723 4567", E::kInvalidNumber}}) {
    expect_refused(c);
  }
}

// libphonenumber refuses to parse an unknown country code at all, so the normalised retry reads
// the digits as a UK number, and the UK verdict is the one returned. (UNSUPPORTED_COUNTRY_CODE
// comes from the billing table: see CountriesOutsideTheBillingTableAreUnsupported.)
TEST(PhoneNumberParse, UnknownCountryCodesAreJudgedAsUkDigits) {
  expect_refused({"+999 1234 5678", E::kTooLong});
  expect_refused({"+80 1234 5678", E::kInvalidNumber});
}

// Premium rate, freephone, shared cost, VoIP and personal-but-unallocated ranges are not
// destinations Notify texts.
TEST(PhoneNumberParse, RefusesNumberTypesNotifyDoesNotText) {
  for (const char* input : {"09001234567", "+449001234567", "08001234567", "08450000000",
                            "05612345678", "0871 123 4567"}) {
    expect_refused({input, E::kInvalidNumber});
  }
}

TEST(PhoneNumberParse, CharacterRules) {
  // Whitespace Notify strips (zero-width, no-break, line separators) is allowed anywhere.
  for (const char* input : {"07723\u00a0456789", "07723\u202f456789",
                            "\u2060"
                            "07723456789",
                            "07723\u2028456789", "\u180e07723456789\u200d"}) {
    const auto number = parse_phone_number(input);
    ASSERT_TRUE(number) << input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, "447723456789") << input;
  }
  for (const char* input :
       {"07723 456789\xC3\xA9",                                          // é
        "\xEF\xBC\x90\xEF\xBC\x97\xEF\xBC\x97\xEF\xBC\x92\xEF\xBC\x93",  // fullwidth
        "07723.456.789", "07723/456789", "+44 7723 456789 ext 1", "07723 456789#",
        "\xEF\xBC\x8B"
        "447723456789",  // fullwidth plus
        "07723\xFF"
        "456789",
        "07723\xC3", "\xED\xA0\x80"}) {  // bad UTF-8
    expect_refused({input, E::kUnknownCharacter});
  }
}

// A first parse that fails is retried after normalisation, and the retry's error wins: here
// the retry turns a newline into '?' as notifications-utils' SanitiseASCII does.
TEST(PhoneNumberParse, ErrorComesFromTheNormalisedRetry) {
  expect_refused({"0+44\n7723456789", E::kUnknownCharacter});
  expect_refused({"+", E::kTooShort});
}

// The input limit applies to what reaches libphonenumber; the normalisation runs first.
TEST(PhoneNumberParse, BoundsWhatReachesLibphonenumber) {
  expect_refused({std::string(10'000, '1').c_str(), E::kInvalidNumber});
  expect_refused(
      {(std::string(kMaxLibphonenumberInput, ' ') + "07723456789").c_str(), E::kInvalidNumber});
  const auto zeros = parse_phone_number(std::string(5'000, '0') + "7723456789");
  ASSERT_TRUE(zeros);
  EXPECT_EQ(zeros->normalised, "447723456789");
  const auto pluses = parse_phone_number(std::string(5'000, '+') + "447723456789");
  ASSERT_TRUE(pluses);
  EXPECT_EQ(pluses->normalised, "447723456789");
}

// --- OFCOM drama numbers --------------------------------------------------------------------

TEST(PhoneNumberParse, AcceptsOfcomTvNumbersOnly) {
  for (const Accepted& c :
       {Accepted{"07700900010", "447700900010"}, Accepted{"447700900020", "447700900020"},
        Accepted{"+447700900030", "447700900030"}, Accepted{"07700 900000", "447700900000"},
        Accepted{"07700 900999", "447700900999"}}) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, c.normalised);
    EXPECT_TRUE(number->is_tv_number);
    EXPECT_TRUE(number->is_uk);
    EXPECT_FALSE(number->is_international);
    EXPECT_FALSE(number->is_crown_dependency);
    EXPECT_FALSE(number->is_uk_landline);
    EXPECT_TRUE(check_sms_permissions(*number, kUkMobilesOnly));
    const auto billing = sms_billing_info(*number);
    ASSERT_TRUE(billing);
    EXPECT_FALSE(billing->international);
    EXPECT_EQ(billing->country_prefix, "44");
    EXPECT_EQ(billing->rate_multiplier, 1);
  }
  // Next to the range, libphonenumber's own verdict stands.
  expect_refused({"07700 901000", E::kInvalidNumber});
  expect_refused({"+1 770 090 0123", E::kInvalidNumber});  // a US number is no TV number
}

// --- crown dependencies, landlines ----------------------------------------------------------

TEST(PhoneNumberParse, CrownDependenciesAreUkForPermissionInternationalForBilling) {
  for (const char* input : {"+447797800123", "07797 912345", "07700 800000", "07781 123456",
                            "07624 123456"}) {  // Jersey (3), Guernsey, Isle of Man
    const auto number = parse_phone_number(input);
    ASSERT_TRUE(number) << input << ": " << number.error().message;
    EXPECT_TRUE(number->is_uk) << input;
    EXPECT_TRUE(number->is_crown_dependency) << input;
    EXPECT_TRUE(number->is_international) << input;
    EXPECT_FALSE(number->is_uk_landline) << input;
    EXPECT_EQ(number->country_prefix, "44") << input;
    EXPECT_TRUE(check_sms_permissions(*number, kUkMobilesOnly)) << input;
    EXPECT_TRUE(check_sms_permissions(*number, kInternational)) << input;
    const auto billing = sms_billing_info(*number);
    ASSERT_TRUE(billing) << input;
    EXPECT_TRUE(billing->international) << input;
    EXPECT_TRUE(billing->crown_dependency) << input;
    EXPECT_EQ(billing->rate_multiplier, 2) << input;
  }
}

// notifications-utils valid_channel_island_numbers: valid Jersey mobiles that libphonenumber
// 8.12.57 (Debian 12) does not know yet; newer metadata accepts them. If this test starts to
// fail, the metadata has caught up: move them to the test above.
TEST(PhoneNumberParse, JerseyNumbersTooNewForDebianMetadata) {
  expect_refused({"+447797292290", E::kInvalidNumber});
  expect_refused({"+447797333214", E::kInvalidNumber});
}

// notifications-utils valid_uk_landlines: parsed, but refused without sms_to_uk_landlines.
TEST(PhoneNumberParse, UkLandlinesNeedTheLandlinePermission) {
  const Accepted cases[] = {
      {"0117 496 0860", "441174960860"},   {"0044 117 496 0860", "441174960860"},
      {"44 117 496 0860", "441174960860"}, {"+44 117 496 0860", "441174960860"},
      {"016064 1234", "44160641234"},     // Brampton: one digit shorter than usual
      {"020 7946 0991", "442079460991"},  // London
      {"030 1234 5678", "443012345678"},  // non-geographic
      {"0550 123 4567", "445501234567"},  // corporate numbering
      {"01534 123456", "441534123456"},   // a Jersey landline is a +44 landline too
  };
  for (const Accepted& c : cases) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    EXPECT_EQ(number->normalised, c.normalised) << c.input;
    EXPECT_TRUE(number->is_uk) << c.input;
    EXPECT_TRUE(number->is_uk_landline) << c.input;
    for (const SmsPermissions& permissions : {kUkMobilesOnly, kInternational}) {
      const auto refused = check_sms_permissions(*number, permissions);
      ASSERT_FALSE(refused) << c.input;
      EXPECT_EQ(phone_number_error_of(refused.error()), E::kNotAUkMobile) << c.input;
      // An InvalidPhoneError "Not a UK mobile number", not the international BadRequestError.
      EXPECT_FALSE(refused_as_international(*number, refused.error())) << c.input;
    }
    EXPECT_TRUE(check_sms_permissions(*number, kLandlines)) << c.input;
    EXPECT_TRUE(check_sms_permissions(*number, kEverything)) << c.input;
  }
}

// --- service stage --------------------------------------------------------------------------

// notifications-utils test_international_does_not_normalise_to_uk_number.
TEST(PhoneNumberPermissions, InternationalNumbersNeedTheInternationalPermission) {
  for (const char* input :
       {"+14158961600", "+3225484211", "+1 202-483-3000", "+7 495 308-78-41", "+74953087842"}) {
    const auto validated = validate_sms_recipient(input, kLandlines);
    ASSERT_FALSE(validated) << input;
    EXPECT_EQ(phone_number_error_of(validated.error()), E::kNotAUkMobile) << input;
    EXPECT_EQ(validated.error().message, "Not a UK mobile number");
    const auto number = parse_phone_number(input);
    ASSERT_TRUE(number) << input;
    EXPECT_TRUE(refused_as_international(*number, validated.error())) << input;
    EXPECT_TRUE(validate_sms_recipient(input, kInternational)) << input;
  }
}

// Ascension Island (+247) is a real country code that Notify cannot bill.
TEST(PhoneNumberPermissions, CountriesOutsideTheBillingTableAreUnsupported) {
  const auto number = parse_phone_number("24741111");
  ASSERT_TRUE(number) << number.error().message;
  EXPECT_EQ(number->country_code, 247);
  for (const SmsPermissions& permissions : {kInternational, kEverything}) {
    const auto refused = check_sms_permissions(*number, permissions);
    ASSERT_FALSE(refused);
    EXPECT_EQ(phone_number_error_of(refused.error()), E::kUnsupportedCountryCode);
    EXPECT_FALSE(refused_as_international(*number, refused.error()));
  }
  // Without the international permission, the permission is what fails first.
  EXPECT_EQ(code_of(check_sms_permissions(*number, kUkMobilesOnly)), E::kNotAUkMobile);
  EXPECT_EQ(code_of(sms_billing_info(*number)), E::kUnsupportedCountryCode);
}

TEST(PhoneNumberPermissions, SchemaErrorsComeBeforePermissions) {
  EXPECT_EQ(code_of(validate_sms_recipient("0900 123 4567", kEverything)), E::kInvalidNumber);
  EXPECT_EQ(code_of(validate_sms_recipient("abc", kEverything)), E::kUnknownCharacter);
  EXPECT_EQ(code_of(validate_sms_recipient("", kEverything)), E::kTooShort);
  const auto ok = validate_sms_recipient("+33 6 12 34 56 78", kEverything);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->normalised, "33612345678");
}

// --- billing --------------------------------------------------------------------------------

// notifications-utils international_phone_info_fixtures and test_should_use_numeric_sender.
TEST(PhoneNumberBilling, MatchesNotifyUtilsFixtures) {
  struct Case {
    const char* input;
    bool international;
    bool crown_dependency;
    const char* prefix;
    int rate_multiplier;
  };
  const Case cases[] = {
      {"07723456789", false, false, "44", 1},
      {"07797800123", true, true, "44", 2},       // Jersey
      {"20-12-1234-1234", true, false, "20", 7},  // Egypt
      {"00201212341234", true, false, "20", 7},
      {"16644913789", true, false, "1664", 6},      // Montserrat
      {"77234567890", true, false, "7", 10},        // Russia
      {"1-202-555-0104", true, false, "1", 1},      // USA
      {"+23052512345", true, false, "230", 4},      // Mauritius
      {"+33 6 12 34 56 78", true, false, "33", 2},  // France
  };
  for (const Case& c : cases) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    const auto billing = sms_billing_info(*number);
    ASSERT_TRUE(billing) << c.input;
    EXPECT_EQ(billing->international, c.international) << c.input;
    EXPECT_EQ(billing->crown_dependency, c.crown_dependency) << c.input;
    EXPECT_EQ(billing->country_prefix, c.prefix) << c.input;
    EXPECT_EQ(billing->rate_multiplier, c.rate_multiplier) << c.input;
  }
  struct Sender {
    const char* input;
    bool numeric;
  };
  for (const Sender& c : {Sender{"48123654789", false}, Sender{"1-403-555-0104", true},
                          Sender{"40 21 201 7200", false}, Sender{"+60123451345", true},
                          Sender{"07723456789", false}}) {
    const auto number = parse_phone_number(c.input);
    ASSERT_TRUE(number) << c.input << ": " << number.error().message;
    const auto billing = sms_billing_info(*number);
    ASSERT_TRUE(billing) << c.input;
    EXPECT_EQ(billing->numeric_sender_required, c.numeric) << c.input;
  }
}

// --- simulated numbers ----------------------------------------------------------------------

TEST(PhoneNumberSimulated, ComparedAfterNormalisation) {
  for (const char* input : {"+447700900000", "07700900111", "07700 900 222", "447700900222",
                            "0044 7700 900111", "+44 (0)7700 900000"}) {
    EXPECT_TRUE(is_simulated_phone_number(std::string_view(input))) << input;
    const auto number = parse_phone_number(input);
    ASSERT_TRUE(number) << input;
    EXPECT_TRUE(is_simulated_phone_number(*number)) << input;
  }
  for (const char* input : {"07700900333", "07723456789", "+12025550104", "abc", ""}) {
    EXPECT_FALSE(is_simulated_phone_number(std::string_view(input))) << input;
  }
}

// --- threads --------------------------------------------------------------------------------

TEST(PhoneNumberThreads, ConcurrentParsesAgree) {
  const std::vector<std::string> inputs = {"07723 456789",      "+1 202 555 0104",
                                           "0117 496 0860",     "abc",
                                           "0+44(0)7700900123", "+33 6 12 34 56 78"};
  std::vector<std::string> expected;
  for (const std::string& input : inputs) {
    const auto number = parse_phone_number(input);
    expected.push_back(number ? number->normalised : number.error().message);
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          const auto number = parse_phone_number(inputs[i]);
          const std::string got = number ? number->normalised : number.error().message;
          if (got != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace herald::domain
