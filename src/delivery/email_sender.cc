#include "delivery/email_sender.h"

#include "domain/personalisation_json.h"
#include "domain/template_render.h"

namespace herald::delivery {

Result<OutgoingEmail> prepare_email(domain::Notifications& notifications,
                                    const store::NotificationRecord& record, Timestamp now) {
  auto service = notifications.lookups().service(record.service, now);
  if (!service) return service.error();
  if (!*service) return not_found("service " + record.service.to_string());
  auto found = notifications.lookups().template_version(record.service, record.template_id,
                                                        record.template_version, now);
  if (!found) return found.error();
  if (!*found) return not_found("template " + record.template_id.to_string());
  auto personalisation = json::parse(record.personalisation_json);
  if (!personalisation || !personalisation->is_object()) {
    return data_loss("stored personalisation is not a JSON object");
  }
  // With a one-click unsubscribe URL, GOV.UK appends an unsubscribe link to what is emailed.
  auto rendered = domain::render_email({(*found)->subject, (*found)->body},
                                       domain::personalisation_from_json(*personalisation),
                                       domain::RenderParts::kContentAndMime,
                                       record.one_click_unsubscribe_url.value_or(""));
  if (!rendered) return rendered.error();
  OutgoingEmail email;
  email.message_id = record.id.to_string();
  email.from = notifications.from_email(**service);
  email.to = record.recipient;
  email.subject = std::move(rendered->subject);
  email.text_body = std::move(rendered->text_body);
  email.html_body = std::move(rendered->html_body);
  email.one_click_unsubscribe_url = record.one_click_unsubscribe_url;
  email.reply_to = record.sender;
  return email;
}

}  // namespace herald::delivery
