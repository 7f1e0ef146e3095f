// Personal-data lifecycle from the shell: retention periods, the retention job, and finding a
// person's data through the blind indexes, exported or erased (SC-02).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "cli/context.h"
#include "crypto/secret.h"
#include "delivery/letters/sftp_supplier.h"
#include "domain/admin.h"
#include "domain/reports.h"
#include "domain/subjects.h"
#include "domain/unsubscribe.h"
#include "domain/users/users.h"
#include "net/http_client.h"
#include "ops/retention.h"

namespace herald::cli {
std::vector<std::pair<std::string, std::string>> retention_objects(const ops::RetentionReport& report) {
  return {{"services", std::to_string(report.services)},
          {"redacted", std::to_string(report.redacted)},
          {"failed_pending", std::to_string(report.failed_pending)},
          {"keys_destroyed", std::to_string(report.keys_destroyed)},
          {"documents_deleted", std::to_string(report.documents_deleted)}};
}

int run_service_set_retention(const std::string& config_path, const std::string& service, int days) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  if (auto set = admin.set_retention(found->id, days); !set) return fail(set.error());
  auto recorded = context->record({security::cli_actor(), "service.retention_changed",
                                   {{"service_id", found->id.to_string()}, {"days", std::to_string(days)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "service " << found->id.to_string() << " keeps personal data for " << days << " days\n";
  return 0;
}

int run_service_set(const std::string& config_path, const ServiceSettingsOptions& options) {
  domain::ServiceSettings settings;
  if (options.permissions) settings.permissions = store::split_permissions(*options.permissions);
  settings.prefix_sms = options.sms_prefix;
  settings.rate_limit = options.rate_limit;
  settings.email_limit = options.email_limit;
  settings.sms_limit = options.sms_limit;
  settings.letter_limit = options.letter_limit;
  settings.international_sms_limit = options.international_sms_limit;
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(options.service);
  if (!found) return fail(found.error());
  auto changed = admin.change_settings(found->id, settings);
  if (!changed) return fail(changed.error());
  auto recorded = context->record(
      {security::cli_actor(),
       "service.settings_changed",
       {{"service_id", found->id.to_string()},
        {"permissions", store::join_permissions(changed->permissions)},
        {"prefix_sms", changed->prefix_sms ? "on" : "off"},
        {"rate_limit", std::to_string(changed->rate_limit)},
        {"daily_limits", std::to_string(changed->email_limit) + "/" + std::to_string(changed->sms_limit) + "/" +
                             std::to_string(changed->letter_limit) + "/" +
                             std::to_string(changed->international_sms_limit)}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_set_callback(const std::string& config_path, const std::string& service, const std::string& kind,
                             const std::string& url, const std::string& token_file) {
  const auto parsed_kind = kind == "delivery_status" ? std::optional(store::CallbackKind::kDeliveryStatus)
                           : kind == "inbound_sms"   ? std::optional(store::CallbackKind::kInboundSms)
                                                     : std::nullopt;
  if (!parsed_kind) return fail(invalid_argument("--kind must be delivery_status or inbound_sms"));
  std::ifstream in(token_file, std::ios::binary);
  if (!in) return fail(invalid_argument("cannot read " + token_file));
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  // The SSRF guard at save time too (it is applied again on every connection).
  if (auto checked = net::check_destination(url, config->callbacks.http.policy); !checked) {
    return fail(invalid_argument("--url: " + checked.error().message));
  }
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto saved = admin.set_callback(found->id, *parsed_kind, url, token, SystemClock().now());
  crypto::wipe_string(token);
  if (!saved) return fail(saved.error());
  auto recorded = context->record(
      {security::cli_actor(), "service.callback_set", {{"service_id", found->id.to_string()}, {"kind", kind}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_go_live(const std::string& config_path, const std::string& service) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto live = admin.go_live(found->id);
  if (!live) return fail(live.error());
  auto recorded = context->record({security::cli_actor(), "service.went_live", {{"service_id", found->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_request_go_live(const std::string& config_path, const std::string& service, const std::string& email) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  SystemClock clock;
  auto user = domain::users::Users(*context->store, clock).find_user_by_email(email);
  if (!user) return fail(user.error());
  if (!*user) return fail(not_found("no user " + email));
  const bool asked_before = found->go_live_requested_at.has_value();
  auto requested = admin.request_go_live(found->id, (*user)->id, clock.now());
  if (!requested) return fail(requested.error());
  if (asked_before) return 0;
  auto recorded = context->record({security::cli_actor(),
                                   "service.go_live_requested",
                                   {{"service_id", found->id.to_string()}, {"user_id", (*user)->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_go_live_requests(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto asked = domain::Admin(*context->store).go_live_requests();
  if (!asked) return fail(asked.error());
  for (const auto& s : *asked) {
    std::cout << s.id.to_string() << "\t" << s.name << "\t" << format_timestamp(*s.go_live_requested_at) << "\t"
              << (s.go_live_requested_by ? s.go_live_requested_by->to_string() : "-") << "\n";
  }
  return 0;
}

int run_service_decline_go_live(const std::string& config_path, const std::string& service) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto declined = admin.decline_go_live(found->id);
  if (!declined) return fail(declined.error());
  auto recorded =
      context->record({security::cli_actor(), "service.go_live_declined", {{"service_id", found->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_guest_list_add(const std::string& config_path, const std::string& service, const std::string& recipient) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto added = admin.add_to_guest_list(found->id, recipient, SystemClock().now());
  if (!added) return fail(added.error());
  // The recipient itself is personal data: the audit log names only the service and the entry.
  auto recorded = context->record({security::cli_actor(),
                                   "service.guest_list_added",
                                   {{"service_id", found->id.to_string()}, {"entry_id", added->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_service_contact_add(const std::string& config_path, const std::string& service, const std::string& kind,
                            const std::string& value, bool is_default) {
  auto parsed_kind = store::parse_contact_kind(kind);
  if (!parsed_kind) return fail(invalid_argument("--kind must be email_reply_to, sms_sender or letter_contact"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  auto contact = admin.add_contact(found->id, *parsed_kind, value, is_default, SystemClock().now());
  if (!contact) return fail(contact.error());
  auto recorded = context->record(
      {security::cli_actor(),
       "service.contact_added",
       {{"service_id", found->id.to_string()}, {"kind", kind}, {"contact_id", contact->id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << contact->id.to_string() << "\n";
  return 0;
}

namespace {

// The service named by the options, with the context to change it in.
struct ServiceItem {
  Context context;
  store::ServiceRecord service;
};
Result<ServiceItem> open_service_item(const std::string& config_path, const ServiceItemOptions& options) {
  auto context = open_context(config_path);
  if (!context) return context.error();
  auto found = domain::Admin(*context->store).find_service(options.service);
  if (!found) return found.error();
  return ServiceItem{std::move(*context), std::move(*found)};
}

Result<Uuid> item_id(const ServiceItemOptions& options) {
  auto id = Uuid::parse(options.id);
  if (!id) return invalid_argument("--id must be an id");
  return *id;
}

Result<store::ContactKind> contact_kind(const ServiceItemOptions& options) {
  auto kind = store::parse_contact_kind(options.kind);
  if (!kind) return invalid_argument("--kind must be email_reply_to, sms_sender or letter_contact");
  return *kind;
}

Result<store::CallbackKind> callback_kind(const ServiceItemOptions& options) {
  if (options.kind == "delivery_status") return store::CallbackKind::kDeliveryStatus;
  if (options.kind == "inbound_sms") return store::CallbackKind::kInboundSms;
  return invalid_argument("--kind must be delivery_status or inbound_sms");
}

// Records the change, the service first among its objects.
int audited(ServiceItem& item, std::string action, std::vector<std::pair<std::string, std::string>> objects) {
  objects.insert(objects.begin(), {"service_id", item.service.id.to_string()});
  auto recorded = item.context.record({security::cli_actor(), std::move(action), std::move(objects)});
  if (!recorded) return fail(recorded.error());
  return 0;
}

}  // namespace

int run_service_guest_list(const std::string& config_path, const ServiceItemOptions& options) {
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  auto entries = domain::Admin(*item->context.store).guest_list(item->service.id);
  if (!entries) return fail(entries.error());
  for (const store::GuestListEntry& e : *entries) {
    std::cout << e.id.to_string() << "  " << e.recipient_type << "  " << e.recipient << "  "
              << format_timestamp(e.created_at) << "\n";
  }
  return 0;
}

int run_service_guest_list_remove(const std::string& config_path, const ServiceItemOptions& options) {
  auto id = item_id(options);
  if (!id) return fail(id.error());
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  if (auto removed = domain::Admin(*item->context.store).remove_from_guest_list(item->service.id, *id); !removed) {
    return fail(removed.error());
  }
  return audited(*item, "service.guest_list_removed", {{"entry_id", options.id}});
}

int run_service_contacts(const std::string& config_path, const ServiceItemOptions& options) {
  auto kind = contact_kind(options);
  if (!kind) return fail(kind.error());
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  auto contacts = item->context.store->service_contacts(item->service.id, *kind);
  if (!contacts) return fail(contacts.error());
  for (const store::ServiceContact& c : *contacts) {
    std::string value = c.value;
    for (std::size_t at = value.find('\n'); at != std::string::npos; at = value.find('\n', at + 2)) {
      value.replace(at, 1, "\\n");
    }
    std::cout << c.id.to_string() << "  " << (c.is_default ? "default" : "-") << "  " << value << "\n";
  }
  return 0;
}

int run_service_contact_update(const std::string& config_path, const ServiceItemOptions& options) {
  auto kind = contact_kind(options);
  if (!kind) return fail(kind.error());
  auto id = item_id(options);
  if (!id) return fail(id.error());
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  auto contacts = item->context.store->service_contacts(item->service.id, *kind);
  if (!contacts) return fail(contacts.error());
  auto it = std::find_if(contacts->begin(), contacts->end(), [&](const auto& c) { return c.id == *id; });
  if (it == contacts->end()) return fail(not_found("no " + options.kind + " " + options.id + " in this service"));
  auto updated = domain::Admin(*item->context.store)
                     .update_contact(item->service.id, *kind, *id, options.value.value_or(it->value),
                                     options.is_default.value_or(it->is_default));
  if (!updated) return fail(updated.error());
  return audited(*item, "service.contact_updated",
                 {{"kind", options.kind}, {"contact_id", options.id}, {"default", updated->is_default ? "yes" : "no"}});
}

int run_service_contact_remove(const std::string& config_path, const ServiceItemOptions& options) {
  auto kind = contact_kind(options);
  if (!kind) return fail(kind.error());
  auto id = item_id(options);
  if (!id) return fail(id.error());
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  if (auto removed = domain::Admin(*item->context.store).remove_contact(item->service.id, *kind, *id); !removed) {
    return fail(removed.error());
  }
  return audited(*item, "service.contact_removed", {{"kind", options.kind}, {"contact_id", options.id}});
}

int run_service_callbacks(const std::string& config_path, const ServiceItemOptions& options) {
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  for (auto kind : {store::CallbackKind::kDeliveryStatus, store::CallbackKind::kInboundSms}) {
    auto callback = item->context.store->find_service_callback(item->service.id, kind);
    if (!callback) return fail(callback.error());
    if (!*callback) continue;
    crypto::wipe_string((*callback)->bearer_token);
    std::cout << store::callback_kind_name(kind) << "  " << (*callback)->url << "  "
              << format_timestamp((*callback)->updated_at) << "\n";
  }
  return 0;
}

int run_service_callback_remove(const std::string& config_path, const ServiceItemOptions& options) {
  auto kind = callback_kind(options);
  if (!kind) return fail(kind.error());
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  if (auto removed = domain::Admin(*item->context.store).remove_callback(item->service.id, *kind); !removed) {
    return fail(removed.error());
  }
  return audited(*item, "service.callback_removed", {{"kind", options.kind}});
}

int run_service_dead_callbacks(const std::string& config_path, const ServiceItemOptions& options) {
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  auto dead = item->context.store->dead_callbacks(item->service.id, 1000);
  if (!dead) return fail(dead.error());
  for (const store::DeadCallback& d : *dead) {
    std::cout << store::callback_kind_name(d.kind) << "  " << d.id.to_string() << "  " << d.attempts << "  "
              << format_timestamp(d.dead_at) << "  " << d.error << "\n";
  }
  return 0;
}

int run_service_replay_callback(const std::string& config_path, const ServiceItemOptions& options) {
  auto kind = callback_kind(options);
  if (!kind) return fail(kind.error());
  auto id = Uuid::parse(options.id);
  if (!id) return fail(invalid_argument("not an id: " + options.id));
  auto item = open_service_item(config_path, options);
  if (!item) return fail(item.error());
  auto replayed = item->context.store->replay_callback(item->service.id, *kind, *id, SystemClock().now());
  if (!replayed) return fail(replayed.error());
  if (!*replayed) return fail(not_found("the service has no dead " + options.kind + " callback " + options.id));
  return audited(*item, "service.callback_replayed", {{"kind", options.kind}, {"id", id->to_string()}});
}

int run_letters_check(const std::string& config_path) {
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  if (!config->letters.sftp) {
    return fail(failed_precondition("no print supplier is configured ([letters] supplier): letters wait, accepted"));
  }
  auto checked = delivery::letters::make_sftp_supplier(*config->letters.sftp)->check();
  if (!checked) return fail(checked.error());
  for (const auto& line : *checked) std::cout << line << "\n";
  return 0;
}

int run_retention(const std::string& config_path, const std::string& now_text) {
  Timestamp now = SystemClock().now();
  if (!now_text.empty()) {
    // Running retention "in the future" destroys data early: only the test suite may.
    const char* testing = std::getenv("HERALD_TESTING");
    if (testing == nullptr || std::string(testing) != "1") return fail(invalid_argument("--now needs HERALD_TESTING=1"));
    auto parsed = parse_timestamp(now_text);
    if (!parsed) return fail(invalid_argument("--now must be like 2026-01-31T00:00:00.000000Z"));
    now = *parsed;
  }
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  // store.retention_url, when set: the retention database role (store/postgres/roles.h).
  auto context = open_context(with_store_role(std::move(*config), "retention"));
  if (!context) return fail(context.error());
  auto report = ops::Retention(*context->store, *context->keys).run(now);
  if (!report) return fail(report.error());
  // As serve's retention job: unsubscribe requests have periods of their own.
  auto expired = context->store->delete_old_unsubscribe_requests(now - domain::kUnsubscribeReportKept,
                                                                 now - domain::kUnsubscribeRequestKept);
  if (!expired) return fail(expired.error());
  auto recorded = context->record({security::cli_actor(), "retention.run", retention_objects(*report)});
  if (!recorded) return fail(recorded.error());
  std::cout << "retention: " << report->services << " services, " << report->redacted
            << " notifications redacted (" << report->failed_pending << " of them undelivered), "
            << report->keys_destroyed << " data keys destroyed, " << report->documents_deleted
            << " expired files deleted\n";
  return 0;
}

namespace {

Result<domain::Subject> subject_of(const SubjectOptions& options) {
  const int given = static_cast<int>(!options.email.empty()) + static_cast<int>(!options.phone.empty()) +
                    static_cast<int>(!options.nhs_number.empty());
  if (given != 1) return invalid_argument("name the person by one of --email, --phone or --nhs-number");
  if (!options.email.empty()) return domain::parse_subject(domain::Subject::Kind::kEmail, options.email);
  if (!options.phone.empty()) return domain::parse_subject(domain::Subject::Kind::kPhone, options.phone);
  return domain::parse_subject(domain::Subject::Kind::kNhsNumber, options.nhs_number);
}

// The audit log's objects of a request: the service, then what domain::audit_objects says.
domain::AuditObjects subject_objects(const store::ServiceRecord& service, domain::AuditObjects objects) {
  objects.insert(objects.begin(), {"service_id", service.id.to_string()});
  return objects;
}

// Writes `text` to a new file only its owner can read (an export is the person's data).
Result<void> write_new_private_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return failed_precondition("cannot create " + path + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return failed_precondition("cannot write " + path);
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (::close(fd) != 0 || !synced) return failed_precondition("cannot write " + path);
  return ok();
}

struct SubjectRequest {
  Context context;
  store::ServiceRecord service;
  domain::Subject subject;
};

Result<SubjectRequest> open_subject_request(const std::string& config_path, const SubjectOptions& options) {
  auto subject = subject_of(options);
  if (!subject) return subject.error();
  auto context = open_context(config_path);
  if (!context) return context.error();
  auto found = domain::Admin(*context->store).find_service(options.service);
  if (!found) return found.error();
  return SubjectRequest{std::move(*context), std::move(*found), std::move(*subject)};
}

}  // namespace

int run_subject_find(const std::string& config_path, const SubjectOptions& options) {
  auto request = open_subject_request(config_path, options);
  if (!request) return fail(request.error());
  auto found = domain::Subjects(*request->context.store).find(request->service.id, request->subject);
  if (!found) return fail(found.error());
  auto recorded =
      request->context.record({security::cli_actor(), "subject.searched",
                               subject_objects(request->service, domain::audit_objects(request->subject, *found))});
  if (!recorded) return fail(recorded.error());
  // One line per record: its id, when, what and its status (no personal data: the export has it).
  for (const auto& r : found->notifications) {
    std::cout << r.id.to_string() << " " << format_timestamp(r.created_at) << " " << store::channel_name(r.type) << " "
              << store::status_name(r.status) << "\n";
  }
  for (const auto& m : found->nhs_messages) {
    std::cout << m.id << " " << format_timestamp(m.created_at) << " nhs-message "
              << store::nhs_message_status_name(m.status) << "\n";
  }
  for (const auto& t : found->received_texts) {
    std::cout << t.id.to_string() << " " << format_timestamp(t.created_at) << " received-text -\n";
  }
  for (const auto& g : found->guest_list) {
    std::cout << g.id.to_string() << " " << format_timestamp(g.created_at) << " guest-list -\n";
  }
  for (const auto& r : found->list_rows) {
    std::cout << r.job.id.to_string() << ":" << r.row << " " << format_timestamp(r.job.created_at) << " list-row "
              << store::job_status_name(r.job.status) << "\n";
  }
  std::cerr << found->notifications.size() << " notifications, " << found->nhs_messages.size()
            << " NHS Notify messages, " << found->received_texts.size() << " received texts, "
            << found->guest_list.size() << " guest list entries, " << found->list_rows.size() << " rows of lists\n";
  return 0;
}

int run_subject_export(const std::string& config_path, const SubjectOptions& options) {
  auto request = open_subject_request(config_path, options);
  if (!request) return fail(request.error());
  const Timestamp now = SystemClock().now();
  auto found = domain::Subjects(*request->context.store).find(request->service.id, request->subject);
  if (!found) return fail(found.error());
  const std::string document = domain::Subjects::export_json(request->service, request->subject, *found, now);
  // Audited before anything is written (an export that leaves the machine is on record first),
  // so a file that is there already is refused before.
  if (!options.out.empty() && ::access(options.out.c_str(), F_OK) == 0) {
    return fail(failed_precondition("cannot create " + options.out + ": it exists"));
  }
  auto recorded =
      request->context.record({security::cli_actor(), "subject.exported",
                               subject_objects(request->service, domain::audit_objects(request->subject, *found))});
  if (!recorded) return fail(recorded.error());
  if (options.out.empty()) {
    std::cout << document << "\n";
  } else if (auto written = write_new_private_file(options.out, document); !written) {
    return fail(written.error());
  }
  std::cerr << "exported " << found->total() << " records\n";
  return 0;
}

int run_subject_erase(const std::string& config_path, const SubjectOptions& options) {
  if (!options.yes) return fail(invalid_argument("erasing cannot be undone: add --yes to erase"));
  auto request = open_subject_request(config_path, options);
  if (!request) return fail(request.error());
  auto erased =
      domain::Subjects(*request->context.store).erase(request->service.id, request->subject, SystemClock().now());
  if (!erased) return fail(erased.error());
  auto recorded =
      request->context.record({security::cli_actor(), "subject.erased",
                               subject_objects(request->service, domain::audit_objects(request->subject, *erased))});
  if (!recorded) return fail(recorded.error());
  std::cout << "erased: " << erased->notifications << " notifications (" << erased->failed_pending
            << " of them undelivered, now failed), " << erased->nhs_messages << " NHS Notify messages, "
            << erased->inbound_sms << " received texts, " << erased->guest_list_entries << " guest list entries, "
            << erased->jobs << " lists' rows, " << erased->documents << " files, " << erased->unsubscribe_requests
            << " unsubscribe requests\n";
  return 0;
}

namespace {

// The service's unsubscribe requests through the domain (its links are not made here).
struct UnsubscribeContext {
  Context context;
  store::ServiceRecord service;
  std::unique_ptr<domain::UnsubscribeLinks> links;
  std::unique_ptr<domain::Unsubscribes> unsubscribes;
};

Result<UnsubscribeContext> open_unsubscribes(const std::string& config_path, const std::string& service) {
  auto context = open_context(config_path);
  if (!context) return context.error();
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return found.error();
  UnsubscribeContext out{std::move(*context), std::move(*found), nullptr, nullptr};
  out.links = std::make_unique<domain::UnsubscribeLinks>(*out.context.cipher, "");
  out.unsubscribes = std::make_unique<domain::Unsubscribes>(*out.context.store, *out.links);
  return out;
}

}  // namespace

int run_unsubscribe_reports(const std::string& config_path, const std::string& service) {
  auto opened = open_unsubscribes(config_path, service);
  if (!opened) return fail(opened.error());
  auto reports = opened->unsubscribes->reports(opened->service.id);
  if (!reports) return fail(reports.error());
  for (const auto& r : *reports) {
    std::cout << (r.id == Uuid{} ? std::string("pending") : r.id.to_string()) << " " << r.count << " "
              << format_timestamp(r.earliest) << " " << format_timestamp(r.latest) << " "
              << (r.id == Uuid{}   ? "not-downloaded"
                  : r.processed_at ? "completed"
                                   : "downloaded")
              << "\n";
  }
  return 0;
}

int run_unsubscribe_download(const std::string& config_path, const std::string& service, const std::string& report) {
  Uuid id;
  if (!report.empty() && report != "pending") {
    auto parsed = Uuid::parse(report);
    if (!parsed) return fail(invalid_argument("--report must be a report id or \"pending\""));
    id = *parsed;
  }
  auto opened = open_unsubscribes(config_path, service);
  if (!opened) return fail(opened.error());
  store::UnsubscribeReport made;
  auto csv = opened->unsubscribes->download(opened->service.id, id, SystemClock().now(), made);
  if (!csv) return fail(csv.error());
  // The report holds addresses: audited as the admin UI's download is (the report and its count).
  auto recorded = opened->context.record({security::cli_actor(),
                                          "unsubscribe.report_downloaded",
                                          {{"service_id", opened->service.id.to_string()},
                                           {"report_id", made.id.to_string()},
                                           {"requests", std::to_string(made.count)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << *csv;
  std::cerr << "report " << made.id.to_string() << ": " << made.count << " requests\n";
  return 0;
}

int run_unsubscribe_done(const std::string& config_path, const std::string& service, const std::string& report,
                         bool undo) {
  auto id = Uuid::parse(report);
  if (!id) return fail(invalid_argument("--report must be a report id"));
  auto opened = open_unsubscribes(config_path, service);
  if (!opened) return fail(opened.error());
  auto marked = opened->unsubscribes->mark_done(opened->service.id, *id, !undo, SystemClock().now());
  if (!marked) return fail(marked.error());
  if (!*marked) return fail(not_found("no such report in this service"));
  auto recorded = opened->context.record({security::cli_actor(),
                                          undo ? "unsubscribe.report_reopened" : "unsubscribe.report_completed",
                                          {{"service_id", opened->service.id.to_string()}, {"report_id", report}}});
  if (!recorded) return fail(recorded.error());
  return 0;
}

int run_report_day(const std::string& config_path, const std::string& service, const std::string& day_text) {
  const auto day = domain::parse_day(day_text);
  if (!day) return fail(invalid_argument("--day must be like 2026-12-03 (a UTC day)"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  std::size_t count = 0;
  auto csv = domain::day_report_csv(*context->store, found->id, *day, count);
  if (!csv) return fail(csv.error());
  // The report holds recipients: audited, as the admin UI's download is (the day and the count).
  auto recorded = context->record(
      {security::cli_actor(),
       "notifications.report_downloaded",
       {{"service_id", found->id.to_string()}, {"day", day_text}, {"notifications", std::to_string(count)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << *csv;
  std::cerr << count << " notifications\n";
  return 0;
}

}  // namespace herald::cli
