// libFuzzer target: decoding and verifying an attacker's bearer token.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "crypto/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto decoded = herald::crypto::decode_jwt(token);
  if (decoded) {
    (void)herald::crypto::verify_hs256(*decoded, "0b1d6a1e-6d1a-4b7f-9a59-7a1d0c0f6a11",
                                       herald::Timestamp(std::chrono::seconds(1'800'000'000)),
                                       std::chrono::seconds(30));
  }
  return 0;
}
