#pragma once
// The store backends as the contract tests see them: each opens Stores over one database
// (several at once, as several processes or nodes would), runs raw SQL behind the store's back
// (to corrupt or swap ciphertexts) and reads the raw bytes the database keeps on disk.
//
// PostgreSQL: the tests run under the CTest fixture `postgres` (tests/tools/pg.py), which
// starts a server and writes its URL to the file named by HERALD_TEST_PG_URL_FILE; each test
// gets a database of its own, dropped afterwards.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "crypto/data_keys.h"
#include "crypto/field_cipher.h"
#include "crypto/random.h"
#include "store/postgres/key_repository.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/key_repository.h"
#include "store/sqlite/sqlite_store.h"
#include "store/transfer/postgres_to_sqlite.h"
#include "tests/fakes/memory_store.h"

namespace herald::store::testing {

struct RawParam {
  std::string value;
  bool blob = false;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // A store on the backend's one database; each call is another process or node on it.
  virtual Result<std::shared_ptr<Store>> open(std::shared_ptr<const crypto::FieldCipher> cipher, Timestamp now) = 0;
  // False for the in-memory store: no files, no SQL, no encryption, no key repository. Tests of
  // what reaches the disk check this; everything else holds for every backend.
  virtual bool on_disk() const { return true; }
  virtual Result<std::shared_ptr<crypto::DataKeyRepository>> open_key_repository() = 0;
  // `sql` with `?` placeholders, in the dialect both backends share for simple statements.
  virtual Result<void> raw_exec(const std::string& sql, const std::vector<RawParam>& params) = 0;
  // Every byte the database holds on disk for this test (files and write-ahead log).
  virtual std::string raw_bytes() = 0;
  // The bytes of the data-key table as stored (SQLite: keys.db and its WAL; PostgreSQL: the
  // table's current relation file).
  virtual std::string key_table_bytes() = 0;
  // The bytes of one data table as stored now, without the write-ahead log's history (SQLite:
  // every file, checkpointed; PostgreSQL: the table's current relation file).
  virtual std::string table_bytes(const std::string& table) = 0;
};

// Every file below `dir`, appended to `out`. A directory that vanishes while it is read (another
// test dropping its database on the shared PostgreSQL server) is passed over; it must not end the
// walk, or the scans below would pass on half a tree.
inline void slurp_into(const std::filesystem::path& dir, std::string& out) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code kind;
    if (it->is_directory(kind)) {
      slurp_into(it->path(), out);
    } else if (it->is_regular_file(kind)) {
      std::ifstream in(it->path(), std::ios::binary);
      out.append(std::istreambuf_iterator<char>(in), {});
    }
  }
}

inline std::string slurp_tree(const std::filesystem::path& root) {
  std::string out;
  slurp_into(root, out);
  return out;
}

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() : dir_(std::filesystem::temp_directory_path() / ("herald-store-" + crypto::random_uuid().to_string())) {
    std::filesystem::create_directories(dir_);
  }
  ~SqliteBackend() override { std::filesystem::remove_all(dir_); }
  Result<std::shared_ptr<Store>> open(std::shared_ptr<const crypto::FieldCipher> cipher, Timestamp now) override {
    auto store = sqlite::SqliteStore::open({(dir_ / "h.db").string()}, std::move(cipher), now);
    if (!store) return store.error();
    return std::shared_ptr<Store>(std::move(*store));
  }
  Result<std::shared_ptr<crypto::DataKeyRepository>> open_key_repository() override {
    auto repository = sqlite::SqliteKeyRepository::open((dir_ / "keys.db").string());
    if (!repository) return repository.error();
    return std::shared_ptr<crypto::DataKeyRepository>(std::move(*repository));
  }
  Result<void> raw_exec(const std::string& sql, const std::vector<RawParam>& params) override {
    auto db = sqlite::Connection::open((dir_ / "h.db").string(), sqlite::Connection::Durability::kFull);
    if (!db) return db.error();
    auto stmt = db->prepare(sql);
    if (!stmt) return stmt.error();
    int i = 0;
    for (const RawParam& p : params) p.blob ? stmt->bind_blob(++i, p.value) : stmt->bind_text(++i, p.value);
    return stmt->run();
  }
  std::string raw_bytes() override { return slurp_tree(dir_); }
  std::string table_bytes(const std::string& /*table*/) override { return raw_bytes(); }
  std::string key_table_bytes() override {
    std::string out;
    for (const char* name : {"keys.db", "keys.db-wal"}) {
      std::ifstream in(dir_ / name, std::ios::binary);
      out.append(std::istreambuf_iterator<char>(in), {});
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend() {
    const char* url_file = std::getenv("HERALD_TEST_PG_URL_FILE");
    if (url_file == nullptr) {
      error_ = "HERALD_TEST_PG_URL_FILE is not set: run the PostgreSQL tests through ctest (fixture `postgres`)";
      return;
    }
    std::ifstream in(url_file);
    std::getline(in, server_url_);
    // tests/tools/pg.py records the server's files beside the URL file, in pgtest/.
    const auto recorded = std::filesystem::path(url_file).parent_path() / "pgtest";
    std::ifstream(recorded / "data_dir") >> data_dir_;
    std::ifstream(recorded / "admin_url") >> admin_url_;
    database_ = "t_" + crypto::random_uuid().to_string().substr(0, 8) + crypto::random_uuid().to_string().substr(0, 8);
    auto admin = postgres::PgConnection::open(server_url_);
    if (!admin) {
      error_ = admin.error().message;
      return;
    }
    if (auto made = (*admin)->execute("CREATE DATABASE " + database_); !made) error_ = made.error().message;
  }
  ~PostgresBackend() override {
    if (!error_.empty()) return;
    if (auto admin = postgres::PgConnection::open(server_url_)) {
      (void)(*admin)->execute("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
    }
  }
  const std::string& error() const { return error_; }
  // The server's superuser URL on the test database (roles, CHECKPOINT).
  std::string admin_url() const {
    const auto query = admin_url_.find('?');
    const auto slash = admin_url_.rfind('/', query);
    return admin_url_.substr(0, slash + 1) + database_ + (query == std::string::npos ? "" : admin_url_.substr(query));
  }
  // The test database's URL: the server's with the database name replaced.
  std::string url() const {
    const auto query = server_url_.find('?');
    const auto slash = server_url_.rfind('/', query);
    return server_url_.substr(0, slash + 1) + database_ +
           (query == std::string::npos ? "" : server_url_.substr(query));
  }
  Result<std::shared_ptr<Store>> open(std::shared_ptr<const crypto::FieldCipher> cipher, Timestamp now) override {
    if (!error_.empty()) return internal_error(error_);
    postgres::PgConfig config;
    config.url = url();
    config.connections = 2;
    auto store = postgres::PgStore::open(config, std::move(cipher), now);
    if (!store) return store.error();
    (*store)->set_snapshot_writer(transfer::snapshot_postgres_to_sqlite);  // as cli/ wires it
    return std::shared_ptr<Store>(std::move(*store));
  }
  Result<std::shared_ptr<crypto::DataKeyRepository>> open_key_repository() override {
    if (!error_.empty()) return internal_error(error_);
    auto repository = postgres::PgKeyRepository::open(url());
    if (!repository) return repository.error();
    return std::shared_ptr<crypto::DataKeyRepository>(std::move(*repository));
  }
  Result<void> raw_exec(const std::string& sql, const std::vector<RawParam>& params) override {
    auto db = postgres::PgConnection::open(url());
    if (!db) return db.error();
    std::string numbered;
    int n = 0;
    for (char c : sql) numbered += c == '?' ? "$" + std::to_string(++n) : std::string(1, c);
    postgres::Params p;
    for (const RawParam& param : params) param.blob ? p.bytes(param.value) : p.text(param.value);
    return (*db)->run(numbered, p);
  }
  // The whole cluster's files, WAL included (other tests' databases too: canaries are unique).
  std::string raw_bytes() override {
    checkpoint();
    return slurp_tree(data_dir_);
  }
  std::string key_table_bytes() override { return table_bytes("herald_keys.data_keys"); }
  std::string table_bytes(const std::string& table) override {
    checkpoint();
    auto db = postgres::PgConnection::open(url());
    if (!db) return {};
    auto path = (*db)->exec("SELECT pg_relation_filepath('" + table + "')");
    if (!path || path->rows() != 1) return {};
    std::ifstream in(data_dir_ / path->text(0, 0), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  // Table files are written at checkpoints, the WAL at every commit: force both to disk.
  void checkpoint() {
    if (auto db = postgres::PgConnection::open(admin_url_)) (void)(*db)->execute("CHECKPOINT");
  }
  std::string server_url_;
  std::string admin_url_;  // the superuser's (CHECKPOINT, so table files hold what the test wrote)
  std::string database_;
  std::filesystem::path data_dir_;
  std::string error_;
};

// The fake other unit tests run on (tests/fakes/memory_store.h), held to the same contract so that
// what those tests trust is what the backends do. Every open() is the same store: "another
// process" shares its state as it would share a database.
class MemoryBackend final : public Backend {
 public:
  Result<std::shared_ptr<Store>> open(std::shared_ptr<const crypto::FieldCipher>, Timestamp) override {
    return std::shared_ptr<Store>(store_);
  }
  bool on_disk() const override { return false; }
  Result<std::shared_ptr<crypto::DataKeyRepository>> open_key_repository() override {
    return internal_error("the in-memory store keeps no data keys");
  }
  Result<void> raw_exec(const std::string&, const std::vector<RawParam>&) override {
    return internal_error("the in-memory store speaks no SQL");
  }
  std::string raw_bytes() override { return {}; }
  std::string key_table_bytes() override { return {}; }
  std::string table_bytes(const std::string& /*table*/) override { return {}; }

 private:
  std::shared_ptr<fakes::MemoryStore> store_ = std::make_shared<fakes::MemoryStore>();
};

inline std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "postgres") return std::make_unique<PostgresBackend>();
  if (name == "memory") return std::make_unique<MemoryBackend>();
  return std::make_unique<SqliteBackend>();
}

// Data keys per scope that a test can destroy (crypto-shredding, as retention does) and, to
// show that a row is gone rather than passed over, bring back.
class ShreddableDataKeys final : public crypto::DataKeySource {
 public:
  Result<std::uint32_t> key_for_scope(std::string_view scope, Timestamp) override {
    std::lock_guard lock(mutex_);
    const auto next = static_cast<std::uint32_t>(ids_.size() + 1);
    return ids_.try_emplace(std::string(scope), next).first->second;
  }
  Result<void> with_key(std::uint32_t id, const std::function<void(const crypto::SecretBytes&)>& use) override {
    std::lock_guard lock(mutex_);
    if (destroyed_.contains(id)) return not_found("data key " + std::to_string(id) + " was destroyed");
    if (id == 0 || id > ids_.size()) return data_loss("unknown data key " + std::to_string(id));
    const crypto::SecretBytes key(std::string(31, 'd') + static_cast<char>(id));
    use(key);
    return ok();
  }
  std::uint64_t generation() const override { return generation_.load(); }
  void destroy(std::string_view scope, bool destroyed) {
    std::lock_guard lock(mutex_);
    const std::uint32_t id = ids_.at(std::string(scope));
    destroyed ? (void)destroyed_.insert(id) : (void)destroyed_.erase(id);
    ++generation_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::uint32_t> ids_;
  std::set<std::uint32_t> destroyed_;
  std::atomic<std::uint64_t> generation_{1};
};

// A contract suite's fixture: a store on the parameter's backend ("sqlite", "postgres",
// "memory") with two services, A and B, to show that one never sees the other's rows.
class TwoServicesContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = make_backend(GetParam());
    cipher_ = std::make_shared<crypto::FieldCipher>(std::make_shared<crypto::StaticDataKeys>(1, std::string(32, 'k')),
                                                    crypto::FieldCipher::Mode::kEncrypt);
    auto opened = backend_->open(cipher_, now_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    for (ServiceRecord* service : {&service_a_, &service_b_}) {
      service->id = ServiceId{crypto::random_uuid()};
      service->name = service == &service_a_ ? "Service A" : "Service B";
      service->email_sender_local_part = service == &service_a_ ? "service.a" : "service.b";
      service->created_at = now_;
      ASSERT_TRUE(store_->create_service(*service));
    }
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
  }
  // Another store on the same database: what another node sees.
  std::shared_ptr<Store> another() {
    auto opened = backend_->open(cipher_, now_);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  std::unique_ptr<Backend> backend_;
  std::shared_ptr<crypto::FieldCipher> cipher_;
  std::shared_ptr<Store> store_;
  ServiceRecord service_a_, service_b_;
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

}  // namespace herald::store::testing
