#pragma once
// WebAuthn (W3C Web Authentication Level 2) for the admin UI's security keys and passkeys:
// Herald's own verification of the browser's registration and assertion responses over OpenSSL
// (no libfido2: it speaks to authenticators over USB/NFC, which a server never does; what a
// server needs is CBOR, COSE keys and three signature algorithms, small enough to own and fuzz).
//
// Checked, as the specification's §7.1 and §7.2 list: the client data's type, challenge and
// origin (and that it was not made cross-origin), the authenticator data's RP ID hash, the
// user-present flag, the signature over authenticatorData || SHA-256(clientDataJSON) with the
// registered key (ES256, EdDSA or RS256), and that the signature counter rises. Attestation is
// not asked for ("none"): Herald trusts the user who enrols the key (already signed in with two
// factors), not the key's maker, so an attestation statement is not checked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::crypto::webauthn {

// A CBOR data item (RFC 8949), definite lengths only (CTAP2's canonical form has no others).
struct Cbor {
  enum class Kind { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kBool, kNull };
  Kind kind = Kind::kNull;
  std::int64_t integer = 0;  // kUnsigned, kNegative (the value itself, e.g. -7), kBool (0/1)
  std::string bytes;         // kBytes, kText
  std::vector<Cbor> items;   // kArray; kMap: keys and values alternating, in order

  // The value under an integer or text key of a map, or nullptr.
  const Cbor* get(std::int64_t key) const;
  const Cbor* get(std::string_view key) const;
};

// Parses one item from the front of `data`; `consumed` is set to its length. kInvalidArgument
// for malformed input, indefinite lengths, tags, floats, or nesting deeper than 16.
Result<Cbor> parse_cbor(std::string_view data, std::size_t& consumed);

struct RelyingParty {
  std::string id;      // the RP ID: the admin UI's host name, e.g. "admin.example.org"
  std::string origin;  // its origin, e.g. "https://admin.example.org:8444"
};

struct NewCredential {
  std::string credential_id;  // raw bytes
  std::string public_key;     // the COSE key, as the authenticator gave it
  std::int64_t sign_count = 0;
  bool user_verified = false;
};

// Verifies the response of navigator.credentials.create() for a challenge the server made.
// kPermissionDenied, with the reason, when it is not a valid registration for this RP.
Result<NewCredential> verify_registration(const RelyingParty& rp, std::string_view challenge,
                                          std::string_view client_data_json, std::string_view attestation_object);

struct Assertion {
  std::int64_t sign_count = 0;
  bool user_verified = false;
};

// Verifies the response of navigator.credentials.get() for a challenge the server made, with
// the credential's registered COSE key. kPermissionDenied, with the reason, when it is not valid.
// The caller then records the counter atomically (store: use_webauthn_credential), which refuses
// a counter that does not rise (counter_advances).
Result<Assertion> verify_assertion(const RelyingParty& rp, std::string_view challenge, std::string_view public_key,
                                   std::string_view client_data_json, std::string_view authenticator_data,
                                   std::string_view signature);

// Whether a presented signature counter may follow the stored one: it rises, or the
// authenticator keeps none (both 0). Anything else suggests a cloned authenticator.
bool counter_advances(std::int64_t stored, std::int64_t presented);

}  // namespace herald::crypto::webauthn
