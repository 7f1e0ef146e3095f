#include "crypto/keyring_kek.h"

#include <charconv>

#include "crypto/aead.h"
#include "crypto/keyring.h"

namespace herald::crypto {
namespace {

constexpr std::string_view kPrefix = "file-";

std::string id_of(std::uint32_t number) { return std::string(kPrefix) + std::to_string(number); }

std::optional<std::uint32_t> number_of(std::string_view id) {
  if (id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  id.remove_prefix(kPrefix.size());
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc() || end != id.data() + id.size() || n == 0) return std::nullopt;
  return n;
}

}  // namespace

Result<std::vector<KekVersion>> KeyringKek::versions() {
  auto keyring = Keyring::load(path_);
  if (!keyring) return keyring.error();
  std::vector<KekVersion> out;
  for (const auto& [number, entry] : keyring->keks()) out.push_back({id_of(number), number, entry.created, false});
  if (!out.empty()) out.back().active = true;
  return out;
}

Result<WrappedKey> KeyringKek::wrap(const SecretBytes& key, std::string_view aad) {
  auto keyring = Keyring::load(path_);
  if (!keyring) return keyring.error();
  if (keyring->keks().empty()) return failed_precondition("keyring file " + path_ + " holds no key-encryption key");
  const auto& [number, entry] = *keyring->keks().rbegin();
  auto sealed = aes256gcm_seal(entry.key, aad, key.view());
  if (!sealed) return sealed.error();
  return WrappedKey{id_of(number), std::move(*sealed)};
}

Result<SecretBytes> KeyringKek::unwrap(const WrappedKey& wrapped, std::string_view aad) {
  const auto number = number_of(wrapped.kek_id);
  if (!number) return not_found("key-encryption key " + wrapped.kek_id + " is not in " + description());
  auto keyring = Keyring::load(path_);
  if (!keyring) return keyring.error();
  auto it = keyring->keks().find(*number);
  if (it == keyring->keks().end()) {
    return not_found("key-encryption key " + wrapped.kek_id + " is not in " + description() + " (retired?)");
  }
  return aes256gcm_open(it->second.key, aad, wrapped.bytes);
}

Result<KekVersion> KeyringKek::create_version(Timestamp now) {
  std::uint32_t number = 0;
  HERALD_TRY(Keyring::update(path_, [&](Keyring& keyring) -> Result<void> {
    auto added = keyring.add_kek(now);
    if (!added) return added.error();
    number = *added;
    return ok();
  }));
  return KekVersion{id_of(number), number, now, true};
}

Result<void> KeyringKek::destroy_version(std::string_view kek_id) {
  const auto number = number_of(kek_id);
  if (!number) return not_found("no key-encryption key " + std::string(kek_id) + " in " + description());
  return Keyring::update(path_, [&](Keyring& keyring) -> Result<void> {
    if (!keyring.keks().contains(*number)) return not_found("no key-encryption key " + std::string(kek_id) + " in " + description());
    if (keyring.keks().rbegin()->first == *number) {
      return failed_precondition(std::string(kek_id) + " is the active key-encryption key; rotate first");
    }
    keyring.remove_kek(*number);
    return ok();
  });
}

}  // namespace herald::crypto
