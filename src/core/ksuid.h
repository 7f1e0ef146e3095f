#pragma once
// KSUIDs ("K-Sortable Unique IDentifiers"), the form of NHS Notify's message and batch ids: 20
// bytes (a 32-bit count of seconds since 2014-05-13T16:53:20Z, then 128 random bits) written in
// base 62 (0-9, A-Z, a-z) as exactly 27 characters, so that ids sort by creation time.

#include <array>
#include <string>
#include <string_view>

#include "core/time.h"

namespace herald {

// The KSUID of `now` and these random bytes (the caller draws them: core has no RNG).
std::string make_ksuid(Timestamp now, const std::array<unsigned char, 16>& random);
// 27 characters of the base-62 alphabet whose value fits 160 bits.
bool is_ksuid(std::string_view text);

}  // namespace herald
