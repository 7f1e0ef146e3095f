#include "crypto/random.h"

#include <openssl/rand.h>

namespace herald::crypto {

Result<std::string> random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return unavailable("random source failed");
  }
  return out;
}

Uuid random_uuid() {
  Uuid u;
  HERALD_CHECK(RAND_bytes(u.bytes.data(), static_cast<int>(u.bytes.size())) == 1,
               "RAND_bytes failed");
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

}  // namespace herald::crypto
