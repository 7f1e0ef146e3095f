#include "core/uuid.h"

namespace herald {

std::string Uuid::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  char out[36];
  std::size_t at = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[at++] = '-';
    out[at++] = kHex[bytes[i] >> 4];
    out[at++] = kHex[bytes[i] & 0xF];
  }
  return std::string(out, sizeof out);
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}
}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  if (starts_with_nocase(text, "urn:")) text.remove_prefix(4);
  if (starts_with_nocase(text, "uuid:")) text.remove_prefix(5);
  while (!text.empty() && (text.front() == '{')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == '}')) text.remove_suffix(1);
  Uuid out;
  std::size_t nibbles = 0;
  for (char c : text) {
    if (c == '-') continue;
    int d = hex_digit(c);
    if (d < 0 || nibbles >= 32) return std::nullopt;
    auto& byte = out.bytes[nibbles / 2];
    byte = static_cast<std::uint8_t>(nibbles % 2 == 0 ? d << 4 : byte | d);
    ++nibbles;
  }
  if (nibbles != 32) return std::nullopt;
  return out;
}

}  // namespace herald
