#include "release/dsse.h"

#include "core/base64.h"
#include "core/json.h"

namespace herald::release {

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Result<DsseEnvelope> sign_envelope(std::string payload_type, std::string payload, crypto::Ed25519Signer& signer) {
  auto sig = signer.sign(pae(payload_type, payload));
  if (!sig) return sig.error();
  DsseEnvelope envelope{std::move(payload_type), std::move(payload), {}};
  envelope.signatures.push_back({crypto::ed25519_key_id(signer.public_key()), std::move(*sig)});
  return envelope;
}

std::string envelope_json(const DsseEnvelope& envelope) {
  json::Writer w;
  w.begin_object().key("payload").string(base64_encode(envelope.payload));
  w.key("payloadType").string(envelope.payload_type);
  w.key("signatures").begin_array();
  for (const auto& s : envelope.signatures) {
    w.begin_object().key("keyid").string(s.keyid).key("sig").string(base64_encode(s.sig)).end_object();
  }
  w.end_array().end_object();
  return w.take() + "\n";
}

Result<DsseEnvelope> parse_envelope(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return invalid_argument("DSSE envelope: " + doc.error().message);
  if (!doc->is_object()) return invalid_argument("DSSE envelope: not a JSON object");
  const auto* payload = doc->find("payload");
  const auto* type = doc->find("payloadType");
  const auto* signatures = doc->find("signatures");
  if (!payload || !payload->is_string()) return invalid_argument("DSSE envelope: payload is not a string");
  if (!type || !type->is_string()) return invalid_argument("DSSE envelope: payloadType is not a string");
  if (!signatures || !signatures->is_array() || signatures->as_array().empty()) {
    return invalid_argument("DSSE envelope: signatures is not a non-empty array");
  }
  auto body = base64_decode(payload->as_string());
  if (!body) return invalid_argument("DSSE envelope: payload is not base64");
  DsseEnvelope envelope{type->as_string(), std::move(*body), {}};
  std::size_t index = 0;
  for (const auto& s : signatures->as_array()) {
    const std::string where = "DSSE envelope: signatures[" + std::to_string(index++) + "]";
    const auto* keyid = s.find("keyid");
    const auto* sig = s.find("sig");
    if (!sig || !sig->is_string()) return invalid_argument(where + ".sig is not a string");
    auto raw = base64_decode(sig->as_string());
    if (!raw) return invalid_argument(where + ".sig is not base64");
    envelope.signatures.push_back({keyid && keyid->is_string() ? keyid->as_string() : "", std::move(*raw)});
  }
  return envelope;
}

Result<std::string> verify_envelope(const DsseEnvelope& envelope, std::string_view payload_type,
                                    std::span<const TrustedKey> keys, std::string_view role) {
  if (envelope.payload_type != payload_type) {
    return Error{ErrorCode::kPermissionDenied,
                 "the envelope holds " + envelope.payload_type + ", not " + std::string(payload_type)};
  }
  const std::string message = pae(envelope.payload_type, envelope.payload);
  std::string reason;
  for (const auto& s : envelope.signatures) {
    bool named = false;
    for (const auto& key : keys) {
      const bool same_key = crypto::ed25519_key_id(key.public_key) == s.keyid;
      if (!same_key && !s.keyid.empty()) continue;
      named = named || same_key;
      if (key.role != role) {
        if (same_key && reason.empty()) {
          reason = "signed by " + s.keyid + ", which is trusted as a " + key.role + " key, not a " + std::string(role) +
                   " key";
        }
        continue;
      }
      if (crypto::ed25519_verify(key.public_key, message, s.sig)) return envelope.payload;
      if (same_key) reason = "the signature by " + s.keyid + " does not verify: the document was changed";
    }
    if (!named && reason.empty())
      reason = "signed by " + s.keyid + ", which is not a trusted " + std::string(role) + " key";
  }
  if (reason.empty()) reason = "no signature verifies under a trusted " + std::string(role) + " key";
  return Error{ErrorCode::kPermissionDenied, reason};
}

}  // namespace herald::release
