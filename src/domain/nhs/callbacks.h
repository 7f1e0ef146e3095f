#pragma once
// NHS Notify callbacks (spec §6.4): what a cascade step's status changes tell a client's
// receivers. A message target hears of message statuses (MessageStatus items), a channel target
// of its channels' statuses and, if it asks, supplier statuses (ChannelStatus items). Each
// callback is one item in {"data": [item]}, compact JSON with the fields in the order NHS's
// callback component writes them, signed with HMAC-SHA256 over exactly the bytes sent.
//
// Pure functions: the cascade calls callbacks_for with the message before and after its step
// and stores what it returns with the step (so a status change and its callbacks are durable
// together); the sender (delivery/nhs_callbacks.h) posts them.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "domain/nhs/routing_plans.h"
#include "store/records.h"

namespace herald::domain::nhs {

// The statuses a target hears of when its operator named none: a message's outcome (delivered,
// failed); a channel's outcome (delivered, failed, skipped). NHS's default subscription.
std::span<const std::string_view> default_callback_statuses(store::NhsCallbackKind kind);

// The statuses and supplier statuses a target may ask for (spec §6.1, §6.2): kInvalidArgument
// naming the first unknown one.
Result<void> check_callback_statuses(store::NhsCallbackKind kind, const std::vector<std::string>& statuses,
                                     const std::vector<std::string>& supplier_statuses);

// The callbacks that `after` (the message once its step is done) makes for `targets` (the
// client's) compared with `before`: one per target per status change it subscribes to, due at
// `now`. `message_links` is the absolute URL GET /v1/messages/ lives under ("https://host/comms/v1/messages/").
std::vector<store::NhsCallbackRecord> callbacks_for(const store::NhsMessageRecord& before,
                                                    const store::NhsMessageRecord& after, const RoutingPlan* plan,
                                                    std::span<const store::NhsCallbackTarget> targets,
                                                    std::string_view message_links, Timestamp now);

// The bodies, for one status event (`event_key`: meta.idempotencyKey, stable across retries).
std::string message_status_callback(const store::NhsMessageRecord& message, const RoutingPlan* plan,
                                    std::string_view message_links, std::string_view event_key, Timestamp at);
std::string channel_status_callback(const store::NhsMessageRecord& message, const store::NhsChannelRecord& channel,
                                    std::string_view message_links, std::string_view event_key, Timestamp at);

// A receiver an operator registers for a client (`herald nhs callback add`): checked (an https
// URL, known statuses, a header name, a rate of 1-1000 a second, a window of 1 minute to 24
// hours, the certificate and key together) and, without an agreed API key, given a new one.
struct NewCallbackTarget {
  Uuid client;
  store::NhsCallbackKind kind = store::NhsCallbackKind::kMessage;
  std::string url;
  std::vector<std::string> statuses;
  std::vector<std::string> supplier_statuses;
  std::string api_key_header = "x-api-key";
  std::optional<std::string> api_key;
  std::optional<std::string> client_certificate_file, client_key_file, pinned_key_sha256;
  int rate_per_second = 10;
  int retry_window_seconds = 7200;
};
Result<store::NhsCallbackTarget> make_callback_target(NewCallbackTarget target, Timestamp now);

// x-hmac-sha256-signature: lowercase hex of HMAC-SHA256 with the key "<application id>.<api key>"
// over the body's bytes.
std::string callback_signature(const Uuid& application_id, std::string_view api_key, std::string_view body);

}  // namespace herald::domain::nhs
