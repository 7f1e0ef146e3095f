#pragma once
// Builders for domain::PersonalisationValue in tests.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/rendering/personalisation.h"

namespace herald::fakes {

inline domain::PersonalisationValue text(std::string value) {
  domain::PersonalisationValue out;
  out.kind = domain::PersonalisationValue::Kind::kText;
  out.text = std::move(value);
  return out;
}

inline domain::PersonalisationValue list(std::vector<std::optional<std::string>> items) {
  domain::PersonalisationValue out;
  out.kind = domain::PersonalisationValue::Kind::kList;
  out.items = std::move(items);
  return out;
}

inline domain::PersonalisationValue null_value() { return domain::PersonalisationValue{}; }

}  // namespace herald::fakes
