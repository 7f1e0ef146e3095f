#include "delivery/nhs_platform/platform_token.h"

#include <cstdlib>

#include "core/json.h"
#include "core/url.h"
#include "crypto/random.h"

namespace herald::delivery::nhs_platform {

Result<std::string> PlatformToken::get() {
  const Timestamp now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && now + std::chrono::minutes(1) < token_expires_) return token_;
  }
  json::Writer header;
  header.begin_object().key("alg").string("RS512").key("typ").string("JWT").key("kid").string(credentials_.kid);
  header.end_object();
  const std::int64_t seconds = to_micros(now) / 1'000'000;
  json::Writer claims;
  claims.begin_object().key("iss").string(credentials_.api_key).key("sub").string(credentials_.api_key);
  claims.key("aud").string(credentials_.token_url).key("jti").string(crypto::random_uuid().to_string());
  claims.key("exp").integer(seconds + 300).end_object();
  const std::string assertion = crypto::sign_jwt_rs512(key_, header.str(), claims.str());
  const std::string form = "grant_type=client_credentials&client_assertion_type=" +
                           percent_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                           "&client_assertion=" + percent_encode(assertion);
  auto response = net::https_request("POST", credentials_.token_url,
                                     {{"Content-Type", "application/x-www-form-urlencoded"}}, form, credentials_.http);
  if (!response) return unavailable("token: " + response.error().message);
  if (response->status != 200) return unavailable("token endpoint answered " + std::to_string(response->status));
  auto body = json::parse(response->body);
  const json::Value* access = body && body->is_object() ? body->find("access_token") : nullptr;
  if (access == nullptr || !access->is_string()) return unavailable("token endpoint answered no token");
  std::int64_t lifetime = 599;
  if (const json::Value* expires = body->find("expires_in")) {
    if (expires->is_string()) lifetime = std::atoll(expires->as_string().c_str());
    if (expires->is_number()) lifetime = expires->as_int64().value_or(599);
  }
  std::lock_guard lock(mutex_);
  token_ = access->as_string();
  token_expires_ = now + std::chrono::seconds(lifetime);
  return token_;
}

void PlatformToken::forget() {
  std::lock_guard lock(mutex_);
  token_.clear();
}

}  // namespace herald::delivery::nhs_platform
