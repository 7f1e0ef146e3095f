// libFuzzer target: an attacker's address lines (split on NUL bytes into address_line_1.. and
// postcode) through letter address validation, with and without international letters. Besides
// never crashing, an accepted address must hold together: 3-7 non-empty lines, a postcode that
// formats to itself, a refusal that is a ValidationError.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "domain/recipients/postal_address.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace domain = herald::domain;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  domain::Personalisation personalisation;
  std::size_t start = 0;
  for (int line = 1; line <= 8 && start <= input.size(); ++line) {
    const std::size_t end = std::min(input.find('\0', start), input.size());
    domain::PersonalisationValue value;
    value.kind = domain::PersonalisationValue::Kind::kText;
    value.text = std::string(input.substr(start, end - start));
    const std::string key = line == 8 ? "postcode" : "address_line_" + std::to_string(line);
    personalisation.entries.emplace_back(line == 7 && size % 2 == 0 ? "postcode" : key,
                                         std::move(value));
    start = end + 1;
  }
  for (const auto international :
       {domain::InternationalLetters::kNotAllowed, domain::InternationalLetters::kAllowed}) {
    const auto address = domain::validate_postal_address(personalisation, international);
    if (!address) {
      HERALD_CHECK(address.error().refusal == herald::Refusal::kInvalidLetter, "refusals are ValidationErrors");
      continue;
    }
    HERALD_CHECK(address->lines.size() >= 3 && address->lines.size() <= 7, "3 to 7 lines");
    for (const auto& line : address->lines) HERALD_CHECK(!line.empty(), "no empty lines");
    if (address->postcode) {
      HERALD_CHECK(domain::format_uk_postcode(*address->postcode) == address->postcode,
                   "a formatted postcode formats to itself");
    }
    if (address->zone != domain::PostageZone::kUnitedKingdom) {
      HERALD_CHECK(international == domain::InternationalLetters::kAllowed,
                   "international addresses need the permission");
      HERALD_CHECK(address->country.has_value(), "international addresses name a country");
    }
    const auto again = domain::validate_postal_address_lines(address->lines, international);
    HERALD_CHECK(again.has_value(), "a normalised address validates again");
  }
  (void)domain::find_country(input);
  (void)domain::format_uk_postcode(input);
  return 0;
}
