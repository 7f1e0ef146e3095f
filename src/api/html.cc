#include "api/html.h"

namespace herald::api {

net::Response public_page(int status, std::string_view title, const std::string& body_html) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex, nofollow\"><title>";
  html += html_escape(title);
  html +=
      "</title><style>body{font-family:arial,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;"
      "line-height:1.5}.error{color:#d4351c;font-weight:bold}label{display:block;font-weight:bold}"
      "input[type=email]{font-size:1em;padding:.3em;width:100%;max-width:25em}</style></head><body><main>";
  html += body_html;
  html += "</main></body></html>\n";
  return net::Response{status, "text/html; charset=utf-8", std::move(html), public_page_headers()};
}

net::Headers public_page_headers() {
  return {{"Cache-Control", "no-store"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-Frame-Options", "DENY"},
          {"Content-Security-Policy",
           "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"}};
}

}  // namespace herald::api
