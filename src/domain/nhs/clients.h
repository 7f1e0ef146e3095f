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

// Checks a JWKS document or URL as `create` does (also for `herald nhs client set-keys`).
Result<void> check_key_source(const std::string& jwks, const std::string& jwks_url);

}  // namespace herald::domain::nhs
