#pragma once
// SMS body rendering, character downgrading and fragment counting as GOV.UK Notify does them
// (notifications-utils template.py BaseSMSTemplate/SMSMessageTemplate, sanitise_text.py
// SanitiseSMS, formatters.py; SMS_CHAR_COUNT_LIMIT, 918 characters). Pure and
// thread-safe. Templates, values and service names are untrusted: every pass is linear in its
// input and no regular expressions are used.
//
// Text is UTF-8. A byte that is not part of a well-formed UTF-8 sequence is read as U+FFFD,
// which is not an SMS character, so it comes out as '?'.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "domain/rendering/personalisation.h"

namespace herald::domain {

// UTILS SMS_CHAR_COUNT_LIMIT (153 × 6): the most characters a message may have, prefix excluded.
inline constexpr std::size_t kSmsCharacterLimit = 918;

// SanitiseSMS.encode: each character of `text` that is in GSM 03.38 (basic or extension table)
// or is one of the Welsh letters with a grave, acute, diaeresis or circumflex is kept.
// Otherwise, in this order:
//  - a character with a canonical (not compatibility) Unicode decomposition becomes the first
//    character of that decomposition when that one is kept ("ç" → "c", "Ã" → "A",
//    "≠" → "=", "Ω" (U+2126) → "Ω" (U+03A9)); otherwise it becomes '?';
//  - the fixed replacements: ‑ – — − → '-', … → "...", ‘ ’ ‚ → '\'', “ ” „ → '"', NBSP, narrow
//    NBSP and tab → ' ', Ł ł → L l, and U+180E, U+200B-U+200D, U+2060, U+FEFF, U+2028, U+2029
//    removed;
//  - anything else (emoji, CJK, Cyrillic, '`', control characters but CR, LF and ESC) → '?'.
// Only the first level of decomposition is used, as Python's unicodedata.decomposition gives
// it: "ǖ" → "ü" (kept), "ế" → "ê" (kept, Welsh). Where upstream raises ValueError (a
// decomposition starting above U+FFFF, e.g. U+FA6C) the character becomes '?'.
std::string downgrade_sms_characters(std::string_view text);

// How the message goes over the air. UCS-2 only when the unsanitised text has a Welsh letter
// that GSM 03.38 lacks (e.g. "ŵ", "â", "ÿ"); everything else is downgraded to GSM first.
enum class SmsEncoding { kGsm7, kUcs2 };

// BaseSMSTemplate.fragment_count. GSM: n = content_count + extension_characters (each of
// ^ { } \ [ ~ ] | € takes two septets); 1 fragment if n <= 160, else ceil(n / 153).
// UCS-2: n = content_count; 1 fragment if n <= 70, else ceil(n / 67). 0 characters is 1
// fragment, as upstream counts it.
std::size_t sms_fragment_count(SmsEncoding encoding, std::size_t content_count, std::size_t extension_characters);

struct RenderedSms {
  // The sanitised text. Without a prefix this is the API's content.body and the notification's
  // body; with one it is the text handed to the provider.
  std::string body;
  SmsEncoding encoding = SmsEncoding::kGsm7;
  // UTF-16 code units of `body` (BaseSMSTemplate.content_count), prefix included when given.
  std::size_t content_count = 0;
  // content_count less the sanitised, unstripped prefix and the 2 characters of ": ", never
  // below 0 (content_count_without_prefix). Equal to content_count without a prefix.
  std::size_t content_count_without_prefix = 0;
  // GSM extension characters in the unsanitised text, prefix included.
  std::size_t extension_characters = 0;
  // sms_fragment_count of the above: Notify bills the message it sends, so when the service
  // prefixes its texts the prefix is counted (send_to_providers.py sets billable_units from
  // the prefixed template). This is cost_details.billable_sms_fragments.
  std::size_t fragment_count = 1;
};

// Renders an SMS template body (SMSMessageTemplate.__str__). Pipeline: placeholders
// substituted (lists inline as "a, b and c", conditionals, values as they are) → when `prefix`
// is not empty, "{prefix stripped}: " put in front → spaces and tabs before ',' and '.'
// removed → each line (Python str.splitlines) has whitespace runs collapsed to one space,
// NBSP made a space, zero-width characters removed, and is trimmed → lines joined with "\n"
// → 3 or more newlines become 2 → Python str.strip() → Notify's internal marker sequence
// U+1F1EC U+1F1E7 U+1F426 U+2709 U+FE0F removed, as upstream does → downgrade_sms_characters.
//
// `prefix` is the service name when the service prefixes its texts with it, else empty: pass
// it only for the provider's text, never for content.body.
//
// Fails with kInvalidArgument:
//  - "Missing personalisation: a, b" when a placeholder's value is absent or null;
//  - "Your message is empty." when content_count_without_prefix is 0 (BaseSMSTemplate
//    .is_message_empty; unlike email this holds for any template that renders to nothing).
// The length limit is a separate check (check_sms_length), as the API makes it later.
Result<RenderedSms> render_sms(std::string_view template_body, const Personalisation& personalisation,
                               std::string_view prefix = {});

// BaseSMSTemplate.is_message_too_long: content_count_without_prefix > kSmsCharacterLimit.
bool is_sms_too_long(const RenderedSms& sms);

// Fails with kInvalidArgument "Your message is too long. Text messages cannot be longer than
// 918 characters. Your message is {n} characters long." where n is content_count_without_prefix
// (API validators.py check_is_message_too_long).
Result<void> check_sms_length(const RenderedSms& sms);

}  // namespace herald::domain
