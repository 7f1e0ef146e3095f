#pragma once
// A bearer token from the NHS API platform for Herald as an application-restricted client (the
// NHS App's API, PDS FHIR): a client assertion signed with Herald's own RSA key (RS512, `kid` in
// the header, iss = sub = the application's API key, aud = the token URL, a fresh jti, exp five
// minutes ahead) exchanged at the token URL (client-credentials grant). The token is kept until a
// minute before it expires, and dropped when the API refuses it. Thread-safe.

#include <mutex>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "crypto/jwk.h"
#include "net/http_client.h"

namespace herald::delivery::nhs_platform {

struct PlatformCredentials {
  std::string token_url;
  std::string api_key;
  std::string kid;
  net::HttpClientOptions http;
};

class PlatformToken {
 public:
  PlatformToken(PlatformCredentials credentials, const crypto::RsaPrivateKey& key, const Clock& clock)
      : credentials_(std::move(credentials)), key_(key), clock_(clock) {}

  // kUnavailable when the token endpoint cannot be reached or refuses the assertion.
  Result<std::string> get();
  // The API said 401: the next get() asks for a new one.
  void forget();

 private:
  PlatformCredentials credentials_;
  crypto::RsaPrivateKey key_;
  const Clock& clock_;
  std::mutex mutex_;
  std::string token_;          // guarded by mutex_
  Timestamp token_expires_{};  // guarded by mutex_
};

}  // namespace herald::delivery::nhs_platform
