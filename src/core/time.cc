#include "core/time.h"

#include <cstdio>

namespace herald {

namespace {

// Writes `value` as exactly `width` decimal digits ending just before `end`.
void put_digits(char* end, int width, long value) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::string format_timestamp(Timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) {  // outside the fixed-width form: printf's
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", y, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<long>(hms.subseconds().count()));
    return buf;
  }
  // Digits written in place (this runs for every notification rendered: printf cost ~1% of the
  // accept path's CPU).
  std::string out = "0000-00-00T00:00:00.000000Z";
  char* p = out.data();
  put_digits(p + 4, 4, y);
  put_digits(p + 7, 2, static_cast<long>(static_cast<unsigned>(ymd.month())));
  put_digits(p + 10, 2, static_cast<long>(static_cast<unsigned>(ymd.day())));
  put_digits(p + 13, 2, static_cast<long>(hms.hours().count()));
  put_digits(p + 16, 2, static_cast<long>(hms.minutes().count()));
  put_digits(p + 19, 2, static_cast<long>(hms.seconds().count()));
  put_digits(p + 26, 6, static_cast<long>(hms.subseconds().count()));
  return out;
}

std::string format_timestamp_millis(Timestamp t) {
  // Truncated to the millisecond, as the microseconds' first three digits.
  std::string text = format_timestamp(t);
  text.erase(text.size() - 4, 3);
  return text;
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != 27 || text[26] != 'Z') return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  long us = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ", &y, &mo, &d, &h, &mi, &s, &us) != 7) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59 || us < 0) return std::nullopt;
  return Timestamp(sys_days{ymd}) + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

}  // namespace herald
