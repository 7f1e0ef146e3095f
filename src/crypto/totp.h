#pragma once
// One-time passwords for the admin web UI's second factor: HOTP (RFC 4226) and TOTP (RFC 6238)
// with HMAC-SHA1, 6 digits and 30-second steps (what every authenticator app reads from an
// otpauth:// QR code), and the base32 (RFC 4648) form in which the secret is shown.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace herald::crypto {

inline constexpr std::int64_t kTotpStepSeconds = 30;

// The `digits`-digit HOTP code of `key` for `counter`, zero-padded.
std::string hotp(std::string_view key, std::uint64_t counter, int digits = 6);
// The TOTP time step of `at` (seconds since the epoch / 30).
std::int64_t totp_step(Timestamp at);
// The TOTP code of `key` for a time step.
std::string totp(std::string_view key, std::int64_t step, int digits = 6);

// The time step within `window` steps of `at` (earliest first) whose code is `code`, or nullopt.
// The comparison does not stop at the first differing digit.
std::optional<std::int64_t> match_totp(std::string_view key, std::string_view code, Timestamp at, int window = 1);

// RFC 4648 base32 without padding, upper case; decoding ignores spaces and case, and refuses
// anything else.
std::string base32_encode(std::string_view bytes);
std::optional<std::string> base32_decode(std::string_view text);

// The otpauth:// URI an authenticator app reads: the label "<issuer>:<account>", the secret in
// base32, issuer, SHA1, 6 digits, 30 s.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view key);

}  // namespace herald::crypto
