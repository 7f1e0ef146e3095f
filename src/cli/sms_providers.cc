#include "cli/sms_providers.h"

#include <array>

#include "delivery/sms/firetext/firetext.h"
#include "delivery/sms/mmg/mmg.h"

namespace herald::cli {
namespace {

// One line per provider folder under delivery/sms/.
const std::array<const delivery::sms::SmsProviderKind*, 2> kKinds = {
    &delivery::sms::firetext::kKind,
    &delivery::sms::mmg::kKind,
};

}  // namespace

std::span<const delivery::sms::SmsProviderKind* const> sms_provider_kinds() { return kKinds; }

const delivery::sms::SmsProviderKind* find_sms_provider_kind(std::string_view name) {
  for (const auto* kind : kKinds) {
    if (kind->name == name) return kind;
  }
  return nullptr;
}

}  // namespace herald::cli
