#include "domain/received_texts.h"

#include "crypto/random.h"
#include "domain/recipients/phone_number.h"

namespace herald::domain {
namespace {

// Numbers compared as E.164 digits when both parse, else as written.
std::string comparable(const std::string& number) {
  auto parsed = parse_phone_number(number);
  return parsed ? parsed->normalised : number;
}

}  // namespace

Result<std::optional<store::InboundSms>> ReceivedTexts::receive(IncomingText text, Timestamp now) {
  const std::string wanted = comparable(text.notify_number);
  // Few services and a low rate: every service's senders (cached) are looked at.
  auto services = services_.list_services();
  if (!services) return services.error();
  for (const auto& service : *services) {
    if (!service.active || !service.has_permission("inbound_sms")) continue;
    auto senders = lookups_.contacts(service.id, store::ContactKind::kSmsSender, now, Blocking::kAllowed);
    if (!senders) return senders.error();
    for (const auto& sender : **senders) {
      if (comparable(sender.value) != wanted) continue;
      store::InboundSms sms{crypto::time_ordered_uuid(now), service.id, sender.value, std::move(text.user_number),
                            std::move(text.content), std::move(text.provider), std::move(text.provider_reference),
                            text.received_at, now};
      // Indexed so that a data-subject request finds it; a number libphonenumber cannot read
      // (an alphanumeric sender) is not indexed.
      if (auto number = parse_phone_number(sms.user_number)) sms.user_number_normalised = number->normalised;
      HERALD_TRY(texts_.insert_inbound_sms(sms));
      return std::optional(std::move(sms));
    }
  }
  return std::optional<store::InboundSms>();
}

Result<std::vector<store::InboundSms>> ReceivedTexts::list(const Caller& caller, std::optional<Uuid> older_than,
                                                           Timestamp now) {
  auto service = lookups_.service(caller.service, now, Blocking::kAllowed);
  if (!service) return service.error();
  if (!*service) return not_found("service");
  const Timestamp not_before = now - std::chrono::hours(24) * (*service)->retention_days;
  return texts_.list_inbound_sms(caller.service, older_than, not_before, 250);
}

}  // namespace herald::domain
