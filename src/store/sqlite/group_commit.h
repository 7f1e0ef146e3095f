#pragma once
// GroupCommitWriter: the one writer of a SQLite database. Callers submit write jobs from any
// thread; a dedicated thread runs every job queued at that moment inside one transaction, each
// in its own savepoint (so one failing job fails alone), commits once, and then completes every
// job. With synchronous=FULL the single commit is the single fsync that makes all of them
// durable, so N concurrent requests cost one fsync rather than N.
//
// Batches close on size (max_batch) or when the queue is empty; requests that arrive during a
// commit form the next batch. Under continuous load (work was queued when the last commit
// finished) the writer first gathers for up to `gather` or until max_batch are queued, so that
// commits are fewer and larger; a request that finds the writer idle never waits for company.
// Thread-safe. Completion callbacks run on the writer thread and must be quick.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "core/time.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::sqlite {

class GroupCommitWriter {
 public:
  using Job = std::function<Result<void>(Connection&)>;
  using Done = std::function<void(Result<void>)>;

  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t jobs = 0;
  };

  GroupCommitWriter(Connection connection, std::size_t max_batch, Duration gather = Duration::zero());
  // Runs what is queued, then stops.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  void submit(Job job, Done done);
  // Submits and waits for the commit.
  Result<void> run(Job job);
  Stats stats() const;
  // Asks the writer to checkpoint the WAL after its current batch (see checkpoint_loop in
  // sqlite_store.cc): the last frames can only be copied, and the WAL restarted from its start,
  // while no write transaction appends to it, which under continuous load is only between the
  // writer's own batches. Any thread.
  void request_checkpoint() { checkpoint_wanted_.store(true, std::memory_order_relaxed); }

 private:
  struct Pending {
    Job job;
    Done done;
  };
  void loop();
  void commit_batch(std::deque<Pending>& batch);
  Result<void> run_cached(const char* sql);

  Connection connection_;  // used only by the writer thread
  const std::size_t max_batch_;
  const Duration gather_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  bool idle_ = false;          // the writer waits for work; guarded by mutex_
  std::atomic<bool> checkpoint_wanted_{false};
  Stats stats_;                // guarded by mutex_
  std::thread thread_;
};

}  // namespace herald::store::sqlite
