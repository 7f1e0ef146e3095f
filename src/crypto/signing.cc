#include "crypto/signing.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/random.h"

namespace herald::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// OpenSSL leaves reasons on its thread-local error queue; drop them so that a later, unrelated
// OpenSSL call in this thread does not report a stale failure.
void clear_openssl_errors() { ERR_clear_error(); }

Result<Pkey> private_key(const SecretBytes& seed) {
  if (seed.size() != kEd25519SeedBytes) return invalid_argument("Ed25519 seed must be 32 bytes");
  Pkey key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(seed.view()), seed.size()));
  if (!key) {
    clear_openssl_errors();
    return internal_error("Ed25519 private key setup failed");
  }
  return key;
}

}  // namespace

Result<SecretBytes> generate_ed25519_seed() {
  auto random = random_bytes(kEd25519SeedBytes);
  if (!random) return unavailable("no randomness for an Ed25519 seed");
  SecretBytes seed{std::string_view(*random)};
  wipe_string(*random);
  return seed;
}

Result<std::string> ed25519_public_key(const SecretBytes& seed) {
  auto key = private_key(seed);
  if (!key) return key.error();
  std::string out(kEd25519PublicKeyBytes, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key->get(), bytes(out), &len) != 1 ||
      len != kEd25519PublicKeyBytes) {
    clear_openssl_errors();
    return internal_error("Ed25519 public key derivation failed");
  }
  return out;
}

Result<std::string> ed25519_sign(const SecretBytes& seed, std::string_view message) {
  auto key = private_key(seed);
  if (!key) return key.error();
  MdCtx ctx(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureBytes, '\0');
  std::size_t len = signature.size();
  // Ed25519 hashes internally: the digest argument must be NULL (RFC 8032 "pure" mode).
  const bool ok =
      ctx && EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) == 1 &&
      EVP_DigestSign(ctx.get(), bytes(signature), &len, bytes(message), message.size()) == 1 &&
      len == kEd25519SignatureBytes;
  if (!ok) {
    clear_openssl_errors();
    return internal_error("Ed25519 signing failed");
  }
  return signature;
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeyBytes || signature.size() != kEd25519SignatureBytes) {
    return false;
  }
  Pkey key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(public_key), public_key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  const bool ok = key && ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                                   message.size()) == 1;
  if (!ok) clear_openssl_errors();
  return ok;
}

}  // namespace herald::crypto
