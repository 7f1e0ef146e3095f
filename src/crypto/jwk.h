#pragma once
// RSA keys for "signed JWT" client authentication, RS512 only: a client's JSON Web Key Set
// (RFC 7517; RSA members as RFC 7518 §6.3 defines them) and RSASSA-PKCS1-v1_5 SHA-512
// signatures (RFC 7518 §3.3), over OpenSSL 3.
//
// A JWKS is untrusted input (an operator's file, a client's JWKS URL): parse_jwks is bounded and
// strict (fuzz/jwks_fuzzer.cc), and its errors name what is wrong, never the content. Generating
// keys and signing are for tests, the CLI and the end-to-end client.
//
// Keys are immutable and share their OpenSSL key when copied; one key may verify in several
// threads at once. They have no empty state: moving one copies it.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace herald::crypto {

inline constexpr std::size_t kMaxJwksBytes = 64 * 1024;
inline constexpr std::size_t kMaxJwksKeys = 32;  // entries of "keys", usable or not
inline constexpr std::size_t kMaxJwkKidBytes = 256;
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

struct RsaKeyAccess;  // jwk.cc's access to the OpenSSL key

// An RSA public key usable for RS512 verification: modulus of kMinRsaBits..kMaxRsaBits bits,
// odd public exponent of 3..2^32-1.
class RsaPublicKey {
 public:
  RsaPublicKey(const RsaPublicKey&) = default;
  RsaPublicKey& operator=(const RsaPublicKey&) = default;

  int bits() const;  // of the modulus
  // {"kty":"RSA","kid":<kid>,"use":"sig","alg":"RS512","n":...,"e":...}, compact, n and e
  // minimal (no leading zero bytes) and unpadded.
  std::string jwk_json(std::string_view kid) const;

 private:
  friend struct RsaKeyAccess;
  struct State;
  explicit RsaPublicKey(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

struct Jwk {
  std::string kid;
  RsaPublicKey key;
};

struct Jwks {
  std::vector<Jwk> keys;                        // in document order, kids distinct
  const Jwk* find(std::string_view kid) const;  // nullptr when absent
};

// Parses a JWKS document {"keys":[...]}. Keeps each key with "kty":"RSA" whose "use" (if
// present) is "sig", whose "alg" (if present) is "RS512" and whose "key_ops" (if present)
// include "verify"; skips other keys. A kept key needs a non-empty "kid" of at most
// kMaxJwkKidBytes and "n" and "e" in base64url without padding (leading zero bytes tolerated).
// kInvalidArgument when: the document exceeds kMaxJwksBytes, nesting depth 8 or kMaxJwksKeys
// entries; any key, kept or not, holds private key material ("d", "p", "q", "dp", "dq", "qi",
// "oth", or a symmetric "k"); any key is not an object, lacks a string "kty", has a non-string
// "kid", "use" or "alg", malformed "key_ops", or repeats a member this parser reads; a kept key
// fails the rules above or RsaPublicKey's bounds; two kept keys share a kid; no key is kept.
Result<Jwks> parse_jwks(std::string_view document);

// True only when `signature` is the RS512 signature of `signing_input` under `key`. Any failure
// (wrong length, mismatch, OpenSSL error) is simply "not valid".
bool verify_rs512(const RsaPublicKey& key, std::string_view signing_input, std::string_view signature);

// An RSA private key, for tests, the CLI and the end-to-end client.
class RsaPrivateKey {
 public:
  RsaPrivateKey(const RsaPrivateKey&) = default;
  RsaPrivateKey& operator=(const RsaPrivateKey&) = default;

  // kInvalidArgument unless kMinRsaBits <= bits <= kMaxRsaBits; exponent 65537.
  static Result<RsaPrivateKey> generate(int bits);
  // PKCS#8 ("PRIVATE KEY") or traditional ("RSA PRIVATE KEY") PEM, unencrypted, with
  // RsaPublicKey's bounds. kInvalidArgument otherwise; an encrypted key fails rather than prompt.
  static Result<RsaPrivateKey> from_pem(std::string_view pem);

  // Unencrypted PKCS#8 PEM: secret, wipe it after use. Empty only if OpenSSL fails (memory).
  std::string private_pem() const;
  const RsaPublicKey& public_key() const;
  std::string public_jwk_json(std::string_view kid) const { return public_key().jwk_json(kid); }

 private:
  friend struct RsaKeyAccess;
  struct State;
  explicit RsaPrivateKey(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// The raw RS512 signature (as many bytes as the modulus). Empty only if OpenSSL fails.
std::string sign_rs512(const RsaPrivateKey& key, std::string_view signing_input);
// A compact JWS "b64url(header).b64url(claims).b64url(signature)" of the given JSON texts, which
// are used as they are (the header should say "alg":"RS512").
std::string sign_jwt_rs512(const RsaPrivateKey& key, std::string_view header_json, std::string_view claims_json);

}  // namespace herald::crypto
