#pragma once
// CallbackSender: tells services of their notifications' statuses (GOV.UK's
// send_delivery_status_to_service) and of the texts they received (send_inbound_sms_to_service).
// A background thread claims due callbacks from the store (a lease, like deliveries), POSTs
// {id, reference, to, status, created_at, completed_at, sent_at, notification_type, template_id,
// template_version} as JSON with the service's bearer token to its HTTPS URL, and records the
// result: done on 2xx; on a connection error, timeout, 5xx or 429 retried up to `max_retries`
// times `retry_delay` apart (GOV.UK: 5 times, 300 s); given up on other 4xx, or when the URL's
// host resolves only to addresses the policy refuses (the SSRF guard, checked on connect). A
// callback given up on goes on its service's dead list with what its last attempt got ("HTTP
// 404", "timed out": never the URL or the body), from where the service can send it again.
// A URL that does not answer at all (refused, timed out, no TLS) is not tried again for
// `retry_delay`: its service's other callbacks in that time fail their attempt without a
// connection, so one silent receiver costs one timeout per interval, not one per callback, and
// does not hold up other services' callbacks behind it.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/time.h"
#include "net/http_client.h"
#include "store/store.h"

namespace herald::delivery {

struct CallbackOptions {
  int batch_size = 20;
  Duration lease = std::chrono::seconds(60);
  Duration idle_poll = std::chrono::milliseconds(500);
  int max_retries = 5;
  Duration retry_delay = std::chrono::seconds(300);
  net::HttpClientOptions http;  // timeout 5 s (GOV.UK's); policy: public addresses only
};

// How a callback leaves the process: one HTTPS POST. The real one is net::https_request (SSRF
// guard, timeouts, certificate checks); tests give a scripted one, so what is sent and what a
// failure leads to can be checked without a server. Used from the sender's thread only.
class CallbackTransport {
 public:
  virtual ~CallbackTransport() = default;
  virtual Result<net::HttpResponse> post(std::string_view url, const net::Headers& headers, std::string_view body,
                                         const net::HttpClientOptions& options) = 0;
};
CallbackTransport& https_transport();

// The callback bodies, field for field as GOV.UK sends them (§6.1, §6.2).
std::string delivery_status_json(const store::NotificationRecord& record);
std::string inbound_sms_json(const store::InboundSms& text);

class CallbackSender {
 public:
  CallbackSender(store::CallbackQueue& queue, store::ServiceDirectory& services, const Clock& clock,
                 CallbackOptions options, CallbackTransport& transport = https_transport());
  CallbackSender(store::Store& store, const Clock& clock, CallbackOptions options,
                 CallbackTransport& transport = https_transport())
      : CallbackSender(store, store, clock, std::move(options), transport) {}
  ~CallbackSender();
  void start();
  void stop();
  // One batch on the caller's thread; how many were claimed (tests).
  Result<int> run_once();

 private:
  void run();
  // What became of one attempt.
  struct Attempt {
    enum class Next { kDone, kRetry, kDead } next = Next::kDone;
    Timestamp retry_at;  // kRetry
    std::string error;   // kDead: what the last attempt got
  };
  // POSTs one callback: done (sent, or the service has no callback of that kind now), to retry,
  // or dead (refused for good, or out of retries).
  Attempt post(ServiceId service, store::CallbackKind kind, const std::string& body, const std::string& id,
               int attempt);

  // The (service, kind) URLs that did not answer, until when they are left alone. Sender
  // thread only.
  std::map<std::string, Timestamp> unreachable_;
  store::CallbackQueue& queue_;
  store::ServiceDirectory& services_;
  const Clock& clock_;
  CallbackOptions options_;
  CallbackTransport& transport_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace herald::delivery
