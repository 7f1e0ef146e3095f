#pragma once
// GOV.UK Notify's country and postcode data, used by postal_address.cc. Generated once from
// alphagov/notifications-utils notifications_utils/countries/_data (commit a9af02a, 2026-08-20):
// every name Notify accepts for a country or territory, reduced with Notify's own name
// normalisation, mapped to its canonical name; Royal Mail's European zone; Notify's UK postcode
// areas; and the ASCII letter each accented Latin letter reduces to. Sorted for binary search.

#include <cstdint>
#include <span>
#include <string_view>

namespace herald::domain::country_data {

struct CountryKey {
  std::string_view normalised_name;
  std::uint16_t canonical_index;  // into canonical_country_names()
};

struct FoldedCharacter {
  std::uint32_t code_point;
  std::string_view ascii;
};

std::span<const std::string_view> canonical_country_names();     // sorted
std::span<const CountryKey> country_keys();                      // sorted by normalised_name
std::span<const std::string_view> european_postage_countries();  // sorted canonical names
std::span<const FoldedCharacter> ascii_folds();                  // sorted by code_point
std::span<const std::string_view> uk_postcode_areas();           // Notify's order

}  // namespace herald::domain::country_data
