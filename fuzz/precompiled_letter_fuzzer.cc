// libFuzzer target: an attacker's precompiled letter PDF through the checks Herald makes before
// accepting it. Besides never crashing (poppler runs inside the sanitised process), an accepted
// letter has 1-10 pages and a bounded address read-out, and a refusal is a ValidationError.
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "domain/letters/precompiled_letter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace domain = herald::domain;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto letter = domain::check_precompiled_letter(input);
  if (!letter) {
    HERALD_CHECK(letter.error().refusal == herald::Refusal::kInvalidLetter, "refusals are ValidationErrors");
    return 0;
  }
  HERALD_CHECK(letter->page_count >= 1 && letter->page_count <= 10, "1 to 10 pages");
  HERALD_CHECK(letter->address_lines.size() <= 20, "a bounded address read-out");
  return 0;
}
