#pragma once
// Demographics from PDS FHIR (NHSDigital/personal-demographics-service-api), the NHS's Personal
// Demographics Service, as an application-restricted client: GET {base}/Patient/{NHS number}
// with a platform bearer token (nhs_platform/platform_token.h) and a fresh X-Request-ID. What
// NHS Notify's enrichment needs is read from the FHIR Patient: the usual name, the current
// mobile and email (telecom), the current home address, deceasedDateTime with the death
// notification status (1 informal, 2 formal), meta.security (R/V: restricted), the reason for
// removal (exit code), the NHS communication language and the preferred written format.
// 404 RESOURCE_NOT_FOUND (and 400 INVALID_RESOURCE_ID): not found; 404 INVALIDATED_RESOURCE: an
// invalidated record; 401/403/408/429/5xx and network errors: kUnavailable (asked again later).
// Thread-safe.

#include <memory>
#include <string>

#include "delivery/nhs_platform/platform_token.h"
#include "domain/nhs/demographics.h"

namespace herald::delivery::pds {

class PdsClient final : public domain::nhs::DemographicsProvider {
 public:
  // base_url: e.g. https://api.service.nhs.uk/personal-demographics/FHIR/R4 (no trailing '/').
  PdsClient(std::string base_url, std::shared_ptr<nhs_platform::PlatformToken> token, net::HttpClientOptions http)
      : base_url_(std::move(base_url)), token_(std::move(token)), http_(std::move(http)) {}
  Result<std::optional<domain::nhs::DemographicsRecord>> lookup(std::string_view nhs_number, Timestamp now) override;

 private:
  std::string base_url_;
  std::shared_ptr<nhs_platform::PlatformToken> token_;
  net::HttpClientOptions http_;
};

// A FHIR Patient as a demographics record, at `now` (periods that have ended are ignored).
// kInvalidArgument when it is not a Patient. PDS answers a superseded NHS number (merged into
// another) with the record under its new number: when `requested` is given and the Patient's id
// is another number, the record is kInvalidated with nothing else read, and NHS Notify's
// "Patient record invalidated" fails the message (it is never sent on to the new number).
Result<domain::nhs::DemographicsRecord> record_from_patient(std::string_view patient_json, Timestamp now,
                                                            std::string_view requested = {});

}  // namespace herald::delivery::pds
