#include "crypto/signing.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>

#include "core/hex.h"
#include "crypto/hmac.h"
#include "crypto/random.h"

namespace herald::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct P8InfFree {
  void operator()(PKCS8_PRIV_KEY_INFO* p8) const { PKCS8_PRIV_KEY_INFO_free(p8); }
};
struct X509SigFree {
  void operator()(X509_SIG* sig) const { X509_SIG_free(sig); }
};
struct AlgorFree {
  void operator()(X509_ALGOR* algor) const { X509_ALGOR_free(algor); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

// scrypt's cost for key files: N = 2^14, r = 8, p = 1 (16 MiB, well inside OpenSSL's 32 MiB
// default limit when the file is read back).
constexpr std::uint64_t kScryptN = 1U << 14;
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

Bio read_bio(std::string_view text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

// Whether `pem` holds a block with this label (RFC 7468's "-----BEGIN <label>-----" line).
bool has_pem_label(std::string_view pem, std::string_view label) {
  return pem.find("-----BEGIN " + std::string(label) + "-----") != std::string_view::npos;
}

// OpenSSL's passphrase callback: the passphrase is handed over in `userdata`.
int passphrase_callback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* passphrase = static_cast<const std::string_view*>(userdata);
  if (passphrase->size() > static_cast<std::size_t>(size)) return -1;
  std::copy(passphrase->begin(), passphrase->end(), buf);
  return static_cast<int>(passphrase->size());
}

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

class SeedSigner final : public Ed25519Signer {
 public:
  SeedSigner(SecretBytes seed, std::string public_key, std::string description)
      : seed_(std::move(seed)), public_key_(std::move(public_key)), description_(std::move(description)) {}
  const std::string& public_key() const override { return public_key_; }
  Result<std::string> sign(std::string_view message) override { return ed25519_sign(seed_, message); }
  std::string description() const override { return description_; }

 private:
  SecretBytes seed_;
  std::string public_key_;
  std::string description_;
};

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

Result<std::string> ed25519_private_key_pem(const SecretBytes& seed, std::string_view passphrase) {
  if (passphrase.size() < kMinimumKeyPassphraseBytes) {
    return invalid_argument("a key passphrase must be at least " + std::to_string(kMinimumKeyPassphraseBytes) +
                            " characters");
  }
  auto key = private_key(seed);
  if (!key) return key.error();
  const std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8InfFree> info(EVP_PKEY2PKCS8(key->get()));
  const std::unique_ptr<X509_ALGOR, AlgorFree> algorithm(
      PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, kScryptN, kScryptR, kScryptP));
  if (!info || !algorithm) {
    clear_openssl_errors();
    return internal_error("Ed25519 key encryption setup failed");
  }
  // PKCS8_set0_pbe takes the algorithm only when it succeeds.
  X509_ALGOR* owned = X509_ALGOR_dup(algorithm.get());
  const std::unique_ptr<X509_SIG, X509SigFree> encrypted(
      PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), info.get(), owned));
  if (!encrypted) X509_ALGOR_free(owned);
  const Bio out(BIO_new(BIO_s_mem()));
  if (!encrypted || !out || PEM_write_bio_PKCS8(out.get(), encrypted.get()) != 1) {
    clear_openssl_errors();
    return internal_error("Ed25519 key encryption failed");
  }
  return bio_text(out.get());
}

Result<SecretBytes> ed25519_seed_from_pem(std::string_view pem, std::string_view passphrase) {
  if (!has_pem_label(pem, "ENCRYPTED PRIVATE KEY")) {
    return invalid_argument(has_pem_label(pem, "PRIVATE KEY")
                                ? "the private key is not encrypted: protect it with a passphrase "
                                  "(openssl pkey -in KEY -aes-256-cbc) or keep it on a PKCS#11 token"
                                : "not an encrypted PKCS#8 PEM private key");
  }
  const Bio in = read_bio(pem);
  std::string_view phrase = passphrase;
  const Pkey key(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, passphrase_callback, &phrase) : nullptr);
  if (!key) {
    clear_openssl_errors();
    return Error{ErrorCode::kUnauthenticated,
                 "the private key could not be decrypted: wrong passphrase or damaged file"};
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return invalid_argument("the private key is not an Ed25519 key");
  SecretBytes seed(kEd25519SeedBytes);
  std::size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()), &len) != 1 ||
      len != kEd25519SeedBytes) {
    clear_openssl_errors();
    return internal_error("the Ed25519 private key could not be read");
  }
  return seed;
}

Result<std::string> ed25519_public_key_pem(std::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeyBytes) return invalid_argument("Ed25519 public key must be 32 bytes");
  const Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(public_key), public_key.size()));
  const Bio out(BIO_new(BIO_s_mem()));
  if (!key || !out || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) {
    clear_openssl_errors();
    return internal_error("Ed25519 public key encoding failed");
  }
  return bio_text(out.get());
}

Result<std::string> ed25519_public_key_from_pem(std::string_view pem) {
  const Bio in = read_bio(pem);
  const Pkey key(in ? PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    clear_openssl_errors();
    return invalid_argument("not a PEM public key");
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return invalid_argument("the public key is not an Ed25519 key");
  std::string out(kEd25519PublicKeyBytes, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), bytes(out), &len) != 1 || len != kEd25519PublicKeyBytes) {
    clear_openssl_errors();
    return invalid_argument("the Ed25519 public key could not be read");
  }
  return out;
}

std::string ed25519_key_id(std::string_view public_key) { return "sha256:" + hex_encode(sha256(public_key)); }

Result<std::unique_ptr<Ed25519Signer>> seed_signer(SecretBytes seed, std::string description) {
  auto public_key = ed25519_public_key(seed);
  if (!public_key) return public_key.error();
  return std::unique_ptr<Ed25519Signer>(
      std::make_unique<SeedSigner>(std::move(seed), std::move(*public_key), std::move(description)));
}

}  // namespace herald::crypto
