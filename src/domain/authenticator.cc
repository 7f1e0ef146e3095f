#include "domain/authenticator.h"

#include "crypto/jwt.h"
#include "crypto/secret.h"

namespace herald::domain {
namespace {

// Verified tokens remembered at most; all are forgotten when it is reached. Only tokens signed
// with a service's key get here, so nobody without a key can fill it.
constexpr std::size_t kMaxVerifiedTokens = 1024;

}  // namespace

Result<std::shared_ptr<const Authenticator::CachedService>> Authenticator::fetch(ServiceId id,
                                                                                 Timestamp now) {
  auto entry = std::make_shared<CachedService>();
  entry->fetched_at = now;
  entry->generation = next_generation_.fetch_add(1, std::memory_order_relaxed);
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

std::optional<Authenticator::Outcome> Authenticator::recall(std::string_view token, Timestamp now,
                                                            std::string_view source) {
  std::lock_guard lock(mutex_);
  const auto found = verified_.find(token);
  if (found == verified_.end()) return std::nullopt;
  const VerifiedToken& verified = found->second;
  const auto cached = cache_.find(verified.service);
  // The same keys it was verified against, still fresh; otherwise the full check (which
  // refreshes them when it may).
  if (cached == cache_.end() || cached->second->generation != verified.generation ||
      now - cached->second->fetched_at >= cache_ttl_) {
    return std::nullopt;
  }
  // A time that no longer passes: the full check names the failure as it would have.
  if (crypto::check_token_times(verified.claims, now, leeway_) != crypto::JwtVerdict::kValid) return std::nullopt;
  const CachedKey& key = cached->second->keys[verified.key];
  if (key.restricted && !key.networks.contains(source)) return Outcome(AuthFailure::kNetworkNotAllowed);
  return Outcome(Caller{verified.service, key.id, key.type});
}

void Authenticator::remember(std::string_view token, VerifiedToken verified) {
  std::lock_guard lock(mutex_);
  if (verified_.size() >= kMaxVerifiedTokens) verified_.clear();
  verified_.insert_or_assign(std::string(token), std::move(verified));
}

Result<std::variant<Caller, AuthFailure>> Authenticator::authenticate(std::string_view token, Timestamp now,
                                                                      Blocking blocking, std::string_view source) {
  if (auto known = recall(token, now, source)) return *known;
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
    for (std::size_t index = 0; index < service.keys.size(); ++index) {
      const CachedKey& key = service.keys[index];
      switch (crypto::verify_hs256(*decoded, key.hmac, now, leeway_)) {
        case crypto::JwtVerdict::kSignatureMismatch:
        case crypto::JwtVerdict::kMissingIssuedAt: continue;
        case crypto::JwtVerdict::kClockSkew: return Outcome(AuthFailure::kClockSkew);
        case crypto::JwtVerdict::kAlgorithmNotAllowed: return Outcome(AuthFailure::kAlgorithmNotHs256);
        case crypto::JwtVerdict::kInvalid: return Outcome(AuthFailure::kGeneric);
        case crypto::JwtVerdict::kValid:
          if (key.revoked) return Outcome(AuthFailure::kKeyRevoked);
          remember(token, VerifiedToken{*service_id, service.generation, index, decoded->claims});
          if (key.restricted && !key.networks.contains(source)) return Outcome(AuthFailure::kNetworkNotAllowed);
          return Outcome(Caller{*service_id, key.id, key.type});
      }
    }
  }
  return Outcome(AuthFailure::kKeyNotFound);
}

}  // namespace herald::domain
