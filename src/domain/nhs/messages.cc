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

std::variant<std::string, MessageRefusal> NhsMessages::originator_for(const store::NhsClientRecord& client,
                                                                      const MessageRequest& request) const {
  if (request.contact_details_json && !client.allow_contact_details) return MessageRefusal::kCannotSetContactDetails;
  if (request.ods_code) {
    if (!client.allow_ods_override) return MessageRefusal::kCannotSetOdsCode;
    return *request.ods_code;
  }
  if (!client.default_ods_code) return MessageRefusal::kOdsCodeRequired;
  return *client.default_ods_code;
}

store::NhsMessageRecord NhsMessages::record_for(const store::NhsClientRecord& client, const RoutingPlan& plan,
                                                MessageRequest&& request, std::string ods_code, Timestamp now) const {
  store::NhsMessageRecord record;
  record.id = new_message_id(now);
  record.client = client.id;
  record.service = client.service;
  record.message_reference = std::move(request.message_reference);
  record.billing_reference = std::move(request.billing_reference);
  record.routing_plan_id = plan.id;
  record.routing_plan_version = plan.version;
  record.nhs_number = std::move(request.nhs_number);
  record.ods_code = std::move(ods_code);
  record.personalisation_json = std::move(request.personalisation_json);
  record.contact_details_json = std::move(request.contact_details_json);
  record.created_at = now;
  record.next_step_at = now;  // the cascade takes it from here (cascade.h)
  return record;
}

bool NhsMessages::begin(const Uuid& client, const std::string& key) {
  std::lock_guard lock(mutex_);
  return in_flight_.insert({client, key}).second;
}

void NhsMessages::end(const Uuid& client, const std::string& key) {
  std::lock_guard lock(mutex_);
  in_flight_.erase({client, key});
}

Result<SendOutcome> NhsMessages::send(const store::NhsClientRecord& client, MessageRequest&& request) {
  auto ods = originator_for(client, request);
  if (auto* refusal = std::get_if<MessageRefusal>(&ods)) return SendOutcome(*refusal);
  auto plan = plans_.for_client(client.id, request.routing_plan_id);
  if (!plan) return plan.error();
  if (*plan == nullptr) return SendOutcome(MessageRefusal::kNoSuchRoutingPlan);
  const std::string key = "message/" + request.message_reference;
  if (!begin(client.id, key)) return SendOutcome(MessageRefusal::kInFlight);
  const Timestamp now = clock_.now();
  store::NhsMessageRecord record = record_for(client, **plan, std::move(request), std::get<std::string>(ods), now);
  auto stored = store_.insert_nhs_message(record, now - kReferenceWindow);
  end(client.id, key);
  if (!stored) return stored.error();
  if (!*stored) return SendOutcome(MessageRefusal::kDuplicate);
  return SendOutcome(AcceptedMessage{std::move(record), std::move(*plan)});
}

Result<BatchOutcome> NhsMessages::send_batch(const store::NhsClientRecord& client, BatchRequest&& request) {
  std::vector<std::string> ods_codes;
  ods_codes.reserve(request.messages.size());
  for (const MessageRequest& message : request.messages) {
    auto ods = originator_for(client, message);
    if (auto* refusal = std::get_if<MessageRefusal>(&ods)) return BatchOutcome(*refusal);
    ods_codes.push_back(std::move(std::get<std::string>(ods)));
  }
  auto found_plan = plans_.for_client(client.id, request.routing_plan_id);
  if (!found_plan) return found_plan.error();
  if (*found_plan == nullptr) return BatchOutcome(MessageRefusal::kNoSuchRoutingPlan);
  const PlanPtr plan = std::move(*found_plan);
  const std::string key = "batch/" + request.batch_reference;
  if (!begin(client.id, key)) return BatchOutcome(MessageRefusal::kInFlight);
  const Timestamp now = clock_.now();
  AcceptedBatch accepted;
  accepted.plan = plan;
  accepted.record = store::NhsBatchRecord{
      new_message_id(now), client.id, client.service, request.batch_reference, plan->id, plan->version, now};
  std::vector<store::NhsMessageRecord> records;
  records.reserve(request.messages.size());
  accepted.messages.reserve(request.messages.size());
  for (std::size_t i = 0; i < request.messages.size(); ++i) {
    records.push_back(record_for(client, *plan, std::move(request.messages[i]), std::move(ods_codes[i]), now));
    records.back().batch_id = accepted.record.id;
    accepted.messages.emplace_back(records.back().message_reference, records.back().id);
  }
  auto stored = store_.insert_nhs_batch(accepted.record, records, now - kReferenceWindow);
  end(client.id, key);
  if (!stored) return stored.error();
  if (!*stored) return BatchOutcome(MessageRefusal::kDuplicate);
  return BatchOutcome(std::move(accepted));
}

Result<std::optional<AcceptedMessage>> NhsMessages::get(const store::NhsClientRecord& client, std::string_view id) {
  auto found = store_.find_nhs_message(client.id, id);
  if (!found) return found.error();
  if (!*found) return std::optional<AcceptedMessage>();
  auto plan = plans_.version((*found)->routing_plan_id, (*found)->routing_plan_version);
  if (!plan) return plan.error();
  return std::optional<AcceptedMessage>(AcceptedMessage{std::move(**found), std::move(*plan)});
}

}  // namespace herald::domain::nhs
