#pragma once
// DSSE envelopes (the Dead Simple Signing Envelope, v1.0): how every signed document of the code
// chain travels — a release's provenance, its release metadata, a staging acceptance record, a
// compliance report (docs/formats/release.md).
//
// A signature covers PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP
// body, never the JSON around it, so the payload type is signed too: a valid signature over a
// provenance statement cannot be passed off as release metadata. Signatures are Ed25519; each
// names its key by crypto::ed25519_key_id ("sha256:<hex of the raw public key>").

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "crypto/signing.h"

namespace herald::release {

struct DsseSignature {
  std::string keyid;
  std::string sig;  // raw 64 bytes
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // raw bytes (base64 only in the JSON form)
  std::vector<DsseSignature> signatures;
};

// A key the verifier trusts, and for what: "release" (release signing), "staging" (acceptance
// records), "report" (compliance reports).
struct TrustedKey {
  std::string role;
  std::string public_key;  // raw 32 bytes
};

// The pre-authentication encoding that signatures cover.
std::string pae(std::string_view payload_type, std::string_view payload);

// Signs PAE(payload_type, payload) with `signer` and returns the envelope.
Result<DsseEnvelope> sign_envelope(std::string payload_type, std::string payload, crypto::Ed25519Signer& signer);

// {"payload": base64, "payloadType": ..., "signatures": [{"keyid": ..., "sig": base64}]}
std::string envelope_json(const DsseEnvelope& envelope);
// kInvalidArgument naming the field for anything else (bad base64, missing fields, no signatures).
Result<DsseEnvelope> parse_envelope(std::string_view json);

// The payload, once the envelope's type is `payload_type` and at least one signature verifies
// under a trusted key of `role`. kPermissionDenied otherwise: the wrong type, signatures only by
// keys not trusted for that role ("signed by sha256:... which is not a trusted release key"), or
// no valid signature.
Result<std::string> verify_envelope(const DsseEnvelope& envelope, std::string_view payload_type,
                                    std::span<const TrustedKey> keys, std::string_view role);

}  // namespace herald::release
