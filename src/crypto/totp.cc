#include "crypto/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>

#include "core/check.h"
#include "core/url.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

std::string hotp(std::string_view key, std::uint64_t counter, int digits) {
  HERALD_CHECK(digits >= 6 && digits <= 9, "HOTP codes have 6 to 9 digits");
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  const unsigned char* done =
      HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), mac.data(), &length);
  HERALD_CHECK(done != nullptr && length == 20, "HMAC-SHA1 failed");
  // Dynamic truncation (RFC 4226 5.3).
  const std::size_t offset = mac[19] & 0x0f;
  const std::uint32_t binary =
      (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
      (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::int64_t totp_step(Timestamp at) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  return seconds >= 0 ? seconds / kTotpStepSeconds : (seconds - kTotpStepSeconds + 1) / kTotpStepSeconds;
}

std::string totp(std::string_view key, std::int64_t step, int digits) {
  return hotp(key, static_cast<std::uint64_t>(step), digits);
}

std::optional<std::int64_t> match_totp(std::string_view key, std::string_view code, Timestamp at, int window) {
  if (code.size() != 6) return std::nullopt;
  const std::int64_t now = totp_step(at);
  std::optional<std::int64_t> matched;
  for (std::int64_t step = now - window; step <= now + window; ++step) {
    const std::string expected = totp(key, step);
    if (CRYPTO_memcmp(expected.data(), code.data(), expected.size()) == 0 && !matched) matched = step;
  }
  return matched;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char byte : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(byte);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ') continue;
    const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const auto value = kBase32.find(upper);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view key) {
  const std::string label = percent_encode(issuer) + ":" + percent_encode(account);
  return "otpauth://totp/" + label + "?secret=" + base32_encode(key) + "&issuer=" + percent_encode(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace herald::crypto
