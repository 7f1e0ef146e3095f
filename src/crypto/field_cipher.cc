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
// freed when a thread has kMaxEntries (ciphers come and go in tests and on key rotation). Freed
// contexts, and all of them when the thread ends, have their key schedules wiped by OpenSSL.
class KeyedContexts {
 public:
  ~KeyedContexts() {
    for (auto& entry : entries_) EVP_CIPHER_CTX_free(entry.ctx);
  }
  EVP_CIPHER_CTX* get(std::uint64_t owner, std::uint32_t key_id, bool encrypt, const SecretBytes& key) {
    for (auto& entry : entries_) {
      if (entry.owner == owner && entry.key_id == key_id && entry.encrypt == encrypt) return entry.ctx;
    }
    if (entries_.size() == kMaxEntries) {
      EVP_CIPHER_CTX_free(entries_.front().ctx);
      entries_.erase(entries_.begin());
    }
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) return nullptr;
    const auto* raw = reinterpret_cast<const unsigned char*>(key.view().data());
    if (EVP_CipherInit_ex(ctx, aes_256_gcm(), nullptr, raw, nullptr, encrypt ? 1 : 0) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      return nullptr;
    }
    entries_.push_back({owner, key_id, encrypt, ctx});
    return ctx;
  }

 private:
  static constexpr std::size_t kMaxEntries = 8;
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

FieldCipher::FieldCipher(Keyring keyring, Mode mode)
    : keyring_(std::move(keyring)), mode_(mode), instance_(g_next_instance.fetch_add(1)) {}

Result<std::string> FieldCipher::seal(std::string_view plaintext,
                                      const FieldContext& context) const {
  if (mode_ == Mode::kPlaintextForTest) {
    std::string out(1, static_cast<char>(kVersionPlain));
    out.append(plaintext);
    return out;
  }
  const std::uint32_t key_id = keyring_.active_key_id();
  const SecretBytes* key = keyring_.key(key_id);
  HERALD_CHECK(key != nullptr, "active key missing from keyring");
  std::string out(kHeaderBytes + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out[0] = static_cast<char>(kVersionAesGcm);
  for (int i = 0; i < 4; ++i) out[1 + static_cast<std::size_t>(i)] = static_cast<char>(key_id >> (24 - 8 * i));
  unsigned char* nonce = bytes(out) + kHeaderBytes;
  public_random(nonce, kNonceBytes);
  associated_data(t_aad, std::string_view(out).substr(0, kHeaderBytes), context);

  EVP_CIPHER_CTX* ctx = t_contexts.get(instance_, key_id, true, *key);
  int len = 0;
  unsigned char* body = nonce + kNonceBytes;
  const bool ok =
      ctx != nullptr && EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
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
  const SecretBytes* key = keyring_.key(key_id);
  if (key == nullptr) return data_loss("ciphertext names unknown key " + std::to_string(key_id));

  associated_data(t_aad, envelope.substr(0, kHeaderBytes), context);
  const std::string_view nonce = envelope.substr(kHeaderBytes, kNonceBytes);
  const std::size_t body_size = envelope.size() - kHeaderBytes - kNonceBytes - kTagBytes;
  const std::string_view body = envelope.substr(kHeaderBytes + kNonceBytes, body_size);
  std::string tag(envelope.substr(envelope.size() - kTagBytes));
  std::string out(body_size, '\0');

  EVP_CIPHER_CTX* ctx = t_contexts.get(instance_, key_id, false, *key);
  int len = 0;
  const bool ok =
      ctx != nullptr && EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, bytes(nonce)) == 1 &&
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

}  // namespace herald::crypto
