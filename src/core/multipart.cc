#include "core/multipart.h"

#include <algorithm>
#include <cctype>

namespace herald::multipart {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The parameters after a header's first value: `; key=value` or `; key="quoted"` pairs.
std::vector<std::pair<std::string, std::string>> parameters(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(trim(value.substr(i, eq - i)));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    std::size_t j = eq + 1;
    std::string v;
    if (j < value.size() && value[j] == '"') {
      for (++j; j < value.size() && value[j] != '"'; ++j) {
        // A backslash escape (RFC 2616 quoted-pair); browsers percent-encode instead.
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        v += value[j];
      }
      i = value.find(';', j);
    } else {
      const std::size_t end = value.find(';', j);
      v = std::string(trim(value.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(v));
  }
  return out;
}

// What the HTML standard's form encoding escapes in names and file names.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string_view code = s.substr(i + 1, 2);
      if (code == "22") {
        out += '"';
        i += 2;
        continue;
      }
      if (iequals(code, "0a")) {
        out += '\n';
        i += 2;
        continue;
      }
      if (iequals(code, "0d")) {
        out += '\r';
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::optional<std::string> boundary_of(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
  for (auto& [key, value] : parameters(content_type)) {
    if (key != "boundary") continue;
    if (value.empty() || value.size() > 70) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

Result<std::vector<Part>> parse(std::string_view body, std::string_view boundary, std::size_t max_parts) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next = "\r\n" + delimiter;
  // The first delimiter opens the body or ends a preamble.
  std::size_t at = 0;
  if (!body.starts_with(delimiter)) {
    at = body.find(next);
    if (at == std::string_view::npos) return invalid_argument("the form's body does not start with its boundary");
    at += 2;
  }
  at += delimiter.size();
  std::vector<Part> parts;
  for (;;) {
    if (body.substr(at).starts_with("--")) return parts;  // the final delimiter
    if (!body.substr(at).starts_with("\r\n")) return invalid_argument("a boundary is not followed by a line break");
    at += 2;
    if (parts.size() == max_parts) return invalid_argument("the form has too many parts");
    const std::size_t headers_end = body.find("\r\n\r\n", at);
    const std::size_t blank = body.substr(at).starts_with("\r\n") ? at : std::string_view::npos;
    if (headers_end == std::string_view::npos && blank == std::string_view::npos) {
      return invalid_argument("a part's headers do not end");
    }
    // A part with no headers at all starts its content at once after the blank line.
    const std::size_t content_start = blank != std::string_view::npos ? at + 2 : headers_end + 4;
    const std::string_view headers =
        blank != std::string_view::npos ? std::string_view() : body.substr(at, headers_end - at);
    Part part;
    bool form_data = false;
    std::size_t line_start = 0;
    while (line_start < headers.size()) {
      std::size_t line_end = headers.find("\r\n", line_start);
      if (line_end == std::string_view::npos) line_end = headers.size();
      const std::string_view line = headers.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return invalid_argument("a part's header has no colon");
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-disposition")) {
        if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) {
          return invalid_argument("a part is not form-data");
        }
        form_data = true;
        for (auto& [key, v] : parameters(value)) {
          if (key == "name") part.name = unescape(v);
          if (key == "filename") part.filename = unescape(v);
        }
      } else if (iequals(name, "content-type")) {
        part.content_type = std::string(value);
      }
    }
    if (!form_data || part.name.empty()) return invalid_argument("a part has no form-data name");
    const std::size_t end = body.find(next, content_start);
    if (end == std::string_view::npos) return invalid_argument("the form's final boundary is missing");
    part.data = std::string(body.substr(content_start, end - content_start));
    parts.push_back(std::move(part));
    at = end + next.size();
  }
}

}  // namespace herald::multipart
