#include "delivery/retry_policy.h"

#include <algorithm>

namespace herald::delivery {

std::optional<Timestamp> RetryPolicy::next_attempt(int attempts, Timestamp now) const {
  if (attempts >= max_attempts) return std::nullopt;
  Duration delay = first_delay;
  for (int i = 1; i < attempts && delay < max_delay; ++i) delay *= 2;
  return now + std::min(delay, max_delay);
}

}  // namespace herald::delivery
