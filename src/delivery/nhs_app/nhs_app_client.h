#pragma once
// The NHS App's in-app messaging interface (NHSDigital/nhs-app-api, specification/nhs-app.yaml):
// Herald, as an application registered with the NHS API platform, gets a bearer token with a
// signed-JWT client assertion (RS512, kid, iss = sub = its API key, aud = the token URL) and posts
// one FHIR R4 CommunicationRequest per message to /communication/in-app/FHIR/R4/CommunicationRequest:
// the NHS number as recipient, the originator's ODS code as requester, Herald's message id as
// the request-id identifier, the Markdown text as payload. A 201 carries the NHS App's
// communication id, which its receipts (api/providers/nhs_app_receipts.h) name. Thread-safe.

#include <memory>
#include <mutex>
#include <string>

#include "core/time.h"
#include "crypto/jwk.h"
#include "domain/nhs/nhs_app.h"
#include "net/http_client.h"

namespace herald::delivery::nhs_app {

struct NhsAppClientOptions {
  std::string base_url;   // e.g. https://api.service.nhs.uk/nhs-app (no trailing '/')
  std::string token_url;  // e.g. https://api.service.nhs.uk/oauth2/token
  std::string api_key;    // Herald's application's API key (iss, sub)
  std::string kid;        // the key id registered with the platform
  net::HttpClientOptions http;
};

class NhsAppClient final : public domain::nhs::NhsAppSender {
 public:
  NhsAppClient(NhsAppClientOptions options, crypto::RsaPrivateKey key, const Clock& clock)
      : options_(std::move(options)), key_(std::move(key)), clock_(clock) {}
  domain::nhs::NhsAppResult send(const domain::nhs::NhsAppMessage& message) override;

 private:
  // A bearer token, fetched again a minute before it expires. kUnavailable when it cannot be had.
  Result<std::string> token();
  void forget_token();

  NhsAppClientOptions options_;
  crypto::RsaPrivateKey key_;
  const Clock& clock_;
  std::mutex mutex_;
  std::string token_;          // guarded by mutex_
  Timestamp token_expires_{};  // guarded by mutex_
};

// The CommunicationRequest Herald posts (exposed for tests).
std::string communication_request_json(const domain::nhs::NhsAppMessage& message);

}  // namespace herald::delivery::nhs_app
