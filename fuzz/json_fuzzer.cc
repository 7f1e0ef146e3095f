// libFuzzer target: the JSON parser on untrusted bytes must never crash, read out of bounds or
// accept a document its own writer cannot round-trip.
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = herald::json::parse(text);
  if (parsed) {
    const std::string again = herald::json::serialize(*parsed);
    auto reparsed = herald::json::parse(again);
    HERALD_CHECK(reparsed.has_value(), "serialised JSON must parse");
    HERALD_CHECK(herald::json::serialize(*reparsed) == again, "JSON must round-trip");
  }
  return 0;
}
