#pragma once
// Text passes GOV.UK's email and SMS renderers share, for any character type (std::string for
// email, std::u32string for SMS). Pure; linear.

#include <string>
#include <string_view>

namespace herald::domain {

// notifications-utils' (?<![ \t])[ \t]+([,\.]) -> \1: spaces and tabs before a comma or full stop go.
template <typename Char>
std::basic_string<Char> remove_whitespace_before_punctuation(std::basic_string_view<Char> text) {
  std::basic_string<Char> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != ' ' && text[i] != '\t') {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
    if (end == text.size() || (text[end] != ',' && text[end] != '.')) out.append(text.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace herald::domain
