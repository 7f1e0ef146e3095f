#include "domain/notifications.h"

#include <algorithm>
#include <array>

#include "crypto/random.h"
#include "domain/email_address.h"

namespace herald::domain {
namespace {

constexpr std::size_t kMaxEmailBytes = 2'000'000;

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<LookupCache::TemplatePtr> usable_template(LookupCache& cache, const Caller& caller,
                                                 TemplateId id, std::string_view type, Timestamp now,
                                                 Blocking blocking) {
  auto found = cache.template_version(caller.service, id, std::nullopt, now, blocking);
  if (!found) return found.error();
  if (!*found) return invalid_argument("Template not found");
  const store::TemplateRecord& record = **found;
  if (record.type != type) {
    return invalid_argument(record.type + " template is not suitable for " + std::string(type) +
                            " notification");
  }
  if (record.archived) return invalid_argument("Template has been deleted");
  return found;
}

}  // namespace

bool is_simulated_email_address(std::string_view address) {
  static constexpr std::array<std::string_view, 3> kSimulated = {
      "simulate-delivered@notifications.service.gov.uk",
      "simulate-delivered-2@notifications.service.gov.uk",
      "simulate-delivered-3@notifications.service.gov.uk"};
  const std::string lower = ascii_lower(address);
  return std::find(kSimulated.begin(), kSimulated.end(), lower) != kSimulated.end();
}

std::string Notifications::from_email(const store::ServiceRecord& service) const {
  return service.email_sender_local_part + "@" + config_.email_domain;
}

Result<AcceptedEmail> Notifications::prepare_email(const Caller& caller, EmailRequest&& request,
                                                   Timestamp now, Blocking blocking) {
  auto service = lookups_.service(caller.service, now, blocking);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  auto found = usable_template(lookups_, caller, request.template_id, "email", now, blocking);
  if (!found) return found.error();
  const store::TemplateRecord& email_template = **found;
  auto rendered = render_email({email_template.subject, email_template.body}, request.personalisation,
                               RenderParts::kContent);
  if (!rendered) return rendered.error();
  if (rendered->body.size() > kMaxEmailBytes) {
    return invalid_argument("Your message is too long. Emails cannot be longer than 2000000 bytes. "
                            "Your message is " + std::to_string(rendered->body.size()) + " bytes.");
  }

  if (request.email_reply_to_id) {
    // Reply-to addresses per service come with the full API; until then none exist.
    return invalid_argument("email_reply_to_id " + request.email_reply_to_id->to_string() +
                            " does not exist in database for service id " + caller.service.to_string());
  }

  store::NotificationRecord record;
  record.id = NotificationId{crypto::time_ordered_uuid(now)};
  record.service = caller.service;
  record.api_key = caller.key;
  record.key_type = caller.key_type;
  record.template_id = email_template.id;
  record.template_version = email_template.version;
  record.type = "email";
  record.status = "created";
  record.reference = std::move(request.reference);
  record.recipient = std::move(request.email_address);
  record.recipient_normalised = normalise_email_for_index(record.recipient);
  record.personalisation_json = std::move(request.personalisation_json);
  record.subject = std::move(rendered->subject);
  record.body = std::move(rendered->body);
  record.one_click_unsubscribe_url = std::move(request.one_click_unsubscribe_url);
  record.created_at = now;
  record.queued = !is_simulated_email_address(record.recipient);
  return AcceptedEmail{std::move(record), from_email(**service)};
}

Result<AcceptedEmail> Notifications::send_email(const Caller& caller, EmailRequest&& request,
                                                Timestamp now) {
  auto accepted = prepare_email(caller, std::move(request), now, Blocking::kAllowed);
  if (!accepted) return accepted;
  HERALD_TRY(store_.insert_notification(accepted->record));
  return accepted;
}

Result<void> Notifications::send_email_async(const Caller& caller, EmailRequest&& request,
                                             Timestamp now, Blocking blocking,
                                             std::function<void(Result<AcceptedEmail>)> done) {
  auto accepted = prepare_email(caller, std::move(request), now, blocking);
  if (!accepted && accepted.error().code == ErrorCode::kWouldBlock) return accepted.error();
  if (!accepted) {
    done(std::move(accepted).error());
    return ok();
  }
  auto shared = std::make_shared<AcceptedEmail>(std::move(*accepted));
  store_.insert_notification_async(shared->record, [shared, done = std::move(done)](Result<void> stored) {
    if (!stored) {
      done(stored.error());
    } else {
      done(std::move(*shared));
    }
  });
  return ok();
}

Result<std::vector<store::NotificationRecord>> Notifications::list(const Caller& caller,
                                                                  store::NotificationQuery query) {
  query.service = caller.service;
  query.key_type = caller.key_type;
  return store_.list_notifications(query);
}

Result<std::optional<store::NotificationRecord>> Notifications::get(const Caller& caller,
                                                                    NotificationId id) {
  return store_.find_notification(caller.service, id);
}

}  // namespace herald::domain
