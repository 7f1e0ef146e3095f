#include "domain/unsubscribe.h"

#include <algorithm>
#include <charconv>

#include "core/base64.h"
#include "core/csv.h"
#include "crypto/data_keys.h"
#include "crypto/random.h"
#include "domain/recipients/email_address.h"

namespace herald::domain {

namespace {

constexpr std::string_view kTable = "unsubscribe_links";
constexpr std::string_view kColumn = "recipient";

}  // namespace

Result<std::string> UnsubscribeLinks::link(const store::NotificationRecord& email, Timestamp now) const {
  auto key = cipher_.keys().key_for_scope(crypto::kSecretsScope, now);
  if (!key) return key.error();
  const std::string id = email.id.to_string();
  // When it was made (to refuse old links), then the address.
  auto sealed = cipher_.seal(std::to_string(to_micros(now)) + "\n" + email.recipient, {kTable, kColumn, id}, *key);
  if (!sealed) return sealed.error();
  return public_root_ + "unsubscribe/" + id + "/" + base64url_encode(*sealed);
}

std::optional<std::string> UnsubscribeLinks::open(NotificationId id, std::string_view token, Timestamp now) const {
  auto envelope = base64url_decode(token);
  if (!envelope) return std::nullopt;
  const std::string row = id.to_string();
  auto opened = cipher_.open(*envelope, {kTable, kColumn, row});
  if (!opened) return std::nullopt;
  const std::size_t newline = opened->find('\n');
  if (newline == std::string::npos) return std::nullopt;
  std::int64_t made = 0;
  const auto parsed = std::from_chars(opened->data(), opened->data() + newline, made);
  if (parsed.ec != std::errc() || parsed.ptr != opened->data() + newline) return std::nullopt;
  if (now - from_micros(made) > kUnsubscribeLinkLifetime) return std::nullopt;
  return opened->substr(newline + 1);
}

bool Unsubscribes::valid(std::string_view notification_id, std::string_view token, Timestamp now) const {
  auto id = NotificationId::parse(notification_id);
  return id && links_.open(*id, token, now).has_value();
}

Result<UnsubscribeOutcome> Unsubscribes::request(std::string_view notification_id, std::string_view token,
                                                 Timestamp now) {
  auto id = NotificationId::parse(notification_id);
  if (!id) return UnsubscribeOutcome::kInvalidLink;
  auto email = links_.open(*id, token, now);
  if (!email) return UnsubscribeOutcome::kInvalidLink;
  store::UnsubscribeRequest request;
  request.id = crypto::time_ordered_uuid(now);
  request.notification = *id;
  request.email = std::move(*email);
  if (auto valid = validate_email_address(request.email)) request.email_normalised = normalise_email_for_index(*valid);
  request.created_at = now;
  auto added = store_.add_unsubscribe_request(request);
  if (!added) return added.error();
  if (!*added) return UnsubscribeOutcome::kUnknown;
  return **added ? UnsubscribeOutcome::kRecorded : UnsubscribeOutcome::kAlreadyRequested;
}

Result<std::string> Unsubscribes::download(ServiceId service, Uuid id, Timestamp now,
                                           store::UnsubscribeReport& report) {
  if (id == Uuid{}) {
    auto made = store_.create_unsubscribe_report(service, crypto::time_ordered_uuid(now), now);
    if (!made) return made.error();
    if (!*made) return not_found("no unsubscribe requests to download");
    report = **made;
  } else {
    auto reports = store_.unsubscribe_reports(service);
    if (!reports) return reports.error();
    auto found = std::find_if(reports->begin(), reports->end(), [&](const auto& r) { return r.id == id; });
    if (found == reports->end()) return not_found("no such report");
    report = *found;
  }
  auto requests = store_.unsubscribe_requests(service, report.id);
  if (!requests) return requests.error();
  std::string out =
      "Email address,Template name,Uploaded spreadsheet file name,Template sent at,Unsubscribe request received at\r\n";
  for (const auto& r : *requests) {
    out += csv::spreadsheet_field(r.email) + "," + csv::spreadsheet_field(r.template_name) + "," +
           csv::spreadsheet_field(r.job_file_name.value_or("N/A")) + "," + format_timestamp(r.notification_created_at) +
           "," + format_timestamp(r.created_at) + "\r\n";
  }
  return out;
}

std::string unsubscribe_report_file_name(const store::UnsubscribeReport& report) {
  return "Email unsubscribe requests " + format_timestamp(report.earliest).substr(0, 10) + " to " +
         format_timestamp(report.latest).substr(0, 10) + ".csv";
}

}  // namespace herald::domain
