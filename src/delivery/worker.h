#pragma once
// DeliveryWorker: background threads, one per EmailProvider (so one relay connection each, kept
// open between batches), that claim due notifications in batches, send each one through their
// provider, and record the outcome (GOV.UK Notify's email statuses):
//   relay accepted -> delivered; refused for good -> permanent-failure;
//   temporary failure -> retried per domain::RetryPolicy, then technical-failure
//   (the rules themselves: domain/lifecycle.h).
// Texts go through the shared SMS router instead; a provider that takes one leaves it "sending"
// until its delivery receipt arrives.
// Test-key notifications never leave Herald: they get the simulated outcomes GOV.UK documents.
// A claim whose worker dies is picked up again when its lease expires (at-least-once).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/time.h"
#include "delivery/email_provider.h"
#include "delivery/letters/letter_provider.h"
#include "delivery/sms/sms_router.h"
#include "domain/lifecycle.h"
#include "domain/notifications.h"
#include "store/store.h"

namespace herald::delivery {

struct WorkerOptions {
  int batch_size = 50;
  Duration lease = std::chrono::seconds(120);
  Duration idle_poll = std::chrono::milliseconds(100);
  domain::RetryPolicy retry;
  Duration letter_wait = std::chrono::minutes(10);  // with no print supplier configured
  // At most this many letters go in one batch to the print supplier (a batch holds the letters
  // of one claim, so also at most batch_size).
  int letter_batch_size = 500;
};

class DeliveryWorker {
 public:
  // `sms`: where texts go (nullptr: no SMS provider is configured, so texts fail as
  // technical-failure). `print`: where letters go (nullptr: none is configured, so letters
  // wait, accepted, and are looked at again every `letter_wait`).
  DeliveryWorker(store::Store& store, domain::Notifications& notifications,
                 std::vector<std::unique_ptr<EmailProvider>> providers, const Clock& clock,
                 WorkerOptions options, sms::SmsRouter* sms = nullptr, letters::LetterProvider* print = nullptr);
  ~DeliveryWorker();

  void start();
  // Finishes the notifications in hand, then stops; unfinished claims are re-claimed later.
  void stop();
  // Wakes the worker now (e.g. after a notification was accepted).
  void notify();
  // Processes one batch on the caller's thread with the first provider; returns how many were
  // claimed (tests).
  Result<int> run_once() {
    int limit = options_.batch_size;
    return run_once(*providers_.front(), limit);
  }
  // Records what the print supplier reports of the letters it took (posted, returned, failed)
  // as their statuses, each heard of by the service's callback like any final status. Returns
  // how many report files were collected; 0 without a supplier. Run now and then
  // (`herald serve`: [letters] report_interval_seconds).
  Result<int> collect_letter_reports();

 private:
  void run(EmailProvider& provider);
  // `limit`: how many to claim; updated for this thread's next claim (see worker.cc).
  Result<int> run_once(EmailProvider& provider, int& limit);
  // Sends one notification (or simulates it for a test key) and says what to record.
  store::DeliveryOutcome deliver(EmailProvider& provider, const store::NotificationRecord& record);
  store::DeliveryOutcome outcome_for(const store::NotificationRecord& record, SendResult result);
  // Texts: handed to the SMS router; accepted ones wait in "sending" for the provider's receipt.
  store::DeliveryOutcome deliver_sms(const store::NotificationRecord& record, SendResult& result);
  // Letters claimed together go to the print supplier as one batch, all or nothing: each is
  // "sending" once the supplier has it (its despatch is the supplier's to report).
  std::vector<store::DeliveryOutcome> deliver_letters(const std::vector<const store::NotificationRecord*>& letters);

  store::Store& store_;
  domain::Notifications& notifications_;
  std::vector<std::unique_ptr<EmailProvider>> providers_;
  const Clock& clock_;
  WorkerOptions options_;
  sms::SmsRouter* sms_;
  letters::LetterProvider* print_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t wakes_ = 0;  // notify() calls so far; guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace herald::delivery
