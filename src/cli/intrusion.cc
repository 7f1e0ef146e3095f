#include "cli/intrusion.h"

#include <syslog.h>

#include <iostream>

#include "api/govuk_v2/errors.h"
#include "api/nhs_v1/errors.h"
#include "cli/commands.h"
#include "core/cidr.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/hmac.h"
#include "net/http_client.h"
#include "security/audit.h"

namespace herald::cli {
namespace {

bool under(std::string_view path, std::string_view prefix) {
  return !prefix.empty() && path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace

std::string security_event_json(const security::SecurityEvent& event, Timestamp at, const std::string& node) {
  json::Writer w;
  w.begin_object();
  w.key("type").string("security_event");
  w.key("detector").string(event.detector);
  w.key("subject").string(event.subject);
  w.key("source").string(event.source);
  w.key("detail").string(event.detail);
  w.key("blocked_until")
      .string_or_null(event.blocked_until ? std::optional<std::string>(format_timestamp(*event.blocked_until))
                                          : std::nullopt);
  w.key("at").string(format_timestamp(at));
  w.key("node").string(node);
  w.end_object();
  return w.take();
}

std::string webhook_signature(const std::string& body, const std::string& secret) {
  return "sha256=" + hex_encode(crypto::hmac_sha256(secret, body));
}

std::unique_ptr<security::IntrusionDetector> make_intrusion_detector(Context& context, const Config& config,
                                                                     const Clock& clock, std::string node) {
  if (!config.security.intrusion_detection) return nullptr;
  const SecurityConfig& sec = config.security;
  security::IntrusionOptions options;
  options.auth_failures = sec.auth_failures;
  options.not_found = sec.not_found;
  options.window = std::chrono::seconds(sec.window_seconds);
  options.block_base = std::chrono::seconds(sec.block_seconds);
  options.block_cap = std::chrono::seconds(sec.block_max_seconds);
  if (auto never = cidr::NetworkSet::parse(sec.never_block)) options.never_block = std::move(*never);
  auto sink = [&context, &clock, webhook = sec.webhook_url, secret = sec.webhook_secret, http = config.callbacks.http,
               node = std::move(node)](const security::SecurityEvent& event) {
    const Timestamp now = clock.now();
    std::vector<std::pair<std::string, std::string>> objects = {{"subject", event.subject}, {"detail", event.detail}};
    if (event.blocked_until) objects.emplace_back("blocked_until", format_timestamp(*event.blocked_until));
    security::AuditEvent audit{"system:intrusion-detection", "security." + event.detector, std::move(objects),
                               event.block ? "blocked" : "detected", event.source.empty() ? "local" : event.source};
    if (auto recorded = context.audit->record(std::move(audit), now); !recorded) {
      log::error("audit.write_failed", {{"error", recorded.error().message}});
    }
    ::syslog(LOG_AUTHPRIV | LOG_WARNING, "herald security event %s subject=%s source=%s: %s", event.detector.c_str(),
             event.subject.c_str(), event.source.empty() ? "-" : event.source.c_str(), event.detail.c_str());
    if (webhook.empty()) return;
    const std::string body = security_event_json(event, now, node);
    auto sent = net::https_request(
        "POST", webhook,
        {{"Content-Type", "application/json"}, {"X-Herald-Signature", webhook_signature(body, secret)}}, body, http);
    if (!sent || sent->status < 200 || sent->status > 299) {
      log::error("security.webhook_failed",
                 {{"error", sent ? "answered " + std::to_string(sent->status) : sent.error().message}});
    }
  };
  ::openlog("herald", LOG_PID, LOG_AUTHPRIV);
  return std::make_unique<security::IntrusionDetector>(*context.store, *context.store, clock, options, std::move(sink));
}

net::Response blocked_response(const net::Request& request, const std::string& nhs_prefix, Timestamp now,
                               Timestamp until) {
  const auto seconds = std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(until - now).count());
  if (under(request.path, nhs_prefix) || under(request.path, "/oauth2")) {
    return api::nhs_v1::quota(api::nhs_v1::exchange_for(request),
                              static_cast<int>(std::min<std::int64_t>(seconds, 86400)));
  }
  net::Response response = api::govuk_v2::error_response(
      Error{ErrorCode::kResourceExhausted,
            "Too many requests from your address: try again after " + format_timestamp(until).substr(0, 19) + "Z"});
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

void guard_api_router(api::Router& router, security::IntrusionDetector* detector, const Clock& clock,
                      std::string nhs_prefix) {
  if (detector == nullptr) return;
  router.set_gate(
      [detector, &clock, prefix = std::move(nhs_prefix)](const net::Request& request) -> std::optional<net::Response> {
        const auto until = detector->blocked_until(request.remote_address);
        if (!until) return std::nullopt;
        return blocked_response(request, prefix, clock.now(), *until);
      });
  router.set_response_observer([detector](const std::string& route, int status, const std::string& source) {
    detector->response(route, status, source);
  });
}

void guard_admin_router(api::Router& router, security::IntrusionDetector* detector) {
  if (detector == nullptr) return;
  router.set_gate([detector](const net::Request& request) -> std::optional<net::Response> {
    if (!detector->blocked_until(request.remote_address)) return std::nullopt;
    return api::admin::protocol_error(429);
  });
}

void note_admin_event(security::IntrusionDetector* detector, const api::admin::Event& event) {
  if (detector == nullptr || !event.action.starts_with("admin.sign_in.")) return;
  const std::string subject = event.actor == "anonymous" ? "" : event.actor;
  if (event.outcome.starts_with("failure")) {
    detector->auth_failure("admin", event.outcome, event.source, subject);
  } else if (event.action == "admin.sign_in.second_factor" && !subject.empty()) {
    detector->authenticated(subject, subject, "", event.source);
  }
}

int run_security_events(const std::string& config_path, const std::string& since_text) {
  return run_audit_export(config_path, since_text, "security.");
}

int run_security_blocks(const std::string& config_path) {
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  auto blocks = context->store->running_blocks(SystemClock().now());
  if (!blocks) return fail(blocks.error());
  for (const auto& b : *blocks) {
    std::cout << b.source << "\tuntil " << format_timestamp(b.until) << "\tstrikes " << b.strikes << "\t" << b.reason
              << "\n";
  }
  if (blocks->empty()) std::cerr << "no source is blocked\n";
  return 0;
}

int run_security_unblock(const std::string& config_path, const std::string& source) {
  const auto address = cidr::parse_address(source);
  if (!address) return fail(invalid_argument("--source must be an IP address"));
  auto context = open_context(config_path);
  if (!context) return fail(context.error());
  // Blocks are kept under the address as the listener reports it (canonical text).
  auto removed = context->store->unblock_source(cidr::to_string(*address));
  if (!removed) return fail(removed.error());
  if (!*removed) {
    std::cerr << cidr::to_string(*address) << " is not blocked\n";
    return 1;
  }
  if (auto recorded =
          context->record({security::cli_actor(), "security.unblocked", {{"source", cidr::to_string(*address)}}});
      !recorded) {
    return fail(recorded.error());
  }
  std::cerr << "unblocked " << cidr::to_string(*address) << " (every node within a second)\n";
  return 0;
}

}  // namespace herald::cli
