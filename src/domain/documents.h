#pragma once
// Documents: GOV.UK Notify's "send a file by email" (post_notifications.py
// process_document_uploads) and the
// download side of it (what GOV.UK's document-download service does).
//
// A personalisation value {"file": "<base64>", ...} is checked against GOV.UK's
// send_a_file_validation schema (file_upload_errors), decoded, checked for size and type, and
// stored; the value becomes the download URL before the email is rendered, so the notification
// keeps the URL and never the file.
//
// Each document has a random 32-byte key that exists only in its link
// ("{root}d/{service}/{document}?key=<base64url>"). The file and its filename are encrypted with
// that key (AES-256-GCM) before the store seals them again under the data key of the service and
// the document's expiry day, so the database and the keyring together still cannot read a file
// without its link. The store keeps a SHA-256 of the key (a wrong key is refused without trying
// to decrypt) and, when the recipient must confirm their address, an HMAC of the normalised
// address keyed with the link's key.
//
// No I/O of its own besides the Store; thread-safe if the Store is.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/secret.h"
#include "store/store.h"

namespace herald::domain {

// GOV.UK's limit on a decoded file (document-download's MAX_DECODED_FILE_SIZE; the clients
// refuse larger files before sending).
inline constexpr std::size_t kMaxDocumentBytes = 2 * 1024 * 1024;
// GOV.UK's DEFAULT_DOCUMENT_DOWNLOAD_RETENTION_PERIOD ("26 weeks"), and its range.
inline constexpr int kDefaultDocumentRetentionWeeks = 26;
inline constexpr int kMaxDocumentRetentionWeeks = 78;
// Wrong email addresses typed on a download page before the document is locked.
inline constexpr int kMaxConfirmationFailures = 10;
inline constexpr std::size_t kMaxDocumentFilenameLength = 100;

// A checked file object of the personalisation.
struct FileUpload {
  std::string key;          // its personalisation key
  std::string file_base64;  // as sent
  std::optional<std::string> filename;
  bool confirm_email = true;  // null or absent: true
  int retention_weeks = kDefaultDocumentRetentionWeeks;
  bool is_csv = false;
};

// Whether a personalisation value is a file object (an object with a "file" member).
bool is_file_upload(const json::Value& value);
// GOV.UK's schema messages for one file object, in the order its validator reports them, without
// duplicates; empty when the object is valid. Explicit nulls count as absent.
std::vector<std::string> file_upload_errors(const json::Value& value);
// The fields of a file object that file_upload_errors found valid.
FileUpload file_upload_from_json(std::string key, const json::Value& value);

// The MIME type GOV.UK would serve the file as: from the filename's extension when there is a
// filename, else from the content. kInvalidArgument with GOV.UK's "Unsupported file type ..."
// message when it is not one it allows.
Result<std::string> document_mime_type(std::string_view content, const std::optional<std::string>& filename,
                                       bool is_csv);

// What a download page may show or serve.
struct DocumentAccess {
  enum class State { kReady, kNeedsEmail, kWrongEmail, kLocked };
  State state = State::kNeedsEmail;
  std::string filename;   // for Content-Disposition: the sender's, else "document.<ext>"
  std::string mime_type;
  std::string content;    // the file: only for kReady when the content was asked for
  int attempts_left = kMaxConfirmationFailures;
};

class Documents {
 public:
  // kPlaintextForTest skips the link-key layer (only when the store too keeps fields in
  // plaintext, testing.store_plaintext with HERALD_TESTING=1), so the canary test's control run
  // can show that its scan would find a file stored in the clear.
  enum class Mode { kEncrypt, kPlaintextForTest };
  explicit Documents(store::DocumentStore& store, Mode mode = Mode::kEncrypt) : store_(store), mode_(mode) {}

  // Decodes, checks and stores the file for a recipient (`recipient_normalised` as the blind
  // index sees it); returns the download URL under `public_root` ("https://host/"). Errors:
  // kInvalidArgument with the message GOV.UK gives (not base64, too large, filename, type).
  Result<std::string> upload(ServiceId service, const FileUpload& file, std::string_view recipient_normalised,
                             std::string_view public_root, Timestamp now);
  // What simulated recipients and test keys get instead: nothing is stored.
  static std::string test_document_url(std::string_view public_root, ServiceId service);

  enum class Want { kPage, kFile };
  // The document behind a link. nullopt when the id is malformed or unknown, the document has
  // expired, or `key` is not its key: the same answer for all, so a page cannot tell them apart.
  // With `email`, checks it against the address the link was sent to (normalised as the
  // recipient was); a wrong one counts towards kMaxConfirmationFailures.
  Result<std::optional<DocumentAccess>> open(ServiceId service, std::string_view document_id, std::string_view key,
                                             const std::optional<std::string>& email, Want want, Timestamp now);

  // Deletes expired documents (the retention job); returns how many.
  Result<std::int64_t> delete_expired(Timestamp now) { return store_.delete_expired_documents(now); }

 private:
  // The link-key layer: AES-256-GCM under the link's key (nothing in kPlaintextForTest).
  Result<std::string> seal(const crypto::SecretBytes& key, std::string_view associated, std::string_view plaintext) const;
  Result<std::string> unseal(const crypto::SecretBytes& key, std::string_view associated, std::string_view sealed) const;

  store::DocumentStore& store_;
  Mode mode_;
};

}  // namespace herald::domain
