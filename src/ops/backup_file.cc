#include "ops/backup_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "core/base64.h"
#include "core/json.h"
#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/random.h"

namespace herald::ops {
namespace {

constexpr std::string_view kMagic = "HERALDBK";
constexpr unsigned char kFormatVersion = 1;
constexpr std::size_t kPrefixBytes = 8 + 1 + 4;  // magic, version, header length
constexpr std::size_t kNoncePrefixBytes = 8;
constexpr std::size_t kKeyCheckBytes = 32;
constexpr std::size_t kMaxSectionNameBytes = 64;
constexpr std::uint64_t kMaxChunks = std::uint64_t{1} << 32;  // the nonce's 32-bit counter
constexpr std::size_t kTagBytes = crypto::Aes256Gcm::kTagBytes;
// Labels for deriving the chunk key and the key check from the backup key (docs/formats/backup.md).
constexpr std::string_view kChunkKeyLabel = "herald.backup.v1 chunk key";
constexpr std::string_view kKeyCheckLabel = "herald.backup.v1 key check";

// Everything a reader needs, parsed from (and bound to) the header bytes.
struct Layout {
  BackupHeader header;
  std::uint32_t chunk_bytes = 0;
  std::string nonce_prefix;
  std::string key_check;
  std::string header_hash;  // SHA-256 of the file's bytes from offset 0 to the end of the header
  std::uint64_t total_bytes = 0;
  std::uint64_t chunk_count = 0;

  std::uint64_t plaintext_bytes(std::uint64_t chunk) const {
    return std::min<std::uint64_t>(chunk_bytes, total_bytes - chunk * chunk_bytes);
  }
  std::uint64_t body_bytes() const { return total_bytes + chunk_count * kTagBytes; }
};

// ---------------------------------------------------------------------------------------------
// Keys, nonces and associated data.

struct DerivedKeys {
  crypto::SecretBytes chunk_key;
  std::string key_check;  // public: a PRF output, safe to store
};

DerivedKeys derive_keys(const crypto::SecretBytes& backup_key) {
  std::string chunk_key = crypto::hmac_sha256(backup_key.view(), kChunkKeyLabel);
  DerivedKeys keys{crypto::SecretBytes(chunk_key), crypto::hmac_sha256(backup_key.view(), kKeyCheckLabel)};
  crypto::wipe_string(chunk_key);
  return keys;
}

void put_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::string chunk_nonce(const Layout& layout, std::uint64_t chunk) {
  std::string nonce = layout.nonce_prefix;
  put_be(nonce, chunk, 4);
  return nonce;
}

std::string chunk_aad(const Layout& layout, std::uint64_t chunk) {
  std::string aad = layout.header_hash;
  put_be(aad, chunk, 8);
  aad += chunk + 1 == layout.chunk_count ? '\x01' : '\x00';
  return aad;
}

// ---------------------------------------------------------------------------------------------
// Header: checks shared by writer and reader, JSON encoding and decoding.

bool is_printable_label(std::string_view s, std::size_t min_bytes) {
  if (s.size() < min_bytes || s.size() > kBackupMaxLabelBytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Checks the fields a caller supplies and the section list. Returns the message of the first
// problem, or nothing.
std::optional<std::string> header_problem(const BackupHeader& header) {
  if (header.schema_version < 0) return "schema_version is negative";
  if (!is_printable_label(header.herald_version, 1)) return "herald_version is empty, too long or not printable";
  if (!is_printable_label(header.kek_id, 1)) return "kek_id is empty, too long or not printable";
  if (header.wrapped_key.empty() || header.wrapped_key.size() > kBackupMaxWrappedKeyBytes) {
    return "wrapped_key is empty or longer than " + std::to_string(kBackupMaxWrappedKeyBytes) + " bytes";
  }
  if (auto text = format_timestamp(header.created); parse_timestamp(text) != header.created) {
    return "created is out of range";
  }
  if (header.sections.empty() || header.sections.size() > kBackupMaxSections) {
    return "a backup holds 1 to " + std::to_string(kBackupMaxSections) + " sections";
  }
  for (std::size_t i = 0; i < header.sections.size(); ++i) {
    const std::string& name = header.sections[i].name;
    if (!is_valid_backup_section_name(name)) return "section " + std::to_string(i) + " has an invalid name";
    for (std::size_t j = 0; j < i; ++j) {
      if (header.sections[j].name == name) return "section name '" + name + "' is repeated";
    }
  }
  return std::nullopt;
}

// Fills total_bytes and chunk_count; fails when they overflow the format's limits.
std::optional<std::string> size_problem(Layout& layout) {
  if (layout.chunk_bytes < kBackupMinChunkBytes || layout.chunk_bytes > kBackupMaxChunkBytes) {
    return "chunk size " + std::to_string(layout.chunk_bytes) + " out of range";
  }
  std::uint64_t total = 0;
  for (const auto& section : layout.header.sections) {
    if (section.size > std::numeric_limits<std::uint64_t>::max() - total) return "section sizes overflow";
    total += section.size;
  }
  const std::uint64_t chunks = total == 0 ? 1 : (total - 1) / layout.chunk_bytes + 1;
  if (chunks > kMaxChunks) return "too many chunks for one file";
  layout.total_bytes = total;
  layout.chunk_count = chunks;
  return std::nullopt;
}

std::string encode_header(const Layout& layout) {
  json::Writer w;
  w.begin_object();
  w.key("created").string(format_timestamp(layout.header.created));
  w.key("schema_version").integer(layout.header.schema_version);
  w.key("herald_version").string(layout.header.herald_version);
  w.key("kek_id").string(layout.header.kek_id);
  w.key("wrapped_key").string(base64_encode(layout.header.wrapped_key));
  w.key("chunk_bytes").integer(layout.chunk_bytes);
  w.key("nonce_prefix").string(base64_encode(layout.nonce_prefix));
  w.key("key_check").string(base64_encode(layout.key_check));
  w.key("sections").begin_array();
  for (const auto& section : layout.header.sections) {
    w.begin_object().key("name").string(section.name);
    w.key("size").integer(static_cast<std::int64_t>(section.size));
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

// The object's members, by name, when each name is one of `names` and appears exactly once.
std::optional<std::vector<const json::Value*>> exact_members(const json::Value& value,
                                                              const std::vector<std::string_view>& names) {
  if (!value.is_object() || value.as_object().size() != names.size()) return std::nullopt;
  std::vector<const json::Value*> found(names.size(), nullptr);
  for (const auto& [key, member] : value.as_object()) {
    auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) return std::nullopt;
    auto& slot = found[static_cast<std::size_t>(it - names.begin())];
    if (slot != nullptr) return std::nullopt;
    slot = &member;
  }
  return found;
}

std::optional<std::uint64_t> as_unsigned(const json::Value* value, std::uint64_t max) {
  if (value == nullptr || !value->is_number()) return std::nullopt;
  auto n = value->as_int64();
  if (!n || *n < 0 || static_cast<std::uint64_t>(*n) > max) return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

std::optional<std::string> as_text(const json::Value* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->as_string();
}

std::optional<std::string> as_base64(const json::Value* value, std::size_t max_bytes) {
  auto text = as_text(value);
  if (!text || text->size() > (max_bytes + 2) / 3 * 4) return std::nullopt;
  return base64_decode(*text);
}

Result<std::vector<BackupSectionInfo>> decode_sections(const json::Value* value) {
  const Error bad = data_loss("backup header: malformed section list");
  if (value == nullptr || !value->is_array() || value->as_array().size() > kBackupMaxSections) {
    return bad;
  }
  std::vector<BackupSectionInfo> sections;
  for (const auto& item : value->as_array()) {
    auto members = exact_members(item, {"name", "size"});
    if (!members) return bad;
    auto name = as_text((*members)[0]);
    auto size = as_unsigned((*members)[1], std::numeric_limits<std::int64_t>::max());
    if (!name || !size) return bad;
    sections.push_back({std::move(*name), *size});
  }
  return sections;
}

Result<Layout> decode_header(std::string_view text) {
  auto parsed = json::parse(text, json::ParseLimits{4, kBackupMaxHeaderBytes});
  if (!parsed) return data_loss("backup header is not valid JSON: " + parsed.error().message);
  auto m = exact_members(*parsed, {"created", "schema_version", "herald_version", "kek_id", "wrapped_key",
                                   "chunk_bytes", "nonce_prefix", "key_check", "sections"});
  if (!m) return data_loss("backup header: unknown, missing or repeated fields");
  const auto& f = *m;
  Layout layout;
  auto created = as_text(f[0]);
  auto parsed_created = created ? parse_timestamp(*created) : std::nullopt;
  auto schema = as_unsigned(f[1], std::numeric_limits<int>::max());
  auto herald_version = as_text(f[2]);
  auto kek_id = as_text(f[3]);
  auto wrapped = as_base64(f[4], kBackupMaxWrappedKeyBytes);
  auto chunk_bytes = as_unsigned(f[5], kBackupMaxChunkBytes);
  auto nonce_prefix = as_base64(f[6], kNoncePrefixBytes);
  auto key_check = as_base64(f[7], kKeyCheckBytes);
  if (!parsed_created || !schema || !herald_version || !kek_id || !wrapped || !chunk_bytes ||
      !nonce_prefix || nonce_prefix->size() != kNoncePrefixBytes || !key_check ||
      key_check->size() != kKeyCheckBytes) {
    return data_loss("backup header: a field has the wrong type or is out of range");
  }
  auto sections = decode_sections(f[8]);
  if (!sections) return sections.error();
  layout.header = {*parsed_created, static_cast<int>(*schema), std::move(*herald_version),
                   std::move(*kek_id), std::move(*wrapped), std::move(*sections)};
  layout.chunk_bytes = static_cast<std::uint32_t>(*chunk_bytes);
  layout.nonce_prefix = std::move(*nonce_prefix);
  layout.key_check = std::move(*key_check);
  if (auto problem = header_problem(layout.header)) return data_loss("backup header: " + *problem);
  if (auto problem = size_problem(layout)) return data_loss("backup header: " + *problem);
  return layout;
}

std::string encode_prefix(std::size_t header_bytes) {
  std::string prefix(kMagic);
  prefix += static_cast<char>(kFormatVersion);
  put_be(prefix, header_bytes, 4);
  return prefix;
}

// ---------------------------------------------------------------------------------------------
// Byte sources (a file descriptor or memory) and file descriptors.

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now, reporting whether close succeeded (it can report a delayed write error).
  bool close() { return ::close(std::exchange(fd_, -1)) == 0; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

Error open_error(const std::string& what, const std::string& path, int error_number) {
  std::string message = "cannot open " + what + " " + path + ": " + std::strerror(error_number);
  if (error_number == ENOENT) return not_found(std::move(message));
  return unavailable(std::move(message));
}

// Reads up to `n` bytes, fewer only at the end of the file.
Result<std::size_t> read_fully(int fd, char* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd, out + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return unavailable(std::string("read failed: ") + std::strerror(errno));
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

Result<void> write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t put = ::write(fd, bytes.data(), bytes.size());
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return unavailable(std::string("write failed: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(put));
  }
  return ok();
}

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to `n` bytes into `out`, fewer only at the end.
  virtual Result<std::size_t> read(char* out, std::size_t n) = 0;
  // How many bytes are left to read.
  virtual Result<std::uint64_t> remaining() = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<std::size_t> read(char* out, std::size_t n) override {
    const std::size_t take = std::min(n, bytes_.size());
    if (take > 0) std::memcpy(out, bytes_.data(), take);
    bytes_.remove_prefix(take);
    return take;
  }
  Result<std::uint64_t> remaining() override { return std::uint64_t{bytes_.size()}; }

 private:
  std::string_view bytes_;
};

class FileSource final : public Source {
 public:
  static Result<FileSource> open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return open_error("backup", path, errno);
    return FileSource(std::move(fd));
  }
  Result<std::size_t> read(char* out, std::size_t n) override {
    auto got = read_fully(fd_.get(), out, n);
    if (got) offset_ += *got;
    return got;
  }
  Result<std::uint64_t> remaining() override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return unavailable("cannot stat the backup file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    return size > offset_ ? size - offset_ : 0;
  }

 private:
  explicit FileSource(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::uint64_t offset_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Reading.

Result<Layout> read_header(Source& source) {
  std::string prefix(kPrefixBytes, '\0');
  auto got = source.read(prefix.data(), prefix.size());
  if (!got) return got.error();
  if (*got < kPrefixBytes || std::string_view(prefix).substr(0, kMagic.size()) != kMagic) {
    return data_loss("not a Herald backup file (no HERALDBK magic)");
  }
  const auto version = static_cast<unsigned char>(prefix[kMagic.size()]);
  if (version != kFormatVersion) {
    return data_loss("unsupported backup format version " + std::to_string(version));
  }
  std::size_t header_bytes = 0;
  for (std::size_t i = kMagic.size() + 1; i < kPrefixBytes; ++i) {
    header_bytes = (header_bytes << 8) | static_cast<unsigned char>(prefix[i]);
  }
  if (header_bytes == 0 || header_bytes > kBackupMaxHeaderBytes) {
    return data_loss("backup header length " + std::to_string(header_bytes) + " out of range");
  }
  std::string header(header_bytes, '\0');
  got = source.read(header.data(), header.size());
  if (!got) return got.error();
  if (*got < header_bytes) return data_loss("backup truncated inside its header");
  auto layout = decode_header(header);
  if (!layout) return layout.error();
  layout->header_hash = crypto::sha256(prefix + header);
  return layout;
}

// Hands each chunk's plaintext to the sink, section by section, as BackupSink promises.
class SectionFeeder {
 public:
  SectionFeeder(const std::vector<BackupSectionInfo>& sections, const BackupSink& sink)
      : sections_(sections), sink_(sink), left_(sections.empty() ? 0 : sections[0].size) {}

  Result<void> feed(std::string_view bytes) {
    for (;;) {
      HERALD_TRY(pass_finished_sections());
      if (bytes.empty()) return ok();
      HERALD_CHECK(index_ < sections_.size(), "backup body longer than its sections");
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, bytes.size()));
      if (sink_) HERALD_TRY(sink_(sections_[index_].name, bytes.substr(0, take)));
      called_ = true;
      left_ -= take;
      bytes.remove_prefix(take);
    }
  }
  // After the last chunk: the trailing empty sections still get their one call.
  Result<void> finish() { return pass_finished_sections(); }

 private:
  Result<void> pass_finished_sections() {
    while (index_ < sections_.size() && left_ == 0) {
      if (!called_ && sink_) HERALD_TRY(sink_(sections_[index_].name, {}));
      ++index_;
      called_ = false;
      left_ = index_ < sections_.size() ? sections_[index_].size : 0;
    }
    return ok();
  }

  const std::vector<BackupSectionInfo>& sections_;
  const BackupSink& sink_;
  std::size_t index_ = 0;
  std::uint64_t left_;
  bool called_ = false;
};

// Checks the body's length against the header before decrypting anything, so a truncated file
// fails at once (and a crafted header cannot make the reader allocate more than the file holds).
Result<void> check_body_length(Source& source, const Layout& layout) {
  auto remaining = source.remaining();
  if (!remaining) return remaining.error();
  if (*remaining < layout.body_bytes()) {
    return data_loss("backup truncated: its header describes " + std::to_string(layout.body_bytes()) +
                     " body bytes but " + std::to_string(*remaining) + " follow (or the header is corrupt)");
  }
  if (*remaining > layout.body_bytes()) {
    return data_loss("backup has " + std::to_string(*remaining - layout.body_bytes()) +
                     " bytes of trailing data after its final chunk");
  }
  return ok();
}

Result<void> read_chunks(Source& source, const Layout& layout, crypto::Aes256Gcm& cipher,
                         SectionFeeder& feeder) {
  std::string sealed;
  std::string plain;
  Result<void> status = ok();
  for (std::uint64_t chunk = 0; chunk < layout.chunk_count && status; ++chunk) {
    const std::string where = "chunk " + std::to_string(chunk) + " of " + std::to_string(layout.chunk_count);
    sealed.resize(static_cast<std::size_t>(layout.plaintext_bytes(chunk)) + kTagBytes);
    auto got = source.read(sealed.data(), sealed.size());
    if (!got) return got.error();
    if (*got < sealed.size()) return data_loss("backup truncated " + std::string(*got == 0 ? "before " : "inside ") + where);
    if (!cipher.open(chunk_nonce(layout, chunk), chunk_aad(layout, chunk), sealed, plain)) {
      return data_loss("backup " + where + " failed authentication (corrupt, reordered or from another file)");
    }
    status = feeder.feed(plain);
    crypto::wipe_string(plain);  // patient data: do not leave it in freed memory
  }
  if (!status) return status;
  char extra = 0;
  auto got = source.read(&extra, 1);
  if (!got) return got.error();
  if (*got != 0) return data_loss("backup has trailing data after its final chunk");
  return feeder.finish();
}

Result<BackupHeader> read_body(Source& source, Layout layout, const crypto::SecretBytes& key,
                               const BackupSink& sink) {
  if (key.size() != kBackupKeyBytes) return invalid_argument("a backup key has 32 bytes");
  DerivedKeys keys = derive_keys(key);
  if (!crypto::constant_time_equal(keys.key_check, layout.key_check)) {
    return data_loss("the backup key does not match this file (wrong key, or a corrupt header)");
  }
  HERALD_TRY(check_body_length(source, layout));
  auto cipher = crypto::Aes256Gcm::create(keys.chunk_key, crypto::Aes256Gcm::Direction::kOpen);
  if (!cipher) return cipher.error();
  SectionFeeder feeder(layout.header.sections, sink);
  HERALD_TRY(read_chunks(source, layout, *cipher, feeder));
  return std::move(layout.header);
}

Result<BackupHeader> read_all(Source& source, const crypto::SecretBytes& key, const BackupSink& sink) {
  auto layout = read_header(source);
  if (!layout) return layout.error();
  return read_body(source, std::move(*layout), key, sink);
}

// ---------------------------------------------------------------------------------------------
// Writing.

struct OpenInput {
  UniqueFd fd;
  std::string name;
  std::uint64_t size = 0;
};

Result<std::vector<OpenInput>> open_inputs(const std::vector<BackupSection>& sections) {
  std::vector<OpenInput> inputs;
  for (const auto& section : sections) {
    UniqueFd fd(::open(section.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return open_error("backup input", section.path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return invalid_argument("backup input " + section.path + " is not a regular file");
    }
    inputs.push_back({std::move(fd), section.name, static_cast<std::uint64_t>(st.st_size)});
  }
  return inputs;
}

// Reads the inputs one after another as one stream, holding each to the size it had when
// opened: a consistent snapshot does not change while it is read.
class InputStream {
 public:
  explicit InputStream(std::vector<OpenInput>& inputs) : inputs_(inputs) {}

  Result<void> fill(char* out, std::size_t n) {
    while (n > 0) {
      HERALD_CHECK(index_ < inputs_.size(), "backup inputs shorter than their sizes");
      OpenInput& input = inputs_[index_];
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n, input.size - offset_));
      auto got = read_fully(input.fd.get(), out, want);
      if (!got) return got.error();
      if (*got < want) return unavailable("backup input '" + input.name + "' shrank while it was read");
      out += want;
      n -= want;
      offset_ += want;
      HERALD_TRY(pass_finished_inputs());
    }
    return ok();
  }
  // After the last byte: checks that the remaining (empty) inputs did not grow either.
  Result<void> finish() { return pass_finished_inputs(); }

 private:
  Result<void> pass_finished_inputs() {
    while (index_ < inputs_.size() && offset_ == inputs_[index_].size) {
      char extra = 0;
      auto got = read_fully(inputs_[index_].fd.get(), &extra, 1);
      if (!got) return got.error();
      if (*got != 0) return unavailable("backup input '" + inputs_[index_].name + "' grew while it was read");
      inputs_[index_].fd.reset();
      ++index_;
      offset_ = 0;
    }
    return ok();
  }

  std::vector<OpenInput>& inputs_;
  std::size_t index_ = 0;
  std::uint64_t offset_ = 0;
};

// "<path>.partial", removed unless commit() renamed it into place.
class PartialFile {
 public:
  static Result<PartialFile> create(const std::string& path) {
    std::string partial = path + ".partial";
    UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
      return unavailable("cannot create " + partial + ": " + std::strerror(errno) +
                         (errno == EEXIST ? " (left by a crashed backup? check and remove it)" : ""));
    }
    if (::fchmod(fd.get(), 0600) != 0) {
      ::unlink(partial.c_str());
      return unavailable("cannot set the mode of " + partial);
    }
    return PartialFile(path, std::move(partial), std::move(fd));
  }
  ~PartialFile() {
    if (!committed_ && !partial_.empty()) {
      fd_.reset();
      ::unlink(partial_.c_str());
    }
  }
  PartialFile(PartialFile&& other) noexcept
      : path_(std::move(other.path_)), partial_(std::exchange(other.partial_, {})),
        fd_(std::move(other.fd_)), committed_(other.committed_) {}
  PartialFile& operator=(PartialFile&&) = delete;
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  int fd() const { return fd_.get(); }
  Result<void> commit();

 private:
  PartialFile(std::string path, std::string partial, UniqueFd fd)
      : path_(std::move(path)), partial_(std::move(partial)), fd_(std::move(fd)) {}
  std::string path_;
  std::string partial_;
  UniqueFd fd_;
  bool committed_ = false;
};

Result<void> fsync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return unavailable("cannot fsync directory " + dir);
  return ok();
}

Result<void> PartialFile::commit() {
  if (::fsync(fd_.get()) != 0 || !fd_.close()) return unavailable("cannot flush " + partial_ + " to disk");
  // Never replaces an existing backup. link() + unlink() gives the same guarantee as
  // renameat2(RENAME_NOREPLACE) and works on every filesystem that has hard links.
  if (::link(partial_.c_str(), path_.c_str()) != 0) {
    return unavailable("cannot move " + partial_ + " to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  ::unlink(partial_.c_str());
  return fsync_directory_of(path_);
}

Result<void> write_chunks(int fd, const Layout& layout, InputStream& input, const crypto::SecretBytes& chunk_key) {
  auto cipher = crypto::Aes256Gcm::create(chunk_key, crypto::Aes256Gcm::Direction::kSeal);
  if (!cipher) return cipher.error();
  std::string plain;
  std::string sealed;
  Result<void> status = ok();
  for (std::uint64_t chunk = 0; chunk < layout.chunk_count && status; ++chunk) {
    plain.resize(static_cast<std::size_t>(layout.plaintext_bytes(chunk)));
    status = input.fill(plain.data(), plain.size());
    if (status) status = cipher->seal(chunk_nonce(layout, chunk), chunk_aad(layout, chunk), plain, sealed);
    if (status) status = write_fully(fd, sealed);
  }
  crypto::wipe_string(plain);
  if (!status) return status;
  return input.finish();
}

Result<Layout> plan_backup(BackupHeader header, const std::vector<OpenInput>& inputs,
                           const DerivedKeys& keys, const BackupWriteOptions& options) {
  header.sections.clear();
  for (const auto& input : inputs) header.sections.push_back({input.name, input.size});
  if (auto problem = header_problem(header)) return invalid_argument("backup: " + *problem);
  Layout layout;
  layout.header = std::move(header);
  layout.chunk_bytes = options.chunk_bytes;
  if (auto problem = size_problem(layout)) return invalid_argument("backup: " + *problem);
  layout.nonce_prefix.resize(kNoncePrefixBytes);
  crypto::public_random(reinterpret_cast<unsigned char*>(layout.nonce_prefix.data()), kNoncePrefixBytes);
  layout.key_check = keys.key_check;
  return layout;
}

// Writes each section to <dir>/<name> as read_backup delivers it; remove_all() undoes it.
class Extractor {
 public:
  explicit Extractor(int dir_fd) : dir_fd_(dir_fd) {}

  Result<void> write(std::string_view section, std::string_view bytes) {
    if (created_.empty() || created_.back() != section) {
      HERALD_TRY(close_current());
      // Checked again here, not only in the header parser: this name becomes a path.
      if (!is_valid_backup_section_name(section)) return data_loss("backup section name is invalid");
      const std::string name(section);
      current_ = UniqueFd(::openat(dir_fd_, name.c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (!current_.valid()) {
        return unavailable("cannot create " + name + " in the extract directory: " + std::strerror(errno));
      }
      created_.push_back(name);
    }
    return write_fully(current_.get(), bytes);
  }

  Result<void> finish() {
    HERALD_TRY(close_current());
    if (::fsync(dir_fd_) != 0) return unavailable("cannot fsync the extract directory");
    return ok();
  }

  void remove_all() {
    current_.reset();
    for (const auto& name : created_) ::unlinkat(dir_fd_, name.c_str(), 0);
    created_.clear();
  }

 private:
  Result<void> close_current() {
    if (!current_.valid()) return ok();
    if (::fsync(current_.get()) != 0 || !current_.close()) {
      return unavailable("cannot flush an extracted section to disk");
    }
    return ok();
  }

  int dir_fd_;
  UniqueFd current_;
  std::vector<std::string> created_;
};

}  // namespace

bool is_valid_backup_section_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxSectionNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<BackupHeader> write_backup(const std::string& path, BackupHeader header,
                                  const crypto::SecretBytes& key,
                                  const std::vector<BackupSection>& inputs,
                                  const BackupWriteOptions& options) {
  if (key.size() != kBackupKeyBytes) return invalid_argument("a backup key has 32 bytes");
  for (const auto& input : inputs) {
    if (!is_valid_backup_section_name(input.name)) return invalid_argument("backup: invalid section name");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return unavailable("backup " + path + " already exists");
  auto opened = open_inputs(inputs);
  if (!opened) return opened.error();
  const DerivedKeys keys = derive_keys(key);
  auto layout = plan_backup(std::move(header), *opened, keys, options);
  if (!layout) return layout.error();
  const std::string header_text = encode_header(*layout);
  if (header_text.size() > kBackupMaxHeaderBytes) return invalid_argument("backup header too long");
  const std::string prefix = encode_prefix(header_text.size());
  layout->header_hash = crypto::sha256(prefix + header_text);

  auto file = PartialFile::create(path);
  if (!file) return file.error();
  HERALD_TRY(write_fully(file->fd(), prefix + header_text));
  InputStream stream(*opened);
  HERALD_TRY(write_chunks(file->fd(), *layout, stream, keys.chunk_key));
  HERALD_TRY(file->commit());
  return std::move(layout->header);
}

Result<BackupHeader> read_backup_header(const std::string& path) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  auto layout = read_header(*source);
  if (!layout) return layout.error();
  return std::move(layout->header);
}

Result<BackupHeader> read_backup(const std::string& path, const crypto::SecretBytes& key,
                                 const BackupSink& sink) {
  auto source = FileSource::open(path);
  if (!source) return source.error();
  return read_all(*source, key, sink);
}

Result<BackupHeader> extract_backup(const std::string& path, const crypto::SecretBytes& key,
                                    const std::string& dir) {
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return open_error("extract directory", dir, errno);
  Extractor extractor(dir_fd.get());
  auto header = read_backup(path, key, [&extractor](std::string_view section, std::string_view bytes) {
    return extractor.write(section, bytes);
  });
  Result<void> done = header ? extractor.finish() : Result<void>(header.error());
  if (!done) {
    extractor.remove_all();
    return done.error();
  }
  return header;
}

Result<BackupHeader> parse_backup_header(std::string_view file_bytes) {
  MemorySource source(file_bytes);
  auto layout = read_header(source);
  if (!layout) return layout.error();
  return std::move(layout->header);
}

Result<BackupHeader> read_backup_bytes(std::string_view file_bytes, const crypto::SecretBytes& key,
                                       const BackupSink& sink) {
  MemorySource source(file_bytes);
  return read_all(source, key, sink);
}

}  // namespace herald::ops
