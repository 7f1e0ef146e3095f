#include "core/url.h"

#include <cctype>

#include "core/utf8.h"

namespace herald {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Invalid UTF-8 sequences become U+FFFD (one per bad byte, enough for echoing in errors).
std::string valid_utf8(const std::string& bytes) {
  std::vector<std::uint32_t> points;
  if (decode_utf8(bytes, points)) return bytes;
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    points.clear();
    if (n != 0 && i + n <= bytes.size() && decode_utf8(std::string_view(bytes).substr(i, n), points)) {
      out.append(bytes, i, n);
      i += n;
    } else {
      append_utf8(out, 0xFFFD);
      ++i;
    }
  }
  return out;
}

std::string decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return valid_utf8(out);
}

}  // namespace

FormFields parse_form(std::string_view text) {
  FormFields out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(start, end - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out.emplace_back(decode_component(pair.substr(0, eq)),
                       eq == std::string_view::npos ? std::string() : decode_component(pair.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::string encode_form(const FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(k);
    out += '=';
    out += percent_encode(v);
  }
  return out;
}

}  // namespace herald
