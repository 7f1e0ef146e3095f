#include "net/http.h"

#include <array>
#include <charconv>

namespace herald::net {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Entity";
    case 425: return "Too Early";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

void append_clean(std::string& out, std::string_view text) {
  const std::size_t at = out.size();
  out.append(text);
  for (std::size_t i = at; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
  }
}

void append_number(std::string& out, std::size_t n) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), end);
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace herald::net

namespace herald::net {

bool status_has_body(int status) { return !((status >= 100 && status < 200) || status == 204 || status == 304); }

void serialize_response(const Response& response, unsigned minor_version, bool keep_alive, bool head,
                        std::string& out) {
  serialize_response_head(response, minor_version, keep_alive, out);
  if (!head && status_has_body(response.status)) out.append(response.body);
}

void serialize_response_head(const Response& response, unsigned minor_version, bool keep_alive, std::string& out) {
  // The fixed headers, then the response's own; a later one of the same name replaces an earlier.
  using Field = std::pair<std::string_view, std::string_view>;
  constexpr std::size_t kFixed = 4;
  std::array<Field, kFixed> fixed{{{"Content-Type", response.content_type},
                                   {"Strict-Transport-Security", "max-age=31536000"},
                                   {"X-Content-Type-Options", "nosniff"},
                                   {"Cache-Control", "no-store"}}};
  const auto replaced_later = [&](std::string_view name, std::size_t own_index) {
    for (std::size_t i = own_index; i < response.headers.size(); ++i) {
      if (iequals(response.headers[i].first, name)) return true;
    }
    return false;
  };
  const int status = response.status;
  out.append(minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status < 0 ? 0 : status));
  out.push_back(' ');
  out.append(reason(status));
  out.append("\r\n");
  const auto field = [&](std::string_view name, std::string_view value) {
    append_clean(out, name);
    out.append(": ");
    append_clean(out, value);
    out.append("\r\n");
  };
  for (const auto& [name, value] : fixed) {
    if (!replaced_later(name, 0)) field(name, value);
  }
  for (std::size_t i = 0; i < response.headers.size(); ++i) {
    const auto& [name, value] = response.headers[i];
    // The server says these itself, from what it sends.
    if (iequals(name, "Content-Length") || iequals(name, "Connection") || iequals(name, "Transfer-Encoding")) continue;
    if (!replaced_later(name, i + 1)) field(name, value);
  }
  if (minor_version == 0 && keep_alive) field("Connection", "keep-alive");
  if (minor_version != 0 && !keep_alive) field("Connection", "close");
  if (status_has_body(status)) {
    out.append("Content-Length: ");
    append_number(out, response.body.size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace herald::net
