// libFuzzer target: a client's JSON Web Key Set, which Herald reads from an operator's file or a
// client's JWKS URL and must not trust.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "crypto/jwk.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view document(reinterpret_cast<const char*>(data), size);
  auto jwks = herald::crypto::parse_jwks(document);
  if (!jwks) return 0;
  HERALD_CHECK(!jwks->keys.empty(), "a parsed JWKS has a key");
  (void)jwks->find("0b1d6a1e-6d1a-4b7f-9a59-7a1d0c0f6a11");
  for (const herald::crypto::Jwk& jwk : jwks->keys) {
    HERALD_CHECK(jwks->find(jwk.kid) == &jwk, "kids are distinct");
    // Whatever parses must write back to a key that parses to the same key.
    const std::string written = jwk.key.jwk_json(jwk.kid);
    auto again = herald::crypto::parse_jwks("{\"keys\":[" + written + "]}");
    HERALD_CHECK(again && again->keys.size() == 1 && again->keys[0].kid == jwk.kid &&
                     again->keys[0].key.bits() == jwk.key.bits() && again->keys[0].key.jwk_json(jwk.kid) == written,
                 "JWK does not round-trip");
    // Garbage of the key's own length reaches the RSA operation; any other length stops before it.
    const std::string signature(static_cast<std::size_t>((jwk.key.bits() + 7) / 8), '\x5a');
    (void)herald::crypto::verify_rs512(jwk.key, document.substr(0, 64), signature);
    (void)herald::crypto::verify_rs512(jwk.key, document.substr(0, 64), std::string(256, '\xa5'));
  }
  return 0;
}
