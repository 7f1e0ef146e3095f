// The least-privilege grants (store/postgres/roles.h) as PostgreSQL enforces them: each process
// role's forbidden statements are refused by the server itself (SQLSTATE 42501,
// insufficient_privilege), its needed ones run, and the same statements run once the grants are
// widened, so a refusal here is the grants' doing. Every table of the live schema is classified.
#include "store/postgres/roles.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "store/postgres/key_repository.h"
#include "store/postgres/migrations.h"
#include "tests/store/backends.h"

namespace herald::store::postgres {
namespace {

constexpr const char* kService = "11111111-1111-4111-8111-111111111111";
constexpr const char* kKey = "22222222-2222-4222-8222-222222222222";
constexpr const char* kNotification = "33333333-3333-4333-8333-333333333333";

class RolesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.error().empty()) << backend_.error();
    auto owner = PgConnection::open(backend_.url());
    ASSERT_TRUE(owner) << owner.error().message;
    owner_ = std::move(*owner);
    ASSERT_TRUE(apply_migrations(*owner_, 1));
    ASSERT_TRUE(PgKeyRepository::open(backend_.url()));  // the key schema
    auto superuser = PgConnection::open(backend_.admin_url());
    ASSERT_TRUE(superuser) << superuser.error().message;
    superuser_ = std::move(*superuser);
    // Roles are the cluster's: unique names, dropped in TearDown.
    const std::string prefix = "t" + crypto::random_uuid().to_string().substr(0, 8) + "_";
    password_ = crypto::random_uuid().to_string().substr(0, 18);
    names_ = {prefix + "api", prefix + "worker", prefix + "admin", prefix + "retention"};
    for (DatabaseRole role : kDatabaseRoles) {
      ASSERT_TRUE(superuser_->execute("CREATE ROLE " + names_.of(role) + " LOGIN PASSWORD '" + password_ + "'"));
    }
    GrantOptions options;
    options.roles = names_;
    auto applied = apply_grants(*owner_, options);
    ASSERT_TRUE(applied) << applied.error().message;
    ASSERT_TRUE(owner_->execute(
        std::string("INSERT INTO services (id, name, email_sender_local_part, created_at) VALUES ('") + kService +
        "', 's', 's', 1);"
        "INSERT INTO api_keys (id, service_id, name, key_type, secret, created_at) VALUES ('" +
        kKey + "', '" + kService +
        "', 'k', 'normal', 'x', 1);"
        "INSERT INTO herald_keys.data_keys (scope, created_at, kek_id, wrapped) VALUES ('k1', 1, 'kek', 'w');"));
    ASSERT_TRUE(owner_->run(insert_notification(kNotification)));
  }

  void TearDown() override {
    for (auto& session : sessions_) session.reset();
    if (!superuser_) return;
    for (DatabaseRole role : kDatabaseRoles) {
      const std::string& name = names_.of(role);
      (void)superuser_->execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + name +
                                "'");
      (void)superuser_->execute("DROP OWNED BY " + name);
      (void)superuser_->execute("DROP ROLE IF EXISTS " + name);
    }
  }

  static std::string insert_notification(const std::string& id) {
    return "INSERT INTO notifications (id, service_id, api_key_id, key_type, template_id, template_version, "
           "notification_type, status, recipient, personalisation, subject, body, created_at) VALUES ('" +
           id + "', '" + kService + "', '" + kKey + "', 'normal', '" + kService +
           "', 1, 'email', 'created', 'r', 'p', "
           "'s', 'b', 1)";
  }

  // A connection as `role`, with the password in the URL as the test server authenticates.
  PgConnection& as(DatabaseRole role) {
    auto& session = sessions_[static_cast<std::size_t>(role)];
    if (!session) {
      const std::string url = backend_.url();
      const auto at = url.find('@');
      auto opened = PgConnection::open("postgresql://" + names_.of(role) + ":" + password_ + url.substr(at));
      EXPECT_TRUE(opened) << opened.error().message;
      if (opened) session = std::move(*opened);
    }
    return *session;
  }

  void expect_refused(DatabaseRole role, const std::string& sql) {
    auto ran = as(role).execute(sql);
    ASSERT_FALSE(ran) << database_role_name(role) << " may run: " << sql;
    EXPECT_TRUE(is_insufficient_privilege(ran.error()))
        << database_role_name(role) << ": " << sql << ": " << ran.error().message;
  }

  void expect_allowed(DatabaseRole role, const std::string& sql) {
    auto ran = as(role).execute(sql);
    EXPECT_TRUE(ran) << database_role_name(role) << ": " << sql << ": " << ran.error().message;
  }

  testing::PostgresBackend backend_;
  std::unique_ptr<PgConnection> owner_;
  std::unique_ptr<PgConnection> superuser_;
  RoleNames names_;
  std::string password_;
  std::array<std::unique_ptr<PgConnection>, 4> sessions_;
};

using R = DatabaseRole;

TEST_P(RolesTest, EveryTableOfTheSchemaIsClassified) {
  auto missing = unclassified_relations(*owner_);
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_TRUE(missing->empty()) << "tables without grants in store/postgres/roles.cc: " << missing->front();
  // A future migration's table fails the check until it is classified.
  ASSERT_TRUE(owner_->execute("CREATE TABLE future_table (x integer)"));
  missing = unclassified_relations(*owner_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, std::vector<std::string>{"future_table"});
}

TEST_P(RolesTest, ApiInsertsNotificationsButCannotDeleteThemOrDestroyKeys) {
  expect_allowed(R::kApi, insert_notification("44444444-4444-4444-8444-444444444444"));
  expect_allowed(R::kApi, "SELECT wrapped FROM herald_keys.data_keys");
  expect_allowed(R::kApi,
                 "INSERT INTO herald_keys.data_keys (scope, created_at, kek_id, wrapped) VALUES ('k2', 1, 'kek', 'w')");
  expect_refused(R::kApi, "DELETE FROM notifications");
  expect_refused(R::kApi, "UPDATE herald_keys.data_keys SET wrapped = NULL");
  expect_refused(R::kApi, "DELETE FROM herald_keys.data_keys");
  expect_refused(R::kApi, "DELETE FROM api_keys");
  expect_refused(R::kApi, "UPDATE api_keys SET revoked_at = 2");
  expect_refused(R::kApi, "TRUNCATE notifications");
  expect_refused(R::kApi, "CREATE TABLE sneaky (x integer)");
  expect_refused(R::kApi, "CREATE TABLE herald_keys.sneaky (x integer)");
  expect_refused(R::kApi, "DROP TABLE notifications");
  expect_refused(R::kApi, "ALTER TABLE notifications ADD COLUMN sneaky integer");
  expect_refused(R::kApi, "SELECT password_hash FROM admin_users");
  expect_refused(R::kApi, "SELECT * FROM admin_sessions");
  expect_refused(R::kApi, "INSERT INTO schema_migrations VALUES (999, 'x', 1)");
  expect_allowed(R::kApi, "SELECT id FROM admin_users WHERE email_index = 'x' AND disabled_at IS NULL");
}

TEST_P(RolesTest, WorkerUpdatesStatusesButCannotDeleteOrMakeKeys) {
  expect_allowed(R::kWorker,
                 std::string("UPDATE notifications SET status = 'sending' WHERE id = '") + kNotification + "'");
  expect_refused(R::kWorker, "DELETE FROM notifications");
  expect_refused(R::kWorker, "UPDATE herald_keys.data_keys SET wrapped = NULL");
  expect_refused(R::kWorker, "DELETE FROM herald_keys.data_keys");
  expect_refused(R::kWorker, std::string("INSERT INTO api_keys (id, service_id, name, key_type, secret, created_at) "
                                         "VALUES (gen_random_uuid(), '") +
                                 kService + "', 'k', 'normal', 'x', 1)");
  expect_refused(R::kWorker, "SELECT secret FROM api_keys");
  expect_refused(R::kWorker, "DELETE FROM inbound_sms");
  expect_refused(R::kWorker, "TRUNCATE notifications");
  expect_refused(R::kWorker, "CREATE TABLE sneaky (x integer)");
}

TEST_P(RolesTest, AdminManagesButCannotDeleteNotificationsOrDestroyKeys) {
  expect_allowed(R::kAdmin, std::string("UPDATE api_keys SET revoked_at = 2 WHERE id = '") + kKey + "'");
  expect_allowed(R::kAdmin, "DELETE FROM admin_sessions");
  expect_refused(R::kAdmin, "DELETE FROM notifications");
  expect_refused(R::kAdmin, "DELETE FROM api_keys");
  expect_refused(R::kAdmin, "UPDATE herald_keys.data_keys SET wrapped = NULL");
  expect_refused(R::kAdmin, "DELETE FROM herald_keys.data_keys");
  expect_refused(R::kAdmin, "DELETE FROM audit_log");
  expect_refused(R::kAdmin, "UPDATE audit_log SET actor = 'x'");
  expect_refused(R::kAdmin, "TRUNCATE audit_log");
  expect_refused(R::kAdmin, "DROP TABLE notifications");
}

TEST_P(RolesTest, RetentionRedactsAndDeletesButCannotInsert) {
  expect_allowed(R::kRetention,
                 std::string("UPDATE notifications SET redacted_at = 2 WHERE id = '") + kNotification + "'");
  expect_allowed(R::kRetention, "DELETE FROM inbound_sms WHERE created_at < 0");
  expect_allowed(R::kRetention, "DELETE FROM documents WHERE expires_at <= 0");
  expect_allowed(R::kRetention, "UPDATE herald_keys.data_keys SET wrapped = NULL, destroyed_at = 2 WHERE scope = 'k1'");
  expect_refused(R::kRetention, insert_notification("55555555-5555-4555-8555-555555555555"));
  expect_refused(R::kRetention, "DELETE FROM notifications");
  expect_refused(R::kRetention, "INSERT INTO herald_keys.data_keys (scope, created_at, kek_id) VALUES ('k3', 1, 'k')");
  expect_refused(R::kRetention, "DELETE FROM herald_keys.data_keys");
  expect_refused(R::kRetention, "SELECT * FROM api_keys");
  expect_refused(R::kRetention, "SELECT * FROM admin_users");
}

TEST_P(RolesTest, TheRefusalsAreTheGrantsDoing) {
  // Control: with the owner's privileges, the same statements run, so the refusals above come
  // from the grants and not from the statements.
  const std::string& api = names_.of(R::kApi);
  ASSERT_TRUE(owner_->execute("GRANT ALL ON ALL TABLES IN SCHEMA public, herald_keys TO " + api));
  expect_allowed(R::kApi, "DELETE FROM notifications");
  expect_allowed(R::kApi, "UPDATE herald_keys.data_keys SET wrapped = NULL");
  expect_allowed(R::kApi, "DELETE FROM api_keys");
  // Applying the grants again takes it back (idempotent, and it revokes what it does not name).
  GrantOptions options;
  options.roles = names_;
  ASSERT_TRUE(apply_grants(*owner_, options));
  expect_refused(R::kApi, "DELETE FROM herald_keys.data_keys");
}

TEST_P(RolesTest, ARoleThatMayNotMigrateChecksTheSchemaVersion) {
  EXPECT_TRUE(check_schema_current(as(R::kWorker)));
  ASSERT_TRUE(
      owner_->execute("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)"));
  auto behind = check_schema_current(as(R::kWorker));
  ASSERT_FALSE(behind);
  EXPECT_EQ(behind.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(behind.error().message.find("this binary needs " + std::to_string(latest_schema_version())),
            std::string::npos)
      << behind.error().message;
  // And it could not have migrated: the role may not create tables.
  auto migrated = apply_migrations(as(R::kWorker), 1);
  ASSERT_FALSE(migrated);
  EXPECT_TRUE(is_insufficient_privilege(migrated.error())) << migrated.error().message;
}

TEST_P(RolesTest, TheStatementsNameEveryRoleAndTheKeyDeviation) {
  GrantOptions options;
  const std::string sql = grants_sql(options);
  EXPECT_NE(sql.find("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, herald_api"), std::string::npos);
  EXPECT_NE(sql.find("GRANT SELECT, INSERT ON herald_keys.data_keys TO herald_api;"), std::string::npos);
  EXPECT_NE(sql.find("GRANT SELECT, UPDATE ON herald_keys.data_keys TO herald_retention;"), std::string::npos);
  EXPECT_NE(sql.find("GRANT SELECT (id, email_index, disabled_at) ON admin_users TO herald_api;"), std::string::npos);
  EXPECT_EQ(sql.find("DELETE ON notifications"), std::string::npos);
  options.keys_schema = false;
  EXPECT_EQ(grants_sql(options).find("herald_keys"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backend, RolesTest, ::testing::Values("postgres"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store::postgres
