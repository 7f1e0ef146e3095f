#pragma once
// Data keys (DEKs): the AES-256 keys that encrypt personal fields (field_cipher.h).
//
// Envelope encryption: every DEK is stored only wrapped under a key-encryption key (kek.h), in
// a key store kept apart from the data (the SQLite file keys.db beside herald.db, implemented
// in store/sqlite/key_repository.h): backups of the data never contain data keys, so
// destroying a DEK (crypto-shredding at the end of retention) makes that data unreadable in
// every old backup as well.
//
// Scope: one DEK per service and UTC day of notifications ("notifications/<service>/<day>"),
// so each service's data can be shredded exactly when its own retention ends and no key ever
// protects more than one day of one service; files sent by email have one DEK per service and
// UTC day of expiry ("documents/<service>/<day>"); plus long-lived keys for API-key secrets
// ("secrets") and for the blind index ("index"). Keys imported from a first-release keyring
// have scope "legacy/<n>".
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/kek.h"
#include "crypto/secret.h"

namespace herald::crypto {

inline constexpr std::string_view kSecretsScope = "secrets";
inline constexpr std::string_view kIndexScope = "index";
// "notifications/<service id>/<YYYY-MM-DD of `created`, UTC>"
std::string notification_scope(std::string_view service_id, Timestamp created);
// "documents/<service id>/<YYYY-MM-DD of `expires`, UTC>": files sent by email are sealed under
// the key of the day they expire, so that key outlives the notification's and is destroyed
// once every document of that day has expired (ops/retention.cc).
std::string document_scope(std::string_view service_id, Timestamp expires);

// What FieldCipher needs: the id of the key for a scope, and a key's bytes by id.
class DataKeySource {
 public:
  virtual ~DataKeySource() = default;
  // The key that encrypts new data of `scope`, created on first use.
  virtual Result<std::uint32_t> key_for_scope(std::string_view scope, Timestamp now) = 0;
  // key_for_scope(notification_scope(service, created)); implementations may make it cheaper.
  virtual Result<std::uint32_t> key_for_notification(std::string_view service_id, Timestamp created) {
    return key_for_scope(notification_scope(service_id, created), created);
  }
  // Runs `use` with the key's bytes (under a lock: do not keep them). kNotFound when the key
  // was destroyed (crypto-shredded: the data is gone, as after retention); kDataLoss when the
  // id is unknown or the key cannot be unwrapped (an integrity or configuration problem).
  virtual Result<void> with_key(std::uint32_t id, const std::function<void(const SecretBytes&)>& use) = 0;
  // Changes whenever a key is destroyed, so that cached copies (expanded AES keys) are dropped.
  virtual std::uint64_t generation() const = 0;
};

// Fixed keys in memory, for unit tests and micro-benchmarks: every scope uses the newest key.
class StaticDataKeys final : public DataKeySource {
 public:
  explicit StaticDataKeys(std::uint32_t id, std::string_view key) { add(id, key); }
  void add(std::uint32_t id, std::string_view key) { keys_.insert_or_assign(id, SecretBytes(key)); }
  Result<std::uint32_t> key_for_scope(std::string_view, Timestamp) override { return keys_.rbegin()->first; }
  Result<void> with_key(std::uint32_t id, const std::function<void(const SecretBytes&)>& use) override;
  std::uint64_t generation() const override { return 0; }

 private:
  std::map<std::uint32_t, SecretBytes> keys_;
};

// A DEK as the key store holds it.
struct StoredDataKey {
  std::uint32_t id = 0;
  std::string scope;
  Timestamp created;
  std::optional<Timestamp> destroyed;  // set when crypto-shredded; `wrapped` is then empty
  WrappedKey wrapped;
};

// The key store's persistence (implemented by a store backend; crypto knows no SQL).
class DataKeyRepository {
 public:
  virtual ~DataKeyRepository() = default;
  virtual Result<std::optional<StoredDataKey>> find_by_id(std::uint32_t id) = 0;
  virtual Result<std::optional<StoredDataKey>> find_by_scope(std::string_view scope) = 0;
  // Inserts a key for a new scope, or, when another process inserted that scope first,
  // returns theirs. `fixed_id` only for imported legacy keys.
  virtual Result<StoredDataKey> insert(const StoredDataKey& key, bool fixed_id) = 0;
  virtual Result<std::vector<StoredDataKey>> list() = 0;
  // Replaces the wrapping only if it is still `expected` (compare-and-set): rotation never
  // overwrites a key another process re-wrapped or destroyed meanwhile.
  virtual Result<bool> replace_wrapping(std::uint32_t id, const WrappedKey& expected, const WrappedKey& next) = 0;
  // Erases the wrapped bytes for good (and makes sure they are gone from the file and its
  // journal), keeping the row as a record that the key existed.
  virtual Result<void> destroy(std::uint32_t id, Timestamp now) = 0;
};

struct RewrapReport {
  int rewrapped = 0;   // moved to the active KEK by this run
  int current = 0;     // already under the active KEK
  int destroyed = 0;   // shredded keys (nothing to wrap)
  int failed = 0;
  std::string active_kek;
};

class DataKeys final : public DataKeySource {
 public:
  DataKeys(std::shared_ptr<KekSource> kek, std::shared_ptr<DataKeyRepository> repository);

  Result<std::uint32_t> key_for_scope(std::string_view scope, Timestamp now) override;
  // Remembers, per thread, the last (service, day) and its key: a send then costs a comparison
  // rather than formatting the scope and a locked lookup.
  Result<std::uint32_t> key_for_notification(std::string_view service_id, Timestamp created) override;
  Result<void> with_key(std::uint32_t id, const std::function<void(const SecretBytes&)>& use) override;
  std::uint64_t generation() const override { return generation_.load(std::memory_order_acquire); }

  // Stores a first-release key under its old id, wrapped under the active KEK (idempotent).
  Result<void> import_legacy(std::uint32_t id, const SecretBytes& key, Timestamp created);
  // Rotation: re-wraps every live key not under the newest KEK version. Online and resumable:
  // each key is one compare-and-set, so a crash or a concurrent run loses nothing.
  Result<RewrapReport> rewrap_all();
  // Crypto-shredding: destroys the key in the store and in this process's memory.
  Result<void> destroy(std::uint32_t id, Timestamp now);
  // Drops this process's copy of a key another process (node) destroyed; true if it had one.
  bool forget(std::uint32_t id);
  // Unwraps the newest live data key of the store: fails (kFailedPrecondition) when this
  // process's KEK source is not the one the store's keys are wrapped under, e.g. a node set up
  // with a keyring of its own on a shared database. Such a node must not start: keys it made
  // for new days would be unreadable to every other node.
  Result<void> check_kek_matches_store();

  // Asked before a key is created for a scope that has none: an error refuses the creation (and
  // is what key_for_scope returns). Set once, before use; ops/key_check.h's new_key_guard.
  using NewKeyGuard = std::function<Result<void>(std::string_view scope)>;
  void set_new_key_guard(NewKeyGuard guard);

  KekSource& kek() { return *kek_; }
  DataKeyRepository& repository() { return *repository_; }

 private:
  Result<void> load(std::uint32_t id);  // unwraps into the cache; called without the lock held
  Result<WrappedKey> wrap_for(const SecretBytes& key, std::string_view scope);
  static std::string aad(std::string_view kek_id, std::string_view scope);

  std::shared_ptr<KekSource> kek_;
  std::shared_ptr<DataKeyRepository> repository_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::uint32_t> by_scope_;      // guarded by mutex_
  std::unordered_map<std::uint32_t, SecretBytes> keys_;          // guarded by mutex_
  std::atomic<std::uint64_t> generation_{1};
  const std::uint64_t instance_;  // names this object in the per-thread cache
  std::mutex create_mutex_;  // one key creation at a time in this process
  NewKeyGuard new_key_guard_;  // guarded by create_mutex_
};

}  // namespace herald::crypto
