#pragma once
// NHS Notify's API clients: registering one (the operator's job; `herald nhs client ...`), and
// turning a bearer access token back into its client on every request of the API. A token is
// only ever compared as its SHA-256; a client's state (onboarded, banned) is read with it, so a
// ban takes effect within the cache's lifetime.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "core/result.h"
#include "core/time.h"
#include "domain/limits.h"
#include "store/store.h"

namespace herald::domain::nhs {

// Why a request of the resource API was refused before it was read.
enum class AccessRefusal {
  kDenied,      // no bearer token, or one that is unknown or expired (401 CM_DENIED)
  kForbidden,   // the client is not onboarded (403 CM_FORBIDDEN)
  kServiceBan,  // the client is banned (403 CM_SERVICE_BAN)
};

using Access = std::variant<store::NhsClientRecord, AccessRefusal>;

struct NewClient {
  ServiceId service;
  std::string name;
  std::string jwks;      // a JWKS document, checked before it is saved
  std::string jwks_url;  // or an https URL
  std::optional<std::string> default_ods_code;
  bool allow_ods_override = false;
  bool allow_contact_details = false;
  std::vector<std::string> allowed_networks = {};  // CIDR texts, canonical; empty: any
};

struct CreatedClient {
  store::NhsClientRecord record;
  std::string api_key;  // shown once: only its hash is stored
};

class NhsClients {
 public:
  NhsClients(store::NhsClientStore& store, const Clock& clock,
             std::chrono::milliseconds cache_for = std::chrono::seconds(5))
      : store_(store), clock_(clock), cache_for_(cache_for) {}

  // The client of `authorization` ("Bearer <token>", the scheme in any case).
  Result<Access> authenticate(std::optional<std::string_view> authorization);

  // kInvalidArgument for a JWKS that does not parse (or holds a private key), a URL that is not
  // https, both or neither given.
  Result<CreatedClient> create(const NewClient& client);

 private:
  struct Cached {
    std::optional<store::NhsClientRecord> client;  // nullopt: the token is unknown
    Timestamp until;
  };
  store::NhsClientStore& store_;
  const Clock& clock_;
  std::chrono::milliseconds cache_for_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by token hash, guarded by mutex_
};

// NHS's per-application limits (spec §8.2): a quota (1,200 requests a minute) and a spike arrest
// (6,000 a minute, as a bucket of 100 refilled at 100 a second), in buckets every node shares;
// a batch counts as one request, as at NHS.
struct RateLimitConfig {
  int per_minute = 1200;
  int spike_per_minute = 6000;
};

class NhsRateLimits {
 public:
  NhsRateLimits(store::LimitCounters& store, const Clock& clock, RateLimitConfig config)
      : limits_(store), clock_(clock), config_(config) {}

  // nullopt when the client's request may go on; else the seconds it should wait, as NHS's
  // gateway says them (Retry-After 1 for the spike arrest, 60 for the quota).
  Result<std::optional<int>> admit(const Uuid& client);

 private:
  Limits limits_;
  const Clock& clock_;
  RateLimitConfig config_;
};

// Checks a JWKS document or URL as `create` does (also for `herald nhs client set-keys`).
Result<void> check_key_source(const std::string& jwks, const std::string& jwks_url);

// A new API key: 32 letters and digits, as NHS's look (190 bits). Clients' keys and callback keys.
Result<std::string> new_api_key();

}  // namespace herald::domain::nhs
