#include "domain/nhs/token_issuer.h"

#include <cctype>
#include <cmath>

#include "core/base64.h"
#include "core/hex.h"
#include "core/log.h"
#include "crypto/hmac.h"
#include "crypto/jwt.h"
#include "crypto/random.h"

namespace herald::domain::nhs {
namespace {

constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// Absent, null or "": NHS's gateway reads all three as missing.
bool missing(const json::Value* v) {
  return v == nullptr || v->is_null() || (v->is_string() && v->as_string().empty());
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The claim as a JavaScript value would compare with another's: strings only; anything else
// never matches.
std::optional<std::string> string_claim(const json::Value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

bool audience_matches(const json::Value* aud, std::string_view expected) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == expected;
  if (!aud->is_array()) return false;
  for (const json::Value& item : aud->as_array()) {
    if (item.is_string() && item.as_string() == expected) return true;
  }
  return false;
}

std::int64_t seconds_of(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<TokenOutcome> TokenIssuer::issue(const TokenRequest& request) {
  if (!request.grant_type || request.grant_type->empty()) return TokenOutcome(TokenRefusal::kGrantTypeMissing);
  if (*request.grant_type != "client_credentials") return TokenOutcome(TokenRefusal::kGrantTypeInvalid);
  if (request.client_assertion_type != kAssertionType) return TokenOutcome(TokenRefusal::kAssertionTypeInvalid);
  if (!request.client_assertion || request.client_assertion->empty()) {
    return TokenOutcome(TokenRefusal::kAssertionMissing);
  }
  auto decoded = crypto::decode_jwt(*request.client_assertion);
  if (!decoded) return TokenOutcome(TokenRefusal::kAssertionMalformed);
  const json::Value& header = decoded->header;
  const json::Value& claims = decoded->claims;

  const json::Value* kid = header.find("kid");
  if (missing(kid) || !kid->is_string()) return TokenOutcome(TokenRefusal::kKidMissing);
  const json::Value* typ = header.find("typ");
  if (typ == nullptr || !typ->is_string() || !equals_ignoring_case(typ->as_string(), "jwt")) {
    return TokenOutcome(TokenRefusal::kTypInvalid);
  }
  const auto iss = string_claim(claims.find("iss"));
  const auto sub = string_claim(claims.find("sub"));
  if (!iss || iss->empty() || iss != sub) return TokenOutcome(TokenRefusal::kIssSubInvalid);
  const json::Value* jti = claims.find("jti");
  if (missing(jti)) return TokenOutcome(TokenRefusal::kJtiMissing);
  if (!jti->is_string()) return TokenOutcome(TokenRefusal::kJtiNotString);
  const json::Value* exp = claims.find("exp");
  if (missing(exp)) return TokenOutcome(TokenRefusal::kExpMissing);
  if (!exp->is_number()) return TokenOutcome(TokenRefusal::kExpNotInteger);
  const double exp_seconds = std::strtod(exp->as_string().c_str(), nullptr);
  if (!std::isfinite(exp_seconds)) return TokenOutcome(TokenRefusal::kExpNotInteger);
  const Timestamp now = clock_.now();
  const auto now_s = static_cast<double>(seconds_of(now));
  if (exp_seconds - now_s > static_cast<double>(config_.max_assertion_lifetime.count())) {
    return TokenOutcome(TokenRefusal::kExpTooFarAhead);
  }

  // NHS remembers the jti before it knows the client; Herald remembers it per client, so the
  // client is found first (an unknown iss is refused either way).
  auto client = store_.find_nhs_client_by_key(hex_encode(crypto::sha256(*iss)));
  if (!client) return client.error();
  if (!*client) return TokenOutcome(TokenRefusal::kIssUnknown);
  // Remembered until the assertion itself could no longer be accepted.
  const Timestamp remember_until = now + config_.max_assertion_lifetime + config_.leeway + std::chrono::seconds(1);
  auto fresh =
      store_.remember_assertion_id((*client)->id, hex_encode(crypto::sha256(jti->as_string())), remember_until, now);
  if (!fresh) return fresh.error();
  if (!*fresh) return TokenOutcome(TokenRefusal::kJtiReused);

  auto keys = keys_for(**client, kid->as_string(), now);
  if (auto* refusal = std::get_if<TokenRefusal>(&keys)) return TokenOutcome(*refusal);
  const auto& jwks = std::get<std::shared_ptr<const crypto::Jwks>>(keys);

  const json::Value* alg = header.find("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "RS512") {
    return TokenOutcome(TokenRefusal::kAlgInvalid);
  }
  const crypto::Jwk* key = jwks->find(kid->as_string());
  if (key == nullptr) return TokenOutcome(TokenRefusal::kKidUnknown);
  if (!crypto::verify_rs512(key->key, decoded->signing_input, decoded->signature)) {
    return TokenOutcome(TokenRefusal::kSignatureInvalid);
  }
  if (exp_seconds + static_cast<double>(config_.leeway.count()) < now_s) return TokenOutcome(TokenRefusal::kExpired);
  if (!audience_matches(claims.find("aud"), request.audience)) return TokenOutcome(TokenRefusal::kAudInvalid);

  auto secret = crypto::random_bytes(24);
  if (!secret) return secret.error();
  IssuedToken issued{base64url_encode(*secret), config_.lifetime, now, (*client)->id};
  HERALD_TRY(store_.insert_access_token(store::NhsAccessToken{hex_encode(crypto::sha256(issued.access_token)),
                                                              (*client)->id, now, now + config_.lifetime}));
  return TokenOutcome(std::move(issued));
}

std::variant<std::shared_ptr<const crypto::Jwks>, TokenRefusal> TokenIssuer::keys_for(
    const store::NhsClientRecord& client, std::string_view kid, Timestamp now) {
  if (!client.jwks.empty()) {
    auto parsed = crypto::parse_jwks(client.jwks);
    if (!parsed) {
      log::warn("nhs.jwks_invalid", {{"client", client.id.to_string()}, {"error", parsed.error().message}});
      return TokenRefusal::kNoPublicKey;
    }
    return std::make_shared<const crypto::Jwks>(std::move(*parsed));
  }
  if (client.jwks_url.empty()) return TokenRefusal::kNoPublicKey;
  {
    std::lock_guard lock(mutex_);
    auto it = fetched_.find(client.jwks_url);
    if (it != fetched_.end()) {
      const Duration age = now - it->second.fetched_at;
      const bool fresh = age < config_.jwks_cache && age >= Duration::zero();
      const bool knows_kid = it->second.keys->find(kid) != nullptr;
      if (fresh && (knows_kid || age < std::chrono::minutes(1))) return it->second.keys;
    }
  }
  auto document = fetch_jwks_ ? fetch_jwks_(client.jwks_url) : Result<std::string>(unavailable("no JWKS fetcher"));
  if (!document) {
    log::warn("nhs.jwks_unreachable", {{"client", client.id.to_string()}, {"error", document.error().message}});
    return TokenRefusal::kJwksUnreachable;
  }
  auto parsed = crypto::parse_jwks(*document);
  if (!parsed) {
    log::warn("nhs.jwks_invalid", {{"client", client.id.to_string()}, {"error", parsed.error().message}});
    return TokenRefusal::kJwksUnreachable;
  }
  auto keys = std::make_shared<const crypto::Jwks>(std::move(*parsed));
  std::lock_guard lock(mutex_);
  fetched_[client.jwks_url] = CachedJwks{keys, now};
  return keys;
}

}  // namespace herald::domain::nhs
