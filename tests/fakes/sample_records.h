#pragma once
// Sample rows for store-level tests: one email notification with every field a backend stores,
// and templates.

#include <string>

#include "crypto/random.h"
#include "store/records.h"

namespace herald::fakes {

// A new email notification of `service`, status "created", accepted at `created`.
inline store::NotificationRecord sample_email(ServiceId service, Timestamp created,
                                              std::string recipient = "person@example.com") {
  store::NotificationRecord r;
  r.id = NotificationId{crypto::random_uuid()};
  r.service = service;
  r.api_key = ApiKeyId{crypto::random_uuid()};
  r.template_id = TemplateId{crypto::random_uuid()};
  r.type = store::Channel::kEmail;
  r.status = store::NotificationStatus::kCreated;
  r.reference = "ref";
  r.recipient = std::move(recipient);
  r.personalisation_json = R"({"name":"Ada"})";
  r.subject = "Subject";
  r.body = "Body";
  r.created_at = created;
  return r;
}

// A new template of `service` (version 1), as a store holds it.
inline store::TemplateRecord sample_template(ServiceId service, store::Channel type, std::string subject,
                                             std::string body, Timestamp created) {
  store::TemplateRecord t;
  t.id = TemplateId{crypto::random_uuid()};
  t.service = service;
  t.name = "template";
  t.type = type;
  t.subject = std::move(subject);
  t.body = std::move(body);
  t.created_at = created;
  return t;
}

}  // namespace herald::fakes
