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

TEST(ConfigUrl, PasswordsNeverPrinted) {
  EXPECT_EQ(without_password("postgresql://herald:s3cret@db.example:5432/herald?sslmode=verify-full"),
            "postgresql://herald:***@db.example:5432/herald?sslmode=verify-full");
  EXPECT_EQ(without_password("postgresql://db/herald?user=h&password=s3cret&sslmode=require"),
            "postgresql://db/herald?user=h&password=***&sslmode=require");
  EXPECT_EQ(without_password("postgresql://herald@db/herald"), "postgresql://herald@db/herald");
}

}  // namespace
}  // namespace herald::cli
