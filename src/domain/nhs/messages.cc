#include "domain/nhs/messages.h"

#include <array>

#include "core/ksuid.h"
#include "crypto/random.h"

namespace herald::domain::nhs {
namespace {

std::string new_message_id(Timestamp now) {
  std::array<unsigned char, 16> random{};
  crypto::public_random(random.data(), random.size());
  return make_ksuid(now, random);
}

}  // namespace

bool valid_nhs_number(std::string_view text) {
  if (text.size() != 10) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    if (i < 9) sum += (text[i] - '0') * static_cast<int>(10 - i);
  }
  const int check = (11 - sum % 11) % 11;
  return check != 10 && check == text[9] - '0';
}

Result<SendOutcome> NhsMessages::send(const store::NhsClientRecord& client, MessageRequest&& request) {
  if (request.contact_details_json && !client.allow_contact_details) {
    return SendOutcome(MessageRefusal::kCannotSetContactDetails);
  }
  std::optional<std::string> ods = client.default_ods_code;
  if (request.ods_code) {
    if (!client.allow_ods_override) return SendOutcome(MessageRefusal::kCannotSetOdsCode);
    ods = request.ods_code;
  }
  if (!ods) return SendOutcome(MessageRefusal::kOdsCodeRequired);
  const RoutingPlan* plan = find_plan(request.routing_plan_id);
  if (plan == nullptr) return SendOutcome(MessageRefusal::kNoSuchRoutingPlan);

  const auto key = std::make_pair(client.id, request.message_reference);
  {
    std::lock_guard lock(mutex_);
    if (!in_flight_.insert(key).second) return SendOutcome(MessageRefusal::kInFlight);
  }
  const Timestamp now = clock_.now();
  store::NhsMessageRecord record;
  record.id = new_message_id(now);
  record.client = client.id;
  record.service = client.service;
  record.message_reference = std::move(request.message_reference);
  record.billing_reference = std::move(request.billing_reference);
  record.routing_plan_id = plan->id;
  record.routing_plan_version = plan->version;
  record.nhs_number = std::move(request.nhs_number);
  record.ods_code = std::move(ods);
  record.personalisation_json = std::move(request.personalisation_json);
  record.contact_details_json = std::move(request.contact_details_json);
  record.created_at = now;
  auto stored = store_.insert_nhs_message(record, now - kReferenceWindow);
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(key);
  }
  if (!stored) return stored.error();
  if (!*stored) return SendOutcome(MessageRefusal::kDuplicate);
  return SendOutcome(AcceptedMessage{std::move(record), plan});
}

Result<std::optional<AcceptedMessage>> NhsMessages::get(const store::NhsClientRecord& client, std::string_view id) {
  auto found = store_.find_nhs_message(client.id, id);
  if (!found) return found.error();
  if (!*found) return std::optional<AcceptedMessage>();
  const RoutingPlan* plan = find_plan((*found)->routing_plan_id);
  return std::optional<AcceptedMessage>(AcceptedMessage{std::move(**found), plan});
}

}  // namespace herald::domain::nhs
