#include "domain/personalisation.h"

namespace herald::domain {

std::string normalise_placeholder_key(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    if (c == ' ' || c == '_' || c == '-') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

const PersonalisationValue* Personalisation::find(std::string_view placeholder_name) const {
  const std::string wanted = normalise_placeholder_key(placeholder_name);
  const PersonalisationValue* found = nullptr;
  for (const auto& [key, value] : entries) {
    if (normalise_placeholder_key(key) == wanted) found = &value;
  }
  return found;
}

}  // namespace herald::domain
