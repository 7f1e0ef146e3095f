#include "domain/nhs/clients.h"

#include <algorithm>
#include <cctype>

#include "core/hex.h"
#include "crypto/hmac.h"
#include "crypto/jwk.h"
#include "crypto/random.h"

namespace herald::domain::nhs {
namespace {

constexpr std::size_t kMaxCachedTokens = 10'000;

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization) return std::nullopt;
  constexpr std::string_view kScheme = "bearer ";
  std::string_view value = *authorization;
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 512) return std::nullopt;
  return value;
}

Access access_of(const store::NhsClientRecord& client) {
  if (client.service_ban) return AccessRefusal::kServiceBan;
  if (!client.onboarded) return AccessRefusal::kForbidden;
  return client;
}

}  // namespace

Result<std::string> new_api_key() {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string key;
  while (key.size() < 32) {
    auto bytes = crypto::random_bytes(64);
    if (!bytes) return bytes.error();
    for (char c : *bytes) {
      const auto b = static_cast<unsigned char>(c);
      // 248 = 4 * 62: unbiased.
      if (b < 248 && key.size() < 32) key.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return key;
}

Result<Access> NhsClients::authenticate(std::optional<std::string_view> authorization) {
  const auto token = bearer_token(authorization);
  if (!token) return Access(AccessRefusal::kDenied);
  const std::string hash = hex_encode(crypto::sha256(*token));
  const Timestamp now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now < it->second.until) {
      if (!it->second.client) return Access(AccessRefusal::kDenied);
      return access_of(*it->second.client);
    }
  }
  auto stored = store_.find_access_token(hash, now);
  if (!stored) return stored.error();
  std::optional<store::NhsClientRecord> client;
  Timestamp until = now + cache_for_;
  if (*stored) {
    auto found = store_.find_nhs_client((*stored)->client);
    if (!found) return found.error();
    client = std::move(*found);
    until = std::min(until, (*stored)->expires_at);
  }
  {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedTokens) std::erase_if(cache_, [&](const auto& e) { return e.second.until <= now; });
    if (cache_.size() < kMaxCachedTokens) cache_[hash] = Cached{client, until};
  }
  if (!client) return Access(AccessRefusal::kDenied);
  return access_of(*client);
}

Result<void> check_key_source(const std::string& jwks, const std::string& jwks_url) {
  if (jwks.empty() == jwks_url.empty()) return invalid_argument("give either a JWKS document or a JWKS URL");
  if (!jwks.empty()) {
    auto parsed = crypto::parse_jwks(jwks);
    if (!parsed) return parsed.error();
    return ok();
  }
  if (!jwks_url.starts_with("https://")) return invalid_argument("the JWKS URL must be https");
  return ok();
}

Result<CreatedClient> NhsClients::create(const NewClient& client) {
  if (client.name.empty()) return invalid_argument("a client needs a name");
  HERALD_TRY(check_key_source(client.jwks, client.jwks_url));
  auto api_key = new_api_key();
  if (!api_key) return api_key.error();
  store::NhsClientRecord record;
  record.id = crypto::random_uuid();
  record.service = client.service;
  record.name = client.name;
  record.api_key_hash = hex_encode(crypto::sha256(*api_key));
  record.jwks = client.jwks;
  record.jwks_url = client.jwks_url;
  record.default_ods_code = client.default_ods_code;
  record.allow_ods_override = client.allow_ods_override;
  record.allow_contact_details = client.allow_contact_details;
  record.allowed_networks = client.allowed_networks;
  record.created_at = clock_.now();
  HERALD_TRY(store_.create_nhs_client(record));
  return CreatedClient{std::move(record), std::move(*api_key)};
}

Result<std::optional<int>> NhsRateLimits::admit(const Uuid& client) {
  const Timestamp now = clock_.now();
  const double spike_per_second = config_.spike_per_minute / 60.0;
  auto spike = limits_.take("nhs-spike/" + client.to_string(), std::max(1.0, spike_per_second), spike_per_second, now,
                            Blocking::kAllowed);
  if (!spike) return spike.error();
  if (!*spike) return std::optional<int>(1);
  auto quota = limits_.take("nhs-quota/" + client.to_string(), std::max(1, config_.per_minute),
                            config_.per_minute / 60.0, now, Blocking::kAllowed);
  if (!quota) return quota.error();
  if (!*quota) return std::optional<int>(60);
  return std::optional<int>();
}

}  // namespace herald::domain::nhs
