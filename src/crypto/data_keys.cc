#include "crypto/data_keys.h"

#include <mutex>

#include "crypto/random.h"

namespace herald::crypto {

std::string notification_scope(std::string_view service_id, Timestamp created) {
  // format_timestamp gives "YYYY-MM-DDTHH:MM:SS.ffffffZ"; the day is its first ten characters.
  return "notifications/" + std::string(service_id) + "/" + format_timestamp(created).substr(0, 10);
}

std::string document_scope(std::string_view service_id, Timestamp expires) {
  return "documents/" + std::string(service_id) + "/" + format_timestamp(expires).substr(0, 10);
}

namespace {
std::atomic<std::uint64_t> g_next_instance{1};
}  // namespace

DataKeys::DataKeys(std::shared_ptr<KekSource> kek, std::shared_ptr<DataKeyRepository> repository)
    : kek_(std::move(kek)), repository_(std::move(repository)), instance_(g_next_instance.fetch_add(1)) {}

Result<std::uint32_t> DataKeys::key_for_notification(std::string_view service_id, Timestamp created) {
  struct Last {
    std::uint64_t instance = 0;
    std::uint64_t generation = 0;
    std::int64_t day = 0;
    std::string service;
    std::uint32_t id = 0;
  };
  thread_local Last last;
  const std::int64_t day = std::chrono::floor<std::chrono::days>(created.time_since_epoch()).count();
  const std::uint64_t current = generation();
  if (last.instance == instance_ && last.generation == current && last.day == day && last.service == service_id) {
    return last.id;
  }
  auto id = key_for_scope(notification_scope(service_id, created), created);
  if (id) last = {instance_, current, day, std::string(service_id), *id};
  return id;
}

Result<void> StaticDataKeys::with_key(std::uint32_t id, const std::function<void(const SecretBytes&)>& use) {
  auto it = keys_.find(id);
  if (it == keys_.end()) return data_loss("ciphertext names unknown data key " + std::to_string(id));
  use(it->second);
  return ok();
}

// The wrapping is bound to the KEK version and the key's scope (unique per key), so a wrapped
// key copied onto another scope's row does not unwrap.
std::string DataKeys::aad(std::string_view kek_id, std::string_view scope) {
  std::string out = "herald.dek.v1";
  out += '\0';
  out += kek_id;
  out += '\0';
  out += scope;
  return out;
}

Result<WrappedKey> DataKeys::wrap_for(const SecretBytes& key, std::string_view scope) {
  auto versions = kek_->versions();
  if (!versions) return versions.error();
  if (versions->empty()) return failed_precondition(kek_->description() + " holds no key-encryption key");
  // The AAD names the newest version, so wrap() must have used that same one; a rotation in
  // between is reported and the caller's retry uses the new version.
  const std::string kek_id = versions->back().id;
  auto wrapped = kek_->wrap(key, aad(kek_id, scope));
  if (!wrapped) return wrapped.error();
  if (wrapped->kek_id != kek_id) return unavailable("key-encryption key changed during wrapping; retry");
  return wrapped;
}

Result<std::uint32_t> DataKeys::key_for_scope(std::string_view scope, Timestamp now) {
  {
    std::shared_lock lock(mutex_);
    // C++20 heterogeneous lookup needs a transparent hash; a temporary string is cheap here.
    auto it = by_scope_.find(std::string(scope));
    if (it != by_scope_.end()) return it->second;
  }
  std::lock_guard creating(create_mutex_);
  {
    std::shared_lock lock(mutex_);
    auto it = by_scope_.find(std::string(scope));
    if (it != by_scope_.end()) return it->second;
  }
  auto existing = repository_->find_by_scope(scope);
  if (!existing) return existing.error();
  std::uint32_t id = 0;
  if (*existing) {
    if ((*existing)->destroyed) return failed_precondition("data key for " + std::string(scope) + " was destroyed");
    id = (*existing)->id;
  } else {
    if (new_key_guard_) HERALD_TRY(new_key_guard_(scope));
    auto bytes = random_bytes(32);
    if (!bytes) return bytes.error();
    SecretBytes key(*bytes);
    wipe_string(*bytes);
    auto wrapped = wrap_for(key, scope);
    if (!wrapped) return wrapped.error();
    auto stored = repository_->insert({0, std::string(scope), now, std::nullopt, std::move(*wrapped)}, false);
    if (!stored) return stored.error();
    id = stored->id;
  }
  HERALD_TRY(load(id));  // unwraps what the store holds, which may be another process's key
  std::unique_lock lock(mutex_);
  by_scope_.insert_or_assign(std::string(scope), id);
  return id;
}

void DataKeys::set_new_key_guard(NewKeyGuard guard) {
  std::lock_guard creating(create_mutex_);
  new_key_guard_ = std::move(guard);
}

Result<void> DataKeys::load(std::uint32_t id) {
  auto stored = repository_->find_by_id(id);
  if (!stored) return stored.error();
  if (!*stored) return data_loss("ciphertext names unknown data key " + std::to_string(id));
  if ((*stored)->destroyed) {
    return not_found("data key " + std::to_string(id) + " was destroyed (retention): the data it protected is gone");
  }
  auto key = kek_->unwrap((*stored)->wrapped, aad((*stored)->wrapped.kek_id, (*stored)->scope));
  if (!key) {
    // kDataLoss whatever the cause (KEK retired, tampering): the data under this key cannot be
    // read, which callers must not mistake for an unknown key id.
    return data_loss("cannot unwrap data key " + std::to_string(id) + ": " + key.error().message);
  }
  std::unique_lock lock(mutex_);
  keys_.insert_or_assign(id, std::move(*key));
  return ok();
}

Result<void> DataKeys::with_key(std::uint32_t id, const std::function<void(const SecretBytes&)>& use) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::shared_lock lock(mutex_);
      auto it = keys_.find(id);
      if (it != keys_.end()) {
        use(it->second);
        return ok();
      }
    }
    if (attempt == 0) HERALD_TRY(load(id));
  }
  return data_loss("ciphertext names unknown data key " + std::to_string(id));
}

Result<void> DataKeys::import_legacy(std::uint32_t id, const SecretBytes& key, Timestamp created) {
  const std::string scope = "legacy/" + std::to_string(id);
  auto existing = repository_->find_by_id(id);
  if (!existing) return existing.error();
  if (*existing) {
    if ((*existing)->scope != scope) return data_loss("data key " + std::to_string(id) + " exists with another scope");
    return ok();
  }
  auto wrapped = wrap_for(key, scope);
  if (!wrapped) return wrapped.error();
  auto stored = repository_->insert({id, scope, created, std::nullopt, std::move(*wrapped)}, true);
  if (!stored) return stored.error();
  return ok();
}

Result<RewrapReport> DataKeys::rewrap_all() {
  auto versions = kek_->versions();
  if (!versions) return versions.error();
  if (versions->empty()) return failed_precondition(kek_->description() + " holds no key-encryption key");
  RewrapReport report;
  report.active_kek = versions->back().id;
  auto keys = repository_->list();
  if (!keys) return keys.error();
  for (const StoredDataKey& stored : *keys) {
    if (stored.destroyed) {
      ++report.destroyed;
      continue;
    }
    if (stored.wrapped.kek_id == report.active_kek) {
      ++report.current;
      continue;
    }
    auto key = kek_->unwrap(stored.wrapped, aad(stored.wrapped.kek_id, stored.scope));
    if (!key) {
      ++report.failed;
      continue;
    }
    auto next = wrap_for(*key, stored.scope);
    if (!next) {
      ++report.failed;
      continue;
    }
    auto swapped = repository_->replace_wrapping(stored.id, stored.wrapped, *next);
    if (!swapped) {
      ++report.failed;
    } else if (*swapped) {
      ++report.rewrapped;
    } else {
      ++report.current;  // someone else re-wrapped (or destroyed) it meanwhile
    }
  }
  return report;
}

Result<void> DataKeys::destroy(std::uint32_t id, Timestamp now) {
  HERALD_TRY(repository_->destroy(id, now));
  forget(id);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return ok();
}

Result<void> DataKeys::check_kek_matches_store() {
  auto keys = repository_->list();
  if (!keys) return keys.error();
  for (auto it = keys->rbegin(); it != keys->rend(); ++it) {
    if (it->destroyed) continue;
    auto loaded = load(it->id);
    if (!loaded && loaded.error().code == ErrorCode::kDataLoss) {
      return failed_precondition("the key-encryption key here (" + kek_->description() +
                                 ") cannot unwrap data key " + std::to_string(it->id) +
                                 " of the shared key store: every node needs the same keyring or PKCS#11 token; "
                                 "copy it from a running node (" + loaded.error().message + ")");
    }
    return loaded;
  }
  return ok();  // an empty key store: this node's KEK will wrap its first keys
}

bool DataKeys::forget(std::uint32_t id) {
  std::unique_lock lock(mutex_);
  const bool had = keys_.erase(id) > 0;  // SecretBytes wipes on destruction
  for (auto it = by_scope_.begin(); it != by_scope_.end();) {
    it = it->second == id ? by_scope_.erase(it) : std::next(it);
  }
  // Per-thread caches (expanded AES keys, the day's key id) are dropped on the next use.
  if (had) generation_.fetch_add(1, std::memory_order_acq_rel);
  return had;
}

}  // namespace herald::crypto
