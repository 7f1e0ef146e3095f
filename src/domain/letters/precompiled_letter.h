#pragma once
// Checks a precompiled letter (a PDF a service made itself, sent as `content`) the way
// GOV.UK Notify's template preview sanitises one (alphagov/notifications-template-preview
// app/precompiled.py): a PDF that parses, at most 5 MiB, 1 to 10 pages, every page A4 portrait,
// and the text in the address window read out so the caller can validate it as an address
// (postal_address.h validate_postal_address_lines).
//
// The PDF is untrusted: it is read with poppler from memory only, after the size check, and
// nothing beyond page 1's text is extracted. Thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::domain {

// The raw size limit GOV.UK Notify's clients enforce (5 MiB).
inline constexpr std::size_t kPrecompiledLetterMaxBytes = 5 * 1024 * 1024;

struct PrecompiledLetter {
  int page_count = 0;
  // Page 1's text inside the address window (24.6-120mm from the left, 39.5-66.3mm from the
  // top, plus Notify's 3mm margin), one entry per printed line, top to bottom. Empty when the
  // window holds no text.
  std::vector<std::string> address_lines;
};

// Errors are kInvalidArgument with Refusal::kInvalidLetter and a message naming the failed
// check (e.g. "letter-not-a4-portrait-oriented: pages 2"), following template preview's codes:
// "letter-too-big", "unable-to-read-the-file", "letter-is-encrypted", "letter-has-no-pages",
// "letter-too-long", "letter-not-a4-portrait-oriented".
Result<PrecompiledLetter> check_precompiled_letter(std::string_view pdf);

// The poppler this process reads precompiled letters with (`herald --version`).
std::string poppler_version();

}  // namespace herald::domain
