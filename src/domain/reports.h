#pragma once
// Reports: what a service's dashboard shows (sent, delivered and failed per channel per day; how
// each provider did) and a day's notifications as a CSV file, from the store's aggregates and
// pages (no notification is opened for the figures). Thread-safe if the store is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain {

struct DayFigures {
  std::int64_t day = 0;  // days since 1970-01-01 (UTC)
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  std::int64_t in_progress = 0;  // neither yet (created, sending, pending, ...)
  std::int64_t total() const { return delivered + failed + in_progress; }
};

struct ChannelFigures {
  store::Channel type = store::Channel::kEmail;
  std::vector<DayFigures> days;  // one per day of the period, oldest first (zeros included)
  DayFigures totals;             // its day is unused
};

struct Dashboard {
  std::int64_t first_day = 0;  // the period: `days` UTC days ending with today
  int days = 0;
  std::vector<ChannelFigures> channels;  // email, sms, letter
  // Slowest first (mean time to delivered), then failing (failure rate) — as the store gave
  // them, sorted by the page that shows them.
  std::vector<store::ProviderStats> providers;
};

// "2026-12-03" for a day number, and back (nullopt for anything else).
std::string day_text(std::int64_t day);
std::optional<std::int64_t> parse_day(std::string_view text);
std::int64_t day_of(Timestamp t);

// The last `days` UTC days up to and including today's (`now`'s).
Result<Dashboard> dashboard(store::NotificationStore& store, ServiceId service, Timestamp now, int days = 7);

// A day's report: every notification of the service created on UTC day `day` (every key type,
// lists' and admin sends included), newest first, as CSV with a header row. Cells a
// spreadsheet would run as a formula (=, +, -, @, tab, CR first) are prefixed with ', as OWASP
// advises for CSV exports. `count` is set to the number of notifications.
Result<std::string> day_report_csv(store::NotificationStore& store, ServiceId service, std::int64_t day,
                                   std::size_t& count);

}  // namespace herald::domain
