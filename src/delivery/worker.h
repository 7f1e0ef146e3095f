#pragma once
// DeliveryWorker: a background thread that claims due notifications in batches, sends each one
// through the EmailProvider, and records the outcome (api/govuk-notify-v2.md §4):
//   relay accepted -> delivered; refused for good -> permanent-failure;
//   temporary failure -> retried per RetryPolicy, then technical-failure.
// Test-key notifications never leave Herald: they get the simulated outcomes GOV.UK documents.
// A claim whose worker dies is picked up again when its lease expires (at-least-once).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/time.h"
#include "delivery/email_provider.h"
#include "delivery/retry_policy.h"
#include "domain/notifications.h"
#include "store/store.h"

namespace herald::delivery {

struct WorkerOptions {
  int batch_size = 50;
  Duration lease = std::chrono::seconds(120);
  Duration idle_poll = std::chrono::milliseconds(100);
  RetryPolicy retry;
};

class DeliveryWorker {
 public:
  DeliveryWorker(store::Store& store, domain::Notifications& notifications,
                 std::unique_ptr<EmailProvider> provider, const Clock& clock, WorkerOptions options);
  ~DeliveryWorker();

  void start();
  // Finishes the notification in hand, then stops; unfinished claims are re-claimed later.
  void stop();
  // Wakes the worker now (e.g. after a notification was accepted).
  void notify();
  // Processes one batch on the caller's thread; returns how many were claimed (tests).
  Result<int> run_once();

 private:
  void run();
  // Sends one notification (or simulates it for a test key) and says what to record.
  store::DeliveryOutcome deliver(const store::NotificationRecord& record);
  store::DeliveryOutcome outcome_for(const store::NotificationRecord& record, SendResult result);

  store::Store& store_;
  domain::Notifications& notifications_;
  std::unique_ptr<EmailProvider> provider_;
  const Clock& clock_;
  WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace herald::delivery
