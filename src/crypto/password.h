#pragma once
// Passwords of the admin web UI's users: argon2id (RFC 9106) through Debian's libargon2, stored
// as the PHC string ("$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>"), which names its own
// parameters so that they can be raised later without invalidating stored hashes.
//
// Parameters: OWASP's password-storage recommendation for argon2id (19 MiB, 2 passes, 1 lane),
// about 30-60 ms on one core here: dear for an attacker with the database, bearable for a sign-in.
// Each hash holds its memory while it runs; callers limit concurrent sign-ins.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace herald::crypto {

struct PasswordParameters {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t passes = 2;
  std::uint32_t lanes = 1;
};

// A new salted hash (16 random bytes of salt, 32 bytes of hash).
Result<std::string> hash_password(std::string_view password, const PasswordParameters& parameters = {});
// Whether `password` matches `encoded` (constant time in the hash comparison). kInvalidArgument
// when `encoded` is not an argon2id PHC string.
Result<bool> verify_password(std::string_view password, std::string_view encoded);
// Whether `encoded` was made with weaker parameters than `parameters` (rehash at the next sign-in).
bool password_needs_rehash(std::string_view encoded, const PasswordParameters& parameters = {});

}  // namespace herald::crypto
