#pragma once
// JSON bodies of GOV.UK Notify v2 responses, field for field as the official clients read them.

#include <string>

#include "core/json.h"
#include "domain/letters/letters.h"
#include "domain/notifications.h"
#include "domain/templates.h"

namespace herald::api::govuk_v2 {

// `root` is the request's root URL with a trailing slash, e.g. "https://127.0.0.1:8443/".
std::string created_email_json(const domain::AcceptedEmail& accepted, const std::string& root);
std::string created_sms_json(const domain::AcceptedSms& accepted, const std::string& root);
std::string created_letter_json(const domain::AcceptedLetter& accepted, const std::string& root);
// A precompiled letter's 201 has another shape: {"id", "reference", "postage"} (§3.5).
std::string created_precompiled_letter_json(const domain::AcceptedLetter& accepted);
// What sends cost, for cost_in_pounds / cost_details: pounds per text fragment, and per letter
// by postage and sheets (a letter without a price shows its cost as not ready).
struct Prices {
  double sms_rate = 0.0227;
  domain::LetterPrices letters;
};
std::string notification_json(const store::NotificationRecord& record, const std::string& root, const Prices& prices);
void write_notification(json::Writer& w, const store::NotificationRecord& record, const std::string& root,
                        const Prices& prices);
// GET /v2/notifications: {"notifications": [...], "links": {"current", "next"?}} (§3.7).
std::string notifications_page_json(const std::vector<store::NotificationRecord>& records, const std::string& root,
                                    const Prices& prices, const std::string& current,
                                    const std::optional<std::string>& next);
// A double as Python's repr() prints it ("0.0", "0.0454", "1e-05").
std::string python_float(double value);

// GET /v2/received-text-messages (§3.12): links.current never carries the query.
std::string received_texts_json(const std::vector<store::InboundSms>& texts, const std::string& current,
                                const std::optional<std::string>& next);

// GET /v2/template/{id}[/version/{v}] (§3.9) and GET /v2/templates (§3.10).
// `contact_block`: what the letter template prints as its contact block (nullopt for others);
// `contact_blocks`: the same for each of `templates`.
std::string template_json(const store::TemplateRecord& t, const std::optional<std::string>& contact_block);
std::string templates_json(const std::vector<store::TemplateRecord>& templates,
                           const std::vector<std::optional<std::string>>& contact_blocks);
// POST /v2/template/{id}/preview (§3.11).
std::string template_preview_json(const domain::TemplatePreview& preview);

}  // namespace herald::api::govuk_v2
