#include "domain/admin.h"

#include <algorithm>
#include <array>
#include <tuple>

#include "crypto/random.h"
#include "crypto/secret.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"

namespace herald::domain {

namespace {

constexpr std::array<std::string_view, 7> kKnownPermissions = {
    "email", "sms", "letter", "international_sms", "sms_to_uk_landlines", "inbound_sms", "international_letters"};

}  // namespace

std::span<const std::string_view> known_permissions() { return kKnownPermissions; }

std::string email_safe(std::string_view name) {
  std::string out;
  for (const char raw : name) {
    const auto c = static_cast<unsigned char>(raw);
    if (std::isalnum(c) != 0 && c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if ((raw == ' ' || raw == '.' || raw == '_' || raw == '-') && !out.empty() && out.back() != '.') {
      out += '.';
    }
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out.empty() ? "service" : out;
}

std::string key_name_for_display(std::string_view name) {
  std::string out;
  for (const char c : name) {
    out += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<store::ServiceRecord> Admin::create_service(const std::string& name, Timestamp now) {
  if (name.empty() || name.size() > 255) return invalid_argument("service name must be 1 to 255 characters");
  auto existing = store_.find_service_by_name(name);
  if (!existing) return existing.error();
  if (*existing) return invalid_argument("a service with that name already exists");
  store::ServiceRecord service;
  service.id = ServiceId{crypto::random_uuid()};
  service.name = name;
  service.email_sender_local_part = email_safe(name);
  service.created_at = now;
  // GOV.UK: a new service is in trial mode until it goes live.
  service.restricted = true;
  HERALD_TRY(store_.create_service(service));
  return service;
}

Result<store::ServiceRecord> Admin::existing_service(ServiceId id) {
  auto found = store_.find_service(id);
  if (!found) return found.error();
  if (!*found) return not_found("no service " + id.to_string());
  return std::move(**found);
}

Result<store::ServiceRecord> Admin::go_live(ServiceId id) {
  auto found = existing_service(id);
  if (!found) return found.error();
  store::ServiceRecord live = std::move(*found);
  live.restricted = false;
  live.go_live_requested_at.reset();
  live.go_live_requested_by.reset();
  HERALD_TRY(store_.update_service(live));
  return live;
}

Result<store::ServiceRecord> Admin::request_go_live(ServiceId id, Uuid user, Timestamp now) {
  auto found = existing_service(id);
  if (!found) return found.error();
  store::ServiceRecord service = std::move(*found);
  if (!service.restricted) return failed_precondition("the service is live already");
  if (service.go_live_requested_at) return service;
  auto templates = store_.templates_for_service(id);
  if (!templates) return templates.error();
  if (templates->empty()) return failed_precondition("add a template first: it is what a reviewer looks at");
  service.go_live_requested_at = now;
  service.go_live_requested_by = user;
  HERALD_TRY(store_.update_service(service));
  return service;
}

Result<store::ServiceRecord> Admin::decline_go_live(ServiceId id) {
  auto found = existing_service(id);
  if (!found) return found.error();
  store::ServiceRecord service = std::move(*found);
  if (!service.go_live_requested_at) return failed_precondition("the service has not asked to go live");
  service.go_live_requested_at.reset();
  service.go_live_requested_by.reset();
  HERALD_TRY(store_.update_service(service));
  return service;
}

Result<std::vector<store::ServiceRecord>> Admin::go_live_requests() {
  auto all = store_.list_services();
  if (!all) return all.error();
  std::vector<store::ServiceRecord> asked;
  for (auto& s : *all) {
    if (s.restricted && s.go_live_requested_at) asked.push_back(std::move(s));
  }
  std::sort(asked.begin(), asked.end(), [](const auto& a, const auto& b) {
    return std::tie(*a.go_live_requested_at, a.name) < std::tie(*b.go_live_requested_at, b.name);
  });
  return asked;
}

Result<store::ServiceRecord> Admin::change_settings(ServiceId id, const ServiceSettings& settings) {
  if (settings.permissions) {
    for (const auto& p : *settings.permissions) {
      if (std::find(kKnownPermissions.begin(), kKnownPermissions.end(), p) == kKnownPermissions.end()) {
        std::string known;
        for (auto k : kKnownPermissions) known += (known.empty() ? "" : ", ") + std::string(k);
        return invalid_argument("unknown permission " + p + " (known: " + known + ")");
      }
    }
  }
  if (settings.rate_limit && *settings.rate_limit < 1) return invalid_argument("the rate limit must be at least 1");
  for (const auto* limit :
       {&settings.email_limit, &settings.sms_limit, &settings.letter_limit, &settings.international_sms_limit}) {
    if (*limit && **limit < 0) return invalid_argument("daily limits must not be negative");
  }
  auto found = existing_service(id);
  if (!found) return found.error();
  store::ServiceRecord changed = std::move(*found);
  if (settings.permissions) changed.permissions = *settings.permissions;
  if (settings.prefix_sms) changed.prefix_sms = *settings.prefix_sms;
  if (settings.rate_limit) changed.rate_limit = *settings.rate_limit;
  if (settings.email_limit) changed.email_limit = *settings.email_limit;
  if (settings.sms_limit) changed.sms_limit = *settings.sms_limit;
  if (settings.letter_limit) changed.letter_limit = *settings.letter_limit;
  if (settings.international_sms_limit) changed.international_sms_limit = *settings.international_sms_limit;
  HERALD_TRY(store_.update_service(changed));
  return changed;
}

Result<void> Admin::set_retention(ServiceId service, int days) {
  if (days < 3 || days > 90) return invalid_argument("retention must be between 3 and 90 days");
  return store_.set_service_retention(service, days);
}

Result<std::string> Admin::contact_value(store::ContactKind kind, const std::string& value) {
  if (value.empty() || value.size() > 1000) return invalid_argument("a contact must be 1 to 1000 characters");
  if (kind == store::ContactKind::kEmailReplyTo) {
    auto address = validate_email_address(value);
    if (!address) return invalid_argument("a reply-to address must be a valid email address");
    return *address;
  }
  if (kind == store::ContactKind::kSmsSender) {
    // GOV.UK: 3 to 11 letters and digits, or a phone number.
    const bool alphanumeric =
        value.size() >= 3 && value.size() <= 11 &&
        std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
    if (!alphanumeric && !parse_phone_number(value)) {
      return invalid_argument("a sender id must be 3 to 11 letters and digits, or a phone number");
    }
  }
  return value;
}

Result<store::ServiceContact> Admin::add_contact(ServiceId service, store::ContactKind kind, const std::string& value,
                                                 bool is_default, Timestamp now) {
  auto stored = contact_value(kind, value);
  if (!stored) return stored.error();
  store::ServiceContact contact{crypto::random_uuid(), service, kind, std::move(*stored), is_default, now};
  HERALD_TRY(store_.add_service_contact(contact));
  return contact;
}

Result<store::ServiceContact> Admin::update_contact(ServiceId service, store::ContactKind kind, Uuid id,
                                                    const std::string& value, bool is_default) {
  auto stored = contact_value(kind, value);
  if (!stored) return stored.error();
  auto contacts = store_.service_contacts(service, kind);
  if (!contacts) return contacts.error();
  for (store::ServiceContact& c : *contacts) {
    if (c.id != id) continue;
    c.value = std::move(*stored);
    c.is_default = is_default;
    HERALD_TRY(store_.update_service_contact(c));
    return c;
  }
  return not_found("no such contact");
}

Result<void> Admin::remove_contact(ServiceId service, store::ContactKind kind, Uuid id) {
  auto contacts = store_.service_contacts(service, kind);
  if (!contacts) return contacts.error();
  auto it = std::find_if(contacts->begin(), contacts->end(), [&](const auto& c) { return c.id == id; });
  if (it == contacts->end()) return not_found("no such contact");
  if (it->is_default && contacts->size() > 1) {
    return failed_precondition("the default cannot be removed while there are others: make another the default first");
  }
  auto removed = store_.remove_service_contact(service, id);
  if (!removed) return removed.error();
  if (!*removed) return not_found("no such contact");
  return ok();
}

Result<void> Admin::set_callback(ServiceId service, store::CallbackKind kind, const std::string& url,
                                 const std::string& token, Timestamp now) {
  if (url.rfind("https://", 0) != 0) return invalid_argument("a callback URL must start with https://");
  if (token.size() < 10) return invalid_argument("the bearer token must be at least 10 characters");
  store::ServiceCallback callback{service, kind, url, token, now};
  auto saved = store_.set_service_callback(callback);
  crypto::wipe_string(callback.bearer_token);
  return saved;
}

Result<void> Admin::remove_callback(ServiceId service, store::CallbackKind kind) {
  auto removed = store_.delete_service_callback(service, kind);
  if (!removed) return removed.error();
  if (!*removed) return not_found("no such callback");
  return ok();
}

Result<std::vector<store::GuestListEntry>> Admin::guest_list(ServiceId service) { return store_.guest_list(service); }

Result<void> Admin::remove_from_guest_list(ServiceId service, Uuid id) {
  auto removed = store_.remove_guest_list_entry(service, id);
  if (!removed) return removed.error();
  if (!*removed) return not_found("no such guest list entry");
  return ok();
}

Result<store::GuestListEntry> Admin::add_to_guest_list(ServiceId service, const std::string& recipient, Timestamp now) {
  store::GuestListEntry entry;
  entry.id = crypto::random_uuid();
  entry.service = service;
  entry.created_at = now;
  auto parsed = parse_recipient(recipient);
  if (!parsed) return parsed.error();
  entry.recipient_type = std::move(parsed->type);
  entry.recipient = std::move(parsed->value);
  entry.recipient_normalised = std::move(parsed->normalised);
  HERALD_TRY(store_.add_guest_list_entry(entry));
  return entry;
}

Result<Recipient> parse_recipient(std::string_view text) {
  if (text.find('@') != std::string_view::npos) {
    auto email = validate_email_address(text);
    if (!email) return invalid_argument("not a valid email address");
    return Recipient{"email", *email, normalise_email_for_index(*email)};
  }
  auto number = parse_phone_number(text);
  if (!number) return invalid_argument("not a valid email address or phone number");
  return Recipient{"mobile", std::string(text), number->normalised};
}

Result<store::ServiceRecord> Admin::find_service(const std::string& id_or_name) {
  Result<std::optional<store::ServiceRecord>> found = std::optional<store::ServiceRecord>();
  if (auto id = ServiceId::parse(id_or_name)) {
    found = store_.find_service(*id);
  } else {
    found = store_.find_service_by_name(id_or_name);
  }
  if (!found) return found.error();
  if (!*found) return not_found("no such service");
  return std::move(**found);
}

Result<CreatedApiKey> Admin::create_api_key(ServiceId service, store::KeyType type,
                                            const std::string& name, Timestamp now) {
  if (name.empty() || name.size() > 255) return invalid_argument("key name must be 1 to 255 characters");
  store::ApiKeyRecord key;
  key.id = ApiKeyId{crypto::random_uuid()};
  key.service = service;
  key.name = name;
  key.type = type;
  key.secret = crypto::random_uuid().to_string();
  key.created_at = now;
  HERALD_TRY(store_.create_api_key(key));
  std::string full = key_name_for_display(name) + "-" + service.to_string() + "-" + key.secret;
  return CreatedApiKey{std::move(key), std::move(full)};
}

Result<void> Admin::revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) {
  return store_.revoke_api_key(service, key, now);
}

namespace {

Result<void> check_template_content(store::Channel type, const std::string& name, const std::string& subject,
                                    const std::string& body) {
  using store::Channel;
  if (name.empty()) return invalid_argument("template name must not be empty");
  if (type == Channel::kEmail && subject.empty()) return invalid_argument("an email template needs a subject");
  if (type == Channel::kLetter && subject.empty()) return invalid_argument("a letter template needs a heading");
  if (type == Channel::kSms && !subject.empty()) return invalid_argument("a text message template has no subject");
  if (body.empty()) return invalid_argument("template body must not be empty");
  return ok();
}

Result<void> check_unsubscribe_link(const store::TemplateRecord& record) {
  if (record.has_unsubscribe_link && record.type != store::Channel::kEmail) {
    return invalid_argument("only email templates can have an unsubscribe link");
  }
  return ok();
}

}  // namespace

Result<void> Admin::check_letter_options(const store::TemplateRecord& record) {
  if (record.type != store::Channel::kLetter) {
    if (record.postage || record.letter_contact_id) {
      return invalid_argument("postage and a letter contact are only for letter templates");
    }
    return ok();
  }
  if (record.postage != "first" && record.postage != "second" && record.postage != "economy") {
    return invalid_argument("postage must be first, second or economy");
  }
  if (!record.letter_contact_id) return ok();
  auto contacts = store_.service_contacts(record.service, store::ContactKind::kLetterContact);
  if (!contacts) return contacts.error();
  for (const auto& contact : *contacts) {
    if (contact.id.to_string() == *record.letter_contact_id) return ok();
  }
  return invalid_argument("no letter contact " + *record.letter_contact_id + " in this service");
}

Result<store::TemplateRecord> Admin::create_template(const NewTemplate& request, Timestamp now) {
  const auto type = store::parse_channel(request.type);
  if (!type) return invalid_argument("template type must be email, sms or letter");
  HERALD_TRY(check_template_content(*type, request.name, request.subject, request.body));
  store::TemplateRecord record;
  record.id = TemplateId{crypto::random_uuid()};
  record.service = request.service;
  record.name = request.name;
  record.type = *type;
  record.subject = request.subject;
  record.body = request.body;
  record.version = 1;
  record.created_at = now;
  record.created_by = request.created_by;
  record.postage = request.postage;
  if (record.type == store::Channel::kLetter && !record.postage) record.postage = "second";  // GOV.UK's default
  record.letter_contact_id = request.letter_contact_id;
  record.has_unsubscribe_link = request.has_unsubscribe_link;
  HERALD_TRY(check_letter_options(record));
  HERALD_TRY(check_unsubscribe_link(record));
  HERALD_TRY(store_.create_template(record));
  return record;
}

Result<store::TemplateRecord> Admin::update_template(ServiceId service, TemplateId id, const TemplateChanges& changes,
                                                     Timestamp now) {
  auto current = store_.find_template(service, id, std::nullopt);
  if (!current) return current.error();
  if (!*current) return not_found("no template " + id.to_string() + " in this service");
  store::TemplateRecord next = std::move(**current);
  if (changes.name) next.name = *changes.name;
  if (changes.subject) next.subject = *changes.subject;
  if (changes.body) next.body = *changes.body;
  if (changes.postage) next.postage = *changes.postage;
  if (changes.letter_contact_id) {
    next.letter_contact_id = changes.letter_contact_id->empty() ? std::nullopt : changes.letter_contact_id;
  }
  if (changes.has_unsubscribe_link) next.has_unsubscribe_link = *changes.has_unsubscribe_link;
  HERALD_TRY(check_template_content(next.type, next.name, next.subject, next.body));
  HERALD_TRY(check_letter_options(next));
  HERALD_TRY(check_unsubscribe_link(next));
  next.version += 1;
  next.created_at = now;
  next.updated_at.reset();
  next.created_by = changes.created_by;
  HERALD_TRY(store_.add_template_version(next));
  return next;
}

}  // namespace herald::domain
