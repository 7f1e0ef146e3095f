// herald_bench_fill: adds N past notifications to a Herald data directory through the real store
// (sealed fields, time-ordered ids, group commit), so the benchmark can measure the accept rate
// with millions of rows already stored. Usage:
//   herald_bench_fill CONFIG SERVICE_ID API_KEY_ID TEMPLATE_ID COUNT
// The rows are "delivered" email notifications spread over the past, 10 ms apart, as a service's
// history would be; none is queued for delivery.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/context.h"
#include "crypto/random.h"

namespace herald {
namespace {

template <typename IdType>
IdType parse_or_die(const char* text) {
  auto parsed = IdType::parse(text);
  if (!parsed) {
    std::fprintf(stderr, "not a UUID: %s\n", text);
    std::exit(2);
  }
  return *parsed;
}

int run(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s CONFIG SERVICE_ID API_KEY_ID TEMPLATE_ID COUNT\n", argv[0]);
    return 2;
  }
  auto context = cli::open_context(argv[1]);
  if (!context) {
    std::fprintf(stderr, "%s\n", context.error().message.c_str());
    return 1;
  }
  const auto service = parse_or_die<ServiceId>(argv[2]);
  const auto key = parse_or_die<ApiKeyId>(argv[3]);
  const auto template_id = parse_or_die<TemplateId>(argv[4]);
  const long count = std::atol(argv[5]);
  const Timestamp now = SystemClock().now();
  constexpr long kMaxInFlight = 20000;
  std::mutex mutex;
  std::condition_variable drained;
  long in_flight = 0;
  std::atomic<long> failed{0};
  std::atomic<long> next{0};

  auto fill = [&] {
    for (long i = next++; i < count; i = next++) {
      {
        std::unique_lock lock(mutex);
        drained.wait(lock, [&] { return in_flight < kMaxInFlight; });
        ++in_flight;
      }
      store::NotificationRecord r;
      const Timestamp created = now - std::chrono::milliseconds(10 * (count - i));
      r.id = NotificationId{crypto::time_ordered_uuid(created)};
      r.service = service;
      r.api_key = key;
      r.template_id = template_id;
      r.type = store::Channel::kEmail;
      r.status = store::NotificationStatus::kDelivered;
      r.reference = "history-" + std::to_string(i);
      r.recipient = "person" + std::to_string(i) + "@example.com";
      r.personalisation_json = R"({"name": "Ada", "date": "1 May", "place": "Leeds"})";
      r.subject = "Hello Ada";
      r.body = "Dear Ada,\n\nYour appointment is on 1 May at Leeds.";
      r.created_at = created;
      r.queued = false;
      context->store->insert_notification_async(r, [&](Result<void> stored) {
        if (!stored) ++failed;
        std::lock_guard lock(mutex);
        --in_flight;
        drained.notify_all();
      });
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) threads.emplace_back(fill);
  for (auto& t : threads) t.join();
  std::unique_lock lock(mutex);
  drained.wait(lock, [&] { return in_flight == 0; });
  if (failed > 0) {
    std::fprintf(stderr, "%ld inserts failed\n", failed.load());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) { return herald::run(argc, argv); }
