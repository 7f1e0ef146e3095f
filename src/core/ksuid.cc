#include "core/ksuid.h"

#include <algorithm>
#include <cstdint>

namespace herald {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::int64_t kEpochSeconds = 1'400'000'000;
constexpr std::size_t kLength = 27;
// The largest KSUID (2^160 - 1) in base 62.
constexpr std::string_view kMax = "aWgEPTl1tmebfsQzFP4bxwgy80V";

int digit_of(char c) {
  const auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string make_ksuid(Timestamp now, const std::array<unsigned char, 16>& random) {
  const std::int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - kEpochSeconds;
  const auto stamp = static_cast<std::uint32_t>(std::clamp<std::int64_t>(seconds, 0, 0xFFFF'FFFF));
  // Big-endian 160-bit number as five 32-bit words, divided by 62 until zero.
  std::array<std::uint32_t, 5> words{stamp, 0, 0, 0, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    words[i + 1] = static_cast<std::uint32_t>(random[4 * i]) << 24 |
                   static_cast<std::uint32_t>(random[4 * i + 1]) << 16 |
                   static_cast<std::uint32_t>(random[4 * i + 2]) << 8 | static_cast<std::uint32_t>(random[4 * i + 3]);
  }
  std::string out(kLength, '0');
  for (std::size_t pos = kLength; pos-- > 0;) {
    std::uint64_t remainder = 0;
    for (std::uint32_t& word : words) {
      const std::uint64_t value = remainder << 32 | word;
      word = static_cast<std::uint32_t>(value / 62);
      remainder = value % 62;
    }
    out[pos] = kAlphabet[remainder];
  }
  return out;
}

bool is_ksuid(std::string_view text) {
  if (text.size() != kLength) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return digit_of(c) >= 0; })) return false;
  // Same length, so comparing digit values in order compares the numbers.
  for (std::size_t i = 0; i < kLength; ++i) {
    const int a = digit_of(text[i]);
    const int b = digit_of(kMax[i]);
    if (a != b) return a < b;
  }
  return true;
}

}  // namespace herald
