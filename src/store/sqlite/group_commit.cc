#include "store/sqlite/group_commit.h"

#include <future>

#include "core/log.h"
#include "core/thread_name.h"

namespace herald::store::sqlite {

GroupCommitWriter::GroupCommitWriter(Connection connection, std::size_t max_batch, Duration gather)
    : connection_(std::move(connection)), max_batch_(max_batch == 0 ? 1 : max_batch), gather_(gather) {
  thread_ = std::thread([this] {
    set_thread_name("sqlite-writer");
    loop();
  });
}

GroupCommitWriter::~GroupCommitWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  thread_.join();
  // How well commits were shared: jobs / batches is the mean number of writes per fsync.
  log::info("sqlite.writer_stopped",
            {{"batches", std::to_string(stats_.batches)}, {"jobs", std::to_string(stats_.jobs)}});
}

void GroupCommitWriter::submit(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      done(unavailable("store is shutting down"));
      return;
    }
    queue_.push_back({std::move(job), std::move(done)});
    // While the writer commits or gathers, submitting costs no wake-up.
    if (!idle_ && queue_.size() < max_batch_) return;
  }
  ready_.notify_one();
}

Result<void> GroupCommitWriter::run(Job job) {
  std::promise<Result<void>> promise;
  auto future = promise.get_future();
  submit(std::move(job), [&promise](Result<void> result) { promise.set_value(std::move(result)); });
  return future.get();
}

GroupCommitWriter::Stats GroupCommitWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void GroupCommitWriter::loop() {
  bool busy = false;  // work was queued when the last commit finished
  while (true) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      // Under continuous load (work queued while the last batch committed), wait a moment for
      // the batch to fill: fewer, larger commits cost less CPU per row. A request arriving at
      // an idle writer is committed at once.
      if (busy && gather_ > Duration::zero() && !stopping_ && queue_.size() < max_batch_) {
        ready_.wait_for(lock, gather_, [this] { return stopping_ || queue_.size() >= max_batch_; });
      }
      idle_ = true;
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++stats_.batches;
      stats_.jobs += batch.size();
    }
    commit_batch(batch);
    if (checkpoint_wanted_.exchange(false, std::memory_order_relaxed)) {
      // Copies what the checkpoint thread left (frames appended while it ran): a small remainder,
      // after which the next batch starts the WAL again from its beginning.
      if (auto done = connection_.execute_script("PRAGMA wal_checkpoint(PASSIVE);"); !done) {
        log::warn("store.checkpoint_failed", {{"error", done.error().message}});
      }
    }
    std::lock_guard lock(mutex_);
    busy = !queue_.empty();
  }
}

Result<void> GroupCommitWriter::run_cached(const char* sql) {
  auto stmt = connection_.prepare(sql);
  if (!stmt) return stmt.error();
  return stmt->run();
}

void GroupCommitWriter::commit_batch(std::deque<Pending>& batch) {
  std::vector<Result<void>> results;
  results.reserve(batch.size());
  auto tx = Transaction::begin_immediate(connection_);
  if (!tx) {
    for (auto& pending : batch) pending.done(tx.error());
    return;
  }
  for (auto& pending : batch) {
    Result<void> result = run_cached("SAVEPOINT job");
    if (result) result = pending.job(connection_);
    if (!result) (void)run_cached("ROLLBACK TO job");
    (void)run_cached("RELEASE job");
    results.push_back(std::move(result));
  }
  // The one fsync of the batch: nothing is acknowledged before it returns.
  auto committed = tx->commit();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].done(committed ? std::move(results[i]) : committed);
  }
}

}  // namespace herald::store::sqlite
