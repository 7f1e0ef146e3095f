#pragma once
// The NHS App's "realtime receipts" (NHSDigital/nhs-app-api, specifications-callbacks/realtime-
// receipts): POST {path} (default /nhs-app/FHIR/R4/Task) with one FHIR Task per event of an
// in-app message Herald sent; 202 once recorded, 400 with a FHIR OperationOutcome for a body
// that is not a receipt. The NHS App authenticates its callbacks with mutual TLS and a fixed
// source address; Herald checks the source address against `sources` and, when a password is
// set, HTTP Basic credentials (for a TLS-terminating proxy that does the mutual TLS). With
// neither configured the endpoint answers 404. A receipt for an unknown message is acknowledged
// and ignored.

#include <string>
#include <vector>

#include "api/router.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::api::providers {

struct NhsAppReceiptOptions {
  std::string path = "/nhs-app/FHIR/R4/Task";
  std::vector<std::string> sources;  // allowed source addresses (exact); empty: any
  std::string username;
  std::string password;  // empty: no credentials asked
};

void register_nhs_app_receipt_routes(Router& router, store::NhsCascadeStore& store, const Clock& clock,
                                     NhsAppReceiptOptions options);

}  // namespace herald::api::providers
