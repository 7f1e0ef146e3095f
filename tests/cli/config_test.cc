#include "cli/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "crypto/random.h"

namespace herald::cli {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-config-" + crypto::random_uuid().to_string());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Config> load(const std::string& text) {
    const auto path = (dir_ / "herald.toml").string();
    std::ofstream(path) << text;
    return load_config(path);
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, SqliteByDefault) {
  auto config = load("");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->store_url.empty());
  EXPECT_EQ(config->key_store_path, (dir_ / "keys.db").string());
}

TEST_F(ConfigTest, CommitGatherDefaultsToNoneOnSqliteAndAMillisecondOnPostgres) {
  auto sqlite = load("");
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  EXPECT_EQ(sqlite->commit_gather, Duration::zero());
  auto pg =
      load("[store]\nurl = \"postgresql://h@127.0.0.1/herald\"\n[keys]\nstore = \"postgresql://h@127.0.0.1/herald\"\n");
  ASSERT_TRUE(pg) << pg.error().message;
  EXPECT_EQ(pg->commit_gather, std::chrono::microseconds(1000));
  auto set = load("[store]\ncommit_gather_us = 250\n");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->commit_gather, std::chrono::microseconds(250));
  EXPECT_FALSE(load("[store]\ncommit_gather_us = -1\n"));
}

TEST_F(ConfigTest, PostgresNeedsSharedKeyStore) {
  auto alone = load("[store]\nurl = \"postgresql://h@127.0.0.1/herald\"\n");
  ASSERT_FALSE(alone) << "each node would make its own data keys";
  EXPECT_NE(alone.error().message.find("keys.store"), std::string::npos);
  auto shared = load("[store]\nurl = \"postgresql://h@127.0.0.1/herald\"\nwriters = 3\n"
                     "[keys]\nstore = \"postgresql://h@127.0.0.1/herald\"\n");
  ASSERT_TRUE(shared) << shared.error().message;
  EXPECT_EQ(shared->store_url, "postgresql://h@127.0.0.1/herald");
  EXPECT_EQ(shared->key_store_path, "postgresql://h@127.0.0.1/herald") << "a URL is not a relative path";
  EXPECT_EQ(shared->store_writers, 3u);
  EXPECT_FALSE(load("[store]\nurl = \"mysql://x\"\n"));
}

TEST_F(ConfigTest, EachProcessRoleMayHaveADatabaseRoleOfItsOwn) {
  const std::string owner = "postgresql://herald@db/herald";
  auto config = load("[store]\nurl = \"" + owner +
                     "\"\napi_url = \"postgresql://herald_api@db/herald\"\n"
                     "retention_url = \"postgresql://herald_retention@db/herald\"\n[keys]\nstore = \"" +
                     owner + "\"\n[retention]\nin_serve = false\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_FALSE(config->retention_in_serve);
  const Config api = with_store_role(*config, "api");
  EXPECT_EQ(api.store_url, "postgresql://herald_api@db/herald");
  EXPECT_EQ(api.key_store_path, api.store_url) << "the keys in the same database: the role's URL too";
  EXPECT_FALSE(api.store_migrate);
  const Config worker = with_store_role(*config, "worker");  // no worker_url: the owner's
  EXPECT_EQ(worker.store_url, owner);
  EXPECT_TRUE(worker.store_migrate);
  EXPECT_EQ(with_store_role(*config, "all").store_url, owner);
  EXPECT_EQ(with_store_role(*config, "retention").store_url, "postgresql://herald_retention@db/herald");
  EXPECT_TRUE(load("")->retention_in_serve);
  EXPECT_FALSE(load("[store]\napi_url = \"postgresql://a@db/h\"\n")) << "a role's URL without store.url";
  EXPECT_FALSE(
      load("[store]\nurl = \"" + owner + "\"\nadmin_url = \"mysql://x\"\n[keys]\nstore = \"" + owner + "\"\n"));
}

TEST_F(ConfigTest, LettersStayWithoutASupplierByDefault) {
  auto config = load("");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_FALSE(config->letters.sftp);
  EXPECT_EQ(config->letters.batch_size, 500);
}

TEST_F(ConfigTest, LetterLogoIsResolvedAndMustExist) {
  EXPECT_FALSE(load("[letters]\nlogo_png = \"no-such-logo.png\"\n"));
  auto config = load("[letters]\nlogo_png = \"herald.toml\"\n");  // any file next to the config
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->letters.logo_png);
  EXPECT_EQ(std::filesystem::path(*config->letters.logo_png).filename(), "herald.toml");
  EXPECT_TRUE(std::filesystem::path(*config->letters.logo_png).is_absolute());
}

TEST_F(ConfigTest, LetterPricesAndReportInterval) {
  auto config = load("[letters]\nreport_interval_seconds = 60\n[letters.prices]\nsecond = [0.85, 0.92, 1]\n"
                     "rest-of-world = [1.55]\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->letters.report_interval_seconds, 60);
  EXPECT_EQ(config->letters.prices.price("second", 2), 0.92);
  EXPECT_EQ(config->letters.prices.price("second", 3), 1.0) << "whole pounds may be written as integers";
  EXPECT_FALSE(config->letters.prices.price("second", 4)) << "no price for 4 sheets: not ready";
  EXPECT_FALSE(config->letters.prices.price("first", 1));
  EXPECT_EQ(config->letters.prices.price("rest-of-world", 1), 1.55);
  EXPECT_FALSE(load("[letters.prices]\nexpress = [1.0]\n"));
  EXPECT_FALSE(load("[letters.prices]\nfirst = []\n"));
  EXPECT_FALSE(load("[letters.prices]\nfirst = [1, 2, 3, 4, 5, 6]\n")) << "10 pages at most: 5 sheets";
  EXPECT_FALSE(load("[letters.prices]\nfirst = [-1.0]\n"));
  EXPECT_FALSE(load("[letters.prices]\nfirst = \"1.00\"\n"));
  EXPECT_FALSE(load("[letters]\nreport_interval_seconds = 0\n"));
}

TEST_F(ConfigTest, SftpLetterSupplier) {
  auto config = load("[letters]\nsupplier = \"sftp\"\nbatch_size = 200\n"
                     "[letters.sftp]\nhost = \"sftp.print.example\"\nport = 2222\nusername = \"herald\"\n"
                     "private_key_file = \"sftp/id_ed25519\"\n"
                     "host_key_sha256 = \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\"\n"
                     "remote_dir = \"/incoming\"\ntimeout_ms = 5000\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->letters.batch_size, 200);
  ASSERT_TRUE(config->letters.sftp);
  const auto& sftp = *config->letters.sftp;
  EXPECT_EQ(sftp.host, "sftp.print.example");
  EXPECT_EQ(sftp.port, 2222);
  EXPECT_EQ(sftp.username, "herald");
  EXPECT_EQ(sftp.private_key_file, (dir_ / "sftp/id_ed25519").string()) << "relative to the config file";
  EXPECT_EQ(sftp.host_key_sha256, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
  EXPECT_EQ(sftp.remote_dir, "/incoming");
  EXPECT_EQ(sftp.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(sftp.name, "sftp-print");
}

TEST_F(ConfigTest, SftpLetterSupplierNeedsAPinnedHostKey) {
  const std::string base = "[letters]\nsupplier = \"sftp\"\n[letters.sftp]\nhost = \"h\"\nusername = \"u\"\n"
                           "private_key_file = \"/k\"\n";
  auto unpinned = load(base);
  ASSERT_FALSE(unpinned) << "never trust on first use";
  EXPECT_NE(unpinned.error().message.find("host_key_sha256"), std::string::npos);
  EXPECT_FALSE(load(base + "host_key_sha256 = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\"\n"));
  auto pinned = load(base + "host_key_sha256 = \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\"\n");
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(pinned->letters.sftp->port, 22);
  EXPECT_EQ(pinned->letters.sftp->private_key_file, "/k");
  EXPECT_FALSE(load("[letters]\nsupplier = \"sftp\"\n")) << "no host";
  EXPECT_FALSE(load("[letters]\nsupplier = \"carrier-pigeon\"\n"));
  EXPECT_FALSE(load("[letters]\nbatch_size = 0\n"));
}

TEST_F(ConfigTest, DefaultConfigLoads) {
  const auto path = (dir_ / "herald.toml").string();
  std::ofstream(path) << default_config_text(8443, 2525, Pkcs11Init{});
  auto config = load_config(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_FALSE(config->letters.sftp);
  EXPECT_EQ(config->letters.batch_size, 500);
}

TEST(ConfigUrl, PasswordsNeverPrinted) {
  EXPECT_EQ(without_password("postgresql://herald:s3cret@db.example:5432/herald?sslmode=verify-full"),
            "postgresql://herald:***@db.example:5432/herald?sslmode=verify-full");
  EXPECT_EQ(without_password("postgresql://db/herald?user=h&password=s3cret&sslmode=require"),
            "postgresql://db/herald?user=h&password=***&sslmode=require");
  EXPECT_EQ(without_password("postgresql://herald@db/herald"), "postgresql://herald@db/herald");
}

}  // namespace
}  // namespace herald::cli
