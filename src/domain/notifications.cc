#include "domain/notifications.h"

#include <algorithm>
#include <array>

#include "core/json.h"
#include "core/metrics.h"
#include "crypto/random.h"
#include "domain/recipients/email_address.h"
#include "domain/rendering/outgoing.h"
#include "domain/rendering/personalisation_json.h"
#include "domain/rendering/sms_text.h"

namespace herald::domain {
namespace {

constexpr std::size_t kMaxEmailBytes = 2'000'000;

}  // namespace

Result<LookupCache::TemplatePtr> Notifications::usable_template(const Caller& caller, TemplateId id,
                                                                store::Channel type, Timestamp now, Blocking blocking) {
  auto found = lookups_.template_version(caller.service, id, std::nullopt, now, blocking);
  if (!found) return found.error();
  if (!*found) return invalid_argument("Template not found");
  const store::TemplateRecord& record = **found;
  if (record.type != type) {
    return invalid_argument(std::string(store::channel_name(record.type)) + " template is not suitable for " +
                            store::channel_name(type) + " notification");
  }
  if (record.archived) return invalid_argument("Template has been deleted");
  return found;
}

std::string Notifications::from_email(const store::ServiceRecord& service) const {
  return domain::from_email(service, config_.email_domain);
}

Result<AcceptedEmail> Notifications::prepare_email(const Caller& caller, EmailRequest&& request,
                                                   Timestamp now, Blocking blocking) {
  auto service = lookups_.service(caller.service, now, blocking);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  auto found = usable_template(caller, request.template_id, store::Channel::kEmail, now, blocking);
  if (!found) return found.error();
  const store::TemplateRecord& email_template = **found;
  // Every read that may need the store comes before the rendering, so a kWouldBlock happens
  // before any work that the resumed run would repeat; the errors keep GOV.UK's order below.
  auto replies = lookups_.contacts(caller.service, store::ContactKind::kEmailReplyTo, now, blocking);
  if (!replies) return replies.error();
  auto allowed = check_recipient_allowed(caller, **service, normalise_email_for_index(request.email_address), blocking);
  if (!allowed && allowed.error().code == ErrorCode::kWouldBlock) return allowed.error();

  auto rendered = render_email({email_template.subject, email_template.body}, request.personalisation,
                               RenderParts::kContent);
  if (!rendered) return rendered.error();
  auto check_length = [&rendered]() -> Result<void> {
    if (rendered->body.size() <= kMaxEmailBytes) return ok();
    return invalid_argument("Your message is too long. Emails cannot be longer than 2000000 bytes. "
                            "Your message is " + std::to_string(rendered->body.size()) + " bytes.");
  };
  // With files, GOV.UK checks the length once the links are in place.
  if (request.files.empty()) HERALD_TRY(check_length());

  // The reply-to address: the one asked for, else the service's default (none: no Reply-To).
  std::string reply_to;
  for (const auto& c : **replies) {
    if (request.email_reply_to_id ? c.id == *request.email_reply_to_id : c.is_default) reply_to = c.value;
  }
  if (request.email_reply_to_id && reply_to.empty()) {
    return invalid_argument("email_reply_to_id " + request.email_reply_to_id->to_string() +
                            " does not exist in database for service id " + caller.service.to_string());
  }
  HERALD_TRY(allowed);
  if (!request.files.empty()) {
    HERALD_TRY(attach_files(caller, request, now));
    rendered = render_email({email_template.subject, email_template.body}, request.personalisation,
                            RenderParts::kContent);
    if (!rendered) return rendered.error();
    HERALD_TRY(check_length());
  }

  store::NotificationRecord record;
  record.id = NotificationId{crypto::time_ordered_uuid(now)};
  record.service = caller.service;
  record.api_key = caller.key;
  record.key_type = caller.key_type;
  record.template_id = email_template.id;
  record.template_version = email_template.version;
  record.type = store::Channel::kEmail;
  record.status = store::NotificationStatus::kCreated;
  record.reference = std::move(request.reference);
  record.recipient = std::move(request.email_address);
  record.recipient_normalised = normalise_email_for_index(record.recipient);
  record.personalisation_json = std::move(request.personalisation_json);
  record.subject = std::move(rendered->subject);
  record.body = std::move(rendered->body);
  record.one_click_unsubscribe_url = std::move(request.one_click_unsubscribe_url);
  record.sender = std::move(reply_to);  // for email, GOV.UK's reply_to_text
  record.created_at = now;
  record.queued = !is_simulated_recipient(store::Channel::kEmail, record.recipient);
  return AcceptedEmail{std::move(record), from_email(**service), std::move(request.sanitised_content)};
}

Result<void> Notifications::attach_files(const Caller& caller, EmailRequest& request, Timestamp now) {
  const bool simulated = caller.key_type == store::KeyType::kTest || is_simulated_email_address(request.email_address);
  auto personalisation = json::parse(request.personalisation_json);
  if (!personalisation || !personalisation->is_object()) return internal_error("personalisation is not a JSON object");
  json::Object members = personalisation->as_object();
  const std::string recipient = normalise_email_for_index(request.email_address);
  for (const FileUpload& file : request.files) {
    std::string url;
    if (simulated) {
      url = Documents::test_document_url(request.public_root, caller.service);
    } else {
      auto uploaded = documents_.upload(caller.service, file, recipient, request.public_root, now);
      if (!uploaded) return uploaded.error();
      url = std::move(*uploaded);
    }
    for (auto& [key, value] : members) {
      if (key == file.key) value = json::Value::string(url);
    }
    for (auto& [key, value] : request.personalisation.entries) {
      if (key != file.key) continue;
      value.kind = PersonalisationValue::Kind::kText;
      value.text = url;
      value.items.clear();
    }
  }
  // What is stored is the link, never the file.
  request.personalisation_json = json::serialize(json::Value::object(std::move(members)));
  return ok();
}

Result<AcceptedEmail> Notifications::send_email(const Caller& caller, EmailRequest&& request,
                                                Timestamp now) {
  auto accepted = prepare_email(caller, std::move(request), now, Blocking::kAllowed);
  if (!accepted) return accepted;
  HERALD_TRY(store_.insert_notification(accepted->record));
  this->accepted(caller, accepted->record, now);
  return accepted;
}

void Notifications::accepted(const Caller& caller, const store::NotificationRecord& record, Timestamp now,
                             bool international_sms) {
  static auto& accepted_count = metrics::registry().counter(
      "herald_notifications_accepted_total", "Notifications accepted (stored durably), by channel and key type.",
      {"channel", "key_type"});
  accepted_count.with({store::channel_name(record.type), store::key_type_name(caller.key_type)}).inc();
  count_daily(caller, record, now, international_sms);
  if (record.queued) queued();
}

void Notifications::count_daily(const Caller& caller, const store::NotificationRecord& record, Timestamp now,
                                bool international_sms) {
  limits_.count_daily(caller, daily_counter(record.type), now);
  if (international_sms) limits_.count_daily(caller, DailyCounter::kInternationalSms, now);
}

Result<void> Notifications::send_email_async(const Caller& caller, EmailRequest&& request,
                                             Timestamp now, Blocking blocking,
                                             std::function<void(Result<AcceptedEmail>)> done) {
  // Storing a file is a write: never on a network thread.
  if (!request.files.empty() && blocking == Blocking::kNotAllowed) return would_block();
  auto accepted = prepare_email(caller, std::move(request), now, blocking);
  if (!accepted && accepted.error().code == ErrorCode::kWouldBlock) return accepted.error();
  if (!accepted) {
    done(std::move(accepted).error());
    return ok();
  }
  auto shared = std::make_shared<AcceptedEmail>(std::move(*accepted));
  store_.insert_notification_async(shared->record, [this, caller, now, shared, done = std::move(done)](Result<void> stored) {
    if (!stored) {
      done(stored.error());
    } else {
      this->accepted(caller, shared->record, now);
      done(std::move(*shared));
    }
  });
  return ok();
}

Result<void> Notifications::check_recipient_allowed(const Caller& caller, const store::ServiceRecord& service,
                                                    std::string_view recipient_normalised, Blocking blocking) {
  if (caller.key_type == store::KeyType::kTest) return ok();
  if (caller.key_type != store::KeyType::kTeam && !service.restricted) return ok();
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto listed = services_.on_guest_list(caller.service, recipient_normalised);
  if (!listed) return listed.error();
  if (*listed) return ok();
  if (caller.key_type == store::KeyType::kTeam) {
    return invalid_argument("Can\u2019t send to this recipient using a team-only API key");
  }
  return invalid_argument("Can\u2019t send to this recipient when service is in trial mode \u2013 see "
                          "https://www.notifications.service.gov.uk/trial-mode");
}

Result<void> Notifications::admit(const Caller& caller, store::Channel channel, Timestamp now, Blocking blocking,
                                  Admission& admission) {
  if (admission.rate_counted && admission.daily_checked) return ok();
  auto service = lookups_.service(caller.service, now, blocking);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  if (!admission.rate_counted) {
    HERALD_TRY(limits_.check_rate(caller, **service, now, blocking));
    admission.rate_counted = true;
  }
  HERALD_TRY(limits_.check_daily(caller, **service, daily_counter(channel), now, blocking));
  admission.daily_checked = true;
  return ok();
}

Result<void> Notifications::check_daily(const Caller& caller, store::Channel channel, Timestamp now) {
  auto service = lookups_.service(caller.service, now, Blocking::kAllowed);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  return limits_.check_daily(caller, **service, daily_counter(channel), now, Blocking::kAllowed);
}

Result<AcceptedSms> Notifications::prepare_sms(const Caller& caller, SmsRequest&& request, Timestamp now) {
  auto service = lookups_.service(caller.service, now, Blocking::kAllowed);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  const store::ServiceRecord& owner = **service;
  if (!owner.has_permission("sms")) return invalid_argument("Service is not allowed to send text messages");
  auto found = usable_template(caller, request.template_id, store::Channel::kSms, now, Blocking::kAllowed);
  if (!found) return found.error();
  const store::TemplateRecord& sms_template = **found;
  auto rendered = render_sms(sms_template.body, request.personalisation);
  if (!rendered) return rendered.error();

  auto senders = lookups_.contacts(caller.service, store::ContactKind::kSmsSender, now, Blocking::kAllowed);
  if (!senders) return senders.error();
  std::string sender = config_.default_sms_sender;
  for (const auto& c : **senders) {
    if (request.sms_sender_id ? c.id == *request.sms_sender_id : c.is_default) sender = c.value;
  }
  if (request.sms_sender_id && std::none_of((*senders)->begin(), (*senders)->end(),
                                            [&](const auto& c) { return c.id == *request.sms_sender_id; })) {
    return invalid_argument("sms_sender_id " + request.sms_sender_id->to_string() +
                            " does not exist in database for service id " + caller.service.to_string());
  }

  HERALD_TRY(check_recipient_allowed(caller, owner, request.parsed.normalised, Blocking::kAllowed));
  const SmsPermissions permissions{owner.has_permission("international_sms"), owner.has_permission("sms_to_uk_landlines")};
  if (auto allowed = check_sms_permissions(request.parsed, permissions); !allowed) {
    if (refused_as_international(request.parsed, allowed.error())) {
      return invalid_argument("Cannot send to international mobile numbers");
    }
    return with_refusal(allowed.error(), Refusal::kInvalidPhone);
  }
  HERALD_TRY(check_sms_length(*rendered));
  auto billing = sms_billing_info(request.parsed);
  if (!billing) return with_refusal(billing.error(), Refusal::kInvalidPhone);
  // International texts have a daily limit of their own (GOV.UK: 100 for a live service).
  if (billing->international)
    HERALD_TRY(limits_.check_daily(caller, owner, DailyCounter::kInternationalSms, now, Blocking::kAllowed));
  // GOV.UK bills what the handset gets: the prefixed text.
  int fragments = static_cast<int>(rendered->fragment_count);
  if (owner.prefix_sms) {
    auto prefixed = render_sms(sms_template.body, request.personalisation, owner.name);
    if (!prefixed) return prefixed.error();
    fragments = static_cast<int>(prefixed->fragment_count);
  }

  store::NotificationRecord record;
  record.id = NotificationId{crypto::time_ordered_uuid(now)};
  record.service = caller.service;
  record.api_key = caller.key;
  record.key_type = caller.key_type;
  record.template_id = sms_template.id;
  record.template_version = sms_template.version;
  record.type = store::Channel::kSms;
  record.status = store::NotificationStatus::kCreated;
  record.reference = std::move(request.reference);
  record.recipient = std::move(request.phone_number);
  record.recipient_normalised = request.parsed.normalised;
  record.personalisation_json = std::move(request.personalisation_json);
  record.body = std::move(rendered->body);
  record.sender = std::move(sender);
  record.billable_units = fragments;
  record.rate_multiplier = billing->rate_multiplier;
  record.created_at = now;
  record.queued = !is_simulated_phone_number(request.parsed);
  return AcceptedSms{std::move(record), billing->international};
}

Result<AcceptedSms> Notifications::send_sms(const Caller& caller, SmsRequest&& request, Timestamp now) {
  auto accepted = prepare_sms(caller, std::move(request), now);
  if (!accepted) return accepted;
  HERALD_TRY(store_.insert_notification(accepted->record));
  this->accepted(caller, accepted->record, now, accepted->international);
  return accepted;
}

Result<void> Notifications::send_sms_async(const Caller& caller, SmsRequest&& request, Timestamp now,
                                           Blocking blocking, std::function<void(Result<AcceptedSms>)> done) {
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto accepted = prepare_sms(caller, std::move(request), now);
  if (!accepted) {
    done(std::move(accepted).error());
    return ok();
  }
  auto shared = std::make_shared<AcceptedSms>(std::move(*accepted));
  store_.insert_notification_async(shared->record, [this, caller, now, shared, done = std::move(done)](Result<void> stored) {
    if (!stored) {
      done(stored.error());
    } else {
      this->accepted(caller, shared->record, now, shared->international);
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
