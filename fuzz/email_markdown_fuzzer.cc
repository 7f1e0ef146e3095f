// libFuzzer target: an attacker's email body (template text and personalisation values) through
// the Notify markdown renderers. Beyond memory safety it checks the security contract of
// domain/rendering/email_markdown.h: every '<' in the HTML opens an element the renderer makes itself,
// and every href is an http, https or mailto URL.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/rendering/email_markdown.h"

namespace {

bool starts_with_any(std::string_view text, const auto& prefixes) {
  for (const std::string_view prefix : prefixes) {
    if (text.starts_with(prefix)) return true;
  }
  return false;
}

void check_html(std::string_view html) {
  static constexpr std::array<std::string_view, 26> kElements = {"<p ",
                                                                 "</p>",
                                                                 "<a ",
                                                                 "</a>",
                                                                 "<br>",
                                                                 "<h2 ",
                                                                 "</h2>",
                                                                 "<h3 ",
                                                                 "</h3>",
                                                                 "<hr ",
                                                                 "<ul ",
                                                                 "</ul>",
                                                                 "<ol ",
                                                                 "</ol>",
                                                                 "<li ",
                                                                 "</li>",
                                                                 "<table role=\"presentation\"",
                                                                 "</table>",
                                                                 "<tr>",
                                                                 "</tr>",
                                                                 "<td ",
                                                                 "</td>",
                                                                 "<div ",
                                                                 "</div>",
                                                                 "<blockquote ",
                                                                 "</blockquote>"};
  static constexpr std::array<std::string_view, 3> kSchemes = {"http:", "https:", "mailto:"};
  for (std::size_t at = html.find('<'); at != std::string_view::npos; at = html.find('<', at + 1)) {
    if (!starts_with_any(html.substr(at), kElements)) std::abort();
  }
  // Each link's attributes, parsed one by one (name="value", values never hold a quote): the text
  // ` href="` may also end another attribute's value, as in title="see href=".
  for (std::size_t at = html.find("<a "); at != std::string_view::npos; at = html.find("<a ", at + 1)) {
    std::size_t pos = at + 3;
    while (pos < html.size() && html[pos] != '>') {
      while (pos < html.size() && html[pos] == ' ') ++pos;
      if (pos < html.size() && html[pos] == '>') break;
      const std::size_t eq = html.find("=\"", pos);
      if (eq == std::string_view::npos) std::abort();
      const std::string_view name = html.substr(pos, eq - pos);
      const std::size_t value = eq + 2;
      const std::size_t value_end = html.find('"', value);
      if (value_end == std::string_view::npos) std::abort();
      if (name == "href") {
        std::string lowered(html.substr(value, 8));
        for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (!starts_with_any(lowered, kSchemes)) std::abort();
      }
      pos = value_end + 1;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string html = herald::domain::email_markdown_to_html(body);
  check_html(html);
  const std::string plain = herald::domain::email_markdown_to_plain_text(body);
  if (plain.empty() || plain.back() != '\n') std::abort();
  (void)herald::domain::email_html_document(body, html);
  return 0;
}
