#pragma once
// Pkcs11Kek: key-encryption keys held as AES-256 keys on a PKCS#11 token (an HSM, or SoftHSM2 in
// tests). The keys are generated on the token as sensitive and non-extractable, and every wrap
// and unwrap is an AES-256-GCM operation inside the token: KEK material never reaches this
// process. Only the nonce comes from the host (crypto/random.h).
//
// Version n is the secret-key object labelled "<key_label_prefix><n>"; its KEK id is
// "pkcs11-<n>". Its creation day is in CKA_START_DATE and, because SoftHSM2 cannot read that
// back from a private object, also in CKA_ID: "pkcs11-<n> YYYYMMDD". Every call re-reads the
// token's objects, so versions created or destroyed by another process are seen. An empty token has
// no versions: call create_version() once to make version 1 (`herald keys init --pkcs11`), or
// ensure_initial_version(), which does so only when the token holds none.
//
// The module is dlopen()ed; it is initialised once per process however many Pkcs11Kek objects
// use it, and finalised when the last of them goes. Each object holds one logged-in R/W session
// behind a mutex (wraps and unwraps are rare: once per data key), so it is thread-safe.
//
// Errors name the module, the token label and the key label, never the PIN or key bytes.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/kek.h"
#include "crypto/secret.h"

namespace herald::crypto {

struct Pkcs11Config {
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token_label;  // as set at token initialisation; at most 32 bytes
  SecretBytes user_pin;
  std::string key_label_prefix = "herald-kek-";
};

// Reads a user PIN from `path`, which must be a regular file with no group or other permission
// bits (the keyring file's rule, SC-17). One trailing newline is stripped. The error names the
// path and mode, never the content.
Result<SecretBytes> read_pin_file(const std::string& path);

class Pkcs11Kek final : public KekSource {
 public:
  // Loads the module, finds the token labelled config.token_label, opens a R/W session and
  // logs in as the user. kNotFound when no token has that label, kUnauthenticated for a wrong
  // PIN, kUnavailable when the module cannot be loaded or the token does not answer.
  static Result<std::unique_ptr<Pkcs11Kek>> open(const Pkcs11Config& config);
  // Logs out (unless another Pkcs11Kek in this process still uses the token), closes the
  // session, and finalises and unloads the module when this was its last user.
  ~Pkcs11Kek() override;
  Pkcs11Kek(const Pkcs11Kek&) = delete;
  Pkcs11Kek& operator=(const Pkcs11Kek&) = delete;

  std::string description() const override;
  Result<std::vector<KekVersion>> versions() override;
  Result<WrappedKey> wrap(const SecretBytes& key, std::string_view aad) override;
  Result<SecretBytes> unwrap(const WrappedKey& wrapped, std::string_view aad) override;
  Result<KekVersion> create_version(Timestamp now) override;
  // kNotFound for an unknown version; kInvalidArgument for the active (newest) version, which
  // includes the only one: destroying it would make an older key wrap again.
  Result<void> destroy_version(std::string_view kek_id) override;

  // The newest version; creates version 1 first when the token holds none.
  Result<KekVersion> ensure_initial_version(Timestamp now);

 private:
  struct Session;  // the PKCS#11 state; defined in the .cc so only it includes pkcs11.h
  explicit Pkcs11Kek(std::string description);

  const std::string description_;
  std::string key_label_prefix_;
  std::mutex mu_;
  std::unique_ptr<Session> session_;  // GUARDED_BY(mu_) once set by open()
};

}  // namespace herald::crypto
