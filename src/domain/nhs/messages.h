#pragma once
// NHS Notify messages as use cases: accepting one (the client's permissions for originator ODS
// codes and contact details, its routing plan, its reference's uniqueness) and reading one back.
// A message is durable before it is acknowledged; its personal fields are sealed by the store.
//
// Idempotency, as NHS's: a single message's messageReference is unique among the client's single
// messages for nine months (a repeat: kDuplicate, 422), and a repeat that arrives while the first
// is still being stored on this node is told to retry (kInFlight, 425). Nodes that race with the
// same reference are decided by the store's unique index: one stores, the other gets kDuplicate.

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "domain/nhs/routing_plans.h"
#include "store/store.h"

namespace herald::domain::nhs {

// A request as the API read it: its shape already checked.
struct MessageRequest {
  Uuid routing_plan_id;
  std::string message_reference;
  std::optional<std::string> billing_reference;
  std::optional<std::string> nhs_number;  // a valid NHS number (modulus 11), or absent
  std::optional<std::string> ods_code;    // originator.odsCode
  std::string personalisation_json = "{}";
  std::optional<std::string> contact_details_json;  // recipient.contactDetails, checked
};

enum class MessageRefusal {
  kCannotSetContactDetails,  // contact details without the client's permission
  kCannotSetOdsCode,         // an ODS code without the client's permission
  kOdsCodeRequired,          // none given and the client has no default
  kNoSuchRoutingPlan,
  kDuplicate,  // the reference was used by one of the client's single messages
  kInFlight,   // the same reference is being stored right now
};

// POST /v1/message-batches as the API read it: one plan and reference for all; each message's
// own routing_plan_id is not used.
struct BatchRequest {
  Uuid routing_plan_id;
  std::string batch_reference;
  std::vector<MessageRequest> messages;
};

struct AcceptedMessage {
  store::NhsMessageRecord record;
  PlanPtr plan;  // the version it was accepted under; nullptr if that has gone
};

using SendOutcome = std::variant<AcceptedMessage, MessageRefusal>;

struct AcceptedBatch {
  store::NhsBatchRecord record;
  std::vector<std::pair<std::string, std::string>> messages;  // (messageReference, id), in request order
  PlanPtr plan;
};

using BatchOutcome = std::variant<AcceptedBatch, MessageRefusal>;

// How long a single message's reference stays taken (NHS: nine months).
inline constexpr auto kReferenceWindow = std::chrono::days(274);

// 10 digits whose modulus-11 check digit is right (NHS's rule; a check value of 10 never is).
bool valid_nhs_number(std::string_view text);

class NhsMessages {
 public:
  NhsMessages(store::NhsClientStore& store, RoutingPlans& plans, const Clock& clock)
      : store_(store), plans_(plans), clock_(clock) {}

  Result<SendOutcome> send(const store::NhsClientRecord& client, MessageRequest&& request);
  // A batch, all or nothing, in one transaction: its reference (kDuplicate, kInFlight) is the
  // client's among batches; its messages' references are not checked against single messages.
  Result<BatchOutcome> send_batch(const store::NhsClientRecord& client, BatchRequest&& request);
  // The client's message, with its plan (nullptr if the plan has gone), or nullopt.
  Result<std::optional<AcceptedMessage>> get(const store::NhsClientRecord& client, std::string_view id);

 private:
  // The client's permissions for one message's ODS code and contact details; the ODS code to use.
  std::variant<std::string, MessageRefusal> originator_for(const store::NhsClientRecord& client,
                                                           const MessageRequest& request) const;
  store::NhsMessageRecord record_for(const store::NhsClientRecord& client, const RoutingPlan& plan,
                                     MessageRequest&& request, std::string ods_code, Timestamp now) const;
  // Marks (client, key) in flight: false when it already is.
  bool begin(const Uuid& client, const std::string& key);
  void end(const Uuid& client, const std::string& key);

  store::NhsClientStore& store_;
  RoutingPlans& plans_;
  const Clock& clock_;
  std::mutex mutex_;
  std::set<std::pair<Uuid, std::string>> in_flight_;  // (client, reference) being stored; guarded by mutex_
};

}  // namespace herald::domain::nhs
