#pragma once
// HTML text escaping, for every page Herald writes: the pages it serves (api/) and the reports
// it prints (security/compliance_report).

#include <string>
#include <string_view>

namespace herald {

// `text` safe inside an element or a quoted attribute value (& < > " ' escaped).
std::string html_escape(std::string_view text);

}  // namespace herald
