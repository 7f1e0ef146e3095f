#pragma once
// Every SMS provider Herald can send through, by name ([sms] providers = [...]).

#include <span>
#include <string_view>

#include "delivery/sms_provider.h"

namespace herald::cli {

std::span<const delivery::sms::SmsProviderKind* const> sms_provider_kinds();

// nullptr for a name no provider has.
const delivery::sms::SmsProviderKind* find_sms_provider_kind(std::string_view name);

}  // namespace herald::cli
