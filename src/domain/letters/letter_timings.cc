#include "domain/letters/letter_timings.h"

#include <array>
#include <chrono>

namespace herald::domain {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year_month_day;
using namespace std::chrono_literals;

// 01:00 UTC on the last Sunday of the month.
Timestamp last_sunday_0100(std::chrono::year year, std::chrono::month month) {
  const sys_days last = sys_days{year / month / std::chrono::last};
  const unsigned back = (weekday{last}.c_encoding() + 7 - 0) % 7;  // days since Sunday
  return std::chrono::time_point_cast<Duration>(last - days{back} + hours{1});
}

Duration uk_offset(Timestamp t) { return is_british_summer_time(t) ? Duration(hours{1}) : Duration::zero(); }

// The UK calendar day of `t`.
sys_days uk_day(Timestamp t) { return std::chrono::floor<days>(t + uk_offset(t)); }

using std::chrono::April;
using std::chrono::August;
using std::chrono::December;
using std::chrono::January;
using std::chrono::March;
using std::chrono::May;

// England and Wales, as published at gov.uk/bank-holidays.json (facts; extend each year).
constexpr std::array kBankHolidays = {
    2025y / January / 1,   2025y / April / 18,    2025y / April / 21,    2025y / May / 5,       2025y / May / 26,
    2025y / August / 25,   2025y / December / 25, 2025y / December / 26, 2026y / January / 1,   2026y / April / 3,
    2026y / April / 6,     2026y / May / 4,       2026y / May / 25,      2026y / August / 31,   2026y / December / 25,
    2026y / December / 28, 2027y / January / 1,   2027y / March / 26,    2027y / March / 29,    2027y / May / 3,
    2027y / May / 31,      2027y / August / 30,   2027y / December / 27, 2027y / December / 28,
};

bool is_weekday(sys_days day) {
  const unsigned wd = weekday{day}.c_encoding();  // 0 Sunday .. 6 Saturday
  return wd != 0 && wd != 6;
}

// Printers work Monday to Friday, bank holidays excepted.
bool printer_works(sys_days day) { return is_weekday(day) && !is_bank_holiday(day); }

bool royal_mail_works(sys_days day, std::string_view postage) {
  if (is_bank_holiday(day)) return false;
  if (postage == "first") return weekday{day}.c_encoding() != 0;  // Saturdays too
  return is_weekday(day);
}

}  // namespace

bool is_bank_holiday(sys_days day) {
  for (const auto& holiday : kBankHolidays) {
    if (sys_days{holiday} == day) return true;
  }
  return false;
}

sys_days bank_holidays_known_until() { return sys_days{kBankHolidays.back()}; }

bool is_british_summer_time(Timestamp t) {
  const year_month_day ymd{std::chrono::floor<days>(t)};
  return t >= last_sunday_0100(ymd.year(), std::chrono::March) &&
         t < last_sunday_0100(ymd.year(), std::chrono::October);
}

Timestamp estimated_letter_delivery(Timestamp sent_at, std::string_view postage) {
  // Printed on the first working day after the day processing falls on.
  sys_days day = uk_day(sent_at + hours{6} + minutes{30});
  do day += days{1};
  while (!printer_works(day));
  int in_transit = 4;  // second class
  if (postage == "first") in_transit = 0;
  if (postage == "economy") in_transit = 6;
  if (postage == "europe") in_transit = 5;
  if (postage == "rest-of-world") in_transit = 7;
  for (int left = 1 + in_transit; left > 0;) {
    day += days{1};
    if (royal_mail_works(day, postage)) --left;
  }
  // 16:00 UK time that day.
  const Timestamp local_four = std::chrono::time_point_cast<Duration>(day + hours{16});
  return local_four - uk_offset(local_four - hours{1});
}

std::string letter_date(Timestamp t) {
  static constexpr std::array<const char*, 12> kMonths = {"January",   "February", "March",    "April",
                                                          "May",       "June",     "July",     "August",
                                                          "September", "October",  "November", "December"};
  const year_month_day ymd{uk_day(t)};
  return std::to_string(static_cast<unsigned>(ymd.day())) + " " + kMonths[static_cast<unsigned>(ymd.month()) - 1] +
         " " + std::to_string(static_cast<int>(ymd.year()));
}

}  // namespace herald::domain
