#pragma once
// Hosted one-click unsubscribe, as GOV.UK Notify has it: an email template may ask for an
// unsubscribe link ("has_unsubscribe_link"); every email sent from it then carries Herald's own
// link, {public root}unsubscribe/{notification id}/{token}, in its List-Unsubscribe header (RFC
// 8058 one-click, unless the request gave its own one_click_unsubscribe_url, which wins there)
// and at the foot of its body. The token is the recipient's address sealed under the long-lived
// "secrets" key, bound to the notification's id, with the time it was made: the link works for a
// year, long after retention has emptied the notification, and reveals nothing to whoever reads
// the URL. A request is recorded once per notification until the service has dealt with it;
// the service downloads its requests as a CSV report (the download makes the report) and marks
// each report done when it has taken the addresses off its mailing list. Thread-safe if the
// store is.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "crypto/field_cipher.h"
#include "store/store.h"

namespace herald::domain {

// How long a link works (GOV.UK: a year), and how long requests are kept: 7 days once in a
// report that was downloaded, 90 days when never downloaded (GOV.UK's periods).
inline constexpr auto kUnsubscribeLinkLifetime = std::chrono::days(366);
inline constexpr auto kUnsubscribeReportKept = std::chrono::days(7);
inline constexpr auto kUnsubscribeRequestKept = std::chrono::days(90);

class UnsubscribeLinks {
 public:
  // `public_root`: where the public API is reached, ending in '/'.
  UnsubscribeLinks(const crypto::FieldCipher& cipher, std::string public_root)
      : cipher_(cipher), public_root_(std::move(public_root)) {}

  // The link for an email notification (its recipient sealed into the token).
  Result<std::string> link(const store::NotificationRecord& email, Timestamp now) const;
  // The address a link's token was made for, when it is one of this server's tokens for this
  // notification and not older than kUnsubscribeLinkLifetime at `now`; nullopt otherwise.
  std::optional<std::string> open(NotificationId id, std::string_view token, Timestamp now) const;

 private:
  const crypto::FieldCipher& cipher_;
  std::string public_root_;
};

enum class UnsubscribeOutcome {
  kRecorded,          // a new request
  kAlreadyRequested,  // this email's request is waiting for the service already
  kInvalidLink,       // not a token of ours for this notification, or too old
  kUnknown,           // no such email notification
};

class Unsubscribes {
 public:
  Unsubscribes(store::UnsubscribeStore& store, const UnsubscribeLinks& links) : store_(store), links_(links) {}

  // Whether a link is one of this server's and still works (its page says so before asking).
  bool valid(std::string_view notification_id, std::string_view token, Timestamp now) const;
  // Someone followed (or their mail client one-clicked) a link.
  Result<UnsubscribeOutcome> request(std::string_view notification_id, std::string_view token, Timestamp now);
  // The requests not yet downloaded (a report with a nil id), then the reports, newest first.
  Result<std::vector<store::UnsubscribeReport>> reports(ServiceId service) {
    return store_.unsubscribe_reports(service);
  }
  // A report as CSV (GOV.UK's columns). The nil id downloads the requests not yet in a report,
  // which makes them one (its id in `report`). kNotFound: no such report, or nothing to download.
  Result<std::string> download(ServiceId service, Uuid id, Timestamp now, store::UnsubscribeReport& report);
  // The service has (or has not) taken the report's addresses off its list. false: no such report.
  Result<bool> mark_done(ServiceId service, Uuid report, bool done, Timestamp now) {
    return store_.set_unsubscribe_report_processed(service, report, done ? std::optional(now) : std::nullopt);
  }
  // Deletes requests past their time (run daily with retention); returns how many.
  Result<std::int64_t> expire(Timestamp now) {
    return store_.delete_old_unsubscribe_requests(now - kUnsubscribeReportKept, now - kUnsubscribeRequestKept);
  }

 private:
  store::UnsubscribeStore& store_;
  const UnsubscribeLinks& links_;
};

// "Email unsubscribe requests 2026-12-01 to 2026-12-04.csv"
std::string unsubscribe_report_file_name(const store::UnsubscribeReport& report);

}  // namespace herald::domain
