#pragma once
// Admin: creating and changing services, API keys and templates, with the rules for what a
// service may be set to (used by the CLI today, the admin web UI next).
// Thread-safe if the Store is.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain {

struct CreatedApiKey {
  store::ApiKeyRecord record;
  // The key as a client pastes it: "{key_name}-{service_id}-{secret}" (GOV.UK's layout).
  // Shown once; only the encrypted secret is stored.
  std::string full_key;
};

struct NewTemplate {
  ServiceId service;
  std::string type;  // "email", "sms" or "letter", as typed: Admin checks it
  std::string name;
  std::string subject;  // email subject or letter heading; empty for sms
  std::string body;
  std::string created_by;
  // Letters only: "first", "second" (nullopt: second) or "economy"; the id of one of the
  // service's letter contacts (nullopt: the service's default contact block).
  std::optional<std::string> postage = std::nullopt;
  std::optional<std::string> letter_contact_id = std::nullopt;
  bool has_unsubscribe_link = false;  // emails only (domain/unsubscribe.h)
};

// What an edit changes; the rest is kept from the current version.
struct TemplateChanges {
  std::optional<std::string> name;
  std::optional<std::string> subject;
  std::optional<std::string> body;
  std::string created_by;
  std::optional<std::string> postage = std::nullopt;
  std::optional<std::string> letter_contact_id = std::nullopt;  // "": back to the service's default
  std::optional<bool> has_unsubscribe_link = std::nullopt;      // emails only
};

// What an administrator changes about a service; what is unset stays as it is.
struct ServiceSettings {
  std::optional<std::vector<std::string>> permissions;  // each one of known_permissions()
  std::optional<bool> prefix_sms;
  std::optional<int> rate_limit;  // sends per minute per key type: at least 1
  // Per day, at least 0 (0: none may be sent).
  std::optional<std::int64_t> email_limit, sms_limit, letter_limit, international_sms_limit;
};

// GOV.UK's service permissions that Herald acts on: email, sms, letter, international_sms,
// sms_to_uk_landlines, inbound_sms, international_letters.
std::span<const std::string_view> known_permissions();

// GOV.UK's email-safe form of a service name: lower case, spaces to dots, other punctuation
// dropped.
std::string email_safe(std::string_view name);
// Key names are shown lower-cased with spaces as underscores, as GOV.UK's admin UI does.
std::string key_name_for_display(std::string_view name);

// A recipient typed by a person (an email address or a phone number), as the blind index and
// guest list compare it: kInvalidArgument when it is neither.
struct Recipient {
  std::string type;        // "email" or "mobile"
  std::string value;       // as validated (an email address), or as typed (a phone number)
  std::string normalised;  // NotificationRecord::recipient_normalised's form
};
Result<Recipient> parse_recipient(std::string_view text);

class Admin {
 public:
  explicit Admin(store::ServiceDirectory& store) : store_(store) {}

  // A new service is in trial mode (restricted) until go_live.
  Result<store::ServiceRecord> create_service(const std::string& name, Timestamp now);
  // Takes the service out of trial mode; a request to go live is answered with it.
  Result<store::ServiceRecord> go_live(ServiceId service);
  // A member asks for the service in trial mode to go live (GOV.UK's "request to go live"): kept
  // with who asked and when until a platform admin makes it live (go_live) or turns it down.
  // kFailedPrecondition: live already, or it has no template yet (nothing a reviewer could look
  // at). Asking again keeps the first request.
  Result<store::ServiceRecord> request_go_live(ServiceId service, Uuid user, Timestamp now);
  // Turns the request down (the service stays in trial mode and may ask again).
  // kFailedPrecondition: there is no request.
  Result<store::ServiceRecord> decline_go_live(ServiceId service);
  // Services in trial mode that asked to go live, the oldest request first.
  Result<std::vector<store::ServiceRecord>> go_live_requests();
  // kInvalidArgument naming the rule broken (unknown permission, rate below 1, negative daily
  // limit) and nothing saved; else the service as saved.
  Result<store::ServiceRecord> change_settings(ServiceId service, const ServiceSettings& settings);
  // How long personal data is kept: GOV.UK lets a service choose 3 to 90 days.
  Result<void> set_retention(ServiceId service, int days);
  // A sender id (3 to 11 letters and digits, or a phone number), reply-to address (a valid email
  // address, stored as validated) or letter contact block; 1 to 1000 characters.
  Result<store::ServiceContact> add_contact(ServiceId service, store::ContactKind kind, const std::string& value,
                                            bool is_default, Timestamp now);
  // Changes a contact's value (checked as add_contact checks it) and whether it is the default.
  // kNotFound: the service has no such contact of that kind.
  Result<store::ServiceContact> update_contact(ServiceId service, store::ContactKind kind, Uuid id,
                                               const std::string& value, bool is_default);
  // Removes a contact. As GOV.UK Notify, the default of a kind goes only when it is the last of
  // that kind (kFailedPrecondition otherwise: make another the default first). kNotFound: the
  // service has no such contact of that kind. Letter templates naming it fall back to the default.
  Result<void> remove_contact(ServiceId service, store::ContactKind kind, Uuid id);
  // Where the service is told of statuses or received texts. `url` must be https:// (the caller
  // checks where it resolves: that is the network's business); the bearer token at least 10
  // characters. Stored sealed; `token` is the caller's to wipe.
  Result<void> set_callback(ServiceId service, store::CallbackKind kind, const std::string& url,
                            const std::string& token, Timestamp now);
  // No more callbacks of that kind (kNotFound: there was none).
  Result<void> remove_callback(ServiceId service, store::CallbackKind kind);
  // A team member's or guest's email address or mobile number: team keys, and services in trial
  // mode, may send to them (and only them). The entry as stored.
  Result<store::GuestListEntry> add_to_guest_list(ServiceId service, const std::string& recipient, Timestamp now);
  // The service's guest list, oldest first.
  Result<std::vector<store::GuestListEntry>> guest_list(ServiceId service);
  // kNotFound: the service has no such entry.
  Result<void> remove_from_guest_list(ServiceId service, Uuid id);
  // Finds a service by id or by exact name.
  Result<store::ServiceRecord> find_service(const std::string& id_or_name);
  Result<CreatedApiKey> create_api_key(ServiceId service, store::KeyType type,
                                       const std::string& name, Timestamp now);
  // kNotFound when the service has no such unrevoked key.
  Result<void> revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now);
  Result<store::TemplateRecord> create_template(const NewTemplate& request, Timestamp now);
  // Saves the edit as the template's next version (earlier versions stay: notifications name the
  // version they used). Fails with kFailedPrecondition when another edit came first.
  Result<store::TemplateRecord> update_template(ServiceId service, TemplateId id, const TemplateChanges& changes,
                                                Timestamp now);

 private:
  // The service by id, or kNotFound.
  Result<store::ServiceRecord> existing_service(ServiceId id);
  // A contact's value as stored (an email address as validated), or kInvalidArgument.
  static Result<std::string> contact_value(store::ContactKind kind, const std::string& value);
  // Postage and letter contact are for letter templates, and the contact must be the service's.
  Result<void> check_letter_options(const store::TemplateRecord& record);
  store::ServiceDirectory& store_;
};

}  // namespace herald::domain
