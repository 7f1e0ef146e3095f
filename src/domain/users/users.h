#pragma once
// The admin web UI's users: created by an operator (CLI) or a team manager with a one-time
// enrolment link; enrolled with a password (argon2id) and a mandatory second factor (TOTP, with
// single-use recovery codes); signed in in two steps (password, then code) into a session with
// idle and absolute timeouts; locked out with back-off after repeated failures; re-asked for
// their second factor before sensitive actions; given permissions per service.
//
// The domain decides; its callers (the admin UI, the CLI) record each outcome in the audit log:
// every step returns who it concerned and why it failed, in words for the log, never shown to
// the person signing in (who sees one message for any wrong email, password or code).
// Thread-safe if the store is.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/password.h"
#include "crypto/webauthn.h"
#include "store/store.h"

namespace herald::domain::users {

enum class Permission { kView, kSend, kManageTemplates, kManageApiKeys, kManageTeam, kManageSettings };
inline constexpr Permission kAllPermissions[] = {
    Permission::kView,          Permission::kSend,       Permission::kManageTemplates,
    Permission::kManageApiKeys, Permission::kManageTeam, Permission::kManageSettings};
// "view", "send", "manage_templates", "manage_api_keys", "manage_team", "manage_settings".
const char* permission_name(Permission permission);
std::optional<Permission> parse_permission(std::string_view name);

struct UserSettings {
  Duration enrolment_lifetime = std::chrono::hours(72);
  Duration idle_timeout = std::chrono::minutes(30);
  Duration absolute_timeout = std::chrono::hours(12);
  // A session that has given its password must give its code within this.
  Duration second_factor_timeout = std::chrono::minutes(5);
  // Sensitive actions need the second factor given within this.
  Duration reauthentication_window = std::chrono::minutes(15);
  int free_failures = 5;                             // consecutive failures before the account locks
  Duration first_lockout = std::chrono::minutes(1);  // doubles with each further failure
  Duration longest_lockout = std::chrono::hours(1);
  std::size_t shortest_password = 12;
  int recovery_codes = 10;
  crypto::PasswordParameters password = {};
};

struct NewUser {
  store::AdminUserRecord user;
  std::string enrolment_token;  // for the one-time link; only its hash is stored
};

// A proposed TOTP secret, shown to the person enrolling as a QR code and as text.
struct TotpProposal {
  std::string secret;  // raw bytes
  std::string base32;
  std::string uri;  // otpauth://
};

struct Enrolled {
  store::AdminUserRecord user;
  std::vector<std::string> recovery_codes;  // shown once
  // Both factors were just given: the person enrolling is signed in (this session's token).
  std::string session_token = {};
};

// The outcome of one sign-in step.
struct Attempt {
  enum class Outcome { kAccepted, kRefused, kLockedOut };
  Outcome outcome = Outcome::kRefused;
  std::optional<Uuid> user = std::nullopt;           // whose account, when known (for the audit log)
  std::string reason;                                // for the audit log, never for the person
  std::optional<Timestamp> retry_at = std::nullopt;  // kLockedOut
  std::string session_token;                         // kAccepted: the session's (new) token
};

struct SignedIn {
  store::AdminUserRecord user;
  store::AdminSessionRecord session;
};

// What the browser's navigator.credentials.create() returned (raw bytes, base64url-decoded).
struct KeyRegistration {
  std::string challenge;  // as the server issued it
  std::string client_data_json;
  std::string attestation_object;
  std::string name;  // the user's label for the key
};

// What the browser needs to ask an authenticator for a key (navigator.credentials.create) or for
// a signature (navigator.credentials.get).
struct KeyOptions {
  std::string challenge;                    // raw bytes, from webauthn_challenge
  std::vector<std::string> credential_ids;  // the user's keys: excluded when adding, allowed when signing in
  store::AdminUserRecord user;              // whose: its id is the WebAuthn user handle
};

// What navigator.credentials.get() returned.
struct KeyAssertion {
  std::string challenge;
  std::string credential_id;
  std::string client_data_json;
  std::string authenticator_data;
  std::string signature;
};

class Users {
 public:
  Users(store::AdminUserStore& store, const Clock& clock, UserSettings settings = {});

  // A new user, not yet enrolled, and the token of their enrolment link. kInvalidArgument for
  // an invalid email address or an empty name; kFailedPrecondition when the email is taken.
  Result<NewUser> create_user(std::string_view email, std::string_view name, bool platform_admin);
  // A new enrolment link for the user (earlier links stop working). Enrolling through it
  // replaces the user's password, second factor and recovery codes.
  Result<std::string> issue_enrolment(Uuid user);
  // The user a link enrols, or nullopt when it is unknown, used or expired.
  Result<std::optional<store::AdminUserRecord>> enrolment_user(std::string_view token);
  Result<TotpProposal> propose_totp(const store::AdminUserRecord& user) const;
  // Sets the password and TOTP secret (after checking a code from it) and makes recovery codes;
  // uses the link up, signs the user out everywhere else and in here. kInvalidArgument: the password is too
  // short or the code wrong (message for the form); kNotFound: the link is unknown, used or expired.
  Result<Enrolled> enrol(std::string_view token, std::string_view password, std::string_view totp_secret,
                         std::string_view code);

  // Sign-in, step 1: email and password. Accepted: a session that may only give its code.
  Result<Attempt> sign_in(std::string_view email, std::string_view password);
  // Step 2: a TOTP code or a recovery code. Accepted: the session, under a new token.
  Result<Attempt> second_factor(std::string_view session_token, std::string_view code);
  // Asks a signed-in session for its second factor again, before a sensitive action.
  Result<Attempt> reauthenticate(std::string_view session_token, std::string_view code);
  // The signed-in user of a session token (both factors given, not idle or too old, the user
  // not disabled), or nullopt. Refreshes the idle timeout.
  Result<std::optional<SignedIn>> session(std::string_view session_token);
  Result<void> sign_out(std::string_view session_token);
  // Whether the second factor was given recently enough for a sensitive action.
  bool recently_verified(const SignedIn& signed_in) const;

  // The CSRF token of a session's forms, and its check (constant time).
  static std::string csrf_token(std::string_view session_token);
  static bool csrf_matches(std::string_view session_token, std::string_view given);

  // Security keys and passkeys (WebAuthn), a second factor beside TOTP. A challenge is bound to
  // the session that asked for it and to its purpose ("register" or "sign-in"), and lives 5
  // minutes: nothing is stored for it, so any node can check it.
  Result<std::string> webauthn_challenge(std::string_view session_token, std::string_view purpose) const;
  // Adds a key for a signed-in user who gave their second factor recently (kFailedPrecondition
  // otherwise: re-authenticate first); kPermissionDenied with the reason when the response is
  // not a valid registration for this site and challenge.
  Result<store::WebAuthnCredential> register_security_key(std::string_view session_token,
                                                          const crypto::webauthn::RelyingParty& rp,
                                                          const KeyRegistration& registration);
  // Sign-in step 2 with a security key (as second_factor with a code).
  Result<Attempt> second_factor_key(std::string_view session_token, const crypto::webauthn::RelyingParty& rp,
                                    const KeyAssertion& assertion);
  // A signed-in session gives its second factor again with a security key (as reauthenticate
  // with a code; the challenge is one issued for "re-authenticate").
  Result<Attempt> reauthenticate_key(std::string_view session_token, const crypto::webauthn::RelyingParty& rp,
                                     const KeyAssertion& assertion);
  // Options for reauthenticate_key: nullopt when not signed in or the user has no keys.
  Result<std::optional<KeyOptions>> key_reauthentication_options(std::string_view session_token);

  // Options for adding a key: kFailedPrecondition unless signed in with the second factor given
  // recently (re-authenticate first).
  Result<KeyOptions> key_registration_options(std::string_view session_token);
  // Options for sign-in step 2 with a key: nullopt when the session is not waiting for its second
  // factor or its user has no keys (the page then offers codes only).
  Result<std::optional<KeyOptions>> key_sign_in_options(std::string_view session_token);
  Result<std::vector<store::WebAuthnCredential>> security_keys(Uuid user);
  Result<int> recovery_codes_left(Uuid user);
  // Removes one of a signed-in user's keys: kFailedPrecondition unless the second factor was
  // given recently; false when the user has no such key.
  Result<bool> remove_security_key(std::string_view session_token, std::string_view credential_id);

  // Permissions: a platform admin has every permission in every service.
  Result<void> set_permissions(Uuid user, ServiceId service, const std::vector<Permission>& permissions);
  Result<std::vector<Permission>> permissions(const store::AdminUserRecord& user, ServiceId service);
  Result<bool> can(const store::AdminUserRecord& user, ServiceId service, Permission permission);
  // The services the user is a member of (every one, for a platform admin: see the caller).
  Result<std::vector<store::AdminMembership>> memberships(Uuid user);

  // A user by email address (compared as create_user stored it); nullopt when absent.
  Result<std::optional<store::AdminUserRecord>> find_user_by_email(std::string_view email);

  // A service's team: its members (not platform admins who are not members), by name.
  struct Member {
    store::AdminUserRecord user;
    std::vector<Permission> permissions;
  };
  Result<std::vector<Member>> team(ServiceId service);
  // Adds someone to a service's team with these permissions: an existing user keeps their
  // account (their permissions there are replaced); someone new gets an account and an
  // enrolment link (its token in `enrolment_token`). kInvalidArgument (message for the form):
  // an invalid email address, an empty name for someone new, no permission given.
  struct Invitation {
    store::AdminUserRecord user;
    std::optional<std::string> enrolment_token;
  };
  Result<Invitation> invite(ServiceId service, std::string_view email, std::string_view name,
                            const std::vector<Permission>& permissions);

  // Disables the user and ends their sessions (they can no longer sign in).
  Result<void> disable(Uuid user);

 private:
  // Counts a failure against the user (locking after free_failures) and says how it ended.
  Result<Attempt> refuse(store::AdminUserRecord user, std::string reason);
  // A code given as a second factor: TOTP (each step once) or a recovery code (each once).
  Result<Attempt> check_code(store::AdminUserRecord user, std::string_view code);
  // A security key's signature as a second factor: over a challenge issued to this session for
  // `purpose`, by one of the user's keys, its counter risen (each signature once).
  Result<Attempt> check_key(store::AdminUserRecord user, std::string_view session_token, std::string_view purpose,
                            const crypto::webauthn::RelyingParty& rp, const KeyAssertion& assertion);
  // A signed-in session's second factor given again (`attempt`, of check_code or check_key):
  // accepted, the session counts it from now.
  Result<Attempt> reverified(const SignedIn& signed_in, std::string_view session_token, Result<Attempt> attempt);
  Result<std::string> new_session(Uuid user, std::optional<Timestamp> second_factor_at);
  // Whether `challenge` was issued by webauthn_challenge for this session and purpose, unexpired.
  bool challenge_valid(std::string_view session_token, std::string_view purpose, std::string_view challenge) const;
  // The signed-in session of the token with its second factor given recently: kPermissionDenied
  // when not signed in, kFailedPrecondition when the second factor must be given again.
  Result<SignedIn> verified_session(std::string_view session_token);
  // The half-signed-in session of this token hash, while it waits for its second factor (and
  // its time for that has not run out); nullopt otherwise.
  Result<std::optional<store::AdminSessionRecord>> waiting_session(const std::string& hash) const;
  // Swaps a half-signed-in session for a signed-in one with a new token.
  Result<std::string> complete_sign_in(const std::string& half_session_hash, Uuid user);

  store::AdminUserStore& store_;
  const Clock& clock_;
  UserSettings settings_;
  std::string dummy_hash_;  // verified against for unknown emails, so they take as long
};

// "<hex of SHA-256>": how tokens and recovery codes are stored.
std::string token_hash(std::string_view token);

}  // namespace herald::domain::users
