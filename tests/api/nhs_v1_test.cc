// NHS Notify's token endpoint and the resource API's gate (bearer tokens, content negotiation,
// routing errors, the JSON:API error envelope), through the router as a client would call them.
#include <gtest/gtest.h>

#include <memory>

#include "api/govuk_v2/errors.h"
#include "api/nhs_v1/handlers.h"
#include "core/base64.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/url.h"
#include "crypto/hmac.h"
#include "crypto/jwk.h"
#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::api::nhs_v1 {
namespace {

constexpr const char* kApiKey = "TestApiKey0123456789abcdefghijkl";
constexpr const char* kHost = "herald.test";
constexpr const char* kAudience = "https://herald.test/oauth2/token";

const crypto::RsaPrivateKey& client_key() {
  static const crypto::RsaPrivateKey key = *crypto::RsaPrivateKey::generate(2048);
  return key;
}
const crypto::RsaPrivateKey& other_key() {
  static const crypto::RsaPrivateKey key = *crypto::RsaPrivateKey::generate(2048);
  return key;
}

std::string jwks_of(const crypto::RsaPrivateKey& key, std::string_view kid) {
  return "{\"keys\":[" + key.public_jwk_json(kid) + "]}";
}

json::Value parse(const std::string& body) {
  auto v = json::parse(body);
  EXPECT_TRUE(v) << body;
  return v ? *v : json::Value();
}

std::string header_of(const net::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (net::iequals(k, name)) return v;
  }
  return "<absent>";
}

// The first error's member, e.g. "code".
std::string error_field(const net::Response& r, std::string_view field) {
  const json::Value body = parse(r.body);
  const json::Value* errors = body.find("errors");
  if (errors == nullptr || !errors->is_array() || errors->as_array().empty()) return "<no errors>";
  const json::Value* v = errors->as_array()[0].find(field);
  if (v == nullptr) return "<absent>";
  return v->is_string() ? v->as_string() : json::serialize(*v);
}

struct Claims {
  std::string iss = kApiKey;
  std::string sub = kApiKey;
  std::string aud = kAudience;
  std::optional<std::string> jti;  // default: a fresh UUID
  std::string exp;                 // default: now + 180 (as JSON)
};

class NhsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    store::ServiceRecord service;
    service.id = ServiceId{crypto::random_uuid()};
    service.name = "GP surgery";
    service.created_at = clock_.now();
    ASSERT_TRUE(store_.create_service(service));
    service_ = service.id;
    client_ = add_client(kApiKey, jwks_of(client_key(), "key-1"), "");
    register_routes(router_,
                    {tokens_, clients_, messages_, rate_limits_, clock_, "/comms", "/oauth2/token", "", "",
                     [this](std::string_view reason, std::string_view) { refusals_.emplace_back(reason); }, nullptr});
  }

  store::NhsClientRecord add_client(std::string_view api_key, std::string jwks, std::string url) {
    store::NhsClientRecord c;
    c.id = crypto::random_uuid();
    c.service = service_;
    c.name = "client";
    c.api_key_hash = hex_encode(crypto::sha256(api_key));
    c.jwks = std::move(jwks);
    c.jwks_url = std::move(url);
    c.default_ods_code = "A12345";
    c.created_at = clock_.now();
    EXPECT_TRUE(store_.create_nhs_client(c));
    return c;
  }

  std::int64_t now_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  }

  std::string claims_json(const Claims& c) {
    json::Writer w;
    w.begin_object().key("iss").string(c.iss).key("sub").string(c.sub).key("aud").string(c.aud);
    w.key("jti").string(c.jti ? *c.jti : crypto::random_uuid().to_string());
    w.key("exp").raw_number(c.exp.empty() ? std::to_string(now_s() + 180) : c.exp);
    return w.end_object().take();
  }

  std::string assertion(const Claims& c = {}, std::string_view header = R"({"alg":"RS512","typ":"JWT","kid":"key-1"})",
                        const crypto::RsaPrivateKey* key = nullptr) {
    return crypto::sign_jwt_rs512(key ? *key : client_key(), header, claims_json(c));
  }

  net::Response post_token(const std::string& body, std::string content_type = "application/x-www-form-urlencoded") {
    net::Request r;
    r.method = "POST";
    r.path = r.target = "/oauth2/token";
    r.host = kHost;
    r.headers = {{"Content-Type", std::move(content_type)}};
    r.body = body;
    return router_.dispatch(r);
  }

  net::Response token_for(const std::string& jwt) {
    return post_token(encode_form({{"grant_type", "client_credentials"},
                                   {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                                   {"client_assertion", jwt}}));
  }

  std::string access_token(std::string api_key = kApiKey) {
    Claims claims;
    claims.iss = claims.sub = api_key;
    const auto r = token_for(assertion(claims));
    EXPECT_EQ(r.status, 200) << r.body;
    return parse(r.body).find("access_token")->as_string();
  }

  net::Response post_message(const std::string& body, const std::string& token,
                             std::string content_type = "application/vnd.api+json") {
    net::Request r;
    r.method = "POST";
    r.path = r.target = "/comms/v1/messages";
    r.host = kHost;
    r.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", std::move(content_type)}};
    r.body = body;
    return router_.dispatch(r);
  }

  net::Response get(const std::string& target, net::Headers headers, std::string method = "GET") {
    net::Request r;
    r.method = std::move(method);
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.host = kHost;
    r.headers = std::move(headers);
    return router_.dispatch(r);
  }

  fakes::FakeClock clock_;
  fakes::MemoryStore store_;
  std::vector<std::string> refusals_;  // told to the audit hook
  ServiceId service_;
  store::NhsClientRecord client_;
  std::string jwks_document_;  // what the fake JWKS URL serves
  int jwks_fetches_ = 0;
  domain::nhs::TokenIssuer tokens_{store_, clock_, {}, [this](const std::string& url) -> Result<std::string> {
                                     ++jwks_fetches_;
                                     if (url != "https://keys.example/jwks.json") return unavailable("unreachable");
                                     return jwks_document_;
                                   }};
  domain::nhs::NhsClients clients_{store_, clock_, std::chrono::milliseconds(0)};
  domain::nhs::RoutingPlans plans_{store_, store_, store_, clock_};
  domain::nhs::NhsMessages messages_{store_, plans_, clock_};
  domain::nhs::NhsRateLimits rate_limits_{store_, clock_, {}};  // NHS's: 1,200 and 6,000 a minute
  Router router_{1, govuk_v2::router_errors()};
};

TEST_F(NhsApi, SignedAssertionGetsAnOpaqueTokenInNhsShape) {
  const auto r = token_for(assertion());
  ASSERT_EQ(r.status, 200) << r.body;
  const json::Value body = parse(r.body);
  ASSERT_TRUE(body.find("access_token") && body.find("access_token")->is_string());
  EXPECT_GE(body.find("access_token")->as_string().size(), 32U);
  EXPECT_EQ(body.find("expires_in")->as_string(), "599");
  EXPECT_TRUE(body.find("expires_in")->is_string());
  EXPECT_EQ(body.find("token_type")->as_string(), "Bearer");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  EXPECT_EQ(body.find("issued_at")->as_string(), std::to_string(ms));
  EXPECT_EQ(header_of(r, "Cache-Control"), "no-store");
  // Only the hash is stored.
  const std::string token = body.find("access_token")->as_string();
  EXPECT_TRUE(store_.find_access_token(hex_encode(crypto::sha256(token)), clock_.now())->has_value());
  EXPECT_FALSE(store_.find_access_token(token, clock_.now())->has_value());
}

struct TokenCase {
  const char* name;
  int status;
  const char* error;
  const char* description;
};

void expect_refusal(const net::Response& r, int status, std::string_view error, std::string_view description) {
  EXPECT_EQ(r.status, status) << r.body;
  const json::Value body = parse(r.body);
  ASSERT_NE(body.find("error"), nullptr) << r.body;
  EXPECT_EQ(body.find("error")->as_string(), error);
  EXPECT_EQ(body.find("error_description")->as_string(), description);
  ASSERT_NE(body.find("message_id"), nullptr);
  EXPECT_FALSE(body.find("message_id")->as_string().empty());
  EXPECT_EQ(body.find("access_token"), nullptr);
}

TEST_F(NhsApi, TokenRequestErrorsAreNhsOwn) {
  const std::string type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  expect_refusal(post_token(encode_form({{"client_assertion_type", type}, {"client_assertion", assertion()}})), 400,
                 "invalid_request", "grant_type is missing");
  expect_refusal(post_token(encode_form({{"grant_type", "authorization_code"}})), 400, "unsupported_grant_type",
                 "grant_type is invalid");
  expect_refusal(post_token(encode_form({{"grant_type", "client_credentials"}, {"client_assertion", assertion()}})),
                 400, "invalid_request",
                 "Missing or invalid client_assertion_type - must be "
                 "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'");
  expect_refusal(post_token(encode_form({{"grant_type", "client_credentials"}, {"client_assertion_type", type}})), 400,
                 "invalid_request", "Missing client_assertion");
  expect_refusal(token_for("not.a.jwt"), 400, "invalid_request", "Malformed JWT in client_assertion");
  EXPECT_EQ(refusals_.size(), 5U) << "refused token requests are audited";
  const auto json_body = post_token(R"({"grant_type":"client_credentials"})", "application/json");
  expect_refusal(json_body, 415, "invalid_request", "Content-Type header must be application/x-www-form-urlencoded");
}

TEST_F(NhsApi, AssertionAttacksAreRefused) {
  const std::string iss_sub = "Missing or non-matching 'iss'/'sub' claims in client_assertion JWT";
  // alg none: no signature at all.
  {
    const std::string none =
        base64url_encode(R"({"alg":"none","typ":"JWT","kid":"key-1"})") + "." + base64url_encode(claims_json({})) + ".";
    expect_refusal(token_for(none), 400, "invalid_request",
                   "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'");
  }
  // HS512 keyed with the public key (the algorithm-confusion attack).
  {
    const std::string input =
        base64url_encode(R"({"alg":"HS512","typ":"JWT","kid":"key-1"})") + "." + base64url_encode(claims_json({}));
    const std::string jwt =
        input + "." + base64url_encode(crypto::hmac_sha256(client_key().public_jwk_json("key-1"), input));
    expect_refusal(token_for(jwt), 400, "invalid_request",
                   "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'");
  }
  // RS256 named in the header (signed as RS512: still refused by name).
  expect_refusal(token_for(assertion({}, R"({"alg":"RS256","typ":"JWT","kid":"key-1"})")), 400, "invalid_request",
                 "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'");
  Claims expired;
  expired.exp = std::to_string(now_s() - 60);
  expect_refusal(token_for(assertion(expired)), 400, "invalid_request",
                 "Invalid 'exp' claim in client_assertion JWT - JWT has expired");
  Claims far;
  far.exp = std::to_string(now_s() + 311);
  expect_refusal(token_for(assertion(far)), 400, "invalid_request",
                 "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future");
  Claims edge;
  edge.exp = std::to_string(now_s() + 310);
  EXPECT_EQ(token_for(assertion(edge)).status, 200) << "310 s is NHS's limit";
  Claims wrong_aud;
  wrong_aud.aud = "https://attacker.example/oauth2/token";
  expect_refusal(token_for(assertion(wrong_aud)), 401, "invalid_request",
                 "Missing or invalid 'aud' claim in client_assertion JWT");
  expect_refusal(token_for(assertion({}, R"({"alg":"RS512","typ":"JWT","kid":"key-9"})")), 401, "invalid_request",
                 "Invalid 'kid' header in client_assertion JWT - no matching public key");
  expect_refusal(token_for(assertion({}, R"({"alg":"RS512","typ":"JWT"})")), 400, "invalid_request",
                 "Missing 'kid' header in client_assertion JWT");
  expect_refusal(token_for(assertion({}, R"({"alg":"RS512","kid":"key-1"})")), 400, "invalid_request",
                 "Invalid 'typ' header in client_assertion JWT - must be 'JWT'");
  EXPECT_EQ(token_for(assertion({}, R"({"alg":"RS512","typ":"jwt","kid":"key-1"})")).status, 200)
      << "typ compared ignoring case";
  // Signed by another key under our kid; and a flipped signature byte.
  expect_refusal(token_for(assertion({}, R"({"alg":"RS512","typ":"JWT","kid":"key-1"})", &other_key())), 401,
                 "public_key error", "JWT signature verification failed");
  {
    std::string jwt = assertion();
    const auto dot = jwt.rfind('.');
    std::string sig = *base64url_decode(jwt.substr(dot + 1));
    sig[10] = static_cast<char>(sig[10] ^ 1);
    expect_refusal(token_for(jwt.substr(0, dot + 1) + base64url_encode(sig)), 401, "public_key error",
                   "JWT signature verification failed");
  }
  // Claims swapped after signing.
  {
    const std::string jwt = assertion();
    const auto first = jwt.find('.');
    const auto second = jwt.rfind('.');
    Claims other;
    other.iss = other.sub = kApiKey;
    const std::string forged = jwt.substr(0, first + 1) + base64url_encode(claims_json(other)) + jwt.substr(second);
    expect_refusal(token_for(forged), 401, "public_key error", "JWT signature verification failed");
  }
  Claims mismatched;
  mismatched.sub = "someone-else";
  expect_refusal(token_for(assertion(mismatched)), 400, "invalid_request", iss_sub);
  Claims unknown;
  unknown.iss = unknown.sub = "UnknownKey";
  expect_refusal(token_for(assertion(unknown)), 401, "invalid_request",
                 "Invalid 'iss'/'sub' claims in client_assertion JWT");
  Claims no_jti;
  no_jti.jti = "";
  expect_refusal(token_for(assertion(no_jti)), 400, "invalid_request", "Missing 'jti' claim in client_assertion JWT");
  Claims exp_text;
  exp_text.exp = "\"soon\"";
  expect_refusal(token_for(assertion(exp_text)), 400, "invalid_request",
                 "Invalid 'exp' claim in client_assertion JWT - must be an integer");
}

TEST_F(NhsApi, AJtiIsAcceptedOnceAndUsedUpEvenByAFailedAssertion) {
  Claims c;
  c.jti = "jti-once";
  EXPECT_EQ(token_for(assertion(c)).status, 200);
  expect_refusal(token_for(assertion(c)), 400, "invalid_request", "Non-unique 'jti' claim in client_assertion JWT");
  // NHS remembers the jti before it checks the signature: the good retry is refused too.
  c.jti = "jti-bad-then-good";
  expect_refusal(token_for(assertion(c, R"({"alg":"RS512","typ":"JWT","kid":"key-1"})", &other_key())), 401,
                 "public_key error", "JWT signature verification failed");
  expect_refusal(token_for(assertion(c)), 400, "invalid_request", "Non-unique 'jti' claim in client_assertion JWT");
  // Remembered past the assertion's own life, then forgotten.
  clock_.advance(std::chrono::minutes(10));
  EXPECT_EQ(token_for(assertion(c)).status, 200);
}

TEST_F(NhsApi, KeysComeFromTheRegisteredDocumentOrTheClientsUrl) {
  add_client("NoKeysClient", "", "");
  Claims no_keys;
  no_keys.iss = no_keys.sub = "NoKeysClient";
  expect_refusal(token_for(assertion(no_keys)), 403, "public_key error",
                 "You need to register a public key to use this authentication method - please contact support to "
                 "configure");
  add_client("UnreachableKeys", "", "https://down.example/jwks.json");
  Claims down;
  down.iss = down.sub = "UnreachableKeys";
  expect_refusal(token_for(assertion(down)), 403, "public_key error",
                 "The JWKS endpoint, for your client_assertion can't be reached");
  add_client("UrlKeys", "", "https://keys.example/jwks.json");
  jwks_document_ = jwks_of(client_key(), "key-1");
  Claims by_url;
  by_url.iss = by_url.sub = "UrlKeys";
  EXPECT_EQ(token_for(assertion(by_url)).status, 200);
  const int fetches = jwks_fetches_;
  EXPECT_EQ(token_for(assertion(by_url)).status, 200);
  EXPECT_EQ(jwks_fetches_, fetches) << "cached";
  // A rotated key: an unknown kid fetches again once the copy is a minute old.
  jwks_document_ = jwks_of(other_key(), "key-2");
  clock_.advance(std::chrono::seconds(61));
  EXPECT_EQ(token_for(assertion(by_url, R"({"alg":"RS512","typ":"JWT","kid":"key-2"})", &other_key())).status, 200);
  EXPECT_EQ(jwks_fetches_, fetches + 1);
}

TEST_F(NhsApi, ResourcesNeedALiveTokenOfAnOnboardedUnbannedClient) {
  const std::string path = "/comms/channels/nhsapp/accounts?ods-organisation-code=A12345";
  auto denied = get(path, {});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(error_field(denied, "code"), "CM_DENIED");
  EXPECT_EQ(error_field(denied, "source"), R"({"header":"Authorization"})");
  EXPECT_EQ(get(path, {{"Authorization", "Bearer not-a-token"}}).status, 401);
  ASSERT_EQ(refusals_.size(), 2U) << "refused bearer tokens are audited";
  EXPECT_EQ(refusals_.back().find("not-a-token"), std::string::npos);
  const std::string token = access_token();
  EXPECT_EQ(get(path, {{"Authorization", "Bearer " + token}}).status, 404) << "authenticated: no report";
  EXPECT_EQ(get(path, {{"Authorization", "bearer " + token}}).status, 404) << "scheme in any case";
  EXPECT_EQ(get(path, {{"Authorization", token}}).status, 401) << "no scheme";

  client_.service_ban = true;
  ASSERT_TRUE(store_.update_nhs_client(client_));
  auto banned = get(path, {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(banned.status, 403);
  EXPECT_EQ(error_field(banned, "code"), "CM_SERVICE_BAN");
  client_.service_ban = false;
  client_.onboarded = false;
  ASSERT_TRUE(store_.update_nhs_client(client_));
  auto forbidden = get(path, {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(error_field(forbidden, "code"), "CM_FORBIDDEN");
  client_.onboarded = true;
  ASSERT_TRUE(store_.update_nhs_client(client_));

  clock_.advance(std::chrono::seconds(599));
  EXPECT_EQ(get(path, {{"Authorization", "Bearer " + token}}).status, 401) << "expired";
}

TEST_F(NhsApi, ContentNegotiationAndTheCommonHeaders) {
  const std::string auth = "Bearer " + access_token();
  const std::string path = "/comms/channels/nhsapp/accounts?ods-organisation-code=A12345";
  auto plain = get(path, {{"Authorization", auth}, {"Accept", "application/json"}});
  EXPECT_EQ(plain.content_type, "application/json");
  auto absent = get(path, {{"Authorization", auth}});
  EXPECT_EQ(absent.content_type, "application/vnd.api+json");
  for (const char* ok :
       {"*/*", "application/vnd.api+json", "application/json; charset=utf-8", "application/json, text/plain, */*"}) {
    EXPECT_EQ(get(path, {{"Authorization", auth}, {"Accept", ok}}).status, 404) << ok;
  }
  for (const char* bad : {"text/html", "application/xml", "application/json; charset=latin1"}) {
    auto refused = get(path, {{"Authorization", auth}, {"Accept", bad}});
    EXPECT_EQ(refused.status, 406) << bad;
    EXPECT_EQ(error_field(refused, "code"), "CM_NOT_ACCEPTABLE");
    EXPECT_EQ(error_field(refused, "source"), R"({"header":"Accept"})");
  }
  EXPECT_EQ(header_of(absent, "Cache-Control"), "no-cache, no-store, must-revalidate");
  EXPECT_EQ(header_of(absent, "X-Content-Type-Options"), "nosniff");
  // A correlation id is echoed; without one the request id is sent, and errors' ids extend it.
  auto echoed = get(path, {{"Authorization", auth}, {"X-Correlation-Id", "abc-123"}});
  EXPECT_EQ(header_of(echoed, "X-Correlation-Id"), "abc-123");
  const std::string generated = header_of(absent, "X-Correlation-Id");
  ASSERT_NE(generated, "<absent>");
  EXPECT_EQ(generated.rfind("rrt-", 0), 0u) << "NHS's tests expect a generated id to start rrt: " << generated;
  EXPECT_EQ(generated.find('.'), std::string::npos);
  EXPECT_EQ(error_field(absent, "id"), generated + ".0");
}

TEST_F(NhsApi, ErrorEnvelopeIsJsonApiWithNhsWording) {
  const std::string auth = "Bearer " + access_token();
  auto r = get("/comms/channels/nhsapp/accounts?ods-organisation-code=A12345", {{"Authorization", auth}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_field(r, "code"), "CM_NOT_FOUND");
  EXPECT_EQ(error_field(r, "status"), "404") << "status is a string";
  EXPECT_EQ(error_field(r, "title"), "Resource not found");
  EXPECT_EQ(error_field(r, "detail"), "Report not found");
  EXPECT_EQ(error_field(r, "links"), R"({"about":"https://digital.nhs.uk/developer/api-catalogue/nhs-notify"})");
  auto missing = get("/comms/channels/nhsapp/accounts", {{"Authorization", auth}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_field(missing, "code"), "CM_INVALID_REQUEST");
  EXPECT_EQ(error_field(missing, "detail"), "Missing ODS Code");
  auto invalid = get("/comms/channels/nhsapp/accounts?ods-organisation-code=12345", {{"Authorization", auth}});
  EXPECT_EQ(error_field(invalid, "detail"), "Invalid ODS Code");
  EXPECT_EQ(get("/comms/channels/nhsapp/accounts?ods-organisation-code=a1b2c", {{"Authorization", auth}}).status, 404);
  auto bad_page = get("/comms/channels/nhsapp/accounts?ods-organisation-code=A12345&page=0", {{"Authorization", auth}});
  EXPECT_EQ(bad_page.status, 400);
  EXPECT_EQ(error_field(bad_page, "detail"), "page must be a positive non-zero integer");
  // NHS England's own code, which NHS's tests use, is accepted though it has neither shape.
  EXPECT_EQ(get("/comms/channels/nhsapp/accounts?ods-organisation-code=X26", {{"Authorization", auth}}).status, 404);
}

TEST_F(NhsApi, UnknownPathsAndWrongMethodsUnderThePrefixAnswerInNhsFormat) {
  auto unknown = get("/comms/v1/nothing-here", {{"X-Correlation-Id", "c-1"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_field(unknown, "code"), "CM_NOT_FOUND");
  EXPECT_EQ(header_of(unknown, "X-Correlation-Id"), "c-1");
  EXPECT_EQ(error_field(get("/comms", {}), "code"), "CM_NOT_FOUND");
  net::Request post;
  post.method = "POST";
  post.path = post.target = "/comms/channels/nhsapp/accounts";
  auto wrong = router_.dispatch(post);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(error_field(wrong, "code"), "CM_NOT_ALLOWED");
  // A double slash is one (NHS's gateway collapses them; NHS's tests send them).
  auto doubled = get("/comms//v1/messages", {});
  EXPECT_EQ(doubled.status, 405);
  EXPECT_EQ(error_field(doubled, "code"), "CM_NOT_ALLOWED");
  // Outside the prefix, GOV.UK's envelope as before.
  auto govuk = get("/communications", {});
  EXPECT_EQ(govuk.status, 404);
  EXPECT_NE(parse(govuk.body).find("status_code"), nullptr);
}

TEST_F(NhsApi, CorsIsAnsweredAsNhssGatewayAnswersIt) {
  auto preflight =
      get("/comms/v1/messages",
          {{"Origin", "https://gp.example"}, {"Access-Control-Request-Method", "POST"}, {"X-Correlation-Id", "cors-1"}},
          "OPTIONS");
  EXPECT_EQ(preflight.status, 200);
  EXPECT_EQ(header_of(preflight, "Access-Control-Allow-Origin"), "https://gp.example");
  EXPECT_EQ(header_of(preflight, "Access-Control-Allow-Methods"), "GET, PUT, POST, PATCH, DELETE");
  EXPECT_EQ(header_of(preflight, "Access-Control-Allow-Headers"),
            "origin, x-requested-with, accept, content-type, nhsd-session-urid, x-correlation-id, authorization");
  EXPECT_EQ(header_of(preflight, "Access-Control-Max-Age"), "3628800");
  EXPECT_EQ(header_of(preflight, "X-Correlation-Id"), "cors-1");
  EXPECT_EQ(header_of(preflight, "Access-Control-Allow-Credentials"), "<absent>");
  // Any other request with an Origin, errors included.
  auto denied = get("/comms/v1/messages/2WL3qFTEFM0qMY8xjRbt1LIKCzM", {{"Origin", "https://gp.example"}});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(header_of(denied, "Access-Control-Allow-Origin"), "https://gp.example");
  EXPECT_EQ(header_of(denied, "Access-Control-Expose-Headers"), "x-correlation-id");
  EXPECT_EQ(header_of(denied, "Cross-Origin-Resource-Policy"), "cross-origin");
  EXPECT_EQ(header_of(get("/comms/v1/messages/x", {}), "Access-Control-Allow-Origin"), "<absent>");
  // OPTIONS without the preflight headers is a wrong method.
  EXPECT_EQ(get("/comms/v1/messages", {{"Origin", "https://gp.example"}}, "OPTIONS").status, 405);
}

std::string message_body(std::string_view attributes_extra = "", std::string reference = "ref-1",
                         std::string_view plan = "00000000-0000-0000-0000-000000000002") {
  return std::string(R"({"data":{"type":"Message","attributes":{"routingPlanId":")") + std::string(plan) +
         R"(","messageReference":")" + reference +
         R"(","recipient":{"nhsNumber":"9990548609"},"personalisation":{"email_subject":"Hi","email_body":"Body"})" +
         std::string(attributes_extra) + "}}}";
}

// All errors of a response as "CODE pointer" lines, in order.
std::vector<std::string> error_list(const net::Response& r) {
  std::vector<std::string> out;
  const json::Value body = parse(r.body);
  const json::Value* errors = body.find("errors");
  if (errors == nullptr) return out;
  for (const json::Value& e : errors->as_array()) {
    std::string line = e.find("code")->as_string();
    if (const json::Value* source = e.find("source")) line += " " + json::serialize(*source);
    out.push_back(line);
  }
  return out;
}

TEST_F(NhsApi, AMessageIsAcceptedDurablyAndReadBack) {
  const std::string token = access_token();
  auto created = post_message(message_body(), token);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.content_type, "application/vnd.api+json");
  const json::Value body = parse(created.body);
  const json::Value& data = *body.find("data");
  EXPECT_EQ(data.find("type")->as_string(), "Message");
  const std::string id = data.find("id")->as_string();
  EXPECT_EQ(id.size(), 27U);
  EXPECT_EQ(header_of(created, "Location"), "/v1/messages/" + id);
  const json::Value& attributes = *data.find("attributes");
  EXPECT_EQ(attributes.find("messageReference")->as_string(), "ref-1");
  EXPECT_EQ(attributes.find("messageStatus")->as_string(), "created");
  EXPECT_EQ(json::serialize(*attributes.find("timestamps")), R"({"created":"2027-01-15T08:00:00.000Z"})");
  EXPECT_EQ(json::serialize(*attributes.find("routingPlan")),
            R"({"id":"00000000-0000-0000-0000-000000000002","name":"Free text: email","version":"1",)"
            R"("createdDate":"2025-12-01T00:00:00.000Z"})");
  EXPECT_EQ(data.find("links")->find("self")->as_string(), "https://herald.test/comms/v1/messages/" + id);
  // Stored (the test store is the fake; both backends' storage is the contract test's).
  auto stored = store_.find_nhs_message(client_.id, id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->nhs_number, std::optional<std::string>("9990548609"));
  EXPECT_EQ((*stored)->ods_code, std::optional<std::string>("A12345")) << "the client's default";

  auto read = get("/comms/v1/messages/" + id, {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(read.status, 200) << read.body;
  const json::Value got = parse(read.body);
  EXPECT_EQ(got.find("data")->find("attributes")->find("messageStatus")->as_string(), "created");
  EXPECT_EQ(json::serialize(*got.find("data")->find("attributes")->find("channels")), "[]");
  EXPECT_EQ(got.find("data")->find("relationships"), nullptr) << "not sent in a batch";
  EXPECT_EQ(read.body.find("9990548609"), std::string::npos) << "no personal data in the API's answers";
  EXPECT_EQ(read.body.find("Body"), std::string::npos);
  auto head = get("/comms/v1/messages/" + id, {{"Authorization", "Bearer " + token}}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());

  // Unknown, malformed and another client's ids are all just "not found".
  add_client("OtherClientKey", jwks_of(client_key(), "key-1"), "");
  const std::string other = access_token("OtherClientKey");
  for (const auto& [path, auth] :
       std::vector<std::pair<std::string, std::string>>{{"/comms/v1/messages/" + id, other},
                                                        {"/comms/v1/messages/does-not-exist", token},
                                                        {"/comms/v1/messages/2WL3qFTEFM0qMY8xjRbt1LIKCzM", token}}) {
    auto missing = get(path, {{"Authorization", "Bearer " + auth}});
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(error_field(missing, "code"), "CM_NOT_FOUND");
  }
}

TEST_F(NhsApi, AReferenceIsTakenOnceWithinTheWindow) {
  const std::string token = access_token();
  ASSERT_EQ(post_message(message_body("", "same-ref"), token).status, 201);
  auto repeat = post_message(message_body("", "same-ref"), token);
  EXPECT_EQ(repeat.status, 422);
  EXPECT_EQ(error_list(repeat),
            std::vector<std::string>{R"(CM_DUPLICATE_REQUEST {"pointer":"/data/attributes/messageReference"})"});
  EXPECT_EQ(error_field(repeat, "title"), "Duplicate message request");
  clock_.advance(std::chrono::hours(24 * 275));
  EXPECT_EQ(post_message(message_body("", "same-ref"), access_token()).status, 201) << "nine months later";
}

TEST_F(NhsApi, EveryMessageErrorIsCollectedWithItsPointer) {
  const std::string token = access_token();
  auto not_json = post_message("{not json", token);
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(error_list(not_json), std::vector<std::string>{R"(CM_INVALID_VALUE {"pointer":"/"})"});
  EXPECT_EQ(error_list(post_message("{}", token)), std::vector<std::string>{R"(CM_MISSING_VALUE {"pointer":"/data"})"});
  EXPECT_EQ(error_list(post_message(R"({"data":null})", token)),
            std::vector<std::string>{R"(CM_NULL_VALUE {"pointer":"/data"})"});
  EXPECT_EQ(error_list(post_message(R"({"data":[]})", token)),
            std::vector<std::string>{R"(CM_INVALID_VALUE {"pointer":"/data"})"});
  auto many =
      post_message(R"({"data":{"type":"Messages","attributes":{"routingPlanId":"not-a-uuid","messageReference":"  ",)"
                   R"("recipient":{"nhsNumber":"9990548600"},"originator":{"odsCode":5},"personalisation":[]}}})",
                   token);
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(error_list(many), (std::vector<std::string>{
                                  R"(CM_INVALID_VALUE {"pointer":"/data/type"})",
                                  R"(CM_INVALID_VALUE {"pointer":"/data/attributes/routingPlanId"})",
                                  R"(CM_INVALID_VALUE {"pointer":"/data/attributes/messageReference"})",
                                  R"(CM_INVALID_NHS_NUMBER {"pointer":"/data/attributes/recipient/nhsNumber"})",
                                  R"(CM_INVALID_VALUE {"pointer":"/data/attributes/originator/odsCode"})",
                                  R"(CM_INVALID_VALUE {"pointer":"/data/attributes/personalisation"})",
                              }));
  const json::Value body = parse(many.body);
  EXPECT_EQ(body.find("errors")->as_array()[3].find("links")->find("nhsNumbers")->as_string(),
            "https://www.datadictionary.nhs.uk/attributes/nhs_number.html");
  EXPECT_EQ(body.find("errors")->as_array()[1].find("id")->as_string(), header_of(many, "X-Correlation-Id") + ".1");
  auto number =
      post_message(R"({"data":{"type":"Message","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000002",)"
                   R"("messageReference":"r","recipient":{"nhsNumber":9990548609}}}})",
                   token);
  EXPECT_EQ(error_list(number),
            std::vector<std::string>{R"(CM_INVALID_NHS_NUMBER {"pointer":"/data/attributes/recipient/nhsNumber"})"});
  auto missing = post_message(R"({"data":{"type":"Message","attributes":{"recipient":{}}}})", token);
  EXPECT_EQ(error_list(missing), (std::vector<std::string>{
                                     R"(CM_MISSING_VALUE {"pointer":"/data/attributes/routingPlanId"})",
                                     R"(CM_MISSING_VALUE {"pointer":"/data/attributes/messageReference"})",
                                     R"(CM_MISSING_VALUE {"pointer":"/data/attributes/recipient/nhsNumber"})",
                                 }));
  // Old clients still send recipient.dateOfBirth: accepted and ignored.
  auto dob =
      post_message(R"({"data":{"type":"Message","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000002",)"
                   R"("messageReference":"dob","recipient":{"nhsNumber":"9990548609","dateOfBirth":"1990-01-01"}}}})",
                   token);
  EXPECT_EQ(dob.status, 201) << dob.body;
  // Upper-case UUIDs are UUIDs; an unknown plan is 404.
  auto plan = post_message(message_body("", "r2", "B838B13C-F98C-4DEF-93F0-515D4E4F4EE1"), token);
  EXPECT_EQ(plan.status, 404);
  EXPECT_EQ(error_list(plan),
            std::vector<std::string>{R"(CM_NO_SUCH_ROUTING_PLAN {"pointer":"/data/attributes/routingPlanId"})"});
  auto media = post_message(message_body(), token, "text/plain");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(error_list(media), std::vector<std::string>{R"(CM_UNSUPPORTED_MEDIA {"header":"Content-Type"})"});
}

net::Response post_batch_to(Router& router, const std::string& body, const std::string& token) {
  net::Request r;
  r.method = "POST";
  r.path = r.target = "/comms/v1/message-batches";
  r.host = kHost;
  r.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  r.body = body;
  return router.dispatch(r);
}

std::string batch_body(const std::vector<std::string>& messages, std::string reference = "batch-1") {
  std::string list;
  for (const auto& m : messages) list += (list.empty() ? "" : ",") + m;
  return R"({"data":{"type":"MessageBatch","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000003",)"
         R"("messageBatchReference":")" +
         reference + R"(","messages":[)" + list + "]}}}";
}

std::string batch_item(const std::string& reference, const std::string& nhs_number = "9990548609") {
  return R"({"messageReference":")" + reference + R"(","recipient":{"nhsNumber":")" + nhs_number +
         R"("},"personalisation":{"sms_body":"Hello"}})";
}

TEST_F(NhsApi, OdsCodesAndContactDetailsNeedTheClientsPermission) {
  const std::string token = access_token();
  auto ods = post_message(message_body(R"(,"originator":{"odsCode":"X26"})"), token);
  EXPECT_EQ(ods.status, 400);
  EXPECT_EQ(error_list(ods),
            std::vector<std::string>{R"(CM_CANNOT_SET_ODS_CODE {"pointer":"/data/attributes/messages"})"});
  EXPECT_EQ(error_field(ods, "detail"), "Your account is not permitted to set originator ODS codes.");
  const std::string contact =
      R"({"data":{"type":"Message","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000003",)"
      R"("messageReference":"c1","recipient":{"contactDetails":{"sms":"07700900123"}}}}})";
  auto refused = post_message(contact, token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_field(refused, "code"), "CM_CANNOT_SET_CONTACT_DETAILS");
  EXPECT_EQ(error_field(refused, "detail"), "Client is not allowed to provide alternative contact details.");
  EXPECT_EQ(error_field(refused, "source"), R"({"pointer":"/data/attributes/recipient/contactDetails"})")
      << "where NHS's tests point";
  // In a batch: the first message with contact details.
  const std::string with_details =
      R"({"messageReference":"b2","recipient":{"nhsNumber":"9990548609","contactDetails":{"sms":"07700900123"}}})";
  auto batch_refused = post_batch_to(router_, batch_body({batch_item("b1"), with_details}, "contact-batch"), token);
  EXPECT_EQ(batch_refused.status, 400);
  EXPECT_EQ(error_field(batch_refused, "source"),
            R"({"pointer":"/data/attributes/messages/1/recipient/contactDetails"})");

  client_.allow_contact_details = true;
  client_.allow_ods_override = true;
  client_.default_ods_code.reset();
  ASSERT_TRUE(store_.update_nhs_client(client_));
  auto required = post_message(message_body("", "no-ods"), token);
  EXPECT_EQ(required.status, 400);
  EXPECT_EQ(error_field(required, "code"), "CM_ODS_CODE_REQUIRED");
  EXPECT_EQ(error_field(required, "title"), "Originator odsCode must be provided");
  EXPECT_EQ(post_message(message_body(R"(,"originator":{"odsCode":"X26"})", "with-ods"), token).status, 201);
  client_.default_ods_code = "A12345";
  ASSERT_TRUE(store_.update_nhs_client(client_));
  EXPECT_EQ(post_message(contact, token).status, 201) << "contact details instead of an NHS number";
  auto bad = post_message(
      R"({"data":{"type":"Message","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000003",)"
      R"("messageReference":"c2","recipient":{"nhsNumber":"9990548609","contactDetails":{"sms":7700900123,)"
      R"("email":"x","address":{"lines":["1","2","3","4","5","6"],"postcode":"LS1 4AP"}}}}}})",
      token);
  EXPECT_EQ(bad.status, 400);
  const json::Value errors = *parse(bad.body).find("errors");
  ASSERT_EQ(errors.as_array().size(), 3U) << bad.body;
  EXPECT_EQ(errors.as_array()[0].find("detail")->as_string(), "Invalid email address");
  EXPECT_EQ(errors.as_array()[1].find("detail")->as_string(), "'sms' is not a string");
  EXPECT_EQ(errors.as_array()[2].find("detail")->as_string(), "Too many address lines were provided");
  EXPECT_EQ(json::serialize(*errors.as_array()[2].find("source")),
            R"({"pointer":"/data/attributes/recipient/contactDetails/address/lines"})");
}

TEST_F(NhsApi, ABatchIsStoredWholeAndItsMessagesPointBackToIt) {
  const std::string token = access_token();
  auto created = post_batch_to(router_, batch_body({batch_item("m-1"), batch_item("m-2"), batch_item("m-3")}), token);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(header_of(created, "Location"), "<absent>");
  const json::Value data = *parse(created.body).find("data");
  EXPECT_EQ(data.find("type")->as_string(), "MessageBatch");
  const std::string batch_id = data.find("id")->as_string();
  EXPECT_EQ(batch_id.size(), 27U);
  const json::Value& attributes = *data.find("attributes");
  EXPECT_EQ(attributes.find("messageBatchReference")->as_string(), "batch-1");
  EXPECT_EQ(attributes.find("routingPlan")->find("id")->as_string(), "00000000-0000-0000-0000-000000000003");
  const auto& messages = attributes.find("messages")->as_array();
  ASSERT_EQ(messages.size(), 3U);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].find("messageReference")->as_string(), "m-" + std::to_string(i + 1)) << "request order";
    auto read =
        get("/comms/v1/messages/" + messages[i].find("id")->as_string(), {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(read.status, 200);
    EXPECT_EQ(json::serialize(*parse(read.body).find("data")->find("relationships")),
              R"({"messageBatch":{"data":{"type":"MessageBatch","id":")" + batch_id + R"("}}})");
  }
  auto repeat = post_batch_to(router_, batch_body({batch_item("m-4")}), token);
  EXPECT_EQ(repeat.status, 422);
  EXPECT_EQ(error_list(repeat),
            std::vector<std::string>{R"(CM_DUPLICATE_REQUEST {"pointer":"/data/attributes/messageBatchReference"})"});
  EXPECT_EQ(error_field(repeat, "title"), "Duplicate batch request");
  // A batch's message references are the batch's own: a single message may reuse one.
  EXPECT_EQ(post_message(message_body("", "m-1"), token).status, 201);
}

TEST_F(NhsApi, ABatchIsRefusedWholeWithPointersIntoItsMessages) {
  const std::string token = access_token();
  EXPECT_EQ(error_list(post_batch_to(router_, batch_body({}), token)),
            std::vector<std::string>{R"(CM_TOO_FEW_ITEMS {"pointer":"/data/attributes/messages"})"});
  auto mixed = post_batch_to(
      router_, batch_body({batch_item("a"), batch_item("b", "9990548600"), batch_item("a"), "7"}, "batch-2"), token);
  EXPECT_EQ(mixed.status, 400);
  EXPECT_EQ(error_list(mixed),
            (std::vector<std::string>{
                R"(CM_INVALID_NHS_NUMBER {"pointer":"/data/attributes/messages/1/recipient/nhsNumber"})",
                R"(CM_DUPLICATE_VALUE {"pointer":"/data/attributes/messages/2/messageReference"})",
                R"(CM_INVALID_VALUE {"pointer":"/data/attributes/messages/3"})",
            }));
  std::vector<std::string> bad(150, batch_item("x", "123"));
  auto many = post_batch_to(router_, batch_body(bad, "batch-3"), token);
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(error_list(many).size(), 100U) << "at most 100 errors";
  std::vector<std::string> too_many(45'001, "{}");
  auto over = post_batch_to(router_, batch_body(too_many, "batch-4"), token);
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(error_list(over), std::vector<std::string>{R"(CM_TOO_MANY_ITEMS {"pointer":"/data/attributes/messages"})"});
  auto large = post_batch_to(router_, batch_body({batch_item(std::string(5'200'001, 'r'))}, "batch-5"), token);
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(error_list(large), std::vector<std::string>{R"(CM_TOO_LARGE {"pointer":"/"})"});
  // Nothing of a refused batch was stored: its reference is still free.
  EXPECT_EQ(post_batch_to(router_, batch_body({batch_item("a")}, "batch-2"), token).status, 201);
}

TEST_F(NhsApi, RateLimitsAnswer429WithNhsRetryAfter) {
  const std::string auth = "Bearer " + access_token();
  const std::string path = "/comms/channels/nhsapp/accounts?ods-organisation-code=A12345";
  // Back to back: the spike arrest (6,000 a minute: a bucket of 100) answers first.
  int passed = 0;
  net::Response refused;
  while (passed < 200) {
    refused = get(path, {{"Authorization", auth}});
    if (refused.status == 429) break;
    ++passed;
  }
  EXPECT_EQ(passed, 100);
  EXPECT_EQ(error_field(refused, "code"), "CM_QUOTA");
  EXPECT_EQ(header_of(refused, "Retry-After"), "1");
  // Spread at 50 a second, under the spike arrest: the quota (1,200 a minute, refilled at 20 a
  // second) runs out next.
  for (int i = 0; i < 2000; ++i) {
    clock_.advance(std::chrono::milliseconds(20));
    refused = get(path, {{"Authorization", auth}});
    if (refused.status == 429) break;
  }
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(header_of(refused, "Retry-After"), "60") << "the quota";
  // Another client has buckets of its own.
  add_client("ThirdClientKey", jwks_of(client_key(), "key-1"), "");
  EXPECT_EQ(get(path, {{"Authorization", "Bearer " + access_token("ThirdClientKey")}}).status, 404);
}

}  // namespace
}  // namespace herald::api::nhs_v1
