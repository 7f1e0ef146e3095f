#pragma once
// The stored form of a notification, shared by every Store backend: ids as text, times as
// microseconds since the epoch, personal fields as sealed envelopes (docs/formats/ciphertext.md)
// bound to ("notifications", column, id). Both backends seal and open through these two
// functions, so their ciphertexts and blind indexes are byte-identical (and `herald
// migrate-store` can copy rows between them without re-encrypting).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "crypto/field_cipher.h"
#include "store/records.h"

namespace herald::store {

struct SealedNotification {
  std::string id, service, api_key, key_type, template_id, type, status;
  std::int64_t template_version = 1;
  std::optional<std::string> reference;                   // envelope (column reference_sealed)
  std::optional<std::string> reference_index;             // blind index of the reference
  std::string recipient, personalisation, subject, body;  // envelopes
  std::optional<std::string> unsubscribe;                  // envelope
  std::optional<std::string> recipient_index;              // blind index (HMAC), never plaintext
  std::int64_t created_at = 0;
  std::optional<std::int64_t> sent_at, updated_at, due_at;
  std::int64_t attempts = 0;
  std::optional<std::string> sender, sent_by, postage;
  std::int64_t billable_units = 0, rate_multiplier = 1;
  std::int64_t callback_attempts = 0;
};

// The blind index a `reference` filter matches (column reference_index): keyed like the
// recipient index but in a domain of its own, so that a reference equal to a recipient does not
// give an equal index.
Result<std::string> reference_index(const crypto::FieldCipher& cipher, ServiceId service, std::string_view reference,
                                    Timestamp now);

// A reference stored in plain text by an earlier release, sealed now under the key of the row's
// recipient envelope (the row's own data key: no key is made). nullopt when that key was
// destroyed (the row's data is gone): the reference is then dropped.
struct SealedReference {
  std::string envelope, index;
};
Result<std::optional<SealedReference>> seal_legacy_reference(const crypto::FieldCipher& cipher, std::string_view id,
                                                             std::string_view service, std::string_view reference,
                                                             std::string_view recipient_envelope, Timestamp now);

// Seals the personal fields under the service's data key for the notification's day.
Result<SealedNotification> seal_notification(const crypto::FieldCipher& cipher, const NotificationRecord& record);
// Opens a stored row. kDataLoss for malformed ids or a ciphertext that fails to authenticate;
// kNotFound when the row's data key was destroyed (the data is gone, as after retention).
Result<NotificationRecord> open_notification(const crypto::FieldCipher& cipher, const SealedNotification& row);

// A received text's stored form: user_number and content sealed under the service's data key for
// its day, bound to ("inbound_sms", column, id).
struct SealedInboundSms {
  std::string id, service, notify_number, provider;
  std::string user_number, content;  // envelopes
  // Blind index of user_number_normalised, keyed as a notification's recipient index (the service
  // id's domain); written at insert, never read back into a record.
  std::optional<std::string> user_number_index;
  std::optional<std::string> provider_reference;
  std::int64_t received_at = 0, created_at = 0, callback_attempts = 0;
};
Result<SealedInboundSms> seal_inbound_sms(const crypto::FieldCipher& cipher, const InboundSms& sms);
Result<InboundSms> open_inbound_sms(const crypto::FieldCipher& cipher, const SealedInboundSms& row);

// A letter's PDF, sealed under the notification's data key (the day's key of its service), bound
// to ("letter_pdfs", "pdf", notification id).
Result<std::string> seal_letter_pdf(const crypto::FieldCipher& cipher, ServiceId service, NotificationId id,
                                     Timestamp created_at, std::string_view pdf);
// nullopt when the data key was destroyed (retention).
Result<std::optional<std::string>> open_letter_pdf(const crypto::FieldCipher& cipher, std::string_view envelope,
                                                   NotificationId id);

// An API key's secret, sealed under the long-lived "secrets" data key, bound to ("api_keys",
// "secret", key id).
Result<std::string> seal_api_key_secret(const crypto::FieldCipher& cipher, const ApiKeyRecord& key);
Result<std::string> open_api_key_secret(const crypto::FieldCipher& cipher, std::string_view envelope,
                                        std::string_view key_id);

// A service callback's bearer token (column "bearer_token") and URL (column "url": it may carry
// secrets of its own), sealed like API key secrets under the "secrets" key, bound to
// ("service_callbacks", column, "<service id>/<kind>").
Result<std::string> seal_callback_field(const crypto::FieldCipher& cipher, ServiceId service, CallbackKind kind,
                                        std::string_view column, std::string_view value, Timestamp now);
Result<std::string> open_callback_field(const crypto::FieldCipher& cipher, ServiceId service, CallbackKind kind,
                                        std::string_view column, std::string_view envelope);

// A file sent by email as stored: content and filename sealed under the data key of the service
// and the document's expiry day (crypto::document_scope), bound to ("documents", column, id).
struct SealedDocument {
  std::string id, service, mime_type;
  std::string content;                  // envelope
  std::optional<std::string> filename;  // envelope
  std::string key_hash;
  std::optional<std::string> confirm_email_hash;
  std::int64_t created_at = 0, expires_at = 0, failed_confirmations = 0;
};
Result<SealedDocument> seal_document(const crypto::FieldCipher& cipher, const DocumentRecord& document);
// kNotFound when the day's data key was destroyed (the document is gone).
Result<DocumentRecord> open_document(const crypto::FieldCipher& cipher, const SealedDocument& row);

// An NHS Notify message as stored: its personal fields sealed under the service's data key for
// its day, bound to ("nhs_messages", column, id); the reference also as a blind index in the
// client's own domain (idempotency is per client).
struct SealedNhsMessage {
  std::string id, client, service;
  std::optional<std::string> batch_id;
  std::string reference;  // envelope
  std::optional<std::string> reference_index;
  std::optional<std::string> billing_reference;  // envelope
  std::string routing_plan_id, routing_plan_version;
  std::optional<std::string> nhs_number;  // envelope
  // Blind index of the NHS number (nhs_number_index below): written by inserts only, and not one
  // of kNhsMessageColumns (the steps never change it).
  std::optional<std::string> nhs_number_index;
  std::optional<std::string> ods_code;
  std::string personalisation;                 // envelope
  std::optional<std::string> contact_details;  // envelope
  std::string status;
  std::optional<std::string> status_description, failure_reason_code;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> enriched_at, delivered_at, failed_at;
  std::string channels = "[]";           // JSON (encode_nhs_channels): no personal data
  std::optional<std::string> recipient;  // envelope
  std::optional<std::string> demographics_version;
  std::optional<std::int64_t> next_step_at;
};
// A message's channels as stored: a JSON array, times in microseconds.
std::string encode_nhs_channels(const std::vector<NhsChannelRecord>& channels);
Result<std::vector<NhsChannelRecord>> decode_nhs_channels(std::string_view text);
Result<std::string> nhs_reference_index(const crypto::FieldCipher& cipher, Uuid client, std::string_view reference,
                                        Timestamp now);
// The blind index a message's NHS number is found by (SubjectStore::find_nhs_messages_by_nhs_number):
// in the service's own domain for NHS numbers, so that it matches neither another service's nor a
// recipient index.
Result<std::string> nhs_number_index(const crypto::FieldCipher& cipher, ServiceId service, std::string_view nhs_number,
                                     Timestamp now);
// The index of an NHS number a message stored before schema 23 holds only sealed (`envelope`,
// column nhs_number of row `id`): opened and indexed now. nullopt when the row's data key was
// destroyed (the number is gone: nothing to index).
Result<std::optional<std::string>> index_sealed_nhs_number(const crypto::FieldCipher& cipher, std::string_view id,
                                                           std::string_view service, std::string_view envelope,
                                                           Timestamp now);
Result<SealedNhsMessage> seal_nhs_message(const crypto::FieldCipher& cipher, const NhsMessageRecord& message);
// kNotFound when the day's data key was destroyed (the message's data is gone).
Result<NhsMessageRecord> open_nhs_message(const crypto::FieldCipher& cipher, const SealedNhsMessage& row);

// A batch as stored: its reference sealed like a message's, bound to ("nhs_message_batches",
// "reference", id), and blind-indexed in the client's domain for batches.
struct SealedNhsBatch {
  std::string id, client, service, reference, reference_index, routing_plan_id, routing_plan_version;
  std::int64_t created_at = 0;
};
Result<SealedNhsBatch> seal_nhs_batch(const crypto::FieldCipher& cipher, const NhsBatchRecord& batch);

// A demographics record as stored: the NHS number as a blind index, the record sealed under the
// "demographics" data key, bound to ("demographics", "record", hex of the index).
struct SealedDemographics {
  std::string nhs_number_index;
  std::string record;  // envelope
  std::int64_t updated_at = 0;
};
Result<std::string> demographics_index(const crypto::FieldCipher& cipher, std::string_view nhs_number, Timestamp now);
Result<SealedDemographics> seal_demographics(const crypto::FieldCipher& cipher, const DemographicsRow& row);
// `nhs_number` is the one looked up (the row holds only its index).
Result<DemographicsRow> open_demographics(const crypto::FieldCipher& cipher, const SealedDemographics& row,
                                          std::string_view nhs_number);

// An NHS Notify callback target as stored. Its API key is a credential, not personal data: it
// lives as long as the target and must outlive any day's data, so it is sealed like a service
// callback's bearer token, under the long-lived "secrets" key, bound to ("nhs_callback_targets",
// "api_key", target id). The statuses are JSON arrays of strings.
struct SealedNhsCallbackTarget {
  std::string id, client, kind, url, statuses, supplier_statuses, api_key_header;
  std::string api_key;  // envelope
  std::optional<std::string> client_certificate_file, client_key_file, pinned_key_sha256;
  std::int64_t rate_per_second = 0, retry_window_seconds = 0, created_at = 0;
};
Result<SealedNhsCallbackTarget> seal_nhs_callback_target(const crypto::FieldCipher& cipher,
                                                         const NhsCallbackTarget& target);
Result<NhsCallbackTarget> open_nhs_callback_target(const crypto::FieldCipher& cipher,
                                                   const SealedNhsCallbackTarget& row);

// An NHS Notify callback as stored. Its body names the message's reference (personal): sealed
// under the service's data key for the day of created_at, like the message's own personal
// fields, so retention shreds it with them. The row's id is assigned by the database on insert,
// after sealing, and (target, message, created_at) need not be unique (one step may tell one
// channel target of two channels at once), so the envelope is bound to ("nhs_callbacks", "body",
// seal_id): a random id (a version 4 UUID) made when the body is sealed and stored beside it.
struct SealedNhsCallback {
  std::int64_t id = 0;  // 0 until stored
  std::string target, client, service, message_id, seal_id;
  std::string body;  // envelope
  std::string state;
  std::int64_t attempts = 0, created_at = 0, next_attempt_at = 0;
  std::optional<std::int64_t> first_attempt_at;
  std::optional<std::string> last_error;
};
Result<SealedNhsCallback> seal_nhs_callback(const crypto::FieldCipher& cipher, const NhsCallbackRecord& callback);
// kNotFound when the day's data key was destroyed (the callback's data is gone).
Result<NhsCallbackRecord> open_nhs_callback(const crypto::FieldCipher& cipher, const SealedNhsCallback& row);
const char* nhs_callback_state_name(NhsCallbackState state);  // "pending", "dead"

// An admin UI user as stored. Email and name are personal and the TOTP secret is a credential:
// all three live as long as the user, so they are sealed under the long-lived "secrets" key,
// bound to ("admin_users", column, user id). The email is found by its blind index in the domain
// "admin-users" (unique: one user per address). No TOTP secret (not enrolled) is stored as NULL.
struct SealedAdminUser {
  std::string id;
  std::string email;  // envelope
  std::string email_index;
  std::string name;  // envelope
  std::int64_t platform_admin = 0;
  std::string password_hash;
  std::optional<std::string> totp_secret;  // envelope
  std::int64_t totp_last_step = 0, failed_sign_ins = 0;
  std::optional<std::int64_t> locked_until, enrolled_at, disabled_at;
  std::int64_t created_at = 0;
};
// The blind index of a (normalised) admin user's email.
Result<std::string> admin_email_index(const crypto::FieldCipher& cipher, std::string_view email, Timestamp now);
Result<SealedAdminUser> seal_admin_user(const crypto::FieldCipher& cipher, const AdminUserRecord& user);
Result<AdminUserRecord> open_admin_user(const crypto::FieldCipher& cipher, const SealedAdminUser& row);

// A job (sending to a list) as stored: the uploaded file's name and contents are personal (the
// recipients and their personalisation), sealed like a notification's fields under the service's
// data key for the day of created_at, bound to ("jobs", column, id). NULL once retention has
// emptied them; contents also when a listing did not read them.
struct SealedJob {
  std::string id, service, template_id, type, status, created_by;
  std::int64_t template_version = 1, row_count = 0, next_row = 0;
  std::optional<std::string> file_name, contents;  // envelopes
  std::int64_t created_at = 0;
  std::optional<std::int64_t> started_at, finished_at;
};
Result<SealedJob> seal_job(const crypto::FieldCipher& cipher, const JobRecord& job);
// A job's contents replaced after it was created (SubjectStore::erase_subject): sealed exactly as
// seal_job seals them (the key of the service's day of `created_at`, bound to ("jobs", "contents", id)).
Result<std::string> seal_job_contents(const crypto::FieldCipher& cipher, ServiceId service, Uuid id,
                                      Timestamp created_at, std::string_view contents);
// What an erasure stores instead of a job's contents `envelope`: `replacement` sealed by
// seal_job_contents, or nullopt when nothing would change (the contents are the replacement
// already, or their data key is gone: the file is gone with it).
Result<std::optional<std::string>> reseal_job_contents(const crypto::FieldCipher& cipher, ServiceId service, Uuid id,
                                                       Timestamp created_at, std::string_view envelope,
                                                       std::string_view replacement);
// Absent envelopes open as empty strings. kNotFound when the day's data key was destroyed (the
// job's file is gone).
Result<JobRecord> open_job(const crypto::FieldCipher& cipher, const SealedJob& row);

// An unsubscribe request as stored: the address sealed under the long-lived "secrets" key, bound
// to ("unsubscribe_requests", "email", id), and indexed as a notification's recipient is (the
// service id's domain), when its normalised form is known. The service, template and version are
// the notification's (the store reads them in the request's transaction).
struct SealedUnsubscribeRequest {
  std::string id, service, notification, template_id;
  std::int64_t template_version = 1;
  std::string email;                       // envelope
  std::optional<std::string> email_index;  // written by inserts only, never read back
  std::int64_t created_at = 0;
  std::optional<std::string> report;
  // Read back with the request (kUnsubscribeRequestSelect), never stored with it: the template's
  // name, the notification's creation time, and its job's id and sealed file name (jobs' own
  // envelope: NULL once retention emptied it).
  std::optional<std::string> template_name;
  std::optional<std::int64_t> notification_created_at;
  std::optional<std::string> job_id, job_file_name;
};
// `request` sealed as a request to the notification's `service`, with the notification's
// template and version (the request's own service and template are not used).
Result<SealedUnsubscribeRequest> seal_unsubscribe_request(const crypto::FieldCipher& cipher,
                                                          const UnsubscribeRequest& request, ServiceId service,
                                                          TemplateId template_id, int template_version);
// The address opened; the job's file name too while its day's data key lives (nullopt after).
// email_normalised stays empty (the caller that searched by it sets it).
Result<UnsubscribeRequest> open_unsubscribe_request(const crypto::FieldCipher& cipher,
                                                    const SealedUnsubscribeRequest& row);

// The requests of `rows`, opened, oldest first as read; `email_normalised` (when a search found
// them by it) set on each.
Result<std::vector<UnsubscribeRequest>> open_unsubscribe_requests(const crypto::FieldCipher& cipher,
                                                                  const std::vector<SealedUnsubscribeRequest>& rows,
                                                                  std::string_view email_normalised = {});

// An unsubscribe report as both backends read it (nothing in it is sealed): no id for the
// requests in no report yet (UnsubscribeStore::unsubscribe_reports).
struct UnsubscribeReportRow {
  std::optional<std::string> id;
  std::int64_t count = 0, earliest = 0, latest = 0, created_at = 0;
  std::optional<std::int64_t> processed_at;
};
Result<UnsubscribeReport> read_unsubscribe_report(ServiceId service, const UnsubscribeReportRow& row);

// A dead service callback as both backends read it (store/schema.h, dead_callbacks_select;
// nothing in it is sealed).
struct DeadCallbackRow {
  std::string kind, id;  // kind: callback_kind_name
  std::int64_t attempts = 0, dead_at = 0;
  std::string error;
};
Result<DeadCallback> read_dead_callback(const DeadCallbackRow& row);

std::optional<Timestamp> optional_time(std::optional<std::int64_t> micros);
std::optional<std::int64_t> optional_micros(std::optional<Timestamp> t);
// An optional id as text and back (nullopt for text that is not an id).
std::optional<std::string> optional_id_text(const std::optional<Uuid>& id);
std::optional<Uuid> optional_id(const std::optional<std::string>& text);

// An audit entry's objects as stored: a JSON array of [name, value] pairs, in order.
std::string encode_audit_objects(const std::vector<std::pair<std::string, std::string>>& objects);
Result<std::vector<std::pair<std::string, std::string>>> decode_audit_objects(std::string_view text);

}  // namespace herald::store
