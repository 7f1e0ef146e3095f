#pragma once
// Lowercase hexadecimal. The decoder accepts lowercase only, so that each byte string has exactly
// one text form (the audit checkpoint format relies on it).

#include <optional>
#include <string>
#include <string_view>

namespace herald {

std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view text);

}  // namespace herald
