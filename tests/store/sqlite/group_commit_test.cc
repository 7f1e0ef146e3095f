#include "store/sqlite/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
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
  std::promise<std::int64_t> seen;
  writer_->submit(insert(7), [&](Result<void> r) {
    ASSERT_TRUE(r);
    seen.set_value(count_from_another_connection());  // visible to others: the commit is done
  });
  EXPECT_EQ(seen.get_future().get(), 1);
}

TEST_F(GroupCommitTest, DestructionRunsQueuedWork) {
  std::atomic<int> completed{0};
  for (int i = 0; i < 100; ++i) writer_->submit(insert(100 + i), [&](Result<void> r) { completed += r ? 1 : 0; });
  writer_.reset();
  EXPECT_EQ(completed.load(), 100);
  EXPECT_EQ(count_from_another_connection(), 100);
}

TEST_F(GroupCommitTest, GatheringWaitsOnlyUnderLoadAndMakesBatchesLarger) {
  auto db = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(db);
  const auto gather = std::chrono::milliseconds(300);  // long, so the test can tell
  GroupCommitWriter gathering(std::move(*db), 1000, gather);
  // A lone write to an idle writer never waits for company.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(gathering.run(insert(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, gather);
  // Continuous load: a job holds the writer while others queue behind it; the next batch then
  // waits for company, so jobs trickling in meanwhile share one commit.
  std::promise<void> gate;
  std::promise<void> holding;
  auto opened = gate.get_future().share();
  gathering.submit([opened, &holding](Connection&) -> Result<void> {
    holding.set_value();
    opened.wait();
    return ok();
  }, [](Result<void>) {});
  holding.get_future().wait();  // the writer is inside its batch: what comes next queues
  std::atomic<int> completed{0};
  gathering.submit(insert(2), [&](Result<void> r) { completed += r ? 1 : 0; });
  const auto before = gathering.stats();
  gate.set_value();
  for (int i = 3; i < 23; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    gathering.submit(insert(i), [&](Result<void> r) { completed += r ? 1 : 0; });
  }
  while (completed.load() < 21) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto after = gathering.stats();
  EXPECT_LE(after.batches - before.batches, 3u) << "21 writes over ~100 ms gathered into few commits";
}

}  // namespace
}  // namespace herald::store::sqlite
