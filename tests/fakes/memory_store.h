#pragma once
// MemoryStore: an in-memory Store for domain and API tests. It passes the store contract suite
// (tests/store/store_contract_test.cc, parameter "memory") except what is about bytes on disk:
// no files, no SQL, no encryption. Thread-safe.

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "store/schema.h"
#include "store/store.h"

namespace herald::fakes {

class MemoryStore final : public store::Store {
 public:
  Result<void> create_service(const store::ServiceRecord& service) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, existing] : services_) {
      if (existing.name == service.name || id == service.id) return failed_precondition("service exists");
    }
    services_[service.id] = service;
    return ok();
  }
  Result<std::optional<store::ServiceRecord>> find_service(ServiceId id) override {
    std::lock_guard lock(mutex_);
    ++service_reads;
    auto it = services_.find(id);
    if (it == services_.end()) return std::optional<store::ServiceRecord>();
    return std::optional(it->second);
  }
  Result<std::optional<store::ServiceRecord>> find_service_by_name(const std::string& name) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, s] : services_) {
      if (s.name == name) return std::optional(s);
    }
    return std::optional<store::ServiceRecord>();
  }
  Result<void> create_api_key(const store::ApiKeyRecord& key) override {
    HERALD_TRY(store::check_networks(key.allowed_networks));
    std::lock_guard lock(mutex_);
    keys_.push_back(key);
    return ok();
  }
  Result<std::vector<store::ApiKeyRecord>> api_keys_for_service(ServiceId service) override {
    std::lock_guard lock(mutex_);
    std::vector<store::ApiKeyRecord> out;
    for (const auto& k : keys_) {
      if (k.service == service) out.push_back(k);
    }
    return out;
  }
  Result<void> create_template(const store::TemplateRecord& record) override {
    std::lock_guard lock(mutex_);
    templates_[record.id] = {record};
    return ok();
  }
  Result<void> add_template_version(const store::TemplateRecord& record) override {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(record.id);
    if (it == templates_.end() || it->second.front().service != record.service) return not_found("template");
    if (it->second.back().version != record.version - 1) return failed_precondition("template version");
    store::TemplateRecord next = record;
    next.archived = it->second.back().archived;
    it->second.push_back(next);
    return ok();
  }
  Result<void> set_template_archived(ServiceId service, TemplateId id, bool archived) override {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(id);
    if (it == templates_.end() || it->second.front().service != service) return not_found("template");
    for (auto& v : it->second) v.archived = archived;
    return ok();
  }
  Result<std::optional<store::TemplateRecord>> find_template(ServiceId service, TemplateId id,
                                                             std::optional<int> version) override {
    std::lock_guard lock(mutex_);
    ++template_reads;
    auto it = templates_.find(id);
    if (it == templates_.end() || it->second.front().service != service) return std::optional<store::TemplateRecord>();
    for (const auto& v : it->second) {
      if (version ? v.version == *version : v.version == it->second.back().version) return std::optional(with_times(it->second, v));
    }
    return std::optional<store::TemplateRecord>();
  }
  Result<std::vector<store::TemplateRecord>> templates_for_service(ServiceId service) override {
    std::lock_guard lock(mutex_);
    std::vector<store::TemplateRecord> out;
    for (const auto& [id, versions] : templates_) {
      if (versions.front().service == service && !versions.back().archived) out.push_back(with_times(versions, versions.back()));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }
  Result<void> insert_notification(const store::NotificationRecord& record) override {
    std::lock_guard lock(mutex_);
    notifications_[record.id] = {unlinked(record), record.queued ? std::optional(record.created_at) : std::nullopt,
                                 std::nullopt, false};
    return ok();
  }
  Result<std::optional<store::NotificationRecord>> find_notification(ServiceId service,
                                                                     NotificationId id) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(id);
    if (it == notifications_.end() || it->second.record.service != service || it->second.redacted) {
      return std::optional<store::NotificationRecord>();
    }
    return std::optional(it->second.record);
  }
  Result<std::vector<store::NotificationRecord>> list_notifications(const store::NotificationQuery& q) override {
    std::lock_guard lock(mutex_);
    const auto in = [](const auto& set, auto value) {
      return set.empty() || std::find(set.begin(), set.end(), value) != set.end();
    };
    std::optional<std::pair<Timestamp, std::string>> before;
    if (q.older_than) {
      auto it = notifications_.find(*q.older_than);
      if (it == notifications_.end() || it->second.record.service != q.service || it->second.redacted) return std::vector<store::NotificationRecord>();
      before.emplace(it->second.record.created_at, it->first.to_string());
    }
    std::vector<store::NotificationRecord> out;
    for (const auto& [id, row] : notifications_) {
      const auto& r = row.record;
      if (r.service != q.service || (!q.any_key_type && r.key_type != q.key_type) || row.redacted ||
          row.nhs_message_id || (row.job_id && !q.include_jobs) || !in(q.types, r.type) || !in(q.statuses, r.status) ||
          (q.reference && r.reference != q.reference) || (q.created_from && r.created_at < *q.created_from) ||
          (q.created_before && r.created_at >= *q.created_before) ||
          (before && std::make_pair(r.created_at, id.to_string()) >= *before)) {
        continue;
      }
      out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
    });
    if (out.size() > static_cast<std::size_t>(q.limit)) out.resize(static_cast<std::size_t>(q.limit));
    return out;
  }
  Result<std::vector<store::DailyStatusCount>> daily_status_counts(ServiceId service, Timestamp from,
                                                                   Timestamp to) override {
    std::lock_guard lock(mutex_);
    // Keyed as the backends order: day, then the channel's and status's stored names. The day is
    // the backends' integer division of created_at's micros.
    std::map<std::tuple<std::int64_t, std::string, std::string>, store::DailyStatusCount> counts;
    for (const auto& [id, row] : notifications_) {
      const auto& r = row.record;
      if (r.service != service || r.created_at < from || r.created_at >= to) continue;
      const std::int64_t day = to_micros(r.created_at) / 86'400'000'000;
      auto& count = counts
                        .try_emplace({day, store::channel_name(r.type), store::status_name(r.status)},
                                     store::DailyStatusCount{day, r.type, r.status, 0})
                        .first->second;
      ++count.count;
    }
    std::vector<store::DailyStatusCount> out;
    for (const auto& [key, count] : counts) out.push_back(count);
    return out;
  }
  Result<std::vector<store::ProviderStats>> provider_stats(ServiceId service, Timestamp from, Timestamp to) override {
    std::lock_guard lock(mutex_);
    using S = store::NotificationStatus;
    struct Sums {
      store::ProviderStats stats;
      std::int64_t micros = 0;  // of the delivered ones with an updated_at, as the backends sum them
      std::int64_t timed = 0;
    };
    std::map<std::string, Sums> by_provider;
    for (const auto& [id, row] : notifications_) {
      const auto& r = row.record;
      if (r.service != service || r.created_at < from || r.created_at >= to || !r.sent_by) continue;
      Sums& sums = by_provider[*r.sent_by];
      sums.stats.provider = *r.sent_by;
      ++sums.stats.sent;
      if (r.status == S::kDelivered || r.status == S::kSent) {
        ++sums.stats.delivered;
        if (r.updated_at) {
          sums.micros += to_micros(*r.updated_at) - to_micros(r.created_at);
          ++sums.timed;
        }
      } else if (r.status == S::kPermanentFailure || r.status == S::kTemporaryFailure ||
                 r.status == S::kTechnicalFailure || r.status == S::kValidationFailed ||
                 r.status == S::kVirusScanFailed || r.status == S::kReturnedLetter) {
        ++sums.stats.failed;
      }
    }
    std::vector<store::ProviderStats> out;
    for (auto& [name, sums] : by_provider) {
      if (sums.timed > 0) {
        sums.stats.mean_seconds_to_delivered = static_cast<double>(sums.micros) / static_cast<double>(sums.timed) / 1e6;
      }
      out.push_back(sums.stats);
    }
    return out;
  }
  Result<std::vector<store::NotificationRecord>> claim_due(int limit, Timestamp now, Duration lease) override {
    std::lock_guard lock(mutex_);
    // The earliest due first, as the backends claim (ORDER BY due_at).
    std::vector<std::pair<Timestamp, Row*>> due;
    for (auto& [id, row] : notifications_) {
      using S = store::NotificationStatus;
      const bool open = row.record.status == S::kCreated || row.record.status == S::kSending;
      if (open && row.due_at && *row.due_at <= now && !row.redacted) due.emplace_back(*row.due_at, &row);
    }
    std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<store::NotificationRecord> out;
    for (auto& [at, row] : due) {
      if (static_cast<int>(out.size()) >= limit) break;
      row->record.status = store::NotificationStatus::kSending;
      ++row->record.attempts;
      row->due_at = now + lease;
      out.push_back(row->record);
    }
    return out;
  }
  Result<void> record_outcome(const store::DeliveryOutcome& outcome) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(outcome.id);
    if (it == notifications_.end()) return not_found("notification");
    it->second.record.status = outcome.status;
    it->second.record.updated_at = outcome.updated_at;
    if (outcome.sent_at) it->second.record.sent_at = outcome.sent_at;
    if (outcome.sent_by) it->second.record.sent_by = outcome.sent_by;
    if (outcome.callback && !it->second.nhs_message_id &&
        callbacks_.count({it->second.record.service, store::CallbackKind::kDeliveryStatus})) {
      it->second.callback_due_at = outcome.updated_at;
      it->second.callback_dead.reset();
    }
    it->second.due_at = outcome.next_attempt_at;
    wake_nhs_message(it->second, outcome.updated_at);
    return ok();
  }

  Result<void> revoke_api_key(ServiceId service, ApiKeyId key, Timestamp now) override {
    std::lock_guard lock(mutex_);
    for (auto& k : keys_) {
      if (k.id == key && k.service == service && !k.revoked_at) {
        k.revoked_at = now;
        return ok();
      }
    }
    return not_found("key");
  }
  Result<void> set_api_key_networks(ServiceId service, ApiKeyId key,
                                    const std::vector<std::string>& networks) override {
    HERALD_TRY(store::check_networks(networks));
    std::lock_guard lock(mutex_);
    for (auto& k : keys_) {
      if (k.id == key && k.service == service) {
        k.allowed_networks = networks;
        return ok();
      }
    }
    return not_found("key");
  }
  Result<std::vector<store::ServiceRecord>> list_services() override {
    std::lock_guard lock(mutex_);
    std::vector<store::ServiceRecord> out;
    for (const auto& [id, s] : services_) out.push_back(s);
    return out;
  }
  Result<void> set_service_retention(ServiceId service, int days) override {
    std::lock_guard lock(mutex_);
    auto it = services_.find(service);
    if (it == services_.end()) return not_found("service");
    it->second.retention_days = days;
    return ok();
  }
  Result<void> update_service(const store::ServiceRecord& service) override {
    std::lock_guard lock(mutex_);
    auto it = services_.find(service.id);
    if (it == services_.end()) return not_found("service");
    it->second.active = service.active;
    it->second.restricted = service.restricted;
    it->second.retention_days = service.retention_days;
    it->second.permissions = service.permissions;
    it->second.prefix_sms = service.prefix_sms;
    it->second.rate_limit = service.rate_limit;
    it->second.email_limit = service.email_limit;
    it->second.sms_limit = service.sms_limit;
    it->second.letter_limit = service.letter_limit;
    it->second.international_sms_limit = service.international_sms_limit;
    it->second.go_live_requested_at = service.go_live_requested_at;
    it->second.go_live_requested_by = service.go_live_requested_by;
    return ok();
  }
  Result<void> add_service_contact(const store::ServiceContact& contact) override {
    std::lock_guard lock(mutex_);
    if (contact.is_default) {
      for (auto& c : contacts_) {
        if (c.service == contact.service && c.kind == contact.kind) c.is_default = false;
      }
    }
    contacts_.push_back(contact);
    return ok();
  }
  Result<void> update_service_contact(const store::ServiceContact& contact) override {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(contacts_.begin(), contacts_.end(), [&](const auto& c) {
      return c.id == contact.id && c.service == contact.service && c.kind == contact.kind;
    });
    if (it == contacts_.end()) return not_found("contact");
    if (contact.is_default) {
      for (auto& c : contacts_) {
        if (c.service == contact.service && c.kind == contact.kind) c.is_default = false;
      }
    }
    it->value = contact.value;
    it->is_default = contact.is_default;
    return ok();
  }
  Result<bool> remove_service_contact(ServiceId service, Uuid id) override {
    std::lock_guard lock(mutex_);
    return std::erase_if(contacts_, [&](const auto& c) { return c.id == id && c.service == service; }) > 0;
  }
  Result<std::vector<store::ServiceContact>> service_contacts(ServiceId service, store::ContactKind kind) override {
    std::lock_guard lock(mutex_);
    std::vector<store::ServiceContact> out;
    for (const auto& c : contacts_) {
      if (c.service == service && c.kind == kind) out.push_back(c);
    }
    return out;
  }
  Result<std::optional<store::NotificationRecord>> apply_receipt(const store::DeliveryReceipt& receipt) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(receipt.id);
    if (it == notifications_.end() || it->second.redacted) return std::optional<store::NotificationRecord>();
    auto& r = it->second.record;
    const auto transition = std::find_if(receipt.transitions.begin(), receipt.transitions.end(),
                                         [&](const auto& t) { return t.first == r.status; });
    if (r.sent_by != receipt.provider || transition == receipt.transitions.end()) {
      return std::optional<store::NotificationRecord>();
    }
    r.status = transition->second;
    r.updated_at = receipt.received_at;
    if (receipt.callback && !it->second.nhs_message_id &&
        callbacks_.count({r.service, store::CallbackKind::kDeliveryStatus})) {
      it->second.callback_due_at = receipt.received_at;
      it->second.callback_dead.reset();
    }
    wake_nhs_message(it->second, receipt.received_at);
    return std::optional(r);
  }
  Result<void> set_service_callback(const store::ServiceCallback& callback) override {
    std::lock_guard lock(mutex_);
    callbacks_[{callback.service, callback.kind}] = callback;
    return ok();
  }
  Result<std::optional<store::ServiceCallback>> find_service_callback(ServiceId service, store::CallbackKind kind) override {
    std::lock_guard lock(mutex_);
    auto it = callbacks_.find({service, kind});
    if (it == callbacks_.end()) return std::optional<store::ServiceCallback>();
    return std::optional(it->second);
  }
  Result<bool> delete_service_callback(ServiceId service, store::CallbackKind kind) override {
    std::lock_guard lock(mutex_);
    return callbacks_.erase({service, kind}) > 0;
  }
  Result<std::vector<store::NotificationRecord>> claim_callbacks(int limit, Timestamp now, Duration lease) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NotificationRecord> out;
    for (auto& [id, row] : notifications_) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (!row.callback_due_at || *row.callback_due_at > now || row.redacted) continue;
      row.callback_due_at = now + lease;
      ++row.record.callback_attempts;
      out.push_back(row.record);
    }
    return out;
  }
  Result<void> finish_callback(NotificationId id, std::optional<Timestamp> retry_at) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(id);
    if (it == notifications_.end()) return not_found("notification");
    it->second.callback_due_at = retry_at;
    it->second.callback_dead.reset();
    return ok();
  }
  Result<void> kill_callback(NotificationId id, Timestamp now, std::string_view error) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(id);
    if (it == notifications_.end() || it->second.redacted) return ok();  // as the backends: nothing to do
    it->second.callback_due_at.reset();
    it->second.callback_dead = DeadCallback{now, std::string(error)};
    return ok();
  }
  Result<void> kill_inbound_callback(Uuid id, Timestamp now, std::string_view error) override {
    std::lock_guard lock(mutex_);
    for (auto& row : inbound_) {
      if (row.sms.id != id) continue;
      row.due.reset();
      row.dead = DeadCallback{now, std::string(error)};
    }
    return ok();
  }
  Result<std::vector<store::DeadCallback>> dead_callbacks(ServiceId service, int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<store::DeadCallback> out;
    for (const auto& [id, row] : notifications_) {
      if (row.record.service != service || !row.callback_dead) continue;
      out.push_back({store::CallbackKind::kDeliveryStatus, id.uuid, row.record.callback_attempts, row.callback_dead->at,
                     row.callback_dead->error});
    }
    for (const auto& row : inbound_) {
      if (row.sms.service != service || !row.dead) continue;
      out.push_back(
          {store::CallbackKind::kInboundSms, row.sms.id, row.sms.callback_attempts, row.dead->at, row.dead->error});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.dead_at != b.dead_at ? a.dead_at > b.dead_at : a.id < b.id;  // bytes: the text's order
    });
    if (out.size() > static_cast<std::size_t>(std::max(limit, 0))) out.resize(static_cast<std::size_t>(limit));
    return out;
  }
  Result<bool> replay_callback(ServiceId service, store::CallbackKind kind, Uuid id, Timestamp now) override {
    std::lock_guard lock(mutex_);
    if (kind == store::CallbackKind::kDeliveryStatus) {
      auto it = notifications_.find(NotificationId{id});
      if (it == notifications_.end() || it->second.record.service != service || !it->second.callback_dead) return false;
      it->second.callback_dead.reset();
      it->second.record.callback_attempts = 0;
      it->second.callback_due_at = now;
      return true;
    }
    for (auto& row : inbound_) {
      if (row.sms.id != id || row.sms.service != service || !row.dead) continue;
      row.dead.reset();
      row.sms.callback_attempts = 0;
      row.due = now;
      return true;
    }
    return false;
  }
  Result<void> put_letter_pdf(ServiceId service, NotificationId id, Timestamp created_at,
                              std::string_view pdf) override {
    std::lock_guard lock(mutex_);
    letter_pdfs_[id] = {service, created_at, std::string(pdf)};
    return ok();
  }
  Result<std::optional<std::string>> find_letter_pdf(ServiceId service, NotificationId id) override {
    std::lock_guard lock(mutex_);
    auto it = letter_pdfs_.find(id);
    if (it == letter_pdfs_.end() || it->second.service != service) return std::optional<std::string>{};
    return std::optional<std::string>(it->second.pdf);
  }
  Result<void> add_guest_list_entry(const store::GuestListEntry& entry) override {
    std::lock_guard lock(mutex_);
    guest_list_.push_back(entry);
    return ok();
  }
  // On the guest list, or (an email address) a team member: an admin user of that email with a
  // membership of the service, not disabled. Compared as given, as the backends compare blind
  // indexes.
  Result<bool> on_guest_list(ServiceId service, std::string_view recipient_normalised) override {
    std::lock_guard lock(mutex_);
    if (std::any_of(guest_list_.begin(), guest_list_.end(), [&](const auto& e) {
          return e.service == service && e.recipient_normalised == recipient_normalised;
        })) {
      return true;
    }
    if (recipient_normalised.find('@') == std::string_view::npos) return false;
    return std::any_of(admin_users_.begin(), admin_users_.end(), [&](const auto& entry) {
      const auto& [id, user] = entry;
      return user.email == recipient_normalised && !user.disabled_at && admin_memberships_.count({id, service}) != 0;
    });
  }
  // As the backends read them back: the normalised form is never stored (only its blind index).
  Result<std::vector<store::GuestListEntry>> guest_list(ServiceId service) override {
    std::lock_guard lock(mutex_);
    std::vector<store::GuestListEntry> out;
    for (const auto& entry : guest_list_) {
      if (entry.service != service) continue;
      out.push_back(entry);
      out.back().recipient_normalised.clear();
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
    });
    return out;
  }
  Result<bool> remove_guest_list_entry(ServiceId service, Uuid id) override {
    std::lock_guard lock(mutex_);
    return std::erase_if(guest_list_, [&](const auto& e) { return e.id == id && e.service == service; }) > 0;
  }
  Result<void> insert_document(const store::DocumentRecord& document) override {
    std::lock_guard lock(mutex_);
    documents_[document.id] = document;
    return ok();
  }
  Result<std::optional<store::DocumentRecord>> find_document(ServiceId service, Uuid id, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = documents_.find(id);
    if (it == documents_.end() || it->second.service != service || it->second.expires_at <= now) {
      return std::optional<store::DocumentRecord>();
    }
    return std::optional(it->second);
  }
  Result<int> count_document_failure(ServiceId service, Uuid id) override {
    std::lock_guard lock(mutex_);
    auto it = documents_.find(id);
    if (it == documents_.end() || it->second.service != service) return 0;
    return ++it->second.failed_confirmations;
  }
  Result<std::int64_t> delete_expired_documents(Timestamp now) override {
    std::lock_guard lock(mutex_);
    std::int64_t deleted = 0;
    for (auto it = documents_.begin(); it != documents_.end();) {
      if (it->second.expires_at <= now) {
        it = documents_.erase(it);
        ++deleted;
      } else {
        ++it;
      }
    }
    return deleted;
  }
  Result<void> insert_inbound_sms(const store::InboundSms& sms) override {
    std::lock_guard lock(mutex_);
    const bool told = callbacks_.count({sms.service, store::CallbackKind::kInboundSms}) > 0;
    store::InboundSms stored = sms;
    stored.user_number_normalised.clear();  // never stored: only its index
    if (!sms.user_number_normalised.empty()) inbound_numbers_[sms.id] = sms.user_number_normalised;
    inbound_.push_back({std::move(stored), told ? std::optional(sms.created_at) : std::nullopt, std::nullopt});
    return ok();
  }
  Result<std::vector<store::InboundSms>> list_inbound_sms(ServiceId service, std::optional<Uuid> older_than,
                                                          Timestamp not_before, int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<store::InboundSms> mine;
    for (const auto& row : inbound_) {
      if (row.sms.service == service && row.sms.created_at >= not_before) mine.push_back(row.sms);
    }
    std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
    });
    if (older_than) {
      auto it = std::find_if(mine.begin(), mine.end(), [&](const auto& s) { return s.id == *older_than; });
      if (it == mine.end()) return std::vector<store::InboundSms>();
      mine.erase(mine.begin(), it + 1);
    }
    if (mine.size() > static_cast<std::size_t>(limit)) mine.resize(static_cast<std::size_t>(limit));
    return mine;
  }
  Result<std::vector<store::InboundSms>> claim_inbound_callbacks(int limit, Timestamp now, Duration lease) override {
    std::lock_guard lock(mutex_);
    std::vector<store::InboundSms> out;
    for (auto& row : inbound_) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (!row.due || *row.due > now) continue;
      row.due = now + lease;
      ++row.sms.callback_attempts;
      out.push_back(row.sms);
    }
    return out;
  }
  Result<void> finish_inbound_callback(Uuid id, std::optional<Timestamp> retry_at) override {
    std::lock_guard lock(mutex_);
    for (auto& row : inbound_) {
      if (row.sms.id != id) continue;
      row.due = retry_at;
      row.dead.reset();
    }
    return ok();
  }
  Result<int> take_tokens(const std::string& bucket, int want, Timestamp now, double refill_per_second,
                          double capacity) override {
    if (limit_delay.count() > 0) std::this_thread::sleep_for(limit_delay);
    std::lock_guard lock(mutex_);
    ++limit_calls;
    auto it = buckets_.find(bucket);
    const double tokens = it == buckets_.end() ? capacity
                                               : store::refill(it->second.first, it->second.second, now, refill_per_second, capacity);
    const int granted = static_cast<int>(std::min<double>(want, std::floor(tokens)));
    buckets_[bucket] = {tokens - granted, now};
    return granted;
  }
  Result<std::int64_t> reserve_count(const std::string& counter, std::int64_t want, std::int64_t limit) override {
    if (limit_delay.count() > 0) std::this_thread::sleep_for(limit_delay);
    std::lock_guard lock(mutex_);
    ++limit_calls;
    std::int64_t& used = counts_[counter];
    const std::int64_t granted = std::clamp<std::int64_t>(limit - used, 0, want);
    used += granted;
    return granted;
  }
  Result<std::vector<store::NotificationRecord>> find_by_recipient(ServiceId service,
                                                                   std::string_view recipient_normalised) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NotificationRecord> out;
    for (const auto& [id, row] : notifications_) {
      if (row.record.service == service && !row.redacted && row.record.recipient_normalised == recipient_normalised) {
        out.push_back(linked(row));
      }
    }
    return out;
  }
  Result<store::RetentionOutcome> redact_before(ServiceId service, Timestamp cutoff, Timestamp now) override {
    std::lock_guard lock(mutex_);
    store::RetentionOutcome outcome;
    for (auto& [id, row] : notifications_) {
      if (row.record.service == service && row.record.created_at < cutoff) redact(row, now, outcome);
    }
    for (const auto& [id, message] : nhs_messages_) {
      if (message.service == service && message.created_at < cutoff) nhs_cascade_[id].unindexed = true;
    }
    std::erase_if(letter_pdfs_, [&](const auto& entry) {
      return entry.second.service == service && entry.second.created_at < cutoff;
    });
    std::erase_if(inbound_, [&](const auto& row) {
      const bool old = row.sms.service == service && row.sms.created_at < cutoff;
      if (old) inbound_numbers_.erase(row.sms.id);
      return old;
    });
    std::erase_if(nhs_callbacks_, [&](const auto& entry) {
      return entry.second.record.service == service && entry.second.record.created_at < cutoff;
    });
    for (auto& [id, job] : jobs_) {
      if (job.service != service || job.created_at >= cutoff) continue;
      job.file_name.clear();
      job.contents.clear();
    }
    return outcome;
  }
  Result<std::optional<store::StillSealed>> next_sealed_notification(ServiceId service, Timestamp from) override {
    std::lock_guard lock(mutex_);
    std::optional<store::StillSealed> first;
    for (const auto& [id, row] : notifications_) {
      if (row.record.service != service || row.redacted || row.record.created_at < from) continue;
      if (!first || row.record.created_at < first->created_at) first = store::StillSealed{id, row.record.created_at};
    }
    return first;
  }
  Result<bool> holds_personal_data(ServiceId service, Timestamp from, Timestamp to) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, row] : notifications_) {
      if (row.record.service == service && !row.redacted && row.record.created_at >= from && row.record.created_at < to) {
        return true;
      }
    }
    return false;
  }

  Result<void> snapshot_to(const std::string&) override { return internal_error("MemoryStore has no snapshots"); }
  Result<void> create_nhs_client(const store::NhsClientRecord& client) override {
    HERALD_TRY(store::check_networks(client.allowed_networks));
    std::lock_guard lock(mutex_);
    for (const auto& [id, c] : nhs_clients_) {
      if (id == client.id || c.api_key_hash == client.api_key_hash) {
        return Error{ErrorCode::kFailedPrecondition, "an NHS client has that id or API key"};
      }
    }
    nhs_clients_[client.id] = client;
    return ok();
  }
  Result<void> update_nhs_client(const store::NhsClientRecord& client) override {
    HERALD_TRY(store::check_networks(client.allowed_networks));
    std::lock_guard lock(mutex_);
    auto it = nhs_clients_.find(client.id);
    if (it == nhs_clients_.end()) return not_found("NHS client");
    store::NhsClientRecord updated = client;
    updated.service = it->second.service;
    updated.api_key_hash = it->second.api_key_hash;
    updated.created_at = it->second.created_at;
    it->second = updated;
    return ok();
  }
  Result<std::optional<store::NhsClientRecord>> find_nhs_client(Uuid id) override {
    std::lock_guard lock(mutex_);
    auto it = nhs_clients_.find(id);
    if (it == nhs_clients_.end()) return std::optional<store::NhsClientRecord>();
    return std::optional<store::NhsClientRecord>(it->second);
  }
  Result<std::optional<store::NhsClientRecord>> find_nhs_client_by_key(std::string_view api_key_hash) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, c] : nhs_clients_) {
      if (c.api_key_hash == api_key_hash) return std::optional<store::NhsClientRecord>(c);
    }
    return std::optional<store::NhsClientRecord>();
  }
  Result<std::vector<store::NhsClientRecord>> list_nhs_clients() override {
    std::lock_guard lock(mutex_);
    std::vector<store::NhsClientRecord> out;
    for (const auto& [id, c] : nhs_clients_) out.push_back(c);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
  }
  Result<bool> remember_assertion_id(Uuid client, std::string_view jti_hash, Timestamp expires_at,
                                     Timestamp now) override {
    std::lock_guard lock(mutex_);
    std::erase_if(assertion_ids_, [&](const auto& entry) { return entry.second <= now; });
    return assertion_ids_.emplace(client.to_string() + "/" + std::string(jti_hash), expires_at).second;
  }
  Result<void> insert_access_token(const store::NhsAccessToken& token) override {
    std::lock_guard lock(mutex_);
    std::erase_if(access_tokens_, [&](const auto& entry) { return entry.second.expires_at <= token.issued_at; });
    access_tokens_[token.token_hash] = token;
    return ok();
  }
  Result<std::optional<store::NhsAccessToken>> find_access_token(std::string_view token_hash, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = access_tokens_.find(std::string(token_hash));
    if (it == access_tokens_.end() || it->second.expires_at <= now) return std::optional<store::NhsAccessToken>();
    return std::optional<store::NhsAccessToken>(it->second);
  }
  Result<bool> insert_nhs_message(const store::NhsMessageRecord& message, Timestamp reference_cutoff) override {
    std::lock_guard lock(mutex_);
    if (nhs_messages_.count(message.id) != 0) return false;
    if (!message.batch_id) {
      for (const auto& [id, m] : nhs_messages_) {
        if (!m.batch_id && m.client == message.client && m.message_reference == message.message_reference &&
            m.created_at >= reference_cutoff && !forgotten_references_.count(id)) {
          return false;
        }
      }
      for (const auto& [id, m] : nhs_messages_) {
        if (!m.batch_id && m.client == message.client && m.message_reference == message.message_reference) {
          forgotten_references_.insert(id);
        }
      }
    }
    nhs_messages_[message.id] = message;
    return true;
  }
  Result<bool> insert_nhs_batch(const store::NhsBatchRecord& batch,
                                const std::vector<store::NhsMessageRecord>& messages,
                                Timestamp reference_cutoff) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, b] : nhs_batches_) {
      if (b.client == batch.client && b.reference == batch.reference && b.created_at >= reference_cutoff &&
          !forgotten_references_.count(id)) {
        return false;
      }
    }
    for (const auto& [id, b] : nhs_batches_) {
      if (b.client == batch.client && b.reference == batch.reference) forgotten_references_.insert(id);
    }
    nhs_batches_[batch.id] = batch;
    for (const auto& m : messages) nhs_messages_[m.id] = m;
    return true;
  }
  Result<std::optional<store::NhsMessageRecord>> find_nhs_message(Uuid client, std::string_view id) override {
    std::lock_guard lock(mutex_);
    auto it = nhs_messages_.find(std::string(id));
    if (it == nhs_messages_.end() || it->second.client != client || nhs_cascade_[it->first].erased) {
      return std::optional<store::NhsMessageRecord>();
    }
    return std::optional<store::NhsMessageRecord>(it->second);
  }
  Result<std::vector<store::NhsMessageClaim>> claim_nhs_messages(int limit, Timestamp now, Duration lease) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<Timestamp, std::string>> due;
    for (const auto& [id, m] : nhs_messages_) {
      const auto& state = nhs_cascade_[id];
      if (m.next_step_at && *m.next_step_at <= now && (!state.lease_until || *state.lease_until <= now) &&
          !state.erased) {
        due.emplace_back(*m.next_step_at, id);
      }
    }
    std::sort(due.begin(), due.end());
    std::vector<store::NhsMessageClaim> out;
    for (const auto& [at, id] : due) {
      if (static_cast<int>(out.size()) >= limit) break;
      auto& state = nhs_cascade_[id];
      state.lease_until = now + lease;
      ++state.claim;
      state.woken = false;
      std::vector<store::NhsChannelEvent> events;
      for (const auto& e : nhs_events_) {
        if (e.message_id == id) events.push_back(e);
      }
      out.push_back(store::NhsMessageClaim{nhs_messages_[id], state.claim, std::move(events)});
    }
    return out;
  }
  Result<bool> save_nhs_step(const store::NhsCascadeStep& step, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = nhs_messages_.find(step.message.id);
    if (it == nhs_messages_.end()) return not_found("NHS message");
    auto& state = nhs_cascade_[it->first];
    if (state.claim != step.claim || !state.lease_until) return false;  // lost, or already saved
    store::NhsMessageRecord saved = step.message;
    if (state.woken) saved.next_step_at = now;
    state.woken = false;
    state.lease_until.reset();
    it->second = std::move(saved);
    for (const auto& record : step.notifications) {
      notifications_[record.id] = {unlinked(record), record.queued ? std::optional(record.created_at) : std::nullopt,
                                   std::nullopt, false, step.message.id};
    }
    std::erase_if(nhs_events_,
                  [&](const auto& e) { return e.message_id == step.message.id && e.id <= step.events_through; });
    for (const auto& callback : step.callbacks) {
      NhsCallbackRow row{callback, std::nullopt};
      row.record.id = ++last_nhs_callback_id_;
      row.record.state = store::NhsCallbackState::kPending;
      row.record.attempts = 0;
      row.record.first_attempt_at.reset();
      row.record.last_error.reset();
      nhs_callbacks_[row.record.id] = std::move(row);
    }
    return true;
  }
  Result<bool> add_nhs_channel_event(const store::NhsChannelEvent& event) override {
    std::lock_guard lock(mutex_);
    if (nhs_messages_.count(event.message_id) == 0 || nhs_cascade_[event.message_id].erased) return false;
    store::NhsChannelEvent stored = event;
    stored.id = ++last_nhs_event_id_;
    nhs_events_.push_back(std::move(stored));
    wake_nhs_message(event.message_id, event.at);
    return true;
  }
  Result<void> put_demographics(const std::vector<store::DemographicsRow>& rows) override {
    std::lock_guard lock(mutex_);
    for (const auto& row : rows) demographics_[row.nhs_number] = row;
    return ok();
  }
  Result<std::optional<store::DemographicsRow>> find_demographics(std::string_view nhs_number) override {
    std::lock_guard lock(mutex_);
    auto it = demographics_.find(std::string(nhs_number));
    if (it == demographics_.end()) return std::optional<store::DemographicsRow>();
    return std::optional<store::DemographicsRow>(it->second);
  }
  // A version already stored is left as it is (false); a plan of an unknown client is
  // kFailedPrecondition, as the SQL backends' foreign key makes it.
  Result<bool> add_routing_plan(const store::RoutingPlanRecord& plan) override {
    std::lock_guard lock(mutex_);
    auto it = routing_plans_.find(plan.id);
    if (it != routing_plans_.end() && it->second.count(plan.version) != 0) return false;
    if (nhs_clients_.count(plan.client) == 0) return failed_precondition("no NHS client " + plan.client.to_string());
    routing_plans_[plan.id][plan.version] = plan;
    return true;
  }
  Result<std::optional<store::RoutingPlanRecord>> find_routing_plan(Uuid id, std::optional<int> version) override {
    std::lock_guard lock(mutex_);
    auto it = routing_plans_.find(id);
    if (it == routing_plans_.end()) return std::optional<store::RoutingPlanRecord>();
    if (!version) return std::optional<store::RoutingPlanRecord>(it->second.rbegin()->second);
    auto v = it->second.find(*version);
    if (v == it->second.end()) return std::optional<store::RoutingPlanRecord>();
    return std::optional<store::RoutingPlanRecord>(v->second);
  }
  Result<std::vector<store::RoutingPlanRecord>> list_routing_plans(std::optional<Uuid> client) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<Timestamp, store::RoutingPlanRecord>> plans;  // first version's created_at, latest
    for (const auto& [id, versions] : routing_plans_) {
      const store::RoutingPlanRecord& latest = versions.rbegin()->second;
      if (!client || latest.client == *client) plans.emplace_back(versions.begin()->second.created_at, latest);
    }
    std::sort(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second.id < b.second.id;
    });
    std::vector<store::RoutingPlanRecord> out;
    for (auto& [first_at, plan] : plans) out.push_back(std::move(plan));
    return out;
  }
  // A target of an unknown client is kFailedPrecondition, as the SQL backends' foreign key makes it.
  Result<void> put_nhs_callback_target(const store::NhsCallbackTarget& target) override {
    std::lock_guard lock(mutex_);
    if (nhs_clients_.count(target.client) == 0) {
      return failed_precondition("no NHS client " + target.client.to_string());
    }
    nhs_callback_targets_[target.id] = target;
    return ok();
  }
  Result<bool> delete_nhs_callback_target(Uuid id) override {
    std::lock_guard lock(mutex_);
    std::erase_if(nhs_callbacks_, [&](const auto& entry) { return entry.second.record.target == id; });
    return nhs_callback_targets_.erase(id) == 1;
  }
  Result<std::vector<store::NhsCallbackTarget>> nhs_callback_targets(std::optional<Uuid> client) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NhsCallbackTarget> out;
    for (const auto& [id, t] : nhs_callback_targets_) {
      if (!client || t.client == *client) out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id.to_string() < b.id.to_string();
    });
    return out;
  }
  Result<std::vector<store::NhsCallbackRecord>> claim_nhs_callbacks(int limit, Timestamp now, Duration lease) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<Timestamp, std::int64_t>> due;
    for (const auto& [id, row] : nhs_callbacks_) {
      if (row.record.state == store::NhsCallbackState::kPending && row.record.next_attempt_at <= now &&
          (!row.lease_until || *row.lease_until <= now)) {
        due.emplace_back(row.record.next_attempt_at, id);
      }
    }
    std::sort(due.begin(), due.end());
    std::vector<store::NhsCallbackRecord> out;
    for (const auto& [at, id] : due) {
      if (static_cast<int>(out.size()) >= limit) break;
      auto& row = nhs_callbacks_[id];
      row.lease_until = now + lease;
      out.push_back(row.record);
    }
    return out;
  }
  Result<void> finish_nhs_callback(const store::NhsCallbackAttempt& attempt) override {
    using Outcome = store::NhsCallbackAttempt::Outcome;
    if (attempt.outcome == Outcome::kRetry && !attempt.retry_at) {
      return invalid_argument("a callback to retry needs retry_at");
    }
    std::lock_guard lock(mutex_);
    auto it = nhs_callbacks_.find(attempt.id);
    if (it == nhs_callbacks_.end()) return ok();
    if (attempt.outcome == Outcome::kSent) {
      nhs_callbacks_.erase(it);
      return ok();
    }
    store::NhsCallbackRecord& r = it->second.record;
    ++r.attempts;
    r.last_error = attempt.error;
    if (!r.first_attempt_at) r.first_attempt_at = attempt.at;
    it->second.lease_until.reset();
    if (attempt.outcome == Outcome::kDead) {
      r.state = store::NhsCallbackState::kDead;
    } else {
      r.next_attempt_at = *attempt.retry_at;
    }
    return ok();
  }
  Result<std::vector<store::NhsCallbackRecord>> dead_nhs_callbacks(std::optional<Uuid> client, int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NhsCallbackRecord> out;
    for (const auto& [id, row] : nhs_callbacks_) {
      if (row.record.state == store::NhsCallbackState::kDead && (!client || row.record.client == *client)) {
        out.push_back(row.record);
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    const auto most = static_cast<std::size_t>(std::max(limit, 0));
    if (out.size() > most) out.resize(most);
    return out;
  }
  Result<bool> replay_nhs_callback(std::int64_t id, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = nhs_callbacks_.find(id);
    if (it == nhs_callbacks_.end() || it->second.record.state != store::NhsCallbackState::kDead) return false;
    store::NhsCallbackRecord& r = it->second.record;
    r.state = store::NhsCallbackState::kPending;
    r.attempts = 0;
    r.first_attempt_at.reset();
    r.last_error.reset();
    r.next_attempt_at = now;
    it->second.lease_until.reset();
    return true;
  }
  // AdminUserStore. A row of an unknown user (or a membership of an unknown service) is
  // kFailedPrecondition, as the SQL backends' foreign keys make it; emails are compared as given
  // (the backends compare their blind indexes: equal exactly when the emails are).
  Result<void> create_admin_user(const store::AdminUserRecord& user) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, existing] : admin_users_) {
      if (id == user.id || existing.email == user.email)
        return failed_precondition("an admin user has that id or email");
    }
    admin_users_[user.id] = user;
    return ok();
  }
  Result<void> update_admin_user(const store::AdminUserRecord& user) override {
    std::lock_guard lock(mutex_);
    auto it = admin_users_.find(user.id);
    if (it == admin_users_.end()) return not_found("admin user " + user.id.to_string());
    store::AdminUserRecord updated = user;
    updated.email = it->second.email;
    updated.created_at = it->second.created_at;
    updated.totp_last_step = std::max(it->second.totp_last_step, user.totp_last_step);
    it->second = std::move(updated);
    return ok();
  }
  Result<std::optional<store::AdminUserRecord>> find_admin_user(Uuid id) override {
    std::lock_guard lock(mutex_);
    auto it = admin_users_.find(id);
    if (it == admin_users_.end()) return std::optional<store::AdminUserRecord>();
    return std::optional(it->second);
  }
  Result<std::optional<store::AdminUserRecord>> find_admin_user_by_email(std::string_view email) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, user] : admin_users_) {
      if (user.email == email) return std::optional(user);
    }
    return std::optional<store::AdminUserRecord>();
  }
  Result<std::vector<store::AdminUserRecord>> list_admin_users() override {
    std::lock_guard lock(mutex_);
    std::vector<store::AdminUserRecord> out;
    for (const auto& [id, user] : admin_users_) out.push_back(user);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id.to_string() < b.id.to_string();
    });
    return out;
  }
  Result<int> count_sign_in_failure(Uuid user) override {
    std::lock_guard lock(mutex_);
    auto it = admin_users_.find(user);
    return it == admin_users_.end() ? 0 : ++it->second.failed_sign_ins;
  }
  Result<void> set_sign_in_lock(Uuid user, std::optional<Timestamp> locked_until, bool reset_failures) override {
    std::lock_guard lock(mutex_);
    if (auto it = admin_users_.find(user); it != admin_users_.end()) {
      it->second.locked_until = locked_until;
      if (reset_failures) it->second.failed_sign_ins = 0;
    }
    return ok();
  }
  Result<void> set_admin_password_hash(Uuid user, std::string_view password_hash) override {
    std::lock_guard lock(mutex_);
    if (auto it = admin_users_.find(user); it != admin_users_.end())
      it->second.password_hash = std::string(password_hash);
    return ok();
  }
  Result<bool> use_totp_step(Uuid user, std::int64_t step) override {
    std::lock_guard lock(mutex_);
    auto it = admin_users_.find(user);
    if (it == admin_users_.end() || it->second.totp_last_step >= step) return false;
    it->second.totp_last_step = step;
    return true;
  }
  Result<void> put_admin_membership(const store::AdminMembership& membership) override {
    std::lock_guard lock(mutex_);
    if (admin_users_.count(membership.user) == 0 || services_.count(membership.service) == 0) {
      return failed_precondition("no admin user " + membership.user.to_string() + " or service " +
                                 membership.service.to_string());
    }
    auto [it, added] = admin_memberships_.try_emplace({membership.user, membership.service}, membership);
    if (!added) it->second.permissions = membership.permissions;
    return ok();
  }
  Result<bool> delete_admin_membership(Uuid user, ServiceId service) override {
    std::lock_guard lock(mutex_);
    return admin_memberships_.erase({user, service}) == 1;
  }
  Result<std::vector<store::AdminMembership>> admin_memberships(std::optional<Uuid> user,
                                                                std::optional<ServiceId> service) override {
    std::lock_guard lock(mutex_);
    std::vector<store::AdminMembership> out;
    for (const auto& [key, m] : admin_memberships_) {
      if ((!user || m.user == *user) && (!service || m.service == *service)) out.push_back(m);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tuple(a.created_at, a.user.to_string(), a.service.to_string()) <
             std::tuple(b.created_at, b.user.to_string(), b.service.to_string());
    });
    return out;
  }
  Result<void> add_admin_enrolment(const store::AdminEnrolment& enrolment) override {
    std::lock_guard lock(mutex_);
    if (admin_users_.count(enrolment.user) == 0) {
      return failed_precondition("no admin user " + enrolment.user.to_string() + ", or the token exists");
    }
    std::erase_if(admin_enrolments_, [&](const auto& entry) {
      return entry.second.user == enrolment.user || entry.second.expires_at <= enrolment.created_at;
    });
    if (!admin_enrolments_.try_emplace(enrolment.token_hash, enrolment).second) {
      return failed_precondition("no admin user " + enrolment.user.to_string() + ", or the token exists");
    }
    return ok();
  }
  Result<std::optional<store::AdminEnrolment>> find_admin_enrolment(std::string_view token_hash,
                                                                    Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = admin_enrolments_.find(std::string(token_hash));
    if (it == admin_enrolments_.end() || it->second.expires_at <= now) return std::optional<store::AdminEnrolment>();
    return std::optional(it->second);
  }
  Result<bool> take_admin_enrolment(std::string_view token_hash, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = admin_enrolments_.find(std::string(token_hash));
    if (it == admin_enrolments_.end() || it->second.expires_at <= now) return false;
    admin_enrolments_.erase(it);
    return true;
  }
  Result<void> set_recovery_codes(Uuid user, const std::vector<std::string>& code_hashes) override {
    std::lock_guard lock(mutex_);
    if (admin_users_.count(user) == 0) return failed_precondition("no admin user " + user.to_string());
    admin_recovery_codes_[user] = std::set<std::string>(code_hashes.begin(), code_hashes.end());
    return ok();
  }
  Result<bool> use_recovery_code(Uuid user, std::string_view code_hash) override {
    std::lock_guard lock(mutex_);
    auto it = admin_recovery_codes_.find(user);
    return it != admin_recovery_codes_.end() && it->second.erase(std::string(code_hash)) == 1;
  }
  Result<int> recovery_codes_left(Uuid user) override {
    std::lock_guard lock(mutex_);
    auto it = admin_recovery_codes_.find(user);
    return it == admin_recovery_codes_.end() ? 0 : static_cast<int>(it->second.size());
  }
  Result<void> create_admin_session(const store::AdminSessionRecord& session) override {
    std::lock_guard lock(mutex_);
    if (admin_users_.count(session.user) == 0 || !admin_sessions_.try_emplace(session.token_hash, session).second) {
      return failed_precondition("no admin user " + session.user.to_string() + ", or the session exists");
    }
    return ok();
  }
  Result<std::optional<store::AdminSessionRecord>> find_admin_session(std::string_view token_hash) override {
    std::lock_guard lock(mutex_);
    auto it = admin_sessions_.find(std::string(token_hash));
    if (it == admin_sessions_.end()) return std::optional<store::AdminSessionRecord>();
    return std::optional(it->second);
  }
  Result<bool> update_admin_session(const store::AdminSessionRecord& session) override {
    std::lock_guard lock(mutex_);
    auto it = admin_sessions_.find(session.token_hash);
    if (it == admin_sessions_.end() || it->second.user != session.user) return false;
    it->second.last_seen_at = session.last_seen_at;
    it->second.second_factor_at = session.second_factor_at;
    return true;
  }
  Result<bool> delete_admin_session(std::string_view token_hash) override {
    std::lock_guard lock(mutex_);
    return admin_sessions_.erase(std::string(token_hash)) == 1;
  }
  Result<int> delete_admin_sessions(Uuid user) override {
    std::lock_guard lock(mutex_);
    return static_cast<int>(
        std::erase_if(admin_sessions_, [&](const auto& entry) { return entry.second.user == user; }));
  }
  Result<int> delete_expired_admin_sessions(Timestamp idle_cutoff, Timestamp absolute_cutoff) override {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::erase_if(admin_sessions_, [&](const auto& entry) {
      return entry.second.last_seen_at < idle_cutoff || entry.second.created_at < absolute_cutoff;
    }));
  }
  Result<void> add_webauthn_credential(const store::WebAuthnCredential& credential) override {
    std::lock_guard lock(mutex_);
    if (admin_users_.count(credential.user) == 0) {
      return failed_precondition("no admin user " + credential.user.to_string());
    }
    if (!webauthn_credentials_.try_emplace(credential.credential_id, credential).second) {
      return failed_precondition("that WebAuthn credential is registered already");
    }
    return ok();
  }
  Result<std::vector<store::WebAuthnCredential>> webauthn_credentials(Uuid user) override {
    std::lock_guard lock(mutex_);
    std::vector<store::WebAuthnCredential> out;
    for (const auto& [id, credential] : webauthn_credentials_) {
      if (credential.user == user) out.push_back(credential);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
    return out;
  }
  Result<std::optional<store::WebAuthnCredential>> find_webauthn_credential(std::string_view credential_id) override {
    std::lock_guard lock(mutex_);
    auto it = webauthn_credentials_.find(std::string(credential_id));
    if (it == webauthn_credentials_.end()) return std::optional<store::WebAuthnCredential>();
    return std::optional(it->second);
  }
  Result<bool> use_webauthn_credential(std::string_view credential_id, std::int64_t sign_count, Timestamp at) override {
    std::lock_guard lock(mutex_);
    auto it = webauthn_credentials_.find(std::string(credential_id));
    if (it == webauthn_credentials_.end()) return false;
    store::WebAuthnCredential& c = it->second;
    if (!(c.sign_count < sign_count || (c.sign_count == 0 && sign_count == 0))) return false;
    c.sign_count = sign_count;
    c.last_used_at = at;
    return true;
  }
  Result<bool> delete_webauthn_credential(Uuid user, std::string_view credential_id) override {
    std::lock_guard lock(mutex_);
    auto it = webauthn_credentials_.find(std::string(credential_id));
    if (it == webauthn_credentials_.end() || it->second.user != user) return false;
    webauthn_credentials_.erase(it);
    return true;
  }
  // JobStore. The file is kept as given (no sealing, so no data key to lose); a job of an unknown
  // service is kFailedPrecondition, as the SQL backends' foreign key makes it.
  Result<void> create_job(const store::JobRecord& job) override {
    std::lock_guard lock(mutex_);
    if (job.row_count < 0) return invalid_argument("a job's row count is never negative");
    if (services_.count(job.service) == 0) return failed_precondition("no service " + job.service.to_string());
    if (jobs_.count(job.id) != 0) return failed_precondition("a job has that id");
    jobs_[job.id] = store::as_new_job(job);
    return ok();
  }
  Result<std::optional<store::JobRecord>> find_job(ServiceId service, Uuid id) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.service != service) return std::optional<store::JobRecord>();
    return std::optional(it->second);
  }
  Result<std::vector<store::JobRecord>> jobs_for_service(ServiceId service, int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<store::JobRecord> out;
    for (const auto& [id, job] : jobs_) {
      if (job.service != service) continue;
      out.push_back(job);
      out.back().contents.clear();
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
    });
    if (out.size() > static_cast<std::size_t>(std::max(limit, 0))) out.resize(static_cast<std::size_t>(limit));
    return out;
  }
  Result<bool> start_job(ServiceId service, Uuid id, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.service != service || it->second.status != store::JobStatus::kPending) {
      return false;
    }
    it->second.status = store::JobStatus::kInProgress;
    it->second.started_at = now;
    return true;
  }
  Result<bool> cancel_job(ServiceId service, Uuid id, Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.service != service ||
        (it->second.status != store::JobStatus::kPending && it->second.status != store::JobStatus::kInProgress)) {
      return false;
    }
    it->second.status = store::JobStatus::kCancelled;
    it->second.finished_at = now;
    return true;
  }
  Result<std::vector<store::JobRecord>> jobs_in_progress(int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<store::JobRecord> out;
    for (const auto& [id, job] : jobs_) {
      if (job.status != store::JobStatus::kInProgress) continue;
      out.push_back(job);
      out.back().file_name.clear();
      out.back().contents.clear();
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
    });
    if (out.size() > static_cast<std::size_t>(std::max(limit, 0))) out.resize(static_cast<std::size_t>(limit));
    return out;
  }
  Result<bool> save_job_rows(ServiceId service, Uuid job, int from_row, int to_row,
                             const std::vector<store::NotificationRecord>& notifications, const std::vector<int>& rows,
                             Timestamp now) override {
    std::lock_guard lock(mutex_);
    if (from_row < 0 || to_row < from_row || rows.size() != notifications.size()) {
      return invalid_argument("a job's rows are saved as a range, one row number per notification");
    }
    for (const auto& record : notifications) {
      if (record.service != service) return invalid_argument("a job's notifications are its service's");
    }
    auto it = jobs_.find(job);
    if (it == jobs_.end() || it->second.service != service || it->second.status != store::JobStatus::kInProgress ||
        it->second.next_row != from_row) {
      return false;  // another worker saved these rows first (or the job is not running)
    }
    if (to_row > it->second.row_count) return invalid_argument("rows past the end of job " + job.to_string());
    it->second.next_row = to_row;
    if (to_row == it->second.row_count) {
      it->second.status = store::JobStatus::kFinished;
      it->second.finished_at = now;
    }
    for (std::size_t i = 0; i < notifications.size(); ++i) {
      const auto& record = notifications[i];
      Row row{unlinked(record), record.queued ? std::optional(record.created_at) : std::nullopt, std::nullopt, false};
      row.job_id = job;
      row.job_row = rows[i];
      notifications_[record.id] = std::move(row);
    }
    return true;
  }
  Result<store::StatusCounts> job_status_counts(ServiceId service, Uuid job) override {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::pair<store::NotificationStatus, std::int64_t>> by_name;  // the backends' order
    for (const auto& [id, row] : notifications_) {
      if (row.record.service != service || row.job_id != job) continue;
      auto& count = by_name.try_emplace(store::status_name(row.record.status), row.record.status, 0).first->second;
      ++count.second;
    }
    store::StatusCounts out;
    for (const auto& [name, count] : by_name) out.push_back(count);
    return out;
  }
  // SubjectStore. Compared as given (the backends compare blind indexes: equal exactly when the
  // values are).
  Result<std::vector<store::NhsMessageRecord>> find_nhs_messages_by_nhs_number(ServiceId service,
                                                                               std::string_view nhs_number) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NhsMessageRecord> out;
    for (const auto& [id, m] : nhs_messages_) {
      const auto& state = nhs_cascade_[id];
      if (m.service == service && m.nhs_number == nhs_number && !state.erased && !state.unindexed) out.push_back(m);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id) < std::make_pair(b.created_at, b.id);
    });
    return out;
  }
  Result<std::vector<store::NhsMessageRecord>> find_nhs_messages_by_id(ServiceId service,
                                                                       const std::vector<std::string>& ids) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NhsMessageRecord> out;
    for (const std::string& id : distinct(ids)) {
      auto it = nhs_messages_.find(id);
      if (it != nhs_messages_.end() && it->second.service == service && !nhs_cascade_[id].erased) {
        out.push_back(it->second);
      }
    }
    return out;
  }
  Result<std::vector<store::NotificationRecord>> notifications_for_nhs_messages(
      ServiceId service, const std::vector<std::string>& message_ids) override {
    std::lock_guard lock(mutex_);
    std::vector<store::NotificationRecord> out;
    for (const auto& [id, row] : notifications_) {
      if (row.record.service == service && !row.redacted && row.nhs_message_id &&
          std::find(message_ids.begin(), message_ids.end(), *row.nhs_message_id) != message_ids.end()) {
        out.push_back(linked(row));
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
    });
    return out;
  }
  Result<std::vector<store::InboundSms>> find_inbound_sms_by_number(ServiceId service,
                                                                    std::string_view number_normalised) override {
    std::lock_guard lock(mutex_);
    std::vector<store::InboundSms> out;
    for (const auto& row : inbound_) {
      auto number = inbound_numbers_.find(row.sms.id);
      if (row.sms.service == service && number != inbound_numbers_.end() && number->second == number_normalised) {
        out.push_back(row.sms);
        out.back().user_number_normalised = number->second;
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
    });
    return out;
  }
  Result<std::vector<store::GuestListEntry>> find_guest_list_entries(ServiceId service,
                                                                     std::string_view recipient_normalised) override {
    std::lock_guard lock(mutex_);
    std::vector<store::GuestListEntry> out;
    for (const auto& entry : guest_list_) {
      if (entry.service == service && entry.recipient_normalised == recipient_normalised) out.push_back(entry);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
    });
    return out;
  }
  Result<store::ErasureOutcome> erase_subject(const store::SubjectErasure& erasure) override {
    std::lock_guard lock(mutex_);
    store::ErasureOutcome outcome;
    store::RetentionOutcome redacted;
    for (const auto& id : erasure.notifications) {
      auto it = notifications_.find(id);
      if (it == notifications_.end() || it->second.record.service != erasure.service) continue;
      redact(it->second, erasure.now, redacted);
      erase_letter_pdf(id, erasure.service);
    }
    for (const std::string& id : distinct(erasure.nhs_messages)) {
      auto it = nhs_messages_.find(id);
      if (it == nhs_messages_.end() || it->second.service != erasure.service) continue;
      if (erase_nhs_message(it->second, erasure)) ++outcome.nhs_messages;
      for (auto& [notification, row] : notifications_) {
        if (row.nhs_message_id != id || row.record.service != erasure.service) continue;
        redact(row, erasure.now, redacted);
        erase_letter_pdf(notification, erasure.service);
      }
      std::erase_if(nhs_events_, [&](const auto& e) { return e.message_id == id; });
      std::erase_if(nhs_callbacks_, [&](const auto& entry) {
        return entry.second.record.message_id == id && entry.second.record.service == erasure.service;
      });
    }
    outcome.notifications = redacted.redacted;
    outcome.failed_pending = redacted.failed_pending;
    for (const Uuid& id : distinct(erasure.inbound_sms)) {
      const auto erased = std::erase_if(
          inbound_, [&](const auto& row) { return row.sms.id == id && row.sms.service == erasure.service; });
      if (erased > 0) inbound_numbers_.erase(id);
      outcome.inbound_sms += static_cast<std::int64_t>(erased);
    }
    for (const Uuid& id : distinct(erasure.guest_list_entries)) {
      outcome.guest_list_entries += static_cast<std::int64_t>(std::erase_if(
          guest_list_, [&](const auto& entry) { return entry.id == id && entry.service == erasure.service; }));
    }
    std::vector<Uuid> seen;
    for (const auto& [id, contents] : erasure.job_contents) {
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      seen.push_back(id);
      auto it = jobs_.find(id);
      // Retention emptied it already, or nothing changes: left as it is, not counted.
      if (it == jobs_.end() || it->second.service != erasure.service || it->second.contents.empty() ||
          it->second.contents == contents) {
        continue;
      }
      it->second.contents = contents;
      ++outcome.jobs;
    }
    for (const Uuid& id : distinct(erasure.documents)) {
      auto it = documents_.find(id);
      if (it == documents_.end() || it->second.service != erasure.service) continue;
      documents_.erase(it);
      ++outcome.documents;
    }
    for (const Uuid& id : distinct(erasure.unsubscribe_requests)) {
      outcome.unsubscribe_requests += static_cast<std::int64_t>(std::erase_if(
          unsubscribe_requests_, [&](const auto& r) { return r.id == id && r.service == erasure.service; }));
    }
    return outcome;
  }
  Result<std::vector<store::UnsubscribeRequest>> find_unsubscribe_requests(ServiceId service,
                                                                           std::string_view email_normalised) override {
    std::lock_guard lock(mutex_);
    std::vector<store::UnsubscribeRequest> out;
    for (const auto& r : unsubscribe_requests_) {
      // A request stored without its normalised address has no index: never found.
      if (r.service != service || r.email_normalised.empty() || r.email_normalised != email_normalised) continue;
      out.push_back(read_back(r));
      out.back().email_normalised = r.email_normalised;
    }
    return oldest_first(std::move(out));
  }
  // UnsubscribeStore. Addresses are kept as given (no sealing).
  Result<std::optional<bool>> add_unsubscribe_request(const store::UnsubscribeRequest& request) override {
    std::lock_guard lock(mutex_);
    auto it = notifications_.find(request.notification);
    if (it == notifications_.end() || it->second.record.type != store::Channel::kEmail) return std::optional<bool>();
    const store::NotificationRecord& n = it->second.record;
    for (const auto& r : unsubscribe_requests_) {
      if (r.service != n.service || r.notification != request.notification) continue;
      if (!r.report || !unsubscribe_reports_.at(*r.report).processed_at) return std::optional<bool>(false);
    }
    store::UnsubscribeRequest stored = request;
    stored.service = n.service;
    stored.template_id = n.template_id;
    stored.template_version = n.template_version;
    stored.report.reset();
    unsubscribe_requests_.push_back(std::move(stored));
    return std::optional<bool>(true);
  }
  Result<std::vector<store::UnsubscribeReport>> unsubscribe_reports(ServiceId service) override {
    std::lock_guard lock(mutex_);
    std::vector<store::UnsubscribeReport> out;
    if (auto pending = pending_report(service)) out.push_back(*pending);
    std::vector<store::UnsubscribeReport> reports;
    for (const auto& [id, report] : unsubscribe_reports_) {
      if (report.service == service) reports.push_back(report);
    }
    std::sort(reports.begin(), reports.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) > std::make_pair(b.created_at, b.id.to_string());
    });
    out.insert(out.end(), reports.begin(), reports.end());
    return out;
  }
  Result<std::optional<store::UnsubscribeReport>> create_unsubscribe_report(ServiceId service, Uuid id,
                                                                            Timestamp now) override {
    std::lock_guard lock(mutex_);
    auto report = pending_report(service);
    if (!report) return std::optional<store::UnsubscribeReport>();
    if (unsubscribe_reports_.count(id) != 0) return failed_precondition("a report has that id");
    report->id = id;
    report->created_at = now;
    for (auto& r : unsubscribe_requests_) {
      if (r.service == service && !r.report) r.report = id;
    }
    unsubscribe_reports_[id] = *report;
    return report;
  }
  Result<std::vector<store::UnsubscribeRequest>> unsubscribe_requests(ServiceId service, Uuid report) override {
    std::lock_guard lock(mutex_);
    std::vector<store::UnsubscribeRequest> out;
    for (const auto& r : unsubscribe_requests_) {
      if (r.service == service && (report == Uuid{} ? !r.report : r.report == report)) out.push_back(read_back(r));
    }
    return oldest_first(std::move(out));
  }
  Result<bool> set_unsubscribe_report_processed(ServiceId service, Uuid report, std::optional<Timestamp> at) override {
    std::lock_guard lock(mutex_);
    auto it = unsubscribe_reports_.find(report);
    if (it == unsubscribe_reports_.end() || it->second.service != service) return false;
    it->second.processed_at = at;
    return true;
  }
  Result<std::int64_t> delete_old_unsubscribe_requests(Timestamp report_cutoff, Timestamp pending_cutoff) override {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(std::erase_if(unsubscribe_requests_, [&](const auto& r) {
      return r.report ? unsubscribe_reports_.at(*r.report).created_at < report_cutoff : r.created_at < pending_cutoff;
    }));
  }
  // OperationsStore.
  Result<store::QueueFigures> queue_figures() override {
    std::lock_guard lock(mutex_);
    store::QueueFigures figures;
    for (const auto& [id, row] : notifications_) {
      using S = store::NotificationStatus;
      if (row.record.status == S::kCreated || row.record.status == S::kSending) {
        store::ChannelQueue& queue = figures.channels[static_cast<std::size_t>(row.record.type)];
        if (row.due_at) {
          ++queue.waiting;
          if (row.record.attempts > 0) ++queue.retrying;
          queue.oldest = store::earliest(queue.oldest, row.record.created_at);
        } else if (row.record.status == S::kSending) {
          ++queue.awaiting_receipt;
        }
      }
      if (row.callback_due_at) {
        ++figures.callbacks_due;
        figures.oldest_callback_due = store::earliest(figures.oldest_callback_due, row.callback_due_at);
      }
      if (row.callback_dead) ++figures.callbacks_dead;
    }
    for (const auto& row : inbound_) {
      if (row.due) {
        ++figures.callbacks_due;
        figures.oldest_callback_due = store::earliest(figures.oldest_callback_due, row.due);
      }
      if (row.dead) ++figures.callbacks_dead;
    }
    for (const auto& [id, row] : nhs_callbacks_) {
      if (row.record.state == store::NhsCallbackState::kDead) {
        ++figures.nhs_callbacks_dead;
        continue;
      }
      ++figures.nhs_callbacks_pending;
      figures.oldest_nhs_callback = store::earliest(figures.oldest_nhs_callback, row.record.created_at);
    }
    for (const auto& [id, m] : nhs_messages_) {
      if (!m.next_step_at) continue;
      ++figures.nhs_messages_waiting;
      figures.oldest_nhs_message_step = store::earliest(figures.oldest_nhs_message_step, m.next_step_at);
    }
    return figures;
  }
  Result<void> set_mark(std::string_view name, Timestamp at) override {
    HERALD_TRY(store::check_mark_name(name));
    std::lock_guard lock(mutex_);
    marks_[std::string(name)] = at;
    return ok();
  }
  Result<std::vector<std::pair<std::string, Timestamp>>> marks(std::string_view prefix) override {
    HERALD_TRY(store::check_mark_text(prefix, "a marks' prefix"));
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, Timestamp>> out;  // std::string orders bytewise, as the backends
    for (auto it = marks_.lower_bound(std::string(prefix)); it != marks_.end() && it->first.starts_with(prefix); ++it) {
      out.emplace_back(it->first, it->second);
    }
    return out;
  }
  Result<store::SourceBlock> strike_source(std::string_view source, std::string_view reason, Timestamp now,
                                           Duration base, Duration cap, Timestamp forget_before) override {
    HERALD_TRY(store::check_block_source(source));
    HERALD_TRY(store::check_block_reason(reason));
    std::lock_guard lock(mutex_);
    const auto it = source_blocks_.find(std::string(source));
    const std::optional<store::SourceBlock> row =
        it == source_blocks_.end() ? std::nullopt : std::optional<store::SourceBlock>(it->second);
    store::SourceBlock next = store::next_strike(row, source, reason, now, base, cap, forget_before);
    source_blocks_[next.source] = next;
    return next;
  }
  Result<std::vector<store::SourceBlock>> running_blocks(Timestamp now) override {
    std::lock_guard lock(mutex_);
    std::vector<store::SourceBlock> out;  // by source, bytewise
    for (const auto& [source, block] : source_blocks_) {
      if (block.until > now) out.push_back(block);
    }
    return out;
  }
  Result<bool> unblock_source(std::string_view source) override {
    HERALD_TRY(store::check_block_source(source));
    std::lock_guard lock(mutex_);
    return source_blocks_.erase(std::string(source)) > 0;
  }
  Result<std::int64_t> forget_blocks(Timestamp before) override {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(
        std::erase_if(source_blocks_, [&](const auto& entry) { return entry.second.until < before; }));
  }
  Result<std::vector<crypto::AuditEntry>> append_audit(std::vector<crypto::AuditEntry> entries) override {
    std::lock_guard lock(mutex_);
    for (auto& e : entries) {
      e.seq = static_cast<std::int64_t>(audit_.size()) + 1;
      crypto::chain_entry(e, audit_.empty() ? std::string(32, '\0') : audit_.back().hash);
      audit_.push_back(e);
    }
    return entries;
  }
  Result<void> read_audit(std::int64_t after_seq, std::optional<Timestamp> since,
                          const std::function<Result<void>(const crypto::AuditEntry&)>& visit) override {
    std::vector<crypto::AuditEntry> copy;
    {
      std::lock_guard lock(mutex_);
      copy = audit_;
    }
    for (const auto& e : copy) {
      if (e.seq > after_seq && (!since || e.at >= *since)) HERALD_TRY(visit(e));
    }
    return ok();
  }

  int service_reads = 0;   // guarded by mutex_ (read in tests after calls complete)
  int template_reads = 0;  // likewise
  int limit_calls = 0;     // take_tokens and reserve_count; likewise
  std::chrono::milliseconds limit_delay{0};  // each of those takes this long (set before use)

 private:
  // A callback given up on: when, and what its last attempt got.
  struct DeadCallback {
    Timestamp at;
    std::string error;
  };
  struct Row {
    store::NotificationRecord record;
    std::optional<Timestamp> due_at;
    std::optional<Timestamp> callback_due_at;
    bool redacted = false;
    std::optional<std::string> nhs_message_id = std::nullopt;
    std::optional<Uuid> job_id = std::nullopt;  // made from this row of a job's file
    int job_row = 0;
    std::optional<DeadCallback> callback_dead = std::nullopt;  // CallbackQueue::kill_callback
  };
  struct NhsCascadeState {
    std::optional<Timestamp> lease_until;
    std::int64_t claim = 0;
    bool woken = false;
    bool erased = false;     // SubjectStore::erase_subject
    bool unindexed = false;  // retention cleared its NHS number's index
  };
  // Inserts ignore where a notification came from (the store sets that: Row), and reads other
  // than find_by_recipient and the SubjectStore finds leave it unset, as the backends do.
  static store::NotificationRecord unlinked(store::NotificationRecord record) {
    record.nhs_message_id.reset();
    record.job_id.reset();
    record.job_row.reset();
    return record;
  }
  static store::NotificationRecord linked(const Row& row) {
    store::NotificationRecord record = row.record;
    record.nhs_message_id = row.nhs_message_id;
    record.job_id = row.job_id;
    if (row.job_id) record.job_row = row.job_row;
    return record;
  }
  template <typename Id>
  static std::vector<Id> distinct(const std::vector<Id>& ids) {
    std::vector<Id> out;
    for (const Id& id : ids) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    return out;
  }
  // Called with mutex_ held. What retention and erasure do to a notification (once).
  static void redact(Row& row, Timestamp now, store::RetentionOutcome& outcome) {
    if (row.redacted) return;
    // Still undelivered: failed, never to be sent without its data.
    if (row.record.status == store::NotificationStatus::kCreated ||
        row.record.status == store::NotificationStatus::kSending) {
      row.record.status = store::NotificationStatus::kTechnicalFailure;
      row.record.updated_at = now;
      row.due_at.reset();
      ++outcome.failed_pending;
    }
    row.redacted = true;
    row.callback_due_at.reset();
    row.callback_dead.reset();
    row.record.recipient.clear();
    row.record.recipient_normalised.clear();
    row.record.personalisation_json.clear();
    row.record.subject.clear();
    row.record.body.clear();
    row.record.one_click_unsubscribe_url.reset();
    ++outcome.redacted;
  }
  void erase_letter_pdf(NotificationId id, ServiceId service) {
    auto pdf = letter_pdfs_.find(id);
    if (pdf != letter_pdfs_.end() && pdf->second.service == service) letter_pdfs_.erase(pdf);
  }
  // Empties the message's personal fields and settles it; false when it was erased already.
  bool erase_nhs_message(store::NhsMessageRecord& m, const store::SubjectErasure& erasure) {
    auto& state = nhs_cascade_[m.id];
    if (state.erased) return false;
    if (m.status != store::NhsMessageStatus::kDelivered && m.status != store::NhsMessageStatus::kFailed) {
      m.status = store::NhsMessageStatus::kFailed;
      m.status_description = erasure.nhs_failure_description;
      m.failure_reason_code = erasure.nhs_failure_code;
      m.failed_at = erasure.now;
    }
    m.message_reference.clear();
    m.billing_reference.reset();
    m.nhs_number.reset();
    m.personalisation_json.clear();
    m.contact_details_json.reset();
    m.recipient_json.reset();
    m.next_step_at.reset();
    state = NhsCascadeState{std::nullopt, state.claim, false, true, true};
    return true;
  }
  // Called with mutex_ held. The request as the backends read it back: with its template's name,
  // its notification's time and its job's file name (while retention has not emptied it); its
  // normalised address is never stored.
  store::UnsubscribeRequest read_back(store::UnsubscribeRequest r) const {
    r.email_normalised.clear();
    r.template_name.clear();
    r.notification_created_at = Timestamp{};
    r.job_file_name.reset();
    if (auto t = templates_.find(r.template_id); t != templates_.end()) {
      for (const auto& v : t->second) {
        if (v.version == r.template_version) r.template_name = v.name;
      }
    }
    if (auto n = notifications_.find(r.notification);
        n != notifications_.end() && n->second.record.service == r.service) {
      r.notification_created_at = n->second.record.created_at;
      if (n->second.job_id) {
        auto job = jobs_.find(*n->second.job_id);
        if (job != jobs_.end() && job->second.service == r.service && !job->second.file_name.empty()) {
          r.job_file_name = job->second.file_name;
        }
      }
    }
    return r;
  }
  static std::vector<store::UnsubscribeRequest> oldest_first(std::vector<store::UnsubscribeRequest> requests) {
    std::sort(requests.begin(), requests.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.created_at, a.id.to_string()) < std::make_pair(b.created_at, b.id.to_string());
    });
    return requests;
  }
  // Called with mutex_ held. The service's requests in no report, as the nil report; nullopt: none.
  std::optional<store::UnsubscribeReport> pending_report(ServiceId service) const {
    std::optional<store::UnsubscribeReport> report;
    for (const auto& r : unsubscribe_requests_) {
      if (r.service != service || r.report) continue;
      if (!report) report = store::UnsubscribeReport{Uuid{}, service, 0, r.created_at, r.created_at, {}, std::nullopt};
      ++report->count;
      report->earliest = std::min(report->earliest, r.created_at);
      report->latest = std::max(report->latest, r.created_at);
    }
    if (report) report->created_at = report->latest;
    return report;
  }
  // Called with mutex_ held.
  void wake_nhs_message(const Row& row, Timestamp now) {
    if (row.nhs_message_id) wake_nhs_message(*row.nhs_message_id, now);
  }
  void wake_nhs_message(const std::string& message_id, Timestamp now) {
    auto it = nhs_messages_.find(message_id);
    if (it == nhs_messages_.end() || nhs_cascade_[it->first].erased) return;
    nhs_cascade_[it->first].woken = true;
    if (!it->second.next_step_at || *it->second.next_step_at > now) it->second.next_step_at = now;
  }
  std::mutex mutex_;
  std::map<ServiceId, store::ServiceRecord> services_;
  std::map<Uuid, store::NhsClientRecord> nhs_clients_;
  std::map<std::string, Timestamp> assertion_ids_;
  std::map<std::string, store::NhsAccessToken> access_tokens_;
  std::map<std::string, store::NhsMessageRecord> nhs_messages_;
  std::map<std::string, store::NhsBatchRecord> nhs_batches_;
  std::map<std::string, NhsCascadeState> nhs_cascade_;
  std::vector<store::NhsChannelEvent> nhs_events_;  // in arrival order
  std::int64_t last_nhs_event_id_ = 0;
  std::map<std::string, store::DemographicsRow> demographics_;
  // By id, then version.
  std::map<Uuid, std::map<int, store::RoutingPlanRecord>> routing_plans_;
  struct NhsCallbackRow {
    store::NhsCallbackRecord record;
    std::optional<Timestamp> lease_until;
  };
  std::map<Uuid, store::NhsCallbackTarget> nhs_callback_targets_;
  std::map<std::int64_t, NhsCallbackRow> nhs_callbacks_;  // by id
  std::int64_t last_nhs_callback_id_ = 0;
  // The admin UI's users; enrolment links and sessions by token hash, credentials by their id.
  std::map<Uuid, store::AdminUserRecord> admin_users_;
  std::map<std::pair<Uuid, ServiceId>, store::AdminMembership> admin_memberships_;
  std::map<std::string, store::AdminEnrolment> admin_enrolments_;
  std::map<Uuid, std::set<std::string>> admin_recovery_codes_;
  std::map<std::string, store::AdminSessionRecord> admin_sessions_;
  std::map<std::string, store::WebAuthnCredential> webauthn_credentials_;
  std::set<std::string> forgotten_references_;  // messages whose reference may be used again
  std::vector<store::ApiKeyRecord> keys_;
  std::vector<store::ServiceContact> contacts_;
  std::map<std::string, std::pair<double, Timestamp>> buckets_;
  std::map<std::string, std::int64_t> counts_;
  struct InboundRow {
    store::InboundSms sms;
    std::optional<Timestamp> due;  // its callback's
    std::optional<DeadCallback> dead;
  };
  std::vector<InboundRow> inbound_;
  std::map<Uuid, std::string> inbound_numbers_;  // user_number_normalised of the indexed texts
  std::vector<store::GuestListEntry> guest_list_;
  struct LetterPdf {
    ServiceId service;
    Timestamp created_at;
    std::string pdf;
  };
  std::map<NotificationId, LetterPdf> letter_pdfs_;
  std::map<Uuid, store::DocumentRecord> documents_;
  std::map<std::pair<ServiceId, store::CallbackKind>, store::ServiceCallback> callbacks_;
  // Created_at of the first version, updated_at of later ones, as the SQL backends report them.
  static store::TemplateRecord with_times(const std::vector<store::TemplateRecord>& versions, store::TemplateRecord v) {
    if (v.version > 1) v.updated_at = v.created_at;
    v.created_at = versions.front().created_at;
    return v;
  }
  std::map<TemplateId, std::vector<store::TemplateRecord>> templates_;  // versions in order
  std::map<NotificationId, Row> notifications_;
  std::map<Uuid, store::JobRecord> jobs_;
  std::vector<store::UnsubscribeRequest> unsubscribe_requests_;  // in arrival order
  std::map<Uuid, store::UnsubscribeReport> unsubscribe_reports_;
  std::map<std::string, Timestamp> marks_;                   // OperationsStore's, by name
  std::map<std::string, store::SourceBlock> source_blocks_;  // SourceBlockStore's, by source
  std::vector<crypto::AuditEntry> audit_;
};

}  // namespace herald::fakes
