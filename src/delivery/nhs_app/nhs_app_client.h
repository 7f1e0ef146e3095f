#pragma once
// The NHS App's in-app messaging interface (NHSDigital/nhs-app-api, specification/nhs-app.yaml):
// Herald, as an application registered with the NHS API platform, gets a bearer token with a
// signed-JWT client assertion (nhs_platform/platform_token.h) and posts
// one FHIR R4 CommunicationRequest per message to /communication/in-app/FHIR/R4/CommunicationRequest:
// the NHS number as recipient, the originator's ODS code as requester, Herald's message id as
// the request-id identifier, the Markdown text as payload. A 201 carries the NHS App's
// communication id, which its receipts (api/providers/nhs_app_receipts.h) name. Thread-safe.

#include <memory>
#include <string>

#include "delivery/nhs_platform/platform_token.h"
#include "domain/nhs/nhs_app.h"

namespace herald::delivery::nhs_app {

class NhsAppClient final : public domain::nhs::NhsAppSender {
 public:
  // base_url: e.g. https://api.service.nhs.uk/nhs-app (no trailing '/').
  NhsAppClient(std::string base_url, std::shared_ptr<nhs_platform::PlatformToken> token, net::HttpClientOptions http)
      : base_url_(std::move(base_url)), token_(std::move(token)), http_(std::move(http)) {}
  domain::nhs::NhsAppResult send(const domain::nhs::NhsAppMessage& message) override;

 private:
  std::string base_url_;
  std::shared_ptr<nhs_platform::PlatformToken> token_;
  net::HttpClientOptions http_;
};

// The CommunicationRequest Herald posts (exposed for tests).
std::string communication_request_json(const domain::nhs::NhsAppMessage& message);

}  // namespace herald::delivery::nhs_app
