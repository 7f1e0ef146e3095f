#pragma once
// JSON Web Tokens as GOV.UK Notify's clients send them: HS256, claims `iss` and `iat`.
//
// decode_jwt splits and parses a compact token without checking its signature (the caller needs
// `iss` to find the keys to try). verify_hs256 then checks one candidate secret, reporting why
// it failed in the categories GOV.UK Notify's authentication distinguishes. Parsing is bounded;
// the token is untrusted input (fuzz/jwt_fuzzer.cc).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"
#include "crypto/hmac.h"

namespace herald::crypto {

struct DecodedJwt {
  json::Value header;
  json::Value claims;
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};

// Fails (kInvalidArgument) when the token is not three base64url parts whose first two are JSON
// objects.
Result<DecodedJwt> decode_jwt(std::string_view token);

enum class JwtVerdict {
  kValid,
  kAlgorithmNotAllowed,  // header alg is not HS256
  kSignatureMismatch,    // not signed with this secret: try the next key
  kMissingIssuedAt,      // signed, but no iat: treated by GOV.UK like a mismatch
  kClockSkew,            // iat not an integer, or outside now ± leeway
  kInvalid,              // anything else the JWT library would reject (e.g. an expired exp)
};

JwtVerdict verify_hs256(const DecodedJwt& token, std::string_view secret, Timestamp now,
                        std::chrono::seconds leeway);
// The same with the key's HMAC states prepared once (the authenticator's cached keys).
JwtVerdict verify_hs256(const DecodedJwt& token, const HmacSha256Key& key, Timestamp now,
                        std::chrono::seconds leeway);
// What verify_hs256 answers once the algorithm and signature are found good: the claims' iat
// and exp against `now` (kValid, kClockSkew, kInvalid or kMissingIssuedAt). For a token whose
// signature was verified before (the authenticator's verified tokens).
JwtVerdict check_token_times(const json::Value& claims, Timestamp now, std::chrono::seconds leeway);

// Signs claims with HS256 (used by tests, the load generator and the CLI's self-check).
std::string sign_hs256(const json::Value& claims, std::string_view secret);

}  // namespace herald::crypto
