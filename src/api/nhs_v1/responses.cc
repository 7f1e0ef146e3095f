#include "api/nhs_v1/responses.h"

#include "core/json.h"

namespace herald::api::nhs_v1 {
namespace {

void routing_plan(json::Writer& w, const Uuid& id, const std::string& version, const domain::nhs::RoutingPlan* plan) {
  w.key("routingPlan").begin_object().key("id").string(id.to_string());
  if (plan != nullptr) w.key("name").string(plan->name);
  w.key("version").string(version);
  if (plan != nullptr) w.key("createdDate").string(nhs_time(plan->created));
  w.end_object();
}

void routing_plan(json::Writer& w, const domain::nhs::AcceptedMessage& m) {
  routing_plan(w, m.record.routing_plan_id, m.record.routing_plan_version, m.plan.get());
}

void timestamps(json::Writer& w, Timestamp created, std::optional<Timestamp> enriched,
                std::optional<Timestamp> delivered, std::optional<Timestamp> failed) {
  w.key("timestamps").begin_object().key("created").string(nhs_time(created));
  if (enriched) w.key("enriched").string(nhs_time(*enriched));
  if (delivered) w.key("delivered").string(nhs_time(*delivered));
  if (failed) w.key("failed").string(nhs_time(*failed));
  w.end_object();
}

// One channel as GET /v1/messages/{id} shows it (spec §5.3).
void channel(json::Writer& w, const store::NhsChannelRecord& c, const store::NhsMessageRecord& message) {
  w.begin_object().key("type").string(store::nhs_channel_name(c.type));
  if (c.retry_count > 0) w.key("retryCount").integer(c.retry_count);
  w.key("cascadeType").string(c.primary ? "primary" : "secondary");
  w.key("cascadeOrder").integer(c.order);
  w.key("channelStatus").string(store::nhs_channel_status_name(c.status));
  if (c.status_description) w.key("channelStatusDescription").string(*c.status_description);
  if (c.failure_reason_code) w.key("channelFailureReasonCode").string(*c.failure_reason_code);
  if (c.supplier_status) w.key("supplierStatus").string(*c.supplier_status);
  timestamps(w, c.created_at, std::nullopt, c.delivered_at, c.failed_at);
  // A channel from an override plan (the recipient's language or format) names that plan.
  if (c.override_plan_id) {
    w.key("routingPlan").begin_object().key("id").string(c.override_plan_id->to_string());
    w.key("version").string(c.override_plan_version.value_or("")).key("type").string("override").end_object();
  } else {
    w.key("routingPlan").begin_object().key("id").string(message.routing_plan_id.to_string());
    w.key("version").string(message.routing_plan_version).key("type").string("original").end_object();
  }
  w.end_object();
}

std::string self_link(const domain::nhs::AcceptedMessage& m, const std::string& base) {
  return base + "/v1/messages/" + m.record.id;
}

}  // namespace

std::string nhs_time(Timestamp t) { return format_timestamp_millis(t); }

std::string message_created_json(const domain::nhs::AcceptedMessage& m, const std::string& base) {
  json::Writer w;
  w.begin_object().key("data").begin_object();
  w.key("type").string("Message").key("id").string(m.record.id);
  w.key("attributes").begin_object();
  w.key("messageReference").string(m.record.message_reference);
  w.key("messageStatus").string("created");
  w.key("timestamps").begin_object().key("created").string(nhs_time(m.record.created_at)).end_object();
  routing_plan(w, m);
  w.end_object();
  w.key("links").begin_object().key("self").string(self_link(m, base)).end_object();
  w.end_object().end_object();
  return w.take();
}

std::string batch_created_json(const domain::nhs::AcceptedBatch& batch) {
  json::Writer w;
  w.begin_object().key("data").begin_object();
  w.key("type").string("MessageBatch").key("id").string(batch.record.id);
  w.key("attributes").begin_object();
  w.key("messageBatchReference").string(batch.record.reference);
  routing_plan(w, batch.record.routing_plan_id, batch.record.routing_plan_version, batch.plan.get());
  w.key("messages").begin_array();
  for (const auto& [reference, id] : batch.messages) {
    w.begin_object().key("messageReference").string(reference).key("id").string(id).end_object();
  }
  w.end_array().end_object().end_object().end_object();
  return w.take();
}

std::string message_json(const domain::nhs::AcceptedMessage& m, const std::string& base) {
  const store::NhsMessageRecord& r = m.record;
  json::Writer w;
  w.begin_object().key("data").begin_object();
  w.key("type").string("Message").key("id").string(r.id);
  w.key("attributes").begin_object();
  w.key("messageReference").string(r.message_reference);
  w.key("messageStatus").string(store::nhs_message_status_name(r.status));
  if (r.status_description) w.key("messageStatusDescription").string(*r.status_description);
  if (r.failure_reason_code) w.key("messageFailureReasonCode").string(*r.failure_reason_code);
  // Channels are worked out at enrichment; until then there are none.
  w.key("channels").begin_array();
  for (const store::NhsChannelRecord& c : r.channels) channel(w, c, r);
  w.end_array();
  timestamps(w, r.created_at, r.enriched_at, r.delivered_at, r.failed_at);
  // What came from the demographics lookup (NHS: PDS), for the channels it gave a contact for
  // (none when the record refused the message).
  if (r.enriched_at && r.nhs_number) {
    w.key("metadata").begin_array().begin_object();
    if (r.demographics_version) w.key("version").string(*r.demographics_version);
    w.key("queriedAt").string(nhs_time(*r.enriched_at));
    w.key("labels").begin_array();
    for (const store::NhsChannelRecord& c : r.channels) {
      if (c.status != store::NhsChannelStatus::kSkipped) w.string(store::nhs_channel_name(c.type));
    }
    w.end_array().key("source").string("pds").end_object().end_array();
  }
  routing_plan(w, m);
  w.end_object();
  if (r.batch_id) {
    w.key("relationships").begin_object().key("messageBatch").begin_object().key("data").begin_object();
    w.key("type").string("MessageBatch").key("id").string(*r.batch_id).end_object().end_object().end_object();
  }
  w.key("links").begin_object().key("self").string(self_link(m, base)).end_object();
  w.end_object().end_object();
  return w.take();
}

}  // namespace herald::api::nhs_v1
