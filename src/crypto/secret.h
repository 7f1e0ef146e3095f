#pragma once
// SecretBytes: key material or a credential. Wiped (OPENSSL_cleanse) when destroyed, never
// printable: there is deliberately no operator<< and no implicit conversion to a string.
// Move-only so that copies of a secret do not multiply silently.
//
// The bytes live in OpenSSL's secure heap once init_secure_memory() has run (every `herald`
// command does it first): pages locked in RAM with mlock, so keys are never swapped to disk,
// and excluded from core dumps (MADV_DONTDUMP). Without it, or when the secure heap is full,
// they fall back to the ordinary heap (still wiped when freed).

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view bytes);
  explicit SecretBytes(std::size_t size);  // zero-filled
  ~SecretBytes() { release(); }
  SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      release();
      data_ = other.data_;
      size_ = other.size_;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // Explicit copy, for the rare place a second owner is needed (e.g. a cache).
  SecretBytes clone() const { return SecretBytes(view()); }

  std::string_view view() const { return {data_ == nullptr ? "" : data_, size_}; }
  char* data() { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Whether these bytes sit in the locked secure heap (for tests and `keys status`).
  bool in_secure_heap() const;

 private:
  void release() noexcept;
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Sets up OpenSSL's secure heap (`bytes`, a power of two) for SecretBytes. Returns how it went:
// kLocked (mlock succeeded), kUnlocked (heap made but mlock refused, e.g. RLIMIT_MEMLOCK), or
// kUnavailable. Idempotent; call once at start-up, before any secret is loaded.
enum class SecureMemory { kLocked, kUnlocked, kUnavailable };
SecureMemory init_secure_memory(std::size_t bytes = std::size_t{1} << 20);

// Constant-time comparison of two byte strings (length may leak; content does not).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace herald::crypto

namespace herald::crypto {
// Wipes a std::string that held secret material (before it is destroyed or reused).
void wipe_string(std::string& s) noexcept;
// The OpenSSL library this process runs with (`herald --version`), e.g. "3.0.17".
std::string openssl_version();

}  // namespace herald::crypto
