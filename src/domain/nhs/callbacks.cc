#include "domain/nhs/callbacks.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/hex.h"
#include "core/json.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "domain/nhs/clients.h"

namespace herald::domain::nhs {
namespace {

using store::NhsCallbackKind;
using store::NhsChannelRecord;
using store::NhsChannelStatus;
using store::NhsMessageRecord;

constexpr std::array<std::string_view, 2> kMessageDefaults = {"delivered", "failed"};
constexpr std::array<std::string_view, 3> kChannelDefaults = {"delivered", "failed", "skipped"};
constexpr std::array<std::string_view, 5> kMessageStatuses = {"pending_enrichment", "enriched", "sending", "delivered",
                                                              "failed"};
constexpr std::array<std::string_view, 4> kChannelStatuses = {"skipped", "sending", "delivered", "failed"};
// spec §6.2's supplierStatus enum.
constexpr std::array<std::string_view, 15> kSupplierStatuses = {
    "delivered", "read",      "notification_attempted", "unnotified",        "rejected",
    "notified",  "received",  "permanent_failure",      "temporary_failure", "technical_failure",
    "accepted",  "cancelled", "pending_virus_check",    "validation_failed", "unknown"};

template <std::size_t N>
bool among(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool subscribed(const store::NhsCallbackTarget& target, std::string_view status) {
  if (target.statuses.empty()) {
    const auto defaults = default_callback_statuses(target.kind);
    return std::find(defaults.begin(), defaults.end(), status) != defaults.end();
  }
  return std::find(target.statuses.begin(), target.statuses.end(), status) != target.statuses.end();
}

bool supplier_subscribed(const store::NhsCallbackTarget& target, const std::optional<std::string>& status) {
  return status && std::find(target.supplier_statuses.begin(), target.supplier_statuses.end(), *status) !=
                       target.supplier_statuses.end();
}

// A status event's id: the same event always gets the same key (retries and replays of its
// callback carry it), different events different keys.
std::string event_key(const NhsMessageRecord& message, std::string_view what, Timestamp at) {
  return hex_encode(crypto::sha256(message.id + "/" + std::string(what) + "/" + std::to_string(to_micros(at))))
      .substr(0, 32);
}

const NhsChannelRecord* channel_of(const NhsMessageRecord& message, store::NhsChannel type) {
  for (const NhsChannelRecord& c : message.channels) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Timestamp channel_event_time(const NhsChannelRecord& c, Timestamp now) {
  if (c.status == NhsChannelStatus::kDelivered && c.delivered_at) return *c.delivered_at;
  if (c.status == NhsChannelStatus::kFailed && c.failed_at) return *c.failed_at;
  return now;
}

void begin_item(json::Writer& w, std::string_view type) {
  w.begin_object().key("data").begin_array().begin_object().key("type").string(type);
  w.key("attributes").begin_object();
}

void end_item(json::Writer& w, const NhsMessageRecord& message, std::string_view message_links,
              std::string_view event_key) {
  w.end_object();  // attributes
  w.key("links").begin_object().key("message").string(std::string(message_links) + message.id).end_object();
  w.key("meta").begin_object().key("idempotencyKey").string(event_key).end_object();
  w.end_object().end_array().end_object();
}

store::NhsCallbackRecord record_for(const store::NhsCallbackTarget& target, const NhsMessageRecord& message,
                                    std::string body, Timestamp now) {
  store::NhsCallbackRecord r;
  r.target = target.id;
  r.client = message.client;
  r.service = message.service;
  r.message_id = message.id;
  r.body = std::move(body);
  r.created_at = now;
  r.next_attempt_at = now;
  return r;
}

}  // namespace

std::span<const std::string_view> default_callback_statuses(NhsCallbackKind kind) {
  if (kind == NhsCallbackKind::kMessage) return kMessageDefaults;
  return kChannelDefaults;
}

Result<void> check_callback_statuses(NhsCallbackKind kind, const std::vector<std::string>& statuses,
                                     const std::vector<std::string>& supplier_statuses) {
  for (const std::string& s : statuses) {
    const bool known = kind == NhsCallbackKind::kMessage ? among(kMessageStatuses, s) : among(kChannelStatuses, s);
    if (!known) {
      return invalid_argument("\"" + s + "\" is not a " + store::nhs_callback_kind_name(kind) +
                              " status that makes a callback");
    }
  }
  if (!supplier_statuses.empty() && kind == NhsCallbackKind::kMessage) {
    return invalid_argument("supplier statuses are for channel callbacks");
  }
  for (const std::string& s : supplier_statuses) {
    if (!among(kSupplierStatuses, s)) return invalid_argument("\"" + s + "\" is not a supplier status");
  }
  return ok();
}

std::string message_status_callback(const NhsMessageRecord& message, const RoutingPlan* plan,
                                    std::string_view message_links, std::string_view key, Timestamp at) {
  json::Writer w;
  begin_item(w, "MessageStatus");
  w.key("messageId").string(message.id).key("messageReference").string(message.message_reference);
  w.key("messageStatus").string(store::nhs_message_status_name(message.status));
  if (message.status_description) w.key("messageStatusDescription").string(*message.status_description);
  if (message.failure_reason_code) w.key("messageFailureReasonCode").string(*message.failure_reason_code);
  w.key("channels").begin_array();
  for (const NhsChannelRecord& c : message.channels) {
    w.begin_object().key("type").string(store::nhs_channel_name(c.type));
    w.key("channelStatus").string(store::nhs_channel_status_name(c.status)).end_object();
  }
  w.end_array();
  w.key("timestamp").string(format_timestamp_millis(at));
  w.key("routingPlan").begin_object().key("id").string(message.routing_plan_id.to_string());
  if (plan != nullptr) w.key("name").string(plan->name);
  w.key("version").string(message.routing_plan_version);
  if (plan != nullptr) w.key("createdDate").string(format_timestamp_millis(plan->created));
  w.end_object();
  end_item(w, message, message_links, key);
  return w.take();
}

std::string channel_status_callback(const NhsMessageRecord& message, const NhsChannelRecord& channel,
                                    std::string_view message_links, std::string_view key, Timestamp at) {
  json::Writer w;
  begin_item(w, "ChannelStatus");
  w.key("messageId").string(message.id).key("messageReference").string(message.message_reference);
  w.key("cascadeType").string(channel.primary ? "primary" : "secondary").key("cascadeOrder").integer(channel.order);
  w.key("channel").string(store::nhs_channel_name(channel.type));
  w.key("channelStatus").string(store::nhs_channel_status_name(channel.status));
  if (channel.status_description) w.key("channelStatusDescription").string(*channel.status_description);
  if (channel.failure_reason_code) w.key("channelFailureReasonCode").string(*channel.failure_reason_code);
  w.key("supplierStatus").string(channel.supplier_status.value_or("unknown"));
  w.key("timestamp").string(format_timestamp_millis(at));
  w.key("retryCount").integer(channel.retry_count);
  end_item(w, message, message_links, key);
  return w.take();
}

std::vector<store::NhsCallbackRecord> callbacks_for(const NhsMessageRecord& before, const NhsMessageRecord& after,
                                                    const RoutingPlan* plan,
                                                    std::span<const store::NhsCallbackTarget> targets,
                                                    std::string_view message_links, Timestamp now) {
  std::vector<store::NhsCallbackRecord> out;
  if (targets.empty()) return out;
  const std::string message_status = store::nhs_message_status_name(after.status);
  if (after.status != before.status) {
    const Timestamp at = after.status == store::NhsMessageStatus::kDelivered && after.delivered_at ? *after.delivered_at
                         : after.status == store::NhsMessageStatus::kFailed && after.failed_at     ? *after.failed_at
                                                                                                   : now;
    std::string body;
    for (const store::NhsCallbackTarget& target : targets) {
      if (target.kind != NhsCallbackKind::kMessage || !subscribed(target, message_status)) continue;
      if (body.empty())
        body = message_status_callback(after, plan, message_links, event_key(after, message_status, at), at);
      out.push_back(record_for(target, after, body, now));
    }
  }
  for (const NhsChannelRecord& channel : after.channels) {
    const NhsChannelRecord* was = channel_of(before, channel.type);
    const bool status_changed =
        was == nullptr ? channel.status != NhsChannelStatus::kCreated : was->status != channel.status;
    const bool supplier_changed =
        channel.supplier_status && (was == nullptr || was->supplier_status != channel.supplier_status);
    if (!status_changed && !supplier_changed) continue;
    const std::string status = store::nhs_channel_status_name(channel.status);
    const Timestamp at = channel_event_time(channel, now);
    const std::string what =
        std::string(store::nhs_channel_name(channel.type)) + "/" + status + "/" + channel.supplier_status.value_or("");
    std::string body;
    for (const store::NhsCallbackTarget& target : targets) {
      if (target.kind != NhsCallbackKind::kChannel) continue;
      if (!(status_changed && subscribed(target, status)) &&
          !(supplier_changed && supplier_subscribed(target, channel.supplier_status))) {
        continue;
      }
      if (body.empty()) body = channel_status_callback(after, channel, message_links, event_key(after, what, at), at);
      out.push_back(record_for(target, after, body, now));
    }
  }
  return out;
}

Result<store::NhsCallbackTarget> make_callback_target(NewCallbackTarget in, Timestamp now) {
  if (!in.url.starts_with("https://") || in.url.size() <= 8) return invalid_argument("the URL must be https://");
  HERALD_TRY(check_callback_statuses(in.kind, in.statuses, in.supplier_statuses));
  const bool token_char_only =
      !in.api_key_header.empty() && std::all_of(in.api_key_header.begin(), in.api_key_header.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (!token_char_only) return invalid_argument("the API key header must be a header name such as x-api-key");
  if (in.rate_per_second < 1 || in.rate_per_second > 1000) return invalid_argument("the rate must be 1-1000 a second");
  if (in.retry_window_seconds < 60 || in.retry_window_seconds > 86'400) {
    return invalid_argument("the retry window must be 60-86400 seconds");
  }
  if (in.client_certificate_file.has_value() != in.client_key_file.has_value()) {
    return invalid_argument("a client certificate needs its key, and a key its certificate");
  }
  if (in.api_key && (in.api_key->size() < 16 || in.api_key->size() > 256)) {
    return invalid_argument("the callback API key must be 16-256 characters");
  }
  store::NhsCallbackTarget t;
  t.id = crypto::random_uuid();
  t.client = in.client;
  t.kind = in.kind;
  t.url = std::move(in.url);
  t.statuses = std::move(in.statuses);
  t.supplier_statuses = std::move(in.supplier_statuses);
  t.api_key_header = std::move(in.api_key_header);
  if (in.api_key) {
    t.api_key = std::move(*in.api_key);
  } else {
    auto key = new_api_key();
    if (!key) return key.error();
    t.api_key = std::move(*key);
  }
  t.client_certificate_file = std::move(in.client_certificate_file);
  t.client_key_file = std::move(in.client_key_file);
  t.pinned_key_sha256 = std::move(in.pinned_key_sha256);
  t.rate_per_second = in.rate_per_second;
  t.retry_window_seconds = in.retry_window_seconds;
  t.created_at = now;
  return t;
}

std::string callback_signature(const Uuid& application_id, std::string_view api_key, std::string_view body) {
  std::string key = application_id.to_string() + "." + std::string(api_key);
  std::string signature = hex_encode(crypto::hmac_sha256(key, body));
  std::fill(key.begin(), key.end(), '\0');
  return signature;
}

}  // namespace herald::domain::nhs
