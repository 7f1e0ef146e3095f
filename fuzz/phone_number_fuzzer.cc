// libFuzzer target: an attacker's phone_number through both stages of SMS recipient validation
// and billing. Besides never crashing, what it returns must hold together: an accepted number is
// E.164 digits that parse again to themselves, and a refusal is one of Notify's six codes.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "domain/recipients/phone_number.h"

namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace domain = herald::domain;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto number = domain::parse_phone_number(input);
  if (!number) {
    HERALD_CHECK(domain::phone_number_error_of(number.error()).has_value(),
                 "a refused number carries a phone-number error code");
    HERALD_CHECK(!domain::is_simulated_phone_number(input), "refused numbers are not simulated");
    return 0;
  }
  HERALD_CHECK(all_digits(number->normalised), "the normalised form is digits only");
  HERALD_CHECK(number->normalised.size() <= 20, "a country code and at most 17 national digits");
  HERALD_CHECK(number->normalised.rfind(std::to_string(number->country_code), 0) == 0,
               "the normalised form starts with the country code");
  auto again = domain::parse_phone_number("+" + number->normalised);
  HERALD_CHECK(again.has_value(), "a normalised number parses again");
  HERALD_CHECK(again->normalised == number->normalised, "normalisation is idempotent");

  const domain::SmsPermissions everything{.international_sms = true, .sms_to_uk_landlines = true};
  const auto allowed = domain::check_sms_permissions(*number, everything);
  const auto billing = domain::sms_billing_info(*number);
  HERALD_CHECK(allowed.has_value() == billing.has_value(),
               "a number is allowed exactly when it can be billed");
  if (billing) HERALD_CHECK(billing->rate_multiplier >= 1, "rates are at least the UK rate");
  const auto mobiles_only = domain::check_sms_permissions(*number, {});
  if (!mobiles_only) {
    HERALD_CHECK(domain::phone_number_error_of(mobiles_only.error()).has_value(),
                 "a permission refusal carries a phone-number error code");
    (void)domain::refused_as_international(*number, mobiles_only.error());
  }
  (void)domain::is_simulated_phone_number(*number);
  return 0;
}
