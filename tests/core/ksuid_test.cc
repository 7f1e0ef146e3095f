#include "core/ksuid.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(Ksuid, MatchesTheFormatsReferenceValue) {
  // KSUID's documented example: time 107608047 (seconds after its epoch), payload B5A1CD34...
  const std::array<unsigned char, 16> payload{0xB5, 0xA1, 0xCD, 0x34, 0xB5, 0xF9, 0x9D, 0x11,
                                              0x54, 0xFB, 0x68, 0x53, 0x34, 0x5C, 0x97, 0x35};
  const Timestamp at = from_micros((1'400'000'000LL + 107'608'047LL) * 1'000'000);
  EXPECT_EQ(make_ksuid(at, payload), "0ujtsYcgvSTl8PAuAdqWYSMnLOv");
}

TEST(Ksuid, SortsByTimeAndIsRecognised) {
  const std::array<unsigned char, 16> high{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const std::array<unsigned char, 16> low{};
  const Timestamp t = from_micros(1'800'000'000'000'000);
  const std::string earlier = make_ksuid(t, high);
  const std::string later = make_ksuid(t + std::chrono::seconds(1), low);
  EXPECT_LT(earlier, later);
  EXPECT_TRUE(is_ksuid(earlier));
  EXPECT_TRUE(is_ksuid("2WL3qFTEFM0qMY8xjRbt1LIKCzM"));
  EXPECT_TRUE(is_ksuid("aWgEPTl1tmebfsQzFP4bxwgy80V")) << "the largest";
  EXPECT_FALSE(is_ksuid("aWgEPTl1tmebfsQzFP4bxwgy80W")) << "past 160 bits";
  EXPECT_FALSE(is_ksuid("does-not-exist"));
  EXPECT_FALSE(is_ksuid("2WL3qFTEFM0qMY8xjRbt1LIKCz"));
  EXPECT_FALSE(is_ksuid("2WL3qFTEFM0qMY8xjRbt1LIKCz_"));
}

}  // namespace
}  // namespace herald
