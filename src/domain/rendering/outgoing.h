#pragma once
// Outgoing: what is handed to a provider for an accepted notification. An email is made from
// the subject and body stored when it was accepted (the API's `content`), never from its
// template again, so what is stored is exactly what is sent (the MIME parts are a function of
// them: email_mime_parts). A text is rendered again with the service's name prefix, as GOV.UK
// does at send time; its stored body is the API's unprefixed `content.body`. A free-text text
// (store::is_free_text: NHS Notify's free-text plans) is sent as stored. An email whose template
// version asks for an unsubscribe link gets Herald's hosted link (domain/unsubscribe.h) at the
// foot of its body and, unless the request gave its own one_click_unsubscribe_url, in its
// List-Unsubscribe header, as GOV.UK does. Thread-safe.

#include <optional>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "domain/lookup_cache.h"
#include "domain/unsubscribe.h"
#include "store/records.h"

namespace herald::domain {

struct OutgoingEmail {
  std::string message_id;  // the notification id; becomes the Message-ID header
  std::string from;
  std::string to;
  std::string subject;
  std::string text_body;
  std::string html_body;
  std::optional<std::string> one_click_unsubscribe_url;
  std::string reply_to;  // empty: no Reply-To header
};

// A service's sender address: <its email_sender_local_part>@<the configured email domain>.
std::string from_email(const store::ServiceRecord& service, std::string_view email_domain);

class Outgoing {
 public:
  // With `links`, an email whose template asks for an unsubscribe link gets Herald's hosted one.
  Outgoing(store::ServiceDirectory& directory, std::string email_domain, const UnsubscribeLinks* links = nullptr)
      : lookups_(directory), email_domain_(std::move(email_domain)), links_(links) {}

  // kNotFound when the service is gone.
  Result<OutgoingEmail> email(const store::NotificationRecord& record, Timestamp now);
  // The text as the handset shows it. kNotFound when the service or template version is gone;
  // kDataLoss when the stored personalisation is not a JSON object.
  Result<std::string> sms_text(const store::NotificationRecord& record, Timestamp now);

 private:
  LookupCache lookups_;
  std::string email_domain_;
  const UnsubscribeLinks* links_;
};

}  // namespace herald::domain
