#pragma once
// Dispatcher: one channel's way out of Herald. The delivery worker (worker.h) claims due
// notifications of every channel together and hands each channel's share to that channel's
// dispatcher, which speaks its provider's protocol and says what became of each notification.
// What a provider's answer makes of a notification (delivered, failed, tried again later) is
// domain/lifecycle.h's to decide, not the dispatcher's. Test keys' notifications never reach a
// dispatcher: the worker simulates them. Adding a channel is a dispatcher and one line in the
// worker's wiring (cli/serve.cc).

#include <functional>
#include <string_view>
#include <vector>

#include "domain/lifecycle.h"
#include "store/records.h"

namespace herald::delivery {

// What the worker lends a dispatcher for one claim.
struct DispatchContext {
  // Whether another send may start now: false once half the claim's lease is gone or the worker
  // is stopping. What is not started is left alone: its lease runs out and it is claimed again.
  std::function<bool()> may_start;
  // Records one notification's outcome. Asynchronous: the worker waits for every outcome to be
  // durable before it claims again.
  std::function<void(store::DeliveryOutcome)> record;
  const Clock& clock;
  const domain::RetryPolicy& retry;
};

// The log line of one delivery attempt (ids, attempt number, status, the provider's detail;
// never a recipient), the same for every channel and for simulated test keys.
void log_attempt(const store::NotificationRecord& record, const store::DeliveryOutcome& outcome,
                 std::string_view detail);

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Sends `claimed` (all of this dispatcher's channel, in claim order), recording an outcome
  // for each one it started.
  virtual void dispatch(const std::vector<const store::NotificationRecord*>& claimed,
                        const DispatchContext& context) = 0;
  // Ends any open connection (the worker is stopping).
  virtual void close() {}
};

}  // namespace herald::delivery
