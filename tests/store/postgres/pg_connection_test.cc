// The libpq wrapper's behaviour when the server drops a connection (restart, failover, an
// administrator's pg_terminate_backend): what is re-sent, and what must fail instead.
#include "store/postgres/pg_connection.h"

#include <gtest/gtest.h>

#include "tests/store/backends.h"

namespace herald::store::postgres {
namespace {

class PgConnectionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.error().empty()) << backend_.error();
    auto opened = PgConnection::open(backend_.url());
    ASSERT_TRUE(opened) << opened.error().message;
    db_ = std::move(*opened);
    auto admin = PgConnection::open(backend_.url());
    ASSERT_TRUE(admin);
    admin_ = std::move(*admin);
    ASSERT_TRUE(admin_->execute("CREATE TABLE t (x integer)"));
  }
  // Drops db_'s session on the server side, as a restart would.
  void drop_connection() {
    auto pid = db_->exec("SELECT pg_backend_pid()");
    ASSERT_TRUE(pid);
    ASSERT_TRUE(admin_->run("SELECT pg_terminate_backend($1)", Params().integer(pid->integer(0, 0))));
  }
  std::int64_t rows() { return admin_->exec("SELECT count(*) FROM t")->integer(0, 0); }

  testing::PostgresBackend backend_;
  std::unique_ptr<PgConnection> db_;
  std::unique_ptr<PgConnection> admin_;
};

TEST_P(PgConnectionTest, AReadIsResentOnAFreshConnection) {
  drop_connection();
  auto one = db_->exec("SELECT 1");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->integer(0, 0), 1);
  EXPECT_EQ(db_->resets(), 1u);
}

TEST_P(PgConnectionTest, AWriteIsNotResentUnlessTheCallerSaysSo) {
  drop_connection();
  auto insert = db_->run("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(insert);
  EXPECT_EQ(insert.error().code, ErrorCode::kUnavailable);
  ASSERT_TRUE(db_->run("INSERT INTO t VALUES (2)")) << "the next use reconnects";
  drop_connection();
  ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (3)", {}, PgConnection::Retry::kYes));
  EXPECT_EQ(rows(), 2);
}

TEST_P(PgConnectionTest, ABreakInsideATransactionFailsItAndCommitsNothing) {
  auto result = db_->transaction([&]() -> Result<void> {
    HERALD_TRY(db_->run("INSERT INTO t VALUES (1)"));
    drop_connection();
    // Neither this read nor the COMMIT may run on a fresh connection outside the transaction.
    HERALD_TRY(db_->exec("SELECT count(*) FROM t"));
    return db_->run("INSERT INTO t VALUES (2)");
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(rows(), 0);
  ASSERT_TRUE(db_->run("INSERT INTO t VALUES (3)")) << "usable again after the failed transaction";
  EXPECT_EQ(rows(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backend, PgConnectionTest, ::testing::Values("postgres"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store::postgres
