#pragma once
// Cryptographically secure randomness from OpenSSL's DRBG. Thread-safe.

#include <string>

#include "core/result.h"
#include "core/uuid.h"

namespace herald::crypto {

Result<std::string> random_bytes(std::size_t n);
// A version 4 UUID. Aborts if the system's randomness source fails: ids cannot be made safely.
Uuid random_uuid();

}  // namespace herald::crypto
