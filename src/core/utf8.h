#pragma once
// UTF-8 encoding and strict decoding of Unicode code points. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

void append_utf8(std::string& out, std::uint32_t code_point);
// Appends the code points of `text` to `out`; false (out partly filled) on malformed input:
// overlong forms, surrogates, values above U+10FFFF, truncated sequences.
bool decode_utf8(std::string_view text, std::vector<std::uint32_t>& out);

}  // namespace herald
