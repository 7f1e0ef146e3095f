#pragma once
// Postal addresses for letters, validated and normalised as GOV.UK Notify does it
// (notifications-utils recipient_validation/postal_address.py and countries/; notifications-api
// validators.py `validate_address`, with its exact error messages). Pure and
// thread-safe; every function runs in time linear in its input.
//
// Country names are matched against Notify's own table (generated from notifications-utils
// countries/_data at commit a9af02a: the location-autocomplete graph, synonyms, Welsh names, UK
// and European islands, ended countries), normalised the same way: "&" and "+" read as "and",
// spaces, "_-'’,.()" ignored, case ignored, accented Latin letters read as their base letter.
// Known gaps: case folding outside ASCII is not done for names that cannot be reduced to ASCII
// (e.g. Cyrillic must be written in lower case to match), and a JSON number 0 or false in an
// address line counts as the text "0"/"False" where Notify would treat it as empty.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/rendering/personalisation.h"

namespace herald::domain {

// Where a letter goes, which decides its postage.
enum class PostageZone { kUnitedKingdom, kEurope, kRestOfWorld };

// The postage a service picks for UK letters (templates and precompiled letters).
enum class UkPostage { kFirst, kSecond, kEconomy };

// Whether the service holds the `international_letters` permission.
enum class InternationalLetters { kNotAllowed, kAllowed };

struct PostalAddress {
  // The lines to print, in order: whitespace normalised, a UK postcode formatted
  // "<outward> <inward>", a BFPO line as "BFPO <n>", a country as its canonical name.
  std::vector<std::string> lines;
  PostageZone zone = PostageZone::kUnitedKingdom;
  std::optional<std::string> postcode;     // formatted, for UK addresses that end with one
  std::optional<std::string> bfpo_number;  // digits, no leading zeros, for BFPO addresses
  std::optional<std::string> country;      // canonical name, for international addresses
};

// Reads address_line_1..6 plus postcode (or address_line_1..7 when an `address_line_7` key is
// present) from `personalisation` (keys matched exactly, as Notify reads its JSON), drops empty
// lines and checks Notify's rules in Notify's order. Errors are kInvalidArgument with
// Refusal::kInvalidLetter and Notify's exact message.
Result<PostalAddress> validate_postal_address(const Personalisation& personalisation,
                                              InternationalLetters international);

// The same checks on lines already split out (e.g. a precompiled letter's address block).
Result<PostalAddress> validate_postal_address_lines(const std::vector<std::string>& raw_lines,
                                                    InternationalLetters international);

// A UK postcode in any spacing and case, e.g. "sw1a1aa" -> "SW1A 1AA"; nullopt when it is not a
// real UK postcode (Notify's postcode areas, then the unit pattern).
std::optional<std::string> format_uk_postcode(std::string_view text);

// The canonical name of the country or territory `name` stands for ("Deutschland" ->
// "Germany", "Jersey" -> "United Kingdom"); nullopt when Notify knows no such country.
std::optional<std::string_view> find_country(std::string_view name);

// The postage zone of a canonical country name.
PostageZone postage_zone_of_country(std::string_view canonical_name);

// "first", "second" or "economy" -> UkPostage; otherwise kInvalidArgument
// (Refusal::kInvalidLetter) "postage invalid. It must be either first, second or economy.".
Result<UkPostage> parse_uk_postage(std::string_view text);

// The postage a letter is sent with, as Notify stores it: the service's choice for a UK address
// ("first", "second", "economy"), "europe" or "rest-of-world" for an international one.
std::string_view letter_postage(const PostalAddress& address, UkPostage uk_postage);

}  // namespace herald::domain
