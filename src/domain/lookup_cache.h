#pragma once
// LookupCache: services and templates as the hot paths need them, without a store read per
// request. Template versions are immutable, so they are kept until the cache is full; the
// "latest version" of a template and service records are kept for `ttl`, so that a change made
// from the CLI (another process) is seen within that time. Absent rows are not cached.
// Bounded: when it holds `max_entries`, it starts again empty. Thread-safe.

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/blocking.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain {

class LookupCache {
 public:
  using ServicePtr = std::shared_ptr<const store::ServiceRecord>;
  using TemplatePtr = std::shared_ptr<const store::TemplateRecord>;
  using ContactsPtr = std::shared_ptr<const std::vector<store::ServiceContact>>;

  explicit LookupCache(store::ServiceDirectory& store, Duration ttl = std::chrono::seconds(2),
                       std::size_t max_entries = 10000)
      : store_(store), ttl_(ttl), max_entries_(max_entries) {}

  // nullptr when absent. With Blocking::kNotAllowed, a miss is ErrorCode::kWouldBlock.
  Result<ServicePtr> service(ServiceId id, Timestamp now, Blocking blocking = Blocking::kAllowed);
  // The latest version (nullopt version) or a given one; nullptr when absent or another
  // service's.
  Result<TemplatePtr> template_version(ServiceId service, TemplateId id, std::optional<int> version,
                                       Timestamp now, Blocking blocking = Blocking::kAllowed);
  // The service's sender ids, reply-to addresses or letter contacts (possibly none), kept for ttl.
  Result<ContactsPtr> contacts(ServiceId service, store::ContactKind kind, Timestamp now,
                               Blocking blocking = Blocking::kAllowed);

 private:
  struct Key {
    Uuid service;
    Uuid id;
    int version;  // 0: latest
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return UuidHash()(k.id) * 31 + UuidHash()(k.service) + static_cast<std::size_t>(k.version);
    }
  };
  template <typename V>
  struct Entry {
    using Value = V;
    Value value;
    Timestamp fetched_at;
  };
  template <typename Map, typename Fetch>
  Result<typename Map::mapped_type::Value> read_through(Map& map, const typename Map::key_type& key,
                                                       bool expires, Timestamp now, Blocking blocking,
                                                       Fetch fetch);

  store::ServiceDirectory& store_;
  const Duration ttl_;
  const std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<ServiceId, Entry<ServicePtr>, UuidHash> services_;  // guarded by mutex_
  std::unordered_map<Key, Entry<TemplatePtr>, KeyHash> templates_;       // guarded by mutex_
  std::unordered_map<Key, Entry<ContactsPtr>, KeyHash> contacts_;        // guarded by mutex_; version = kind
};

}  // namespace herald::domain
