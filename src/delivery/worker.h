#pragma once
// DeliveryWorker: background threads that claim due notifications in batches, hand each
// channel's share to that channel's dispatcher (dispatcher.h: email, sms, letters), and record
// the outcomes they report. Test-key notifications never leave Herald: the worker gives them the
// simulated outcomes GOV.UK documents (domain/lifecycle.h), whatever their channel's provider.
// Each thread has its own lane of dispatchers, so an email lane keeps its relay connection open
// between batches. A claim whose worker dies is picked up again when its lease expires
// (at-least-once).

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/time.h"
#include "delivery/dispatcher.h"
#include "domain/lifecycle.h"
#include "store/store.h"

namespace herald::delivery {

struct WorkerOptions {
  int batch_size = 50;
  Duration lease = std::chrono::seconds(120);
  Duration idle_poll = std::chrono::milliseconds(100);
  domain::RetryPolicy retry;
};

// One worker thread's dispatchers, one per channel (indexed by store::Channel). A channel with
// none fails its notifications as technical-failure.
using Lane = std::array<std::unique_ptr<Dispatcher>, std::size(store::kAllChannels)>;

class DeliveryWorker {
 public:
  // One thread per lane; at least one lane.
  DeliveryWorker(store::NotificationStore& store, std::vector<Lane> lanes, const Clock& clock, WorkerOptions options);
  ~DeliveryWorker();

  void start();
  // Finishes the notifications in hand, then stops; unfinished claims are re-claimed later.
  void stop();
  // Wakes the worker now (e.g. after a notification was accepted).
  void notify();
  // Processes one batch on the caller's thread with the first lane, as its thread would; returns
  // how many were claimed (tests).
  Result<int> run_once() { return run_once(lanes_.front(), limits_.front()); }

 private:
  void run(Lane& lane, int& limit);
  // `limit`: how many to claim; updated for this thread's next claim (see worker.cc).
  Result<int> run_once(Lane& lane, int& limit);

  store::NotificationStore& store_;
  std::vector<Lane> lanes_;
  std::vector<int> limits_;  // each lane's next claim size (see worker.cc)
  const Clock& clock_;
  WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t wakes_ = 0;  // notify() calls so far; guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace herald::delivery
