#include "delivery/callbacks.h"

#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/thread_name.h"
#include "crypto/secret.h"

namespace herald::delivery {
namespace {

std::optional<std::string> time_or_null(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return format_timestamp(*t);
}

// net::https_request, stateless: one instance serves every sender.
class HttpsTransport final : public CallbackTransport {
 public:
  Result<net::HttpResponse> post(std::string_view url, const net::Headers& headers, std::string_view body,
                                 const net::HttpClientOptions& options) override {
    return net::https_request("POST", url, headers, body, options);
  }
};

}  // namespace

CallbackTransport& https_transport() {
  static HttpsTransport transport;
  return transport;
}

std::string delivery_status_json(const store::NotificationRecord& r) {
  json::Writer w;
  w.begin_object();
  w.key("id").string(r.id.to_string());
  w.key("reference").string_or_null(r.reference);
  w.key("to").string(r.recipient);
  w.key("status").string(store::status_name(r.status));
  w.key("created_at").string(format_timestamp(r.created_at));
  w.key("completed_at").string_or_null(time_or_null(r.updated_at));
  w.key("sent_at").string_or_null(time_or_null(r.sent_at));
  w.key("notification_type").string(store::channel_name(r.type));
  w.key("template_id").string(r.template_id.to_string());
  w.key("template_version").integer(r.template_version);
  w.end_object();
  return w.take();
}

std::string inbound_sms_json(const store::InboundSms& text) {
  json::Writer w;
  w.begin_object();
  w.key("id").string(text.id.to_string());
  w.key("source_number").string(text.user_number);
  w.key("destination_number").string(text.notify_number);
  w.key("message").string(text.content);
  w.key("date_received").string(format_timestamp(text.received_at));
  w.end_object();
  return w.take();
}

CallbackSender::CallbackSender(store::CallbackQueue& queue, store::ServiceDirectory& services, const Clock& clock,
                               CallbackOptions options, CallbackTransport& transport)
    : queue_(queue), services_(services), clock_(clock), options_(std::move(options)), transport_(transport) {}

CallbackSender::~CallbackSender() { stop(); }

void CallbackSender::start() {
  thread_ = std::thread([this] {
    set_thread_name("callbacks");
    run();
  });
}

void CallbackSender::stop() {
  stopping_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CallbackSender::run() {
  while (!stopping_) {
    auto claimed = run_once();
    if (!claimed) log::error("callback.claim_failed", {{"error", claimed.error().message}});
    if (claimed && *claimed > 0) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [this] { return stopping_.load(); });
  }
}

namespace {
// Each callback attempt's result, for the metrics.
void count_callback(const char* kind, const char* next) {
  static auto& attempts = metrics::registry().counter(
      "herald_callback_attempts_total",
      "GOV.UK callback attempts by kind (delivery_status, inbound_sms) and what follows (sent, retry, dead).",
      {"kind", "result"});
  attempts.with({kind, next}).inc();
}
const char* next_name(bool dead, bool retry) { return dead ? "dead" : retry ? "retry" : "sent"; }
}  // namespace

Result<int> CallbackSender::run_once() {
  auto claimed = queue_.claim_callbacks(options_.batch_size, clock_.now(), options_.lease);
  if (!claimed) return claimed.error();
  for (const auto& record : *claimed) {
    if (stopping_) break;  // re-claimed when the lease ends
    const Attempt attempt = post(record.service, store::CallbackKind::kDeliveryStatus, delivery_status_json(record),
                                 record.id.to_string(), record.callback_attempts);
    count_callback("delivery_status",
                   next_name(attempt.next == Attempt::Next::kDead, attempt.next == Attempt::Next::kRetry));
    auto done = attempt.next == Attempt::Next::kDead
                    ? queue_.kill_callback(record.id, clock_.now(), attempt.error)
                    : queue_.finish_callback(record.id, attempt.next == Attempt::Next::kRetry
                                                            ? std::optional<Timestamp>(attempt.retry_at)
                                                            : std::nullopt);
    if (!done) {
      log::error("callback.record_failed", {{"notification_id", record.id.to_string()}, {"error", done.error().message}});
    }
  }
  auto texts = queue_.claim_inbound_callbacks(options_.batch_size, clock_.now(), options_.lease);
  if (!texts) return texts.error();
  for (const auto& text : *texts) {
    if (stopping_) break;
    const Attempt attempt = post(text.service, store::CallbackKind::kInboundSms, inbound_sms_json(text),
                                 text.id.to_string(), text.callback_attempts);
    count_callback("inbound_sms",
                   next_name(attempt.next == Attempt::Next::kDead, attempt.next == Attempt::Next::kRetry));
    auto done = attempt.next == Attempt::Next::kDead
                    ? queue_.kill_inbound_callback(text.id, clock_.now(), attempt.error)
                    : queue_.finish_inbound_callback(text.id, attempt.next == Attempt::Next::kRetry
                                                                  ? std::optional<Timestamp>(attempt.retry_at)
                                                                  : std::nullopt);
    if (!done) {
      log::error("callback.record_failed", {{"inbound_sms_id", text.id.to_string()}, {"error", done.error().message}});
    }
  }
  return static_cast<int>(claimed->size() + texts->size());
}

CallbackSender::Attempt CallbackSender::post(ServiceId service, store::CallbackKind kind, const std::string& body,
                                             const std::string& id, int attempt) {
  const char* what = store::callback_kind_name(kind);
  auto callback = services_.find_service_callback(service, kind);
  if (!callback) {
    log::error("callback.lookup_failed", {{"id", id}, {"kind", what}, {"error", callback.error().message}});
    return {Attempt::Next::kRetry, clock_.now() + options_.retry_delay, {}};
  }
  if (!*callback) return {};  // removed since: nobody to tell
  const std::string endpoint = service.to_string() + "/" + what;
  const auto silent = unreachable_.find(endpoint);
  const bool skip = silent != unreachable_.end() && clock_.now() < silent->second;
  Result<net::HttpResponse> response = unavailable("not tried: the URL did not answer the last attempt");
  if (!skip) {
    response = transport_.post(
        (*callback)->url,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + (*callback)->bearer_token}}, body,
        options_.http);
  }
  crypto::wipe_string((*callback)->bearer_token);
  std::string outcome;
  std::string kept;  // what the dead list keeps: no host, URL or body
  bool retry = false;
  if (!response) {
    outcome = response.error().message;
    // Refused by the address policy: it would be refused again, so it is not retried.
    retry = response.error().code != ErrorCode::kPermissionDenied;
    if (!skip && retry) unreachable_[endpoint] = clock_.now() + options_.retry_delay;
    if (skip) {
      kept = "not tried: the URL did not answer just before";
    } else if (!retry) {
      kept = "refused: the URL's host is not a public address";
    } else {
      kept = outcome.find("timed out") != std::string::npos ? "timed out" : "no answer (connection or TLS failed)";
    }
  } else {
    unreachable_.erase(endpoint);
    outcome = "HTTP " + std::to_string(response->status);
    kept = outcome;
    retry = response->status >= 500 || response->status == 429;
    if (response->status >= 200 && response->status <= 299) {
      log::info("callback.sent", {{"id", id}, {"kind", what}, {"service_id", service.to_string()},
                                  {"attempt", std::to_string(attempt)}});
      return {};
    }
  }
  const bool again = retry && attempt <= options_.max_retries;
  log::write(skip ? log::Level::kDebug : log::Level::kWarn, "callback.failed",
             {{"id", id},
              {"kind", what},
              {"service_id", service.to_string()},
              {"attempt", std::to_string(attempt)},
              {"outcome", outcome},
              {"retry", again ? "true" : "false"}});
  if (!again) return {Attempt::Next::kDead, {}, std::move(kept)};
  return {Attempt::Next::kRetry, clock_.now() + options_.retry_delay, {}};
}

}  // namespace herald::delivery
