#include "domain/authenticator.h"

#include "crypto/jwt.h"
#include "crypto/secret.h"

namespace herald::domain {

Result<std::shared_ptr<const Authenticator::CachedService>> Authenticator::fetch(ServiceId id,
                                                                                 Timestamp now) {
  auto entry = std::make_shared<CachedService>();
  entry->fetched_at = now;
  auto service = store_.find_service(id);
  if (!service) return service.error();
  if (*service) {
    entry->exists = true;
    entry->active = (*service)->active;
    auto keys = store_.api_keys_for_service(id);
    if (!keys) return keys.error();
    for (auto& key : *keys) {
      // Stored canonical by `herald key restrict`; an entry that no longer parses restricts the
      // key to nothing rather than to everything.
      auto networks = cidr::NetworkSet::parse(key.allowed_networks);
      entry->keys.push_back({key.id, key.type, key.revoked_at.has_value(), crypto::HmacSha256Key(key.secret),
                             networks ? std::move(*networks) : cidr::NetworkSet(), !key.allowed_networks.empty()});
      crypto::wipe_string(key.secret);
    }
  }
  return std::shared_ptr<const CachedService>(std::move(entry));
}

Result<std::shared_ptr<const Authenticator::CachedService>> Authenticator::service_entry(
    ServiceId id, Timestamp now, bool force_refresh, Blocking blocking) {
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(id);
    // A forced refresh (token matched no cached key) is rate-limited to once a second per
    // service, so a flood of bad tokens cannot turn into a flood of store reads.
    const Duration max_age = force_refresh ? Duration(std::chrono::seconds(1)) : cache_ttl_;
    if (it != cache_.end() && now - it->second->fetched_at < max_age) {
      return it->second;
    }
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto fresh = fetch(id, now);
  if (!fresh) return fresh.error();
  std::lock_guard lock(mutex_);
  cache_.insert_or_assign(id, *fresh);
  return *fresh;
}

Result<std::variant<Caller, AuthFailure>> Authenticator::authenticate(std::string_view token, Timestamp now,
                                                                      Blocking blocking, std::string_view source) {
  auto decoded = crypto::decode_jwt(token);
  if (!decoded) return Outcome(AuthFailure::kInvalidToken);
  const json::Value* iss = decoded->claims.find("iss");
  if (iss == nullptr) return Outcome(AuthFailure::kMissingIssuer);
  std::optional<ServiceId> service_id;
  if (iss->is_string()) service_id = ServiceId::parse(iss->as_string());
  if (!service_id) return Outcome(AuthFailure::kIssuerNotUuid);

  for (bool refreshed : {false, true}) {
    auto entry = service_entry(*service_id, now, refreshed, blocking);
    if (!entry) return entry.error();
    const CachedService& service = **entry;
    if (!service.exists) return Outcome(AuthFailure::kServiceNotFound);
    if (service.keys.empty()) return Outcome(AuthFailure::kServiceHasNoKeys);
    if (!service.active) return Outcome(AuthFailure::kServiceArchived);
    for (const CachedKey& key : service.keys) {
      switch (crypto::verify_hs256(*decoded, key.hmac, now, leeway_)) {
        case crypto::JwtVerdict::kSignatureMismatch:
        case crypto::JwtVerdict::kMissingIssuedAt: continue;
        case crypto::JwtVerdict::kClockSkew: return Outcome(AuthFailure::kClockSkew);
        case crypto::JwtVerdict::kAlgorithmNotAllowed: return Outcome(AuthFailure::kAlgorithmNotHs256);
        case crypto::JwtVerdict::kInvalid: return Outcome(AuthFailure::kGeneric);
        case crypto::JwtVerdict::kValid:
          if (key.revoked) return Outcome(AuthFailure::kKeyRevoked);
          if (key.restricted && !key.networks.contains(source)) return Outcome(AuthFailure::kNetworkNotAllowed);
          return Outcome(Caller{*service_id, key.id, key.type});
      }
    }
  }
  return Outcome(AuthFailure::kKeyNotFound);
}

}  // namespace herald::domain
