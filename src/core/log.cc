#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "core/json.h"
#include "core/time.h"

namespace herald::log {
namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_fd{STDERR_FILENO};

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}
}  // namespace

void set_min_level(Level level) { g_min_level = static_cast<int>(level); }
void set_output_fd(int fd) { g_fd = fd; }
bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  json::Writer w;
  w.begin_object();
  w.key("time").string(format_timestamp(SystemClock().now()));
  w.key("level").string(level_name(level));
  w.key("event").string(event);
  for (const auto& [key, value] : fields) w.key(key).string(value);
  w.end_object();
  std::string line = w.take();
  line += '\n';
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(g_fd.load(std::memory_order_relaxed), data, left);
    if (n <= 0) return;  // logging must never take the process down
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace herald::log
