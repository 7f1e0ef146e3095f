#include "api/govuk_v2/queries.h"

#include <algorithm>
#include <array>

#include "api/govuk_v2/errors.h"
#include "core/check.h"
#include "core/url.h"

namespace herald::api::govuk_v2 {
namespace {

constexpr std::array<std::string_view, 3> kTemplateTypes = {"sms", "email", "letter"};
constexpr std::array<std::string_view, 16> kStatuses = {
    "cancelled", "created", "sending", "sent", "delivered", "pending", "failed", "technical-failure",
    "temporary-failure", "permanent-failure", "pending-virus-check", "validation-failed", "virus-scan-failed",
    "returned-letter", "accepted", "received"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

template <std::size_t N>
std::string enum_list(const std::array<std::string_view, N>& set) {
  std::string out = "[";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += ", ";
    out += set[i];
  }
  return out + "]";
}

// GOV.UK's messages quote nothing (quotes are stripped from Python's repr).
std::string unquoted(std::string value) {
  value.erase(std::remove(value.begin(), value.end(), '\''), value.end());
  return value;
}

std::vector<std::string> values_of(const QueryParams& params, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == key) out.push_back(v);
  }
  return out;
}

// "Additional properties are not allowed (a, b were unexpected)", keys in first-seen order.
void check_additional(const QueryParams& params, std::initializer_list<std::string_view> allowed,
                      std::vector<ErrorItem>& errors) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : params) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end() &&
        std::find(extra.begin(), extra.end(), k) == extra.end()) {
      extra.push_back(k);
    }
  }
  if (extra.empty()) return;
  std::string names;
  for (const auto& k : extra) names += (names.empty() ? "" : ", ") + unquoted(k);
  errors.push_back({"ValidationError", "Additional properties are not allowed (" + names +
                                           (extra.size() == 1 ? " was" : " were") + " unexpected)"});
}

}  // namespace

QueryParams parse_query(std::string_view query) { return parse_form(query); }

std::string encode_query(const QueryParams& params) { return encode_form(params); }

std::string page_link(const std::string& base, const QueryParams& echo, const std::optional<std::string>& older_than) {
  QueryParams params = echo;
  if (older_than) params.emplace_back("older_than", *older_than);
  if (params.empty()) return base;
  return base + "?" + encode_query(params);
}

std::variant<ListNotificationsRequest, net::Response> parse_list_notifications(std::string_view query) {
  const QueryParams params = parse_query(query);
  ListNotificationsRequest request;
  std::vector<ErrorItem> errors;
  // Properties in the order of GOV.UK's schema, then additionalProperties.
  const auto reference = values_of(params, "reference");
  if (!reference.empty()) request.reference = reference.front();
  for (const std::string& status : values_of(params, "status")) {
    if (!one_of(kStatuses, status)) {
      errors.push_back({"ValidationError", "status " + unquoted(status) + " is not one of " + enum_list(kStatuses)});
    } else if (status == "failed") {
      using S = store::NotificationStatus;
      for (S s : {S::kTechnicalFailure, S::kTemporaryFailure, S::kPermanentFailure, S::kValidationFailed,
                  S::kVirusScanFailed, S::kReturnedLetter}) {
        request.statuses.push_back(s);
      }
    } else if (status == "accepted") {
      request.statuses.push_back(store::NotificationStatus::kCreated);
      request.statuses.push_back(store::NotificationStatus::kSending);
    } else if (status == "received") {
      request.statuses.push_back(store::NotificationStatus::kDelivered);
    } else {
      const auto parsed = store::parse_status(status);  // every other entry of kStatuses is a status's name
      HERALD_CHECK(parsed.has_value(), "kStatuses holds a name that is not a NotificationStatus");
      request.statuses.push_back(*parsed);
    }
  }
  for (const std::string& type : values_of(params, "template_type")) {
    if (!one_of(kTemplateTypes, type)) {
      errors.push_back({"ValidationError", "template_type " + unquoted(type) + " is not one of " + enum_list(kTemplateTypes)});
    } else {
      const auto parsed = store::parse_channel(type);
      HERALD_CHECK(parsed.has_value(), "kTemplateTypes holds a name that is not a Channel");
      request.types.push_back(*parsed);
    }
  }
  const auto include_jobs = values_of(params, "include_jobs");
  if (!include_jobs.empty() && include_jobs.front() != "true" && include_jobs.front() != "True") {
    errors.push_back({"ValidationError", "include_jobs " + unquoted(include_jobs.front()) + " is not one of [true, True]"});
  }
  request.include_jobs = !include_jobs.empty();
  const auto older_than = values_of(params, "older_than");
  if (!older_than.empty()) {
    auto id = NotificationId::parse(older_than.front());
    if (!id) {
      errors.push_back({"ValidationError", "older_than is not a valid UUID"});
    } else {
      request.older_than = *id;
    }
  }
  check_additional(params, {"reference", "status", "template_type", "include_jobs", "older_than"}, errors);
  if (!errors.empty()) return validation_errors(errors);
  // The echo for links: list keys with all their values, the others with their first.
  for (const auto& [k, v] : params) {
    if (k == "older_than") continue;
    const bool list = k == "status" || k == "template_type";
    const bool seen =
        std::any_of(request.echo.begin(), request.echo.end(), [&key = k](const auto& e) { return e.first == key; });
    if (list || !seen) request.echo.emplace_back(k, v);
  }
  return request;
}

std::variant<std::optional<store::Channel>, net::Response> parse_list_templates(std::string_view query) {
  const QueryParams params = parse_query(query);
  std::vector<ErrorItem> errors;
  std::optional<store::Channel> type;
  const auto types = values_of(params, "type");
  if (!types.empty()) {
    if (!one_of(kTemplateTypes, types.front())) {
      errors.push_back({"ValidationError", "type " + unquoted(types.front()) + " is not one of " + enum_list(kTemplateTypes)});
    } else {
      type = store::parse_channel(types.front());
    }
  }
  check_additional(params, {"type"}, errors);
  if (!errors.empty()) return validation_errors(errors);
  return type;
}

std::variant<std::optional<Uuid>, net::Response> parse_older_than_only(std::string_view query) {
  const QueryParams params = parse_query(query);
  std::vector<ErrorItem> errors;
  std::optional<Uuid> older_than;
  const auto values = values_of(params, "older_than");
  if (!values.empty()) {
    auto id = Uuid::parse(values.front());
    if (!id) {
      errors.push_back({"ValidationError", "older_than is not a valid UUID"});
    } else {
      older_than = *id;
    }
  }
  check_additional(params, {"older_than"}, errors);
  if (!errors.empty()) return validation_errors(errors);
  return older_than;
}

}  // namespace herald::api::govuk_v2
