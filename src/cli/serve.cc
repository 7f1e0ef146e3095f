// `herald serve`: wires the store, domain, API, HTTPS server and delivery worker together, then
// waits for SIGTERM or SIGINT and shuts down gracefully: the listener closes, in-flight requests
// finish, the worker finishes the message in hand. Anything accepted but not yet delivered is
// in the database and is delivered after the next start. SIGHUP reloads what is safe to change
// while running (the TLS certificate and key, the log level) without dropping a connection.

#include <signal.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "api/admin/handlers.h"
#include "api/documents/download.h"
#include "api/govuk_v2/errors.h"
#include "api/govuk_v2/handlers.h"
#include "api/nhs_v1/errors.h"
#include "api/nhs_v1/handlers.h"
#include "api/nhs_v1/sandbox.h"
#include "api/ops/openapi.h"
#include "api/ops/routes.h"
#include "api/providers/nhs_app_receipts.h"
#include "api/providers/sms_receipts.h"
#include "api/router.h"
#include "api/unsubscribe/unsubscribe.h"
#include "cli/build_info.h"
#include "cli/commands.h"
#include "cli/compliance.h"
#include "cli/config_check.h"
#include "cli/context.h"
#include "cli/intrusion.h"
#include "cli/sms_providers.h"
#include "core/cidr.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/periodic.h"
#include "crypto/jwk.h"
#include "crypto/secret.h"
#include "delivery/callbacks.h"
#include "delivery/email_dispatcher.h"
#include "delivery/letter_dispatcher.h"
#include "delivery/letters/sftp_supplier.h"
#include "delivery/nhs_app/nhs_app_client.h"
#include "delivery/nhs_callbacks.h"
#include "delivery/nhs_platform/platform_token.h"
#include "delivery/pds/pds_client.h"
#include "delivery/sms/sms_router.h"
#include "delivery/sms_dispatcher.h"
#include "delivery/smtp/smtp_client.h"
#include "delivery/worker.h"
#include "domain/authenticator.h"
#include "domain/letters/letter_timings.h"
#include "domain/letters/letters.h"
#include "domain/nhs/cascade.h"
#include "domain/nhs/clients.h"
#include "domain/nhs/demographics.h"
#include "domain/nhs/token_issuer.h"
#include "domain/notifications.h"
#include "domain/received_texts.h"
#include "domain/templates.h"
#include "domain/users/users.h"
#include "net/http_client.h"
#include "net/https_server.h"
#include "ops/key_check.h"
#include "ops/monitoring.h"
#include "ops/retention.h"

namespace herald::cli {
namespace {

json::Value running_build() {
  return json::Value::object({{"version", json::Value::string(kBuildInfo.version)},
                              {"commit", json::Value::string(kBuildInfo.commit)},
                              {"binary_sha256", json::Value::string(running_binary_sha256())}});
}

log::Level parse_level(const std::string& level) {
  if (level == "debug") return log::Level::kDebug;
  if (level == "warn") return log::Level::kWarn;
  if (level == "error") return log::Level::kError;
  return log::Level::kInfo;
}

// The signals serve waits for (blocked in every thread, so that only sigwait sees them).
sigset_t serve_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// SIGHUP: the configuration read again; of it, the log level and the listeners' certificate and
// key take effect (the rest needs a restart). On any error the running settings stay.
void reload(const std::string& config_path, const std::vector<net::HttpsServer*>& servers) {
  auto config = load_config(config_path);
  if (!config) {
    log::error("serve.reload_failed", {{"error", config.error().message}});
    return;
  }
  for (net::HttpsServer* server : servers) {
    if (auto reloaded = server->reload_tls(config->server.certificate_file, config->server.private_key_file);
        !reloaded) {
      log::error("serve.reload_failed", {{"error", reloaded.error().message}});
      return;
    }
  }
  log::set_min_level(parse_level(config->log_level));
  log::info("serve.reloaded", {{"certificate", config->server.certificate_file}, {"log_level", config->log_level}});
}

// Waits for SIGTERM or SIGINT (returned), reloading on each SIGHUP meanwhile.
int wait_for_stop(const std::string& config_path, const std::vector<net::HttpsServer*>& servers) {
  const sigset_t set = serve_signals();
  for (;;) {
    int signal_number = 0;
    sigwait(&set, &signal_number);
    if (signal_number != SIGHUP) return signal_number;
    reload(config_path, servers);
  }
}

Result<std::unique_ptr<net::HttpsServer>> start_api(const Config& config, api::Router& router) {
  return net::HttpsServer::start(
      config.server,
      [&router](net::Request&& request, net::Responder respond) {
        router.handle(std::move(request), std::move(respond));
      },
      [prefix = config.nhs.prefix](int status, std::string_view message, std::string_view target) {
        // Under NHS Notify's prefix, its own error format; else GOV.UK's.
        if (!prefix.empty() && target.starts_with(prefix) &&
            (target.size() == prefix.size() || target[prefix.size()] == '/' || target[prefix.size()] == '?')) {
          return api::nhs_v1::protocol_error(status);
        }
        return api::govuk_v2::malformed_request(status, message);
      });
}

// The operations listener's port for a role: [metrics] port for role all, and the next three for
// api, worker and admin, so that the three role units of one machine (one configuration) do not
// collide. 0 stays 0 (a free port).
std::uint16_t metrics_port_for(std::uint16_t port, const std::string& role) {
  if (port == 0) return 0;
  const int offset = role == "api" ? 1 : role == "worker" ? 2 : role == "admin" ? 3 : 0;
  return static_cast<std::uint16_t>(std::min(65535, port + offset));
}

// This node's name in the store's heartbeat marks: the host and the role, stable across restarts.
std::string node_name(const std::string& role) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "unknown") + "/" + role;
}

// A path on the disk that holds this node's data: the SQLite database's directory, else the
// configuration's (PostgreSQL keeps the data elsewhere; the checkpoint file and keyring are here).
std::string data_disk_path(const Config& config) {
  const std::string file = config.store_url.empty() ? config.database_path : config.path;
  const std::string dir = std::filesystem::absolute(file).parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace

namespace {

// The platform token source from [nhs_platform]: its private key read once, its API key set.
Result<std::shared_ptr<delivery::nhs_platform::PlatformToken>> platform_token_for(const NhsPlatformConfig& config,
                                                                                  const Clock& clock) {
  auto pem = read_text_file(config.private_key_file);
  if (!pem) return invalid_argument("nhs_platform.private_key: " + pem.error().message);
  auto key = crypto::RsaPrivateKey::from_pem(*pem);
  crypto::wipe_string(*pem);
  if (!key) return invalid_argument("nhs_platform.private_key: " + key.error().message);
  if (config.api_key.empty()) return invalid_argument("nhs_platform: " + config.api_key_env + " is not set");
  return std::make_shared<delivery::nhs_platform::PlatformToken>(
      delivery::nhs_platform::PlatformCredentials{config.token_url, config.api_key, config.kid, config.http}, *key,
      clock);
}

}  // namespace

int run_serve(const ServeOptions& options) {
  if (options.role != "all" && options.role != "api" && options.role != "worker" && options.role != "admin") {
    log::error("serve.start_failed", {{"error", "--role must be all, api, worker or admin"}});
    return 2;
  }
  // What this node runs: delivery (worker, retention, cascades), the API listener, the admin UI.
  const bool delivery_role = options.role == "all" || options.role == "worker";
  const bool api_role = options.role == "all" || options.role == "api";
  const bool admin_role = options.role == "all" || options.role == "admin";
  // Block the shutdown and reload signals before any thread starts, so that only sigwait sees them.
  const sigset_t set = serve_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto loaded = load_config(options.config_path);
  if (!loaded) {
    log::error("serve.start_failed", {{"error", loaded.error().message}});
    return 1;
  }
  // On PostgreSQL with per-role URLs, this node connects as its role's database role, which holds
  // only that role's grants (store/postgres/roles.h); retention's deletes are not among the worker's.
  Config role_config = with_store_role(std::move(*loaded), options.role);
  if (!role_config.store_migrate && delivery_role && role_config.retention_in_serve) {
    log::error("serve.start_failed",
               {{"error",
                 "store.worker_url is set, and its role may not run retention: set [retention] in_serve = "
                 "false and run `herald retention run` from a timer (store.retention_url)"}});
    return 1;
  }
  auto context = open_context(std::move(role_config));
  if (!context) {
    log::error("serve.start_failed", {{"error", context.error().message}});
    return 1;
  }
  const Config& config = context->config;
  log::set_min_level(parse_level(config.log_level));
  if (delivery_role) {
    if (auto secrets = check_sms_provider_secrets(config); !secrets) {
      log::error("serve.start_failed", {{"error", secrets.error().message}});
      return 1;
    }
  }
  if (auto matches = context->keys->check_kek_matches_store(); !matches) {
    log::error("serve.start_failed", {{"error", matches.error().message}});
    return 1;
  }
  // Before any key is made: the key store opens every day of data the database holds.
  if (auto opens =
          ops::check_keys_open_data(*context->store, *context->store, *context->store, context->keys->repository());
      !opens) {
    log::error("serve.start_failed", {{"error", opens.error().message}});
    return 1;
  } else {
    log::info("keys.checked", {{"service_days", std::to_string(opens->days)}});
  }
  if (crypto::init_secure_memory() != crypto::SecureMemory::kLocked) {
    log::warn("keys.memory_not_locked", {{"warning", "key memory could not be locked (mlock): raise RLIMIT_MEMLOCK"}});
  }
  SystemClock clock;
  // Intrusion detection and prevention (cli/intrusion.h): the detector every listener reports to,
  // the source blocks it shares with other nodes, outbound certificate failures, the egress list.
  const auto detector = make_intrusion_detector(*context, config, clock, node_name(options.role));
  if (detector) {
    net::set_certificate_failure_observer([d = detector.get()](const std::string& host, const std::string& reason) {
      d->certificate_error(host, reason);
    });
  }
  if (auto egress = cidr::NetworkSet::parse(config.security.egress_allow)) net::set_egress_allow_list(*egress);
  domain::Authenticator authenticator(*context->store);
  domain::Notifications notifications(*context->store, notifications_config(*context));
  domain::Templates templates(*context->store);
  domain::ReceivedTexts received_texts(*context->store, notifications.lookups());
  domain::Letters letters(*context->store, notifications, {config.letters.logo_png});
  if (std::chrono::floor<std::chrono::days>(clock.now()) + std::chrono::days{60} > domain::bank_holidays_known_until()) {
    log::warn(
        "letters.bank_holidays_ending",
        {{"warning", "letters' estimated_delivery knows bank holidays only until " +
                         format_timestamp(std::chrono::time_point_cast<Duration>(domain::bank_holidays_known_until()))
                             .substr(0, 10) +
                         ": update src/domain/letters/letter_timings.cc"}});
  }

  // Texts go through the configured SMS providers, failing over between them.
  std::unique_ptr<delivery::sms::SmsRouter> sms_router;
  if (!config.sms.providers.empty()) {
    std::vector<std::unique_ptr<delivery::sms::SmsProvider>> sms_providers;
    for (const auto& p : config.sms.providers) {
      sms_providers.push_back(p.kind->make(p.options));
      if (p.receipt_password.empty()) {
        log::warn("sms.receipts_refused", {{"provider", p.name},
                                           {"warning", "no receipt password is set, so its delivery receipts are refused"}});
      }
    }
    sms_router = std::make_unique<delivery::sms::SmsRouter>(std::move(sms_providers), clock, config.sms.failover);
  }

  // --role api runs no worker; --role worker opens no listening port (SC-06).
  // Hosted unsubscribe links point at the public API's address (server.public_url; else this
  // server as localhost, which only a person on this machine can follow: set public_url).
  const std::string unsubscribe_root =
      !config.public_url.empty() ? config.public_url : "https://localhost:" + std::to_string(config.server.port) + "/";
  domain::UnsubscribeLinks unsubscribe_links(*context->cipher, unsubscribe_root);
  domain::Unsubscribes unsubscribes(*context->store, unsubscribe_links);
  domain::Outgoing outgoing(*context->store, config.email_domain, &unsubscribe_links);  // outlives the worker
  std::unique_ptr<delivery::letters::LetterProvider> print_supplier;  // outlives the worker
  std::unique_ptr<delivery::DeliveryWorker> worker;
  if (delivery_role) {
    // Letters go to the print supplier, when one is configured; otherwise they wait, accepted.
    if (config.letters.sftp) print_supplier = delivery::letters::make_sftp_supplier(*config.letters.sftp);
    // One lane (thread) per relay connection; texts and letters share the router and supplier.
    std::vector<delivery::Lane> lanes(config.delivery_connections);
    const delivery::LetterDispatchOptions letter_options{config.letters.batch_size, std::chrono::minutes(10)};
    for (auto& lane : lanes) {
      lane[static_cast<std::size_t>(store::Channel::kEmail)] = std::make_unique<delivery::EmailDispatcher>(
          std::make_unique<delivery::smtp::SmtpProvider>(config.smtp, clock), outgoing);
      lane[static_cast<std::size_t>(store::Channel::kSms)] =
          std::make_unique<delivery::SmsDispatcher>(sms_router.get(), outgoing);
      lane[static_cast<std::size_t>(store::Channel::kLetter)] =
          std::make_unique<delivery::LetterDispatcher>(*context->store, print_supplier.get(), letter_options);
    }
    worker = std::make_unique<delivery::DeliveryWorker>(*context->store, std::move(lanes), clock, config.worker);
    // Deliver what is accepted without waiting for the worker's poll.
    notifications.on_queued([w = worker.get()] { w->notify(); });
  }
  // Delivery-status callbacks run wherever deliveries do.
  std::unique_ptr<delivery::CallbackSender> callbacks;
  std::unique_ptr<delivery::NhsCallbackSender> nhs_callbacks;
  if (delivery_role) {
    callbacks = std::make_unique<delivery::CallbackSender>(*context->store, clock, config.callbacks);
    nhs_callbacks = std::make_unique<delivery::NhsCallbackSender>(*context->store, clock, config.nhs.callbacks);
  }
  api::Router router(config.api_threads, api::govuk_v2::router_errors());
  router.name_api("/v2", "govuk_v2");
  if (!config.nhs.prefix.empty()) router.name_api(config.nhs.prefix, "nhs_v1");
  router.name_api("/oauth2", "nhs_v1");
  guard_api_router(router, detector.get(), clock, config.nhs.prefix);
  security::AuthFailureTally auth_failures;
  auto& auth_failure_count = metrics::registry().counter(
      "herald_auth_failures_total", "Requests refused for their credentials, by API and reason.", {"api", "reason"});
  api::govuk_v2::AuthHooks govuk_auth_hooks{
      [&auth_failures, &auth_failure_count, d = detector.get()](std::string_view reason, std::string_view source,
                                                                std::string_view subject) {
        auth_failures.note(reason, source);
        auth_failure_count.with({"govuk_v2", reason}).inc();
        if (d != nullptr) d->auth_failure("govuk_v2", reason, source, subject);
      },
      nullptr};
  if (detector) {
    govuk_auth_hooks.admitted = [d = detector.get()](const domain::Caller& caller, std::string_view token,
                                                     std::string_view source) {
      d->authenticated("key:" + caller.key.to_string(), "service:" + caller.service.to_string(), token, source);
    };
  }
  api::govuk_v2::register_routes(
      router, {authenticator, notifications, templates, received_texts, letters, clock, config.public_url,
               api::govuk_v2::Prices{config.sms.rate_in_pounds, config.letters.prices}, std::move(govuk_auth_hooks)});
  // NHS Notify's API and its token endpoint. Clients' JWKS URLs are fetched under the callbacks'
  // outbound rules (public addresses only unless allowed, verified TLS, timeouts).
  domain::nhs::NhsClients nhs_clients(*context->store, clock);
  domain::nhs::TokenIssuer nhs_tokens(
      *context->store, clock, {}, [http = config.callbacks.http](const std::string& url) -> Result<std::string> {
        auto response = net::https_request("GET", url, {{"Accept", "application/json"}}, "", http);
        if (!response) return response.error();
        if (response->status != 200) {
          return unavailable("JWKS URL answered " + std::to_string(response->status));
        }
        return std::move(response->body);
      });
  domain::nhs::RoutingPlans nhs_plans(*context->store, *context->store, *context->store, clock);
  domain::nhs::NhsMessages nhs_messages(*context->store, nhs_plans, clock);
  domain::nhs::NhsRateLimits nhs_limits(*context->store, clock,
                                        {config.nhs.rate_limit_per_minute, config.nhs.spike_arrest_per_minute});
  if (config.nhs.sandbox) {
    // NHS's public sandbox in place of the API: nothing under the prefix reaches the store.
    api::nhs_v1::register_sandbox_routes(router, {clock, config.nhs.prefix, config.public_url});
    log::warn("nhs.sandbox_mode", {{"prefix", config.nhs.prefix}});
  } else {
    api::nhs_v1::register_routes(
        router,
        {nhs_tokens, nhs_clients, nhs_messages, nhs_limits, clock, config.nhs.prefix, "/oauth2/token",
         config.nhs.token_url, config.public_url,
         [&auth_failures, &auth_failure_count, d = detector.get()](std::string_view reason, std::string_view source) {
           auth_failures.note(reason, source);
           auth_failure_count.with({"nhs_v1", reason}).inc();
           if (d != nullptr) d->auth_failure("nhs_v1", reason, source, "");
         },
         [d = detector.get()](const store::NhsClientRecord& client, std::string_view source) {
           if (d != nullptr) {
             d->authenticated("nhs-client:" + client.id.to_string(), "service:" + client.service.to_string(), "",
                              source);
           }
         }});
  }
  // The NHS App's receipts for in-app messages (source address and/or credentials checked).
  api::providers::register_nhs_app_receipt_routes(router, *context->store, clock,
                                                  {config.nhs_app.receipt_path, config.nhs_app.receipt_sources,
                                                   config.nhs_app.receipt_username, config.nhs_app.receipt_password});
  // The APIs' OpenAPI documents, on the same listener.
  api::ops::register_openapi_routes(router);
  // Download pages of files sent by email, on the same listener.
  api::documents::register_routes(router, {notifications.documents(), notifications.lookups(), clock});
  // The hosted unsubscribe links of emails whose template asks for one, likewise.
  api::unsubscribe::register_routes(router, {unsubscribes, clock});
  {
    std::vector<api::providers::ReceiptCredentials> receipts;
    for (const auto& p : config.sms.providers) receipts.push_back({p.name, p.receipt_username, p.receipt_password});
    const auto kinds = sms_provider_kinds();
    api::providers::register_sms_receipt_routes(
        router, {notifications, received_texts, clock, {kinds.begin(), kinds.end()}, std::move(receipts), nullptr});
  }
  // Every interval: refused authentications into the audit log, then the chain head signed.
  std::atomic<std::int64_t> last_checkpoint_us{0};  // when the last checkpoint pass succeeded (0: none yet)
  auto flush_audit = [&context, &auth_failures, &clock, &last_checkpoint_us] {
    const Timestamp now = clock.now();
    if (auto events = auth_failures.drain(); !events.empty()) {
      if (auto recorded = context->audit->record_all(std::move(events), now); !recorded) {
        log::error("audit.write_failed", {{"error", recorded.error().message}});
      }
    }
    if (auto checkpointed = context->audit->checkpoint(now); !checkpointed) {
      log::error("audit.checkpoint_failed", {{"error", checkpointed.error().message}});
    } else {
      last_checkpoint_us = to_micros(now);
    }
  };
  std::unique_ptr<net::HttpsServer> server;
  if (api_role) {
    auto started = start_api(config, router);
    if (!started) {
      log::error("serve.start_failed", {{"error", started.error().message}});
      return 1;
    }
    server = std::move(*started);
  }
  // The admin web UI on its own listener ([admin]; loopback unless configured), with a router
  // and threads of its own so that sign-ins (argon2id) never queue behind API requests.
  domain::users::Users users(*context->store, clock);
  domain::Jobs jobs(*context->store, *context->store, notifications, &letters);
  domain::Subjects subjects(*context->store);
  api::Router admin_router(2, api::admin::router_errors());
  guard_admin_router(admin_router, detector.get());
  std::unique_ptr<net::HttpsServer> admin_server;
  if (admin_role) {
    api::admin::register_routes(
        admin_router,
        {users, *context->store, *context->store, *context->store, notifications, jobs, subjects, unsubscribes,
         nhs_plans, *context->store, *context->store, *context->store, clock, config.admin.public_url,
         [&context, &clock, d = detector.get()](api::admin::Event event) {
           note_admin_event(d, event);
           security::AuditEvent audit{std::move(event.actor), std::move(event.action), std::move(event.objects),
                                      std::move(event.outcome), std::move(event.source)};
           if (auto recorded = context->audit->record(std::move(audit), clock.now()); !recorded) {
             log::error("audit.write_failed", {{"error", recorded.error().message}});
           }
         },
         config.callbacks.http.policy});
    net::ServerOptions admin_options = config.server;
    admin_options.address = config.admin.address;
    admin_options.port = config.admin.port;
    auto started = net::HttpsServer::start(
        admin_options,
        [&admin_router](net::Request&& request, net::Responder respond) {
          admin_router.handle(std::move(request), std::move(respond));
        },
        [](int status, std::string_view, std::string_view) { return api::admin::protocol_error(status); });
    if (!started) {
      log::error("serve.start_failed", {{"error", "admin listener: " + started.error().message}});
      return 1;
    }
    admin_server = std::move(*started);
  }
  // The operations listener ([metrics]), on every role: health for load balancers and
  // orchestrators, figures for Prometheus.
  ops::Monitoring monitoring(*context->store, *context->keys, clock,
                             {node_name(options.role), data_disk_path(config),
                              static_cast<std::uint64_t>(config.metrics.min_free_disk_mb) << 20,
                              config.audit_checkpoint_path, std::chrono::seconds(config.metrics.max_backlog_seconds)},
                             [&last_checkpoint_us]() -> std::optional<Timestamp> {
                               const std::int64_t us = last_checkpoint_us;
                               return us == 0 ? std::nullopt : std::optional<Timestamp>(from_micros(us));
                             });
  auto collector = metrics::registry().add_collector([&monitoring](metrics::Writer& out) {
    out.family("herald_build_info", "Herald's version and the commit it was built from (always 1).", "gauge");
    out.sample({{"version", kBuildInfo.version}, {"commit", kBuildInfo.commit}}, 1);
    monitoring.collect(out);
  });
  api::Router ops_router(1, api::ops::router_errors());
  ops_router.name_api("", "ops");
  api::ops::register_routes(ops_router,
                            {[&monitoring] {
                               std::vector<api::ops::HealthCheck> checks;
                               for (auto& check : monitoring.ready()) {
                                 checks.push_back({std::move(check.name), check.passed, std::move(check.detail)});
                               }
                               return checks;
                             },
                             [] { return metrics::registry().render(); }, [] { return running_build(); }});
  std::unique_ptr<net::HttpsServer> ops_server;
  if (config.metrics.enabled) {
    net::ServerOptions ops_options = config.server;
    ops_options.address = config.metrics.address;
    ops_options.port = metrics_port_for(config.metrics.port, options.role);
    ops_options.threads = 1;
    ops_options.max_connections = 64;
    ops_options.max_connections_per_source = 32;
    auto started = net::HttpsServer::start(
        ops_options,
        [&ops_router](net::Request&& request, net::Responder respond) {
          ops_router.handle(std::move(request), std::move(respond));
        },
        [](int status, std::string_view, std::string_view) { return api::ops::protocol_error(status); });
    if (!started) {
      log::error("serve.start_failed", {{"error", "metrics listener: " + started.error().message}});
      return 1;
    }
    ops_server = std::move(*started);
  }
  if (worker) worker->start();
  if (callbacks) callbacks->start();
  if (nhs_callbacks) nhs_callbacks->start();
  // Retention runs on delivery nodes (role all or worker) unless [retention] in_serve = false
  // (then `herald retention run` does, as its own database role); it is idempotent across nodes.
  // Each run first prepares today's and tomorrow's data keys.
  std::unique_ptr<Periodic> retention;
  if (delivery_role && config.retention_in_serve) {
    retention = std::make_unique<Periodic>(
        "retention", std::chrono::minutes(config.retention_interval_minutes), [&context, &clock, &unsubscribes] {
          const Timestamp now = clock.now();
          if (auto made = ops::prepare_data_keys(*context->store, *context->keys, now); !made) {
            log::error("keys.prepare_failed", {{"error", made.error().message}});
          }
          // Unsubscribe requests have periods of their own.
          if (auto expired = unsubscribes.expire(now); !expired) {
            log::error("unsubscribe.expire_failed", {{"error", expired.error().message}});
          }
          auto ran = ops::Retention(*context->store, *context->keys).run(now);
          if (!ran) {
            log::error("retention.failed", {{"error", ran.error().message}});
          } else if (ran->redacted > 0 || ran->keys_destroyed > 0 || ran->documents_deleted > 0) {
            (void)context->audit->record({"system:retention", "retention.run", retention_objects(*ran)}, now);
          }
        });
  }
  // NHS Notify's cascade runs on delivery nodes: due messages are enriched and their channels
  // handed to the delivery worker as notifications; it is safe on several nodes (claims).
  domain::nhs::LocalDemographics local_demographics(*context->store);
  // Herald as an application of the NHS API platform: one token for the NHS App and PDS.
  std::shared_ptr<delivery::nhs_platform::PlatformToken> platform_token;
  std::unique_ptr<delivery::nhs_app::NhsAppClient> nhs_app;
  std::unique_ptr<delivery::pds::PdsClient> pds;
  if (worker && (!config.nhs_app.url.empty() || !config.pds_url.empty())) {
    auto token = platform_token_for(config.nhs_platform, clock);
    if (!token) {
      log::error("serve.start_failed", {{"error", token.error().message}});
      return 1;
    }
    platform_token = std::move(*token);
    if (!config.nhs_app.url.empty()) {
      nhs_app = std::make_unique<delivery::nhs_app::NhsAppClient>(config.nhs_app.url, platform_token,
                                                                  config.nhs_platform.http);
    }
    if (!config.pds_url.empty()) {
      pds = std::make_unique<delivery::pds::PdsClient>(config.pds_url, platform_token, config.nhs_platform.http);
    }
  }
  domain::nhs::DemographicsProvider* demographics = nullptr;
  if (config.nhs.demographics == "local") demographics = &local_demographics;
  if (config.nhs.demographics == "pds") demographics = pds.get();
  domain::nhs::TriggerDemographics triggers(demographics);
  if (config.nhs.trigger_numbers) {
    demographics = &triggers;
    log::warn("nhs.trigger_numbers_on", {{"numbers", "9990000018-9990000123"}});
  }
  std::unique_ptr<domain::nhs::NhsCascade> nhs_cascade;
  std::unique_ptr<Periodic> nhs_cascade_job;
  if (worker) {
    domain::nhs::CascadeOptions cascade_options;
    cascade_options.default_sms_sender = config.sms.default_sender;
    // Callbacks link to the message; without public_url the link is the path alone.
    cascade_options.message_links = (config.public_url.empty() ? std::string("/") : config.public_url) +
                                    config.nhs.prefix.substr(1) + "/v1/messages/";
    nhs_cascade = std::make_unique<domain::nhs::NhsCascade>(
        *context->store, *context->store, *context->store,
        domain::nhs::CascadeChannels{nhs_plans, demographics, nhs_app.get(), &letters, context->store.get()}, clock,
        cascade_options);
    nhs_cascade->on_queued([w = worker.get()] { w->notify(); });
    nhs_cascade_job =
        std::make_unique<Periodic>("nhs-cascade", std::chrono::milliseconds(config.nhs.cascade_interval_ms),
                                   [cascade = nhs_cascade.get(), batch = cascade_options.batch_size] {
                                     // Until the due messages run out (a batch of 45,000 takes many rounds).
                                     for (int round = 0; round < 1000; ++round) {
                                       auto ran = cascade->run_once();
                                       if (!ran) log::error("nhs.cascade_failed", {{"error", ran.error().message}});
                                       if (!ran || *ran < batch) return;
                                     }
                                   });
  }
  // Lists sent from the admin UI, on delivery nodes: each second, the rows of the jobs in
  // progress become notifications (safe on several nodes: each chunk is saved once).
  std::unique_ptr<Periodic> jobs_job;
  if (worker) {
    jobs_job = std::make_unique<Periodic>("jobs", std::chrono::seconds(1), [&jobs, &clock] {
      // Until the jobs in progress run out of rows (a list of 100,000 takes twenty rounds).
      for (int round = 0; round < 100; ++round) {
        auto ran = jobs.run_once(clock.now());
        if (!ran) log::error("jobs.run_failed", {{"error", ran.error().message}});
        if (!ran || *ran == 0) return;
      }
    });
  }
  // What the print supplier reports of the letters it took, on delivery nodes.
  std::unique_ptr<Periodic> letter_reports;
  if (worker && print_supplier) {
    letter_reports = std::make_unique<Periodic>(
        "letter-reports", std::chrono::seconds(config.letters.report_interval_seconds),
        [&print_supplier, &context, &clock] {
          if (auto collected = delivery::collect_letter_reports(*print_supplier, *context->store, clock); !collected) {
            log::warn("delivery.letter_reports_failed", {{"error", collected.error().message}});
          }
        });
  }
  // The configuration against the hardening baseline, at start and daily: a security event (the
  // audit log, the log, herald_config_findings) whenever something is found.
  auto config_check_job = std::make_unique<Periodic>("config-check", std::chrono::hours(24), [&context, &clock] {
    static auto& findings = metrics::registry().gauge(
        "herald_config_findings", "Findings of the last configuration check (herald config check), by severity.",
        {"severity"});
    const auto checks = check_configuration(context->config, &*context, "", clock.now(), ::geteuid());
    std::map<Severity, int> counts{{Severity::kHigh, 0}, {Severity::kMedium, 0}, {Severity::kLow, 0}};
    for (const auto& check : checks) {
      if (check.passed) continue;
      ++counts[check.severity];
      log::warn("config.finding", {{"check", check.id},
                                   {"severity", severity_name(check.severity)},
                                   {"found", check.found},
                                   {"fix", check.fix}});
    }
    for (const auto& [severity, count] : counts) findings.with({severity_name(severity)}).set(count);
    if (counts[Severity::kHigh] + counts[Severity::kMedium] + counts[Severity::kLow] == 0) return;
    security::AuditEvent event{"system:config-check",
                               "security.config_findings",
                               {{"high", std::to_string(counts[Severity::kHigh])},
                                {"medium", std::to_string(counts[Severity::kMedium])},
                                {"low", std::to_string(counts[Severity::kLow])}}};
    if (auto recorded = context->audit->record(std::move(event), clock.now()); !recorded) {
      log::error("audit.write_failed", {{"error", recorded.error().message}});
    }
  });
  // The running build's SBOM against the operator's advisory feed, at start and daily: a security
  // event and herald_advisories_affected whenever a component is affected (docs/compliance.md).
  std::unique_ptr<Periodic> advisories_job;
  if (!context->config.compliance.advisory_feed.empty()) {
    advisories_job = std::make_unique<Periodic>("advisories", std::chrono::hours(24), [&context, &clock] {
      static auto& affected_gauge =
          metrics::registry().gauge("herald_advisories_affected",
                                    "Components of the running build an advisory affects (herald advisories "
                                    "check), by severity.",
                                    {"severity"});
      static auto& checked = metrics::registry().gauge("herald_advisories_checked_timestamp_seconds",
                                                       "When the advisory feed was last read successfully.", {});
      auto status = check_advisories(context->config.compliance);
      if (!status) {
        log::error("advisories.check_failed", {{"error", status.error().message}});
        return;
      }
      std::map<std::string, int> counts{{"critical", 0}, {"high", 0}, {"medium", 0}, {"low", 0}, {"unknown", 0}};
      for (const auto& a : status->affected) {
        ++counts[a.severity];
        log::warn("advisories.affected", {{"advisory", a.advisory_id},
                                          {"severity", a.severity},
                                          {"component", a.component.name},
                                          {"installed", a.component.version},
                                          {"fixed_version", a.fixed_version}});
      }
      for (const auto& [severity, count] : counts) affected_gauge.with({severity}).set(count);
      checked.with({}).set(static_cast<double>(to_micros(clock.now()) / 1000000));
      if (status->affected.empty()) return;
      security::AuditEvent event{"system:advisories",
                                 "security.advisories",
                                 {{"affected", std::to_string(status->affected.size())},
                                  {"critical", std::to_string(counts["critical"])},
                                  {"high", std::to_string(counts["high"])},
                                  {"feed", status->feed_path}},
                                 "detected"};
      if (auto recorded = context->audit->record(std::move(event), clock.now()); !recorded) {
        log::error("audit.write_failed", {{"error", recorded.error().message}});
      }
    });
  }
  // Every second: the detector's events out, its strikes into the store, every node's blocks in.
  // Hourly: blocks ended a week ago are forgotten (their strikes no longer count).
  std::unique_ptr<Periodic> intrusion_job;
  std::unique_ptr<Periodic> intrusion_forget_job;
  if (detector) {
    intrusion_job = std::make_unique<Periodic>("intrusion", std::chrono::seconds(1), [d = detector.get()] {
      if (auto polled = d->poll(); !polled) log::error("security.poll_failed", {{"error", polled.error().message}});
    });
    intrusion_forget_job = std::make_unique<Periodic>("intrusion-forget", std::chrono::hours(1), [&context, &clock] {
      if (auto forgot = context->store->forget_blocks(clock.now() - std::chrono::days(7)); !forgot) {
        log::error("security.forget_failed", {{"error", forgot.error().message}});
      }
    });
  }
  auto audit_job = std::make_unique<Periodic>("audit", std::chrono::seconds(config.audit_checkpoint_seconds), flush_audit);
  const std::string port = server ? std::to_string(server->port()) : "none";
  const std::string admin_port = admin_server ? std::to_string(admin_server->port()) : "none";
  const std::string metrics_port = ops_server ? std::to_string(ops_server->port()) : "none";
  log::info("serve.started", {{"role", options.role},
                              {"address", config.server.address},
                              {"port", port},
                              {"admin_address", config.admin.address},
                              {"admin_port", admin_port},
                              {"metrics_address", config.metrics.address},
                              {"metrics_port", metrics_port}});
  if (admin_server) {
    log::info("serve.admin_url", {{"url", config.admin.url(admin_server->port())}});
    // Beside the ready file, first: tests read the admin port from it.
    if (!options.ready_file.empty()) std::ofstream(options.ready_file + ".admin") << admin_port << "\n";
  }
  if (ops_server && !options.ready_file.empty()) std::ofstream(options.ready_file + ".metrics") << metrics_port << "\n";
  if (!options.ready_file.empty()) std::ofstream(options.ready_file) << port << "\n";

  std::vector<net::HttpsServer*> listeners;
  if (server) listeners.push_back(server.get());
  if (admin_server) listeners.push_back(admin_server.get());
  if (ops_server) listeners.push_back(ops_server.get());
  const int signal_number = wait_for_stop(options.config_path, listeners);
  log::info("serve.stopping", {{"signal", std::to_string(signal_number)}});
  retention.reset();
  config_check_job.reset();
  advisories_job.reset();
  letter_reports.reset();
  nhs_cascade_job.reset();
  jobs_job.reset();
  if (server) server->stop();
  if (admin_server) admin_server->stop();
  if (ops_server) ops_server->stop();
  collector.reset();
  intrusion_forget_job.reset();
  intrusion_job.reset();
  if (detector) (void)detector->poll();  // the last events reach the audit log
  net::set_certificate_failure_observer(nullptr);
  audit_job.reset();
  flush_audit();  // what the last requests refused, and a final checkpoint
  if (worker) worker->stop();
  if (callbacks) callbacks->stop();
  if (nhs_callbacks) nhs_callbacks->stop();
  log::info("serve.stopped");
  return 0;
}

}  // namespace herald::cli
