#include "api/govuk_v2/responses.h"

#include <array>
#include <charconv>

#include "core/json.h"
#include "domain/letters/letter_timings.h"
#include "domain/lifecycle.h"

namespace herald::api::govuk_v2 {
namespace {

std::optional<std::string> optional_time(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return format_timestamp(*t);
}

// GOV.UK shows letters' statuses coarser (models.py get_letter_status): accepted while Herald
// has it, received once posted.
std::string_view shown_status(const store::NotificationRecord& r) {
  using store::NotificationStatus;
  if (r.type == store::Channel::kLetter) {
    if (r.status == NotificationStatus::kCreated || r.status == NotificationStatus::kSending) return "accepted";
    if (r.status == NotificationStatus::kDelivered || r.status == NotificationStatus::kReturnedLetter)
      return "received";
  }
  return store::status_name(r.status);
}

// A letter's address as GET shows it: personalisation address_line_1..6 and postcode, the keys
// matched case-insensitively.
std::array<std::optional<std::string>, 7> address_fields(const store::NotificationRecord& r) {
  std::array<std::optional<std::string>, 7> out;
  if (r.type != store::Channel::kLetter) return out;
  auto parsed = json::parse(r.personalisation_json);
  if (!parsed || !parsed->is_object()) return out;
  static constexpr std::array<std::string_view, 7> kKeys = {"address_line_1", "address_line_2", "address_line_3",
                                                            "address_line_4", "address_line_5", "address_line_6",
                                                            "postcode"};
  for (const auto& [key, value] : parsed->as_object()) {
    std::string lower = key;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < kKeys.size(); ++i) {
      if (lower == kKeys[i] && value.is_string()) out[i] = value.as_string();
    }
  }
  return out;
}

}  // namespace

namespace {

// What every send's 201 has (§3.1, §3.2): id, reference, the channel's `content` (written by
// `content`), uri, template (with its /services/... uri) and scheduled_for. Leaves the object
// open for what follows.
template <typename Content>
void begin_created(json::Writer& w, const store::NotificationRecord& r, const std::string& root, Content&& content) {
  const std::string id = r.id.to_string();
  const std::string template_id = r.template_id.to_string();
  w.begin_object();
  w.key("id").string(id);
  w.key("reference").string_or_null(r.reference);
  w.key("content").begin_object();
  content();
  w.end_object();
  std::string uri;
  uri.reserve(root.size() + 128);
  uri.append(root).append("v2/notifications/").append(id);
  w.key("uri").string(uri);
  w.key("template").begin_object();
  w.key("id").string(template_id);
  w.key("version").integer(r.template_version);
  uri.clear();
  uri.append(root).append("services/").append(r.service.to_string()).append("/templates/").append(template_id);
  w.key("uri").string(uri);
  w.end_object();
  w.key("scheduled_for").null();
}

}  // namespace

std::string created_email_json(const domain::AcceptedEmail& accepted, const std::string& root) {
  const store::NotificationRecord& r = accepted.record;
  json::Writer w;
  begin_created(w, r, root, [&] {
    w.key("from_email").string(accepted.from_email);
    w.key("body").string(r.body);
    w.key("subject").string(r.subject);
    w.key("one_click_unsubscribe_url").string_or_null(r.one_click_unsubscribe_url);
  });
  // Always present, `{}` when sanitise_content_for changed nothing (GOV.UK's
  // post_notifications.py; the node client's response schema requires the key).
  w.key("sanitised_content").begin_object();
  for (const auto& v : accepted.sanitised_content) {
    w.key(v.key).begin_object().key("unsanitised").string(v.unsanitised).key("sanitised").string(v.sanitised).end_object();
  }
  w.end_object();
  w.end_object();
  return w.take();
}

std::string created_letter_json(const domain::AcceptedLetter& accepted, const std::string& root) {
  const store::NotificationRecord& r = accepted.record;
  json::Writer w;
  begin_created(w, r, root, [&] {
    w.key("body").string(r.body);
    w.key("subject").string(r.subject);
  });
  w.end_object();
  return w.take();
}

std::string created_precompiled_letter_json(const domain::AcceptedLetter& accepted) {
  const store::NotificationRecord& r = accepted.record;
  json::Writer w;
  w.begin_object();
  w.key("id").string(r.id.to_string());
  w.key("reference").string_or_null(r.reference);
  w.key("postage").string_or_null(r.postage);
  w.end_object();
  return w.take();
}

std::string created_sms_json(const domain::AcceptedSms& accepted, const std::string& root) {
  const store::NotificationRecord& r = accepted.record;
  json::Writer w;
  begin_created(w, r, root, [&] {
    w.key("body").string(r.body);
    w.key("from_number").string(r.sender);
  });
  w.end_object();
  return w.take();
}

std::string python_float(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string out(buffer, ec == std::errc() ? end : buffer);
  // Python's repr: "1.0" not "1"; exponents as "1e-05".
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  if (const auto e = out.find('e'); e != std::string::npos && out[e + 1] == '-' && out.size() - e == 3) {
    out.insert(e + 2, "0");
  }
  return out;
}

namespace {

// GOV.UK's rules: no cost until a letter has its sheets counted; letters never sent cost 0 with
// 0 sheets; the others cost the price for their sheets and postage. Where Herald has no such
// price ([letters.prices]), the cost stays "not ready" (null) rather than a made-up figure, and
// cost_details still shows the sheets and postage.
void write_letter_cost(json::Writer& w, const store::NotificationRecord& r, const domain::LetterPrices& prices) {
  const std::string postage = r.postage.value_or("second");
  using store::NotificationStatus;
  const bool never_sent =
      r.status == NotificationStatus::kCancelled || r.status == NotificationStatus::kTechnicalFailure ||
      r.status == NotificationStatus::kValidationFailed || r.status == NotificationStatus::kVirusScanFailed;
  std::optional<double> cost;
  if (never_sent) {
    cost = 0.0;
  } else if (r.billable_units > 0) {
    cost = prices.price(postage, r.billable_units);
  }
  if (cost) {
    w.key("cost_in_pounds").raw_number(python_float(*cost));
  } else {
    w.key("cost_in_pounds").null();
  }
  w.key("is_cost_data_ready").boolean(cost.has_value());
  w.key("cost_details").begin_object();
  if (never_sent || r.billable_units > 0) {
    w.key("billable_sheets_of_paper").integer(never_sent ? 0 : r.billable_units);
    w.key("postage").string(postage);
  }
  w.end_object();
}

}  // namespace

std::string notification_json(const store::NotificationRecord& r, const std::string& root, const Prices& prices) {
  json::Writer w;
  write_notification(w, r, root, prices);
  return w.take();
}

void write_notification(json::Writer& w, const store::NotificationRecord& r, const std::string& root,
                        const Prices& prices) {
  const bool is_email = r.type == store::Channel::kEmail;
  w.begin_object();
  w.key("id").string(r.id.to_string());
  w.key("reference").string_or_null(r.reference);
  w.key("email_address").string_or_null(is_email ? std::optional(r.recipient) : std::nullopt);
  w.key("phone_number").string_or_null(r.type == store::Channel::kSms ? std::optional(r.recipient) : std::nullopt);
  const auto address = address_fields(r);
  static constexpr std::array<const char*, 7> kLines = {"line_1", "line_2", "line_3", "line_4",
                                                        "line_5", "line_6", "postcode"};
  for (std::size_t i = 0; i < kLines.size(); ++i) w.key(kLines[i]).string_or_null(address[i]);
  w.key("type").string(store::channel_name(r.type));
  w.key("status").string(shown_status(r));
  w.key("template").begin_object();
  w.key("id").string(r.template_id.to_string());
  w.key("version").integer(r.template_version);
  w.key("uri").string(root + "v2/template/" + r.template_id.to_string() + "/version/" +
                      std::to_string(r.template_version));
  w.end_object();
  w.key("body").string(r.body);
  w.key("subject").string_or_null(r.type != store::Channel::kSms ? std::optional(r.subject) : std::nullopt);
  w.key("created_at").string(format_timestamp(r.created_at));
  w.key("created_by_name").null();
  w.key("sent_at").string_or_null(optional_time(r.sent_at));
  w.key("completed_at").string_or_null(domain::is_final(r.status) ? optional_time(r.updated_at) : std::nullopt);
  w.key("scheduled_for").null();
  w.key("postage").string_or_null(r.postage);
  w.key("one_click_unsubscribe_url").string_or_null(r.one_click_unsubscribe_url);
  if (r.type == store::Channel::kLetter) {
    w.key("estimated_delivery").string(format_timestamp(domain::estimated_letter_delivery(r.created_at, r.postage.value_or("second"))));
    write_letter_cost(w, r, prices.letters);
  } else if (r.type == store::Channel::kSms) {
    // GOV.UK: fragments x international multiplier x the SMS rate.
    w.key("cost_in_pounds").raw_number(python_float(r.billable_units * r.rate_multiplier * prices.sms_rate));
    w.key("is_cost_data_ready").boolean(true);
    w.key("cost_details").begin_object();
    w.key("billable_sms_fragments").integer(r.billable_units);
    w.key("international_rate_multiplier").raw_number(python_float(r.rate_multiplier));
    w.key("sms_rate").raw_number(python_float(prices.sms_rate));
    w.end_object();
  } else {
    w.key("cost_in_pounds").raw_number("0.0");
    w.key("is_cost_data_ready").boolean(true);
    w.key("cost_details").begin_object().end_object();
  }
  w.end_object();
}

std::string notifications_page_json(const std::vector<store::NotificationRecord>& records, const std::string& root,
                                    const Prices& prices, const std::string& current,
                                    const std::optional<std::string>& next) {
  json::Writer w;
  w.begin_object();
  w.key("notifications").begin_array();
  for (const auto& r : records) write_notification(w, r, root, prices);
  w.end_array();
  w.key("links").begin_object();
  w.key("current").string(current);
  if (next) w.key("next").string(*next);
  w.end_object();
  w.end_object();
  return w.take();
}

std::string received_texts_json(const std::vector<store::InboundSms>& texts, const std::string& current,
                                const std::optional<std::string>& next) {
  json::Writer w;
  w.begin_object();
  w.key("received_text_messages").begin_array();
  for (const auto& t : texts) {
    w.begin_object();
    w.key("id").string(t.id.to_string());
    w.key("user_number").string(t.user_number);
    w.key("notify_number").string(t.notify_number);
    w.key("created_at").string(format_timestamp(t.created_at));
    w.key("service_id").string(t.service.to_string());
    w.key("content").string(t.content);
    w.end_object();
  }
  w.end_array();
  w.key("links").begin_object();
  w.key("current").string(current);
  if (next) w.key("next").string(*next);
  w.end_object();
  w.end_object();
  return w.take();
}

namespace {

// A letter template's postage; templates stored before postage was kept went second class.
std::optional<std::string> template_postage(const store::TemplateRecord& t) {
  return t.postage.value_or("second");
}

void write_template(json::Writer& w, const store::TemplateRecord& t, const std::optional<std::string>& contact_block) {
  const bool has_subject = t.type != store::Channel::kSms;
  w.begin_object();
  w.key("id").string(t.id.to_string());
  w.key("type").string(store::channel_name(t.type));
  w.key("created_at").string(format_timestamp(t.created_at));
  w.key("updated_at").string_or_null(optional_time(t.updated_at));
  w.key("created_by").string(t.created_by);
  w.key("version").integer(t.version);
  w.key("body").string(t.body);
  w.key("subject").string_or_null(has_subject ? std::optional(t.subject) : std::nullopt);
  w.key("name").string(t.name);
  w.key("personalisation").begin_object();
  for (const std::string& name : domain::template_placeholders(t)) {
    w.key(name).begin_object().key("required").boolean(true).end_object();
  }
  w.end_object();
  const bool letter = t.type == store::Channel::kLetter;
  w.key("postage").string_or_null(letter ? template_postage(t) : std::nullopt);
  w.key("letter_contact_block").string_or_null(letter ? contact_block : std::nullopt);
  w.end_object();
}

}  // namespace

std::string template_json(const store::TemplateRecord& t, const std::optional<std::string>& contact_block) {
  json::Writer w;
  write_template(w, t, contact_block);
  return w.take();
}

std::string templates_json(const std::vector<store::TemplateRecord>& templates,
                           const std::vector<std::optional<std::string>>& contact_blocks) {
  json::Writer w;
  w.begin_object();
  w.key("templates").begin_array();
  for (std::size_t i = 0; i < templates.size(); ++i) {
    write_template(w, templates[i], i < contact_blocks.size() ? contact_blocks[i] : std::nullopt);
  }
  w.end_array();
  w.end_object();
  return w.take();
}

std::string template_preview_json(const domain::TemplatePreview& preview) {
  const store::TemplateRecord& t = preview.record;
  json::Writer w;
  w.begin_object();
  w.key("id").string(t.id.to_string());
  w.key("type").string(store::channel_name(t.type));
  w.key("version").integer(t.version);
  w.key("body").string(preview.body);
  w.key("subject").string_or_null(preview.subject);
  w.key("html").string_or_null(preview.html);
  w.key("postage").string_or_null(t.type == store::Channel::kLetter ? template_postage(t) : std::nullopt);
  w.end_object();
  return w.take();
}

}  // namespace herald::api::govuk_v2
