#pragma once
// Received texts: what a service's SMS number receives, as SMS providers report it, and the
// GOV.UK v2 list of them (GET /v2/received-text-messages). A text belongs to the service that has
// the number it was sent to among its SMS senders and the inbound_sms permission; texts to any
// other number are acknowledged to the provider and dropped. Thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "domain/authenticator.h"
#include "domain/lookup_cache.h"
#include "store/store.h"

namespace herald::domain {

struct IncomingText {
  std::string provider;
  std::string notify_number;  // the number it was sent to, as the provider gives it
  std::string user_number;    // the sender
  std::string content;
  std::optional<std::string> provider_reference;
  Timestamp received_at;
};

class ReceivedTexts {
 public:
  ReceivedTexts(store::ReceivedTextStore& texts, store::ServiceDirectory& services, LookupCache& lookups)
      : texts_(texts), services_(services), lookups_(lookups) {}
  ReceivedTexts(store::Store& store, LookupCache& lookups) : ReceivedTexts(store, store, lookups) {}

  // The stored text, or nullopt when no service has that number (or may receive texts).
  Result<std::optional<store::InboundSms>> receive(IncomingText text, Timestamp now);
  // A page (250, newest first) of the caller's service's texts within its retention period.
  Result<std::vector<store::InboundSms>> list(const Caller& caller, std::optional<Uuid> older_than, Timestamp now);

 private:
  store::ReceivedTextStore& texts_;
  store::ServiceDirectory& services_;
  LookupCache& lookups_;
};

}  // namespace herald::domain
