#include "crypto/webauthn.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

#include "core/base64.h"
#include "core/json.h"
#include "crypto/hmac.h"
#include "crypto/secret.h"
#include "crypto/signing.h"

namespace herald::crypto::webauthn {
namespace {

constexpr int kMostDepth = 16;

// COSE (RFC 9052/9053) key parameters and algorithms.
constexpr std::int64_t kKty = 1, kAlg = 3, kCrv = -1, kX = -2, kY = -3, kRsaN = -1, kRsaE = -2;
constexpr std::int64_t kKtyOkp = 1, kKtyEc2 = 2, kKtyRsa = 3;
constexpr std::int64_t kEs256 = -7, kEdDsa = -8, kRs256 = -257;
constexpr std::int64_t kP256 = 1, kEd25519 = 6;

// Authenticator data flags (WebAuthn §6.1).
constexpr unsigned char kUserPresent = 0x01, kUserVerified = 0x04, kAttestedData = 0x40;

Result<Cbor> parse_item(std::string_view data, std::size_t& at, int depth) {
  if (depth > kMostDepth) return invalid_argument("CBOR nested too deeply");
  if (at >= data.size()) return invalid_argument("CBOR truncated");
  const auto initial = static_cast<unsigned char>(data[at++]);
  const int major = initial >> 5;
  const int info = initial & 0x1f;
  std::uint64_t argument = 0;
  if (info < 24) {
    argument = static_cast<std::uint64_t>(info);
  } else if (info <= 27) {
    const std::size_t size = std::size_t{1} << (info - 24);
    if (data.size() - at < size) return invalid_argument("CBOR truncated");
    for (std::size_t i = 0; i < size; ++i) argument = (argument << 8) | static_cast<unsigned char>(data[at++]);
  } else {
    return invalid_argument("CBOR indefinite lengths are not accepted");
  }
  Cbor item;
  switch (major) {
    case 0:
    case 1:
      if (argument > static_cast<std::uint64_t>(INT64_MAX)) return invalid_argument("CBOR integer out of range");
      item.kind = major == 0 ? Cbor::Kind::kUnsigned : Cbor::Kind::kNegative;
      item.integer = major == 0 ? static_cast<std::int64_t>(argument) : -1 - static_cast<std::int64_t>(argument);
      return item;
    case 2:
    case 3:
      if (argument > data.size() - at) return invalid_argument("CBOR string longer than its data");
      item.kind = major == 2 ? Cbor::Kind::kBytes : Cbor::Kind::kText;
      item.bytes = std::string(data.substr(at, static_cast<std::size_t>(argument)));
      at += static_cast<std::size_t>(argument);
      return item;
    case 4:
    case 5: {
      // Each element takes at least one byte: a count beyond the data left is malformed.
      if (argument > data.size() - at) return invalid_argument("CBOR container longer than its data");
      item.kind = major == 4 ? Cbor::Kind::kArray : Cbor::Kind::kMap;
      for (std::uint64_t i = 0; i < argument; ++i) {
        for (int part = 0; part < (major == 4 ? 1 : 2); ++part) {  // an element, or a key and its value
          auto element = parse_item(data, at, depth + 1);
          if (!element) return element.error();
          item.items.push_back(std::move(*element));
        }
      }
      return item;
    }
    case 7:
      if (info == 20 || info == 21) {
        item.kind = Cbor::Kind::kBool;
        item.integer = info == 21 ? 1 : 0;
        return item;
      }
      if (info == 22) return item;  // null
      return invalid_argument("CBOR simple value or float not accepted");
    default: return invalid_argument("CBOR tags are not accepted");
  }
}

Error refused(std::string why) { return Error{ErrorCode::kPermissionDenied, std::move(why)}; }

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// An OpenSSL key from parameters: EC (group and uncompressed point) or RSA (n, e).
Pkey key_from_params(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return Pkey(key);
}

Pkey ec_p256_key(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + std::string(x) + std::string(y);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> build(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
  if (!build || OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(build.get()),
                                                                 &OSSL_PARAM_free);
  return params ? key_from_params("EC", params.get()) : nullptr;
}

Pkey rsa_key(std::string_view n, std::string_view e) {
  if (n.size() < 256 || n.size() > 1024 || e.empty() || e.size() > 8) return nullptr;  // 2048 to 8192 bits
  auto to_bn = [](std::string_view bytes) {
    return std::unique_ptr<BIGNUM, decltype(&BN_free)>(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr),
        &BN_free);
  };
  auto bn_n = to_bn(n);
  auto bn_e = to_bn(e);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> build(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(build.get()),
                                                                 &OSSL_PARAM_free);
  return params ? key_from_params("RSA", params.get()) : nullptr;
}

bool digest_verify(EVP_PKEY* key, std::string_view message, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

// Whether `signature` signs `message` under the COSE key (ES256, EdDSA or RS256).
Result<bool> cose_verify(std::string_view cose_key, std::string_view message, std::string_view signature) {
  std::size_t consumed = 0;
  auto key = parse_cbor(cose_key, consumed);
  if (!key || key->kind != Cbor::Kind::kMap || consumed != cose_key.size()) return refused("malformed COSE key");
  const Cbor* kty = key->get(kKty);
  const Cbor* alg = key->get(kAlg);
  if (kty == nullptr || alg == nullptr) return refused("COSE key without kty or alg");
  auto bytes_of = [&key](std::int64_t label) -> std::optional<std::string_view> {
    const Cbor* v = key->get(label);
    if (v == nullptr || v->kind != Cbor::Kind::kBytes) return std::nullopt;
    return std::string_view(v->bytes);
  };
  if (kty->integer == kKtyEc2 && alg->integer == kEs256) {
    const Cbor* crv = key->get(kCrv);
    auto x = bytes_of(kX);
    auto y = bytes_of(kY);
    if (crv == nullptr || crv->integer != kP256 || !x || !y) return refused("unsupported EC2 key");
    Pkey pkey = ec_p256_key(*x, *y);
    if (!pkey) return refused("EC2 key is not a P-256 point");
    return digest_verify(pkey.get(), message, signature);
  }
  if (kty->integer == kKtyOkp && alg->integer == kEdDsa) {
    const Cbor* crv = key->get(kCrv);
    auto x = bytes_of(kX);
    if (crv == nullptr || crv->integer != kEd25519 || !x) return refused("unsupported OKP key");
    return ed25519_verify(*x, message, signature);
  }
  if (kty->integer == kKtyRsa && alg->integer == kRs256) {
    auto n = bytes_of(kRsaN);
    auto e = bytes_of(kRsaE);
    if (!n || !e) return refused("RSA key without n or e");
    Pkey pkey = rsa_key(*n, *e);
    if (!pkey) return refused("unsupported RSA key");
    return digest_verify(pkey.get(), message, signature);
  }
  return refused("unsupported COSE algorithm");
}

// The client data's checks shared by both ceremonies; returns SHA-256 of its exact bytes.
Result<std::string> check_client_data(const RelyingParty& rp, std::string_view type, std::string_view challenge,
                                      std::string_view client_data_json) {
  auto parsed = json::parse(client_data_json);
  if (!parsed || !parsed->is_object()) return refused("client data is not JSON");
  const json::Value* got_type = parsed->find("type");
  if (got_type == nullptr || !got_type->is_string() || got_type->as_string() != type) {
    return refused("client data type is not " + std::string(type));
  }
  const json::Value* got_challenge = parsed->find("challenge");
  if (got_challenge == nullptr || !got_challenge->is_string() ||
      !constant_time_equal(got_challenge->as_string(), base64url_encode(challenge))) {
    return refused("wrong challenge");
  }
  const json::Value* origin = parsed->find("origin");
  if (origin == nullptr || !origin->is_string() || origin->as_string() != rp.origin) return refused("wrong origin");
  if (const json::Value* cross = parsed->find("crossOrigin");
      cross != nullptr && cross->is_bool() && cross->as_bool()) {
    return refused("made in a cross-origin frame");
  }
  return sha256(client_data_json);
}

struct AuthenticatorData {
  unsigned char flags = 0;
  std::int64_t sign_count = 0;
  std::string credential_id;  // with attested credential data
  std::string public_key;     // its COSE key bytes
};

Result<AuthenticatorData> read_authenticator_data(const RelyingParty& rp, std::string_view data, bool attested) {
  if (data.size() < 37) return refused("authenticator data too short");
  if (!constant_time_equal(data.substr(0, 32), sha256(rp.id))) return refused("wrong RP ID hash");
  AuthenticatorData out;
  out.flags = static_cast<unsigned char>(data[32]);
  if ((out.flags & kUserPresent) == 0) return refused("user not present");
  for (std::size_t i = 33; i < 37; ++i) out.sign_count = (out.sign_count << 8) | static_cast<unsigned char>(data[i]);
  if (!attested) return out;
  if ((out.flags & kAttestedData) == 0 || data.size() < 37 + 16 + 2) return refused("no attested credential data");
  std::size_t at = 37 + 16;  // after the AAGUID
  const std::size_t id_length =
      (static_cast<std::size_t>(static_cast<unsigned char>(data[at])) << 8) | static_cast<unsigned char>(data[at + 1]);
  at += 2;
  if (id_length == 0 || id_length > 1023 || data.size() - at < id_length) return refused("bad credential id");
  out.credential_id = std::string(data.substr(at, id_length));
  at += id_length;
  std::size_t consumed = 0;
  auto key = parse_cbor(data.substr(at), consumed);
  if (!key || key->kind != Cbor::Kind::kMap) return refused("malformed credential public key");
  out.public_key = std::string(data.substr(at, consumed));
  return out;
}

}  // namespace

const Cbor* Cbor::get(std::int64_t key) const {
  if (kind != Kind::kMap) return nullptr;
  for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
    const Cbor& k = items[i];
    if ((k.kind == Kind::kUnsigned || k.kind == Kind::kNegative) && k.integer == key) return &items[i + 1];
  }
  return nullptr;
}

const Cbor* Cbor::get(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].kind == Kind::kText && items[i].bytes == key) return &items[i + 1];
  }
  return nullptr;
}

Result<Cbor> parse_cbor(std::string_view data, std::size_t& consumed) {
  std::size_t at = 0;
  auto item = parse_item(data, at, 0);
  if (item) consumed = at;
  return item;
}

Result<NewCredential> verify_registration(const RelyingParty& rp, std::string_view challenge,
                                          std::string_view client_data_json, std::string_view attestation_object) {
  auto client_hash = check_client_data(rp, "webauthn.create", challenge, client_data_json);
  if (!client_hash) return client_hash.error();
  std::size_t consumed = 0;
  auto attestation = parse_cbor(attestation_object, consumed);
  if (!attestation || attestation->kind != Cbor::Kind::kMap) return refused("malformed attestation object");
  const Cbor* auth_data = attestation->get("authData");
  if (auth_data == nullptr || auth_data->kind != Cbor::Kind::kBytes) return refused("attestation without authData");
  auto data = read_authenticator_data(rp, auth_data->bytes, true);
  if (!data) return data.error();
  // The key must be one Herald can verify with, before it is stored.
  auto usable = cose_verify(data->public_key, "", "");
  if (!usable) return usable.error();
  return NewCredential{std::move(data->credential_id), std::move(data->public_key), data->sign_count,
                       (data->flags & kUserVerified) != 0};
}

Result<Assertion> verify_assertion(const RelyingParty& rp, std::string_view challenge, std::string_view public_key,
                                   std::string_view client_data_json, std::string_view authenticator_data,
                                   std::string_view signature) {
  auto client_hash = check_client_data(rp, "webauthn.get", challenge, client_data_json);
  if (!client_hash) return client_hash.error();
  auto data = read_authenticator_data(rp, authenticator_data, false);
  if (!data) return data.error();
  auto valid = cose_verify(public_key, std::string(authenticator_data) + *client_hash, signature);
  if (!valid) return valid.error();
  if (!*valid) return refused("bad signature");
  return Assertion{data->sign_count, (data->flags & kUserVerified) != 0};
}

bool counter_advances(std::int64_t stored, std::int64_t presented) {
  return presented > stored || (stored == 0 && presented == 0);
}

}  // namespace herald::crypto::webauthn
