// The AdminUserStore contract (store/store.h): the admin web UI's users, memberships, enrolment
// links, recovery codes, sessions and WebAuthn credentials, run against every backend as
// store_contract_test.cc runs the rest (SQLite, PostgreSQL, and the in-memory store other unit
// tests use). Checks of what reaches the disk run where there is one (`on_disk()`).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "crypto/random.h"
#include "tests/store/backends.h"

namespace herald::store {
namespace {

using namespace std::chrono_literals;

class AdminUserStoreContract : public testing::TwoServicesContract {
 protected:
  // A new user (not stored), created `offset` after now_.
  AdminUserRecord user(std::string email, Duration offset = Duration::zero()) {
    AdminUserRecord u;
    u.id = crypto::random_uuid();
    u.email = std::move(email);
    u.name = "Ada Lovelace";
    u.created_at = now_ + offset;
    return u;
  }
  // A stored user (id zero on failure, which fails the test).
  Uuid stored_user(const std::string& email, Duration offset = Duration::zero()) {
    AdminUserRecord u = user(email, offset);
    auto created = store_->create_admin_user(u);
    EXPECT_TRUE(created) << created.error().message;
    return created ? u.id : Uuid{};
  }
};

TEST_P(AdminUserStoreContract, UsersAreCreatedFoundByIdAndByEmailAndListedOldestFirst) {
  AdminUserRecord ada = user("ada@example.org", 1s);
  ada.platform_admin = true;
  ada.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
  ada.totp_secret = std::string("\x00\x01secret\xff", 9);
  ada.totp_last_step = 7;
  ada.failed_sign_ins = 2;
  ada.locked_until = now_ + 15min;
  ada.enrolled_at = now_ + 2s;
  ASSERT_TRUE(store_->create_admin_user(ada));
  AdminUserRecord grace = user("grace@example.org");  // created first
  grace.name = "Grace Hopper";
  grace.disabled_at = now_ + 3s;
  ASSERT_TRUE(store_->create_admin_user(grace));

  auto found = another()->find_admin_user(ada.id);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  const AdminUserRecord& a = **found;
  EXPECT_EQ(a.id, ada.id);
  EXPECT_EQ(a.email, "ada@example.org");
  EXPECT_EQ(a.name, "Ada Lovelace");
  EXPECT_TRUE(a.platform_admin);
  EXPECT_EQ(a.password_hash, ada.password_hash);
  EXPECT_EQ(a.totp_secret, ada.totp_secret) << "the secret's raw bytes round-trip";
  EXPECT_EQ(a.totp_last_step, 7);
  EXPECT_EQ(a.failed_sign_ins, 2);
  EXPECT_EQ(a.locked_until, ada.locked_until);
  EXPECT_EQ(a.enrolled_at, ada.enrolled_at);
  EXPECT_FALSE(a.disabled_at);
  EXPECT_EQ(a.created_at, ada.created_at);

  auto by_email = store_->find_admin_user_by_email("grace@example.org");
  ASSERT_TRUE(by_email && *by_email);
  EXPECT_EQ((*by_email)->id, grace.id);
  EXPECT_EQ((*by_email)->name, "Grace Hopper");
  EXPECT_FALSE((*by_email)->platform_admin);
  EXPECT_EQ((*by_email)->totp_secret, "") << "not enrolled: no secret";
  EXPECT_EQ((*by_email)->password_hash, "");
  EXPECT_FALSE((*by_email)->enrolled_at);
  EXPECT_FALSE((*by_email)->locked_until);
  EXPECT_EQ((*by_email)->disabled_at, grace.disabled_at);
  // The caller normalises (trimmed, lower case); the store compares what it is given.
  EXPECT_FALSE(*store_->find_admin_user_by_email("Grace@Example.org"));
  EXPECT_FALSE(*store_->find_admin_user_by_email("nobody@example.org"));
  EXPECT_FALSE(*store_->find_admin_user(crypto::random_uuid()));

  // A second user with the same email, on this store or another, is refused; so is the same id.
  AdminUserRecord again = user("ada@example.org", 5s);
  auto refused = another()->create_admin_user(again);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  AdminUserRecord same_id = user("other@example.org");
  same_id.id = ada.id;
  refused = store_->create_admin_user(same_id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(*store_->find_admin_user_by_email("other@example.org"));

  auto listed = store_->list_admin_users();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, grace.id) << "oldest first";
  EXPECT_EQ((*listed)[1].id, ada.id);
  EXPECT_EQ((*listed)[1].email, "ada@example.org");
  EXPECT_EQ((*listed)[1].totp_secret, ada.totp_secret);
}

TEST_P(AdminUserStoreContract, UpdateSavesAllButIdEmailAndCreationAndNeverLowersTheTotpStep) {
  AdminUserRecord u = user("ada@example.org");
  ASSERT_TRUE(store_->create_admin_user(u));
  AdminUserRecord other = user("grace@example.org");
  ASSERT_TRUE(store_->create_admin_user(other));

  AdminUserRecord changed = u;
  changed.email = "changed@example.org";  // not saved
  changed.created_at = now_ + 1h;         // not saved
  changed.name = "Ada King";
  changed.platform_admin = true;
  changed.password_hash = "$argon2id$new";
  changed.totp_secret = "JBSWY3DPEHPK3PXP-raw";
  changed.totp_last_step = 10;
  changed.failed_sign_ins = 4;
  changed.locked_until = now_ + 5min;
  changed.enrolled_at = now_ + 1min;
  changed.disabled_at = now_ + 2min;
  auto updated = another()->update_admin_user(changed);
  ASSERT_TRUE(updated) << updated.error().message;
  auto found = store_->find_admin_user(u.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->email, "ada@example.org");
  EXPECT_EQ((*found)->created_at, u.created_at);
  EXPECT_EQ((*found)->name, "Ada King");
  EXPECT_TRUE((*found)->platform_admin);
  EXPECT_EQ((*found)->password_hash, "$argon2id$new");
  EXPECT_EQ((*found)->totp_secret, "JBSWY3DPEHPK3PXP-raw");
  EXPECT_EQ((*found)->totp_last_step, 10);
  EXPECT_EQ((*found)->failed_sign_ins, 4);
  EXPECT_EQ((*found)->locked_until, changed.locked_until);
  EXPECT_EQ((*found)->enrolled_at, changed.enrolled_at);
  EXPECT_EQ((*found)->disabled_at, changed.disabled_at);
  EXPECT_TRUE(*store_->find_admin_user_by_email("ada@example.org")) << "still found by its email";
  EXPECT_FALSE(*store_->find_admin_user_by_email("changed@example.org"));

  // A record read before a step was used does not take the step back.
  ASSERT_TRUE(*store_->use_totp_step(u.id, 12));
  changed.totp_last_step = 5;
  changed.totp_secret.clear();  // enrolment reset: no secret
  changed.locked_until.reset();
  changed.failed_sign_ins = 0;
  ASSERT_TRUE(store_->update_admin_user(changed));
  found = store_->find_admin_user(u.id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->totp_last_step, 12);
  EXPECT_EQ((*found)->totp_secret, "");
  EXPECT_FALSE((*found)->locked_until);
  EXPECT_EQ((*found)->failed_sign_ins, 0);
  EXPECT_FALSE(*store_->use_totp_step(u.id, 12)) << "the step used stays used";

  // The other user is untouched.
  auto untouched = store_->find_admin_user(other.id);
  ASSERT_TRUE(untouched && *untouched);
  EXPECT_EQ((*untouched)->name, "Ada Lovelace");
  EXPECT_EQ((*untouched)->totp_last_step, 0);

  AdminUserRecord absent = user("absent@example.org");
  auto missing = store_->update_admin_user(absent);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(AdminUserStoreContract, TotpStepIsAcceptedOnceAndOnlyForwards) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  EXPECT_TRUE(*store_->use_totp_step(ada, 100));
  EXPECT_FALSE(*store_->use_totp_step(ada, 100)) << "a replayed code";
  EXPECT_FALSE(*another()->use_totp_step(ada, 100)) << "a replayed code, on another node";
  EXPECT_FALSE(*store_->use_totp_step(ada, 99)) << "an older code";
  EXPECT_TRUE(*store_->use_totp_step(grace, 100)) << "another user's steps are their own";
  EXPECT_TRUE(*store_->use_totp_step(ada, 101));
  EXPECT_EQ(store_->find_admin_user(ada)->value().totp_last_step, 101);
  EXPECT_FALSE(*store_->use_totp_step(crypto::random_uuid(), 1000)) << "no such user";
}

TEST_P(AdminUserStoreContract, MembershipsArePutReplacedDeletedAndFiltered) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  ASSERT_TRUE(store_->put_admin_membership({ada, service_a_.id, {"view", "send"}, now_}));
  ASSERT_TRUE(store_->put_admin_membership({ada, service_b_.id, {"view"}, now_ + 1s}));
  ASSERT_TRUE(store_->put_admin_membership({grace, service_a_.id, {"view", "manage_team"}, now_ + 2s}));

  auto of_ada = another()->admin_memberships(ada, std::nullopt);
  ASSERT_TRUE(of_ada) << of_ada.error().message;
  ASSERT_EQ(of_ada->size(), 2u);
  EXPECT_EQ((*of_ada)[0].service, service_a_.id) << "oldest first";
  EXPECT_EQ((*of_ada)[0].permissions, (std::vector<std::string>{"view", "send"}));
  EXPECT_EQ((*of_ada)[0].created_at, now_);
  EXPECT_EQ((*of_ada)[1].service, service_b_.id);
  for (const AdminMembership& m : *of_ada) EXPECT_EQ(m.user, ada) << "never another user's";

  auto in_a = store_->admin_memberships(std::nullopt, service_a_.id);
  ASSERT_TRUE(in_a);
  ASSERT_EQ(in_a->size(), 2u);
  EXPECT_EQ((*in_a)[0].user, ada);
  EXPECT_EQ((*in_a)[1].user, grace);
  EXPECT_EQ((*in_a)[1].permissions, (std::vector<std::string>{"view", "manage_team"}));
  for (const AdminMembership& m : *in_a) EXPECT_EQ(m.service, service_a_.id);

  auto one = store_->admin_memberships(grace, service_b_.id);
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->empty()) << "grace is not in service B";
  one = store_->admin_memberships(grace, service_a_.id);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].user, grace);
  EXPECT_EQ(store_->admin_memberships(std::nullopt, std::nullopt)->size(), 3u);

  // Putting it again replaces the permissions and keeps the membership's creation time.
  ASSERT_TRUE(store_->put_admin_membership(
      {ada, service_a_.id, {"view", "send", "manage_templates", "manage_api_keys", "manage_settings"}, now_ + 1h}));
  one = store_->admin_memberships(ada, service_a_.id);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].permissions,
            (std::vector<std::string>{"view", "send", "manage_templates", "manage_api_keys", "manage_settings"}));
  EXPECT_EQ((*one)[0].created_at, now_);
  ASSERT_TRUE(store_->put_admin_membership({ada, service_b_.id, {}, now_ + 1h}));
  one = store_->admin_memberships(ada, service_b_.id);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_TRUE((*one)[0].permissions.empty()) << "a member with no permissions stays a member";

  // Of an unknown user, or in an unknown service: refused.
  auto refused = store_->put_admin_membership({crypto::random_uuid(), service_a_.id, {"view"}, now_});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  refused = store_->put_admin_membership({ada, ServiceId{crypto::random_uuid()}, {"view"}, now_});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);

  EXPECT_TRUE(*another()->delete_admin_membership(ada, service_a_.id));
  EXPECT_FALSE(*store_->delete_admin_membership(ada, service_a_.id)) << "already gone";
  EXPECT_FALSE(*store_->delete_admin_membership(grace, service_b_.id)) << "never was";
  in_a = store_->admin_memberships(std::nullopt, service_a_.id);
  ASSERT_TRUE(in_a);
  ASSERT_EQ(in_a->size(), 1u);
  EXPECT_EQ((*in_a)[0].user, grace) << "only ada's membership went";
  EXPECT_EQ(store_->admin_memberships(ada, std::nullopt)->size(), 1u);
}

// A service may send to its team as to its guest list (ServiceDirectory::on_guest_list): an admin
// user with a membership of it who is not disabled, matched by the blind index of the email.
TEST_P(AdminUserStoreContract, TeamMembersAreOnTheirServicesGuestListsWhileMembersAndEnabled) {
  // "Ada@Example.org" as Users::create_user stores it, and as callers pass a send's recipient,
  // to "ada@example.org" or "ADA@example.ORG" alike: the domain's normalise_email_for_index.
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  stored_user("alan@example.org");  // a member of nothing
  ASSERT_TRUE(store_->put_admin_membership({ada, service_a_.id, {"view", "send"}, now_}));
  ASSERT_TRUE(store_->put_admin_membership({grace, service_a_.id, {}, now_}));

  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "ada@example.org"));
  EXPECT_TRUE(*another()->on_guest_list(service_a_.id, "ada@example.org")) << "another node";
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "grace@example.org")) << "a member with no permissions";
  EXPECT_FALSE(*store_->on_guest_list(service_b_.id, "ada@example.org")) << "not a member of B";
  EXPECT_FALSE(*store_->on_guest_list(service_a_.id, "alan@example.org")) << "a user, but not of the team";
  EXPECT_FALSE(*store_->on_guest_list(service_a_.id, "nobody@example.org"));
  // The caller normalises (trimmed, lower case); the store compares what it is given.
  EXPECT_FALSE(*store_->on_guest_list(service_a_.id, "ADA@example.ORG"));
  auto listed = store_->guest_list(service_a_.id);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty()) << "team members are not guest-list entries";

  // A phone number is never a team member's: the guest list alone answers.
  const GuestListEntry phone{crypto::random_uuid(), service_a_.id, "mobile", "07700 900123", "447700900123", now_};
  ASSERT_TRUE(store_->add_guest_list_entry(phone));
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "447700900123"));
  EXPECT_FALSE(*store_->on_guest_list(service_a_.id, "447700900999"));
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "ada@example.org")) << "beside a guest list";

  // Disabled (through update): off the list; enabled again: back on it.
  AdminUserRecord disabled = **store_->find_admin_user(grace);
  disabled.disabled_at = now_ + 1s;
  ASSERT_TRUE(store_->update_admin_user(disabled));
  EXPECT_FALSE(*another()->on_guest_list(service_a_.id, "grace@example.org")) << "disabled";
  disabled.disabled_at.reset();
  ASSERT_TRUE(store_->update_admin_user(disabled));
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "grace@example.org")) << "enabled again";

  // No longer a member: off the list.
  ASSERT_TRUE(*store_->delete_admin_membership(ada, service_a_.id));
  EXPECT_FALSE(*another()->on_guest_list(service_a_.id, "ada@example.org")) << "membership deleted";
  EXPECT_TRUE(*store_->on_guest_list(service_a_.id, "grace@example.org")) << "only ada's went";
}

TEST_P(AdminUserStoreContract, EnrolmentLinksAreFoundTakenOnceExpireAndAreReplaced) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  const std::string first(64, 'a'), second(64, 'b'), graces(64, 'c'), short_lived(64, 'd');
  ASSERT_TRUE(store_->add_admin_enrolment({first, ada, now_, now_ + 24h}));
  ASSERT_TRUE(store_->add_admin_enrolment({graces, grace, now_, now_ + 24h}));

  auto found = another()->find_admin_enrolment(first, now_ + 1h);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  EXPECT_EQ((*found)->token_hash, first);
  EXPECT_EQ((*found)->user, ada);
  EXPECT_EQ((*found)->created_at, now_);
  EXPECT_EQ((*found)->expires_at, now_ + 24h);
  EXPECT_FALSE(*store_->find_admin_enrolment(first, now_ + 24h)) << "expired at its expiry";
  EXPECT_FALSE(*store_->take_admin_enrolment(first, now_ + 25h)) << "an expired link is not taken";
  EXPECT_FALSE(*store_->find_admin_enrolment(std::string(64, 'z'), now_)) << "unknown";

  // A new link for the user: the earlier one stops working; other users' links stay.
  ASSERT_TRUE(store_->add_admin_enrolment({second, ada, now_ + 1h, now_ + 25h}));
  EXPECT_FALSE(*store_->find_admin_enrolment(first, now_ + 1h));
  EXPECT_FALSE(*store_->take_admin_enrolment(first, now_ + 1h));
  EXPECT_TRUE(*store_->find_admin_enrolment(graces, now_ + 1h));

  EXPECT_TRUE(*another()->take_admin_enrolment(second, now_ + 2h));
  EXPECT_FALSE(*store_->take_admin_enrolment(second, now_ + 2h)) << "used up";
  EXPECT_FALSE(*store_->find_admin_enrolment(second, now_ + 2h));
  auto still = store_->find_admin_enrolment(graces, now_ + 2h);
  ASSERT_TRUE(still && *still);
  EXPECT_EQ((*still)->user, grace);

  ASSERT_TRUE(store_->add_admin_enrolment({short_lived, ada, now_ + 2h, now_ + 3h}));
  EXPECT_TRUE(*store_->find_admin_enrolment(short_lived, now_ + 3h - 1us));
  EXPECT_FALSE(*store_->take_admin_enrolment(short_lived, now_ + 3h));

  auto refused = store_->add_admin_enrolment({std::string(64, 'e'), crypto::random_uuid(), now_, now_ + 1h});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(AdminUserStoreContract, RecoveryCodesAreUsedOnceAndReplacedWhole) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  EXPECT_EQ(*store_->recovery_codes_left(ada), 0);
  ASSERT_TRUE(store_->set_recovery_codes(ada, {"hash-1", "hash-2", "hash-3"}));
  ASSERT_TRUE(store_->set_recovery_codes(grace, {"hash-1", "hash-g"}));
  EXPECT_EQ(*another()->recovery_codes_left(ada), 3);

  EXPECT_TRUE(*another()->use_recovery_code(ada, "hash-2"));
  EXPECT_FALSE(*store_->use_recovery_code(ada, "hash-2")) << "used up";
  EXPECT_FALSE(*store_->use_recovery_code(ada, "hash-g")) << "another user's code";
  EXPECT_FALSE(*store_->use_recovery_code(ada, "hash-9"));
  EXPECT_EQ(*store_->recovery_codes_left(ada), 2);
  EXPECT_EQ(*store_->recovery_codes_left(grace), 2) << "a code of the same hash is each user's own";
  EXPECT_TRUE(*store_->use_recovery_code(grace, "hash-1"));
  EXPECT_TRUE(*store_->use_recovery_code(ada, "hash-1"));

  // New codes replace all the old ones.
  ASSERT_TRUE(store_->set_recovery_codes(ada, {"new-1", "new-2", "new-3", "new-4"}));
  EXPECT_EQ(*store_->recovery_codes_left(ada), 4);
  EXPECT_FALSE(*store_->use_recovery_code(ada, "hash-3")) << "an old code stops working";
  EXPECT_TRUE(*store_->use_recovery_code(ada, "new-4"));
  EXPECT_EQ(*store_->recovery_codes_left(ada), 3);
  ASSERT_TRUE(store_->set_recovery_codes(ada, {}));
  EXPECT_EQ(*store_->recovery_codes_left(ada), 0);
  EXPECT_EQ(*store_->recovery_codes_left(grace), 1);

  auto refused = store_->set_recovery_codes(crypto::random_uuid(), {"x"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(AdminUserStoreContract, SessionsAreCreatedFoundUpdatedAndEnded) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  const std::string s1(64, '1'), s2(64, '2'), s3(64, '3');
  ASSERT_TRUE(store_->create_admin_session({s1, ada, now_, now_, std::nullopt}));
  ASSERT_TRUE(store_->create_admin_session({s2, ada, now_ + 1min, now_ + 1min, now_ + 1min}));
  ASSERT_TRUE(store_->create_admin_session({s3, grace, now_, now_, now_}));

  auto found = another()->find_admin_session(s1);
  ASSERT_TRUE(found && *found) << (found ? "absent" : found.error().message);
  EXPECT_EQ((*found)->token_hash, s1);
  EXPECT_EQ((*found)->user, ada);
  EXPECT_EQ((*found)->created_at, now_);
  EXPECT_EQ((*found)->last_seen_at, now_);
  EXPECT_FALSE((*found)->second_factor_at) << "only the password so far";
  found = store_->find_admin_session(s3);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user, grace) << "each session names its own user";
  EXPECT_FALSE(*store_->find_admin_session(std::string(64, '9')));

  // The second factor given, and the session seen again.
  AdminSessionRecord seen = **store_->find_admin_session(s1);
  seen.last_seen_at = now_ + 5min;
  seen.second_factor_at = now_ + 4min;
  seen.created_at = now_ + 1h;  // not saved
  EXPECT_TRUE(*another()->update_admin_session(seen));
  found = store_->find_admin_session(s1);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->last_seen_at, now_ + 5min);
  EXPECT_EQ((*found)->second_factor_at, now_ + 4min);
  EXPECT_EQ((*found)->created_at, now_);
  // Under another user's id, nothing changes.
  AdminSessionRecord hijack = seen;
  hijack.user = grace;
  hijack.last_seen_at = now_ + 9min;
  EXPECT_FALSE(*store_->update_admin_session(hijack));
  EXPECT_EQ(store_->find_admin_session(s1)->value().last_seen_at, now_ + 5min);
  EXPECT_EQ(store_->find_admin_session(s1)->value().user, ada);

  auto duplicate = store_->create_admin_session({s1, grace, now_, now_, std::nullopt});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->find_admin_session(s1)->value().user, ada);
  auto unknown_user = store_->create_admin_session({std::string(64, '8'), crypto::random_uuid(), now_, now_, now_});
  ASSERT_FALSE(unknown_user);
  EXPECT_EQ(unknown_user.error().code, ErrorCode::kFailedPrecondition);

  EXPECT_TRUE(*store_->delete_admin_session(s2));
  EXPECT_FALSE(*store_->delete_admin_session(s2)) << "already ended";
  EXPECT_FALSE(*store_->find_admin_session(s2));
  AdminSessionRecord gone = seen;
  gone.token_hash = s2;
  EXPECT_FALSE(*store_->update_admin_session(gone)) << "the session is gone";
  EXPECT_FALSE(*store_->find_admin_session(s2)) << "and an update does not bring it back";

  // Signed out everywhere: every session of the user, none of another's.
  ASSERT_TRUE(store_->create_admin_session({s2, ada, now_ + 2min, now_ + 2min, std::nullopt}));
  EXPECT_EQ(*another()->delete_admin_sessions(ada), 2);
  EXPECT_EQ(*store_->delete_admin_sessions(ada), 0);
  EXPECT_FALSE(*store_->find_admin_session(s1));
  EXPECT_TRUE(*store_->find_admin_session(s3));
}

TEST_P(AdminUserStoreContract, ExpiredSessionsGoWhenIdleOrPastTheirAbsoluteLimit) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  // fresh: recent on both counts; idle: not seen for 2 h; old: seen just now but created 13 h ago.
  const std::string fresh(64, 'f'), idle(64, 'i'), old(64, 'o'), edge(64, 'e');
  ASSERT_TRUE(store_->create_admin_session({fresh, ada, now_ - 1h, now_ - 1min, now_ - 1h}));
  ASSERT_TRUE(store_->create_admin_session({idle, ada, now_ - 3h, now_ - 2h, now_ - 3h}));
  ASSERT_TRUE(store_->create_admin_session({old, grace, now_ - 13h, now_ - 1min, now_ - 13h}));
  // At the cutoffs exactly: not before them, so kept.
  ASSERT_TRUE(store_->create_admin_session({edge, grace, now_ - 12h, now_ - 1h, std::nullopt}));

  auto deleted = another()->delete_expired_admin_sessions(now_ - 1h, now_ - 12h);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(*deleted, 2);
  EXPECT_TRUE(*store_->find_admin_session(fresh));
  EXPECT_FALSE(*store_->find_admin_session(idle)) << "idle too long";
  EXPECT_FALSE(*store_->find_admin_session(old)) << "past the absolute limit";
  EXPECT_TRUE(*store_->find_admin_session(edge));
  EXPECT_EQ(*store_->delete_expired_admin_sessions(now_ - 1h, now_ - 12h), 0);
}

TEST_P(AdminUserStoreContract, WebAuthnCredentialsAreRegisteredListedAndTheirCountersOnlyRise) {
  const Uuid ada = stored_user("ada@example.org");
  const Uuid grace = stored_user("grace@example.org");
  const std::string key1("\x00\x01key-one\xfe", 10), key2("key-two"), key3("\x7f\x80key-three", 11),
      passkey("passkey-no-counter");
  ASSERT_TRUE(store_->add_webauthn_credential({key2, ada, "cose-2", 5, "Backup key", now_ + 1s, std::nullopt}));
  ASSERT_TRUE(
      store_->add_webauthn_credential({key1, ada, std::string("cose\0-1", 7), 0, "YubiKey", now_, std::nullopt}));
  ASSERT_TRUE(store_->add_webauthn_credential({key3, grace, "cose-3", 1, "Laptop", now_, now_}));
  ASSERT_TRUE(store_->add_webauthn_credential({passkey, grace, "cose-4", 0, "Phone", now_ + 2s, std::nullopt}));

  // An id registered already, by anyone, is refused.
  auto refused = another()->add_webauthn_credential({key1, grace, "cose-x", 0, "Stolen", now_, std::nullopt});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  refused = store_->add_webauthn_credential({"key-x", crypto::random_uuid(), "cose-x", 0, "x", now_, std::nullopt});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);

  auto of_ada = another()->webauthn_credentials(ada);
  ASSERT_TRUE(of_ada) << of_ada.error().message;
  ASSERT_EQ(of_ada->size(), 2u);
  EXPECT_EQ((*of_ada)[0].credential_id, key1) << "oldest first; raw bytes round-trip";
  EXPECT_EQ((*of_ada)[0].public_key, std::string("cose\0-1", 7));
  EXPECT_EQ((*of_ada)[0].name, "YubiKey");
  EXPECT_EQ((*of_ada)[0].user, ada);
  EXPECT_EQ((*of_ada)[0].sign_count, 0);
  EXPECT_FALSE((*of_ada)[0].last_used_at);
  EXPECT_EQ((*of_ada)[1].credential_id, key2);
  EXPECT_EQ((*of_ada)[1].sign_count, 5);
  auto of_grace = store_->webauthn_credentials(grace);
  ASSERT_TRUE(of_grace);
  ASSERT_EQ(of_grace->size(), 2u);
  for (const WebAuthnCredential& c : *of_grace) EXPECT_EQ(c.user, grace) << "never another user's";
  EXPECT_TRUE(store_->webauthn_credentials(crypto::random_uuid())->empty());

  auto found = store_->find_webauthn_credential(key3);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user, grace);
  EXPECT_EQ((*found)->public_key, "cose-3");
  EXPECT_EQ((*found)->created_at, now_);
  EXPECT_EQ((*found)->last_used_at, now_);
  EXPECT_FALSE(*store_->find_webauthn_credential("no-such-key"));

  // The counter must rise: equal or lower is a cloned authenticator or a replay.
  EXPECT_TRUE(*store_->use_webauthn_credential(key2, 6, now_ + 1min));
  EXPECT_FALSE(*another()->use_webauthn_credential(key2, 6, now_ + 2min)) << "equal";
  EXPECT_FALSE(*store_->use_webauthn_credential(key2, 3, now_ + 2min)) << "lower";
  EXPECT_TRUE(*store_->use_webauthn_credential(key2, 100, now_ + 3min));
  found = store_->find_webauthn_credential(key2);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->sign_count, 100);
  EXPECT_EQ((*found)->last_used_at, now_ + 3min);
  EXPECT_FALSE(*store_->use_webauthn_credential("no-such-key", 1, now_));

  // Authenticators without a counter (always 0) are accepted each time...
  EXPECT_TRUE(*store_->use_webauthn_credential(passkey, 0, now_ + 1min));
  EXPECT_TRUE(*another()->use_webauthn_credential(passkey, 0, now_ + 2min));
  EXPECT_EQ(store_->find_webauthn_credential(passkey)->value().last_used_at, now_ + 2min);
  // ...but once one has counted, a 0 is refused.
  EXPECT_TRUE(*store_->use_webauthn_credential(key1, 1, now_ + 1min));
  EXPECT_FALSE(*store_->use_webauthn_credential(key1, 0, now_ + 2min));
  EXPECT_EQ(store_->find_webauthn_credential(key1)->value().sign_count, 1);
  EXPECT_EQ(store_->find_webauthn_credential(key1)->value().last_used_at, now_ + 1min);

  // Only its own user deletes a credential.
  EXPECT_FALSE(*store_->delete_webauthn_credential(grace, key1));
  EXPECT_TRUE(*store_->find_webauthn_credential(key1));
  EXPECT_TRUE(*another()->delete_webauthn_credential(ada, key1));
  EXPECT_FALSE(*store_->delete_webauthn_credential(ada, key1)) << "already gone";
  EXPECT_FALSE(*store_->find_webauthn_credential(key1));
  EXPECT_EQ(store_->webauthn_credentials(ada)->size(), 1u);
}

// Two nodes offered the same TOTP code, recovery code, enrolment link or assertion at once: each
// is accepted exactly once.
TEST_P(AdminUserStoreContract, EachUseIsAcceptedOnceAcrossNodesRacing) {
  const Uuid ada = stored_user("ada@example.org");
  ASSERT_TRUE(store_->set_recovery_codes(ada, {"code"}));
  ASSERT_TRUE(store_->add_admin_enrolment({"link", ada, now_, now_ + 1h}));
  ASSERT_TRUE(store_->add_webauthn_credential({"key", ada, "cose", 3, "YubiKey", now_, std::nullopt}));
  std::vector<std::shared_ptr<Store>> nodes{store_, another()};
  ASSERT_TRUE(nodes[1]);
  std::atomic<int> totp{0}, recovery{0}, link{0}, assertion{0}, failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, node = nodes[static_cast<std::size_t>(i) % nodes.size()]] {
      const auto count = [&](const Result<bool>& used, std::atomic<int>& wins) {
        if (!used) {
          ++failures;
        } else if (*used) {
          ++wins;
        }
      };
      count(node->use_totp_step(ada, 5000), totp);
      count(node->use_recovery_code(ada, "code"), recovery);
      count(node->take_admin_enrolment("link", now_), link);
      count(node->use_webauthn_credential("key", 4, now_), assertion);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(totp.load(), 1);
  EXPECT_EQ(recovery.load(), 1);
  EXPECT_EQ(link.load(), 1);
  EXPECT_EQ(assertion.load(), 1);
}

// Failed sign-ins from many browsers on several nodes are each counted, and the bookkeeping
// never writes back the rest of the record: an operator's disable made meanwhile stays.
TEST_P(AdminUserStoreContract, SignInFailuresAreCountedAtomicallyAndTouchNothingElse) {
  const Uuid ada = stored_user("ada@example.org");
  std::vector<std::shared_ptr<Store>> nodes{store_, another()};
  ASSERT_TRUE(nodes[1]);
  AdminUserRecord disabled = **store_->find_admin_user(ada);
  disabled.disabled_at = now_;
  ASSERT_TRUE(store_->update_admin_user(disabled));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, node = nodes[static_cast<std::size_t>(i) % nodes.size()]] {
      for (int j = 0; j < 5; ++j) {
        if (!node->count_sign_in_failure(ada)) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto after = store_->find_admin_user(ada);
  ASSERT_TRUE(after && *after);
  EXPECT_EQ((*after)->failed_sign_ins, 40) << "every failure counted";
  EXPECT_EQ((*after)->disabled_at, now_) << "the disable stays";
  EXPECT_EQ(*store_->count_sign_in_failure(crypto::random_uuid()), 0) << "no such user";

  ASSERT_TRUE(store_->set_sign_in_lock(ada, now_ + 1h, false));
  EXPECT_EQ((*store_->find_admin_user(ada))->locked_until, now_ + 1h);
  EXPECT_EQ((*store_->find_admin_user(ada))->failed_sign_ins, 40);
  ASSERT_TRUE(store_->set_sign_in_lock(ada, std::nullopt, true));
  EXPECT_FALSE((*store_->find_admin_user(ada))->locked_until);
  EXPECT_EQ((*store_->find_admin_user(ada))->failed_sign_ins, 0);
  ASSERT_TRUE(store_->set_admin_password_hash(ada, "$argon2id$v=19$rehashed"));
  auto rehashed = store_->find_admin_user(ada);
  EXPECT_EQ((*rehashed)->password_hash, "$argon2id$v=19$rehashed");
  EXPECT_EQ((*rehashed)->disabled_at, now_);
  EXPECT_EQ((*rehashed)->email, "ada@example.org");
}

// Email, name and TOTP secret never reach the disk in plain text (the database file and its
// write-ahead log on SQLite; the whole cluster's files, WAL included, on PostgreSQL).
TEST_P(AdminUserStoreContract, AdminUserPersonalFieldsAreSealedOnDiskCanary) {
  if (!backend_->on_disk()) GTEST_SKIP() << "the in-memory store keeps nothing on disk";
  AdminUserRecord u = user("canary.admin@example.org");
  u.name = "Canary Adminname";
  u.totp_secret = "totp-canary-secret-2c9f71";
  // Plain text by design (a hash), to find the row on disk.
  u.password_hash = "$argon2id$marker-" + crypto::random_uuid().to_string();
  ASSERT_TRUE(store_->create_admin_user(u));
  AdminUserRecord renamed = u;
  renamed.name = "Canary Renamedadmin";
  renamed.totp_secret = "totp-canary-secret-8b3e02";
  ASSERT_TRUE(store_->update_admin_user(renamed));
  ASSERT_TRUE(store_->find_admin_user_by_email("canary.admin@example.org")->has_value());
  const std::string disk = backend_->raw_bytes();
  EXPECT_NE(disk.find(u.password_hash), std::string::npos)
      << "the row itself must be on disk, or the scan proves nothing";
  for (const char* canary : {"canary.admin", "Canary Adminname", "Canary Renamedadmin", "totp-canary-secret"}) {
    EXPECT_EQ(disk.find(canary), std::string::npos) << canary;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminUserStoreContract, ::testing::Values("sqlite", "postgres", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace herald::store
