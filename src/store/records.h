#pragma once
// Row types shared by every Store backend. Plain data (docs/architecture.md). Personal fields hold
// plaintext here: backends encrypt them on the way in and decrypt on the way out, so that no
// layer above the store handles ciphertext and every backend encrypts the same fields the
// same way (docs/formats/ciphertext.md lists them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "core/uuid.h"

namespace herald::store {

// GOV.UK Notify's key types; kNormal is what the API and CLI call "live".
enum class KeyType { kNormal, kTeam, kTest };
const char* key_type_name(KeyType type);  // "normal", "team", "test"
std::optional<KeyType> parse_key_type(std::string_view name);

// What a template or notification is: GOV.UK Notify's notification types. NHS Notify adds
// channels (the NHS App) here.
enum class Channel { kEmail, kSms, kLetter };
inline constexpr Channel kAllChannels[] = {Channel::kEmail, Channel::kSms, Channel::kLetter};
const char* channel_name(Channel channel);  // "email", "sms", "letter": the API's and the stored form
std::optional<Channel> parse_channel(std::string_view name);

// Where a notification is in its life: GOV.UK Notify's internal statuses, which are also what
// both backends store (the names below, in the `status` column) and what its API reports for
// emails and texts. Letters are reported with fewer words (api/govuk_v2/responses.cc); the
// rules that move a notification between statuses are in domain/lifecycle.h.
enum class NotificationStatus {
  kCreated,            // accepted; due for delivery (or, for a simulated recipient, never sent)
  kSending,            // with a worker, or with a provider awaiting its receipt
  kPending,            // the provider says it is still trying (SMS receipts)
  kSent,               // international text handed over; no receipt will come
  kDelivered,          // delivered (a letter: posted)
  kPermanentFailure,   // refused for good by the provider or recipient
  kTemporaryFailure,   // the provider gave up for now (phone off, inbox full)
  kTechnicalFailure,   // Herald could not hand it over (retries exhausted, retention)
  kPendingVirusCheck,  // a precompiled letter not yet checked
  kVirusScanFailed,
  kValidationFailed,  // a letter that cannot be printed as it is
  kReturnedLetter,    // posted, then returned
  kCancelled,
};
inline constexpr NotificationStatus kAllStatuses[] = {
    NotificationStatus::kCreated,           NotificationStatus::kSending,
    NotificationStatus::kPending,           NotificationStatus::kSent,
    NotificationStatus::kDelivered,         NotificationStatus::kPermanentFailure,
    NotificationStatus::kTemporaryFailure,  NotificationStatus::kTechnicalFailure,
    NotificationStatus::kPendingVirusCheck, NotificationStatus::kVirusScanFailed,
    NotificationStatus::kValidationFailed,  NotificationStatus::kReturnedLetter,
    NotificationStatus::kCancelled};
const char* status_name(NotificationStatus status);  // "created", "sending", "permanent-failure", ...
std::optional<NotificationStatus> parse_status(std::string_view name);

struct ServiceRecord {
  ServiceId id;
  std::string name;
  std::string email_sender_local_part;  // from_email is <this>@<configured email domain>
  bool active = true;
  bool restricted = false;  // trial mode
  Timestamp created_at;
  // Days personal data is kept (GOV.UK Notify's default: 7); then the retention job empties the
  // personal fields and destroys the day's data key.
  int retention_days = 7;
  // What the service may do (GOV.UK's service permissions): "email", "sms", "letter",
  // "international_sms", "sms_to_uk_landlines", "inbound_sms", "international_letters".
  std::vector<std::string> permissions{"email", "sms", "letter"};
  bool prefix_sms = true;  // texts start "{service name}: "
  // Limits (GOV.UK's defaults for live services): sends per minute per key type, and per day
  // per channel.
  int rate_limit = 3000;
  std::int64_t email_limit = 250000;
  std::int64_t sms_limit = 250000;
  std::int64_t letter_limit = 20000;
  std::int64_t international_sms_limit = 100;
  // A service in trial mode whose team asked to go live: when, and which admin user asked
  // (domain::users). Both set until a platform admin makes the service live or turns the request
  // down (then both nullopt). Saved by update_service like the settings above.
  std::optional<Timestamp> go_live_requested_at;
  std::optional<Uuid> go_live_requested_by;
  bool has_permission(std::string_view permission) const;
};

// A service's reply-to email addresses, SMS sender ids and letter contact blocks. Not personal
// data: they are the service's own. One of each kind may be the default.
enum class ContactKind { kEmailReplyTo, kSmsSender, kLetterContact };
const char* contact_kind_name(ContactKind kind);
// The stored form of ServiceRecord::permissions: comma-separated.
std::string join_permissions(const std::vector<std::string>& permissions);
std::vector<std::string> split_permissions(std::string_view text);  // "email_reply_to", "sms_sender", "letter_contact"
std::optional<ContactKind> parse_contact_kind(std::string_view name);

struct ServiceContact {
  Uuid id;
  ServiceId service;
  ContactKind kind = ContactKind::kSmsSender;
  std::string value;
  bool is_default = false;
  Timestamp created_at;
};

struct ApiKeyRecord {
  ApiKeyId id;
  ServiceId service;
  std::string name;
  KeyType type = KeyType::kNormal;
  std::string secret;  // personal/secret: encrypted at rest; wipe after use
  Timestamp created_at;
  std::optional<Timestamp> revoked_at;
  // The networks the key may be used from, as CIDR texts canonicalised by the caller
  // ("203.0.113.0/24", "2001:db8::/32"); empty: any network. Not personal data. Each entry is
  // 1 to 64 bytes of printable ASCII without a comma or space, at most 100 of them (store/schema.h,
  // check_networks; kInvalidArgument otherwise).
  std::vector<std::string> allowed_networks = {};
};

struct TemplateRecord {
  TemplateId id;
  ServiceId service;
  std::string name;
  Channel type = Channel::kEmail;
  std::string subject;
  std::string body;
  int version = 1;
  bool archived = false;
  Timestamp created_at;            // of this version
  std::optional<Timestamp> updated_at;
  std::string created_by;
  // Letters only: how they go ("first", "second" or "economy"; international addresses go
  // "europe" or "rest-of-world" whatever this says), and the service contact (a
  // ContactKind::kLetterContact id) printed as the contact block; nullopt: the service's default.
  std::optional<std::string> postage = std::nullopt;
  std::optional<std::string> letter_contact_id = std::nullopt;
  // Emails only: every email sent from this version carries Herald's hosted unsubscribe link
  // (domain/unsubscribe.h). Kept per version, like the content.
  bool has_unsubscribe_link = false;
};

struct NotificationRecord {
  NotificationId id;
  ServiceId service;
  ApiKeyId api_key;
  KeyType key_type = KeyType::kNormal;
  TemplateId template_id;
  int template_version = 1;
  Channel type = Channel::kEmail;
  NotificationStatus status = NotificationStatus::kCreated;
  std::optional<std::string> reference;
  // Personal fields: encrypted at rest.
  std::string recipient;
  std::string personalisation_json;
  std::string subject;
  std::string body;
  std::optional<std::string> one_click_unsubscribe_url;
  // The recipient as the blind index sees it (domain-normalised, e.g. lower-cased email). Never
  // stored: only its keyed HMAC is. Empty: not indexed.
  std::string recipient_normalised;
  Timestamp created_at;
  std::optional<Timestamp> sent_at;
  std::optional<Timestamp> updated_at;
  int attempts = 0;  // delivery attempts started
  int callback_attempts = 0;  // delivery-status callback attempts started
  std::string sender;       // sms: the sender id or number it goes out as (not personal)
  int billable_units = 0;   // sms: fragments of the text as sent; letters: sheets of paper
  int rate_multiplier = 1;  // sms: international rate multiplier
  std::optional<std::string> sent_by;  // the provider that took it ("smtp", "firetext", "mmg")
  std::optional<std::string> postage;  // letters: first, second, economy, europe, rest-of-world
  // false for simulated recipients: stored, never handed to a worker (status stays created).
  bool queued = true;
  // Where it came from, as find_by_recipient and the SubjectStore finds read it back (other reads
  // may leave these unset; inserts ignore them: save_nhs_step and save_job_rows set the links).
  std::optional<std::string> nhs_message_id = std::nullopt;  // it carries that message's channel
  std::optional<Uuid> job_id = std::nullopt;                 // a row of that job (sending to a list)
  std::optional<int> job_row = std::nullopt;                 // the job's row (0: the first data row)
};

// A notification with no template (nil template_id) carries free text (NHS Notify's free-text
// routing plans): its stored subject and body are exactly what is sent.
inline bool is_free_text(const NotificationRecord& record) { return record.template_id == TemplateId{}; }

// A token bucket's tokens at `now`: `tokens` at `then`, refilled at `per_second`, at most `capacity`.
double refill(double tokens, Timestamp then, Timestamp now, double per_second, double capacity);

// Where a service wants to be told of delivery statuses or received texts, and the bearer token
// Herald sends (a secret: encrypted at rest).
enum class CallbackKind { kDeliveryStatus, kInboundSms };
const char* callback_kind_name(CallbackKind kind);  // "delivery_status", "inbound_sms"

// A service callback given up on (CallbackQueue::kill_callback): kept so the service can see it
// and have it sent again. Holds no personal data: the notification or received text is named by
// id, and `error` is what the last attempt got ("HTTP 404", "timed out").
struct DeadCallback {
  CallbackKind kind = CallbackKind::kDeliveryStatus;
  Uuid id;  // the notification's (kDeliveryStatus) or the received text's (kInboundSms)
  int attempts = 0;
  Timestamp dead_at;
  std::string error;
};

struct ServiceCallback {
  ServiceId service;
  CallbackKind kind = CallbackKind::kDeliveryStatus;
  std::string url;
  std::string bearer_token;  // secret: encrypted at rest; wipe after use
  Timestamp updated_at;
};

// Someone team keys and trial-mode services may send to: a team member or a guest-list entry.
struct GuestListEntry {
  Uuid id;
  ServiceId service;
  std::string recipient_type;  // "email" or "mobile"
  std::string recipient;       // personal: encrypted at rest
  std::string recipient_normalised;  // as the blind index sees it (lower-cased email, E.164 digits)
  Timestamp created_at;
};

// A text a service received through its number. user_number and content are personal: encrypted
// at rest, as a notification's fields.
struct InboundSms {
  Uuid id;
  ServiceId service;
  std::string notify_number;  // the service's number it was sent to
  std::string user_number;    // the sender, as the provider gave it
  std::string content;
  std::string provider;
  std::optional<std::string> provider_reference;
  Timestamp received_at;  // the provider's time
  Timestamp created_at;   // when Herald stored it
  int callback_attempts = 0;
  // The sender as the blind index sees it (E.164 digits, as a notification's recipient_normalised
  // for a phone number): found by it for data-subject requests. Never stored; empty: not indexed.
  std::string user_number_normalised = {};
};

// A file sent by email (GOV.UK's "send a file by email"): what the recipient downloads through the
// link in their email. `content` and `filename` reach the store already encrypted by the domain
// under the document's own key, which only the link holds (domain/documents.h); the backend seals
// them once more under the data key of the service and the document's expiry day, so they are
// crypto-shredded when the document expires and never with the notification's 7-day key.
struct DocumentRecord {
  Uuid id;
  ServiceId service;
  std::string content;                  // opaque (encrypted by the domain); sealed at rest
  std::optional<std::string> filename;  // opaque (encrypted by the domain); sealed at rest
  std::string mime_type;                // not personal: "application/pdf", ...
  std::string key_hash;                 // SHA-256 of the link's key: wrong keys fail fast
  // HMAC of the normalised address the link was sent to, keyed with the link's key; empty when
  // the recipient need not confirm their email address before downloading.
  std::string confirm_email_hash;
  Timestamp created_at;
  Timestamp expires_at;
  int failed_confirmations = 0;  // wrong email addresses typed so far
};

// An application that uses the NHS Notify API (its "client"): it signs its token requests with a
// private key whose public half is registered here, and sends for one Herald service, whose
// templates, providers, data keys and retention its messages use. Not personal data.
struct NhsClientRecord {
  Uuid id;  // the application id (NHS's APIM application id)
  ServiceId service;
  std::string name;
  // SHA-256 (hex) of the API key, the OAuth client_id and the assertion's iss/sub. The key is
  // shown once when the client is created.
  std::string api_key_hash;
  std::string jwks;      // a registered JWKS document (public keys only); empty: none
  std::string jwks_url;  // or where Herald fetches it; empty: none
  // The originator ODS code used when a request names none, and whether a request may name
  // another; whether a request may supply the recipient's contact details.
  std::optional<std::string> default_ods_code;
  bool allow_ods_override = false;
  bool allow_contact_details = false;
  bool onboarded = true;     // false: tokens are refused use (403 CM_FORBIDDEN)
  bool service_ban = false;  // true: 403 CM_SERVICE_BAN
  Timestamp created_at;
  // The networks the client may call from, as ApiKeyRecord's (empty: any network).
  std::vector<std::string> allowed_networks = {};
};

// An access token the token endpoint issued: stored only as its SHA-256, bound to the client.
struct NhsAccessToken {
  std::string token_hash;  // SHA-256 (hex)
  Uuid client;
  Timestamp issued_at;
  Timestamp expires_at;
};

// Where an NHS Notify message is in its life (NHS's messageStatus values, also the stored form).
enum class NhsMessageStatus { kCreated, kPendingEnrichment, kEnriched, kSending, kDelivered, kFailed };
const char* nhs_message_status_name(NhsMessageStatus status);  // "created", "pending_enrichment", ...
std::optional<NhsMessageStatus> parse_nhs_message_status(std::string_view name);

// NHS Notify's channels (the wire and stored names: "nhsapp", "email", "sms", "letter").
enum class NhsChannel { kNhsApp, kEmail, kSms, kLetter };
const char* nhs_channel_name(NhsChannel channel);
std::optional<NhsChannel> parse_nhs_channel(std::string_view name);

// A channel's state within a message's cascade (NHS's channelStatus values).
enum class NhsChannelStatus { kCreated, kSkipped, kSending, kDelivered, kFailed };
const char* nhs_channel_status_name(NhsChannelStatus status);  // "created", "skipped", ...
std::optional<NhsChannelStatus> parse_nhs_channel_status(std::string_view name);

// One channel of a message's routing plan once the message is enriched: where it is, and the
// notification (email, SMS, letter) that carries it. Holds no personal data.
struct NhsChannelRecord {
  NhsChannel type = NhsChannel::kEmail;
  bool primary = true;  // false: a secondary channel (sent alongside, no fallback)
  int order = 1;        // 1-based, within its cascade
  NhsChannelStatus status = NhsChannelStatus::kCreated;
  std::optional<std::string> status_description;
  std::optional<std::string> failure_reason_code;
  std::optional<std::string> supplier_status;  // NHS's supplierStatus values
  int retry_count = 0;
  Timestamp created_at;
  std::optional<Timestamp> started_at;   // became "sending"
  std::optional<Timestamp> deadline_at;  // not delivered (or read) by then: failed, next channel
  std::optional<Timestamp> delivered_at, failed_at;
  std::optional<NotificationId> notification_id;
  // NHS App: the id the NHS App gave the request (its receipts name it), once it took it.
  std::optional<std::string> supplier_reference = std::nullopt;
  // Set when an override plan (for the recipient's language or accessible format) replaced the
  // message's own plan: the channel is that plan's.
  std::optional<Uuid> override_plan_id = std::nullopt;
  std::optional<std::string> override_plan_version = std::nullopt;
};

// What a channel's supplier later said of a message (an NHS App receipt: read, delivered,
// notified, ...): kept until the message's next cascade step takes it into account.
struct NhsChannelEvent {
  std::int64_t id = 0;  // set by the store, in arrival order
  std::string message_id;
  NhsChannel channel = NhsChannel::kNhsApp;
  std::string supplier_status;  // NHS's supplierStatus values
  Timestamp at;
};

// A message sent through NHS Notify's API: one recipient, one routing plan. Personal fields
// (marked) are sealed at rest under the service's data key for the message's day, so they are
// shredded with the day's notifications.
struct NhsMessageRecord {
  std::string id;  // KSUID
  Uuid client;
  ServiceId service;
  std::optional<std::string> batch_id;           // KSUID of the batch it came in
  std::string message_reference;                 // personal (services put patient ids in references)
  std::optional<std::string> billing_reference;  // personal, likewise
  Uuid routing_plan_id;
  std::string routing_plan_version;
  std::optional<std::string> nhs_number;            // personal
  std::optional<std::string> ods_code;              // the originator (an organisation): not personal
  std::string personalisation_json = "{}";          // personal
  std::optional<std::string> contact_details_json;  // personal: the request's overrides
  NhsMessageStatus status = NhsMessageStatus::kCreated;
  std::optional<std::string> status_description;
  std::optional<std::string> failure_reason_code;
  Timestamp created_at;
  std::optional<Timestamp> enriched_at, delivered_at, failed_at;
  // Once enriched: the plan's channels in the order they are tried, what the demographics
  // lookup found (personal: a JSON object of the recipient's name and contact details, sealed
  // like the fields above) and the version of the record it came from.
  std::vector<NhsChannelRecord> channels = {};
  std::optional<std::string> recipient_json = std::nullopt;
  std::optional<std::string> demographics_version = std::nullopt;
  // When the cascade next looks at the message (nullopt: never again, it is settled). A new
  // message is due at once.
  std::optional<Timestamp> next_step_at = std::nullopt;
};

// NHS Notify callbacks (spec §6.4): where a client is told of its messages' statuses (kMessage:
// MessageStatus items) or its channels' (kChannel: ChannelStatus items).
enum class NhsCallbackKind { kMessage, kChannel };
const char* nhs_callback_kind_name(NhsCallbackKind kind);  // "message", "channel"
std::optional<NhsCallbackKind> parse_nhs_callback_kind(std::string_view name);

// One receiver of a client's callbacks, as an operator registered it.
struct NhsCallbackTarget {
  Uuid id;
  Uuid client;
  NhsCallbackKind kind = NhsCallbackKind::kMessage;
  std::string url;  // https; the SSRF guard applies as for GOV.UK callbacks
  // The statuses that make a callback (message statuses, or channel statuses); empty: the
  // domain's defaults. Channel targets may also ask for supplier statuses.
  std::vector<std::string> statuses;
  std::vector<std::string> supplier_statuses;
  // The header that carries the callback API key, and the key (a secret: sealed at rest, wiped
  // after use; also half of the HMAC key "<application id>.<api key>").
  std::string api_key_header = "x-api-key";
  std::string api_key;
  // Optional: a client certificate and key (PEM files on the Herald host) for mutual TLS, and
  // the receiver's public key pinned (base64 of the SHA-256 of its SubjectPublicKeyInfo).
  std::optional<std::string> client_certificate_file = std::nullopt;
  std::optional<std::string> client_key_file = std::nullopt;
  std::optional<std::string> pinned_key_sha256 = std::nullopt;
  int rate_per_second = 10;  // and a burst of as many
  int retry_window_seconds = 7200;
  Timestamp created_at;
};

enum class NhsCallbackState { kPending, kDead };

// One callback waiting to be sent (or given up: dead, kept for an operator to see and replay).
// It is stored with the cascade step that caused it, in the same transaction; once a receiver
// has it, it is deleted. Its body names the message's reference: personal, sealed at rest under
// the service's data key for the day the callback was made.
struct NhsCallbackRecord {
  std::int64_t id = 0;  // set by the store
  Uuid target;
  Uuid client;
  ServiceId service;
  std::string message_id;
  std::string body;  // the exact bytes to POST (compact JSON, one item)
  NhsCallbackState state = NhsCallbackState::kPending;
  int attempts = 0;
  Timestamp created_at;
  Timestamp next_attempt_at;
  std::optional<Timestamp> first_attempt_at = std::nullopt;
  std::optional<std::string> last_error = std::nullopt;  // the last failure ("HTTP 503", "timed out", ...)
};

// What one attempt came to.
struct NhsCallbackAttempt {
  std::int64_t id = 0;
  enum class Outcome { kSent, kRetry, kDead } outcome = Outcome::kSent;
  Timestamp at;                       // when the attempt was made
  std::optional<Timestamp> retry_at;  // kRetry
  std::optional<std::string> error;   // kRetry, kDead
};

// How a message still in flight when retention shredded its day's data key is failed (by the
// claim that finds it unreadable): its channels cannot be tried any more, and its client is told.
inline constexpr const char* kNhsRetentionFailureCode = "HRD_RETN_0001";
inline constexpr const char* kNhsRetentionFailureDescription =
    "Failed reason: The message's personal data reached the end of its retention period before it was delivered";

// A message claimed by the cascade (NhsCascadeStore::claim_nhs_messages): the claim's number,
// which its step must name to be saved.
struct NhsMessageClaim {
  NhsMessageRecord message;
  std::int64_t claim = 0;
  std::vector<NhsChannelEvent> events = {};  // not yet taken into account, oldest first
};

// What one cascade step makes of a claimed message: its new state, the notifications that start
// its channels (each one's delivery linked back to the message, so that its outcome wakes the
// cascade), and when to look again.
struct NhsCascadeStep {
  NhsMessageRecord message;  // status, its description/code/times, channels, recipient, next_step_at
  std::int64_t claim = 0;
  std::vector<NotificationRecord> notifications;
  // The claim's events this step took into account (deleted with the save): ids up to this one.
  std::int64_t events_through = 0;
  // The callbacks the step's status changes make (NhsCallbackStore), stored with it.
  std::vector<NhsCallbackRecord> callbacks = {};
};

// A demographics record held for NHS-number lookups (herald demographics import): the NHS
// number's blind index and the record as JSON (personal: sealed).
struct DemographicsRow {
  std::string nhs_number;   // plaintext here; stored only as a blind index
  std::string record_json;  // sealed at rest
  Timestamp updated_at;
};

// One version of an NHS Notify routing plan of a client's own. Versions are immutable: an edit
// stores the next version, and messages name the version they were accepted under. What the
// plan says (channels, templates, time limits, overrides) is the domain's JSON
// (domain/nhs/routing_plans.h); the store keeps it as given. Not personal data.
struct RoutingPlanRecord {
  Uuid id;
  Uuid client;
  int version = 1;
  std::string name;
  std::string definition_json;
  Timestamp created_at;
};

// A batch of NHS Notify messages (one request, one routing plan). Its messages point back to it.
struct NhsBatchRecord {
  std::string id;  // KSUID
  Uuid client;
  ServiceId service;
  std::string reference;  // messageBatchReference; personal like the messages' references: sealed
  Uuid routing_plan_id;
  std::string routing_plan_version;
  Timestamp created_at;
};

// Filters of a page of notifications (Store::list_notifications; GOV.UK's GET /v2/notifications).
struct NotificationQuery {
  ServiceId service;
  KeyType key_type = KeyType::kNormal;
  std::vector<Channel> types;                // empty: every type
  std::vector<NotificationStatus> statuses;  // empty: every status
  std::optional<std::string> reference;
  // Only notifications older than this one (by created_at, then id). When the service has no
  // such notification (or it was redacted), the page is empty.
  std::optional<NotificationId> older_than;
  int limit = 250;
  // GOV.UK's API lists only the notifications sent through it: those of jobs (sending to a list)
  // are left out unless asked for.
  bool include_jobs = false;
  // A day's report (the admin UI): every key type (key_type ignored), only those created in
  // [created_from, created_before) when given.
  bool any_key_type = false;
  std::optional<Timestamp> created_from = std::nullopt;
  std::optional<Timestamp> created_before = std::nullopt;
};

// How many of a service's notifications were created on one UTC day, of one channel, are in one
// status (the dashboard's charts).
struct DailyStatusCount {
  std::int64_t day = 0;  // days since 1970-01-01 (UTC)
  Channel type = Channel::kEmail;
  NotificationStatus status = NotificationStatus::kCreated;
  std::int64_t count = 0;
};

// How a provider did with a service's notifications (the dashboard's slowest and failing).
struct ProviderStats {
  std::string provider;        // sent_by: "smtp", "firetext", "mmg", ...
  std::int64_t sent = 0;       // notifications it took
  std::int64_t delivered = 0;  // of them delivered (or sent, for international texts)
  std::int64_t failed = 0;     // of them in a failure status
  // Mean seconds from created_at to updated_at of those delivered (0 when none were).
  double mean_seconds_to_delivered = 0;
};

// A notification that still holds sealed personal data (RetentionStore::next_sealed_notification).
struct StillSealed {
  NotificationId id;
  Timestamp created_at;
};

// What one retention pass did for one service.

struct RetentionOutcome {
  std::int64_t redacted = 0;       // notifications whose personal fields were emptied now
  std::int64_t failed_pending = 0; // of those, still undelivered: marked technical-failure
};

// What a worker records after an attempt. A non-final status with `next_attempt_at` schedules a
// retry; a final status ends the notification's delivery.
struct DeliveryOutcome {
  NotificationId id;
  NotificationStatus status = NotificationStatus::kSending;
  Timestamp updated_at;
  std::optional<Timestamp> sent_at;
  std::optional<Timestamp> next_attempt_at;
  std::optional<std::string> sent_by;
  // An outcome services hear of: when the service has a delivery-status callback, one becomes
  // due at updated_at.
  bool callback = false;
};

// A provider's later word on a notification it took (an SMS delivery receipt, a print
// supplier's report).
struct DeliveryReceipt {
  NotificationId id;
  std::string provider;  // must be the one the notification was sent by
  // What the provider reported: delivered, pending, temporary-failure, permanent-failure;
  // letters: delivered, returned-letter, technical-failure.
  NotificationStatus status = NotificationStatus::kDelivered;
  Timestamp received_at;
  bool callback = true;  // as DeliveryOutcome::callback (every receipt is told)
  // The statuses the receipt applies in, and what each becomes (from, to). The rule is the
  // domain's (domain::receipt_for fills this); a backend applies it as one atomic update. Empty:
  // the receipt changes nothing.
  std::vector<std::pair<NotificationStatus, NotificationStatus>> transitions = {};
};

// The admin web UI's users (issue 19). A user signs in with a password (argon2id) and a second
// factor (TOTP or a WebAuthn key; a single-use recovery code when both are lost). Email and name
// are personal: sealed under the long-lived "secrets" key, bound to ("admin_users", column, id);
// the email is found by its blind index (domain "admin-users"), never by a plaintext scan. The
// TOTP secret is sealed likewise; passwords, enrolment tokens, session tokens and recovery codes
// are stored only as hashes.
struct AdminUserRecord {
  Uuid id;
  std::string email;  // normalised (trimmed, lower case)
  std::string name;
  bool platform_admin = false;
  std::string password_hash;        // argon2id PHC string; empty until enrolled
  std::string totp_secret;          // raw secret bytes; empty until enrolled
  std::int64_t totp_last_step = 0;  // the last TOTP time step accepted (each code is used once)
  int failed_sign_ins = 0;          // consecutive failures (password or second factor)
  std::optional<Timestamp> locked_until = std::nullopt;
  std::optional<Timestamp> enrolled_at = std::nullopt;
  std::optional<Timestamp> disabled_at = std::nullopt;
  Timestamp created_at;
};

// A user's permissions in one service ("view", "send", "manage_templates", "manage_api_keys",
// "manage_team", "manage_settings": the domain's names, stored as given).
struct AdminMembership {
  Uuid user;
  ServiceId service;
  std::vector<std::string> permissions;
  Timestamp created_at;
};

// A one-time enrolment link's token (its SHA-256, hex), for a user to set a password and enrol
// a second factor.
struct AdminEnrolment {
  std::string token_hash;
  Uuid user;
  Timestamp created_at;
  Timestamp expires_at;
};

// A signed-in browser. The cookie holds the token; only its SHA-256 (hex) is stored.
struct AdminSessionRecord {
  std::string token_hash;
  Uuid user;
  Timestamp created_at;    // the absolute timeout counts from here
  Timestamp last_seen_at;  // the idle timeout counts from here
  // When the second factor was last given: nullopt while only the password has been (the
  // session may then only finish signing in); sensitive actions ask for it again when old.
  std::optional<Timestamp> second_factor_at = std::nullopt;
};

// A WebAuthn credential (security key or passkey) registered by a user.
struct WebAuthnCredential {
  std::string credential_id;  // raw bytes
  Uuid user;
  std::string public_key;  // the COSE key, as registered
  std::int64_t sign_count = 0;
  std::string name;  // the user's label for it
  Timestamp created_at;
  std::optional<Timestamp> last_used_at = std::nullopt;
};

// A list of recipients uploaded in the admin UI (a CSV file) to be sent one template: each data
// row becomes one notification, linked to the job. The worker sends rows in order, recording how
// far it has come (next_row) in the same transaction as the rows' notifications.
enum class JobStatus { kPending, kInProgress, kFinished, kCancelled };
const char* job_status_name(JobStatus status);  // "pending", "in-progress", "finished", "cancelled"
std::optional<JobStatus> parse_job_status(std::string_view name);

struct JobRecord {
  Uuid id;
  ServiceId service;
  TemplateId template_id;
  int template_version = 1;
  Channel type = Channel::kEmail;
  // Personal fields: sealed at rest under the service's data key of created_at's day (gone with
  // it), bound to the job's id. `contents` is empty in listings and once retention has run.
  std::string file_name;
  std::string contents;  // the file as uploaded
  int row_count = 0;     // data rows in the file
  int next_row = 0;      // rows [0, next_row) are done (sent, or skipped for an error)
  JobStatus status = JobStatus::kPending;
  Uuid created_by;  // the admin user who uploaded it
  Timestamp created_at;
  std::optional<Timestamp> started_at = std::nullopt;
  std::optional<Timestamp> finished_at = std::nullopt;
};

// The job as JobStore::create_job stores it, whatever the caller set: pending, at row 0, never
// started or finished.
inline JobRecord as_new_job(JobRecord job) {
  job.status = JobStatus::kPending;
  job.next_row = 0;
  job.started_at.reset();
  job.finished_at.reset();
  return job;
}

// How many of a job's notifications are in each status (statuses with none left out).
using StatusCounts = std::vector<std::pair<NotificationStatus, std::int64_t>>;

// A recipient's request to stop getting a service's emails, made through the hosted unsubscribe
// link of one of them (GOV.UK's "unsubscribe request"). The address is personal: sealed under the
// long-lived "secrets" key (a request outlives the notification's retention: the link works for a
// year) and bound to the request's id; deleted when its time is up
// (UnsubscribeStore::delete_old_unsubscribe_requests).
struct UnsubscribeRequest {
  Uuid id;
  ServiceId service;  // read back; add_unsubscribe_request takes it from the notification
  NotificationId notification;
  TemplateId template_id;    // likewise
  int template_version = 1;  // likewise
  std::string email;         // sealed
  // As the blind index sees it (data-subject requests find requests by it); never stored.
  std::string email_normalised = {};
  Timestamp created_at;
  std::optional<Uuid> report = std::nullopt;
  // Read back with it (from its notification, template and job; not stored with the request):
  std::string template_name = {};
  Timestamp notification_created_at = {};
  std::optional<std::string> job_file_name = std::nullopt;  // the list it was sent from, while its file is kept
};

// A batch of a service's unsubscribe requests, made when someone downloads those not yet in one.
struct UnsubscribeReport {
  Uuid id;  // nil: the requests not yet in a report (UnsubscribeStore::unsubscribe_reports)
  ServiceId service;
  std::int64_t count = 0;      // requests in it when it was made (kept after they are deleted)
  Timestamp earliest, latest;  // of those requests' created_at
  Timestamp created_at;        // nil report: the latest request's
  std::optional<Timestamp> processed_at = std::nullopt;  // the service has unsubscribed them
};

// A data-subject request's erasure (SubjectStore::erase_subject): what the domain found held about
// one person in one service, to be erased in one transaction. Every row named must be the
// service's (another service's ids are ignored, never touched).
struct SubjectErasure {
  ServiceId service;
  // Emptied as retention empties them (recipient, personalisation, subject, body, reference,
  // unsubscribe URL, blind indexes; redacted_at = now), so they are no longer found by id or
  // listed. One still undelivered (created, sending) becomes technical-failure and is not tried
  // again; no callback is due for it any more. Their letters' PDFs are deleted.
  std::vector<NotificationId> notifications;
  // NHS Notify messages (ids): personal fields emptied (reference, billing reference, NHS number
  // and its blind index, personalisation, contact details, recipient) and erased_at set, after
  // which find_nhs_message, the SubjectStore finds and the cascade's claims leave them out. One
  // not yet delivered or failed becomes failed with `nhs_failure_code`/`nhs_failure_description`,
  // its next step cleared. Their channel events and pending or dead NHS callbacks are deleted.
  std::vector<std::string> nhs_messages;
  std::string nhs_failure_code;
  std::string nhs_failure_description;
  std::vector<Uuid> inbound_sms;         // received texts: deleted
  std::vector<Uuid> guest_list_entries;  // deleted
  // Jobs' files with the person's rows blanked (the domain rewrites them): each job's contents
  // replaced, sealed as create_job seals them. A job whose contents retention already emptied is
  // left as it is.
  std::vector<std::pair<Uuid, std::string>> job_contents;
  std::vector<Uuid> documents;             // files sent by email: deleted
  std::vector<Uuid> unsubscribe_requests;  // deleted (their reports keep their counts)
  Timestamp now;
};

// What an erasure changed: how many of each were erased now (rows already erased, absent or
// another service's are not counted).
struct ErasureOutcome {
  std::int64_t notifications = 0;
  std::int64_t failed_pending = 0;  // of the notifications, undelivered ones now technical-failure
  std::int64_t nhs_messages = 0;
  std::int64_t inbound_sms = 0;
  std::int64_t guest_list_entries = 0;
  std::int64_t jobs = 0;
  std::int64_t documents = 0;
  std::int64_t unsubscribe_requests = 0;
};

}  // namespace herald::store
