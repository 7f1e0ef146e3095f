#pragma once
// Ed25519 signatures (RFC 8032, pure Ed25519 without pre-hashing) over OpenSSL 3.
//
// A private key is its 32-byte seed, held as SecretBytes; public keys and signatures are raw
// bytes (32 and 64). Used to sign audit chain checkpoints (docs/formats/audit.md). All functions
// are thread-safe and keep no state; the seed is copied into an OpenSSL key only for the
// duration of one call, and OpenSSL wipes that copy when the key is freed.

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/secret.h"

namespace herald::crypto {

inline constexpr std::size_t kEd25519SeedBytes = 32;
inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;

// A new private key: 32 bytes straight from the DRBG. kUnavailable if randomness fails.
Result<SecretBytes> generate_ed25519_seed();

// The 32-byte public key of `seed`. kInvalidArgument if the seed is not 32 bytes.
Result<std::string> ed25519_public_key(const SecretBytes& seed);

// The 64-byte signature of `message` under `seed` (deterministic, as RFC 8032 specifies).
// kInvalidArgument if the seed is not 32 bytes; kInternal if OpenSSL fails.
Result<std::string> ed25519_sign(const SecretBytes& seed, std::string_view message);

// True only when `signature` is a valid signature of `message` under `public_key`. Any malformed
// input (wrong sizes, a public key that is not a curve point) is simply "not valid".
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

// Ed25519 keys in files: release signing keys (docs/formats/release.md). A private key file is
// PKCS#8 PEM encrypted under a passphrase ("ENCRYPTED PRIVATE KEY": PBES2 with scrypt and
// AES-256-CBC), a form OpenSSL's own tools read (`openssl pkey -in FILE`); a public key is
// SubjectPublicKeyInfo PEM ("PUBLIC KEY"). An unencrypted private key file is refused: a signing key
// at rest is either passphrase-protected or on a PKCS#11 token.
inline constexpr std::size_t kMinimumKeyPassphraseBytes = 12;
// kInvalidArgument for a seed that is not 32 bytes or a passphrase shorter than the minimum.
Result<std::string> ed25519_private_key_pem(const SecretBytes& seed, std::string_view passphrase);
// kUnauthenticated for a wrong passphrase; kInvalidArgument for anything that is not an encrypted
// Ed25519 private key (an unencrypted one included).
Result<SecretBytes> ed25519_seed_from_pem(std::string_view pem, std::string_view passphrase);
Result<std::string> ed25519_public_key_pem(std::string_view public_key);
// The raw 32-byte key of a "PUBLIC KEY" PEM; kInvalidArgument when it is not an Ed25519 key.
Result<std::string> ed25519_public_key_from_pem(std::string_view pem);
// "sha256:<hex>" of the raw public key: how signatures name their key (DSSE keyid).
std::string ed25519_key_id(std::string_view public_key);

// Something that signs with one Ed25519 key: a seed in memory (from a key file) or a key on a
// PKCS#11 token (crypto/pkcs11_kek.h). sign() may be called from one thread at a time.
class Ed25519Signer {
 public:
  virtual ~Ed25519Signer() = default;
  virtual const std::string& public_key() const = 0;  // raw, 32 bytes
  virtual Result<std::string> sign(std::string_view message) = 0;
  // Where the key lives, for messages ("key file /etc/herald/release.key", "PKCS#11 token ...").
  virtual std::string description() const = 0;
};

// A signer over a seed held in memory (wiped when the signer goes).
Result<std::unique_ptr<Ed25519Signer>> seed_signer(SecretBytes seed, std::string description);

}  // namespace herald::crypto
