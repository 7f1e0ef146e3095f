#include "store/sqlite/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "crypto/random.h"

namespace herald::store::sqlite {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("herald-gc-" + crypto::random_uuid().to_string())).string();
    auto db = Connection::open(path_, Connection::Durability::kFull);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"));
    writer_ = std::make_unique<GroupCommitWriter>(std::move(*db), 1000);
  }
  void TearDown() override {
    writer_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  static GroupCommitWriter::Job insert(int id) {
    return [id](Connection& db) -> Result<void> {
      auto stmt = db.prepare("INSERT INTO t VALUES (?, 'x')");
      if (!stmt) return stmt.error();
      return stmt->bind_int(1, id).run();
    };
  }
  // The row count another connection sees, or -1 (with the reason in *error) when it cannot
  // tell. Asserts nothing, so it can run on the writer thread.
  static std::int64_t try_count_from_another_connection(const std::string& path, std::string* error) {
    auto db = Connection::open(path, Connection::Durability::kFull);
    if (!db) {
      *error = "open: " + db.error().message;
      return -1;
    }
    auto stmt = db->prepare("SELECT COUNT(*) FROM t");
    if (!stmt) {
      *error = "prepare: " + stmt.error().message;
      return -1;
    }
    auto row = stmt->step();
    if (!row || !*row) {
      *error = row ? "no row" : "step: " + row.error().message;
      return -1;
    }
    return stmt->column_int(0);
  }
  std::int64_t count_from_another_connection() {
    auto db = Connection::open(path_, Connection::Durability::kFull);
    auto stmt = db->prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(stmt->step());
    return stmt->column_int(0);
  }

  std::string path_;
  std::unique_ptr<GroupCommitWriter> writer_;
};

TEST_F(GroupCommitTest, ConcurrentWritesShareCommits) {
  constexpr int kJobs = 2000;
  std::atomic<int> succeeded{0};
  std::vector<std::promise<void>> done(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    writer_->submit(insert(i), [&, i](Result<void> r) {
      if (r) ++succeeded;
      done[static_cast<std::size_t>(i)].set_value();
    });
  }
  for (auto& d : done) d.get_future().wait();
  EXPECT_EQ(succeeded.load(), kJobs);
  const auto stats = writer_->stats();
  EXPECT_EQ(stats.jobs, static_cast<std::uint64_t>(kJobs));
  EXPECT_LT(stats.batches, stats.jobs / 4) << "jobs queued together must share a commit";
  EXPECT_EQ(count_from_another_connection(), kJobs);
}

TEST_F(GroupCommitTest, AFailingJobFailsAloneInItsBatch) {
  ASSERT_TRUE(writer_->run(insert(1)));
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  // Hold the writer so the next three jobs land in one batch.
  writer_->submit([opened](Connection&) -> Result<void> { opened.wait(); return ok(); }, [](Result<void>) {});
  std::vector<std::future<Result<void>>> results;
  for (int id : {2, 1, 3}) {  // 1 is a duplicate key
    auto promise = std::make_shared<std::promise<Result<void>>>();
    results.push_back(promise->get_future());
    writer_->submit(insert(id), [promise](Result<void> r) { promise->set_value(std::move(r)); });
  }
  gate.set_value();
  EXPECT_TRUE(results[0].get());
  EXPECT_FALSE(results[1].get());
  EXPECT_TRUE(results[2].get());
  EXPECT_EQ(count_from_another_connection(), 3);
}

TEST_F(GroupCommitTest, CompletionMeansCommitted) {
  // The callback runs on the writer thread: it only records what it saw, and the test thread
  // asserts. An assertion in the callback would return early and leave this thread waiting.
  struct Seen {
    Result<void> result;
    std::int64_t count;  // rows another connection saw when the job completed; -1: unknown
    std::string error;
  };
  auto seen = std::make_shared<std::promise<Seen>>();
  auto future = seen->get_future();
  writer_->submit(insert(7), [seen, path = path_](Result<void> r) {
    std::string error;
    const std::int64_t count = try_count_from_another_connection(path, &error);
    seen->set_value(Seen{std::move(r), count, std::move(error)});
  });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "the job did not complete within 30 s";
  const Seen got = future.get();
  ASSERT_TRUE(got.result) << got.result.error().message;
  EXPECT_EQ(got.count, 1) << "visible to others when completed: the commit is done. " << got.error;
}

TEST_F(GroupCommitTest, DestructionRunsQueuedWork) {
  std::atomic<int> completed{0};
  for (int i = 0; i < 100; ++i) writer_->submit(insert(100 + i), [&](Result<void> r) { completed += r ? 1 : 0; });
  writer_.reset();
  EXPECT_EQ(completed.load(), 100);
  EXPECT_EQ(count_from_another_connection(), 100);
}

// Counts commits, not milliseconds. The gather is far longer than any test would wait, so
// whether the writer waited for company shows as a job that does not complete (bounded waits
// that fail cleanly), and how it batched shows in its stats.
TEST_F(GroupCommitTest, GatheringWaitsOnlyUnderLoadAndMakesBatchesLarger) {
  constexpr std::size_t kMaxBatch = 21;
  const auto gather = std::chrono::hours(1);
  const auto bound = std::chrono::seconds(30);  // generous: only to fail rather than hang
  // A lone write to an idle writer never waits for company: it commits alone, at once.
  {
    auto db = Connection::open(path_, Connection::Durability::kFull);
    ASSERT_TRUE(db);
    GroupCommitWriter idle(std::move(*db), kMaxBatch, gather);
    auto done = std::make_shared<std::promise<Result<void>>>();
    auto future = done->get_future();
    idle.submit(insert(1), [done](Result<void> r) { done->set_value(std::move(r)); });
    ASSERT_EQ(future.wait_for(bound), std::future_status::ready)
        << "a lone write to an idle writer waited for company";
    ASSERT_TRUE(future.get());
    EXPECT_EQ(idle.stats().batches, 1u);
  }
  // Continuous load: a job holds the writer while another queues behind it; the next batch then
  // waits for company, so the jobs that arrive meanwhile share its one commit. It closes when
  // kMaxBatch are queued, long before the gather ends. A new writer, so that it is certainly
  // idle when the holding job arrives (the last one may still be finishing its batch).
  auto db = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(db);
  GroupCommitWriter gathering(std::move(*db), kMaxBatch, gather);
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  struct OpenOnExit {  // so that a failed assertion below cannot leave the writer held
    std::promise<void>& gate;
    bool open = false;
    ~OpenOnExit() {
      if (!open) gate.set_value();
    }
  } open_on_exit{gate};
  auto holding = std::make_shared<std::promise<void>>();
  auto held_done = std::make_shared<std::promise<void>>();
  auto holding_future = holding->get_future();
  auto held_done_future = held_done->get_future();
  gathering.submit([opened, holding](Connection&) -> Result<void> {
    holding->set_value();
    opened.wait();
    return ok();
  }, [held_done](Result<void>) { held_done->set_value(); });
  ASSERT_EQ(holding_future.wait_for(bound), std::future_status::ready) << "the holding job never ran";
  // The writer is inside its batch: what comes next queues.
  auto completed = std::make_shared<std::atomic<int>>(0);
  auto all_done = std::make_shared<std::promise<void>>();
  auto all_done_future = all_done->get_future();
  auto second = std::make_shared<std::promise<void>>();
  auto second_future = second->get_future();
  const auto on_done = [completed, all_done](Result<void> r) {
    if (r && ++*completed == static_cast<int>(kMaxBatch)) all_done->set_value();
  };
  gathering.submit(insert(2), [on_done, second](Result<void> r) {
    on_done(std::move(r));
    second->set_value();
  });
  const auto before = gathering.stats();
  EXPECT_EQ(before.batches, 1u) << "the holding job";
  gate.set_value();
  open_on_exit.open = true;
  ASSERT_EQ(held_done_future.wait_for(bound), std::future_status::ready) << "the holding job never completed";
  // Work was queued when that commit finished: the writer now gathers rather than committing
  // job 2 alone. (Without gathering job 2 commits at once; this wait is what lets the test see
  // that. A correct writer always passes it; the 100 ms only give a broken one time to show.)
  EXPECT_EQ(second_future.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "under load, job 2 was committed without waiting for company";
  for (int i = 3; i < 3 + static_cast<int>(kMaxBatch) - 1; ++i) gathering.submit(insert(i), on_done);
  ASSERT_EQ(all_done_future.wait_for(bound), std::future_status::ready)
      << completed->load() << " of " << kMaxBatch << " writes completed within 30 s";
  const auto after = gathering.stats();
  EXPECT_EQ(after.jobs - before.jobs, kMaxBatch);
  EXPECT_EQ(after.batches - before.batches, 1u) << kMaxBatch << " writes under load share one commit";
}

// The WAL starts again from its beginning only once every frame in it has been copied into the
// database. Under continuous writes the checkpoint thread never catches up (frames are appended
// while it copies), so the writer finishes the copy between two batches when asked; without
// that, the WAL grew for as long as the load lasted. No clocks: the batches are run one by one.
TEST_F(GroupCommitTest, ARequestedCheckpointLetsTheWalStartAgainUnderContinuousWrites) {
  const auto rows = [](int from, int to) -> GroupCommitWriter::Job {
    return [from, to](Connection& db) -> Result<void> {
      for (int id = from; id < to; ++id) {
        auto stmt = db.prepare("INSERT INTO t VALUES (?, ?)");
        if (!stmt) return stmt.error();
        HERALD_TRY(stmt->bind_int(1, id).bind_text(2, std::string(500, 'x')).run());
      }
      return ok();
    };
  };
  // Frames in the WAL, as another connection's passive checkpoint reports them (it copies them
  // too, like the checkpoint thread).
  auto other = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(other);
  const auto wal_frames = [&other]() -> std::int64_t {
    auto stmt = other->prepare("PRAGMA wal_checkpoint(PASSIVE)");
    EXPECT_TRUE(stmt);
    if (!stmt) return -1;
    auto row = stmt->step();
    EXPECT_TRUE(row && *row);
    return row && *row ? stmt->column_int(1) : -1;
  };
  ASSERT_TRUE(writer_->run(rows(0, 100)));
  const std::int64_t first = wal_frames();  // the checkpoint thread copies all of it...
  ASSERT_GT(first, 10);
  ASSERT_TRUE(writer_->run(rows(100, 200)));  // ...while the writer appends more
  writer_->request_checkpoint();
  ASSERT_TRUE(writer_->run(rows(200, 210)));  // after this batch, the writer copies the rest
  ASSERT_TRUE(writer_->run(rows(210, 220)));  // so this one starts the WAL again
  const std::int64_t now = wal_frames();
  EXPECT_LT(now, first) << "the WAL kept growing: " << now << " frames, " << first << " after the first batch";
  EXPECT_EQ(count_from_another_connection(), 220);
}

}  // namespace
}  // namespace herald::store::sqlite
