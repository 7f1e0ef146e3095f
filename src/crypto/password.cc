#include "crypto/password.h"

#include <argon2.h>

#include <charconv>
#include <vector>

#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// Longer passwords are refused rather than hashed: argon2 would take them, but a megabyte
// password is a denial-of-service attempt, not a passphrase.
constexpr std::size_t kMostPasswordBytes = 1024;

// The m, t and p of a PHC string, or nullopt when it is not argon2id's.
std::optional<PasswordParameters> parameters_of(std::string_view encoded) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (!encoded.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = encoded.substr(kPrefix.size());
  PasswordParameters p;
  for (auto [name, field] :
       {std::pair{std::string_view("m="), &p.memory_kib}, std::pair{std::string_view("t="), &p.passes},
        std::pair{std::string_view("p="), &p.lanes}}) {
    if (!rest.starts_with(name)) return std::nullopt;
    rest.remove_prefix(name.size());
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), *field);
    if (ec != std::errc() || end == rest.data()) return std::nullopt;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (rest.empty()) return std::nullopt;
    rest.remove_prefix(1);  // ',' or '$'
  }
  return p;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const PasswordParameters& parameters) {
  if (password.size() > kMostPasswordBytes) return invalid_argument("password too long");
  auto salt = random_bytes(kSaltBytes);
  if (!salt) return salt.error();
  const std::size_t length =
      argon2_encodedlen(parameters.passes, parameters.memory_kib, parameters.lanes, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(length);
  const int rc =
      argon2id_hash_encoded(parameters.passes, parameters.memory_kib, parameters.lanes, password.data(),
                            password.size(), salt->data(), salt->size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return internal_error(std::string("argon2id: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

Result<bool> verify_password(std::string_view password, std::string_view encoded) {
  if (!parameters_of(encoded)) return invalid_argument("not an argon2id hash");
  if (password.size() > kMostPasswordBytes) return false;
  const std::string terminated(encoded);
  const int rc = argon2id_verify(terminated.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return invalid_argument(std::string("argon2id: ") + argon2_error_message(rc));
}

bool password_needs_rehash(std::string_view encoded, const PasswordParameters& parameters) {
  auto stored = parameters_of(encoded);
  return !stored || stored->memory_kib < parameters.memory_kib || stored->passes < parameters.passes ||
         stored->lanes < parameters.lanes;
}

}  // namespace herald::crypto
