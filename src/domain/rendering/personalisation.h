#pragma once
// Personalisation: the values a sender supplies for a template's ((placeholders)), already
// converted from the API's JSON into the text GOV.UK Notify would substitute (numbers and
// booleans as Python's str() prints them). Plain data; no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::domain {

struct PersonalisationValue {
  enum class Kind { kNull, kText, kList };
  Kind kind = Kind::kNull;
  std::string text;                               // kText
  std::vector<std::optional<std::string>> items;  // kList; nullopt is a JSON null item
};

struct Personalisation {
  // In request order. Keys are as the sender wrote them.
  std::vector<std::pair<std::string, PersonalisationValue>> entries;

  // The value whose key matches `placeholder_name` once both are normalised (case, ' ', '_'
  // and '-' ignored); the last matching entry wins, as a Python dict would keep it. nullptr
  // when absent.
  const PersonalisationValue* find(std::string_view placeholder_name) const;
};

// Normalises a placeholder name or personalisation key for matching: ASCII lower case with
// spaces, underscores and hyphens removed.
std::string normalise_placeholder_key(std::string_view name);

}  // namespace herald::domain
