#pragma once
// Authenticator: checks a GOV.UK Notify API bearer token (a JWT signed with one of the service's
// API key secrets) and names the calling service and key, or the reason it is refused, in the
// order GOV.UK Notify checks (app/authentication/auth.py).
//
// Secrets are decrypted once per service and cached in memory as prepared HMAC states (wiped on
// eviction) for `cache_ttl`, so a key created or revoked from the CLI takes effect within that
// time; a token that matches no cached key refreshes the cache once before it is refused.
// Thread-safe.

#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/blocking.h"
#include "core/cidr.h"
#include "core/result.h"
#include "core/time.h"
#include "crypto/hmac.h"
#include "store/store.h"

namespace herald::domain {

struct Caller {
  ServiceId service;
  ApiKeyId key;
  store::KeyType key_type = store::KeyType::kNormal;
};

enum class AuthFailure {
  kInvalidToken,   // not a decodable JWT
  kMissingIssuer,  // no iss claim
  kIssuerNotUuid,  // iss is not a UUID
  kServiceNotFound,
  kServiceHasNoKeys,
  kServiceArchived,
  kClockSkew,  // iat missing an integer value or outside ±30 s
  kAlgorithmNotHs256,
  kKeyRevoked,
  kKeyNotFound,
  kGeneric,            // any other JWT failure
  kNetworkNotAllowed,  // a good token of a key restricted to networks the source is not in
};

class Authenticator {
 public:
  explicit Authenticator(store::ServiceDirectory& store,
                         std::chrono::seconds leeway = std::chrono::seconds(30),
                         Duration cache_ttl = std::chrono::seconds(5))
      : store_(store), leeway_(leeway), cache_ttl_(cache_ttl) {}

  // `token` is the JWT after "Bearer ", `source` the address it came from (a key restricted to
  // networks (`herald key restrict`) is refused from any other). Store failures are returned as
  // Error; with Blocking::kNotAllowed, needing the store is ErrorCode::kWouldBlock.
  Result<std::variant<Caller, AuthFailure>> authenticate(std::string_view token, Timestamp now,
                                                         Blocking blocking = Blocking::kAllowed,
                                                         std::string_view source = {});

 private:
  struct CachedKey {
    ApiKeyId id;
    store::KeyType type;
    bool revoked;
    crypto::HmacSha256Key hmac;  // the secret, as prepared HMAC states
    cidr::NetworkSet networks;   // where it may be used from, when `restricted`
    bool restricted = false;
  };
  struct CachedService {
    bool exists = false;
    bool active = false;
    std::vector<CachedKey> keys;
    Timestamp fetched_at;
  };
  using Outcome = std::variant<Caller, AuthFailure>;

  Result<std::shared_ptr<const CachedService>> service_entry(ServiceId id, Timestamp now,
                                                             bool force_refresh, Blocking blocking);
  Result<std::shared_ptr<const CachedService>> fetch(ServiceId id, Timestamp now);

  store::ServiceDirectory& store_;
  std::chrono::seconds leeway_;
  Duration cache_ttl_;
  std::mutex mutex_;
  std::unordered_map<ServiceId, std::shared_ptr<const CachedService>, UuidHash> cache_;  // guarded by mutex_
};

}  // namespace herald::domain
