#pragma once
// PgStore: the Store backend for several Herald nodes sharing one PostgreSQL database
// (`store.url = "postgresql://..."`). PostgreSQL brings replication and failover; Herald adds
// nothing of its own there. Same contract as SqliteStore (store/store.h): a write that
// returns has been committed with synchronous_commit as the server has it (on by default:
// flushed to the server's WAL), personal fields are sealed on the caller's thread before any
// byte leaves for the server, so neither the tables nor the WAL ever hold them in plaintext.
//
// Batching: new notifications and delivery outcomes go through a PgBatchWriter (pg_batch.h):
// every row queued at that moment becomes part of one multi-row statement, one commit, one
// round trip; several writer connections let one batch fill while another commits.
// Delivery claims use FOR UPDATE SKIP LOCKED, so workers on many nodes never claim the same
// notification, and a lease (due_at) that expires hands a dead node's claims to another.
// The audit chain is appended under a transaction-scoped advisory lock, so nodes never fork it.
// Thread-safe.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crypto/field_cipher.h"
#include "store/postgres/pg_connection.h"
#include "store/schema.h"
#include "store/store.h"

namespace herald::store::postgres {

struct PgConfig {
  std::string url;
  std::size_t connections = 4;  // for reads and low-rate writes
  std::size_t writers = 2;      // batch writers (one connection each)
  std::size_t max_batch = 1000;
  Duration commit_gather = std::chrono::microseconds(0);
  // True: the owner's connection, which applies pending migrations at open. False: a process
  // role's (store/postgres/roles.h), which may not change the schema: open only checks that
  // the schema is current.
  bool migrate = true;
};

class PgBatchWriter;

class PgStore final : public Store {
 public:
  static Result<std::unique_ptr<PgStore>> open(const PgConfig& config,
                                               std::shared_ptr<const crypto::FieldCipher> cipher, Timestamp now);
  ~PgStore() override;

  Result<void> create_service(const ServiceRecord& service) override;
  Result<std::optional<ServiceRecord>> find_service(ServiceId id) override;
  Result<std::optional<ServiceRecord>> find_service_by_name(const std::string& name) override;
  Result<void> create_api_key(const ApiKeyRecord& key) override;
  Result<std::vector<ApiKeyRecord>> api_keys_for_service(ServiceId service) override;
  Result<void> revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) override;
  Result<void> set_api_key_networks(ServiceId service, ApiKeyId key, const std::vector<std::string>& networks) override;
  Result<void> create_template(const TemplateRecord& record) override;
  Result<void> add_template_version(const TemplateRecord& record) override;
  Result<void> set_template_archived(ServiceId service, TemplateId id, bool archived) override;
  Result<std::optional<TemplateRecord>> find_template(ServiceId service, TemplateId id,
                                                      std::optional<int> version) override;
  Result<std::vector<TemplateRecord>> templates_for_service(ServiceId service) override;
  Result<std::vector<ServiceRecord>> list_services() override;
  Result<void> set_service_retention(ServiceId service, int days) override;
  Result<void> update_service(const ServiceRecord& service) override;
  Result<void> add_service_contact(const ServiceContact& contact) override;
  Result<void> update_service_contact(const ServiceContact& contact) override;
  Result<bool> remove_service_contact(ServiceId service, Uuid id) override;
  Result<std::vector<ServiceContact>> service_contacts(ServiceId service, ContactKind kind) override;
  Result<std::optional<NotificationRecord>> apply_receipt(const DeliveryReceipt& receipt) override;
  Result<void> set_service_callback(const ServiceCallback& callback) override;
  Result<std::optional<ServiceCallback>> find_service_callback(ServiceId service, CallbackKind kind) override;
  Result<bool> delete_service_callback(ServiceId service, CallbackKind kind) override;
  Result<std::vector<NotificationRecord>> claim_callbacks(int limit, Timestamp now, Duration lease) override;
  Result<void> finish_callback(NotificationId id, std::optional<Timestamp> retry_at) override;
  Result<void> put_letter_pdf(ServiceId service, NotificationId id, Timestamp created_at,
                              std::string_view pdf) override;
  Result<std::optional<std::string>> find_letter_pdf(ServiceId service, NotificationId id) override;
  Result<void> add_guest_list_entry(const GuestListEntry& entry) override;
  Result<bool> on_guest_list(ServiceId service, std::string_view recipient_normalised) override;
  Result<std::vector<GuestListEntry>> guest_list(ServiceId service) override;
  Result<bool> remove_guest_list_entry(ServiceId service, Uuid id) override;
  Result<void> insert_document(const DocumentRecord& document) override;
  Result<std::optional<DocumentRecord>> find_document(ServiceId service, Uuid id, Timestamp now) override;
  Result<int> count_document_failure(ServiceId service, Uuid id) override;
  Result<std::int64_t> delete_expired_documents(Timestamp now) override;
  Result<void> insert_inbound_sms(const InboundSms& sms) override;
  Result<std::vector<InboundSms>> list_inbound_sms(ServiceId service, std::optional<Uuid> older_than,
                                                   Timestamp not_before, int limit) override;
  Result<std::vector<InboundSms>> claim_inbound_callbacks(int limit, Timestamp now, Duration lease) override;
  Result<void> finish_inbound_callback(Uuid id, std::optional<Timestamp> retry_at) override;
  Result<void> kill_callback(NotificationId id, Timestamp now, std::string_view error) override;
  Result<void> kill_inbound_callback(Uuid id, Timestamp now, std::string_view error) override;
  Result<std::vector<DeadCallback>> dead_callbacks(ServiceId service, int limit) override;
  Result<bool> replay_callback(ServiceId service, CallbackKind kind, Uuid id, Timestamp now) override;
  Result<int> take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                          double capacity) override;
  Result<std::int64_t> reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) override;
  Result<void> insert_notification(const NotificationRecord& record) override;
  void insert_notification_async(const NotificationRecord& record, Completion done) override;
  Result<std::optional<NotificationRecord>> find_notification(ServiceId service, NotificationId id) override;
  Result<std::vector<NotificationRecord>> list_notifications(const NotificationQuery& query) override;
  Result<std::vector<DailyStatusCount>> daily_status_counts(ServiceId service, Timestamp from, Timestamp to) override;
  Result<std::vector<ProviderStats>> provider_stats(ServiceId service, Timestamp from, Timestamp to) override;
  Result<std::vector<NotificationRecord>> claim_due(int limit, Timestamp now, Duration lease) override;
  Result<void> record_outcome(const DeliveryOutcome& outcome) override;
  void record_outcome_async(DeliveryOutcome outcome, Completion done) override;
  Result<std::vector<NotificationRecord>> find_by_recipient(ServiceId service,
                                                            std::string_view recipient_normalised) override;
  Result<RetentionOutcome> redact_before(ServiceId service, Timestamp cutoff, Timestamp now) override;
  Result<bool> holds_personal_data(ServiceId service, Timestamp from, Timestamp to) override;
  Result<std::optional<StillSealed>> next_sealed_notification(ServiceId service, Timestamp from) override;
  // A backup of a PostgreSQL store is an SQLite file in Herald's schema, which this backend
  // does not write: snapshot_to() hands the path to the writer set here (cli/ sets
  // store/transfer/postgres_to_sqlite.h's; set once, before the store is shared), and fails
  // without one.
  using SnapshotWriter = std::function<Result<void>(PgStore& source, const std::string& path)>;
  void set_snapshot_writer(SnapshotWriter writer) { snapshot_writer_ = std::move(writer); }
  Result<void> snapshot_to(const std::string& path) override;
  // One committed state of `tables`, read while other nodes keep writing (a REPEATABLE READ,
  // read-only transaction on one connection): for each table in turn, its rows in batches of at
  // most 1000, the columns in the order given, as PostgreSQL types them (PgResult::type).
  // `visit` runs while the transaction holds one of this store's connections.
  using SnapshotVisitor = std::function<Result<void>(const TableColumns& table, const PgResult& rows)>;
  Result<void> read_snapshot(const std::vector<TableColumns>& tables, const SnapshotVisitor& visit);
  Result<std::vector<crypto::AuditEntry>> append_audit(std::vector<crypto::AuditEntry> entries) override;
  // NhsClientStore.
  Result<void> create_nhs_client(const NhsClientRecord& client) override;
  Result<void> update_nhs_client(const NhsClientRecord& client) override;
  Result<std::optional<NhsClientRecord>> find_nhs_client(Uuid id) override;
  Result<std::optional<NhsClientRecord>> find_nhs_client_by_key(std::string_view api_key_hash) override;
  Result<std::vector<NhsClientRecord>> list_nhs_clients() override;
  Result<bool> remember_assertion_id(Uuid client, std::string_view jti_hash, Timestamp expires_at,
                                     Timestamp now) override;
  Result<void> insert_access_token(const NhsAccessToken& token) override;
  Result<std::optional<NhsAccessToken>> find_access_token(std::string_view token_hash, Timestamp now) override;
  Result<bool> insert_nhs_message(const NhsMessageRecord& message, Timestamp reference_cutoff) override;
  Result<bool> insert_nhs_batch(const NhsBatchRecord& batch, const std::vector<NhsMessageRecord>& messages,
                                Timestamp reference_cutoff) override;
  Result<std::optional<NhsMessageRecord>> find_nhs_message(Uuid client, std::string_view id) override;
  // NhsCascadeStore.
  Result<std::vector<NhsMessageClaim>> claim_nhs_messages(int limit, Timestamp now, Duration lease) override;
  Result<bool> save_nhs_step(const NhsCascadeStep& step, Timestamp now) override;
  Result<bool> add_nhs_channel_event(const NhsChannelEvent& event) override;
  Result<void> put_demographics(const std::vector<DemographicsRow>& rows) override;
  Result<std::optional<DemographicsRow>> find_demographics(std::string_view nhs_number) override;
  // RoutingPlanStore.
  Result<bool> add_routing_plan(const RoutingPlanRecord& plan) override;
  Result<std::optional<RoutingPlanRecord>> find_routing_plan(Uuid id, std::optional<int> version) override;
  Result<std::vector<RoutingPlanRecord>> list_routing_plans(std::optional<Uuid> client) override;
  // NhsCallbackStore.
  Result<void> put_nhs_callback_target(const NhsCallbackTarget& target) override;
  Result<bool> delete_nhs_callback_target(Uuid id) override;
  Result<std::vector<NhsCallbackTarget>> nhs_callback_targets(std::optional<Uuid> client) override;
  Result<std::vector<NhsCallbackRecord>> claim_nhs_callbacks(int limit, Timestamp now, Duration lease) override;
  Result<void> finish_nhs_callback(const NhsCallbackAttempt& attempt) override;
  Result<std::vector<NhsCallbackRecord>> dead_nhs_callbacks(std::optional<Uuid> client, int limit) override;
  Result<bool> replay_nhs_callback(std::int64_t id, Timestamp now) override;
  // AdminUserStore.
  Result<void> create_admin_user(const AdminUserRecord& user) override;
  Result<void> update_admin_user(const AdminUserRecord& user) override;
  Result<std::optional<AdminUserRecord>> find_admin_user(Uuid id) override;
  Result<std::optional<AdminUserRecord>> find_admin_user_by_email(std::string_view email) override;
  Result<std::vector<AdminUserRecord>> list_admin_users() override;
  Result<bool> use_totp_step(Uuid user, std::int64_t step) override;
  Result<int> count_sign_in_failure(Uuid user) override;
  Result<void> set_sign_in_lock(Uuid user, std::optional<Timestamp> locked_until, bool reset_failures) override;
  Result<void> set_admin_password_hash(Uuid user, std::string_view password_hash) override;
  Result<void> put_admin_membership(const AdminMembership& membership) override;
  Result<bool> delete_admin_membership(Uuid user, ServiceId service) override;
  Result<std::vector<AdminMembership>> admin_memberships(std::optional<Uuid> user,
                                                         std::optional<ServiceId> service) override;
  Result<void> add_admin_enrolment(const AdminEnrolment& enrolment) override;
  Result<std::optional<AdminEnrolment>> find_admin_enrolment(std::string_view token_hash, Timestamp now) override;
  Result<bool> take_admin_enrolment(std::string_view token_hash, Timestamp now) override;
  Result<void> set_recovery_codes(Uuid user, const std::vector<std::string>& code_hashes) override;
  Result<bool> use_recovery_code(Uuid user, std::string_view code_hash) override;
  Result<int> recovery_codes_left(Uuid user) override;
  Result<void> create_admin_session(const AdminSessionRecord& session) override;
  Result<std::optional<AdminSessionRecord>> find_admin_session(std::string_view token_hash) override;
  Result<bool> update_admin_session(const AdminSessionRecord& session) override;
  Result<bool> delete_admin_session(std::string_view token_hash) override;
  Result<int> delete_admin_sessions(Uuid user) override;
  Result<int> delete_expired_admin_sessions(Timestamp idle_cutoff, Timestamp absolute_cutoff) override;
  Result<void> add_webauthn_credential(const WebAuthnCredential& credential) override;
  Result<std::vector<WebAuthnCredential>> webauthn_credentials(Uuid user) override;
  Result<std::optional<WebAuthnCredential>> find_webauthn_credential(std::string_view credential_id) override;
  Result<bool> use_webauthn_credential(std::string_view credential_id, std::int64_t sign_count, Timestamp at) override;
  Result<bool> delete_webauthn_credential(Uuid user, std::string_view credential_id) override;
  // JobStore.
  Result<void> create_job(const JobRecord& job) override;
  Result<std::optional<JobRecord>> find_job(ServiceId service, Uuid id) override;
  Result<std::vector<JobRecord>> jobs_for_service(ServiceId service, int limit) override;
  Result<bool> start_job(ServiceId service, Uuid id, Timestamp now) override;
  Result<bool> cancel_job(ServiceId service, Uuid id, Timestamp now) override;
  Result<std::vector<JobRecord>> jobs_in_progress(int limit) override;
  Result<bool> save_job_rows(ServiceId service, Uuid job, int from_row, int to_row,
                             const std::vector<NotificationRecord>& notifications, const std::vector<int>& rows,
                             Timestamp now) override;
  Result<StatusCounts> job_status_counts(ServiceId service, Uuid job) override;
  // SubjectStore.
  Result<std::vector<NhsMessageRecord>> find_nhs_messages_by_nhs_number(ServiceId service,
                                                                        std::string_view nhs_number) override;
  Result<std::vector<NhsMessageRecord>> find_nhs_messages_by_id(ServiceId service,
                                                                const std::vector<std::string>& ids) override;
  Result<std::vector<NotificationRecord>> notifications_for_nhs_messages(
      ServiceId service, const std::vector<std::string>& message_ids) override;
  Result<std::vector<InboundSms>> find_inbound_sms_by_number(ServiceId service,
                                                             std::string_view number_normalised) override;
  Result<std::vector<GuestListEntry>> find_guest_list_entries(ServiceId service,
                                                              std::string_view recipient_normalised) override;
  Result<std::vector<UnsubscribeRequest>> find_unsubscribe_requests(ServiceId service,
                                                                    std::string_view email_normalised) override;
  Result<ErasureOutcome> erase_subject(const SubjectErasure& erasure) override;
  // UnsubscribeStore.
  Result<std::optional<bool>> add_unsubscribe_request(const UnsubscribeRequest& request) override;
  Result<std::vector<UnsubscribeReport>> unsubscribe_reports(ServiceId service) override;
  Result<std::optional<UnsubscribeReport>> create_unsubscribe_report(ServiceId service, Uuid id,
                                                                     Timestamp now) override;
  Result<std::vector<UnsubscribeRequest>> unsubscribe_requests(ServiceId service, Uuid report) override;
  Result<bool> set_unsubscribe_report_processed(ServiceId service, Uuid report, std::optional<Timestamp> at) override;
  Result<std::int64_t> delete_old_unsubscribe_requests(Timestamp report_cutoff, Timestamp pending_cutoff) override;
  // OperationsStore.
  Result<QueueFigures> queue_figures() override;
  Result<void> set_mark(std::string_view name, Timestamp at) override;
  Result<std::vector<std::pair<std::string, Timestamp>>> marks(std::string_view prefix) override;
  // SourceBlockStore.
  Result<SourceBlock> strike_source(std::string_view source, std::string_view reason, Timestamp now, Duration base,
                                    Duration cap, Timestamp forget_before) override;
  Result<std::vector<SourceBlock>> running_blocks(Timestamp now) override;
  Result<bool> unblock_source(std::string_view source) override;
  Result<std::int64_t> forget_blocks(Timestamp before) override;
  Result<void> read_audit(std::int64_t after_seq, std::optional<Timestamp> since,
                          const std::function<Result<void>(const crypto::AuditEntry&)>& visit) override;

 private:
  PgStore(std::shared_ptr<const crypto::FieldCipher> cipher, std::unique_ptr<PgPool> pool,
          std::unique_ptr<PgBatchWriter> writer);
  template <typename T, typename F>
  Result<T> with_connection(F&& use) { return pool_->with<T>(std::forward<F>(use)); }
  Result<std::optional<ServiceRecord>> find_service_where(const char* where, std::string_view key);
  Result<std::vector<NotificationRecord>> read_notifications(const PgResult& rows,
                                                             std::vector<std::string>* unreadable) const;

  std::shared_ptr<const crypto::FieldCipher> cipher_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgBatchWriter> writer_;
  SnapshotWriter snapshot_writer_;
};

}  // namespace herald::store::postgres
