#include "domain/lookup_cache.h"

namespace herald::domain {

// The one read-through path for both maps: a fresh entry, or (when it may block) a store read
// whose result is kept; absent rows are not kept.
template <typename Map, typename Fetch>
Result<typename Map::mapped_type::Value> LookupCache::read_through(Map& map, const typename Map::key_type& key,
                                                                  bool expires, Timestamp now,
                                                                  Blocking blocking, Fetch fetch) {
  using Ptr = typename Map::mapped_type::Value;
  {
    std::lock_guard lock(mutex_);
    auto it = map.find(key);
    if (it != map.end() && (!expires || now - it->second.fetched_at < ttl_)) return it->second.value;
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto found = fetch();
  if (!found) return found.error();
  if (!*found) return Ptr();
  Ptr value = std::make_shared<typename Ptr::element_type>(std::move(**found));
  std::lock_guard lock(mutex_);
  if (map.size() >= max_entries_) map.clear();
  map.insert_or_assign(key, Entry<Ptr>{value, now});
  return value;
}

Result<LookupCache::ServicePtr> LookupCache::service(ServiceId id, Timestamp now, Blocking blocking) {
  return read_through(services_, id, true, now, blocking, [&] { return store_.find_service(id); });
}

Result<LookupCache::TemplatePtr> LookupCache::template_version(ServiceId service, TemplateId id,
                                                               std::optional<int> version,
                                                               Timestamp now, Blocking blocking) {
  // A given version never changes; "latest" may, so only it expires.
  return read_through(templates_, Key{service.uuid, id.uuid, version.value_or(0)}, !version, now,
                      blocking, [&] { return store_.find_template(service, id, version); });
}

Result<LookupCache::ContactsPtr> LookupCache::contacts(ServiceId service, store::ContactKind kind, Timestamp now,
                                                       Blocking blocking) {
  return read_through(contacts_, Key{service.uuid, Uuid{}, static_cast<int>(kind)}, true, now, blocking,
                      [&]() -> Result<std::optional<std::vector<store::ServiceContact>>> {
                        auto found = store_.service_contacts(service, kind);
                        if (!found) return found.error();
                        return std::optional(std::move(*found));
                      });
}

}  // namespace herald::domain
