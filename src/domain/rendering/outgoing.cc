#include "domain/rendering/outgoing.h"

#include "core/json.h"
#include "domain/rendering/personalisation_json.h"
#include "domain/rendering/sms_text.h"
#include "domain/rendering/template_render.h"

namespace herald::domain {

std::string from_email(const store::ServiceRecord& service, std::string_view email_domain) {
  return service.email_sender_local_part + "@" + std::string(email_domain);
}

Result<OutgoingEmail> Outgoing::email(const store::NotificationRecord& record, Timestamp now) {
  auto service = lookups_.service(record.service, now);
  if (!service) return service.error();
  if (!*service) return not_found("service " + record.service.to_string());
  std::optional<std::string> hosted;
  if (links_ != nullptr && !store::is_free_text(record)) {
    auto version = lookups_.template_version(record.service, record.template_id, record.template_version, now);
    if (!version) return version.error();
    if (*version && (*version)->has_unsubscribe_link) {
      auto link = links_->link(record, now);
      if (!link) return link.error();
      hosted = std::move(*link);
    }
  }
  // An unsubscribe link at the foot of what is emailed: Herald's own when the template asks for
  // it, else the request's one-click URL (GOV.UK appends that one too).
  auto mime =
      email_mime_parts(record.subject, record.body, hosted ? *hosted : record.one_click_unsubscribe_url.value_or(""));
  OutgoingEmail email;
  email.message_id = record.id.to_string();
  email.from = from_email(**service, email_domain_);
  email.to = record.recipient;
  email.subject = record.subject;
  email.text_body = std::move(mime.text_body);
  email.html_body = std::move(mime.html_body);
  email.one_click_unsubscribe_url = record.one_click_unsubscribe_url ? record.one_click_unsubscribe_url : hosted;
  email.reply_to = record.sender;
  return email;
}

Result<std::string> Outgoing::sms_text(const store::NotificationRecord& record, Timestamp now) {
  auto service = lookups_.service(record.service, now);
  if (!service) return service.error();
  if (!*service) return not_found("service " + record.service.to_string());
  if (store::is_free_text(record)) return record.body;
  auto found = lookups_.template_version(record.service, record.template_id, record.template_version, now);
  if (!found) return found.error();
  if (!*found) return not_found("template " + record.template_id.to_string());
  auto personalisation = json::parse(record.personalisation_json);
  if (!personalisation || !personalisation->is_object())
    return data_loss("stored personalisation is not a JSON object");
  auto rendered = render_sms((*found)->body, personalisation_from_json(*personalisation),
                             (*service)->prefix_sms ? std::string_view((*service)->name) : std::string_view());
  if (!rendered) return rendered.error();
  return std::move(rendered->body);
}

}  // namespace herald::domain
