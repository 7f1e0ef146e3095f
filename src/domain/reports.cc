#include "domain/reports.h"

#include <cstdio>

#include "core/csv.h"
#include "domain/lifecycle.h"

namespace herald::domain {

namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
constexpr std::size_t kReportPage = 1000;

bool delivered_status(store::NotificationStatus s) {
  return s == store::NotificationStatus::kDelivered || s == store::NotificationStatus::kSent;
}

std::string cell(std::string_view value) { return csv::spreadsheet_field(value); }

std::string optional_time(const std::optional<Timestamp>& t) { return t ? format_timestamp(*t) : ""; }

}  // namespace

std::int64_t day_of(Timestamp t) {
  const std::int64_t micros = to_micros(t);
  return micros >= 0 ? micros / kMicrosPerDay : (micros - kMicrosPerDay + 1) / kMicrosPerDay;
}

std::string day_text(std::int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

std::optional<std::int64_t> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (text[i] - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{parts[0]},
                                        std::chrono::month{static_cast<unsigned>(parts[1])},
                                        std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

Result<Dashboard> dashboard(store::NotificationStore& store, ServiceId service, Timestamp now, int days) {
  Dashboard out;
  out.days = days;
  out.first_day = day_of(now) - (days - 1);
  const Timestamp from = from_micros(out.first_day * kMicrosPerDay);
  const Timestamp to = from_micros((day_of(now) + 1) * kMicrosPerDay);
  auto counts = store.daily_status_counts(service, from, to);
  if (!counts) return counts.error();
  for (const store::Channel type : {store::Channel::kEmail, store::Channel::kSms, store::Channel::kLetter}) {
    ChannelFigures figures;
    figures.type = type;
    for (int d = 0; d < days; ++d) figures.days.push_back({out.first_day + d, 0, 0, 0});
    out.channels.push_back(std::move(figures));
  }
  for (const store::DailyStatusCount& c : *counts) {
    for (ChannelFigures& figures : out.channels) {
      if (figures.type != c.type || c.day < out.first_day || c.day >= out.first_day + days) continue;
      for (DayFigures* d : {&figures.days[static_cast<std::size_t>(c.day - out.first_day)], &figures.totals}) {
        if (delivered_status(c.status)) {
          d->delivered += c.count;
        } else if (is_final(c.status)) {
          d->failed += c.count;
        } else {
          d->in_progress += c.count;
        }
      }
    }
  }
  auto providers = store.provider_stats(service, from, to);
  if (!providers) return providers.error();
  out.providers = std::move(*providers);
  return out;
}

Result<std::string> day_report_csv(store::NotificationStore& store, ServiceId service, std::int64_t day,
                                   std::size_t& count) {
  std::string csv =
      "id,recipient,template_id,template_version,type,status,reference,created_at,sent_at,updated_at,sent_by\r\n";
  count = 0;
  store::NotificationQuery query;
  query.service = service;
  query.any_key_type = true;
  query.include_jobs = true;
  query.created_from = from_micros(day * kMicrosPerDay);
  query.created_before = from_micros((day + 1) * kMicrosPerDay);
  query.limit = static_cast<int>(kReportPage);
  for (;;) {
    auto page = store.list_notifications(query);
    if (!page) return page.error();
    for (const store::NotificationRecord& n : *page) {
      csv += cell(n.id.to_string()) + "," + cell(n.recipient) + "," + cell(n.template_id.to_string()) + "," +
             std::to_string(n.template_version) + "," + store::channel_name(n.type) + "," +
             store::status_name(n.status) + "," + cell(n.reference.value_or("")) + "," +
             format_timestamp(n.created_at) + "," + optional_time(n.sent_at) + "," + optional_time(n.updated_at) + "," +
             cell(n.sent_by.value_or("")) + "\r\n";
    }
    count += page->size();
    if (page->size() < kReportPage) return csv;
    query.older_than = page->back().id;
  }
}

}  // namespace herald::domain
