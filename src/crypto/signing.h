#pragma once
// Ed25519 signatures (RFC 8032, pure Ed25519 without pre-hashing) over OpenSSL 3.
//
// A private key is its 32-byte seed, held as SecretBytes; public keys and signatures are raw
// bytes (32 and 64). Used to sign audit chain checkpoints (docs/formats/audit.md). All functions
// are thread-safe and keep no state; the seed is copied into an OpenSSL key only for the
// duration of one call, and OpenSSL wipes that copy when the key is freed.

#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/secret.h"

namespace herald::crypto {

inline constexpr std::size_t kEd25519SeedBytes = 32;
inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;

// A new private key: 32 bytes straight from the DRBG. kUnavailable if randomness fails.
Result<SecretBytes> generate_ed25519_seed();

// The 32-byte public key of `seed`. kInvalidArgument if the seed is not 32 bytes.
Result<std::string> ed25519_public_key(const SecretBytes& seed);

// The 64-byte signature of `message` under `seed` (deterministic, as RFC 8032 specifies).
// kInvalidArgument if the seed is not 32 bytes; kInternal if OpenSSL fails.
Result<std::string> ed25519_sign(const SecretBytes& seed, std::string_view message);

// True only when `signature` is a valid signature of `message` under `public_key`. Any malformed
// input (wrong sizes, a public key that is not a curve point) is simply "not valid".
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

}  // namespace herald::crypto
