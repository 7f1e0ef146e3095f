#include "domain/users/users.h"

#include <algorithm>

#include "core/base64.h"
#include "core/hex.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/totp.h"
#include "domain/recipients/email_address.h"

namespace herald::domain::users {
namespace {

constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
// Recovery codes: 10 characters of an alphabet without look-alikes (no 0/o, 1/l/i), about 50
// bits each, shown as "abcde-fghjk".
constexpr std::string_view kRecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr std::size_t kRecoveryLength = 10;

Result<std::string> random_token() {
  auto bytes = crypto::random_bytes(32);
  if (!bytes) return bytes.error();
  return base64url_encode(*bytes);
}

std::string normalise_recovery_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool all_digits(std::string_view code) {
  return !code.empty() && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A code as people type it: spaces removed ("123 456").
std::string compact(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

}  // namespace

const char* permission_name(Permission permission) {
  switch (permission) {
    case Permission::kView: return "view";
    case Permission::kSend: return "send";
    case Permission::kManageTemplates: return "manage_templates";
    case Permission::kManageApiKeys: return "manage_api_keys";
    case Permission::kManageTeam: return "manage_team";
    case Permission::kManageSettings: return "manage_settings";
  }
  return "view";
}

std::optional<Permission> parse_permission(std::string_view name) {
  for (Permission p : kAllPermissions) {
    if (name == permission_name(p)) return p;
  }
  return std::nullopt;
}

std::string token_hash(std::string_view token) { return hex_encode(crypto::sha256(token)); }

Users::Users(store::AdminUserStore& store, const Clock& clock, UserSettings settings)
    : store_(store), clock_(clock), settings_(settings) {
  // Any hash of the same parameters will do: it is only ever compared against, never matched.
  auto dummy = crypto::hash_password("herald: no such user", settings_.password);
  dummy_hash_ = dummy ? *dummy : std::string();
}

Result<NewUser> Users::create_user(std::string_view email, std::string_view name, bool platform_admin) {
  auto valid = validate_email_address(email);
  if (!valid) return invalid_argument("Enter a valid email address");
  std::string trimmed(name);
  trimmed.erase(0, trimmed.find_first_not_of(" \t"));
  trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
  if (trimmed.empty()) return invalid_argument("Enter a name");
  if (trimmed.size() > 255) return invalid_argument("Names must be 255 characters or fewer");
  NewUser created;
  created.user.id = crypto::random_uuid();
  created.user.email = normalise_email_for_index(*valid);
  created.user.name = trimmed;
  created.user.platform_admin = platform_admin;
  created.user.created_at = clock_.now();
  HERALD_TRY(store_.create_admin_user(created.user));
  auto token = issue_enrolment(created.user.id);
  if (!token) return token.error();
  created.enrolment_token = std::move(*token);
  return created;
}

Result<std::string> Users::issue_enrolment(Uuid user) {
  auto token = random_token();
  if (!token) return token.error();
  const Timestamp now = clock_.now();
  HERALD_TRY(store_.add_admin_enrolment({token_hash(*token), user, now, now + settings_.enrolment_lifetime}));
  return std::move(*token);
}

Result<std::optional<store::AdminUserRecord>> Users::enrolment_user(std::string_view token) {
  auto enrolment = store_.find_admin_enrolment(token_hash(token), clock_.now());
  if (!enrolment) return enrolment.error();
  if (!*enrolment) return std::optional<store::AdminUserRecord>();
  auto user = store_.find_admin_user((*enrolment)->user);
  if (!user) return user.error();
  if (*user && (*user)->disabled_at) return std::optional<store::AdminUserRecord>();
  return user;
}

Result<TotpProposal> Users::propose_totp(const store::AdminUserRecord& user) const {
  auto secret = crypto::random_bytes(kTotpSecretBytes);
  if (!secret) return secret.error();
  TotpProposal proposal;
  proposal.base32 = crypto::base32_encode(*secret);
  proposal.uri = crypto::otpauth_uri("Herald", user.email, *secret);
  proposal.secret = std::move(*secret);
  return proposal;
}

Result<Enrolled> Users::enrol(std::string_view token, std::string_view password, std::string_view totp_secret,
                              std::string_view code) {
  auto found = enrolment_user(token);
  if (!found) return found.error();
  if (!*found) return not_found("This link has expired or been used. Ask for a new one.");
  Enrolled enrolled{std::move(**found), {}, {}};
  if (password.size() < settings_.shortest_password) {
    return invalid_argument("Your password must be at least " + std::to_string(settings_.shortest_password) +
                            " characters long");
  }
  if (totp_secret.size() != kTotpSecretBytes) return invalid_argument("Scan the QR code again");
  const Timestamp now = clock_.now();
  const auto step = crypto::match_totp(totp_secret, compact(code), now);
  if (!step) return invalid_argument("The code is not right. Enter the code your authenticator app shows now");
  auto hash = crypto::hash_password(password, settings_.password);
  if (!hash) return hash.error();
  auto taken = store_.take_admin_enrolment(token_hash(token), now);
  if (!taken) return taken.error();
  if (!*taken) return not_found("This link has expired or been used. Ask for a new one.");

  store::AdminUserRecord& user = enrolled.user;
  user.password_hash = std::move(*hash);
  user.totp_secret = std::string(totp_secret);
  user.failed_sign_ins = 0;
  user.locked_until = std::nullopt;
  user.enrolled_at = now;
  HERALD_TRY(store_.update_admin_user(user));
  auto used = store_.use_totp_step(user.id, *step);  // the enrolment code is not a sign-in code too
  if (!used) return used.error();

  std::vector<std::string> hashes;
  for (int i = 0; i < settings_.recovery_codes; ++i) {
    auto bytes = crypto::random_bytes(kRecoveryLength);
    if (!bytes) return bytes.error();
    std::string code_text;
    for (char b : *bytes)
      code_text.push_back(kRecoveryAlphabet[static_cast<unsigned char>(b) % kRecoveryAlphabet.size()]);
    hashes.push_back(token_hash(code_text));
    enrolled.recovery_codes.push_back(code_text.substr(0, 5) + "-" + code_text.substr(5));
  }
  HERALD_TRY(store_.set_recovery_codes(user.id, hashes));
  auto ended = store_.delete_admin_sessions(user.id);
  if (!ended) return ended.error();
  auto session = new_session(user.id, now);
  if (!session) return session.error();
  enrolled.session_token = std::move(*session);
  return enrolled;
}

Result<Attempt> Users::refuse(store::AdminUserRecord user, std::string reason) {
  const Timestamp now = clock_.now();
  // Counted in the store (atomically), so that concurrent guesses are all counted.
  auto failures = store_.count_sign_in_failure(user.id);
  if (!failures) return failures.error();
  Attempt attempt;
  attempt.user = user.id;
  attempt.reason = std::move(reason);
  const int over = *failures - settings_.free_failures;
  if (over >= 0) {
    Duration lockout = settings_.first_lockout;
    for (int i = 0; i < over && lockout < settings_.longest_lockout; ++i) lockout *= 2;
    lockout = std::min(lockout, settings_.longest_lockout);
    attempt.outcome = Attempt::Outcome::kLockedOut;
    attempt.retry_at = now + lockout;
    HERALD_TRY(store_.set_sign_in_lock(user.id, attempt.retry_at, false));
  }
  return attempt;
}

Result<std::string> Users::new_session(Uuid user, std::optional<Timestamp> second_factor_at) {
  auto token = random_token();
  if (!token) return token.error();
  const Timestamp now = clock_.now();
  HERALD_TRY(store_.create_admin_session({token_hash(*token), user, now, now, second_factor_at}));
  return std::move(*token);
}

Result<Attempt> Users::sign_in(std::string_view email, std::string_view password) {
  const Timestamp now = clock_.now();
  auto valid = validate_email_address(email);
  std::optional<store::AdminUserRecord> user;
  if (valid) {
    auto found = store_.find_admin_user_by_email(normalise_email_for_index(*valid));
    if (!found) return found.error();
    user = std::move(*found);
  }
  if (!user || user->disabled_at || !user->enrolled_at) {
    // As long as a real check, so that timing does not tell which emails have accounts.
    if (!dummy_hash_.empty()) (void)crypto::verify_password(password, dummy_hash_);
    Attempt refused;
    if (user) refused.user = user->id;
    refused.reason = !user ? "unknown email" : user->disabled_at ? "user disabled" : "not enrolled";
    return refused;
  }
  if (user->locked_until && *user->locked_until > now) {
    return Attempt{Attempt::Outcome::kLockedOut, user->id, "locked out", user->locked_until, ""};
  }
  auto matches = crypto::verify_password(password, user->password_hash);
  if (!matches) return matches.error();
  if (!*matches) return refuse(std::move(*user), "wrong password");
  if (crypto::password_needs_rehash(user->password_hash, settings_.password)) {
    auto rehashed = crypto::hash_password(password, settings_.password);
    if (rehashed) HERALD_TRY(store_.set_admin_password_hash(user->id, *rehashed));
  }
  auto token = new_session(user->id, std::nullopt);
  if (!token) return token.error();
  // Failures are not forgiven until the second factor is given too: a stolen password must not
  // reset the count of guesses at the code.
  return Attempt{Attempt::Outcome::kAccepted, user->id, "", std::nullopt, std::move(*token)};
}

Result<Attempt> Users::check_code(store::AdminUserRecord user, std::string_view code) {
  const Timestamp now = clock_.now();
  if (user.locked_until && *user.locked_until > now) {
    return Attempt{Attempt::Outcome::kLockedOut, user.id, "locked out", user.locked_until, ""};
  }
  const std::string digits = compact(code);
  if (digits.size() == 6 && all_digits(digits)) {
    const auto step = crypto::match_totp(user.totp_secret, digits, now);
    if (!step) return refuse(std::move(user), "wrong code");
    auto fresh = store_.use_totp_step(user.id, *step);
    if (!fresh) return fresh.error();
    if (!*fresh) return refuse(std::move(user), "replayed code");
  } else {
    const std::string recovery = normalise_recovery_code(code);
    if (recovery.size() != kRecoveryLength) return refuse(std::move(user), "wrong code");
    auto used = store_.use_recovery_code(user.id, token_hash(recovery));
    if (!used) return used.error();
    if (!*used) return refuse(std::move(user), "wrong recovery code");
  }
  if (user.failed_sign_ins != 0 || user.locked_until) HERALD_TRY(store_.set_sign_in_lock(user.id, std::nullopt, true));
  return Attempt{Attempt::Outcome::kAccepted, user.id,
                 digits.size() == 6 && all_digits(digits) ? "totp" : "recovery code", std::nullopt, ""};
}

Result<Attempt> Users::second_factor(std::string_view session_token, std::string_view code) {
  const std::string hash = token_hash(session_token);
  auto session = waiting_session(hash);
  if (!session) return session.error();
  if (!*session) {
    return Attempt{Attempt::Outcome::kRefused, std::nullopt, "no session waiting for a code", std::nullopt, ""};
  }
  auto user = store_.find_admin_user((*session)->user);
  if (!user) return user.error();
  if (!*user || (*user)->disabled_at) {
    return Attempt{Attempt::Outcome::kRefused, (*session)->user, "user disabled", std::nullopt, ""};
  }
  auto attempt = check_code(std::move(**user), code);
  if (!attempt || attempt->outcome != Attempt::Outcome::kAccepted) return attempt;
  auto token = complete_sign_in(hash, (*session)->user);
  if (!token) return token.error();
  attempt->session_token = std::move(*token);
  return attempt;
}

Result<SignedIn> Users::verified_session(std::string_view session_token) {
  auto signed_in = session(session_token);
  if (!signed_in) return signed_in.error();
  if (!*signed_in) return Error{ErrorCode::kPermissionDenied, "not signed in"};
  if (!recently_verified(**signed_in)) return failed_precondition("give your second factor again first");
  return std::move(**signed_in);
}

Result<std::optional<store::AdminSessionRecord>> Users::waiting_session(const std::string& hash) const {
  auto session = store_.find_admin_session(hash);
  if (!session) return session.error();
  if (!*session || (*session)->second_factor_at ||
      clock_.now() - (*session)->created_at > settings_.second_factor_timeout) {
    return std::optional<store::AdminSessionRecord>();
  }
  return session;
}

Result<std::string> Users::complete_sign_in(const std::string& half_session_hash, Uuid user) {
  // A new token for the signed-in session: the half-signed-in one's token is spent.
  HERALD_TRY(store_.delete_admin_session(half_session_hash));
  return new_session(user, clock_.now());
}

namespace {

constexpr std::size_t kNonceBytes = 16;
constexpr std::size_t kChallengeMacBytes = 16;
constexpr auto kChallengeLifetime = std::chrono::minutes(5);

std::string challenge_mac(std::string_view session_token, std::string_view purpose, std::string_view nonce_and_expiry) {
  return crypto::hmac_sha256(session_token,
                             "herald webauthn " + std::string(purpose) + "|" + std::string(nonce_and_expiry))
      .substr(0, kChallengeMacBytes);
}

}  // namespace

Result<std::string> Users::webauthn_challenge(std::string_view session_token, std::string_view purpose) const {
  auto nonce = crypto::random_bytes(kNonceBytes);
  if (!nonce) return nonce.error();
  const auto expiry = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>((clock_.now() + kChallengeLifetime).time_since_epoch()).count());
  std::string body = *nonce;
  for (int shift = 56; shift >= 0; shift -= 8) body.push_back(static_cast<char>((expiry >> shift) & 0xff));
  return body + challenge_mac(session_token, purpose, body);
}

bool Users::challenge_valid(std::string_view session_token, std::string_view purpose,
                            std::string_view challenge) const {
  if (challenge.size() != kNonceBytes + 8 + kChallengeMacBytes) return false;
  const std::string_view body = challenge.substr(0, kNonceBytes + 8);
  if (!crypto::constant_time_equal(challenge.substr(body.size()), challenge_mac(session_token, purpose, body))) {
    return false;
  }
  std::uint64_t expiry = 0;
  for (std::size_t i = kNonceBytes; i < body.size(); ++i) expiry = (expiry << 8) | static_cast<unsigned char>(body[i]);
  const auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
  return now <= expiry;
}

Result<store::WebAuthnCredential> Users::register_security_key(std::string_view session_token,
                                                               const crypto::webauthn::RelyingParty& rp,
                                                               const KeyRegistration& registration) {
  auto signed_in = verified_session(session_token);
  if (!signed_in) return signed_in.error();
  if (!challenge_valid(session_token, "register", registration.challenge)) {
    return Error{ErrorCode::kPermissionDenied, "challenge not issued to this session, or expired"};
  }
  auto credential = crypto::webauthn::verify_registration(rp, registration.challenge, registration.client_data_json,
                                                          registration.attestation_object);
  if (!credential) return credential.error();
  store::WebAuthnCredential stored;
  stored.credential_id = std::move(credential->credential_id);
  stored.user = signed_in->user.id;
  stored.public_key = std::move(credential->public_key);
  stored.sign_count = credential->sign_count;
  stored.name = registration.name.empty() ? "Security key" : registration.name.substr(0, 100);
  stored.created_at = clock_.now();
  HERALD_TRY(store_.add_webauthn_credential(stored));
  return stored;
}

Result<Attempt> Users::check_key(store::AdminUserRecord user, std::string_view session_token, std::string_view purpose,
                                 const crypto::webauthn::RelyingParty& rp, const KeyAssertion& assertion) {
  const Timestamp now = clock_.now();
  if (user.locked_until && *user.locked_until > now) {
    return Attempt{Attempt::Outcome::kLockedOut, user.id, "locked out", user.locked_until, ""};
  }
  if (!challenge_valid(session_token, purpose, assertion.challenge)) {
    return refuse(std::move(user), "security key: challenge not issued to this session, or expired");
  }
  auto credential = store_.find_webauthn_credential(assertion.credential_id);
  if (!credential) return credential.error();
  if (!*credential || (*credential)->user != user.id) return refuse(std::move(user), "security key: unknown key");
  auto verified =
      crypto::webauthn::verify_assertion(rp, assertion.challenge, (*credential)->public_key, assertion.client_data_json,
                                         assertion.authenticator_data, assertion.signature);
  if (!verified) return refuse(std::move(user), "security key: " + verified.error().message);
  auto used = store_.use_webauthn_credential(assertion.credential_id, verified->sign_count, now);
  if (!used) return used.error();
  if (!*used) return refuse(std::move(user), "security key: signature counter did not rise (cloned or replayed)");
  if (user.failed_sign_ins != 0 || user.locked_until) HERALD_TRY(store_.set_sign_in_lock(user.id, std::nullopt, true));
  return Attempt{Attempt::Outcome::kAccepted, user.id, "security key", std::nullopt, ""};
}

Result<Attempt> Users::second_factor_key(std::string_view session_token, const crypto::webauthn::RelyingParty& rp,
                                         const KeyAssertion& assertion) {
  const std::string hash = token_hash(session_token);
  auto session = waiting_session(hash);
  if (!session) return session.error();
  if (!*session) {
    return Attempt{Attempt::Outcome::kRefused, std::nullopt, "no session waiting for a second factor", std::nullopt,
                   ""};
  }
  auto user = store_.find_admin_user((*session)->user);
  if (!user) return user.error();
  if (!*user || (*user)->disabled_at) {
    return Attempt{Attempt::Outcome::kRefused, (*session)->user, "user disabled", std::nullopt, ""};
  }
  auto attempt = check_key(std::move(**user), session_token, "sign-in", rp, assertion);
  if (!attempt || attempt->outcome != Attempt::Outcome::kAccepted) return attempt;
  auto token = complete_sign_in(hash, *attempt->user);
  if (!token) return token.error();
  attempt->session_token = std::move(*token);
  return attempt;
}

Result<Attempt> Users::reauthenticate_key(std::string_view session_token, const crypto::webauthn::RelyingParty& rp,
                                          const KeyAssertion& assertion) {
  auto signed_in = session(session_token);
  if (!signed_in) return signed_in.error();
  if (!*signed_in) return Attempt{Attempt::Outcome::kRefused, std::nullopt, "no session", std::nullopt, ""};
  return reverified(**signed_in, session_token,
                    check_key((*signed_in)->user, session_token, "re-authenticate", rp, assertion));
}

Result<std::optional<KeyOptions>> Users::key_reauthentication_options(std::string_view session_token) {
  auto signed_in = session(session_token);
  if (!signed_in) return signed_in.error();
  if (!*signed_in) return std::optional<KeyOptions>();
  auto keys = store_.webauthn_credentials((*signed_in)->user.id);
  if (!keys) return keys.error();
  if (keys->empty()) return std::optional<KeyOptions>();
  auto challenge = webauthn_challenge(session_token, "re-authenticate");
  if (!challenge) return challenge.error();
  KeyOptions options{std::move(*challenge), {}, std::move((*signed_in)->user)};
  for (auto& key : *keys) options.credential_ids.push_back(std::move(key.credential_id));
  return std::optional<KeyOptions>(std::move(options));
}

Result<KeyOptions> Users::key_registration_options(std::string_view session_token) {
  auto signed_in = verified_session(session_token);
  if (!signed_in) return signed_in.error();
  auto challenge = webauthn_challenge(session_token, "register");
  if (!challenge) return challenge.error();
  auto keys = store_.webauthn_credentials(signed_in->user.id);
  if (!keys) return keys.error();
  KeyOptions options{std::move(*challenge), {}, std::move(signed_in->user)};
  for (auto& key : *keys) options.credential_ids.push_back(std::move(key.credential_id));
  return options;
}

Result<std::optional<KeyOptions>> Users::key_sign_in_options(std::string_view session_token) {
  auto session = waiting_session(token_hash(session_token));
  if (!session) return session.error();
  if (!*session) return std::optional<KeyOptions>();
  auto user = store_.find_admin_user((*session)->user);
  if (!user) return user.error();
  if (!*user || (*user)->disabled_at) return std::optional<KeyOptions>();
  auto keys = store_.webauthn_credentials((*user)->id);
  if (!keys) return keys.error();
  if (keys->empty()) return std::optional<KeyOptions>();
  auto challenge = webauthn_challenge(session_token, "sign-in");
  if (!challenge) return challenge.error();
  KeyOptions options{std::move(*challenge), {}, std::move(**user)};
  for (auto& key : *keys) options.credential_ids.push_back(std::move(key.credential_id));
  return std::optional<KeyOptions>(std::move(options));
}

Result<std::vector<store::WebAuthnCredential>> Users::security_keys(Uuid user) {
  return store_.webauthn_credentials(user);
}

Result<int> Users::recovery_codes_left(Uuid user) { return store_.recovery_codes_left(user); }

Result<bool> Users::remove_security_key(std::string_view session_token, std::string_view credential_id) {
  auto signed_in = verified_session(session_token);
  if (!signed_in) return signed_in.error();
  return store_.delete_webauthn_credential(signed_in->user.id, credential_id);
}

Result<Attempt> Users::reauthenticate(std::string_view session_token, std::string_view code) {
  auto signed_in = session(session_token);
  if (!signed_in) return signed_in.error();
  if (!*signed_in) return Attempt{Attempt::Outcome::kRefused, std::nullopt, "no session", std::nullopt, ""};
  return reverified(**signed_in, session_token, check_code((*signed_in)->user, code));
}

Result<Attempt> Users::reverified(const SignedIn& signed_in, std::string_view session_token, Result<Attempt> attempt) {
  if (!attempt || attempt->outcome != Attempt::Outcome::kAccepted) return attempt;
  store::AdminSessionRecord refreshed = signed_in.session;
  refreshed.second_factor_at = clock_.now();
  HERALD_TRY(store_.update_admin_session(refreshed));
  attempt->session_token = std::string(session_token);
  return attempt;
}

Result<std::optional<SignedIn>> Users::session(std::string_view session_token) {
  const Timestamp now = clock_.now();
  const std::string hash = token_hash(session_token);
  auto found = store_.find_admin_session(hash);
  if (!found) return found.error();
  if (!*found || !(*found)->second_factor_at) return std::optional<SignedIn>();
  store::AdminSessionRecord session = std::move(**found);
  if (now - session.last_seen_at > settings_.idle_timeout || now - session.created_at > settings_.absolute_timeout) {
    HERALD_TRY(store_.delete_admin_session(hash));
    return std::optional<SignedIn>();
  }
  auto user = store_.find_admin_user(session.user);
  if (!user) return user.error();
  if (!*user || (*user)->disabled_at) return std::optional<SignedIn>();
  // Refreshed at most once a minute: a page's every asset need not write.
  if (now - session.last_seen_at >= std::chrono::minutes(1)) {
    session.last_seen_at = now;
    HERALD_TRY(store_.update_admin_session(session));
  }
  return std::optional<SignedIn>(SignedIn{std::move(**user), std::move(session)});
}

Result<void> Users::sign_out(std::string_view session_token) {
  HERALD_TRY(store_.delete_admin_session(token_hash(session_token)));
  return ok();
}

bool Users::recently_verified(const SignedIn& signed_in) const {
  return signed_in.session.second_factor_at &&
         clock_.now() - *signed_in.session.second_factor_at <= settings_.reauthentication_window;
}

std::string Users::csrf_token(std::string_view session_token) {
  return base64url_encode(crypto::hmac_sha256(session_token, "herald admin csrf"));
}

bool Users::csrf_matches(std::string_view session_token, std::string_view given) {
  const std::string expected = csrf_token(session_token);
  return crypto::constant_time_equal(given, expected);
}

Result<void> Users::set_permissions(Uuid user, ServiceId service, const std::vector<Permission>& permissions) {
  store::AdminMembership membership;
  membership.user = user;
  membership.service = service;
  membership.created_at = clock_.now();
  for (Permission p : kAllPermissions) {
    if (std::find(permissions.begin(), permissions.end(), p) != permissions.end()) {
      membership.permissions.emplace_back(permission_name(p));
    }
  }
  // Every member can see the service: the other permissions imply "view".
  if (!membership.permissions.empty() && membership.permissions.front() != "view") {
    membership.permissions.insert(membership.permissions.begin(), "view");
  }
  if (membership.permissions.empty()) {
    HERALD_TRY(store_.delete_admin_membership(user, service));
    return ok();
  }
  return store_.put_admin_membership(membership);
}

Result<std::vector<Permission>> Users::permissions(const store::AdminUserRecord& user, ServiceId service) {
  if (user.platform_admin) return std::vector<Permission>(std::begin(kAllPermissions), std::end(kAllPermissions));
  auto memberships = store_.admin_memberships(user.id, service);
  if (!memberships) return memberships.error();
  std::vector<Permission> out;
  for (const auto& m : *memberships) {
    if (m.user != user.id || m.service != service) continue;
    for (const auto& name : m.permissions) {
      if (auto p = parse_permission(name)) out.push_back(*p);
    }
  }
  return out;
}

Result<bool> Users::can(const store::AdminUserRecord& user, ServiceId service, Permission permission) {
  auto held = permissions(user, service);
  if (!held) return held.error();
  return std::find(held->begin(), held->end(), permission) != held->end();
}

Result<std::vector<store::AdminMembership>> Users::memberships(Uuid user) {
  return store_.admin_memberships(user, std::nullopt);
}

Result<std::optional<store::AdminUserRecord>> Users::find_user_by_email(std::string_view email) {
  auto valid = validate_email_address(email);
  if (!valid) return std::optional<store::AdminUserRecord>();
  return store_.find_admin_user_by_email(normalise_email_for_index(*valid));
}

Result<std::vector<Users::Member>> Users::team(ServiceId service) {
  auto memberships = store_.admin_memberships(std::nullopt, service);
  if (!memberships) return memberships.error();
  std::vector<Member> members;
  for (const auto& m : *memberships) {
    auto user = store_.find_admin_user(m.user);
    if (!user) return user.error();
    if (!*user) continue;
    Member member{std::move(**user), {}};
    for (const auto& name : m.permissions) {
      if (auto p = parse_permission(name)) member.permissions.push_back(*p);
    }
    members.push_back(std::move(member));
  }
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.user.name < b.user.name; });
  return members;
}

Result<Users::Invitation> Users::invite(ServiceId service, std::string_view email, std::string_view name,
                                        const std::vector<Permission>& permissions) {
  if (permissions.empty()) return invalid_argument("Select at least one permission");
  auto existing = find_user_by_email(email);
  if (!existing) return existing.error();
  Invitation invitation;
  if (*existing) {
    invitation.user = std::move(**existing);
  } else {
    auto created = create_user(email, name, false);
    if (!created) return created.error();
    invitation.user = std::move(created->user);
    invitation.enrolment_token = std::move(created->enrolment_token);
  }
  HERALD_TRY(set_permissions(invitation.user.id, service, permissions));
  return invitation;
}

Result<void> Users::disable(Uuid user) {
  auto found = store_.find_admin_user(user);
  if (!found) return found.error();
  if (!*found) return not_found("no such user");
  (*found)->disabled_at = clock_.now();
  HERALD_TRY(store_.update_admin_user(**found));
  HERALD_TRY(store_.delete_admin_sessions(user));
  return ok();
}

}  // namespace herald::domain::users
