#pragma once
// A software WebAuthn authenticator and browser for tests: CBOR written by hand, a P-256 key
// from OpenSSL, client data JSON, authenticator data and attestation objects laid out as the
// specification gives them, so that Herald's verification is checked against bytes it did not
// make itself.

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "crypto/hmac.h"
#include "crypto/webauthn.h"

namespace herald::fakes::webauthn_bytes {

using crypto::sha256;
inline const crypto::webauthn::RelyingParty kRp{"localhost", "https://localhost:8444"};

// CBOR by hand: a head (major type, argument), then the payload.
inline std::string head(int major, std::uint64_t value) {
  std::string out;
  if (value < 24) {
    out.push_back(static_cast<char>((major << 5) | static_cast<int>(value)));
  } else if (value < 256) {
    out.push_back(static_cast<char>((major << 5) | 24));
    out.push_back(static_cast<char>(value));
  } else {
    out.push_back(static_cast<char>((major << 5) | 25));
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xff));
  }
  return out;
}
inline std::string integer(std::int64_t v) {
  return v >= 0 ? head(0, static_cast<std::uint64_t>(v)) : head(1, static_cast<std::uint64_t>(-1 - v));
}
inline std::string bytes(std::string_view b) { return head(2, b.size()) + std::string(b); }
inline std::string text(std::string_view t) { return head(3, t.size()) + std::string(t); }

struct EcKey {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  EcKey() = default;
  EcKey(const EcKey&) = delete;
  EcKey& operator=(const EcKey&) = delete;
  ~EcKey() { EVP_PKEY_free(key); }
  std::string cose() const {
    unsigned char point[65];
    std::size_t length = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
    const std::string p(reinterpret_cast<char*>(point), length);
    return head(5, 5) + integer(1) + integer(2) + integer(3) + integer(-7) + integer(-1) + integer(1) + integer(-2) +
           bytes(p.substr(1, 32)) + integer(-3) + bytes(p.substr(33, 32));
  }
  std::string sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    std::size_t length = 0;
    EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    std::string signature(length, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    EVP_MD_CTX_free(ctx);
    signature.resize(length);
    return signature;
  }
};

inline std::string client_data(std::string_view type, std::string_view origin = kRp.origin,
                               std::string_view challenge = "sixteen byte chl") {
  return R"({"type":")" + std::string(type) + R"(","challenge":")" + base64url_encode(challenge) + R"(","origin":")" +
         std::string(origin) + R"(","crossOrigin":false})";
}

inline std::string counter(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 8) & 0xff),
          static_cast<char>(n & 0xff)};
}

inline std::string auth_data(std::uint32_t count, unsigned char flags = 0x05, std::string_view rp_id = kRp.id) {
  return sha256(rp_id) + std::string(1, static_cast<char>(flags)) + counter(count);
}

inline std::string attestation(std::string_view credential_id, std::string_view cose_key,
                               std::string_view rp_id = kRp.id) {
  const std::string data =
      auth_data(0, 0x45, rp_id) + std::string(16, '\0') +
      std::string{static_cast<char>(credential_id.size() >> 8), static_cast<char>(credential_id.size() & 0xff)} +
      std::string(credential_id) + std::string(cose_key);
  return head(5, 3) + text("fmt") + text("none") + text("attStmt") + head(5, 0) + text("authData") + bytes(data);
}

// One authenticator holding one credential, as a browser drives it.
struct SoftwareAuthenticator {
  EcKey key;
  std::string credential_id = "software-credential";
  std::uint32_t count = 0;

  // navigator.credentials.create(): (client data JSON, attestation object).
  std::pair<std::string, std::string> create(std::string_view challenge, std::string_view origin = kRp.origin) const {
    return {client_data("webauthn.create", origin, challenge), attestation(credential_id, key.cose())};
  }
  // navigator.credentials.get(): (client data JSON, authenticator data, signature); the counter rises.
  struct Got {
    std::string client_data_json, authenticator_data, signature;
  };
  Got get(std::string_view challenge, std::string_view origin = kRp.origin) {
    Got got{client_data("webauthn.get", origin, challenge), auth_data(++count), ""};
    got.signature = key.sign(got.authenticator_data + sha256(got.client_data_json));
    return got;
  }
};

}  // namespace herald::fakes::webauthn_bytes
