#include "crypto/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <cstring>
#include <mutex>

namespace herald::crypto {
namespace {

// Randomness for values that are public once used (nonces, ids) is drawn from OpenSSL's DRBG
// in 4 KiB blocks per thread: one RAND_bytes call costs about as much for 4 KiB as for 16
// bytes (its per-call locking and fork check dominate), and the accept path needs several
// such values per notification. Secrets never come from this buffer (see random_bytes).
struct PublicRandomBuffer {
  std::array<unsigned char, 4096> bytes{};
  std::size_t used = bytes.size();
};
thread_local PublicRandomBuffer t_buffer;

// A forked child must not reuse its parent's buffered bytes.
void discard_buffer_in_child() { t_buffer.used = t_buffer.bytes.size(); }

void fill_public(unsigned char* out, std::size_t n) {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, discard_buffer_in_child); });
  while (n > 0) {
    if (t_buffer.used == t_buffer.bytes.size()) {
      HERALD_CHECK(RAND_bytes(t_buffer.bytes.data(), static_cast<int>(t_buffer.bytes.size())) == 1,
                   "RAND_bytes failed");
      t_buffer.used = 0;
    }
    const std::size_t take = std::min(n, t_buffer.bytes.size() - t_buffer.used);
    std::memcpy(out, t_buffer.bytes.data() + t_buffer.used, take);
    t_buffer.used += take;
    out += take;
    n -= take;
  }
}

}  // namespace

Result<std::string> random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return unavailable("random source failed");
  }
  return out;
}

void public_random(unsigned char* out, std::size_t n) { fill_public(out, n); }

Uuid random_uuid() {
  Uuid u;
  HERALD_CHECK(RAND_bytes(u.bytes.data(), static_cast<int>(u.bytes.size())) == 1,
               "RAND_bytes failed");
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

Uuid time_ordered_uuid(Timestamp now) {
  Uuid u;
  fill_public(u.bytes.data(), u.bytes.size());
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) u.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x70);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

}  // namespace herald::crypto
