#include "crypto/field_cipher.h"

#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <vector>

#include "crypto/random.h"

namespace herald::crypto {
namespace {

constexpr unsigned char kVersionPlain = 0x00;
constexpr unsigned char kVersionAesGcm = 0x01;
constexpr std::size_t kHeaderBytes = 5;  // version + key id
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

const EVP_CIPHER* aes_256_gcm() {
  // Fetched once: an implicit fetch on every init costs a provider lookup under a lock.
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  HERALD_CHECK(cipher != nullptr, "AES-256-GCM unavailable");
  return cipher;
}

// Each thread keeps one cipher context per (FieldCipher, key, direction), keyed once, so a
// seal or open only sets its nonce instead of expanding the key again. Bounded: the oldest is
// freed when a thread has kMaxEntries (ciphers come and go in tests; a server holds a key per
// service and day). When the key source's generation changes (a key was destroyed) every
// context is freed, so a shredded key's schedule does not outlive it. Freed contexts, and all
// of them when the thread ends, have their key schedules wiped by OpenSSL.
class KeyedContexts {
 public:
  ~KeyedContexts() { clear(); }
  // nullptr with `error` set when the key is unavailable (destroyed, unknown) or OpenSSL fails.
  EVP_CIPHER_CTX* get(std::uint64_t owner, std::uint32_t key_id, bool encrypt, DataKeySource& keys, Error& error) {
    const std::uint64_t generation = keys.generation();
    if (generation != generation_) {
      clear();
      generation_ = generation;
    }
    for (auto& entry : entries_) {
      if (entry.owner == owner && entry.key_id == key_id && entry.encrypt == encrypt) return entry.ctx;
    }
    if (entries_.size() == kMaxEntries) {
      EVP_CIPHER_CTX_free(entries_.front().ctx);
      entries_.erase(entries_.begin());
    }
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) {
      error = internal_error("out of memory");
      return nullptr;
    }
    bool keyed = false;
    auto found = keys.with_key(key_id, [&](const SecretBytes& key) {
      const auto* raw = reinterpret_cast<const unsigned char*>(key.view().data());
      keyed = key.size() == 32 && EVP_CipherInit_ex(ctx, aes_256_gcm(), nullptr, raw, nullptr, encrypt ? 1 : 0) == 1;
    });
    if (!found || !keyed) {
      EVP_CIPHER_CTX_free(ctx);
      error = found ? internal_error("AES-GCM key setup failed") : found.error();
      return nullptr;
    }
    entries_.push_back({owner, key_id, encrypt, ctx});
    return ctx;
  }

 private:
  void clear() {
    for (auto& entry : entries_) EVP_CIPHER_CTX_free(entry.ctx);
    entries_.clear();
  }
  static constexpr std::size_t kMaxEntries = 16;
  std::uint64_t generation_ = 0;
  struct Entry {
    std::uint64_t owner;
    std::uint32_t key_id;
    bool encrypt;
    EVP_CIPHER_CTX* ctx;
  };
  std::vector<Entry> entries_;
};
thread_local KeyedContexts t_contexts;

std::atomic<std::uint64_t> g_next_instance{1};

void associated_data(std::string& aad, std::string_view header, const FieldContext& c) {
  aad.assign("herald.field.v1");
  aad += '\0';
  aad += header;
  for (std::string_view part : {c.table, c.column, c.row_id}) {
    aad += '\0';
    aad += part;
  }
}
thread_local std::string t_aad;  // reused: the associated data is not secret

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

FieldCipher::FieldCipher(std::shared_ptr<DataKeySource> keys, Mode mode)
    : keys_(std::move(keys)), mode_(mode), instance_(g_next_instance.fetch_add(1)) {}

Result<std::string> FieldCipher::seal(std::string_view plaintext, const FieldContext& context,
                                      std::uint32_t key_id) const {
  if (mode_ == Mode::kPlaintextForTest) {
    std::string out(1, static_cast<char>(kVersionPlain));
    out.append(plaintext);
    return out;
  }
  std::string out(kHeaderBytes + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out[0] = static_cast<char>(kVersionAesGcm);
  for (int i = 0; i < 4; ++i) out[1 + static_cast<std::size_t>(i)] = static_cast<char>(key_id >> (24 - 8 * i));
  unsigned char* nonce = bytes(out) + kHeaderBytes;
  public_random(nonce, kNonceBytes);
  associated_data(t_aad, std::string_view(out).substr(0, kHeaderBytes), context);

  Error error;
  EVP_CIPHER_CTX* ctx = t_contexts.get(instance_, key_id, true, *keys_, error);
  if (ctx == nullptr) return error;
  int len = 0;
  unsigned char* body = nonce + kNonceBytes;
  const bool ok =
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, bytes(t_aad), static_cast<int>(t_aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, body + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          body + plaintext.size()) == 1;
  if (!ok) return internal_error("AES-GCM encryption failed");
  return out;
}

Result<std::string> FieldCipher::open(std::string_view envelope,
                                      const FieldContext& context) const {
  if (envelope.empty()) return data_loss("empty ciphertext envelope");
  const auto version = static_cast<unsigned char>(envelope[0]);
  if (version == kVersionPlain) {
    if (mode_ != Mode::kPlaintextForTest) return data_loss("unencrypted field found");
    return std::string(envelope.substr(1));
  }
  if (version != kVersionAesGcm || envelope.size() < kHeaderBytes + kNonceBytes + kTagBytes) {
    return data_loss("malformed ciphertext envelope");
  }
  std::uint32_t key_id = 0;
  for (std::size_t i = 1; i < kHeaderBytes; ++i) key_id = (key_id << 8) | static_cast<unsigned char>(envelope[i]);
  associated_data(t_aad, envelope.substr(0, kHeaderBytes), context);
  const std::string_view nonce = envelope.substr(kHeaderBytes, kNonceBytes);
  const std::size_t body_size = envelope.size() - kHeaderBytes - kNonceBytes - kTagBytes;
  const std::string_view body = envelope.substr(kHeaderBytes + kNonceBytes, body_size);
  std::string tag(envelope.substr(envelope.size() - kTagBytes));
  std::string out(body_size, '\0');

  Error error;
  EVP_CIPHER_CTX* ctx = t_contexts.get(instance_, key_id, false, *keys_, error);
  if (ctx == nullptr) {
    wipe_string(out);
    return error;  // kNotFound: the key was destroyed (shredded); kDataLoss: unknown or unwrappable
  }
  int len = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, bytes(t_aad), static_cast<int>(t_aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, bytes(out), &len, bytes(body), static_cast<int>(body.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), bytes(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx, bytes(out) + len, &len) == 1;
  if (!ok) {
    wipe_string(out);
    return data_loss("ciphertext failed authentication (" + std::string(context.table) + "." +
                     std::string(context.column) + " row " + std::string(context.row_id) + ")");
  }
  return out;
}

Result<std::string> FieldCipher::blind_index(std::string_view domain, std::string_view value, Timestamp now) const {
  const HmacSha256Key* key = index_->ready.load(std::memory_order_acquire);
  if (key == nullptr) {
    std::lock_guard lock(index_->mutex);
    if (!index_->key) {
      auto id = keys_->key_for_scope(kIndexScope, now);
      if (!id) return id.error();
      HERALD_TRY(keys_->with_key(*id, [&](const SecretBytes& bytes) {
        index_->key = std::make_unique<HmacSha256Key>(bytes.view());
      }));
      index_->ready.store(index_->key.get(), std::memory_order_release);
    }
    key = index_->key.get();
  }
  std::string message = "herald.index.v1";
  message += '\0';
  message += domain;
  message += '\0';
  message += value;
  const auto mac = key->mac(message);
  wipe_string(message);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

}  // namespace herald::crypto
