#pragma once
// LetterProvider: hands a batch of printable letters to a print supplier (e.g. an SFTP drop,
// delivery/letters/sftp_supplier). A batch is all or nothing: the supplier takes every letter in
// it (kAccepted) or none (kTemporaryFailure: the worker tries the whole batch again later), so a
// letter is never printed twice because half a batch was resent. Implementations are
// thread-safe; a call may block for the length of the transfer.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "delivery/send_result.h"
#include "store/records.h"

namespace herald::delivery::letters {

struct OutgoingLetter {
  std::string reference;       // the notification id: the supplier's name for the letter
  std::string postage;         // "first", "second", "economy", "europe" or "rest-of-world"
  int page_count = 0;          // A4 pages of `pdf`
  bool international = false;  // postage europe/rest-of-world
  std::string pdf;             // the letter, address in the window position; personal data
};

// What the supplier says became of a letter it took (docs/formats/letter-batch.md, "Reports").
struct LetterReport {
  std::string reference;  // the notification id
  // Herald's: delivered (posted), returned-letter, technical-failure
  store::NotificationStatus status = store::NotificationStatus::kDelivered;
};

class LetterProvider {
 public:
  virtual ~LetterProvider() = default;
  // The name outcomes record as sent_by ("sftp-print", ...).
  virtual std::string_view name() const = 0;
  // `batch_id` is unique per call (a new UUID); resending a batch after a failure uses a new one.
  virtual SendResult submit(std::string_view batch_id, const std::vector<OutgoingLetter>& letters) = 0;
  // Collects the reports the supplier has left since the last collection. Each report file is
  // handed to `apply` whole; the file is marked collected only once apply succeeded, so a file
  // whose reports could not be recorded is handed over again next time. Returns how many files
  // were collected. A supplier that sends no reports has none.
  // Whether the supplier can take batches now, without sending any (`herald letters check`):
  // a line per thing checked, or the first failure.
  virtual Result<std::vector<std::string>> check() = 0;
  using ApplyReports = std::function<Result<void>(const std::vector<LetterReport>&)>;
  virtual Result<int> collect_reports(const ApplyReports& apply) {
    (void)apply;
    return 0;
  }
};

}  // namespace herald::delivery::letters
