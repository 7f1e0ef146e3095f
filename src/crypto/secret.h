#pragma once
// SecretBytes: key material or a credential. Wiped (OPENSSL_cleanse) when destroyed, never
// printable: there is deliberately no operator<< and no implicit conversion to a string.
// Move-only so that copies of a secret do not multiply silently.

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view bytes) : bytes_(bytes) {}
  explicit SecretBytes(std::size_t size) : bytes_(size, '\0') {}
  ~SecretBytes() { wipe(); }
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.wipe(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      other.wipe();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // Explicit copy, for the rare place a second owner is needed (e.g. a cache).
  SecretBytes clone() const { return SecretBytes(std::string_view(bytes_)); }

  std::string_view view() const { return bytes_; }
  char* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  void wipe() noexcept;
  std::string bytes_;
};

// Constant-time comparison of two byte strings (length may leak; content does not).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace herald::crypto

namespace herald::crypto {
// Wipes a std::string that held secret material (before it is destroyed or reused).
void wipe_string(std::string& s) noexcept;
}  // namespace herald::crypto
