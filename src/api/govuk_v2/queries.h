#pragma once
// Query strings of the v2 GET endpoints: parsing (as Flask/werkzeug decode them) and schema
// validation with GOV.UK's messages (GET /v2/notifications, /v2/templates and
// /v2/received-text-messages). Untrusted:
// linear scans, fuzzed with the request parsers.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "net/http.h"
#include "store/records.h"

namespace herald::api::govuk_v2 {

// Decoded (key, value) pairs in order: '+' is a space, %XX a byte; invalid UTF-8 becomes
// U+FFFD, as werkzeug decodes it. Pairs without '=' have an empty value.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
QueryParams parse_query(std::string_view query);
// Percent-encodes a query string built from `params` (unreserved characters kept).
std::string encode_query(const QueryParams& params);

struct ListNotificationsRequest {
  std::vector<store::Channel> types;
  std::vector<store::NotificationStatus> statuses;  // GOV.UK's aliases (failed, accepted, received) expanded
  std::optional<std::string> reference;
  std::optional<NotificationId> older_than;
  bool include_jobs = false;  // also notifications sent from a list in the admin UI
  // The validated filters as GOV.UK echoes them in links.current (older_than excluded): one
  // entry per key in first-seen order, all values for list keys, the first for the others.
  QueryParams echo;
};
std::variant<ListNotificationsRequest, net::Response> parse_list_notifications(std::string_view query);

// GET /v2/templates: the optional `type`.
std::variant<std::optional<store::Channel>, net::Response> parse_list_templates(std::string_view query);

// GET /v2/received-text-messages: the optional `older_than`.
std::variant<std::optional<Uuid>, net::Response> parse_older_than_only(std::string_view query);

// "https://host/v2/notifications" + "?" + echo (+ older_than) as links.current / links.next.
std::string page_link(const std::string& base, const QueryParams& echo, const std::optional<std::string>& older_than);

}  // namespace herald::api::govuk_v2
