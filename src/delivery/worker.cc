#include "delivery/worker.h"

#include <future>

#include "core/log.h"
#include "core/thread_name.h"
#include "delivery/email_sender.h"

namespace herald::delivery {
namespace {

// GOV.UK's test-key simulator (api/govuk-notify-v2.md §1.4).
SendResult simulate_test_key(const std::string& recipient) {
  if (recipient == "temp-fail@simulator.notify") return {SendStatus::kTemporaryFailure, "simulated"};
  if (recipient == "perm-fail@simulator.notify") return {SendStatus::kPermanentFailure, "simulated"};
  return {SendStatus::kAccepted, "simulated"};
}

}  // namespace

DeliveryWorker::DeliveryWorker(store::Store& store, domain::Notifications& notifications,
                               std::unique_ptr<EmailProvider> provider, const Clock& clock,
                               WorkerOptions options)
    : store_(store), notifications_(notifications), provider_(std::move(provider)), clock_(clock),
      options_(options) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  thread_ = std::thread([this] {
    set_thread_name("delivery");
    run();
  });
}

void DeliveryWorker::stop() {
  stopping_ = true;
  notify();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void DeliveryWorker::run() {
  while (!stopping_) {
    auto claimed = run_once();
    if (!claimed) log::error("delivery.claim_failed", {{"error", claimed.error().message}});
    if (claimed && *claimed > 0) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [this] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

Result<int> DeliveryWorker::run_once() {
  auto claimed = store_.claim_due(options_.batch_size, clock_.now(), options_.lease);
  if (!claimed) return claimed.error();
  // Outcomes are recorded asynchronously so that the writer commits many of them at once;
  // all of them are durable before the next claim.
  std::vector<std::pair<std::string, std::future<Result<void>>>> recording;
  for (const auto& record : *claimed) {
    if (stopping_) break;  // the rest are re-claimed when their lease expires
    auto promise = std::make_shared<std::promise<Result<void>>>();
    recording.emplace_back(record.id.to_string(), promise->get_future());
    store_.record_outcome_async(deliver(record), [promise](Result<void> recorded) {
      promise->set_value(std::move(recorded));
    });
  }
  provider_->close();
  for (auto& [id, future] : recording) {
    auto recorded = future.get();
    if (!recorded) {
      log::error("delivery.record_failed", {{"notification_id", id}, {"error", recorded.error().message}});
    }
  }
  return static_cast<int>(claimed->size());
}

store::DeliveryOutcome DeliveryWorker::deliver(const store::NotificationRecord& record) {
  const std::string id = record.id.to_string();
  SendResult result;
  if (record.key_type == store::KeyType::kTest) {
    result = simulate_test_key(record.recipient);
  } else {
    auto email = prepare_email(notifications_, record, clock_.now());
    if (!email) {
      log::error("delivery.prepare_failed", {{"notification_id", id}, {"error", email.error().message}});
      result = {SendStatus::kTemporaryFailure, "prepare failed"};
    } else {
      result = provider_->send(*email);
    }
  }
  store::DeliveryOutcome outcome = outcome_for(record, result);
  log::info("delivery.attempt", {{"notification_id", id},
                                 {"service_id", record.service.to_string()},
                                 {"attempt", std::to_string(record.attempts)},
                                 {"status", outcome.status},
                                 {"detail", result.detail}});
  return outcome;
}

store::DeliveryOutcome DeliveryWorker::outcome_for(const store::NotificationRecord& record,
                                                   SendResult result) {
  const Timestamp now = clock_.now();
  store::DeliveryOutcome outcome{record.id, "", now, std::nullopt, std::nullopt};
  switch (result.status) {
    case SendStatus::kAccepted:
      outcome.status = "delivered";
      outcome.sent_at = now;
      break;
    case SendStatus::kPermanentFailure:
      outcome.status = "permanent-failure";
      outcome.sent_at = now;
      break;
    case SendStatus::kTemporaryFailure:
      if (record.key_type == store::KeyType::kTest) {
        outcome.status = "temporary-failure";
        outcome.sent_at = now;
        break;
      }
      outcome.next_attempt_at = options_.retry.next_attempt(record.attempts, now);
      outcome.status = outcome.next_attempt_at ? "sending" : "technical-failure";
      break;
  }
  return outcome;
}

}  // namespace herald::delivery
