#pragma once
// Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded) codecs. Decoders reject anything
// outside the alphabet and are bounded by their input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);
// Accepts unpadded input (and tolerates trailing '=' padding, as PyJWT does).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace herald
