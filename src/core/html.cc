#include "core/html.h"

#include <algorithm>

namespace herald {

void append_html_escaped(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t special = std::min(text.find_first_of("&<>\"'"), text.size());
    out.append(text.substr(0, special));
    if (special == text.size()) return;
    const char c = text[special];
    text.remove_prefix(special + 1);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += "&#39;"; break;  // '\''
    }
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

}  // namespace herald
