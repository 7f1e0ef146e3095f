#pragma once
// HMAC-SHA256 and SHA-256. Thread-safe, no state.

#include <string>
#include <string_view>

namespace herald::crypto {

// 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);
std::string sha256(std::string_view message);

}  // namespace herald::crypto
