#pragma once
// SmsRouter: sends each text through the most preferred SMS provider that is healthy, and fails
// over. A provider that fails `failures_to_switch` times in a row (errors, bad answers, timeouts)
// is passed over for `retry_after`; then it is preferred again, and its first success makes it
// healthy (its first failure sends it back). A message its provider failed is offered to the
// next provider at once, so a provider outage delays nothing. (A timeout may hide an acceptance,
// so a failover can deliver a message twice: at-least-once, like every retry.)
// Thread-safe: delivery threads share one router.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "delivery/sms_provider.h"

namespace herald::delivery::sms {

struct FailoverOptions {
  int failures_to_switch = 3;
  Duration retry_after = std::chrono::seconds(30);
};

class SmsRouter final : public SmsSender {
 public:
  // `providers` in order of preference; at least one.
  SmsRouter(std::vector<std::unique_ptr<SmsProvider>> providers, const Clock& clock, FailoverOptions options);

  Routed send(const OutgoingSms& sms) override;

  struct ProviderState {
    std::string name;
    int consecutive_failures = 0;
    bool passed_over = false;  // within its retry_after
  };
  std::vector<ProviderState> states() const;

 private:
  struct Health {
    int consecutive_failures = 0;
    std::optional<Timestamp> down_until;
  };
  std::vector<std::size_t> order(Timestamp now) const;  // under mutex_
  void record(std::size_t i, bool ok, Timestamp now);

  std::vector<std::unique_ptr<SmsProvider>> providers_;
  const Clock& clock_;
  FailoverOptions options_;
  mutable std::mutex mutex_;
  std::vector<Health> health_;  // guarded by mutex_
};

}  // namespace herald::delivery::sms
