#pragma once
// FakeClock: time that moves only when a test says so. Thread-safe.

#include <atomic>

#include "core/time.h"

namespace herald::fakes {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start = from_micros(1'800'000'000'000'000)) : micros_(to_micros(start)) {}
  Timestamp now() const override { return from_micros(micros_.load()); }
  void advance(Duration by) { micros_ += std::chrono::duration_cast<std::chrono::microseconds>(by).count(); }
  void set(Timestamp to) { micros_ = to_micros(to); }

 private:
  std::atomic<std::int64_t> micros_;
};

}  // namespace herald::fakes
