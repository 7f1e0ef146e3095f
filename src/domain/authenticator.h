#pragma once
// Authenticator: checks a GOV.UK Notify API bearer token (a JWT signed with one of the service's
// API key secrets) and names the calling service and key, or the reason it is refused, in the
// order GOV.UK Notify checks (app/authentication/auth.py).
//
// Secrets are decrypted once per service and cached in memory as prepared HMAC states (wiped on
// eviction) for `cache_ttl`, so a key created or revoked from the CLI takes effect within that
// time; a token that matches no cached key refreshes the cache once before it is refused.
// A token found good is remembered (by its exact text) with the key it matched, for as long as
// those cached keys stand: the same token again (clients send one token for many requests in
// the second it names) skips decoding and the HMAC, but its times, the key's revocation and its
// network restriction are checked again, so the answer is always the one a full check would give.
// Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/blocking.h"
#include "core/cidr.h"
#include "core/json.h"
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
    std::uint64_t generation = 0;  // distinct for every fetch
  };
  // A token whose signature matched keys[key] of the service's cached entry `generation`.
  struct VerifiedToken {
    ServiceId service;
    std::uint64_t generation = 0;
    std::size_t key = 0;
    json::Value claims;  // for the time checks, which depend on when it is used
  };
  struct TokenHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view token) const { return std::hash<std::string_view>()(token); }
  };
  using Outcome = std::variant<Caller, AuthFailure>;

  Result<std::shared_ptr<const CachedService>> service_entry(ServiceId id, Timestamp now,
                                                             bool force_refresh, Blocking blocking);
  Result<std::shared_ptr<const CachedService>> fetch(ServiceId id, Timestamp now);
  // The outcome for a token verified before, when its service's keys are still the cached
  // ones; nullopt: check it in full.
  std::optional<Outcome> recall(std::string_view token, Timestamp now, std::string_view source);
  void remember(std::string_view token, VerifiedToken verified);

  store::ServiceDirectory& store_;
  std::chrono::seconds leeway_;
  Duration cache_ttl_;
  std::mutex mutex_;
  std::unordered_map<ServiceId, std::shared_ptr<const CachedService>, UuidHash> cache_;  // guarded by mutex_
  std::unordered_map<std::string, VerifiedToken, TokenHash, std::equal_to<>> verified_;  // guarded by mutex_
  std::atomic<std::uint64_t> next_generation_{1};
};

}  // namespace herald::domain
