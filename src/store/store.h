#pragma once
// Store: Herald's persistence contract, as role interfaces (ServiceDirectory, NotificationStore,
// ...) and Store, which is all of them. Backends (sqlite/, postgres/) and the test fake
// implement Store; the domain and API layers see only these interfaces and the row types in
// records.h, never SQL, and each consumer takes the narrowest role it needs.
//
// Contract shared by every backend:
// - Implementations are safe to call from any thread.
// - A call that returns success on a write has made that write durable (on SQLite: the WAL
//   commit has been fsynced).
// - Personal fields of the records are encrypted at rest with AEAD bound to table, column and
//   row id; a ciphertext that fails to authenticate surfaces as kDataLoss.
// - Lookups scoped by service never return another service's rows (tenant isolation).

#include <array>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "crypto/audit_chain.h"
#include "store/records.h"

namespace herald::store {

// Role interfaces: each consumer takes the narrowest it needs (a cache of services needs no
// notifications), so adding a capability touches its role, the backends and the fake, not
// every consumer. Store is all of them, plus what only the whole can do (a snapshot).

// Services, their API keys, templates, contacts, callback settings and guest lists
// (administration and the caches in front of it; low rate).
class ServiceDirectory {
 public:
  virtual ~ServiceDirectory() = default;

  virtual Result<void> create_service(const ServiceRecord& service) = 0;
  virtual Result<std::optional<ServiceRecord>> find_service(ServiceId id) = 0;
  virtual Result<std::optional<ServiceRecord>> find_service_by_name(const std::string& name) = 0;
  virtual Result<void> create_api_key(const ApiKeyRecord& key) = 0;
  // All keys of the service, revoked ones included (GOV.UK reports "revoked" for them).
  virtual Result<std::vector<ApiKeyRecord>> api_keys_for_service(ServiceId service) = 0;
  // Marks the service's key revoked (kNotFound if it has no such live key).
  virtual Result<void> revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) = 0;
  // Replaces the networks the service's key may be used from (ApiKeyRecord::allowed_networks;
  // empty: any network). A revoked key may still be restricted. kNotFound when the service has no
  // such key; kInvalidArgument for entries store/schema.h's check_networks refuses (then nothing
  // changes). create_api_key checks its record's networks the same way.
  virtual Result<void> set_api_key_networks(ServiceId service, ApiKeyId key,
                                            const std::vector<std::string>& networks) = 0;
  // Creates version 1 of a new template.
  virtual Result<void> create_template(const TemplateRecord& record) = 0;
  // Adds the next version of the service's template: `record.version` must be its current
  // version + 1 (kFailedPrecondition otherwise, e.g. when another edit came first; kNotFound when
  // the service has no such template). Earlier versions are kept: notifications name theirs.
  virtual Result<void> add_template_version(const TemplateRecord& record) = 0;
  // Archived templates are not listed and cannot be sent; they are still found by id.
  virtual Result<void> set_template_archived(ServiceId service, TemplateId id, bool archived) = 0;
  // The latest version, or the given one. nullopt when absent or owned by another service.
  // created_at is the template's (version 1's); updated_at the version's own, from version 2.
  virtual Result<std::optional<TemplateRecord>> find_template(ServiceId service, TemplateId id,
                                                              std::optional<int> version) = 0;
  // Latest versions of the service's templates that are not archived, by name.
  virtual Result<std::vector<TemplateRecord>> templates_for_service(ServiceId service) = 0;
  virtual Result<std::vector<ServiceRecord>> list_services() = 0;
  virtual Result<void> set_service_retention(ServiceId service, int days) = 0;
  // Saves the service's settings: active, restricted, retention_days, permissions, prefix_sms,
  // the limits and the go-live request (its id, name and creation stay). kNotFound when there is
  // no such service.
  virtual Result<void> update_service(const ServiceRecord& service) = 0;
  // Adds a sender id, reply-to address or letter contact block; when it is the default, the
  // service's previous default of that kind stops being one.
  virtual Result<void> add_service_contact(const ServiceContact& contact) = 0;
  // Changes the value of the service's contact `contact.id` (of `contact.kind`) and whether it is
  // the default: when it becomes the default, the service's previous default of that kind stops
  // being one; when it stops being the default, the kind has none. Its creation time stays.
  // kNotFound: the service has no such contact of that kind.
  virtual Result<void> update_service_contact(const ServiceContact& contact) = 0;
  // Deletes the service's contact (any kind): it is no longer listed, so a request or template
  // naming it gets what an unknown id gets. false: the service has no such contact.
  virtual Result<bool> remove_service_contact(ServiceId service, Uuid id) = 0;
  // Sets (or replaces) the service's callback of that kind; the token is sealed.
  virtual Result<void> set_service_callback(const ServiceCallback& callback) = 0;
  virtual Result<std::optional<ServiceCallback>> find_service_callback(ServiceId service, CallbackKind kind) = 0;
  // Deletes the service's callback of that kind (false: it had none). Callbacks still due find
  // none and are dropped, as for a service that never set one.
  virtual Result<bool> delete_service_callback(ServiceId service, CallbackKind kind) = 0;
  // The service's contacts of one kind, oldest first.
  virtual Result<std::vector<ServiceContact>> service_contacts(ServiceId service, ContactKind kind) = 0;
  // Team members and guest list:
  virtual Result<void> add_guest_list_entry(const GuestListEntry& entry) = 0;
  // Whether the service may send to this recipient in trial mode or with a team key (compared by
  // blind index, no plaintext scan): it is on the service's guest list, or (an email address) it
  // is the email of a team member, an admin user with a membership of the service who is not
  // disabled, as GOV.UK Notify lets a service send to its team.
  virtual Result<bool> on_guest_list(ServiceId service, std::string_view recipient_normalised) = 0;
  // The service's whole guest list, recipients opened, oldest first (ties by id). An entry whose
  // data key is gone is left out.
  virtual Result<std::vector<GuestListEntry>> guest_list(ServiceId service) = 0;
  // Deletes one entry of the service's guest list (its blind-index entry with it). false: the
  // service has no such entry.
  virtual Result<bool> remove_guest_list_entry(ServiceId service, Uuid id) = 0;
};

// Notifications: accepted, claimed for delivery, their outcomes and receipts, listed; and
// letters' PDFs.
class NotificationStore {
 public:
  virtual ~NotificationStore() = default;

  // Durably records a new notification in status "created", due for delivery at once.
  virtual Result<void> insert_notification(const NotificationRecord& record) = 0;
  virtual Result<std::optional<NotificationRecord>> find_notification(ServiceId service,
                                                                      NotificationId id) = 0;
  // Claims up to `limit` notifications that are due at `now` (new ones, retries whose time has
  // come, and claims whose lease has expired because a worker died). Each claim moves the
  // notification to "sending", counts an attempt and holds it for `lease`.
  virtual Result<std::vector<NotificationRecord>> claim_due(int limit, Timestamp now,
                                                            Duration lease) = 0;
  // An outcome or receipt of a notification that carries an NHS Notify message's channel
  // (NhsCascadeStore::save_nhs_step) makes no service callback due: it wakes the message's
  // cascade instead (its next step is due at once).
  virtual Result<void> record_outcome(const DeliveryOutcome& outcome) = 0;
  // Applies a provider's receipt when the notification was sent by that provider and its status
  // is one of the receipt's `transitions` (moving it to that transition's target, atomically).
  // Returns the notification as it now is, or nullopt when the receipt did not apply (unknown,
  // another provider's, in no status the receipt applies in, redacted).
  virtual Result<std::optional<NotificationRecord>> apply_receipt(const DeliveryReceipt& receipt) = 0;
  // A page of the service's notifications sent with keys of `query.key_type`, newest first
  // (created_at, then id, descending), without redacted ones, ones whose data key is gone, or
  // ones that carry an NHS Notify message's channel.
  virtual Result<std::vector<NotificationRecord>> list_notifications(const NotificationQuery& query) = 0;
  // The service's notifications created in [from, to), counted by UTC day of creation, channel
  // and status: every key type, jobs', admin sends and redacted ones included (their statuses
  // stay), NHS Notify channels' too; ordered by day, channel, status.
  virtual Result<std::vector<DailyStatusCount>> daily_status_counts(ServiceId service, Timestamp from,
                                                                    Timestamp to) = 0;
  // The same notifications that a provider took (sent_by set), by provider, ordered by name.
  virtual Result<std::vector<ProviderStats>> provider_stats(ServiceId service, Timestamp from, Timestamp to) = 0;
  // The service's notifications to this recipient (blind-index lookup: no plaintext scan),
  // newest first. `recipient_normalised` as in NotificationRecord.
  virtual Result<std::vector<NotificationRecord>> find_by_recipient(ServiceId service,
                                                                    std::string_view recipient_normalised) = 0;
  // Letters: the PDF that is printed (rendered from the template, or precompiled), sealed under the
  // data key of the notification's day and bound to its id. Stored before the notification
  // itself, so a letter is never claimed without its PDF; retention deletes it with the
  // notification's personal fields.
  virtual Result<void> put_letter_pdf(ServiceId service, NotificationId id, Timestamp created_at,
                                      std::string_view pdf) = 0;
  // nullopt when absent, owned by another service, or gone with retention.
  virtual Result<std::optional<std::string>> find_letter_pdf(ServiceId service, NotificationId id) = 0;

  // Asynchronous forms: `done` runs once the write is durable (or has failed), possibly on a
  // store thread, so it must be quick and must not call back into the store synchronously.
  // Backends with a group-commit writer batch concurrent calls into one commit; the defaults
  // simply run the synchronous forms.
  using Completion = std::function<void(Result<void>)>;
  virtual void insert_notification_async(const NotificationRecord& record, Completion done) {
    done(insert_notification(record));
  }
  virtual void record_outcome_async(DeliveryOutcome outcome, Completion done) {
    done(record_outcome(outcome));
  }
};

// Texts received from the public.
class ReceivedTextStore {
 public:
  virtual ~ReceivedTextStore() = default;

  // Stores one; when the service has an inbound callback, one becomes due.
  virtual Result<void> insert_inbound_sms(const InboundSms& sms) = 0;
  // The service's texts created at or after `not_before`, newest first (created_at, then id),
  // older than `older_than` when given (an unknown id: an empty page).
  virtual Result<std::vector<InboundSms>> list_inbound_sms(ServiceId service, std::optional<Uuid> older_than,
                                                            Timestamp not_before, int limit) = 0;
};

// The services' callbacks that are due: delivery statuses and received texts.
class CallbackQueue {
 public:
  virtual ~CallbackQueue() = default;

  // Delivery-status callbacks. Claims up to `limit` notifications whose callback is due (set by
  // an outcome or receipt with `callback`), holding each for `lease` and counting an attempt.
  virtual Result<std::vector<NotificationRecord>> claim_callbacks(int limit, Timestamp now, Duration lease) = 0;
  // After an attempt: retry at `retry_at`, or (nullopt) done for good.
  virtual Result<void> finish_callback(NotificationId id, std::optional<Timestamp> retry_at) = 0;
  virtual Result<std::vector<InboundSms>> claim_inbound_callbacks(int limit, Timestamp now, Duration lease) = 0;
  virtual Result<void> finish_inbound_callback(Uuid id, std::optional<Timestamp> retry_at) = 0;

  // Gives up on a callback for good (after its last retry, or a refusal that will not change):
  // no longer due, it goes on its service's dead list with when and `error` (not personal data)
  // until it is replayed. An outcome or receipt that makes the notification's callback due again
  // (a newer status) takes it off the dead list; so does the retention job, with the personal
  // fields (what would be sent is gone).
  virtual Result<void> kill_callback(NotificationId id, Timestamp now, std::string_view error) = 0;
  virtual Result<void> kill_inbound_callback(Uuid id, Timestamp now, std::string_view error) = 0;
  // The service's dead callbacks of both kinds, the most recently dead first (ties by id), at
  // most `limit`; attempts as counted by the claims.
  virtual Result<std::vector<DeadCallback>> dead_callbacks(ServiceId service, int limit) = 0;
  // Makes the service's dead callback of that kind due again at `now`, attempts counted from 0,
  // off the dead list (claimed as any due callback). false: the service has no such dead callback.
  virtual Result<bool> replay_callback(ServiceId service, CallbackKind kind, Uuid id, Timestamp now) = 0;
};

// Limits, shared by every node.
class LimitCounters {
 public:
  virtual ~LimitCounters() = default;

  // Takes up to `want` tokens from the named token bucket (created
  // full; refilled at `refill_per_second` up to `capacity`); returns how many it got.
  virtual Result<int> take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                                  double capacity) = 0;
  // Adds up to `want` to the named counter without passing `limit`; returns how many it added.
  virtual Result<std::int64_t> reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) = 0;
};

// Retention: personal data past its time.
class RetentionStore {
 public:
  virtual ~RetentionStore() = default;

  // Empties the personal fields of the service's notifications created before
  // `cutoff` (ids, statuses and times stay, for counts); they are no longer found by id. The
  // service's received texts from before `cutoff` are deleted, its jobs' files (contents and
  // file names) from before `cutoff` emptied, and its NHS Notify messages from before `cutoff`
  // lose their NHS numbers' blind index (their sealed fields go with the day's data key).
  virtual Result<RetentionOutcome> redact_before(ServiceId service, Timestamp cutoff, Timestamp now) = 0;
  // Whether any notification of the service created in [from, to) still holds personal data.
  virtual Result<bool> holds_personal_data(ServiceId service, Timestamp from, Timestamp to) = 0;
  // The earliest notification of the service created at or after `from` whose personal fields
  // are still sealed (not redacted), as its id and creation time; nullopt when there is none.
  // Opens nothing: the key check at start and restore (ops/key_check.h) walks the days this way.
  virtual Result<std::optional<StillSealed>> next_sealed_notification(ServiceId service, Timestamp from) = 0;
};

// Files sent by email (records.h DocumentRecord).
class DocumentStore {
 public:
  virtual ~DocumentStore() = default;

  // Sealed under the data key of the service and
  // the UTC day of `expires_at` (crypto::document_scope).
  virtual Result<void> insert_document(const DocumentRecord& document) = 0;
  // The service's document unless it has expired at `now` (or its data key is gone): nullopt.
  virtual Result<std::optional<DocumentRecord>> find_document(ServiceId service, Uuid id, Timestamp now) = 0;
  // Counts one wrong email address typed on the download page; returns the count now (0 when
  // there is no such document).
  virtual Result<int> count_document_failure(ServiceId service, Uuid id) = 0;
  // Deletes every document that has expired at `now`; returns how many.
  virtual Result<std::int64_t> delete_expired_documents(Timestamp now) = 0;
};

// The audit log's entries.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends in one transaction, each entry taking the next seq and chained to the
  // previous entry's hash (crypto::chain_entries) under the write lock, so appenders in several
  // processes never fork the chain. Returns the entries as stored (seq and hashes filled).
  virtual Result<std::vector<crypto::AuditEntry>> append_audit(std::vector<crypto::AuditEntry> entries) = 0;
  // Visits entries with seq > after_seq (and at >= since, when given) in seq order.
  virtual Result<void> read_audit(std::int64_t after_seq, std::optional<Timestamp> since,
                                  const std::function<Result<void>(const crypto::AuditEntry&)>& visit) = 0;
};

// NHS Notify's API clients, the access tokens issued to them and the assertion ids they have
// used (shared by every node, so a token issued by one is honoured by all and an assertion is
// never accepted twice anywhere).
class NhsClientStore {
 public:
  virtual ~NhsClientStore() = default;

  // kFailedPrecondition when a client has the same API key.
  virtual Result<void> create_nhs_client(const NhsClientRecord& client) = 0;
  // Saves everything but the id, service, API key and creation time (kNotFound when absent).
  virtual Result<void> update_nhs_client(const NhsClientRecord& client) = 0;
  virtual Result<std::optional<NhsClientRecord>> find_nhs_client(Uuid id) = 0;
  virtual Result<std::optional<NhsClientRecord>> find_nhs_client_by_key(std::string_view api_key_hash) = 0;
  virtual Result<std::vector<NhsClientRecord>> list_nhs_clients() = 0;
  // Remembers the client's assertion id (its hash) until `expires_at`: false when it is already
  // remembered, i.e. a replay. Ids expired at `now` are forgotten.
  virtual Result<bool> remember_assertion_id(Uuid client, std::string_view jti_hash, Timestamp expires_at,
                                             Timestamp now) = 0;
  // Stores a new token (tokens expired at `issued_at` are deleted on the way).
  virtual Result<void> insert_access_token(const NhsAccessToken& token) = 0;
  // The token unless unknown or expired at `now`.
  virtual Result<std::optional<NhsAccessToken>> find_access_token(std::string_view token_hash, Timestamp now) = 0;

  // Durably stores a message, unless another single message of the client (batch_id unset) has
  // the same reference (its blind index) and was created after `reference_cutoff`: then false
  // and nothing is stored. An older one's reference is forgotten, so it may be used again.
  virtual Result<bool> insert_nhs_message(const NhsMessageRecord& message, Timestamp reference_cutoff) = 0;
  // Durably stores a batch and all its messages in one transaction, unless another batch of the
  // client has the same reference and was created after `reference_cutoff` (then false, nothing
  // stored; an older one's reference is forgotten). Every message's batch_id is the batch's id.
  virtual Result<bool> insert_nhs_batch(const NhsBatchRecord& batch, const std::vector<NhsMessageRecord>& messages,
                                        Timestamp reference_cutoff) = 0;
  // The client's message; nullopt when absent, another client's, erased (SubjectStore), or its
  // data key is gone.
  virtual Result<std::optional<NhsMessageRecord>> find_nhs_message(Uuid client, std::string_view id) = 0;
};

// NHS Notify's cascade: messages due for their next step, claimed by one worker at a time, and
// the recipients' demographics records imported for NHS-number lookups.
class NhsCascadeStore {
 public:
  virtual ~NhsCascadeStore() = default;

  // Claims up to `limit` messages whose next step is due at `now` (earliest first), each held for
  // `lease`: no other claim takes it until the lease ends or its step is saved. A message whose
  // data key is gone is settled (next step cleared) and not returned.
  virtual Result<std::vector<NhsMessageClaim>> claim_nhs_messages(int limit, Timestamp now, Duration lease) = 0;
  // Saves a claimed message's step in one transaction: its state, and the notifications that
  // start its channels (stored and queued like any other, linked to the message). false when
  // the claim was lost (its lease ran out and another took it) or already saved: nothing saved. When one of the
  // message's notifications changed status since the claim, the message is due again at once
  // rather than at step.message.next_step_at.
  virtual Result<bool> save_nhs_step(const NhsCascadeStep& step, Timestamp now) = 0;
  // Records a supplier's word on one of the message's channels and wakes the message (due at
  // once, as a notification's outcome does). false (nothing stored) when there is no such message.
  // The claim of the message's next step carries its events; saving that step deletes them.
  virtual Result<bool> add_nhs_channel_event(const NhsChannelEvent& event) = 0;

  // Adds or replaces the records (keyed by NHS number) in one transaction.
  virtual Result<void> put_demographics(const std::vector<DemographicsRow>& rows) = 0;
  virtual Result<std::optional<DemographicsRow>> find_demographics(std::string_view nhs_number) = 0;
};

// NHS Notify routing plans of clients' own (the built-in free-text plans are the domain's).
class RoutingPlanStore {
 public:
  virtual ~RoutingPlanStore() = default;

  // Stores one version of a plan: false (nothing stored) when the plan already has that version
  // (two operators saving at once: the second asks again for the latest).
  virtual Result<bool> add_routing_plan(const RoutingPlanRecord& plan) = 0;
  // The plan's given version, or its latest when `version` is nullopt; nullopt when absent.
  virtual Result<std::optional<RoutingPlanRecord>> find_routing_plan(Uuid id, std::optional<int> version) = 0;
  // The latest version of every plan (of `client` only, when given), oldest plan first.
  virtual Result<std::vector<RoutingPlanRecord>> list_routing_plans(std::optional<Uuid> client) = 0;
};

// NHS Notify callbacks: clients' receivers, and the outbox of callbacks to send. Callbacks are
// added by NhsCascadeStore::save_nhs_step with the step that caused them.
class NhsCallbackStore {
 public:
  virtual ~NhsCallbackStore() = default;

  // Adds the target, or replaces the one with its id (kFailedPrecondition: no such client).
  virtual Result<void> put_nhs_callback_target(const NhsCallbackTarget& target) = 0;
  // false when there is no such target. Its pending and dead callbacks go with it.
  virtual Result<bool> delete_nhs_callback_target(Uuid id) = 0;
  // Every target (of `client` only, when given), oldest first, with its API key opened.
  virtual Result<std::vector<NhsCallbackTarget>> nhs_callback_targets(std::optional<Uuid> client) = 0;

  // Claims up to `limit` pending callbacks due at `now` (earliest first), each held for `lease`.
  // One whose data key is gone is deleted and not returned.
  virtual Result<std::vector<NhsCallbackRecord>> claim_nhs_callbacks(int limit, Timestamp now, Duration lease) = 0;
  // After an attempt: kSent deletes the callback; kRetry counts the attempt and makes it due at
  // retry_at; kDead counts it and keeps it, dead, with its error. first_attempt_at is set by the
  // first attempt.
  virtual Result<void> finish_nhs_callback(const NhsCallbackAttempt& attempt) = 0;
  // Dead callbacks (of `client` only, when given), oldest first, at most `limit`.
  virtual Result<std::vector<NhsCallbackRecord>> dead_nhs_callbacks(std::optional<Uuid> client, int limit) = 0;
  // Makes a dead callback pending again, due at `now`, as if new (attempts 0, no first attempt);
  // false when there is no such dead callback.
  virtual Result<bool> replay_nhs_callback(std::int64_t id, Timestamp now) = 0;
};

// The admin web UI's users, their memberships of services, enrolment links, recovery codes,
// sessions and WebAuthn credentials. Every "use" below is atomic across nodes: a TOTP step, a
// recovery code, an enrolment link or a signature counter is accepted once, on one node.
class AdminUserStore {
 public:
  virtual ~AdminUserStore() = default;

  // kFailedPrecondition when a user has the same email (compared by blind index).
  virtual Result<void> create_admin_user(const AdminUserRecord& user) = 0;
  // Saves everything but the id, email and creation time (kNotFound when absent). Does not
  // lower totp_last_step (use_totp_step moves it).
  virtual Result<void> update_admin_user(const AdminUserRecord& user) = 0;
  virtual Result<std::optional<AdminUserRecord>> find_admin_user(Uuid id) = 0;
  virtual Result<std::optional<AdminUserRecord>> find_admin_user_by_email(std::string_view email) = 0;
  virtual Result<std::vector<AdminUserRecord>> list_admin_users() = 0;  // oldest first
  // Accepts TOTP time step `step` when it is later than the user's last accepted one, and
  // records it: false (nothing changed) when it is not, i.e. a code used before.
  virtual Result<bool> use_totp_step(Uuid user, std::int64_t step) = 0;
  // Sign-in bookkeeping, each one atomic and touching only its own columns, so that concurrent
  // attempts are all counted and none writes back a stale record (an operator's disable, say):
  // counts one failed step and returns the new count (0: no such user);
  virtual Result<int> count_sign_in_failure(Uuid user) = 0;
  // sets or clears the lockout, and with `reset_failures` zeroes the count;
  virtual Result<void> set_sign_in_lock(Uuid user, std::optional<Timestamp> locked_until, bool reset_failures) = 0;
  // replaces the password hash alone (a rehash with stronger parameters at sign-in).
  virtual Result<void> set_admin_password_hash(Uuid user, std::string_view password_hash) = 0;

  // Adds the membership or replaces its permissions (kFailedPrecondition: no such user or service).
  virtual Result<void> put_admin_membership(const AdminMembership& membership) = 0;
  virtual Result<bool> delete_admin_membership(Uuid user, ServiceId service) = 0;
  // Memberships of `user` and/or in `service` (all when neither is given), oldest first.
  virtual Result<std::vector<AdminMembership>> admin_memberships(std::optional<Uuid> user,
                                                                 std::optional<ServiceId> service) = 0;

  // Adds an enrolment link; the user's earlier links stop working.
  virtual Result<void> add_admin_enrolment(const AdminEnrolment& enrolment) = 0;
  // The link unless unknown or expired at `now`.
  virtual Result<std::optional<AdminEnrolment>> find_admin_enrolment(std::string_view token_hash, Timestamp now) = 0;
  // Uses the link up (deletes it): false when it is unknown, expired at `now` or already used.
  virtual Result<bool> take_admin_enrolment(std::string_view token_hash, Timestamp now) = 0;

  // Replaces all of the user's recovery codes (their hashes).
  virtual Result<void> set_recovery_codes(Uuid user, const std::vector<std::string>& code_hashes) = 0;
  // Uses one up (deletes it): false when the user has no such unused code.
  virtual Result<bool> use_recovery_code(Uuid user, std::string_view code_hash) = 0;
  virtual Result<int> recovery_codes_left(Uuid user) = 0;

  virtual Result<void> create_admin_session(const AdminSessionRecord& session) = 0;
  virtual Result<std::optional<AdminSessionRecord>> find_admin_session(std::string_view token_hash) = 0;
  // Saves last_seen_at and second_factor_at (false when the session is gone).
  virtual Result<bool> update_admin_session(const AdminSessionRecord& session) = 0;
  virtual Result<bool> delete_admin_session(std::string_view token_hash) = 0;
  // Signs the user out everywhere; returns how many sessions ended.
  virtual Result<int> delete_admin_sessions(Uuid user) = 0;
  // Deletes sessions idle since before `idle_cutoff` or created before `absolute_cutoff`.
  virtual Result<int> delete_expired_admin_sessions(Timestamp idle_cutoff, Timestamp absolute_cutoff) = 0;

  // kFailedPrecondition when the credential id is registered already (to anyone).
  virtual Result<void> add_webauthn_credential(const WebAuthnCredential& credential) = 0;
  virtual Result<std::vector<WebAuthnCredential>> webauthn_credentials(Uuid user) = 0;  // oldest first
  virtual Result<std::optional<WebAuthnCredential>> find_webauthn_credential(std::string_view credential_id) = 0;
  // Records a use: the new signature counter and time, only when `sign_count` is greater than
  // the stored one, or both are 0 (authenticators without a counter). false otherwise: a cloned
  // authenticator or a replayed assertion.
  virtual Result<bool> use_webauthn_credential(std::string_view credential_id, std::int64_t sign_count,
                                               Timestamp at) = 0;
  virtual Result<bool> delete_webauthn_credential(Uuid user, std::string_view credential_id) = 0;
};

// Sending to a list: jobs uploaded in the admin UI and the notifications of their rows.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // Stores a pending job (next_row 0), its file name and contents sealed.
  virtual Result<void> create_job(const JobRecord& job) = 0;
  // The service's job with its contents; nullopt when absent, another service's, or its data
  // key is gone.
  virtual Result<std::optional<JobRecord>> find_job(ServiceId service, Uuid id) = 0;
  // The service's jobs, newest first (created_at, then id), at most `limit`, without contents
  // (file names opened; a job whose data key is gone is left out).
  virtual Result<std::vector<JobRecord>> jobs_for_service(ServiceId service, int limit) = 0;
  // Moves a pending job to in progress (started_at = now): false when it is not pending (already
  // started, e.g. by a second click or another node, or cancelled) or not the service's.
  virtual Result<bool> start_job(ServiceId service, Uuid id, Timestamp now) = 0;
  // Jobs in progress, of every service, oldest first, at most `limit`, without contents or
  // file names (the worker finds each with find_job).
  virtual Result<std::vector<JobRecord>> jobs_in_progress(int limit) = 0;
  // In one transaction, when the job is in progress and its next_row is `from_row`: stores
  // `notifications` (each linked to the job, row numbers `rows[i]`, and queued like any other),
  // sets next_row to `to_row`, and when `to_row` is its row_count marks it finished at `now`.
  // false, with nothing stored, otherwise (another worker saved these rows first).
  virtual Result<bool> save_job_rows(ServiceId service, Uuid job, int from_row, int to_row,
                                     const std::vector<NotificationRecord>& notifications, const std::vector<int>& rows,
                                     Timestamp now) = 0;
  // Stops the service's job: a pending or in-progress job becomes cancelled (finished_at = now),
  // so no more of its rows are sent (save_job_rows then stores nothing; jobs_in_progress leaves
  // it out); the notifications already saved go on as any others. false: not the service's, or
  // already finished or cancelled.
  virtual Result<bool> cancel_job(ServiceId service, Uuid id, Timestamp now) = 0;
  // The job's notifications counted by status (none: empty), from an index on the job.
  virtual Result<StatusCounts> job_status_counts(ServiceId service, Uuid job) = 0;
};

// Data-subject requests (GDPR): what is held about one person in one service, found through
// blind indexes (never by opening every row), and its erasure. Finds leave out another service's
// rows, erased or redacted ones, and ones whose data key is gone; personal fields come opened.
class SubjectStore {
 public:
  virtual ~SubjectStore() = default;

  // Messages whose NHS number is `nhs_number` (10 digits), oldest first (created_at, then id).
  // Indexed at insert (insert_nhs_message, insert_nhs_batch) as blind_index(service id +
  // "/nhs-number", number); messages stored before the index existed are indexed when the store
  // opens.
  virtual Result<std::vector<NhsMessageRecord>> find_nhs_messages_by_nhs_number(ServiceId service,
                                                                                std::string_view nhs_number) = 0;
  // The service's messages with these ids, in the order given (absent ones left out).
  virtual Result<std::vector<NhsMessageRecord>> find_nhs_messages_by_id(ServiceId service,
                                                                        const std::vector<std::string>& ids) = 0;
  // The notifications that carry these messages' channels (NotificationRecord::nhs_message_id),
  // oldest first.
  virtual Result<std::vector<NotificationRecord>> notifications_for_nhs_messages(
      ServiceId service, const std::vector<std::string>& message_ids) = 0;
  // Received texts from this number (InboundSms::user_number_normalised, indexed at insert;
  // texts stored before the index existed are not found), newest first.
  virtual Result<std::vector<InboundSms>> find_inbound_sms_by_number(ServiceId service,
                                                                     std::string_view number_normalised) = 0;
  // Guest list entries for this recipient (as on_guest_list compares), oldest first.
  virtual Result<std::vector<GuestListEntry>> find_guest_list_entries(ServiceId service,
                                                                      std::string_view recipient_normalised) = 0;
  // Unsubscribe requests from this address (UnsubscribeRequest::email_normalised, indexed as a
  // notification's recipient is), oldest first, with what unsubscribe_requests reads back.
  virtual Result<std::vector<UnsubscribeRequest>> find_unsubscribe_requests(ServiceId service,
                                                                            std::string_view email_normalised) = 0;
  // Erases all of it in one transaction (records.h SubjectErasure says what each part does).
  virtual Result<ErasureOutcome> erase_subject(const SubjectErasure& erasure) = 0;
};

// Hosted unsubscribe (domain/unsubscribe.h): requests made through the links, and the reports a
// service downloads them in.
class UnsubscribeStore {
 public:
  virtual ~UnsubscribeStore() = default;

  // Records a request (its id, email, email_normalised and created_at) to unsubscribe the
  // recipient of `request.notification`, taking the service, template and its version from the
  // notification (a redacted one too: the link outlives retention). nullopt (nothing stored): no
  // such email notification. false (nothing stored): the notification has a request already
  // that is in no report or in one not yet processed (a second click, a mail client's retry).
  virtual Result<std::optional<bool>> add_unsubscribe_request(const UnsubscribeRequest& request) = 0;
  // The service's requests in no report yet, as one report with a nil id (left out when there
  // are none), then its reports, newest first (created_at, then id).
  virtual Result<std::vector<UnsubscribeReport>> unsubscribe_reports(ServiceId service) = 0;
  // Puts every request of the service that is in no report into a new report `id` made at `now`
  // (count, earliest and latest from them), in one transaction; nullopt when there were none.
  virtual Result<std::optional<UnsubscribeReport>> create_unsubscribe_report(ServiceId service, Uuid id,
                                                                             Timestamp now) = 0;
  // The requests of a report of the service (nil id: those in no report), oldest first, their
  // addresses opened, with the template's name (of the request's version), the notification's
  // creation time and the job's file name (when the email came from a list whose file is kept).
  virtual Result<std::vector<UnsubscribeRequest>> unsubscribe_requests(ServiceId service, Uuid report) = 0;
  // Sets (or with nullopt clears) a report's processed_at; false when the service has no such report.
  virtual Result<bool> set_unsubscribe_report_processed(ServiceId service, Uuid report,
                                                        std::optional<Timestamp> at) = 0;
  // Deletes the requests (of every service) in reports created before `report_cutoff`, and
  // those in no report created before `pending_cutoff`; reports stay, with their counts.
  // Returns how many requests were deleted.
  virtual Result<std::int64_t> delete_old_unsubscribe_requests(Timestamp report_cutoff, Timestamp pending_cutoff) = 0;
};

// What operating Herald reads and marks (herald serve's /metrics and /health/ready, the backup
// commands): how much waits, and since when; and named marks of when something last happened,
// shared by every node of the store.
struct ChannelQueue {
  // Notifications Herald has yet to hand over: status created or sending with due_at set (queued,
  // claimed and in flight, or due again after a failed attempt). Not counted: one to a simulated
  // recipient (never queued: created without due_at until retention fails it), and one handed
  // over that awaits its provider's receipt (awaiting_receipt).
  std::int64_t waiting = 0;
  // Of the waiting, those with attempts > 0: an attempt was started (claim_due counts it), so a
  // first attempt in flight is counted as well as one due again after a failure.
  std::int64_t retrying = 0;
  std::optional<Timestamp> oldest;    // the earliest created_at among the waiting
  std::int64_t awaiting_receipt = 0;  // status sending, due_at unset: with the provider
};
struct QueueFigures {
  std::array<ChannelQueue, std::size(kAllChannels)> channels;  // indexed by store::Channel
  // GOV.UK callbacks (delivery statuses of notifications and received texts together): due
  // (callback_due_at set), the earliest callback_due_at, and on the dead list (callback_dead_at set).
  std::int64_t callbacks_due = 0;
  std::optional<Timestamp> oldest_callback_due;
  std::int64_t callbacks_dead = 0;
  // NHS Notify's callbacks: state 'pending' (and the earliest created_at among them), and 'dead'.
  std::int64_t nhs_callbacks_pending = 0;
  std::optional<Timestamp> oldest_nhs_callback;
  std::int64_t nhs_callbacks_dead = 0;
  // NHS Notify messages with a next step due (next_step_at set), and the earliest next_step_at.
  std::int64_t nhs_messages_waiting = 0;
  std::optional<Timestamp> oldest_nhs_message_step;
};
class OperationsStore {
 public:
  virtual ~OperationsStore() = default;
  // The figures above, read in one consistent snapshot; each is an indexed count/min (a scrape
  // every 15 s must stay cheap with millions of past notifications).
  virtual Result<QueueFigures> queue_figures() = 0;
  // Sets the mark `name` (1..200 bytes of UTF-8 without NUL, as store/schema.h's check_mark_name
  // checks; kInvalidArgument otherwise) to `at`, inserting or replacing it (the later call wins,
  // whatever its time), committed as every write is (so a successful call also proves the store
  // takes writes: readiness). Names in use: "backup.created", "backup.verified",
  // "backup.restore_drill", "heartbeat:<node>", the intrusion detectors' baselines.
  virtual Result<void> set_mark(std::string_view name, Timestamp at) = 0;
  // The marks whose names start with `prefix` (every mark when empty), by name, both compared
  // bytewise (a prefix's '%' or '_' matches only itself). kInvalidArgument for a prefix that is not
  // UTF-8 without NUL.
  virtual Result<std::vector<std::pair<std::string, Timestamp>>> marks(std::string_view prefix) = 0;
};

// Intrusion prevention's shared state: source addresses blocked for a while, so that every node
// of the store refuses a source one node caught; and the networks an API key may be used from.
struct SourceBlock {
  std::string source;  // an IP address as the listener reports it ("203.0.113.9", "2001:db8::1")
  Timestamp until;     // refused before this
  int strikes = 0;     // how many blocks in a row (each doubles the next one's length)
  std::string reason;  // the detector that struck last ("auth_failures", "enumeration", "manual")
  Timestamp updated_at;
};
class SourceBlockStore {
 public:
  virtual ~SourceBlockStore() = default;
  // One more strike for `source`, atomically (several nodes may strike at once; none is lost):
  // strikes = the row's strikes + 1, or 1 when there is no row or its block ended before
  // `forget_before`; until = max(the running block's until, now + min(base * 2^(strikes - 1),
  // cap)), so a later strike never shortens a block; reason, and updated_at = now. Returns the row
  // as saved. kInvalidArgument for a source or reason store/schema.h's check_block_source or
  // check_block_reason refuses (1 to 64 bytes of printable ASCII; of UTF-8 without NUL).
  virtual Result<SourceBlock> strike_source(std::string_view source, std::string_view reason, Timestamp now,
                                            Duration base, Duration cap, Timestamp forget_before) = 0;
  // The blocks running at `now` (until > now), by source (bytewise).
  virtual Result<std::vector<SourceBlock>> running_blocks(Timestamp now) = 0;
  // Ends the source's block and forgets its strikes (deletes the row); false when there was none.
  // kInvalidArgument for a source strike_source would refuse.
  virtual Result<bool> unblock_source(std::string_view source) = 0;
  // Deletes the rows whose block ended before `before`; returns how many.
  virtual Result<std::int64_t> forget_blocks(Timestamp before) = 0;
};

class Store : public ServiceDirectory,
              public NotificationStore,
              public ReceivedTextStore,
              public CallbackQueue,
              public LimitCounters,
              public RetentionStore,
              public DocumentStore,
              public AuditStore,
              public NhsClientStore,
              public NhsCascadeStore,
              public RoutingPlanStore,
              public NhsCallbackStore,
              public AdminUserStore,
              public JobStore,
              public SubjectStore,
              public UnsubscribeStore,
              public OperationsStore,
              public SourceBlockStore {
 public:
  ~Store() override = default;

  // Writes a consistent copy of everything this store holds (one committed state, taken while
  // writes go on) to a new file at `path`: an SQLite database in Herald's schema, whichever the
  // backend (PostgreSQL's is written by store/transfer/postgres_to_sqlite.h). For `herald backup`.
  virtual Result<void> snapshot_to(const std::string& path) = 0;
};

}  // namespace herald::store
