#pragma once
// Jobs: sending one template to a list of people, uploaded as a CSV file in the admin UI. A file
// is checked row by row with the API's own rules (the same Notifications checks and messages)
// before anything is sent; once started, a worker on a delivery node sends its rows in order, a
// chunk at a time, each chunk's notifications stored in the same transaction as the job's
// progress, so a crash or a second node never sends a row twice or loses one. Thread-safe if
// the stores are.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/csv.h"
#include "core/result.h"
#include "core/time.h"
#include "domain/authenticator.h"
#include "domain/letters/letters.h"
#include "domain/notifications.h"
#include "store/store.h"

namespace herald::domain {

// GOV.UK's most rows in one file.
inline constexpr int kMaxJobRows = 100000;

// The column a list names its recipients in, as GOV.UK names it: "email address", "phone
// number", or for letters the first of the address columns, "address line 1" (then "address line
// 2" to "address line 7", or up to 6 and "postcode", as the API's personalisation).
std::optional<std::string_view> recipient_column(store::Channel type);
// The columns a list of letters may hold the address in, in order.
const std::vector<std::string>& address_columns();
// How GOV.UK matches a column to a placeholder: case, spaces, '_' and '-' do not count.
std::string column_key(std::string_view name);
// The data rows (0: the row under the header) of a list of `type` (its rows, the header first)
// whose recipient is this one (`recipient_normalised` as the blind index sees it). Letters: none
// (nobody is found by a postal address).
std::vector<int> rows_for_recipient(store::Channel type, const csv::Rows& rows, std::string_view recipient_normalised);

struct RowError {
  int row = 0;  // as a spreadsheet numbers it: the header is row 1
  std::string message;
};

// What a check of a file found.
struct JobCheck {
  // About the whole file (not CSV, no recipient column, a placeholder without a column, too
  // many rows): nothing can be sent until it is fixed.
  std::vector<std::string> problems;
  std::vector<RowError> row_errors;  // rows that will not be sent, first kMaxShownErrors of them
  int row_errors_total = 0;
  int rows = 0;      // data rows, blank ones left out
  int sendable = 0;  // rows that pass every check
  bool ok() const { return problems.empty() && sendable > 0; }
};

struct JobProgress {
  store::JobRecord job;
  store::StatusCounts counts;  // of the notifications sent so far
  std::int64_t sent = 0;       // notifications created so far
  std::int64_t delivered = 0;
  std::int64_t failed = 0;   // any failure status
  std::int64_t sending = 0;  // created, sending or pending
};

class Jobs {
 public:
  static constexpr std::size_t kMaxShownErrors = 50;
  // Rows per transaction: large enough to be cheap, small enough that progress moves. Each
  // letter is rendered as the PDF that prints (milliseconds), so a chunk of them is smaller.
  static constexpr int kChunkRows = 500;
  static constexpr int kLetterChunkRows = 50;
  // Jobs in progress looked at per run (those waiting for tomorrow's limit are passed over).
  static constexpr int kJobsPerRun = 50;

  // `letters`: how a letter is checked and rendered (nullptr: letters cannot be sent from a list
  // here, and a file for a letter template is refused as a whole).
  Jobs(store::JobStore& store, store::ServiceDirectory& services, Notifications& notifications,
       LetterPreparer* letters = nullptr)
      : store_(store), services_(services), notifications_(notifications), letters_(letters) {}

  // Checks every row of `contents` for `t` as the service's own send would (recipient,
  // personalisation, trial mode, length, the postal address, ...): nothing is stored. A letter
  // too long to print is found only when it is sent (it fails then, as the API's would).
  Result<JobCheck> check(ServiceId service, const store::TemplateRecord& t, std::string_view contents, Timestamp now);
  // Stores the file as a pending job for `t` (a file with problems is refused:
  // kInvalidArgument with the first).
  Result<store::JobRecord> upload(ServiceId service, const store::TemplateRecord& t, std::string file_name,
                                  std::string contents, Uuid user, Timestamp now);
  // The service's job (with its file), nullopt when absent or gone with its data key.
  Result<std::optional<store::JobRecord>> find(ServiceId service, Uuid id) { return store_.find_job(service, id); }
  Result<std::vector<store::JobRecord>> list(ServiceId service, int limit) {
    return store_.jobs_for_service(service, limit);
  }
  // Starts sending a pending job: false when it was started already or is not pending.
  // kFailedPrecondition when the template has a newer version than the one checked (the file
  // is checked again against it first).
  // kFailedPrecondition too for letters from a service in trial mode (as at upload).
  Result<bool> start(ServiceId service, Uuid id, Timestamp now);
  // Stops a pending or in-progress job: no more of its rows are sent (a chunk being saved at
  // that moment is not stored); what was sent goes on. false: finished or cancelled already, or
  // not the service's.
  Result<bool> cancel(ServiceId service, Uuid id, Timestamp now);
  Result<JobProgress> progress(ServiceId service, const store::JobRecord& job);

  // The worker: sends up to `max_rows` rows of the jobs in progress, oldest job first. Returns
  // how many rows it handled (0: nothing to do). A job whose service has reached its daily
  // limit waits (its rows stay) until the next UTC day: this node passes it over until then. A
  // job whose file or template has gone (retention) has its remaining rows closed. The delivery
  // worker is woken as for any send (Notifications::on_queued).
  Result<int> run_once(Timestamp now, int max_rows = 5000);

 private:
  // Problems with sending `t` at all that are not the file's: letters need a preparer here and
  // a live service (GOV.UK: a service in trial mode cannot send letters).
  Result<std::vector<std::string>> template_problems(ServiceId service, const store::TemplateRecord& t);
  bool waiting(Uuid job, Timestamp now);
  void wait_until_tomorrow(Uuid job, Timestamp now);

  store::JobStore& store_;
  store::ServiceDirectory& services_;
  Notifications& notifications_;
  LetterPreparer* letters_;
  std::mutex mutex_;
  std::map<Uuid, Timestamp> waiting_;  // guarded by mutex_: jobs at their service's daily limit
};

}  // namespace herald::domain
