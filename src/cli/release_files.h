#pragma once
// What the code-chain commands share (release_commands.cc, compliance.cc): signing keys, the
// trust file, reading and checking a release directory, writing a file whole.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "crypto/signing.h"
#include "release/dsse.h"
#include "release/verify.h"

namespace herald::cli {

// The key file decrypted with the passphrase from the environment variable the options name.
Result<std::unique_ptr<crypto::Ed25519Signer>> load_signer(const SigningKeyOptions& key);

// The trust file (docs/formats/release.md):
//   [[key]]
//   role = "release"                  # or "staging", "report"
//   public_key_file = "release.pub"   # PEM; relative to this file
Result<std::vector<release::TrustedKey>> load_trust(const std::string& path);

// Every regular file of the directory measured and the release checked for `stage`, now.
Result<release::VerifiedRelease> verify_release_directory(const std::string& dir,
                                                          const std::vector<release::TrustedKey>& keys,
                                                          release::Stage stage);

// By a temporary file and a rename: a reader never sees half of it.
Result<void> write_release_file(const std::string& path, std::string_view text);

}  // namespace herald::cli
