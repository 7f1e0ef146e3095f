#pragma once
// HTML text escaping for the pages Herald serves itself (file download pages, the admin UI).

#include <string>
#include <string_view>

namespace herald::api {

// `text` safe inside an element or a quoted attribute value (& < > " ' escaped).
std::string html_escape(std::string_view text);

}  // namespace herald::api
