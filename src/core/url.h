#pragma once
// application/x-www-form-urlencoded and URL query strings, as werkzeug and the requests library
// read and write them. Pure; linear in the input.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Decoded (key, value) pairs in order: '+' is a space, %XX a byte (a malformed escape stays as
// written); invalid UTF-8 becomes U+FFFD. Pairs without '=' have an empty value.
FormFields parse_form(std::string_view text);
// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ ("key=value&..." form).
std::string encode_form(const FormFields& fields);
std::string percent_encode(std::string_view text);

}  // namespace herald
