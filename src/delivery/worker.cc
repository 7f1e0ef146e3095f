#include "delivery/worker.h"

#include <algorithm>
#include <future>

#include "core/log.h"
#include "core/metrics.h"
#include "core/thread_name.h"

namespace herald::delivery {

void log_attempt(const store::NotificationRecord& record, const store::DeliveryOutcome& outcome,
                 std::string_view detail) {
  log::info("delivery.attempt", {{"notification_id", record.id.to_string()},
                                 {"service_id", record.service.to_string()},
                                 {"attempt", std::to_string(record.attempts)},
                                 {"status", store::status_name(outcome.status)},
                                 {"detail", std::string(detail)}});
}

namespace {

// What became of each attempt, for the metrics: the outcome's status by channel and provider, and
// apart from it the retries and the notifications given up on (dead letters).
void count_outcome(const std::vector<store::NotificationRecord>& claimed, const store::DeliveryOutcome& outcome) {
  static auto& outcomes = metrics::registry().counter(
      "herald_delivery_outcomes_total",
      "Delivery attempts by channel, provider and the status they left (sending: handed over, awaiting a receipt).",
      {"channel", "provider", "status"});
  static auto& retries = metrics::registry().counter("herald_delivery_retries_total",
                                                     "Attempts that failed and will be tried again.", {"channel"});
  static auto& dead = metrics::registry().counter(
      "herald_delivery_dead_letters_total", "Notifications given up on after their last attempt (technical failure).",
      {"channel"});
  const auto record = std::find_if(claimed.begin(), claimed.end(), [&](const auto& r) { return r.id == outcome.id; });
  const char* channel = record == claimed.end() ? "unknown" : store::channel_name(record->type);
  if (outcome.next_attempt_at) {
    retries.with({channel}).inc();
    return;
  }
  outcomes.with({channel, outcome.sent_by.value_or("none"), store::status_name(outcome.status)}).inc();
  if (outcome.status == store::NotificationStatus::kTechnicalFailure) dead.with({channel}).inc();
}

}  // namespace

DeliveryWorker::DeliveryWorker(store::NotificationStore& store, std::vector<Lane> lanes, const Clock& clock,
                               WorkerOptions options)
    : store_(store),
      lanes_(std::move(lanes)),
      limits_(lanes_.size(), options.batch_size),
      clock_(clock),
      options_(options) {
  HERALD_CHECK(!lanes_.empty(), "a delivery worker needs a lane");
}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    threads_.emplace_back([this, i] {
      set_thread_name("delivery-" + std::to_string(i));
      run(lanes_[i], limits_[i]);
    });
  }
}

void DeliveryWorker::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void DeliveryWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  wake_.notify_one();  // one new notification needs one thread; busy threads claim again anyway
}

void DeliveryWorker::run(Lane& lane, int& limit) {
  std::uint64_t seen = 0;
  while (!stopping_) {
    auto claimed = run_once(lane, limit);
    if (!claimed) log::error("delivery.claim_failed", {{"error", claimed.error().message}});
    if (claimed && *claimed > 0) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [&] { return wakes_ != seen || stopping_.load(); });
    seen = wakes_;
  }
  for (auto& dispatcher : lane) {
    if (dispatcher) dispatcher->close();
  }
}

Result<int> DeliveryWorker::run_once(Lane& lane, int& limit) {
  const Timestamp claimed_at = clock_.now();
  auto claimed = store_.claim_due(limit, claimed_at, options_.lease);
  if (!claimed) return claimed.error();
  // Once the lease runs out another thread or node re-claims what is left and sends it too, so
  // no send starts after half the lease (the other half is for the last send and its record).
  // The first one always goes, so that even a relay slower than that makes progress. Claims
  // left unsent cost an attempt and wait for the lease, so the next claim is sized to the pace
  // of this one (at most batch_size).
  const Timestamp send_by = claimed_at + options_.lease / 2;
  // Outcomes are recorded asynchronously so that the writer commits many of them at once;
  // all of them are durable before the next claim.
  std::vector<std::pair<std::string, std::future<Result<void>>>> recording;
  bool cut_short = false;
  const DispatchContext context{
      [&] {
        if (stopping_) return false;
        if (recording.empty() || clock_.now() < send_by) return true;
        if (!cut_short) {
          log::warn("delivery.lease_running_out",
                    {{"claimed", std::to_string(claimed->size())}, {"sent", std::to_string(recording.size())}});
        }
        cut_short = true;
        return false;
      },
      [&](store::DeliveryOutcome outcome) {
        count_outcome(*claimed, outcome);
        auto promise = std::make_shared<std::promise<Result<void>>>();
        recording.emplace_back(outcome.id.to_string(), promise->get_future());
        store_.record_outcome_async(std::move(outcome),
                                    [promise](Result<void> recorded) { promise->set_value(std::move(recorded)); });
      },
      clock_, options_.retry};

  // Each channel's share, in claim order; test keys' are simulated here and never dispatched.
  std::array<std::vector<const store::NotificationRecord*>, std::size(store::kAllChannels)> by_channel;
  for (const auto& record : *claimed) {
    if (record.key_type == store::KeyType::kTest && record.type != store::Channel::kLetter) {
      if (!context.may_start()) break;
      auto outcome = domain::outcome_of_attempt(
          record, domain::simulated_test_key_attempt(record.type, record.recipient), clock_.now(), options_.retry);
      log_attempt(record, outcome, "simulated");
      context.record(std::move(outcome));
      continue;
    }
    by_channel[static_cast<std::size_t>(record.type)].push_back(&record);
  }
  for (store::Channel channel : store::kAllChannels) {
    auto& share = by_channel[static_cast<std::size_t>(channel)];
    if (share.empty()) continue;
    if (Dispatcher* dispatcher = lane[static_cast<std::size_t>(channel)].get()) {
      dispatcher->dispatch(share, context);
      continue;
    }
    for (const auto* record : share) {  // a channel nothing was wired for
      if (!context.may_start()) break;
      log::error("delivery.no_dispatcher",
                 {{"notification_id", record->id.to_string()}, {"channel", store::channel_name(channel)}});
      const Timestamp now = clock_.now();
      context.record({record->id, store::NotificationStatus::kTechnicalFailure, now, std::nullopt, std::nullopt,
                      std::nullopt, true});
    }
  }
  for (auto& [id, future] : recording) {
    auto recorded = future.get();
    if (!recorded) {
      log::error("delivery.record_failed", {{"notification_id", id}, {"error", recorded.error().message}});
    }
  }
  if (cut_short) {
    limit = static_cast<int>(std::max<std::size_t>(1, recording.size()));
  } else if (!recording.empty()) {
    // As many as this batch's pace fits into half the lease, with a quarter to spare.
    const double elapsed = static_cast<double>((clock_.now() - claimed_at).count());
    const double fits = static_cast<double>(recording.size()) * 0.75 *
                        static_cast<double>((options_.lease / 2).count()) / std::max(elapsed, 1.0);
    limit = static_cast<int>(std::clamp(fits, 1.0, static_cast<double>(options_.batch_size)));
  }
  return static_cast<int>(claimed->size());
}

}  // namespace herald::delivery
