#pragma once
// The pages Herald serves itself (file download pages, the unsubscribe pages); escaping is core's.

#include <string>
#include <string_view>

#include "core/html.h"
#include "net/http.h"

namespace herald::api {

using herald::html_escape;

// A page of the public listener for people, not programs (a file's download pages, the hosted
// unsubscribe pages): plain HTML with its own small stylesheet, nothing loaded from anywhere,
// not indexed, never cached, no Referer sent on, never framed. `body_html` goes in <main>.
net::Response public_page(int status, std::string_view title, const std::string& body_html);
// Its headers, for the other responses of those routes (a file).
net::Headers public_page_headers();

}  // namespace herald::api
