#include "domain/rendering/personalisation.h"

namespace herald::domain {
namespace {

bool is_ignored_in_key(char c) { return c == ' ' || c == '_' || c == '-'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when `a` and `b` normalise to the same key; compares in place, without allocating.
bool same_key(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (true) {
    while (i < a.size() && is_ignored_in_key(a[i])) ++i;
    while (j < b.size() && is_ignored_in_key(b[j])) ++j;
    if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
    if (ascii_lower(a[i]) != ascii_lower(b[j])) return false;
    ++i;
    ++j;
  }
}

}  // namespace

std::string normalise_placeholder_key(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    if (!is_ignored_in_key(c)) out += ascii_lower(c);
  }
  return out;
}

const PersonalisationValue* Personalisation::find(std::string_view placeholder_name) const {
  // The last matching entry wins, so search from the back.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (same_key(it->first, placeholder_name)) return &it->second;
  }
  return nullptr;
}

}  // namespace herald::domain
