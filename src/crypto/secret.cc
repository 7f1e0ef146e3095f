#include "crypto/secret.h"

#include <openssl/crypto.h>

#include "core/check.h"

#include <cstring>
#include <mutex>

namespace herald::crypto {
namespace {

char* allocate(std::size_t size) {
  if (size == 0) return nullptr;
  // CRYPTO_secure_zalloc falls back to the ordinary heap when no secure heap was set up, but
  // returns null when the secure heap is full: fall back then too (still wiped on release).
  void* p = CRYPTO_secure_zalloc(size, __FILE__, __LINE__);
  if (p == nullptr) p = OPENSSL_zalloc(size);
  HERALD_CHECK(p != nullptr, "out of memory for a secret");
  return static_cast<char*>(p);
}

}  // namespace

SecretBytes::SecretBytes(std::string_view bytes) : data_(allocate(bytes.size())), size_(bytes.size()) {
  if (size_ != 0) std::memcpy(data_, bytes.data(), size_);
}

SecretBytes::SecretBytes(std::size_t size) : data_(allocate(size)), size_(size) {}

void SecretBytes::release() noexcept {
  if (data_ == nullptr) return;
  if (CRYPTO_secure_allocated(data_) != 0) {
    CRYPTO_secure_clear_free(data_, size_, __FILE__, __LINE__);
  } else {
    OPENSSL_clear_free(data_, size_);
  }
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::in_secure_heap() const { return data_ != nullptr && CRYPTO_secure_allocated(data_) != 0; }

SecureMemory init_secure_memory(std::size_t bytes) {
  static std::once_flag once;
  static SecureMemory state = SecureMemory::kUnavailable;
  std::call_once(once, [bytes] {
    // Smallest allocation 32 bytes: one data key.
    const int rc = CRYPTO_secure_malloc_init(bytes, 32);
    state = rc == 1 ? SecureMemory::kLocked : rc == 2 ? SecureMemory::kUnlocked : SecureMemory::kUnavailable;
  });
  return state;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace herald::crypto

namespace herald::crypto {
void wipe_string(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}
std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION_STRING); }

}  // namespace herald::crypto
