#pragma once
// FieldCipher: AES-256-GCM encryption of one personal field of one row.
//
// The associated data binds each ciphertext to its table, column and row id (and to the
// envelope header), so a ciphertext copied to another row or column fails to open with
// kDataLoss. Envelope format: docs/formats/ciphertext.md.
//
// Mode kPlaintextForTest stores fields unencrypted (envelope version 0). It exists only so the
// canary test can show that its scan finds plaintext when encryption is off; `herald serve`
// honours it only when HERALD_TESTING=1 is set, and logs a warning.
//
// Keys: each envelope names the data key (DEK, data_keys.h) that sealed it; the caller picks
// the key for new data with keys().key_for_scope() (per service and day for notifications).
//
// Thread-safe. Each thread caches a keyed AES context per cipher and key (see field_cipher.cc),
// dropped when a key is destroyed.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include <atomic>
#include <memory>
#include <mutex>

#include "crypto/data_keys.h"
#include "crypto/hmac.h"

namespace herald::crypto {

struct FieldContext {
  std::string_view table;
  std::string_view column;
  std::string_view row_id;
};

class FieldCipher {
 public:
  enum class Mode { kEncrypt, kPlaintextForTest };

  FieldCipher(std::shared_ptr<DataKeySource> keys, Mode mode);

  Result<std::string> seal(std::string_view plaintext, const FieldContext& context, std::uint32_t key_id) const;
  // kDataLoss when the envelope is malformed, the key unknown, or authentication fails;
  // kNotFound when its data key was destroyed by retention (the data no longer exists).
  Result<std::string> open(std::string_view envelope, const FieldContext& context) const;

  // Blind index: HMAC-SHA256 under the long-lived "index" data key of `domain` (the service
  // id, so equal recipients of two services do not match) and `value` (a normalised
  // recipient). 32 bytes; equal inputs give equal outputs, so lookups need no plaintext.
  Result<std::string> blind_index(std::string_view domain, std::string_view value, Timestamp now) const;

  Mode mode() const { return mode_; }
  DataKeySource& keys() const { return *keys_; }

 private:
  std::shared_ptr<DataKeySource> keys_;
  Mode mode_;
  std::uint64_t instance_;  // names this cipher's keyed contexts in each thread's cache
  struct IndexKey {
    std::mutex mutex;
    std::unique_ptr<HmacSha256Key> key;  // made once, under mutex
    std::atomic<const HmacSha256Key*> ready{nullptr};
  };
  std::unique_ptr<IndexKey> index_ = std::make_unique<IndexKey>();
};

}  // namespace herald::crypto
