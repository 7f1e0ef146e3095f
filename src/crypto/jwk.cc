#include "crypto/jwk.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <climits>
#include <optional>

#include "core/base64.h"
#include "core/json.h"

namespace herald::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using Params = std::unique_ptr<OSSL_PARAM, ParamFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// OpenSSL leaves reasons on its thread-local error queue; drop them so that a later, unrelated
// OpenSSL call in this thread does not report a stale failure.
void clear_openssl_errors() { ERR_clear_error(); }

// Exponents past 32 bits buy nothing, are refused by some verifiers, and make each verification
// cost more; no RSA implementation generates them.
constexpr int kMaxExponentBits = 32;

std::string big_endian(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, bytes(out));
  return out;
}

// Why an RSA public key is unusable, or nullopt when it is within bounds.
std::optional<std::string> rsa_bounds_problem(const BIGNUM* n, const BIGNUM* e) {
  const int bits = BN_num_bits(n);
  if (bits < kMinRsaBits) return "modulus has " + std::to_string(bits) + " bits, fewer than 2048";
  if (bits > kMaxRsaBits) return "modulus has " + std::to_string(bits) + " bits, more than 8192";
  if (!BN_is_odd(n)) return "modulus is even";
  if (BN_num_bits(e) > kMaxExponentBits) return "public exponent is longer than 32 bits";
  if (!BN_is_odd(e) || BN_is_one(e)) return "public exponent is not odd and greater than 1";
  return std::nullopt;
}

// A JWKS member decoded as Base64urlUInt (RFC 7518 §2). Padding is refused: RFC 7515 §2 defines
// base64url without it, and JWK writers omit it. Leading zero bytes, which RFC 7518 §6.3.1.1 rules
// out for "n", are tolerated: some writers emit the two's-complement form of the modulus.
Result<Bn> decode_uint(const json::Value& value, const char* name) {
  const std::string& text = value.as_string();
  auto raw = text.find('=') == std::string::npos ? base64url_decode(text) : std::nullopt;
  if (!raw) return invalid_argument(std::string("\"") + name + "\" is not base64url without padding");
  if (raw->empty()) return invalid_argument(std::string("\"") + name + "\" is empty");
  if (raw->size() > static_cast<std::size_t>(INT_MAX))
    return invalid_argument(std::string("\"") + name + "\" is too long");
  Bn bn(BN_bin2bn(bytes(*raw), static_cast<int>(raw->size()), nullptr));
  if (!bn) {
    clear_openssl_errors();
    return internal_error("BN_bin2bn failed");
  }
  return bn;
}

}  // namespace

struct RsaPublicKey::State {
  Pkey key;       // public members only
  std::string n;  // big-endian, no leading zero bytes
  std::string e;
  int bits = 0;
};

struct RsaPrivateKey::State {
  Pkey key;
  RsaPublicKey public_key;
};

struct RsaKeyAccess {
  static EVP_PKEY* pkey(const RsaPublicKey& key) { return key.state_->key.get(); }
  static EVP_PKEY* pkey(const RsaPrivateKey& key) { return key.state_->key.get(); }

  // A public-only key; the caller has checked rsa_bounds_problem.
  static Result<RsaPublicKey> public_key(const BIGNUM* n, const BIGNUM* e) {
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e) != 1) {
      clear_openssl_errors();
      return internal_error("RSA public key parameters failed");
    }
    Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      EVP_PKEY_free(raw);
      clear_openssl_errors();
      return internal_error("RSA public key construction failed");
    }
    auto state = std::make_shared<RsaPublicKey::State>();
    state->key.reset(raw);
    state->n = big_endian(n);
    state->e = big_endian(e);
    state->bits = BN_num_bits(n);
    return RsaPublicKey(std::move(state));
  }

  // Checks a private key (generated or read) and derives its public-only twin.
  static Result<RsaPrivateKey> private_key(Pkey key) {
    if (EVP_PKEY_is_a(key.get(), "RSA") != 1) return invalid_argument("not an RSA key");
    BIGNUM* n_raw = nullptr;
    BIGNUM* e_raw = nullptr;
    const bool got_n = EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n_raw) == 1;
    Bn n(n_raw);
    const bool got_e = EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e_raw) == 1;
    Bn e(e_raw);
    if (!got_n || !got_e || !n || !e) {
      clear_openssl_errors();
      return internal_error("RSA key parameters unavailable");
    }
    if (auto problem = rsa_bounds_problem(n.get(), e.get())) return invalid_argument(*problem);
    auto pub = public_key(n.get(), e.get());
    if (!pub) return pub.error();
    return RsaPrivateKey(std::make_shared<const RsaPrivateKey::State>(RsaPrivateKey::State{std::move(key), *pub}));
  }
};

namespace {

// Members that only a private or symmetric key has (RFC 7518 §6.3.2, §6.4.1). A JWKS holding
// one means someone published a secret; refusing the whole document makes that loud.
constexpr std::array<std::string_view, 8> kPrivateMembers = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
// Members this parser reads. JSON allows repeats and parsers disagree on which one wins; a
// repeat here is refused so that every reader of the document sees the same key.
constexpr std::array<std::string_view, 7> kReadMembers = {"kty", "kid", "use", "alg", "key_ops", "n", "e"};

// One entry of "keys": a kept key, nullopt for one to skip, or why the document is refused.
Result<std::optional<Jwk>> parse_key(const json::Value& entry) {
  if (!entry.is_object()) return invalid_argument("is not an object");
  std::array<int, kReadMembers.size()> seen{};
  for (const auto& member : entry.as_object()) {
    for (std::string_view name : kPrivateMembers) {
      if (member.first == name) {
        return invalid_argument("holds private key material (\"" + std::string(name) +
                                "\"): a JWKS must hold public keys only");
      }
    }
    for (std::size_t i = 0; i < kReadMembers.size(); ++i) {
      if (member.first == kReadMembers[i] && ++seen[i] > 1) {
        return invalid_argument("repeats the member \"" + std::string(kReadMembers[i]) + "\"");
      }
    }
  }

  const json::Value* kty = entry.find("kty");
  if (kty == nullptr || !kty->is_string()) return invalid_argument("has no string \"kty\"");
  const json::Value* kid = entry.find("kid");
  if (kid != nullptr && !kid->is_string()) return invalid_argument("has a \"kid\" that is not a string");
  const json::Value* use = entry.find("use");
  if (use != nullptr && !use->is_string()) return invalid_argument("has a \"use\" that is not a string");
  const json::Value* alg = entry.find("alg");
  if (alg != nullptr && !alg->is_string()) return invalid_argument("has an \"alg\" that is not a string");
  bool may_verify = true;
  if (const json::Value* ops = entry.find("key_ops")) {
    if (!ops->is_array()) return invalid_argument("has a \"key_ops\" that is not an array");
    may_verify = false;
    for (const json::Value& op : ops->as_array()) {
      if (!op.is_string()) return invalid_argument("has a \"key_ops\" entry that is not a string");
      if (op.as_string() == "verify") may_verify = true;
    }
  }

  // Keys for other algorithms or purposes may share a JWKS with the client's signing keys.
  if (kty->as_string() != "RSA") return std::optional<Jwk>();
  if (use != nullptr && use->as_string() != "sig") return std::optional<Jwk>();
  if (alg != nullptr && alg->as_string() != "RS512") return std::optional<Jwk>();
  if (!may_verify) return std::optional<Jwk>();

  // A token names its key by kid, so a key without one could never be used.
  if (kid == nullptr || kid->as_string().empty()) return invalid_argument("has no \"kid\"");
  if (kid->as_string().size() > kMaxJwkKidBytes) return invalid_argument("has a \"kid\" longer than 256 bytes");
  const json::Value* n_text = entry.find("n");
  const json::Value* e_text = entry.find("e");
  if (n_text == nullptr || !n_text->is_string()) return invalid_argument("has no string \"n\"");
  if (e_text == nullptr || !e_text->is_string()) return invalid_argument("has no string \"e\"");
  auto n = decode_uint(*n_text, "n");
  if (!n) return n.error();
  auto e = decode_uint(*e_text, "e");
  if (!e) return e.error();
  if (auto problem = rsa_bounds_problem(n->get(), e->get())) return invalid_argument(*problem);
  auto key = RsaKeyAccess::public_key(n->get(), e->get());
  if (!key) return key.error();
  return std::optional<Jwk>(Jwk{kid->as_string(), *key});
}

}  // namespace

int RsaPublicKey::bits() const { return state_->bits; }

std::string RsaPublicKey::jwk_json(std::string_view kid) const {
  json::Writer w;
  w.begin_object();
  w.key("kty").string("RSA");
  w.key("kid").string(kid);
  w.key("use").string("sig");
  w.key("alg").string("RS512");
  w.key("n").string(base64url_encode(state_->n));
  w.key("e").string(base64url_encode(state_->e));
  w.end_object();
  return w.take();
}

const Jwk* Jwks::find(std::string_view kid) const {
  for (const Jwk& jwk : keys) {
    if (jwk.kid == kid) return &jwk;
  }
  return nullptr;
}

Result<Jwks> parse_jwks(std::string_view document) {
  if (document.size() > kMaxJwksBytes) return invalid_argument("jwks: document is larger than 64 KiB");
  json::ParseLimits limits;
  limits.max_depth = 8;  // document, "keys", a key, and room for arrays such as x5c or key_ops
  limits.max_bytes = kMaxJwksBytes;
  auto root = json::parse(document, limits);
  if (!root) return invalid_argument("jwks: " + root.error().message);
  if (!root->is_object()) return invalid_argument("jwks: document is not a JSON object");
  int keys_members = 0;
  for (const auto& member : root->as_object()) keys_members += member.first == "keys" ? 1 : 0;
  if (keys_members > 1) return invalid_argument("jwks: \"keys\" appears more than once");
  const json::Value* keys = root->find("keys");
  if (keys == nullptr) return invalid_argument("jwks: no \"keys\" member");
  if (!keys->is_array()) return invalid_argument("jwks: \"keys\" is not an array");
  const json::Array& entries = keys->as_array();
  if (entries.size() > kMaxJwksKeys) return invalid_argument("jwks: more than 32 keys");

  Jwks jwks;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "jwks: keys[" + std::to_string(i) + "] ";
    auto key = parse_key(entries[i]);
    if (!key) {
      Error error = std::move(key).error();
      error.message = where + error.message;
      return error;
    }
    if (!*key) continue;
    if (jwks.find((*key)->kid) != nullptr) return invalid_argument(where + "repeats the \"kid\" of an earlier key");
    jwks.keys.push_back(std::move(**key));
  }
  if (jwks.keys.empty()) return invalid_argument("jwks: no RSA key for RS512 signatures");
  return jwks;
}

bool verify_rs512(const RsaPublicKey& key, std::string_view signing_input, std::string_view signature) {
  EVP_PKEY* pkey = RsaKeyAccess::pkey(key);
  // A PKCS#1 signature is exactly as long as the modulus (RFC 8017 §8.2.2 step 1).
  const int size = EVP_PKEY_get_size(pkey);
  if (size <= 0 || signature.size() != static_cast<std::size_t>(size)) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha512(), nullptr, pkey) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
      EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signing_input), signing_input.size()) == 1;
  if (!ok) clear_openssl_errors();
  return ok;
}

Result<RsaPrivateKey> RsaPrivateKey::generate(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) return invalid_argument("RSA key size must be 2048 to 8192 bits");
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
      EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    clear_openssl_errors();
    return internal_error("RSA key generation failed");
  }
  return RsaKeyAccess::private_key(Pkey(raw));
}

Result<RsaPrivateKey> RsaPrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxJwksBytes) return invalid_argument("RSA private key: PEM is larger than 64 KiB");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    clear_openssl_errors();
    return internal_error("BIO_new_mem_buf failed");
  }
  // A negative answer makes OpenSSL fail on an encrypted key instead of prompting on the terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return -1; };
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    clear_openssl_errors();
    return invalid_argument("RSA private key: not an unencrypted PEM private key");
  }
  auto result = RsaKeyAccess::private_key(std::move(key));
  if (!result) {
    Error error = std::move(result).error();
    error.message = "RSA private key: " + error.message;
    return error;
  }
  return result;
}

std::string RsaPrivateKey::private_pem() const {
  // Secure-heap BIO: OpenSSL wipes its buffer when freed.
  Bio bio(BIO_new(BIO_s_secmem()));
  BUF_MEM* buffer = nullptr;
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), state_->key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      BIO_get_mem_ptr(bio.get(), &buffer) <= 0 || buffer == nullptr) {
    clear_openssl_errors();
    return {};
  }
  return std::string(buffer->data, buffer->length);
}

const RsaPublicKey& RsaPrivateKey::public_key() const { return state_->public_key; }

std::string sign_rs512(const RsaPrivateKey& key, std::string_view signing_input) {
  EVP_PKEY* pkey = RsaKeyAccess::pkey(key);
  const int size = EVP_PKEY_get_size(pkey);
  if (size <= 0) return {};
  std::string signature(static_cast<std::size_t>(size), '\0');
  std::size_t len = signature.size();
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const bool ok = ctx && EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha512(), nullptr, pkey) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
                  EVP_DigestSign(ctx.get(), bytes(signature), &len, bytes(signing_input), signing_input.size()) == 1;
  if (!ok) {
    clear_openssl_errors();
    return {};
  }
  signature.resize(len);
  return signature;
}

std::string sign_jwt_rs512(const RsaPrivateKey& key, std::string_view header_json, std::string_view claims_json) {
  std::string token = base64url_encode(header_json);
  token += '.';
  token += base64url_encode(claims_json);
  const std::string signature = sign_rs512(key, token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace herald::crypto
