#pragma once
// HTML text escaping, for every page Herald writes: the pages it serves (api/), the emails it
// renders (domain/rendering) and the reports it prints (security/compliance_report).

#include <string>
#include <string_view>

namespace herald {

// Appends `text` to `out`, safe inside an element or a quoted attribute value (& < > " ' escaped).
void append_html_escaped(std::string& out, std::string_view text);

// The same, as a new string.
std::string html_escape(std::string_view text);

}  // namespace herald
