#pragma once
// Email address validation as GOV.UK Notify does it (api/govuk-notify-v2.md §8.1). Pure.

#include <string>
#include <string_view>

#include "core/result.h"

namespace herald::domain {

// Returns the address with surrounding (and obscure) whitespace removed, or kInvalidArgument
// "Not a valid email address".
Result<std::string> validate_email_address(std::string_view input);

}  // namespace herald::domain
