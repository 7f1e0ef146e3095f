#pragma once
// Intrusion detection and prevention (issue 20): detectors that watch what the listeners see,
// raise security events, and block a source address for a while, with the block shared by every
// node through the store.
//
// Detectors (each raises `SecurityEvent`s with its name):
//  * "auth_failures": refused authentications from one source address, or naming one credential
//    ("service:<id>" for a GOV.UK token's issuer, "admin-user:<id>" for a sign-in), at least
//    `auth_failures` within `window`;
//  * "enumeration": answers of 404 to one source address on routes that name an id (a
//    notification, a template, a download link), at least `not_found` within `window`;
//  * "token_replay": one bearer token presented from two source addresses within `window` (a
//    GOV.UK token is valid for 30 s either side of its iat and is made afresh by each client; the
//    same one from elsewhere was copied off the wire or out of a log);
//  * "new_network": a credential used from a network (the /24 or /48 of its source) it was never
//    used from before, once it has a history (its first network is learnt silently); remembered
//    in the store's marks ("net:<subject>:<network>"), so every node and every restart knows;
//  * "volume": a credential's requests in one minute at least `volume_floor` and at least
//    `volume_factor` times its average minute over the `volume_baseline` before (it must have been
//    seen that long: no baseline, no judgement); counted per node, which scales alike;
//  * "off_hours": a service (or an admin user) active in an hour of the day (UTC) in which it was
//    not active in the `usual_hours_memory` before, once it has been known for `usual_hours_learning`;
//    the hours are marks too ("hour:<pattern>:<HH>", "first:<pattern>"); once an hour is seen it
//    is usual, so the event comes once;
//  * "certificate_error": a callback or provider endpoint that answered with a certificate Herald
//    could not verify (expired, wrong name, unknown issuer: interception or misconfiguration).
// A detector fires once per (detector, subject) and window. Firing "auth_failures" or
// "enumeration" on a source address strikes it: blocked for `block_base`, doubling with each
// strike in a row up to `block_cap`; a source whose last block ended more than `forget_after` ago
// starts again at one strike. The other detectors raise events and block nothing (a stolen key's
// new network may be the service's new office).
//
// Nothing here waits on the store where requests run: `blocked`, `auth_failure` and `response`
// work in memory (a source this node strikes is refused at once, here), and `poll`, which the
// wiring calls every second or so on a thread of its own, saves the strikes, hands the events to
// the sink and reads the blocks every node made, so a block holds on every node within one poll.
// Counting is per node and bounded: at most `max_tracked` subjects per window; beyond that, new
// subjects are not counted until the window turns. Thread-safe. Subjects and details never hold
// personal data or secrets: ids, addresses and a token's fingerprint only.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::security {

struct SecurityEvent {
  std::string detector;                    // "auth_failures", "enumeration", ...
  std::string source;                      // the address it came from ("" when the subject is a key)
  std::string subject;                     // what was counted: "source:<address>", "key:<id>", "service:<id>"
  std::string detail;                      // what was seen ("25 refused in 300 s: bad signature"); never a secret
  bool block = false;                      // strikes the source (auth_failures and enumeration)
  std::optional<Timestamp> blocked_until;  // when it struck the source
};

struct IntrusionOptions {
  int auth_failures = 20;
  int not_found = 50;
  int volume_floor = 600;
  double volume_factor = 10.0;
  Duration volume_baseline = std::chrono::hours(1);
  Duration usual_hours_learning = std::chrono::days(14);
  Duration usual_hours_memory = std::chrono::days(28);
  Duration window = std::chrono::minutes(5);
  Duration block_base = std::chrono::minutes(1);
  Duration block_cap = std::chrono::hours(24);
  Duration forget_after = std::chrono::hours(24);
  std::size_t max_tracked = 100000;
  // Sources that are never blocked (events are still raised): by default, as fail2ban's ignoreip,
  // this machine's loopback (local tools, health checks, a reverse proxy on the same host).
  cidr::NetworkSet never_block;
};

class IntrusionDetector {
 public:
  using Sink = std::function<void(const SecurityEvent&)>;
  // `marks` keeps what the history detectors learn (networks, usual hours), shared by all nodes.
  IntrusionDetector(store::SourceBlockStore& blocks, store::OperationsStore& marks, const Clock& clock,
                    IntrusionOptions options, Sink sink);

  // Whether requests from `source` are refused now.
  bool blocked(std::string_view source) { return blocked_until(source).has_value(); }
  // When the block on `source` ends, if it is blocked now (each call on a blocked source counts
  // in herald_blocked_requests_total: call it once per request).
  std::optional<Timestamp> blocked_until(std::string_view source);

  // A refused authentication: `reason` as the API names it, `subject` the credential the request
  // claimed ("service:<id>", "admin-user:<id>"; empty when unknown).
  void auth_failure(std::string_view api, std::string_view reason, std::string_view source, std::string_view subject);
  // A response the router made: 404s on routes with an id in them count towards enumeration.
  void response(std::string_view route, int status, std::string_view source);
  // A request that authenticated as `subject` ("key:<id>", "admin-user:<id>"), whose usual hours
  // are those of `pattern` ("service:<id>", or the user again; empty: none), presenting a token
  // with this fingerprint (empty: no bearer token), from `source`.
  void authenticated(std::string_view subject, std::string_view pattern, std::string_view token_fingerprint,
                     std::string_view source);
  // An outbound TLS connection to `host` refused for the peer's certificate.
  void certificate_error(std::string_view host, std::string_view detail);

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

  // The history detectors' store work, done at poll.
  Result<void> learn_networks(const std::vector<std::pair<std::string, std::string>>& seen, Timestamp now,
                              std::vector<SecurityEvent>& events);
  Result<void> learn_hours(const std::vector<std::pair<std::string, int>>& seen, Timestamp now,
                           std::vector<SecurityEvent>& events);
  // Lookups by string_view without making a string (the request path's maps).
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
  struct Volume {
    Timestamp first_seen;
    std::string last_source;  // its network is known: the same source again costs nothing
    std::int64_t minute = 0;  // the minute `count` is of
    int count = 0;
    std::vector<int> past;  // the minutes before `minute`, newest last, at most the baseline's
    std::optional<Timestamp> fired_at;
  };

  store::SourceBlockStore& blocks_;
  store::OperationsStore& marks_;
  const Clock& clock_;
  IntrusionOptions options_;
  Sink sink_;
  std::mutex mutex_;
  Window auth_;                    // guarded by mutex_
  Window not_found_;               // guarded by mutex_
  Window replay_;                  // guarded by mutex_: counts unused
  Window certificates_;            // guarded by mutex_
  StringMap<std::string> tokens_;  // guarded by mutex_: fingerprint -> first source
  StringMap<Volume> volumes_;      // guarded by mutex_: by subject
  // (subject, network) and (pattern, hour) pairs this node knows are remembered, and those seen
  // since the last poll that it does not; guarded by mutex_.
  std::unordered_set<std::string> known_networks_;
  std::vector<std::pair<std::string, std::string>> new_networks_;
  StringMap<std::int64_t> known_hours_;  // pattern -> the hour (since the epoch) last checked
  std::vector<std::pair<std::string, int>> new_hours_;
  StringMap<Timestamp> running_;        // guarded by mutex_: source -> until
  std::vector<SecurityEvent> pending_;  // guarded by mutex_
};

}  // namespace herald::security
