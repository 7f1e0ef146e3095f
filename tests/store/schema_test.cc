// The list of data tables (store/schema.h, kDataTables) against the tables each backend's
// migrations create: a migration that adds a table the list misses (so that backups and
// `herald migrate-store` would silently leave it behind) fails here, as does a list out of
// foreign-key order or a table whose columns differ between the backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "store/postgres/migrations.h"
#include "store/schema.h"
#include "store/sqlite/migrations.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using Names = std::set<std::string>;

// A fresh SQLite database with every migration applied.
class MigratedSqlite {
 public:
  MigratedSqlite()
      : dir_(std::filesystem::temp_directory_path() / ("herald-schema-" + crypto::random_uuid().to_string())) {
    std::filesystem::create_directories(dir_);
    auto opened = sqlite::Connection::open((dir_ / "h.db").string(), sqlite::Connection::Durability::kFull);
    if (!opened) {
      error_ = opened.error().message;
      return;
    }
    db_.emplace(std::move(*opened));
    if (auto applied = sqlite::apply_migrations(*db_, 0); !applied) error_ = applied.error().message;
  }
  ~MigratedSqlite() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  const std::string& error() const { return error_; }
  Names query(const std::string& sql, const std::string& param = "") {
    Names out;
    auto stmt = db_->prepare(sql);
    EXPECT_TRUE(stmt) << stmt.error().message;
    if (!stmt) return out;
    if (!param.empty()) stmt->bind_text(1, param);
    while (true) {
      auto row = stmt->step();
      EXPECT_TRUE(row) << row.error().message;
      if (!row || !*row) return out;
      out.insert(stmt->column_text(0));
    }
  }
  Names tables() {
    return query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'schema_migrations'");
  }
  Names columns(const std::string& table) { return query("SELECT name FROM pragma_table_info(?)", table); }
  Names references(const std::string& table) {
    return query("SELECT \"table\" FROM pragma_foreign_key_list(?)", table);
  }

 private:
  std::filesystem::path dir_;
  std::optional<sqlite::Connection> db_;
  std::string error_;
};

// A fresh PostgreSQL database (the CTest fixture's server) with every migration applied.
class MigratedPostgres {
 public:
  MigratedPostgres() {
    if (!backend_.error().empty()) {
      error_ = backend_.error();
      return;
    }
    auto opened = postgres::PgConnection::open(backend_.url());
    if (!opened) {
      error_ = opened.error().message;
      return;
    }
    db_ = std::move(*opened);
    if (auto applied = postgres::apply_migrations(*db_, 0); !applied) error_ = applied.error().message;
  }
  const std::string& error() const { return error_; }
  Names query(const std::string& sql, const std::string& param = "") {
    Names out;
    postgres::Params params;
    if (!param.empty()) params.text(param);
    auto rows = db_->exec(sql, params);
    EXPECT_TRUE(rows) << rows.error().message;
    if (!rows) return out;
    for (int r = 0; r < rows->rows(); ++r) out.insert(rows->text(r, 0));
    return out;
  }
  Names tables() {
    return query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'");
  }
  Names columns(const std::string& table) {
    return query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
                 table);
  }
  Names references(const std::string& table) {
    return query("SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass",
                 table);
  }

 private:
  testing::PostgresBackend backend_;
  std::unique_ptr<postgres::PgConnection> db_;
  std::string error_;
};

Names listed() {
  Names out;
  for (std::string_view table : kDataTables) out.insert(std::string(table));
  return out;
}

class DataTables : public ::testing::TestWithParam<std::string> {
 protected:
  bool on_postgres() const { return GetParam() == "postgres"; }
  // The migrated database of this test's backend.
  template <typename F>
  void with_backend(F&& check) {
    if (on_postgres()) {
      MigratedPostgres db;
      ASSERT_TRUE(db.error().empty()) << db.error();
      check(db);
    } else {
      check(sqlite_);
    }
  }
  MigratedSqlite sqlite_;
};

TEST_P(DataTables, ListEveryTableTheMigrationsCreateOnce) {
  ASSERT_TRUE(sqlite_.error().empty()) << sqlite_.error();
  EXPECT_EQ(listed().size(), kDataTables.size()) << "a table listed twice in kDataTables";
  with_backend([&](auto& db) {
    const Names created = db.tables();
    for (const std::string& table : created) {
      EXPECT_TRUE(listed().contains(table))
          << "the migrations create table " << table << " but store/schema.h's kDataTables misses it: "
          << "backups and migrate-store would leave it behind";
    }
    for (const std::string& table : listed()) {
      EXPECT_TRUE(created.contains(table)) << "kDataTables lists " << table << ", which the migrations do not create";
    }
  });
}

TEST_P(DataTables, AreInForeignKeyOrder) {
  ASSERT_TRUE(sqlite_.error().empty()) << sqlite_.error();
  with_backend([&](auto& db) {
    for (std::size_t i = 0; i < kDataTables.size(); ++i) {
      const std::string table(kDataTables[i]);
      for (const std::string& parent : db.references(table)) {
        const auto at = std::find(kDataTables.begin(), kDataTables.end(), parent);
        EXPECT_TRUE(at != kDataTables.end() && static_cast<std::size_t>(at - kDataTables.begin()) <= i)
            << table << " references " << parent << ", which kDataTables must list before it";
      }
    }
  });
}

// Copies name the SQLite schema's columns on PostgreSQL too.
TEST_P(DataTables, HaveTheSameColumnsOnBothBackends) {
  ASSERT_TRUE(sqlite_.error().empty()) << sqlite_.error();
  with_backend([&](auto& db) {
    for (std::string_view name : kDataTables) {
      const std::string table(name);
      EXPECT_FALSE(sqlite_.columns(table).empty()) << table;
      EXPECT_EQ(db.columns(table), sqlite_.columns(table)) << table;
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, DataTables, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
