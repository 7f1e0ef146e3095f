// Admin users on the fake clock: enrolment through a one-time link with a TOTP code, two-step
// sign-in, codes used once, recovery codes, lockout with back-off, idle and absolute session
// timeouts, re-authentication, CSRF tokens, and permissions per service.
#include "domain/users/users.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "crypto/totp.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/software_authenticator.h"

namespace herald::domain::users {
namespace {

using namespace std::chrono_literals;
constexpr std::string_view kPassword = "a long enough passphrase";

class UsersTest : public ::testing::Test {
 protected:
  // Fast argon2 parameters: these tests are about the rules, not the hash's cost.
  static UserSettings settings() {
    UserSettings s;
    s.password = {.memory_kib = 64, .passes = 1, .lanes = 1};
    return s;
  }

  fakes::FakeClock clock_{*parse_timestamp("2026-12-03T09:00:10.000000Z")};
  fakes::MemoryStore store_;
  Users users_{store_, clock_, settings()};

  std::string code_now(const std::string& secret, std::int64_t offset = 0) {
    return crypto::totp(secret, crypto::totp_step(clock_.now()) + offset);
  }

  // A user enrolled with a known TOTP secret; returns the secret.
  struct Enrolment {
    store::AdminUserRecord user;
    std::string secret;
    std::vector<std::string> recovery_codes;
  };
  Enrolment enrolled(std::string_view email = "ada@example.org", bool platform_admin = false) {
    auto created = users_.create_user(email, "Ada Lovelace", platform_admin);
    EXPECT_TRUE(created) << created.error().message;
    auto proposal = users_.propose_totp(created->user);
    EXPECT_TRUE(proposal);
    auto done = users_.enrol(created->enrolment_token, kPassword, proposal->secret, code_now(proposal->secret));
    EXPECT_TRUE(done) << done.error().message;
    clock_.advance(30s);  // past the enrolment code's step
    return {done->user, proposal->secret, done->recovery_codes};
  }

  // Signs in with both factors; returns the session token.
  std::string signed_in(const Enrolment& e) {
    auto first = users_.sign_in(e.user.email, kPassword);
    EXPECT_TRUE(first && first->outcome == Attempt::Outcome::kAccepted);
    auto second = users_.second_factor(first->session_token, code_now(e.secret));
    EXPECT_TRUE(second && second->outcome == Attempt::Outcome::kAccepted) << (second ? second->reason : "");
    clock_.advance(30s);
    return second->session_token;
  }
};

TEST_F(UsersTest, AnEnrolmentLinkWorksOnceAndExpires) {
  auto created = users_.create_user("  Ada@Example.ORG ", "Ada Lovelace", true);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->user.email, "ada@example.org");
  EXPECT_FALSE(created->user.enrolled_at);
  EXPECT_EQ(users_.create_user("ada@example.org", "Another", false).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(users_.create_user("not an email", "X", false).error().code, ErrorCode::kInvalidArgument);

  auto user = users_.enrolment_user(created->enrolment_token);
  ASSERT_TRUE(user && *user);
  auto proposal = users_.propose_totp(**user);
  ASSERT_TRUE(proposal);
  EXPECT_TRUE(proposal->uri.starts_with("otpauth://totp/Herald:ada%40example.org?secret=" + proposal->base32));

  auto short_password = users_.enrol(created->enrolment_token, "short", proposal->secret, code_now(proposal->secret));
  EXPECT_EQ(short_password.error().code, ErrorCode::kInvalidArgument);
  auto wrong_code = users_.enrol(created->enrolment_token, kPassword, proposal->secret, "000000");
  EXPECT_EQ(wrong_code.error().code, ErrorCode::kInvalidArgument);

  auto done = users_.enrol(created->enrolment_token, kPassword, proposal->secret, code_now(proposal->secret));
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->recovery_codes.size(), 10u);
  EXPECT_EQ(done->recovery_codes[0].size(), 11u) << done->recovery_codes[0];
  EXPECT_TRUE(done->user.password_hash.starts_with("$argon2id$"));
  auto again = users_.enrol(created->enrolment_token, kPassword, proposal->secret, code_now(proposal->secret));
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound) << "used up";

  auto later = users_.create_user("grace@example.org", "Grace Hopper", false);
  ASSERT_TRUE(later);
  clock_.advance(72h + 1s);
  auto expired = users_.enrolment_user(later->enrolment_token);
  ASSERT_TRUE(expired);
  EXPECT_FALSE(*expired);
}

TEST_F(UsersTest, SignInTakesAPasswordThenACodeAndRotatesTheToken) {
  auto e = enrolled();
  auto first = users_.sign_in("ADA@example.org", kPassword);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->outcome, Attempt::Outcome::kAccepted);
  auto half = users_.session(first->session_token);
  ASSERT_TRUE(half);
  EXPECT_FALSE(*half) << "a password alone is not a session";

  auto second = users_.second_factor(first->session_token, code_now(e.secret));
  ASSERT_TRUE(second);
  ASSERT_EQ(second->outcome, Attempt::Outcome::kAccepted);
  EXPECT_NE(second->session_token, first->session_token) << "a new token once signed in";
  auto session = users_.session(second->session_token);
  ASSERT_TRUE(session && *session);
  EXPECT_EQ((*session)->user.id, e.user.id);
  auto spent = users_.second_factor(first->session_token, code_now(e.secret, 1));
  EXPECT_EQ(spent->outcome, Attempt::Outcome::kRefused) << "the half session's token is spent";
}

TEST_F(UsersTest, WrongPasswordsWrongCodesAndReplayedCodesAreRefused) {
  auto e = enrolled();
  auto wrong = users_.sign_in(e.user.email, "not the passphrase at all");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->outcome, Attempt::Outcome::kRefused);
  EXPECT_EQ(wrong->reason, "wrong password");
  EXPECT_EQ(wrong->user, e.user.id);
  auto unknown = users_.sign_in("nobody@example.org", kPassword);
  EXPECT_EQ(unknown->outcome, Attempt::Outcome::kRefused);
  EXPECT_EQ(unknown->reason, "unknown email");

  auto first = users_.sign_in(e.user.email, kPassword);
  auto bad = users_.second_factor(first->session_token, "123456");
  if (code_now(e.secret) != "123456") {
    EXPECT_EQ(bad->reason, "wrong code");
  }
  const std::string code = code_now(e.secret);
  auto ok = users_.second_factor(first->session_token, code);
  ASSERT_EQ(ok->outcome, Attempt::Outcome::kAccepted);
  // The same code again, within its 30 s, in another browser: refused.
  auto other = users_.sign_in(e.user.email, kPassword);
  auto replay = users_.second_factor(other->session_token, code);
  EXPECT_EQ(replay->outcome, Attempt::Outcome::kRefused);
  EXPECT_EQ(replay->reason, "replayed code");
  // So is an older step's code once a later one was used.
  auto older = users_.second_factor(other->session_token, code_now(e.secret, -1));
  EXPECT_EQ(older->outcome, Attempt::Outcome::kRefused);
}

TEST_F(UsersTest, TheSecondFactorMustComeWithinMinutesOfThePassword) {
  auto e = enrolled();
  auto first = users_.sign_in(e.user.email, kPassword);
  clock_.advance(5min + 1s);
  auto late = users_.second_factor(first->session_token, code_now(e.secret));
  EXPECT_EQ(late->outcome, Attempt::Outcome::kRefused);
}

TEST_F(UsersTest, RecoveryCodesWorkOnceEach) {
  auto e = enrolled();
  auto first = users_.sign_in(e.user.email, kPassword);
  auto recovered = users_.second_factor(first->session_token, e.recovery_codes[3]);
  ASSERT_EQ(recovered->outcome, Attempt::Outcome::kAccepted) << recovered->reason;
  EXPECT_EQ(recovered->reason, "recovery code");
  auto again = users_.sign_in(e.user.email, kPassword);
  auto reused = users_.second_factor(again->session_token, e.recovery_codes[3]);
  EXPECT_EQ(reused->outcome, Attempt::Outcome::kRefused);
  // Typed without the hyphen and in capitals: still the code.
  std::string typed = e.recovery_codes[4];
  typed.erase(5, 1);
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto third = users_.sign_in(e.user.email, kPassword);
  EXPECT_EQ(users_.second_factor(third->session_token, typed)->outcome, Attempt::Outcome::kAccepted);
  EXPECT_EQ(*store_.recovery_codes_left(e.user.id), 8);
}

TEST_F(UsersTest, RepeatedFailuresLockTheAccountWithGrowingWaits) {
  auto e = enrolled();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(users_.sign_in(e.user.email, "wrong wrong wrong")->outcome, Attempt::Outcome::kRefused) << i;
  }
  auto fifth = users_.sign_in(e.user.email, "wrong wrong wrong");
  ASSERT_EQ(fifth->outcome, Attempt::Outcome::kLockedOut);
  EXPECT_EQ(fifth->retry_at, clock_.now() + 1min);
  auto right_but_locked = users_.sign_in(e.user.email, kPassword);
  EXPECT_EQ(right_but_locked->outcome, Attempt::Outcome::kLockedOut) << "not even the right password, while locked";
  clock_.advance(1min + 1s);
  auto sixth = users_.sign_in(e.user.email, "wrong wrong wrong");
  ASSERT_EQ(sixth->outcome, Attempt::Outcome::kLockedOut);
  EXPECT_EQ(sixth->retry_at, clock_.now() + 2min) << "doubled";
  for (int i = 0; i < 10; ++i) {
    clock_.advance(2h);
    (void)users_.sign_in(e.user.email, "wrong wrong wrong");
  }
  auto capped = users_.sign_in(e.user.email, "wrong");
  EXPECT_EQ(capped->outcome, Attempt::Outcome::kLockedOut);
  EXPECT_LE(*capped->retry_at - clock_.now(), Duration(1h)) << "never more than an hour";
  clock_.advance(1h + 1s);
  // Wrong codes count too, and both factors together forgive the count.
  auto first = users_.sign_in(e.user.email, kPassword);
  ASSERT_EQ(first->outcome, Attempt::Outcome::kAccepted);
  ASSERT_EQ(users_.second_factor(first->session_token, code_now(e.secret))->outcome, Attempt::Outcome::kAccepted);
  EXPECT_EQ((*store_.find_admin_user(e.user.id))->failed_sign_ins, 0);
}

TEST_F(UsersTest, SessionsEndWhenIdleOrTooOldAndOnSignOut) {
  auto e = enrolled();
  std::string token = signed_in(e);
  clock_.advance(29min);
  ASSERT_TRUE(*users_.session(token)) << "within the idle timeout";
  clock_.advance(29min);
  ASSERT_TRUE(*users_.session(token)) << "each use refreshes it";
  clock_.advance(31min);
  EXPECT_FALSE(*users_.session(token)) << "idle for 31 minutes";

  token = signed_in(e);
  for (int i = 0; i < 24; ++i) {
    clock_.advance(29min);
    ASSERT_TRUE(*users_.session(token)) << i;
  }
  clock_.advance(29min);
  EXPECT_FALSE(*users_.session(token)) << "12 hours after signing in, however busy";

  token = signed_in(e);
  ASSERT_TRUE(users_.sign_out(token));
  EXPECT_FALSE(*users_.session(token));
}

TEST_F(UsersTest, SensitiveActionsAskForTheSecondFactorAgain) {
  auto e = enrolled();
  std::string token = signed_in(e);
  auto session = users_.session(token);
  EXPECT_TRUE(users_.recently_verified(**session));
  clock_.advance(16min);
  session = users_.session(token);
  EXPECT_FALSE(users_.recently_verified(**session));
  auto wrong = users_.reauthenticate(token, "000000");
  if (code_now(e.secret) != "000000") {
    EXPECT_EQ(wrong->outcome, Attempt::Outcome::kRefused);
  }
  auto again = users_.reauthenticate(token, code_now(e.secret));
  ASSERT_EQ(again->outcome, Attempt::Outcome::kAccepted);
  EXPECT_TRUE(users_.recently_verified(**users_.session(token)));
}

TEST_F(UsersTest, DisabledUsersAndReEnrolmentEndSessions) {
  auto e = enrolled();
  std::string token = signed_in(e);
  auto link = users_.issue_enrolment(e.user.id);
  ASSERT_TRUE(link);
  auto proposal = users_.propose_totp(e.user);
  ASSERT_TRUE(users_.enrol(*link, "a new long passphrase", proposal->secret, code_now(proposal->secret)));
  EXPECT_FALSE(*users_.session(token)) << "re-enrolment signs out everywhere";
  EXPECT_EQ(users_.sign_in(e.user.email, kPassword)->outcome, Attempt::Outcome::kRefused) << "old password gone";
  clock_.advance(30s);
  e.secret = proposal->secret;
  auto first = users_.sign_in(e.user.email, "a new long passphrase");
  ASSERT_EQ(first->outcome, Attempt::Outcome::kAccepted);
  auto second = users_.second_factor(first->session_token, code_now(e.secret));
  ASSERT_EQ(second->outcome, Attempt::Outcome::kAccepted);
  ASSERT_TRUE(users_.disable(e.user.id));
  EXPECT_FALSE(*users_.session(second->session_token));
  EXPECT_EQ(users_.sign_in(e.user.email, "a new long passphrase")->outcome, Attempt::Outcome::kRefused);
}

TEST_F(UsersTest, CsrfTokensBelongToTheirSession) {
  const std::string token = Users::csrf_token("session-a");
  EXPECT_TRUE(Users::csrf_matches("session-a", token));
  EXPECT_FALSE(Users::csrf_matches("session-b", token));
  EXPECT_FALSE(Users::csrf_matches("session-a", ""));
  EXPECT_FALSE(Users::csrf_matches("session-a", token.substr(1)));
}

TEST_F(UsersTest, PermissionsArePerServiceAndPlatformAdminsHaveAll) {
  auto e = enrolled();
  auto admin = enrolled("root@example.org", true);
  const ServiceId service{crypto::random_uuid()};
  const ServiceId other{crypto::random_uuid()};
  store::ServiceRecord record;
  record.id = service;
  record.name = "A service";
  record.created_at = clock_.now();
  ASSERT_TRUE(store_.create_service(record));
  record.id = other;
  record.name = "Another service";
  ASSERT_TRUE(store_.create_service(record));

  ASSERT_TRUE(users_.set_permissions(e.user.id, service, {Permission::kSend}));
  EXPECT_EQ(*users_.permissions(e.user, service), (std::vector<Permission>{Permission::kView, Permission::kSend}))
      << "send implies view";
  EXPECT_TRUE(*users_.can(e.user, service, Permission::kSend));
  EXPECT_FALSE(*users_.can(e.user, service, Permission::kManageApiKeys));
  EXPECT_FALSE(*users_.can(e.user, other, Permission::kView)) << "not a member of the other service";
  EXPECT_TRUE(*users_.can(admin.user, other, Permission::kManageSettings));
  ASSERT_EQ(users_.memberships(e.user.id)->size(), 1u);
  ASSERT_TRUE(users_.set_permissions(e.user.id, service, {}));
  EXPECT_TRUE(users_.memberships(e.user.id)->empty()) << "no permissions: no longer a member";
  EXPECT_EQ(parse_permission("manage_api_keys"), Permission::kManageApiKeys);
  EXPECT_FALSE(parse_permission("admin"));
}

TEST_F(UsersTest, SecurityKeysAreAddedAfterReAuthenticationAndSignInOnceEach) {
  using fakes::webauthn_bytes::kRp;
  auto e = enrolled();
  std::string token = signed_in(e);
  fakes::webauthn_bytes::SoftwareAuthenticator authenticator;

  auto challenge = users_.webauthn_challenge(token, "register");
  ASSERT_TRUE(challenge);
  auto [client, attestation] = authenticator.create(*challenge);
  auto added = users_.register_security_key(token, kRp, {*challenge, client, attestation, "Blue key"});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->name, "Blue key");
  EXPECT_EQ(store_.webauthn_credentials(e.user.id)->size(), 1u);

  // A challenge made for another session, or for signing in, does not register a key.
  auto other = users_.webauthn_challenge("another session", "register");
  auto [client2, attestation2] = authenticator.create(*other);
  EXPECT_EQ(users_.register_security_key(token, kRp, {*other, client2, attestation2, ""}).error().code,
            ErrorCode::kPermissionDenied);
  // Once the second factor is old, adding a key needs it again.
  clock_.advance(16min);
  auto late = users_.webauthn_challenge(token, "register");
  auto [client3, attestation3] = authenticator.create(*late);
  EXPECT_EQ(users_.register_security_key(token, kRp, {*late, client3, attestation3, ""}).error().code,
            ErrorCode::kFailedPrecondition);

  // Signing in with the key instead of a code.
  auto first = users_.sign_in(e.user.email, kPassword);
  ASSERT_EQ(first->outcome, Attempt::Outcome::kAccepted);
  auto sign_in_challenge = users_.webauthn_challenge(first->session_token, "sign-in");
  auto got = authenticator.get(*sign_in_challenge);
  const KeyAssertion assertion{*sign_in_challenge, authenticator.credential_id, got.client_data_json,
                               got.authenticator_data, got.signature};
  auto second = users_.second_factor_key(first->session_token, kRp, assertion);
  ASSERT_EQ(second->outcome, Attempt::Outcome::kAccepted) << second->reason;
  EXPECT_EQ(second->reason, "security key");
  ASSERT_TRUE(*users_.session(second->session_token));

  // The same assertion again (a replay, in another half-signed-in session): refused twice over.
  auto again = users_.sign_in(e.user.email, kPassword);
  auto replay = users_.second_factor_key(again->session_token, kRp, assertion);
  EXPECT_EQ(replay->outcome, Attempt::Outcome::kRefused);
  EXPECT_EQ(replay->reason, "security key: challenge not issued to this session, or expired");
  auto fresh = users_.webauthn_challenge(again->session_token, "sign-in");
  auto phished = authenticator.get(*fresh, "https://herald-admin.example.net");
  auto refused = users_.second_factor_key(
      again->session_token, kRp,
      {*fresh, authenticator.credential_id, phished.client_data_json, phished.authenticator_data, phished.signature});
  EXPECT_EQ(refused->reason, "security key: wrong origin");
  // A cloned authenticator (its counter behind the original's) is refused.
  authenticator.count = 0;
  auto cloned = authenticator.get(*fresh);
  auto clone = users_.second_factor_key(
      again->session_token, kRp,
      {*fresh, authenticator.credential_id, cloned.client_data_json, cloned.authenticator_data, cloned.signature});
  EXPECT_EQ(clone->reason, "security key: signature counter did not rise (cloned or replayed)");
  // Challenges expire after 5 minutes (as does the half-signed-in session they belong to).
  clock_.advance(4min);
  auto later = users_.sign_in(e.user.email, kPassword);
  auto stale = users_.webauthn_challenge(later->session_token, "sign-in");
  clock_.advance(5min + 1s);
  authenticator.count = 100;
  auto slow = authenticator.get(*stale);
  auto expired = users_.second_factor_key(
      later->session_token, kRp,
      {*stale, authenticator.credential_id, slow.client_data_json, slow.authenticator_data, slow.signature});
  EXPECT_EQ(expired->outcome, Attempt::Outcome::kRefused);
}

// What the pages ask for: options name the user's keys (to exclude when adding, to allow when
// signing in), need a recent second factor to add or remove, and a user without keys is
// offered codes only.
TEST_F(UsersTest, KeyOptionsNameTheUsersKeysAndRemovalNeedsARecentSecondFactor) {
  using fakes::webauthn_bytes::kRp;
  auto e = enrolled();
  std::string token = signed_in(e);
  fakes::webauthn_bytes::SoftwareAuthenticator authenticator;

  auto first = users_.sign_in(e.user.email, kPassword);
  EXPECT_FALSE(*users_.key_sign_in_options(first->session_token)) << "no keys yet: codes only";

  auto options = users_.key_registration_options(token);
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_TRUE(options->credential_ids.empty());
  EXPECT_EQ(options->user.id, e.user.id);
  auto [client, attestation] = authenticator.create(options->challenge);
  ASSERT_TRUE(users_.register_security_key(token, kRp, {options->challenge, client, attestation, "Blue key"}));
  EXPECT_EQ(users_.key_registration_options(token)->credential_ids,
            std::vector<std::string>{authenticator.credential_id});

  auto half = users_.sign_in(e.user.email, kPassword);
  auto sign_in = users_.key_sign_in_options(half->session_token);
  ASSERT_TRUE(sign_in && *sign_in);
  EXPECT_EQ((*sign_in)->credential_ids, std::vector<std::string>{authenticator.credential_id});
  auto got = authenticator.get((*sign_in)->challenge);
  auto second = users_.second_factor_key(half->session_token, kRp,
                                         {(*sign_in)->challenge, authenticator.credential_id, got.client_data_json,
                                          got.authenticator_data, got.signature});
  EXPECT_EQ(second->outcome, Attempt::Outcome::kAccepted) << second->reason;
  EXPECT_FALSE(*users_.key_sign_in_options(second->session_token)) << "signed in: nothing waits for a key";
  EXPECT_FALSE(*users_.key_sign_in_options("no such session"));

  EXPECT_EQ(*users_.recovery_codes_left(e.user.id), 10);
  clock_.advance(16min);
  EXPECT_EQ(users_.key_registration_options(token).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(users_.remove_security_key(token, authenticator.credential_id).error().code,
            ErrorCode::kFailedPrecondition);
  ASSERT_EQ(users_.reauthenticate(token, code_now(e.secret))->outcome, Attempt::Outcome::kAccepted);
  EXPECT_FALSE(*users_.remove_security_key(token, "not a key of hers"));
  EXPECT_TRUE(*users_.remove_security_key(token, authenticator.credential_id));
  EXPECT_TRUE(users_.security_keys(e.user.id)->empty());
  EXPECT_EQ(users_.remove_security_key("no such session", "x").error().code, ErrorCode::kPermissionDenied);
}

// Re-authentication before a sensitive action may use a security key instead of a code: with a
// challenge issued for re-authentication to this session, once per signature.
TEST_F(UsersTest, ASecurityKeyReAuthenticatesASignedInSession) {
  using fakes::webauthn_bytes::kRp;
  auto e = enrolled();
  std::string token = signed_in(e);
  fakes::webauthn_bytes::SoftwareAuthenticator authenticator;
  EXPECT_FALSE(*users_.key_reauthentication_options(token)) << "no keys yet: codes only";
  auto options = users_.key_registration_options(token);
  ASSERT_TRUE(options);
  auto [client, attestation] = authenticator.create(options->challenge);
  ASSERT_TRUE(users_.register_security_key(token, kRp, {options->challenge, client, attestation, "Blue key"}));

  clock_.advance(16min);
  EXPECT_FALSE(users_.recently_verified(**users_.session(token)));
  auto reauth = users_.key_reauthentication_options(token);
  ASSERT_TRUE(reauth && *reauth);
  EXPECT_EQ((*reauth)->credential_ids, std::vector<std::string>{authenticator.credential_id});
  EXPECT_FALSE(*users_.key_reauthentication_options("no such session"));

  // A sign-in challenge does not re-authenticate, nor does another session's.
  auto sign_in_challenge = users_.webauthn_challenge(token, "sign-in");
  auto wrong_purpose = authenticator.get(*sign_in_challenge);
  auto refused =
      users_.reauthenticate_key(token, kRp,
                                {*sign_in_challenge, authenticator.credential_id, wrong_purpose.client_data_json,
                                 wrong_purpose.authenticator_data, wrong_purpose.signature});
  EXPECT_EQ(refused->reason, "security key: challenge not issued to this session, or expired");
  EXPECT_FALSE(users_.recently_verified(**users_.session(token)));

  auto got = authenticator.get((*reauth)->challenge);
  const KeyAssertion assertion{(*reauth)->challenge, authenticator.credential_id, got.client_data_json,
                               got.authenticator_data, got.signature};
  auto accepted = users_.reauthenticate_key(token, kRp, assertion);
  ASSERT_EQ(accepted->outcome, Attempt::Outcome::kAccepted) << accepted->reason;
  EXPECT_EQ(accepted->reason, "security key");
  EXPECT_TRUE(users_.recently_verified(**users_.session(token)));
  // The same signature again (replayed, its challenge still fresh): its counter did not rise.
  auto replay = users_.reauthenticate_key(token, kRp, assertion);
  EXPECT_EQ(replay->reason, "security key: signature counter did not rise (cloned or replayed)");
  EXPECT_EQ(users_.reauthenticate_key("no such session", kRp, assertion)->outcome, Attempt::Outcome::kRefused);
}

// A team manager's invitation: someone new gets an account and a link; someone with an account
// keeps it and gets the permissions; the team lists members, not platform admins.
TEST_F(UsersTest, InvitingAddsNewAndExistingUsersToATeam) {
  store::ServiceRecord clinic;
  clinic.id = ServiceId{crypto::random_uuid()};
  clinic.name = "Clinic";
  clinic.created_at = clock_.now();
  ASSERT_TRUE(store_.create_service(clinic));
  const ServiceId service = clinic.id;
  auto ada = enrolled("ada@example.org");
  auto admin = users_.create_user("root@example.org", "Root", true);
  ASSERT_TRUE(admin);

  auto fresh = users_.invite(service, "Grace@Example.org", "Grace Hopper", {Permission::kSend});
  ASSERT_TRUE(fresh) << fresh.error().message;
  ASSERT_TRUE(fresh->enrolment_token);
  EXPECT_EQ(fresh->user.email, "grace@example.org");
  EXPECT_TRUE(*users_.enrolment_user(*fresh->enrolment_token));

  auto existing = users_.invite(service, "ADA@example.org", "ignored for an existing user", {Permission::kManageTeam});
  ASSERT_TRUE(existing);
  EXPECT_FALSE(existing->enrolment_token) << "Ada has an account already";
  EXPECT_EQ(existing->user.id, ada.user.id);

  auto team = users_.team(service);
  ASSERT_TRUE(team);
  ASSERT_EQ(team->size(), 2u);
  EXPECT_EQ((*team)[0].user.name, "Ada Lovelace");
  EXPECT_EQ((*team)[0].permissions, (std::vector<Permission>{Permission::kView, Permission::kManageTeam}));
  EXPECT_EQ((*team)[1].user.name, "Grace Hopper");
  EXPECT_EQ((*team)[1].permissions, (std::vector<Permission>{Permission::kView, Permission::kSend}));

  EXPECT_EQ(users_.invite(service, "not an address", "X", {Permission::kView}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(users_.invite(service, "new@example.org", " ", {Permission::kView}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(users_.invite(service, "new@example.org", "New", {}).error().message, "Select at least one permission");
  EXPECT_FALSE(*users_.find_user_by_email("new@example.org")) << "a refused invitation makes no account";
  EXPECT_TRUE(*users_.find_user_by_email(" Grace@example.ORG"));
}

}  // namespace
}  // namespace herald::domain::users
