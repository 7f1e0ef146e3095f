#include "store/sqlite/wal_vfs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "crypto/random.h"
#include "store/sqlite/sqlite_db.h"

namespace herald::store::sqlite {
namespace {

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("herald-walvfs-" + crypto::random_uuid().to_string())).string();
    auto db = Connection::open(path_, Connection::Durability::kFull);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"));
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  // Inserts rows [from, to) of ~1 KB each in one transaction.
  static void insert(Connection& db, int from, int to) {
    auto tx = Transaction::begin_immediate(db);
    ASSERT_TRUE(tx);
    for (int i = from; i < to; ++i) {
      auto stmt = db.prepare("INSERT INTO t VALUES (?, ?)");
      ASSERT_TRUE(stmt);
      ASSERT_TRUE(stmt->bind_int(1, i).bind_blob(2, std::string(1000, static_cast<char>('a' + i % 26))).run());
    }
    auto committed = tx->commit();
    ASSERT_TRUE(committed) << committed.error().message;
  }
  static std::int64_t scalar(Connection& db, const char* sql) {
    auto stmt = db.prepare(sql);
    EXPECT_TRUE(stmt);
    if (!stmt) return -1;
    auto row = stmt->step();
    EXPECT_TRUE(row && *row);
    return stmt->column_int(0);
  }
  std::string path_;
};

// The control: a commit of ~20 pages reaches the WAL file in one write, not two per page as
// SQLite issues them; a larger one in writes of at most 128 KiB (what the unix VFS can take).
TEST_F(WalVfsTest, ACommitOfManyPagesIsOneWriteToTheWal) {
  auto db = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(db);
  insert(*db, 0, 10);  // the WAL's header is behind us
  const auto before = wal_writes_issued();
  insert(*db, 10, 90);
  EXPECT_EQ(wal_writes_issued() - before, 1U);
  const auto large = wal_writes_issued();
  insert(*db, 90, 210);  // ~30 pages
  EXPECT_EQ(wal_writes_issued() - large, 2U);
  // What the commit wrote is there for another connection, and the database is sound.
  auto other = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(other);
  EXPECT_EQ(scalar(*other, "SELECT COUNT(*) FROM t"), 210);
  EXPECT_EQ(scalar(*other, "SELECT SUM(length(v)) FROM t"), 210 * 1000);
}

// A transaction larger than the page cache spills frames to the WAL before it commits and reads
// them back; a savepoint rolled back rewrites frames in place. Both read what was written.
TEST_F(WalVfsTest, SpilledAndRewrittenFramesReadBackCorrectly) {
  auto db = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script("PRAGMA cache_size=8;"));
  {
    auto tx = Transaction::begin_immediate(*db);
    ASSERT_TRUE(tx);
    for (int i = 0; i < 400; ++i) {
      auto stmt = db->prepare("INSERT INTO t VALUES (?, ?)");
      ASSERT_TRUE(stmt);
      ASSERT_TRUE(stmt->bind_int(1, i).bind_blob(2, std::string(1000, 'x')).run());
    }
    auto script =
        (db->execute_script("SAVEPOINT s; UPDATE t SET v = zeroblob(900) WHERE id < 200; ROLLBACK TO s; "
                            "RELEASE s; UPDATE t SET v = zeroblob(10) WHERE id >= 300;"));
    ASSERT_TRUE(script) << script.error().message;
    EXPECT_EQ(scalar(*db, "SELECT SUM(length(v)) FROM t"), 300 * 1000 + 100 * 10);
    ASSERT_TRUE(tx->commit());
  }
  auto other = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(other);
  EXPECT_EQ(scalar(*other, "SELECT SUM(length(v)) FROM t"), 300 * 1000 + 100 * 10);
  auto check = other->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check);
  auto row = check->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(check->column_text(0), "ok");
}

// A transaction rolled back leaves nothing behind, and the next commit (which may overwrite its
// frames) is read correctly after a checkpoint moves it into the database.
TEST_F(WalVfsTest, RollbackThenCommitThenCheckpoint) {
  auto db = Connection::open(path_, Connection::Durability::kFull);
  ASSERT_TRUE(db);
  {
    auto tx = Transaction::begin_immediate(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(
        db->execute_script("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) "
                           "INSERT INTO t SELECT x, randomblob(500) FROM c;"));
  }  // rolled back
  insert(*db, 0, 50);
  ASSERT_TRUE(db->execute_script("PRAGMA wal_checkpoint(TRUNCATE);"));
  insert(*db, 50, 100);
  auto other = Connection::open(path_, Connection::Durability::kNormal);  // the default VFS
  ASSERT_TRUE(other);
  EXPECT_EQ(scalar(*other, "SELECT COUNT(*) FROM t"), 100);
  EXPECT_EQ(scalar(*other, "SELECT MIN(id) FROM t"), 0);
}

}  // namespace
}  // namespace herald::store::sqlite
