#include "crypto/jwt.h"

#include <cmath>

#include "core/base64.h"
#include "crypto/hmac.h"
#include "crypto/secret.h"

namespace herald::crypto {
namespace {

constexpr std::size_t kMaxTokenBytes = 8 * 1024;

Result<json::Value> decode_object(std::string_view part) {
  auto bytes = base64url_decode(part);
  if (!bytes) return invalid_argument("jwt: bad base64url");
  json::ParseLimits limits;
  limits.max_depth = 8;
  auto value = json::parse(*bytes, limits);
  if (!value) return value.error();
  if (!value->is_object()) return invalid_argument("jwt: part is not an object");
  return value;
}

// Seconds since the epoch from a numeric claim, as PyJWT's int() would read it.
std::optional<std::int64_t> numeric_claim(const json::Value& v) {
  if (!v.is_number()) return std::nullopt;
  if (auto n = v.as_int64()) return n;
  const double d = std::strtod(v.as_string().c_str(), nullptr);
  if (!std::isfinite(d) || std::fabs(d) > 1e15) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

}  // namespace

Result<DecodedJwt> decode_jwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return invalid_argument("jwt: too long");
  const auto first = token.find('.');
  if (first == std::string_view::npos) return invalid_argument("jwt: not three parts");
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid_argument("jwt: not three parts");
  }
  auto header = decode_object(token.substr(0, first));
  if (!header) return header.error();
  auto claims = decode_object(token.substr(first + 1, second - first - 1));
  if (!claims) return claims.error();
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature) return invalid_argument("jwt: bad signature encoding");
  return DecodedJwt{std::move(*header), std::move(*claims), std::string(token.substr(0, second)),
                    std::move(*signature)};
}

JwtVerdict verify_hs256(const DecodedJwt& token, std::string_view secret, Timestamp now,
                        std::chrono::seconds leeway) {
  return verify_hs256(token, HmacSha256Key(secret), now, leeway);
}

JwtVerdict verify_hs256(const DecodedJwt& token, const HmacSha256Key& key, Timestamp now,
                        std::chrono::seconds leeway) {
  const json::Value* alg = token.header.find("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256") {
    return JwtVerdict::kAlgorithmNotAllowed;
  }
  const auto mac = key.mac(token.signing_input);
  if (!constant_time_equal(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()),
                           token.signature)) {
    return JwtVerdict::kSignatureMismatch;
  }
  return check_token_times(token.claims, now, leeway);
}

JwtVerdict check_token_times(const json::Value& claims, Timestamp now, std::chrono::seconds leeway) {
  // The order of checks is PyJWT's, then notifications-python-client's verify_iat.
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const json::Value* iat = claims.find("iat");
  std::optional<std::int64_t> issued;
  if (iat != nullptr) {
    issued = numeric_claim(*iat);
    if (!issued || *issued > now_s + leeway.count()) return JwtVerdict::kClockSkew;
  }
  if (const json::Value* exp = claims.find("exp")) {
    auto e = numeric_claim(*exp);
    if (!e || *e + leeway.count() < now_s) return JwtVerdict::kInvalid;
  }
  if (iat == nullptr) return JwtVerdict::kMissingIssuedAt;
  if (*issued < now_s - leeway.count()) return JwtVerdict::kClockSkew;
  return JwtVerdict::kValid;
}

std::string sign_hs256(const json::Value& claims, std::string_view secret) {
  std::string input = base64url_encode(R"({"typ":"JWT","alg":"HS256"})");
  input += '.';
  input += base64url_encode(json::serialize(claims));
  std::string token = input;
  token += '.';
  token += base64url_encode(hmac_sha256(secret, input));
  return token;
}

}  // namespace herald::crypto
