#include "domain/lookup_cache.h"

namespace herald::domain {

Result<LookupCache::ServicePtr> LookupCache::service(ServiceId id, Timestamp now, Blocking blocking) {
  {
    std::lock_guard lock(mutex_);
    auto it = services_.find(id);
    if (it != services_.end() && now - it->second.fetched_at < ttl_) return it->second.value;
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto found = store_.find_service(id);
  if (!found) return found.error();
  if (!*found) return ServicePtr();
  auto value = std::make_shared<const store::ServiceRecord>(std::move(**found));
  std::lock_guard lock(mutex_);
  if (services_.size() >= max_entries_) services_.clear();
  services_.insert_or_assign(id, Entry<ServicePtr>{value, now});
  return ServicePtr(value);
}

Result<LookupCache::TemplatePtr> LookupCache::template_version(ServiceId service, TemplateId id,
                                                               std::optional<int> version,
                                                               Timestamp now, Blocking blocking) {
  const Key key{service.uuid, id.uuid, version.value_or(0)};
  {
    std::lock_guard lock(mutex_);
    auto it = templates_.find(key);
    // A given version never changes; "latest" may, so it expires.
    if (it != templates_.end() && (version || now - it->second.fetched_at < ttl_)) return it->second.value;
  }
  if (blocking == Blocking::kNotAllowed) return would_block();
  auto found = store_.find_template(service, id, version);
  if (!found) return found.error();
  if (!*found) return TemplatePtr();
  auto value = std::make_shared<const store::TemplateRecord>(std::move(**found));
  std::lock_guard lock(mutex_);
  if (templates_.size() >= max_entries_) templates_.clear();
  templates_.insert_or_assign(key, Entry<TemplatePtr>{value, now});
  return TemplatePtr(value);
}

}  // namespace herald::domain
