#pragma once
// Notifications: the use cases of sending and reading notifications, independent of any API's
// wire format. Validates against templates, renders to check personalisation, and records the
// notification through the Store (which encrypts its personal fields and makes it durable).
// Thread-safe if the Store is.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "domain/authenticator.h"
#include "domain/documents.h"
#include "domain/lifecycle.h"
#include "domain/limits.h"
#include "domain/lookup_cache.h"
#include "domain/recipients/phone_number.h"
#include "domain/rendering/personalisation.h"
#include "domain/rendering/template_render.h"
#include "store/store.h"

namespace herald::domain {

// A personalisation value sanitise_content_for changed (GOV.UK shows both in the response).
struct SanitisedValue {
  std::string key;  // as the sender wrote it
  std::string unsanitised;
  std::string sanitised;
};

struct EmailRequest {
  std::string email_address;  // already validated
  TemplateId template_id;
  Personalisation personalisation;
  std::string personalisation_json;  // as received, stored encrypted
  std::optional<std::string> reference;
  std::optional<std::string> one_click_unsubscribe_url;
  std::optional<Uuid> email_reply_to_id;
  std::vector<SanitisedValue> sanitised_content;
  // Files to send by email (§3.3), already checked against GOV.UK's schema: each replaces its
  // personalisation value with a download link under `public_root` ("https://host/").
  std::vector<FileUpload> files;
  std::string public_root;
};

struct SmsRequest {
  std::string phone_number;  // as submitted (what GOV.UK stores and shows)
  PhoneNumber parsed;        // the schema stage's parse
  TemplateId template_id;
  Personalisation personalisation;
  std::string personalisation_json;  // as received, stored encrypted
  std::optional<std::string> reference;
  std::optional<Uuid> sms_sender_id;
};

struct AcceptedSms {
  store::NotificationRecord record;  // record.sender is content.from_number
  bool international = false;        // counts towards the international_sms daily limit
};

struct AcceptedEmail {
  store::NotificationRecord record;
  std::string from_email;
  std::vector<SanitisedValue> sanitised_content;
};

// How far a request has come through the limits (Notifications::admit): the rate limit is
// counted once, whichever run gets there.
struct Admission {
  bool rate_counted = false;
  bool daily_checked = false;
};

struct NotificationsConfig {
  std::string email_domain = "notifications.herald.localhost";
  // The sender id of texts from a service that has none of its own (GOV.UK's is "GOVUK").
  std::string default_sms_sender = "Herald";
  // Documents::Mode::kPlaintextForTest only beside a plaintext store (the canary control run).
  Documents::Mode documents_mode = Documents::Mode::kEncrypt;
};


class Notifications {
 public:
  // The roles the accept path uses: notifications, the service directory (services, templates,
  // contacts, guest lists), limit counters and documents.
  Notifications(store::NotificationStore& notifications, store::ServiceDirectory& services,
                store::LimitCounters& limits, store::DocumentStore& documents, NotificationsConfig config)
      : store_(notifications),
        services_(services),
        lookups_(services),
        limits_(limits),
        documents_(documents, config.documents_mode),
        config_(std::move(config)) {}
  Notifications(store::Store& store, NotificationsConfig config)
      : Notifications(store, store, store, store, std::move(config)) {}

  // GOV.UK checks the per-minute rate limit (a malformed request takes a token too), then
  // whether the channel's daily limit has room, before it even parses the request:
  // kResourceExhausted, Refusal::kRateLimit or kDailyLimit. Only notifications accepted count
  // for the day. kWouldBlock as send_email_async.
  [[nodiscard]] Result<void> admit(const Caller& caller, store::Channel channel, Timestamp now, Blocking blocking) {
    Admission admission;
    return admit(caller, channel, now, blocking, admission);
  }
  // The same in steps that each happen once: after kWouldBlock, call again with the same
  // `admission` and the rate limit is not counted a second time.
  [[nodiscard]] Result<void> admit(const Caller& caller, store::Channel channel, Timestamp now, Blocking blocking,
                                   Admission& admission);

  // The daily limit alone (kResourceExhausted as admit's): a list sent from the admin UI (a job)
  // is not an API request and takes nothing from the per-minute rate limit.
  [[nodiscard]] Result<void> check_daily(const Caller& caller, store::Channel channel, Timestamp now);

  // Errors: kInvalidArgument with GOV.UK's message (template not found or unsuitable, missing
  // personalisation, empty or too long message); store errors as they come. Returns once the
  // notification is durable.
  Result<AcceptedEmail> send_email(const Caller& caller, EmailRequest&& request, Timestamp now);
  // The same without waiting for durability: `done` runs once the notification is durable (on a
  // store thread, so it must be quick) or at once when validation fails. With
  // Blocking::kNotAllowed and a cache miss, returns ErrorCode::kWouldBlock having neither
  // called `done` nor consumed `request`.
  [[nodiscard]] Result<void> send_email_async(const Caller& caller, EmailRequest&& request,
                                              Timestamp now, Blocking blocking,
                                              std::function<void(Result<AcceptedEmail>)> done);

  // GOV.UK's checks for a text, in its order: channel permission ("Service is not allowed to
  // send text messages"), template, personalisation, empty message, sms_sender_id, the
  // service's permissions for the number ("Cannot send to international mobile numbers", or
  // Refusal::kInvalidPhone), length. Then durable, as send_email_async. Always needs the store
  // (sender ids), so with Blocking::kNotAllowed it returns kWouldBlock at once.
  [[nodiscard]] Result<void> send_sms_async(const Caller& caller, SmsRequest&& request, Timestamp now,
                                            Blocking blocking, std::function<void(Result<AcceptedSms>)> done);
  // The same, returning once the text is durable (as send_email).
  Result<AcceptedSms> send_sms(const Caller& caller, SmsRequest&& request, Timestamp now);

  // Every check of send_email and send_sms, and the record they would store, without storing it
  // (a job stores a chunk of a list's rows together). Does not touch `request` before its
  // lookups, so a kWouldBlock leaves it whole. Emails with files store the files.
  Result<AcceptedEmail> prepare_email(const Caller& caller, EmailRequest&& request, Timestamp now, Blocking blocking);
  Result<AcceptedSms> prepare_sms(const Caller& caller, SmsRequest&& request, Timestamp now);

  // A provider's receipt (store::NotificationStore::apply_receipt): the notification as it now is, or
  // nullopt when the receipt did not apply.
  Result<std::optional<store::NotificationRecord>> apply_receipt(const store::DeliveryReceipt& receipt) {
    return store_.apply_receipt(receipt);
  }

  // nullopt when absent or owned by another service.
  Result<std::optional<store::NotificationRecord>> get(const Caller& caller, NotificationId id);
  // A page of the caller's service's notifications sent with keys of the caller's key type
  // (GOV.UK shows a key only its own kind), newest first. `query.service` and `key_type` are
  // set from the caller.
  Result<std::vector<store::NotificationRecord>> list(const Caller& caller, store::NotificationQuery query);

  std::string from_email(const store::ServiceRecord& service) const;
  // Shared with letters, received texts and the download pages (services and contacts).
  LookupCache& lookups() { return lookups_; }
  // The caller's template if it may be sent as `type` now: kInvalidArgument "Template not
  // found", "{type} template is not suitable for {type} notification", "Template has been deleted".
  Result<LookupCache::TemplatePtr> usable_template(const Caller& caller, TemplateId id, store::Channel type,
                                                   Timestamp now, Blocking blocking);
  // The files sent by email, for the download pages and the retention job.
  Documents& documents() { return documents_; }

  // Every channel's accept path calls this once the notification is durably stored: it counts
  // towards the day's limit of its channel (only accepted notifications count, as GOV.UK's) and,
  // when it is queued for delivery, the queued hook runs.
  // An international text counts towards that day's limit too. The same as count_daily, then
  // queued.
  void accepted(const Caller& caller, const store::NotificationRecord& record, Timestamp now,
                bool international_sms = false);
  // The halves of accepted, for a job, which counts each row as it prepares it (so that a chunk
  // stops at the limit) and wakes the worker once its chunk is durable.
  void count_daily(const Caller& caller, const store::NotificationRecord& record, Timestamp now,
                   bool international_sms);
  void queued() {
    if (on_queued_) on_queued_();
  }
  // Runs (on whichever thread stored it) after each notification queued for delivery is
  // durable: `herald serve` wakes the delivery worker with it rather than waiting for its poll.
  // Set before serving; it must be quick.
  void on_queued(std::function<void()> hook) { on_queued_ = std::move(hook); }

 private:
  // Stores the request's files (simulated recipients and test keys: nothing stored, a fixed
  // test-document link) and puts their links in place of the file objects.
  Result<void> attach_files(const Caller& caller, EmailRequest& request, Timestamp now);
  // GOV.UK: team keys, and normal keys of services in trial mode, may send only to the service's
  // team members and guest list (test keys to anyone).
  Result<void> check_recipient_allowed(const Caller& caller, const store::ServiceRecord& service,
                                       std::string_view recipient_normalised, Blocking blocking);

  store::NotificationStore& store_;
  store::ServiceDirectory& services_;
  LookupCache lookups_;
  Limits limits_;
  Documents documents_;
  NotificationsConfig config_;
  std::function<void()> on_queued_;
};

}  // namespace herald::domain
