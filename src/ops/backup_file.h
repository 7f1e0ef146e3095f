#pragma once
// Backup files: the encrypted, authenticated container that `herald backup create` writes around
// a SQLite snapshot and a few side files. Byte format and the reasons for each check:
// docs/formats/backup.md.
//
// One file holds named sections (e.g. "database", "audit-checkpoints") as one AES-256-GCM stream
// cut into chunks. Every chunk authenticates the whole header, its own index and whether it is
// the last one, so any edit, reordering, dropped or repeated chunk, truncation or appended data
// fails to read with kDataLoss. Error messages name the chunk or field at fault, never key bytes
// or plaintext.
//
// Keys: the caller draws a fresh random 32-byte backup key for each file, wraps it under its KEK
// (crypto/kek.h) and passes the wrapped bytes in the header; this module stores them opaquely
// and never sees the KEK. To read, the caller gets `kek_id` and `wrapped_key` from
// read_backup_header, unwraps, and passes the backup key to read_backup or extract_backup.
//
// Files: writing and extracting stream (memory stays about two chunks, whatever the sections'
// sizes). Every function here is thread-compatible: no shared state.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/secret.h"

namespace herald::ops {

// Limits a reader enforces on every header (a writer refuses to exceed them too).
inline constexpr std::size_t kBackupKeyBytes = 32;
inline constexpr std::uint32_t kBackupDefaultChunkBytes = 1u << 20;  // 1 MiB
inline constexpr std::uint32_t kBackupMinChunkBytes = 16;
inline constexpr std::uint32_t kBackupMaxChunkBytes = 16u << 20;
inline constexpr std::size_t kBackupMaxHeaderBytes = 64 * 1024;
inline constexpr std::size_t kBackupMaxSections = 64;
inline constexpr std::size_t kBackupMaxWrappedKeyBytes = 1024;
inline constexpr std::size_t kBackupMaxLabelBytes = 128;  // kek_id, herald_version

// One input of write_backup: its section name ([a-z0-9-], 1 to 64 characters, unique in the
// file) and the regular file to read. The file must not change while it is read (the caller
// takes a consistent snapshot first); a size change is an error.
struct BackupSection {
  std::string name;
  std::string path;
};

struct BackupSectionInfo {
  std::string name;
  std::uint64_t size = 0;  // plaintext bytes
};

// The header, as the caller sees it. `sections` is filled in by write_backup from its inputs.
struct BackupHeader {
  Timestamp created;
  int schema_version = 0;       // the database's migration number, >= 0
  std::string herald_version;   // printable ASCII, at most 128 bytes
  std::string kek_id;           // printable ASCII, 1 to 128 bytes: the KEK that wrapped the key
  std::string wrapped_key;      // opaque bytes, 1 to 1024 (stored base64)
  std::vector<BackupSectionInfo> sections;
};

struct BackupWriteOptions {
  // Plaintext bytes per chunk (kBackupMinChunkBytes..kBackupMaxChunkBytes). Tests use small
  // chunks to cover many chunks with little data.
  std::uint32_t chunk_bytes = kBackupDefaultChunkBytes;
};

// Writes `inputs`, in order, encrypted under `key` (32 fresh random bytes; never reuse one for
// two files), to `path`. The data goes to "<path>.partial" (created with O_EXCL, mode 0600),
// which is fsynced and only then renamed to `path` (never replacing an existing file), and the
// directory is fsynced: a file at `path` is always complete. On failure the partial file is
// removed. Returns the header as written (with section sizes).
// Errors: kInvalidArgument (bad header field, section name, key or option), kNotFound (an input
// is missing), kUnavailable (I/O failed, `path` or the partial file already exists, an input
// changed size while it was read).
Result<BackupHeader> write_backup(const std::string& path, BackupHeader header,
                                  const crypto::SecretBytes& key,
                                  const std::vector<BackupSection>& inputs,
                                  const BackupWriteOptions& options = {});

// Parses and checks the header only. It is NOT authenticated yet (that takes the key and the
// whole body, read_backup): use it to find the KEK and the wrapped key, nothing else.
// kDataLoss when the file is not a well-formed backup, kUnavailable/kNotFound on I/O.
Result<BackupHeader> read_backup_header(const std::string& path);

// Receives plaintext in file order: each section's bytes in one or more calls, and a section
// with no bytes in exactly one call with empty `bytes`. Every call's bytes have been
// authenticated, but the file as a whole has not until read_backup returns success: on an error
// the caller must discard everything it was given. An error from the sink stops the read and
// is returned as is.
using BackupSink = std::function<Result<void>(std::string_view section, std::string_view bytes)>;

// Authenticates and decrypts the whole file; `sink` may be empty (verify only). Returns the
// header, now authenticated. kDataLoss on any integrity failure (wrong key, tampered header or
// chunk, reordered, truncated or appended data), kInvalidArgument for a key that is not 32 bytes.
Result<BackupHeader> read_backup(const std::string& path, const crypto::SecretBytes& key,
                                 const BackupSink& sink);

// Decrypts every section into `dir`/<name> (created with O_EXCL|O_NOFOLLOW, mode 0600, fsynced).
// `dir` must exist. On any failure every file it created is removed. Section names are checked
// before use, so a crafted header cannot name a path outside `dir`.
Result<BackupHeader> extract_backup(const std::string& path, const crypto::SecretBytes& key,
                                    const std::string& dir);

// The same parsers over a backup already in memory: the fuzz target, and callers that hold
// small backups in memory.
Result<BackupHeader> parse_backup_header(std::string_view file_bytes);
Result<BackupHeader> read_backup_bytes(std::string_view file_bytes, const crypto::SecretBytes& key,
                                       const BackupSink& sink);

// True when `name` is a valid section name: [a-z0-9-], 1 to 64 characters.
bool is_valid_backup_section_name(std::string_view name);

}  // namespace herald::ops
