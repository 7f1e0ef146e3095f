#include "domain/recipients/phone_number.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "core/utf8.h"

namespace herald::domain {
namespace {

namespace pn = i18n::phonenumbers;
using Util = pn::PhoneNumberUtil;

constexpr int kUkCountryCode = 44;
// OFCOM's numbers for drama, as national numbers of +44 (07700 900000 to 07700 900999).
constexpr std::uint64_t kFirstTvNumber = 7'700'900'000;
constexpr std::uint64_t kLastTvNumber = 7'700'900'999;

// Notify's international_billing_rates.yml: prefix, rate_multiplier, and whether `alpha` is 'NO'
// (alphanumeric senders are replaced). Sorted by prefix as strings, for binary search.
struct BillingRate {
  std::string_view prefix;
  int rate_multiplier;
  bool numeric_sender_required;
};
constexpr BillingRate kBillingRates[] = {
    {"1", 1, true},     {"1242", 3, true},  {"1246", 7, true},  {"1264", 6, false}, {"1268", 5, false},
    {"1284", 5, false}, {"1345", 6, false}, {"1441", 7, false}, {"1473", 6, false}, {"1649", 6, false},
    {"1664", 6, true},  {"1684", 2, true},  {"1721", 2, false}, {"1758", 7, false}, {"1767", 7, false},
    {"1784", 7, false}, {"1809", 3, true},  {"1829", 3, true},  {"1849", 3, true},  {"1868", 7, false},
    {"1869", 6, false}, {"1876", 7, false}, {"20", 7, false},   {"211", 8, false},  {"212", 6, false},
    {"213", 6, false},  {"216", 9, false},  {"218", 9, true},   {"220", 4, false},  {"221", 7, false},
    {"222", 6, false},  {"223", 7, false},  {"224", 6, false},  {"225", 10, false}, {"226", 4, false},
    {"227", 8, false},  {"228", 7, false},  {"229", 7, false},  {"230", 4, false},  {"231", 6, false},
    {"232", 5, false},  {"233", 8, false},  {"234", 8, false},  {"235", 6, false},  {"236", 7, false},
    {"237", 5, false},  {"238", 5, false},  {"239", 1, false},  {"240", 6, false},  {"241", 8, false},
    {"242", 7, false},  {"243", 5, false},  {"244", 3, false},  {"245", 8, false},  {"246", 2, false},
    {"248", 4, false},  {"249", 8, false},  {"250", 8, false},  {"251", 9, false},  {"252", 5, false},
    {"253", 4, false},  {"254", 3, false},  {"255", 7, false},  {"256", 7, false},  {"257", 8, false},
    {"258", 4, false},  {"260", 8, false},  {"261", 12, false}, {"262", 3, false},  {"263", 5, false},
    {"264", 1, false},  {"265", 8, false},  {"266", 3, false},  {"267", 3, false},  {"268", 7, false},
    {"269", 7, false},  {"27", 3, true},    {"291", 3, false},  {"297", 3, false},  {"298", 2, false},
    {"299", 1, false},  {"30", 2, false},   {"31", 3, false},   {"32", 3, true},    {"33", 2, false},
    {"34", 2, false},   {"350", 2, true},   {"351", 2, false},  {"352", 2, false},  {"353", 2, false},
    {"354", 2, false},  {"355", 3, false},  {"356", 2, false},  {"357", 2, false},  {"358", 2, false},
    {"359", 4, true},   {"36", 2, true},    {"370", 2, false},  {"371", 2, false},  {"372", 2, false},
    {"373", 2, true},   {"374", 5, false},  {"375", 6, false},  {"376", 3, false},  {"377", 4, true},
    {"378", 8, false},  {"380", 5, false},  {"381", 7, false},  {"382", 4, false},  {"383", 5, false},
    {"385", 2, false},  {"386", 4, false},  {"387", 3, false},  {"389", 1, false},  {"39", 2, false},
    {"40", 2, false},   {"41", 2, false},   {"420", 2, false},  {"421", 2, false},  {"423", 1, false},
    {"43", 2, false},   {"44", 2, false},   {"45", 2, false},   {"46", 2, false},   {"47", 2, false},
    {"48", 1, false},   {"49", 5, false},   {"500", 3, false},  {"501", 5, false},  {"502", 5, true},
    {"503", 2, false},  {"504", 5, false},  {"505", 4, false},  {"506", 1, false},  {"507", 4, true},
    {"508", 4, false},  {"509", 8, false},  {"51", 5, true},    {"52", 3, true},    {"53", 2, true},
    {"54", 3, true},    {"55", 2, true},    {"56", 2, true},    {"57", 2, true},    {"58", 2, true},
    {"590", 4, true},   {"591", 4, false},  {"592", 6, false},  {"593", 4, true},   {"594", 4, false},
    {"595", 3, false},  {"596", 4, false},  {"597", 6, false},  {"598", 2, true},   {"599", 7, false},
    {"60", 7, true},    {"61", 2, false},   {"62", 12, false},  {"63", 5, false},   {"64", 2, true},
    {"65", 2, false},   {"66", 1, false},   {"670", 5, false},  {"672", 2, false},  {"673", 2, false},
    {"674", 6, false},  {"675", 6, false},  {"676", 4, false},  {"677", 2, false},  {"678", 4, false},
    {"679", 5, false},  {"680", 2, false},  {"681", 2, false},  {"682", 4, false},  {"683", 8, false},
    {"685", 5, false},  {"686", 1, false},  {"687", 3, false},  {"689", 3, false},  {"690", 8, false},
    {"691", 2, false},  {"692", 2, false},  {"7", 10, false},   {"81", 2, true},    {"82", 1, true},
    {"84", 4, false},   {"852", 2, false},  {"853", 1, false},  {"855", 8, true},   {"856", 8, true},
    {"86", 1, true},    {"880", 9, false},  {"886", 2, true},   {"90", 1, false},   {"91", 2, false},
    {"92", 12, false},  {"93", 10, false},  {"94", 12, false},  {"95", 9, false},   {"960", 6, false},
    {"961", 9, true},   {"962", 8, false},  {"963", 9, true},   {"964", 9, false},  {"965", 7, false},
    {"966", 5, false},  {"967", 6, false},  {"968", 4, false},  {"970", 9, false},  {"971", 3, false},
    {"972", 6, false},  {"973", 3, false},  {"974", 6, false},  {"975", 10, false}, {"976", 7, true},
    {"977", 8, true},   {"98", 6, true},    {"992", 10, false}, {"993", 7, false},  {"994", 9, false},
    {"995", 4, false},  {"996", 8, false},  {"998", 12, false},
};

const BillingRate* find_billing_rate(std::string_view prefix) {
  const auto* end = std::end(kBillingRates);
  const auto* found =
      std::lower_bound(std::begin(kBillingRates), end, prefix,
                       [](const BillingRate& rate, std::string_view wanted) { return rate.prefix < wanted; });
  return (found != end && found->prefix == prefix) ? found : nullptr;
}

// libphonenumber behind the process-wide lock. Holding a Library::Access is the only way to reach
// the PhoneNumberUtil, so every call is made under the lock. The singleton is created, and given
// a silent logger, on first use.
class Library {
 public:
  class Access {
   public:
    Access() : lock_(mutex()), util_(util()) {}
    const Util& operator*() const { return util_; }
    const Util* operator->() const { return &util_; }

   private:
    std::unique_lock<std::mutex> lock_;
    const Util& util_;
  };

 private:
  static std::mutex& mutex() {
    static std::mutex instance;
    return instance;
  }
  static const Util& util() {
    static const Util* instance = [] {
      Util* created = Util::GetInstance();
      created->SetLogger(new pn::NullLogger());  // takes ownership; never writes anything
      return created;
    }();
    return *instance;
  }
};

// Parses `text` as libphonenumber would, but never hands it more than its input limit.
bool parse_with_region(const Util& util, const std::string& text, const char* region, pn::PhoneNumber& number) {
  if (text.size() > kMaxLibphonenumberInput) return false;
  return util.Parse(text, region, &number) == Util::NO_PARSING_ERROR;
}

// notifications-utils' ALL_WHITESPACE: Python's string.whitespace, the zero-width characters,
// line and paragraph separators, and the no-break spaces.
constexpr std::uint32_t kAllowedWhitespace[] = {' ',    '\t',   '\n',   '\r',   '\v',   '\f',   0x180E, 0x200B,
                                                0x200C, 0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029, 0x00A0, 0x202F};

bool is_allowed_whitespace(std::uint32_t cp) {
  return std::find(std::begin(kAllowedWhitespace), std::end(kAllowedWhitespace), cp) != std::end(kAllowedWhitespace);
}

bool is_allowed_character(std::uint32_t cp) {
  return (cp >= '0' && cp <= '9') || cp == '(' || cp == ')' || cp == '-' || cp == '+' || is_allowed_whitespace(cp);
}

bool has_only_allowed_characters(std::string_view text) {
  std::vector<std::uint32_t> code_points;
  if (!decode_utf8(text, code_points)) return false;
  return std::all_of(code_points.begin(), code_points.end(), is_allowed_character);
}

// Notify's "thorough normalisation" for near-valid numbers ("0+447700900100", "+07700900100",
// "0+44(0)7700900100"): drop every '+', then leading '0's, then make the rest printable ASCII as
// notifications-utils' SanitiseASCII does for the characters that can matter here. A character
// it would turn into a letter or '?' becomes '?', which fails the character check all the same.
std::string thoroughly_normalise(std::string_view input) {
  std::string without_plus;
  without_plus.reserve(input.size());
  for (char c : input) {
    if (c != '+') without_plus.push_back(c);
  }
  const auto first_kept = without_plus.find_first_not_of('0');
  const std::string_view rest =
      first_kept == std::string::npos ? std::string_view() : std::string_view(without_plus).substr(first_kept);
  std::vector<std::uint32_t> code_points;
  if (!decode_utf8(rest, code_points)) return "?";
  std::string out;
  out.reserve(rest.size());
  for (std::uint32_t cp : code_points) {
    if (cp >= 0x20 && cp <= 0x7E) {
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\t' || cp == 0x00A0 || cp == 0x202F) {
      out.push_back(' ');
    } else if (cp == 0x180E || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x2028 ||
               cp == 0x2029) {
      // zero width: removed
    } else if (cp == 0x2011 || cp == 0x2013 || cp == 0x2014 || cp == 0x2212) {
      out.push_back('-');  // non-breaking hyphen, en dash, em dash, minus sign
    } else {
      out.push_back('?');
    }
  }
  return out;
}

bool is_tv_number(const pn::PhoneNumber& number) {
  return number.country_code() == kUkCountryCode && number.national_number() >= kFirstTvNumber &&
         number.national_number() <= kLastTvNumber;
}

bool is_allowed_type(Util::PhoneNumberType type) {
  switch (type) {
    case Util::FIXED_LINE:
    case Util::MOBILE:
    case Util::FIXED_LINE_OR_MOBILE:  // could be either
    case Util::UAN:
    case Util::PERSONAL_NUMBER: return true;
    default:  // premium rate, freephone, shared cost, VoIP, pager, voicemail, unknown
      return false;
  }
}

bool is_landline_type(Util::PhoneNumberType type) {
  return type == Util::FIXED_LINE || type == Util::FIXED_LINE_OR_MOBILE || type == Util::UAN;
}

PhoneNumberError error_for_impossible(Util::ValidationResult reason) {
  switch (reason) {
    case Util::TOO_LONG: return PhoneNumberError::kTooLong;
    case Util::TOO_SHORT:
    case Util::IS_POSSIBLE_LOCAL_ONLY:  // no area code: as good as too short
      return PhoneNumberError::kTooShort;
    case Util::INVALID_COUNTRY_CODE: return PhoneNumberError::kUnsupportedCountryCode;
    default:  // INVALID_LENGTH
      return PhoneNumberError::kInvalidNumber;
  }
}

using Attempt = std::variant<pn::PhoneNumber, PhoneNumberError>;

// One pass of steps 1-5 (see parse_phone_number in the header) over `text`.
Attempt parse_once(const Util& util, std::string_view text) {
  if (!has_only_allowed_characters(text)) return PhoneNumberError::kUnknownCharacter;
  if (text.empty()) return PhoneNumberError::kTooShort;
  const std::string owned(text);
  pn::PhoneNumber number;
  if (!parse_with_region(util, owned, "GB", number)) return PhoneNumberError::kInvalidNumber;
  const Util::ValidationResult reason = util.IsPossibleNumberWithReason(number);
  if (reason != Util::IS_POSSIBLE) {
    // Spreadsheets drop a leading '+' or "00": see whether it makes sense as international.
    pn::PhoneNumber forced;
    if (parse_with_region(util, "+" + owned, "ZZ", forced) && util.IsPossibleNumber(forced)) {
      number = forced;
    } else {
      return error_for_impossible(reason);
    }
  }
  // "Possible" only checks the length; "valid" checks the digits against the numbering plan.
  if (!(util.IsValidNumber(number) && is_allowed_type(util.GetNumberType(number))) && !is_tv_number(number)) {
    return PhoneNumberError::kInvalidNumber;
  }
  return number;
}

PhoneNumber describe(const Util& util, const pn::PhoneNumber& number) {
  PhoneNumber out;
  util.Format(number, Util::E164, &out.normalised);
  if (!out.normalised.empty() && out.normalised.front() == '+') out.normalised.erase(0, 1);
  out.country_code = number.country_code();
  out.country_prefix = std::to_string(out.country_code);
  // North American numbers: some area codes are countries with their own rate ("1664").
  if (out.country_code == 1 && out.normalised.size() >= 4 &&
      find_billing_rate(std::string_view(out.normalised).substr(0, 4)) != nullptr) {
    out.country_prefix = out.normalised.substr(0, 4);
  }
  std::string region;
  util.GetRegionCodeForNumber(number, &region);
  out.is_tv_number = is_tv_number(number);
  out.is_uk = out.country_code == kUkCountryCode;
  // libphonenumber knows nothing valid about TV numbers; they are plain UK numbers to Notify.
  out.is_crown_dependency = !out.is_tv_number && out.is_uk && region != "GB";
  out.is_international = !out.is_tv_number && region != "GB";
  out.is_uk_landline = out.is_uk && is_landline_type(util.GetNumberType(number));
  return out;
}

Result<PhoneNumber> parse_locked(const Util& util, std::string_view input) {
  Attempt attempt = parse_once(util, input);
  if (const auto* number = std::get_if<pn::PhoneNumber>(&attempt)) return describe(util, *number);
  attempt = parse_once(util, thoroughly_normalise(input));
  if (const auto* number = std::get_if<pn::PhoneNumber>(&attempt)) return describe(util, *number);
  return to_error(std::get<PhoneNumberError>(attempt));
}

struct ErrorText {
  PhoneNumberError code;
  std::string_view name;
  std::string_view legacy_message;
};
constexpr ErrorText kErrorTexts[] = {
    {PhoneNumberError::kInvalidNumber, "INVALID_NUMBER",
     "Number is not valid \u2013 double check the phone number you entered"},
    {PhoneNumberError::kTooLong, "TOO_LONG", "Too many digits"},
    {PhoneNumberError::kTooShort, "TOO_SHORT", "Not enough digits"},
    {PhoneNumberError::kNotAUkMobile, "NOT_A_UK_MOBILE", "Not a UK mobile number"},
    {PhoneNumberError::kUnknownCharacter, "UNKNOWN_CHARACTER", "Must not contain letters or symbols"},
    {PhoneNumberError::kUnsupportedCountryCode, "UNSUPPORTED_COUNTRY_CODE", "Not a valid country prefix"},
};

const ErrorText& error_text(PhoneNumberError code) {
  for (const ErrorText& text : kErrorTexts) {
    if (text.code == code) return text;
  }
  HERALD_CHECK(false, "unknown PhoneNumberError");
  return kErrorTexts[0];
}

}  // namespace

std::string_view phone_number_error_name(PhoneNumberError code) { return error_text(code).name; }

std::string_view legacy_v2_api_message(PhoneNumberError code) { return error_text(code).legacy_message; }

Error to_error(PhoneNumberError code) { return invalid_argument(std::string(legacy_v2_api_message(code))); }

std::optional<PhoneNumberError> phone_number_error_of(const Error& error) {
  if (error.code != ErrorCode::kInvalidArgument) return std::nullopt;
  for (const ErrorText& text : kErrorTexts) {
    if (text.legacy_message == error.message) return text.code;
  }
  return std::nullopt;
}

Result<PhoneNumber> parse_phone_number(std::string_view input) {
  try {
    const Library::Access util;
    return parse_locked(*util, input);
  } catch (const std::exception&) {
    // libphonenumber and protobuf throw nothing of their own; this is allocation failure.
    return internal_error("phone number parsing failed");
  }
}

Result<void> check_sms_permissions(const PhoneNumber& number, const SmsPermissions& permissions) {
  if (!permissions.international_sms && !number.is_uk) {
    return to_error(PhoneNumberError::kNotAUkMobile);
  }
  if (!permissions.sms_to_uk_landlines && number.is_uk_landline) {
    return to_error(PhoneNumberError::kNotAUkMobile);
  }
  if (find_billing_rate(std::to_string(number.country_code)) == nullptr) {
    return to_error(PhoneNumberError::kUnsupportedCountryCode);
  }
  return ok();
}

Result<PhoneNumber> validate_sms_recipient(std::string_view input, const SmsPermissions& permissions) {
  auto number = parse_phone_number(input);
  if (!number) return number;
  HERALD_TRY(check_sms_permissions(*number, permissions));
  return number;
}

bool refused_as_international(const PhoneNumber& number, const Error& error) {
  return !number.is_uk && phone_number_error_of(error) == PhoneNumberError::kNotAUkMobile;
}

Result<SmsBillingInfo> sms_billing_info(const PhoneNumber& number) {
  const BillingRate* rate = find_billing_rate(number.country_prefix);
  if (rate == nullptr) return to_error(PhoneNumberError::kUnsupportedCountryCode);
  SmsBillingInfo info;
  info.international = number.is_international;
  info.crown_dependency = number.is_crown_dependency;
  info.country_prefix = number.country_prefix;
  info.rate_multiplier = number.is_international ? rate->rate_multiplier : 1;
  info.numeric_sender_required = rate->numeric_sender_required;
  return info;
}

bool is_simulated_phone_number(const PhoneNumber& number) {
  return std::find(kSimulatedPhoneNumbers.begin(), kSimulatedPhoneNumbers.end(), number.normalised) !=
         kSimulatedPhoneNumbers.end();
}

bool is_simulated_phone_number(std::string_view input) {
  const auto number = parse_phone_number(input);
  return number && is_simulated_phone_number(*number);
}

}  // namespace herald::domain
