// Personal-data lifecycle from the shell: retention periods, the retention job, and finding a
// person's notifications through the blind index (SC-02).

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "cli/context.h"
#include "crypto/secret.h"
#include "delivery/letters/sftp_supplier.h"
#include "domain/admin.h"
#include "domain/recipients/email_address.h"
#include "domain/reports.h"
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
  auto parsed_url = net::parse_https_url(url);
  if (!parsed_url) return fail(invalid_argument("--url: " + parsed_url.error().message));
  std::ifstream in(token_file, std::ios::binary);
  if (!in) return fail(invalid_argument("cannot read " + token_file));
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto config = load_config(config_path);
  if (!config) return fail(config.error());
  // The SSRF guard at save time too (it is applied again on every connection).
  if (config->callbacks.http.policy == net::AddressPolicy::kPublicOnly) {
    auto addresses = net::system_resolve(parsed_url->host, parsed_url->port);
    if (!addresses) return fail(invalid_argument("--url: cannot resolve " + parsed_url->host));
    for (const auto& address : *addresses) {
      const auto* sa = reinterpret_cast<const sockaddr*>(&address);
      if (!net::is_public_address(sa)) {
        return fail(invalid_argument("--url: " + parsed_url->host + " resolves to " + net::address_text(sa) +
                                     ", which is not a public address (callbacks.allow_private_addresses allows it)"));
      }
    }
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

int run_service_guest_list_add(const std::string& config_path, const std::string& service, const std::string& recipient) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  domain::Admin admin(*context->store);
  auto found = admin.find_service(service);
  if (!found) return fail(found.error());
  if (auto added = admin.add_to_guest_list(found->id, recipient, SystemClock().now()); !added) return fail(added.error());
  // The recipient itself is personal data: the audit log names only the service.
  auto recorded = context->record({security::cli_actor(), "service.guest_list_added", {{"service_id", found->id.to_string()}}});
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
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto report = ops::Retention(*context->store, *context->keys).run(now);
  if (!report) return fail(report.error());
  auto recorded = context->record({security::cli_actor(), "retention.run", retention_objects(*report)});
  if (!recorded) return fail(recorded.error());
  std::cout << "retention: " << report->services << " services, " << report->redacted
            << " notifications redacted (" << report->failed_pending << " of them undelivered), "
            << report->keys_destroyed << " data keys destroyed, " << report->documents_deleted
            << " expired files deleted\n";
  return 0;
}

int run_subject_find(const std::string& config_path, const std::string& service, const std::string& email) {
  auto valid = domain::validate_email_address(email);
  if (!valid) return fail(valid.error());
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  auto records = context->store->find_by_recipient(found->id, domain::normalise_email_for_index(*valid));
  if (!records) return fail(records.error());
  // A data export: audited with the service and the count, never the address.
  auto recorded = context->record({security::cli_actor(), "subject.exported",
                                   {{"service_id", found->id.to_string()}, {"notifications", std::to_string(records->size())}}});
  if (!recorded) return fail(recorded.error());
  for (const auto& r : *records) {
    std::cout << r.id.to_string() << " " << format_timestamp(r.created_at) << " " << store::channel_name(r.type) << " "
              << store::status_name(r.status) << "\n";
  }
  std::cerr << records->size() << " notifications\n";
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
