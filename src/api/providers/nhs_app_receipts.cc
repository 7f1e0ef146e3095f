#include "api/providers/nhs_app_receipts.h"

#include <algorithm>

#include "api/providers/errors.h"
#include "core/base64.h"
#include "core/log.h"
#include "crypto/secret.h"
#include "domain/nhs/nhs_app.h"

namespace herald::api::providers {
namespace {

bool authorised(const net::Request& request, const NhsAppReceiptOptions& options) {
  if (!options.sources.empty() &&
      std::find(options.sources.begin(), options.sources.end(), request.remote_address) == options.sources.end()) {
    return false;
  }
  if (options.password.empty()) return true;
  const auto header = request.header("Authorization");
  if (!header || header->size() < 6 || !net::iequals(header->substr(0, 6), "Basic ")) return false;
  const auto decoded = base64_decode(header->substr(6));
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  return colon != std::string::npos && crypto::constant_time_equal(decoded->substr(0, colon), options.username) &&
         crypto::constant_time_equal(decoded->substr(colon + 1), options.password);
}

}  // namespace

void register_nhs_app_receipt_routes(Router& router, store::NhsCascadeStore& store, const Clock& clock,
                                     NhsAppReceiptOptions options) {
  const std::string path = options.path;
  router.add("POST", path, [&store, &clock, options](const net::Request& request, const PathParams&) {
    if (options.sources.empty() && options.password.empty()) return nhs_app_not_configured();
    if (!authorised(request, options)) {
      log::warn("nhs_app.receipt_refused", {{"source", request.remote_address}});
      return nhs_app_unauthorised();
    }
    auto receipt = domain::nhs::read_nhs_app_receipt(request.body, clock.now());
    if (!receipt) return nhs_app_bad_receipt(receipt.error().message);
    auto recorded = domain::nhs::record_nhs_app_receipt(store, *receipt);
    if (!recorded) {
      log::error("nhs_app.receipt_failed", {{"error", recorded.error().message}});
      return nhs_app_failed();  // the NHS App tries again
    }
    log::info("nhs_app.receipt", {{"message_id", receipt->message_id},
                                  {"status", receipt->supplier_status},
                                  {"applied", *recorded ? "true" : "false"}});
    return nhs_app_receipt_recorded();
  });
}

}  // namespace herald::api::providers
