#pragma once
// Structured logging: one JSON object a line on stderr (or a file descriptor chosen at start-up).
//
// Callers pass an event name and id fields only. Never log a recipient, personalisation, message
// body or token: fields are for ids, counts, statuses and error codes. Thread-safe: each line is
// written with a single write(2).

#include <initializer_list>
#include <string_view>
#include <utility>

namespace herald::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string_view>;

void set_min_level(Level level);
// Whether a line at this level would be written: guard fields that cost something to format.
bool enabled(Level level);
void set_output_fd(int fd);

void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kDebug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kInfo, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kWarn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kError, event, fields);
}

}  // namespace herald::log
