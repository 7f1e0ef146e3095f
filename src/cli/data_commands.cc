// Personal-data lifecycle from the shell: retention periods, the retention job, and finding a
// person's notifications through the blind index (SC-02).

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "cli/context.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "delivery/letters/sftp_supplier.h"
#include "net/http_client.h"
#include "domain/admin.h"
#include "domain/email_address.h"
#include "domain/phone_number.h"
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
  // GOV.UK Notify lets a service keep data for 3 to 90 days.
  if (days < 3 || days > 90) return fail(invalid_argument("--days must be between 3 and 90"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  if (auto set = context->store->set_service_retention(found->id, days); !set) return fail(set.error());
  auto recorded = context->record({security::cli_actor(), "service.retention_changed",
                                   {{"service_id", found->id.to_string()}, {"days", std::to_string(days)}}});
  if (!recorded) return fail(recorded.error());
  std::cout << "service " << found->id.to_string() << " keeps personal data for " << days << " days\n";
  return 0;
}

int run_service_set(const std::string& config_path, const ServiceSettingsOptions& options) {
  static constexpr std::array<std::string_view, 7> kKnown = {
      "email", "sms", "letter", "international_sms", "sms_to_uk_landlines", "inbound_sms", "international_letters"};
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(options.service);
  if (!found) return fail(found.error());
  store::ServiceRecord changed = *found;
  if (options.permissions) {
    changed.permissions = store::split_permissions(*options.permissions);
    for (const auto& p : changed.permissions) {
      if (std::find(kKnown.begin(), kKnown.end(), p) == kKnown.end()) {
        return fail(invalid_argument("unknown permission " + p + " (known: email, sms, letter, international_sms, "
                                     "sms_to_uk_landlines, inbound_sms, international_letters)"));
      }
    }
  }
  if (options.sms_prefix) changed.prefix_sms = *options.sms_prefix;
  for (const auto* limit : {&options.email_limit, &options.sms_limit, &options.letter_limit,
                            &options.international_sms_limit}) {
    if (*limit && **limit < 0) return fail(invalid_argument("daily limits must not be negative"));
  }
  if (options.rate_limit) {
    if (*options.rate_limit < 1) return fail(invalid_argument("--rate-limit must be at least 1"));
    changed.rate_limit = *options.rate_limit;
  }
  if (options.email_limit) changed.email_limit = *options.email_limit;
  if (options.sms_limit) changed.sms_limit = *options.sms_limit;
  if (options.letter_limit) changed.letter_limit = *options.letter_limit;
  if (options.international_sms_limit) changed.international_sms_limit = *options.international_sms_limit;
  if (auto saved = context->store->update_service(changed); !saved) return fail(saved.error());
  auto recorded = context->record({security::cli_actor(), "service.settings_changed",
                                   {{"service_id", found->id.to_string()},
                                    {"permissions", store::join_permissions(changed.permissions)},
                                    {"prefix_sms", changed.prefix_sms ? "on" : "off"},
                                    {"rate_limit", std::to_string(changed.rate_limit)},
                                    {"daily_limits", std::to_string(changed.email_limit) + "/" +
                                                         std::to_string(changed.sms_limit) + "/" +
                                                         std::to_string(changed.letter_limit) + "/" +
                                                         std::to_string(changed.international_sms_limit)}}});
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
  if (token.size() < 10) return fail(invalid_argument("the bearer token must be at least 10 characters"));
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
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  store::ServiceCallback callback{found->id, *parsed_kind, url, std::move(token), SystemClock().now()};
  auto saved = context->store->set_service_callback(callback);
  crypto::wipe_string(callback.bearer_token);
  if (!saved) return fail(saved.error());
  auto recorded = context->record({security::cli_actor(), "service.callback_set",
                                   {{"service_id", found->id.to_string()}, {"kind", kind}, {"url", url}}});
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
  if (value.empty() || value.size() > 1000) return fail(invalid_argument("--value must be 1 to 1000 characters"));
  std::string stored = value;
  if (*parsed_kind == store::ContactKind::kEmailReplyTo) {
    auto address = domain::validate_email_address(value);
    if (!address) return fail(invalid_argument("--value is not a valid email address"));
    stored = *address;
  } else if (*parsed_kind == store::ContactKind::kSmsSender) {
    // GOV.UK: 3 to 11 letters and digits, or a phone number.
    const bool alphanumeric = value.size() >= 3 && value.size() <= 11 &&
                              std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
    if (!alphanumeric && !domain::parse_phone_number(value)) {
      return fail(invalid_argument("--value must be 3 to 11 letters and digits, or a phone number"));
    }
  }
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto found = domain::Admin(*context->store).find_service(service);
  if (!found) return fail(found.error());
  store::ServiceContact contact{crypto::random_uuid(), found->id, *parsed_kind, stored, is_default, SystemClock().now()};
  if (auto added = context->store->add_service_contact(contact); !added) return fail(added.error());
  auto recorded = context->record({security::cli_actor(), "service.contact_added",
                                   {{"service_id", found->id.to_string()}, {"kind", kind},
                                    {"contact_id", contact.id.to_string()}}});
  if (!recorded) return fail(recorded.error());
  std::cout << contact.id.to_string() << "\n";
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

}  // namespace herald::cli
