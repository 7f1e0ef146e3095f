#pragma once
// Email address validation exactly as GOV.UK Notify does it (notifications-utils
// recipient_validation/email_address.py). Pure and thread-safe;
// runs in time linear in the input.

#include <string>
#include <string_view>

#include "core/result.h"

namespace herald::domain {

// Strips surrounding whitespace and deletes the invisible characters notifications-utils deletes
// (zero-width spaces and joiners, word joiner, BOM, line/paragraph separators, no-break spaces),
// then applies the §8.1 rules, IDNA-encoding the hostname (IDNA 2003 ToASCII with punycode).
// Returns the cleaned address as submitted (case kept; callers lower-case for storage), or
// kInvalidArgument "Not a valid email address". Malformed UTF-8 is an invalid address.
Result<std::string> validate_email_address(std::string_view input);

// The form the blind index (a keyed HMAC of the recipient) is computed over, so that lookups
// and the guest-list check match however the address was capitalised: a validated address,
// lower-cased (as GOV.UK Notify compares addresses).
std::string normalise_email_for_index(std::string_view validated);

}  // namespace herald::domain
