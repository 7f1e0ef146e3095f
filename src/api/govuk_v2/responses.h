#pragma once
// JSON bodies of GOV.UK Notify v2 responses, field for field (api/govuk-notify-v2.md §3.2, §3.6).

#include <string>

#include "domain/notifications.h"

namespace herald::api::govuk_v2 {

// `root` is the request's root URL with a trailing slash, e.g. "https://127.0.0.1:8443/".
std::string created_email_json(const domain::AcceptedEmail& accepted, const std::string& root);
std::string notification_json(const store::NotificationRecord& record, const std::string& root);

// Statuses after which a notification will not change (completed_at is set for them).
bool is_final_status(std::string_view status);

}  // namespace herald::api::govuk_v2
