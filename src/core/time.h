#pragma once
// Time: Herald's timestamp type (UTC, microsecond resolution), the Clock interface that every
// time-dependent piece takes (so tests can use a fake), and GOV.UK's timestamp format.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

using Duration = std::chrono::microseconds;
using Timestamp = std::chrono::sys_time<Duration>;

// "2026-11-22T21:59:09.123456Z": GOV.UK Notify's DATETIME_FORMAT.
std::string format_timestamp(Timestamp t);
// "2026-11-22T21:59:09.123Z": NHS Notify's (milliseconds).
std::string format_timestamp_millis(Timestamp t);
// Parses the format of format_timestamp (exactly).
std::optional<Timestamp> parse_timestamp(std::string_view text);

inline std::int64_t to_micros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_micros(std::int64_t us) { return Timestamp(Duration(us)); }

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

}  // namespace herald
