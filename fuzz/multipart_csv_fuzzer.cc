// The readers of uploaded files: any bytes as a multipart/form-data body (its boundary from the
// first line) and as a CSV file must parse or fail cleanly, and every part must lie inside the body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/csv.h"
#include "core/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)herald::csv::parse(input);
  const std::size_t line = input.find('\n');
  if (line == std::string_view::npos) return 0;
  const std::string_view boundary = input.substr(0, line);
  if (boundary.empty() || boundary.size() > 70) return 0;
  const std::string_view body = input.substr(line + 1);
  auto parts = herald::multipart::parse(body, boundary, 20);
  if (parts) {
    std::size_t total = 0;
    for (const auto& part : *parts) total += part.data.size() + part.name.size();
    if (total > body.size()) __builtin_trap();
  }
  return 0;
}
