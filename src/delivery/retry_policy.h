#pragma once
// RetryPolicy: when to try a temporarily failed delivery again, and when to give up. Pure.

#include <optional>

#include "core/time.h"

namespace herald::delivery {

struct RetryPolicy {
  int max_attempts = 5;
  Duration first_delay = std::chrono::seconds(30);
  Duration max_delay = std::chrono::minutes(30);

  // After attempt number `attempts` (1-based) failed temporarily at `now`: the time of the next
  // attempt (exponential back-off, doubling from first_delay, capped at max_delay), or nullopt
  // when attempts are exhausted.
  std::optional<Timestamp> next_attempt(int attempts, Timestamp now) const;
};

}  // namespace herald::delivery
