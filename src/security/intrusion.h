#pragma once
// Intrusion detection and prevention (issue 20): detectors that watch what the listeners see,
// raise security events, and block a source address for a while, with the block shared by every
// node through the store.
//
// Detectors (each raises `SecurityEvent`s with its name):
//  * "auth_failures": refused authentications from one source address, or naming one API key
//    (a key id or a service id), at least `auth_failures` within `window`;
//  * "enumeration": answers of 404 to one source address on routes that name an id (a
//    notification, a template, a download link), at least `not_found` within `window`.
// A detector fires once per (detector, subject) and window. Firing on a source address strikes
// it: blocked for `block_base`, doubling with each strike in a row up to `block_cap`; a source
// whose last block ended more than `forget_after` ago starts again at one strike.
//
// Nothing here waits on the store where requests run: `blocked`, `auth_failure` and `response`
// work in memory (a source this node strikes is refused at once, here), and `poll`, which the
// wiring calls every second or so on a thread of its own, saves the strikes, hands the events to
// the sink and reads the blocks every node made, so a block holds on every node within one poll.
// Counting is per node and bounded: at most `max_tracked` subjects per window; beyond that, new
// subjects are not counted until the window turns. Thread-safe.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::security {

struct SecurityEvent {
  std::string detector;                    // "auth_failures", "enumeration", ...
  std::string source;                      // the address it came from ("" when the subject is a key)
  std::string subject;                     // what was counted: "source:<address>", "key:<id>", "service:<id>"
  std::string detail;                      // what was seen ("25 refused in 300 s: bad signature"); never a secret
  std::optional<Timestamp> blocked_until;  // when it struck the source
};

struct IntrusionOptions {
  int auth_failures = 20;
  int not_found = 50;
  Duration window = std::chrono::minutes(5);
  Duration block_base = std::chrono::minutes(1);
  Duration block_cap = std::chrono::hours(24);
  Duration forget_after = std::chrono::hours(24);
  std::size_t max_tracked = 100000;
};

class IntrusionDetector {
 public:
  using Sink = std::function<void(const SecurityEvent&)>;
  IntrusionDetector(store::SourceBlockStore& blocks, const Clock& clock, IntrusionOptions options, Sink sink);

  // Whether requests from `source` are refused now.
  bool blocked(std::string_view source);

  // A refused authentication: `reason` as the API names it, `key` the key or service the token
  // claimed (empty when unknown).
  void auth_failure(std::string_view api, std::string_view reason, std::string_view source, std::string_view key);
  // A response the router made: 404s on routes with an id in them count towards enumeration.
  void response(std::string_view route, int status, std::string_view source);

  // Saves the strikes made since the last poll, hands their events to the sink, and reads the
  // running blocks of every node.
  Result<void> poll();

 private:
  struct Window {
    Timestamp started;
    std::unordered_map<std::string, int> counts;
    std::unordered_set<std::string> fired;
  };
  // Counts one for `subject` in `window`; true when this one reaches `threshold` (once a window).
  bool count(Window& window, const std::string& subject, int threshold, Timestamp now);
  // Queues the event (and the strike, when it names a source) for the next poll.
  void fire(SecurityEvent event, Timestamp now);

  store::SourceBlockStore& blocks_;
  const Clock& clock_;
  IntrusionOptions options_;
  Sink sink_;
  std::mutex mutex_;
  Window auth_;                                         // guarded by mutex_
  Window not_found_;                                    // guarded by mutex_
  std::unordered_map<std::string, Timestamp> running_;  // guarded by mutex_: source -> until
  std::vector<SecurityEvent> pending_;                  // guarded by mutex_
};

}  // namespace herald::security
