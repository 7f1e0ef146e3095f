#include "api/govuk_v2/responses.h"

#include <array>

#include "core/json.h"

namespace herald::api::govuk_v2 {
namespace {

std::optional<std::string> optional_time(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return format_timestamp(*t);
}

}  // namespace

bool is_final_status(std::string_view status) {
  static constexpr std::array<std::string_view, 9> kFinal = {
      "sent", "delivered", "failed", "technical-failure", "temporary-failure",
      "permanent-failure", "returned-letter", "cancelled", "validation-failed"};
  for (auto s : kFinal) {
    if (s == status) return true;
  }
  return false;
}

std::string created_email_json(const domain::AcceptedEmail& accepted, const std::string& root) {
  const store::NotificationRecord& r = accepted.record;
  const std::string id = r.id.to_string();
  json::Writer w;
  w.begin_object();
  w.key("id").string(id);
  w.key("reference").string_or_null(r.reference);
  w.key("content").begin_object();
  w.key("from_email").string(accepted.from_email);
  w.key("body").string(r.body);
  w.key("subject").string(r.subject);
  w.key("one_click_unsubscribe_url").string_or_null(r.one_click_unsubscribe_url);
  w.end_object();
  w.key("uri").string(root + "v2/notifications/" + id);
  w.key("template").begin_object();
  w.key("id").string(r.template_id.to_string());
  w.key("version").integer(r.template_version);
  w.key("uri").string(root + "services/" + r.service.to_string() + "/templates/" +
                      r.template_id.to_string());
  w.end_object();
  w.key("scheduled_for").null();
  w.end_object();
  return w.take();
}

std::string notification_json(const store::NotificationRecord& r, const std::string& root) {
  const bool is_email = r.type == "email";
  json::Writer w;
  w.begin_object();
  w.key("id").string(r.id.to_string());
  w.key("reference").string_or_null(r.reference);
  w.key("email_address").string_or_null(is_email ? std::optional(r.recipient) : std::nullopt);
  w.key("phone_number").string_or_null(r.type == "sms" ? std::optional(r.recipient) : std::nullopt);
  for (const char* line : {"line_1", "line_2", "line_3", "line_4", "line_5", "line_6", "postcode"}) {
    w.key(line).null();
  }
  w.key("type").string(r.type);
  w.key("status").string(r.status);
  w.key("template").begin_object();
  w.key("id").string(r.template_id.to_string());
  w.key("version").integer(r.template_version);
  w.key("uri").string(root + "v2/template/" + r.template_id.to_string() + "/version/" +
                      std::to_string(r.template_version));
  w.end_object();
  w.key("body").string(r.body);
  w.key("subject").string_or_null(is_email ? std::optional(r.subject) : std::nullopt);
  w.key("created_at").string(format_timestamp(r.created_at));
  w.key("created_by_name").null();
  w.key("sent_at").string_or_null(optional_time(r.sent_at));
  w.key("completed_at").string_or_null(is_final_status(r.status) ? optional_time(r.updated_at) : std::nullopt);
  w.key("scheduled_for").null();
  w.key("postage").null();
  w.key("one_click_unsubscribe_url").string_or_null(r.one_click_unsubscribe_url);
  w.key("cost_in_pounds").raw_number("0.0");
  w.key("is_cost_data_ready").boolean(true);
  w.key("cost_details").begin_object().end_object();
  w.end_object();
  return w.take();
}

}  // namespace herald::api::govuk_v2
