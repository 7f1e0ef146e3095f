#pragma once
// NHS Notify's token endpoint as a use case: the OAuth 2.0 client-credentials grant with a signed
// JWT client assertion (RFC 7523) in the form NHS's API platform accepts it. The client signs an
// assertion with its private key (RS512 only); `kid` picks the public key the client registered
// (a JWKS document, or a URL Herald fetches it from); iss = sub = the client's API key; aud = the
// token URL; exp at most 5 minutes ahead; a jti is never accepted twice (remembered by the store,
// shared by every node). The checks run in the order NHS's gateway runs them, so a client sees
// the same first error, and the jti is used up before the key and signature are checked (an
// assertion that failed there cannot be retried as it was).
//
// What it issues is an opaque access token, random and short-lived, stored only as its hash and
// bound to the client; NhsClients::authenticate is the only way it is turned back into a client
// (SC-35).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "core/result.h"
#include "core/time.h"
#include "crypto/jwk.h"
#include "store/store.h"

namespace herald::domain::nhs {

// Why a token request was refused: each is one of NHS's documented errors (the API's errors
// module gives its status, error and description).
enum class TokenRefusal {
  kGrantTypeMissing,
  kGrantTypeInvalid,
  kAssertionTypeInvalid,
  kAssertionMissing,
  kAssertionMalformed,
  kKidMissing,
  kTypInvalid,
  kIssSubInvalid,
  kJtiMissing,
  kJtiNotString,
  kExpMissing,
  kExpNotInteger,
  kExpTooFarAhead,
  kJtiReused,
  kIssUnknown,
  kNoPublicKey,
  kJwksUnreachable,
  kAlgInvalid,
  kExpired,
  kAudInvalid,
  kKidUnknown,
  kSignatureInvalid,
};

// The form fields of a token request (absent when not sent).
struct TokenRequest {
  std::optional<std::string> grant_type;
  std::optional<std::string> client_assertion_type;
  std::optional<std::string> client_assertion;
  std::string audience;  // the token endpoint's own URL, which the assertion's aud must name
};

struct IssuedToken {
  std::string access_token;
  std::chrono::seconds expires_in;
  Timestamp issued_at;
  Uuid client;
};

using TokenOutcome = std::variant<IssuedToken, TokenRefusal>;

// Fetches a client's JWKS document from its URL (the wiring gives an HTTPS client that keeps to
// the address policy). kUnavailable or any error: "can't be reached".
using JwksFetcher = std::function<Result<std::string>(const std::string& url)>;

struct TokenConfig {
  std::chrono::seconds lifetime{599};                // NHS's tokens: expires_in "599"
  std::chrono::seconds max_assertion_lifetime{310};  // 5 minutes and NHS's 10 s of grace
  std::chrono::seconds leeway{10};                   // clock skew allowed on exp
  std::chrono::seconds jwks_cache{300};              // a fetched JWKS is used this long
};

class TokenIssuer {
 public:
  TokenIssuer(store::NhsClientStore& store, const Clock& clock, TokenConfig config, JwksFetcher fetch_jwks)
      : store_(store), clock_(clock), config_(config), fetch_jwks_(std::move(fetch_jwks)) {}

  // Refusals are values; store errors (and a failure to make a token) are errors.
  Result<TokenOutcome> issue(const TokenRequest& request);

 private:
  // The client's public keys: its registered document, or the one fetched from its URL (cached
  // for config_.jwks_cache; fetched again on an unknown kid if the copy is older than a minute).
  std::variant<std::shared_ptr<const crypto::Jwks>, TokenRefusal> keys_for(const store::NhsClientRecord& client,
                                                                           std::string_view kid, Timestamp now);

  struct CachedJwks {
    std::shared_ptr<const crypto::Jwks> keys;
    Timestamp fetched_at;
  };
  store::NhsClientStore& store_;
  const Clock& clock_;
  TokenConfig config_;
  JwksFetcher fetch_jwks_;
  std::mutex mutex_;
  std::map<std::string, CachedJwks> fetched_;  // by URL, guarded by mutex_
};

}  // namespace herald::domain::nhs
