#pragma once
// Cryptographically secure randomness from OpenSSL's DRBG. Thread-safe.

#include <string>

#include "core/result.h"
#include "core/time.h"
#include "core/uuid.h"

namespace herald::crypto {

// For secrets (keys): drawn straight from the DRBG, never buffered.
Result<std::string> random_bytes(std::size_t n);
// For values that are public once used (nonces, ids): drawn from a per-thread buffer refilled
// from the DRBG, which is much cheaper per call. Aborts if the randomness source fails.
void public_random(unsigned char* out, std::size_t n);
// A version 4 UUID straight from the DRBG (API key secrets are UUIDs too). Aborts if the
// system's randomness source fails: ids cannot be made safely.
Uuid random_uuid();
// A version 7 UUID (RFC 9562): 48-bit Unix milliseconds, then 74 random bits. Ids made in time
// order append to a B-tree index instead of landing on a random page of it, so inserting
// stays cheap however many rows the table holds. Public randomness: for ids only. They reveal their creation time, which
// Herald returns in the same responses anyway.
Uuid time_ordered_uuid(Timestamp now);

}  // namespace herald::crypto
