#pragma once
// A print supplier that collects letter batches from an SFTP drop (docs/formats/letter-batch.md):
// each batch is uploaded into `<remote_dir>/<batch_id>.tmp/` (one `<reference>.pdf` per letter,
// then `manifest.json`) and renamed to `<remote_dir>/<batch_id>` once complete, the supplier's
// signal that the batch may be printed. Anything that goes wrong before the rename removes the
// `.tmp` directory as far as the connection still allows and returns kTemporaryFailure.
//
// The server is authenticated by its host key's SHA-256 fingerprint, pinned in the options; an
// unset or mismatching fingerprint refuses the transfer before anything is sent (there is no
// trust on first use and no known_hosts file). The client logs in with a private key file
// (ed25519 or RSA, unencrypted, mode 0600); ~/.ssh/config and ssh-agent are not consulted.
//
// Reports: collect_reports() reads the supplier's report files from `<remote_dir>/reports/`
// (`*.json`, oldest name first, at most 100 a time), hands each to the caller whole, and renames
// it to `<name>.done` once applied, or to `<name>.invalid` when it breaks the format (nothing of
// it applied; logged). The supplier's files are never deleted.
//
// check() connects and logs in as a batch would, then proves `remote_dir` writable by making
// and removing an empty `.herald-check-<uuid>.tmp` directory (a name the supplier ignores, as it
// ends in `.tmp`), and says whether `reports/` exists.
//
// Each submit() opens its own SSH session and closes it before returning, so the provider is
// thread-safe and holds no connection between batches. Invalid input that no retry can fix (a
// batch id or reference that is not a plain file name, duplicate references, an empty batch)
// is kPermanentFailure. Details name the stage and libssh's error text, never letter content.
//
// libssh is an implementation detail of sftp_supplier.cc (library herald_letter_delivery).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/time.h"
#include "delivery/letter_provider.h"

namespace herald::delivery::letters {

struct SftpSupplierOptions {
  std::string host;
  std::uint16_t port = 22;
  std::string username;
  std::string private_key_file;  // OpenSSH or PEM private key, no passphrase, mode 0600
  // The server's host key as `ssh-keygen -lf key.pub -E sha256` prints it: "SHA256:<base64>".
  // Required: an empty value refuses every transfer.
  std::string host_key_sha256;
  std::string remote_dir;  // absolute, or relative to the login directory; must exist
  // Bounds the TCP connect and key exchange, and then each SFTP operation (login, mkdir, each
  // write of up to 32 KiB, rename): a stalled server ends the transfer after this long.
  std::chrono::milliseconds timeout{30000};
  std::string name = "sftp-print";  // sent_by in outcomes
  // For the manifest's created_at; not owned, must outlive the provider. Null: the system clock.
  const Clock* clock = nullptr;
};

std::unique_ptr<LetterProvider> make_sftp_supplier(SftpSupplierOptions options);

// Reads one report file (docs/formats/letter-batch.md, "Reports"): the whole file, or an error
// naming the first entry that breaks the format (never its content).
Result<std::vector<LetterReport>> parse_report_file(std::string_view text);

// Whether `fingerprint` has the form "SHA256:" followed by the unpadded base64 of 32 bytes
// (trailing '=' tolerated), for configuration checks.
bool is_sha256_fingerprint(std::string_view fingerprint);

// The libssh this process runs with (`herald --version`).
std::string libssh_version();

}  // namespace herald::delivery::letters
