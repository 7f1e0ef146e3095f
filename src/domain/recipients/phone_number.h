#pragma once
// SMS recipient phone numbers, checked as GOV.UK Notify checks them (the
// behaviour of notifications-utils recipient_validation/phone_number.py and errors.py), on top of
// Google's libphonenumber with GB as the default region.
//
// The v2 API checks a number in two stages:
//  * schema stage, parse_phone_number(): lenient. Any number libphonenumber finds possible and
//    valid, of an allowed type (mobile, landline, UAN, personal; never premium rate, freephone,
//    shared cost or VoIP), in any country. Failure -> 400 ValidationError "phone_number <message>".
//  * service stage, check_sms_permissions(): the service's international_sms and
//    sms_to_uk_landlines permissions and Notify's table of countries it can bill. Failure ->
//    400 BadRequestError "Cannot send to international mobile numbers" when
//    refused_as_international() says so, else 400 InvalidPhoneError "<message>".
//
// Errors are herald::Error with code kInvalidArgument and the v2 API's legacy message as
// `message`; phone_number_error_of() recovers which of the six codes it was. Messages never
// contain the number.
//
// Thread safety: every function may be called from any thread. Calls into libphonenumber are
// serialised under one process-wide mutex, and its logger is replaced by a silent one before the
// first call, so nothing is ever written to stdout or stderr. No exceptions escape.
// Untrusted input: any length is accepted; the character checks and the normalisation are linear,
// and libphonenumber is never handed more than kMaxLibphonenumberInput bytes (a longer string
// fails to parse, as libphonenumber's own limit would make it fail).

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/result.h"

namespace herald::domain {

// The codes of notifications-utils' InvalidPhoneError that the v2 API can produce.
enum class PhoneNumberError {
  kInvalidNumber,           // right length, wrong digits, refused type, or unparseable
  kTooLong,                 // more digits than the country allows
  kTooShort,                // empty, fewer digits than the country allows, or local-only
  kNotAUkMobile,            // refused by the service's permissions (international or landline)
  kUnknownCharacter,        // anything but digits, whitespace and ( ) + -
  kUnsupportedCountryCode,  // no such country code, or one Notify cannot bill
};

// "INVALID_NUMBER", "TOO_LONG", … as notifications-utils names the codes.
std::string_view phone_number_error_name(PhoneNumberError code);
// The v2 API's legacy message (errors.py LEGACY_V2_API_ERROR_MESSAGES), e.g. "Not enough digits";
// INVALID_NUMBER's message contains an en dash (U+2013, UTF-8 encoded).
std::string_view legacy_v2_api_message(PhoneNumberError code);
// kInvalidArgument carrying legacy_v2_api_message(code).
Error to_error(PhoneNumberError code);
// The code behind an Error made by to_error(); nullopt for any other Error.
std::optional<PhoneNumberError> phone_number_error_of(const Error& error);

// Libphonenumber's input limit (kMaxInputStringLength), in bytes.
inline constexpr std::size_t kMaxLibphonenumberInput = 250;

// A number that passed the schema stage. Plain data.
struct PhoneNumber {
  // E.164 without the '+', the form stored and handed to providers: "447700900123".
  std::string normalised;
  int country_code = 0;  // 44, 1, 33, …
  // The key of Notify's billing table: the country code, or for North American numbers whose
  // area code has its own rate the first four digits ("1664" for Montserrat).
  std::string country_prefix;
  // +44, crown dependencies (Jersey, Guernsey, Isle of Man) included: what the
  // international_sms permission looks at.
  bool is_uk = false;
  bool is_crown_dependency = false;
  // For billing: outside libphonenumber's region GB, so crown dependencies are international.
  // OFCOM TV numbers are not.
  bool is_international = false;
  // +44 fixed line, fixed-line-or-mobile or UAN: what sms_to_uk_landlines looks at.
  bool is_uk_landline = false;
  // An OFCOM drama number, 07700 900000 to 07700 900999, accepted though libphonenumber calls
  // it invalid.
  bool is_tv_number = false;
};

// Schema stage (§8.2 "Parsing"), in order:
//  1. only ASCII digits, whitespace (ASCII, zero-width, no-break) and ( ) + - are allowed, else
//     kUnknownCharacter; malformed UTF-8 counts as an unknown character;
//  2. empty -> kTooShort;
//  3. parse with default region GB; an unparseable string is kInvalidNumber;
//  4. not a possible number: retry as international ("+" prefixed); if that is not possible
//     either, libphonenumber's reason: too long -> kTooLong; too short or local only ->
//     kTooShort; invalid country code -> kUnsupportedCountryCode; else kInvalidNumber;
//  5. must be valid and of an allowed type, else kInvalidNumber, unless a TV number.
// If any step fails, steps 1-5 run once more over the "thoroughly normalised" input: every '+'
// removed, then leading '0's, then tabs and no-break spaces made spaces, zero-width characters
// removed, non-breaking hyphen, en and em dashes and minus signs made '-', and any other
// non-ASCII character made unknown; the error of that second run is the one returned.
Result<PhoneNumber> parse_phone_number(std::string_view input);

// The service's SMS permissions (service_permissions "international_sms", "sms_to_uk_landlines").
struct SmsPermissions {
  bool international_sms = false;
  bool sms_to_uk_landlines = false;
};

// Service stage (§8.2 "Permission checks"), in order: not +44 without international_sms ->
// kNotAUkMobile; a UK landline without sms_to_uk_landlines -> kNotAUkMobile; a country code not
// in Notify's billing table -> kUnsupportedCountryCode.
Result<void> check_sms_permissions(const PhoneNumber& number, const SmsPermissions& permissions);

// Both stages at once.
Result<PhoneNumber> validate_sms_recipient(std::string_view input, const SmsPermissions& permissions);

// True when `error` (from check_sms_permissions over `number`) must be answered with
// BadRequestError "Cannot send to international mobile numbers": NOT_A_UK_MOBILE for a number
// outside +44. Every other phone-number error is an InvalidPhoneError with its legacy message.
bool refused_as_international(const PhoneNumber& number, const Error& error);

// What an SMS to `number` costs relative to a UK one (international_billing_rates.yml).
struct SmsBillingInfo {
  bool international = false;     // as PhoneNumber::is_international
  bool crown_dependency = false;  // as PhoneNumber::is_crown_dependency
  std::string country_prefix;     // as PhoneNumber::country_prefix
  int rate_multiplier = 1;        // 1 for UK numbers; from the table otherwise
  // The country replaces alphanumeric senders, so a numeric sender must be used (alpha: 'NO').
  bool numeric_sender_required = false;
};

// kUnsupportedCountryCode (as to_error) when the number's prefix is not in the table.
Result<SmsBillingInfo> sms_billing_info(const PhoneNumber& number);

// Notify's smoke-test numbers (+447700900000, +447700900111, +447700900222), normalised.
inline constexpr std::array<std::string_view, 3> kSimulatedPhoneNumbers = {"447700900000", "447700900111",
                                                                           "447700900222"};

// Whether the number is one of kSimulatedPhoneNumbers, compared after normalisation.
bool is_simulated_phone_number(const PhoneNumber& number);
// The same for raw input ("07700 900111" is simulated); false when it does not parse.
bool is_simulated_phone_number(std::string_view input);

}  // namespace herald::domain
