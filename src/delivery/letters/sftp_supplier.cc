#include "delivery/letters/sftp_supplier.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/base64.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/hmac.h"
#include "crypto/private_file.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace herald::delivery::letters {
namespace {

constexpr std::size_t kWriteChunk = 32 * 1024;  // below every server's SFTP packet limit
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
constexpr mode_t kDirectoryMode = 0750;
constexpr mode_t kFileMode = 0640;

SendResult failed(std::string detail) { return {SendStatus::kTemporaryFailure, std::move(detail)}; }
SendResult refused(std::string detail) { return {SendStatus::kPermanentFailure, std::move(detail)}; }

// A batch id or reference becomes a file name on the server: letters, digits, '-' and '_' only
// (UUIDs in practice), so that no name can climb out of the batch directory.
bool is_name_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}
bool is_plain_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), is_name_char);
}

std::string strip_padding(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return std::string(text);
}

// Ends a stalled transfer. libssh's blocking calls wait on the socket without a bound of their
// own once the session is up, so a thread watches the deadline and, when it passes, shuts the
// socket down: the pending call then fails at once. kick() moves the deadline on after each
// operation that made progress.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  ~Watchdog() { stop(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void watch(int fd) {
    {
      std::lock_guard lock(mutex_);
      fd_ = fd;
      deadline_ = std::chrono::steady_clock::now() + timeout_;
    }
    thread_ = std::thread([this] { run(); });
  }
  void kick() {
    std::lock_guard lock(mutex_);
    deadline_ = std::chrono::steady_clock::now() + timeout_;
  }
  bool fired() {
    std::lock_guard lock(mutex_);
    return fired_;
  }
  // Ends the watch; the socket may be closed afterwards.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (!fired_ && std::chrono::steady_clock::now() >= deadline_) {
        ::shutdown(fd_, SHUT_RDWR);
        fired_ = true;
      }
      if (fired_) {
        cv_.wait(lock, [this] { return stop_; });
      } else {
        cv_.wait_until(lock, deadline_);
      }
    }
  }

  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::chrono::steady_clock::time_point deadline_;
  int fd_ = -1;
  bool stop_ = false;
  bool fired_ = false;
  std::thread thread_;
};

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyDeleter>;

// One SSH session with its SFTP channel, closed when destroyed.
class Connection {
 public:
  explicit Connection(const SftpSupplierOptions& options) : options_(options), watchdog_(options.timeout) {}
  ~Connection() {
    if (sftp_ != nullptr) {
      watchdog_.kick();
      sftp_free(sftp_);
    }
    watchdog_.stop();  // before libssh closes the socket, whose number may then be reused
    if (session_ != nullptr) {
      ssh_disconnect(session_);
      ssh_free(session_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, checks the host key against the pinned fingerprint, logs in, starts SFTP.
  Result<void> open();

  Result<void> mkdir(const std::string& path) {
    watchdog_.kick();
    if (sftp_mkdir(sftp_, path.c_str(), kDirectoryMode) != 0) return sftp_error("mkdir");
    return ok();
  }
  Result<void> upload(const std::string& path, std::string_view bytes);
  Result<void> rename(const std::string& from, const std::string& to) {
    watchdog_.kick();
    if (sftp_rename(sftp_, from.c_str(), to.c_str()) != 0) return sftp_error("rename");
    return ok();
  }
  // The names in `path`; nullopt when there is no such directory.
  Result<std::optional<std::vector<std::string>>> list(const std::string& path);
  // The whole file, refused when longer than `max_bytes`.
  Result<std::string> download(const std::string& path, std::size_t max_bytes);
  bool exists(const std::string& path) {
    watchdog_.kick();
    sftp_attributes attributes = sftp_lstat(sftp_, path.c_str());
    if (attributes == nullptr) return false;
    sftp_attributes_free(attributes);
    return true;
  }
  // Best effort: removes the files and then the directory; errors are ignored.
  void remove_directory(const std::string& path, const std::vector<std::string>& files) {
    if (sftp_ == nullptr || watchdog_.fired()) return;
    for (const auto& file : files) {
      watchdog_.kick();
      sftp_unlink(sftp_, (path + "/" + file).c_str());
    }
    watchdog_.kick();
    sftp_rmdir(sftp_, path.c_str());
  }

 private:
  Result<void> check_host_key();
  Result<void> log_in();
  Error ssh_error(std::string_view stage) {
    std::string text = session_ != nullptr ? ssh_get_error(session_) : "no session";
    if (watchdog_.fired()) text = "timed out after " + std::to_string(options_.timeout.count()) + " ms";
    return unavailable(std::string(stage) + ": " + text);
  }
  Error sftp_error(std::string_view stage) {
    Error error = ssh_error(stage);
    if (sftp_ != nullptr && !watchdog_.fired()) error.message += " (SFTP status " + std::to_string(sftp_get_error(sftp_)) + ")";
    return error;
  }

  const SftpSupplierOptions& options_;
  Watchdog watchdog_;
  ssh_session session_ = nullptr;
  sftp_session sftp_ = nullptr;
};

Result<void> Connection::open() {
  session_ = ssh_new();
  if (session_ == nullptr) return unavailable("ssh: cannot make a session");
  const bool process_config = false;  // never ~/.ssh/config or /etc/ssh/ssh_config
  const unsigned int port = options_.port;
  const long seconds = static_cast<long>(options_.timeout.count() / 1000);
  const long micros = static_cast<long>((options_.timeout.count() % 1000) * 1000);
  if (ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &process_config) != SSH_OK ||
      ssh_options_set(session_, SSH_OPTIONS_HOST, options_.host.c_str()) != SSH_OK ||
      ssh_options_set(session_, SSH_OPTIONS_PORT, &port) != SSH_OK ||
      ssh_options_set(session_, SSH_OPTIONS_USER, options_.username.c_str()) != SSH_OK ||
      ssh_options_set(session_, SSH_OPTIONS_TIMEOUT, &seconds) != SSH_OK ||
      ssh_options_set(session_, SSH_OPTIONS_TIMEOUT_USEC, &micros) != SSH_OK) {
    return ssh_error("options");
  }
  // ssh_connect bounds the TCP connect and the key exchange by SSH_OPTIONS_TIMEOUT itself.
  if (ssh_connect(session_) != SSH_OK) return ssh_error("connect");
  watchdog_.watch(ssh_get_fd(session_));
  HERALD_TRY(check_host_key());
  HERALD_TRY(log_in());
  watchdog_.kick();
  sftp_ = sftp_new(session_);
  if (sftp_ == nullptr) return ssh_error("sftp channel");
  if (sftp_init(sftp_) != SSH_OK) return sftp_error("sftp init");
  return ok();
}

Result<void> Connection::check_host_key() {
  ssh_key raw_key = nullptr;
  if (ssh_get_server_publickey(session_, &raw_key) != SSH_OK) return ssh_error("host key");
  const KeyPtr key(raw_key);
  unsigned char* hash = nullptr;
  std::size_t hash_length = 0;
  if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_length) != 0) {
    return ssh_error("host key hash");
  }
  const std::string fingerprint =
      "SHA256:" + strip_padding(base64_encode(std::string_view(reinterpret_cast<const char*>(hash), hash_length)));
  ssh_clean_pubkey_hash(&hash);
  // The fingerprint is public: a plain comparison is enough.
  if (fingerprint != strip_padding(options_.host_key_sha256)) {
    return unavailable("host key: the server's key " + fingerprint + " is not the pinned " + options_.host_key_sha256);
  }
  return ok();
}

Result<void> Connection::log_in() {
  auto key_text = crypto::read_private_file(options_.private_key_file, "SFTP private key", kMaxKeyFileBytes);
  if (!key_text) return unavailable("login: " + key_text.error().message);
  ssh_key raw_key = nullptr;
  const int imported = ssh_pki_import_privkey_base64(key_text->c_str(), nullptr, nullptr, nullptr, &raw_key);
  crypto::wipe_string(*key_text);
  if (imported != SSH_OK) return unavailable("login: cannot read private key " + options_.private_key_file);
  const KeyPtr key(raw_key);
  watchdog_.kick();
  const int auth = ssh_userauth_publickey(session_, nullptr, key.get());
  if (auth != SSH_AUTH_SUCCESS) {
    if (auth == SSH_AUTH_ERROR) return ssh_error("login");
    return unavailable("login: the server refused the key for user " + options_.username);
  }
  return ok();
}

Result<void> Connection::upload(const std::string& path, std::string_view bytes) {
  watchdog_.kick();
  sftp_file file = sftp_open(sftp_, path.c_str(), O_WRONLY | O_CREAT | O_EXCL, kFileMode);
  if (file == nullptr) return sftp_error("open");
  while (!bytes.empty()) {
    watchdog_.kick();
    const std::size_t chunk = std::min(bytes.size(), kWriteChunk);
    const ssize_t written = sftp_write(file, bytes.data(), chunk);
    if (written <= 0) {
      Error error = sftp_error("write");
      sftp_close(file);
      return error;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  watchdog_.kick();
  // Where the server offers it, the file reaches its disk before the batch is announced.
  if (sftp_extension_supported(sftp_, "fsync@openssh.com", "1") != 0 && sftp_fsync(file) != 0) {
    Error error = sftp_error("fsync");
    sftp_close(file);
    return error;
  }
  if (sftp_close(file) != SSH_NO_ERROR) return sftp_error("close");
  return ok();
}

Result<std::optional<std::vector<std::string>>> Connection::list(const std::string& path) {
  watchdog_.kick();
  sftp_dir dir = sftp_opendir(sftp_, path.c_str());
  if (dir == nullptr) {
    if (!watchdog_.fired() && sftp_get_error(sftp_) == SSH_FX_NO_SUCH_FILE) return std::optional<std::vector<std::string>>();
    return sftp_error("opendir");
  }
  std::vector<std::string> names;
  for (;;) {
    watchdog_.kick();
    sftp_attributes entry = sftp_readdir(sftp_, dir);
    if (entry == nullptr) break;
    if (entry->name != nullptr && entry->type == SSH_FILEXFER_TYPE_REGULAR) names.emplace_back(entry->name);
    sftp_attributes_free(entry);
  }
  const bool complete = sftp_dir_eof(dir) != 0;
  sftp_closedir(dir);
  if (!complete) return sftp_error("readdir");
  return std::optional(std::move(names));
}

Result<std::string> Connection::download(const std::string& path, std::size_t max_bytes) {
  watchdog_.kick();
  sftp_file file = sftp_open(sftp_, path.c_str(), O_RDONLY, 0);
  if (file == nullptr) return sftp_error("open");
  std::string bytes;
  char buffer[kWriteChunk];
  for (;;) {
    watchdog_.kick();
    const ssize_t got = sftp_read(file, buffer, sizeof buffer);
    if (got < 0) {
      Error error = sftp_error("read");
      sftp_close(file);
      return error;
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
    if (bytes.size() > max_bytes) {
      sftp_close(file);
      return invalid_argument("longer than " + std::to_string(max_bytes) + " bytes");
    }
  }
  sftp_close(file);
  return bytes;
}

std::string manifest_json(std::string_view batch_id, Timestamp created_at, const std::vector<OutgoingLetter>& letters) {
  json::Writer w;
  w.begin_object();
  w.key("batch_id").string(batch_id);
  w.key("created_at").string(format_timestamp(created_at));
  w.key("letters").begin_array();
  for (const auto& letter : letters) {
    w.begin_object();
    w.key("reference").string(letter.reference);
    w.key("file").string(letter.reference + ".pdf");
    w.key("postage").string(letter.postage);
    w.key("pages").integer(letter.page_count);
    w.key("sha256").string(hex_encode(crypto::sha256(letter.pdf)));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

// A report file's name: a plain name ending in ".json" (what the supplier writes last, after
// writing it under another name). Anything else in the directory is not Herald's to read.
bool is_report_file_name(std::string_view name) {
  if (!name.ends_with(".json") || name.size() == 5 || name.size() > 200) return false;
  return name.front() != '.' &&
         std::all_of(name.begin(), name.end(), [](char ch) { return is_name_char(ch) || ch == '.'; });
}

class SftpSupplier final : public LetterProvider {
 public:
  explicit SftpSupplier(SftpSupplierOptions options) : options_(std::move(options)) {
    while (options_.remote_dir.size() > 1 && options_.remote_dir.back() == '/') options_.remote_dir.pop_back();
  }
  std::string_view name() const override { return options_.name; }

  SendResult submit(std::string_view batch_id, const std::vector<OutgoingLetter>& letters) override {
    if (options_.host_key_sha256.empty()) return failed(options_.name + ": no host_key_sha256 pinned: refusing to connect");
    if (!is_sha256_fingerprint(options_.host_key_sha256)) {
      return failed(options_.name + ": host_key_sha256 is not an OpenSSH SHA256 fingerprint");
    }
    if (auto invalid = check_batch(batch_id, letters)) return refused(options_.name + ": " + *invalid);
    const Timestamp created_at = options_.clock != nullptr ? options_.clock->now() : SystemClock().now();

    Connection connection(options_);
    if (auto opened = connection.open(); !opened) return failed(options_.name + ": " + opened.error().message);
    const std::string final_dir = remote_path(std::string(batch_id));
    const std::string staging_dir = final_dir + ".tmp";
    if (connection.exists(final_dir)) return failed(options_.name + ": batch directory already exists");
    if (auto made = connection.mkdir(staging_dir); !made) return failed(options_.name + ": " + made.error().message);

    std::vector<std::string> uploaded;  // for the clean-up after a failure
    auto abandon = [&](const Error& error) {
      connection.remove_directory(staging_dir, uploaded);
      return failed(options_.name + ": " + error.message);
    };
    for (const auto& letter : letters) {
      const std::string file = letter.reference + ".pdf";
      uploaded.push_back(file);  // listed before the upload: a half-written file is removed too
      if (auto sent = connection.upload(staging_dir + "/" + file, letter.pdf); !sent) return abandon(sent.error());
    }
    uploaded.emplace_back("manifest.json");
    if (auto sent = connection.upload(staging_dir + "/manifest.json", manifest_json(batch_id, created_at, letters));
        !sent) {
      return abandon(sent.error());
    }
    if (auto renamed = connection.rename(staging_dir, final_dir); !renamed) return abandon(renamed.error());
    return {SendStatus::kAccepted, options_.name + ": batch of " + std::to_string(letters.size()) + " letters delivered"};
  }

  Result<std::vector<std::string>> check() override {
    std::vector<std::string> lines;
    Connection connection(options_);
    HERALD_TRY(open_pinned(connection));
    lines.push_back("connected to " + options_.host + ":" + std::to_string(options_.port) + ", host key " +
                    options_.host_key_sha256 + " as pinned, logged in as " + options_.username);
    const std::string probe = remote_path(".herald-check-" + crypto::random_uuid().to_string() + ".tmp");
    if (auto made = connection.mkdir(probe); !made) {
      return unavailable(options_.name + ": cannot write in remote_dir " + options_.remote_dir + ": " + made.error().message);
    }
    connection.remove_directory(probe, {});
    lines.push_back("remote_dir " + options_.remote_dir + " is writable");
    auto reports = connection.list(remote_path("reports"));
    if (!reports) return unavailable(options_.name + ": reports: " + reports.error().message);
    lines.push_back(*reports ? "reports/ holds " + std::to_string((*reports)->size()) + " files"
                             : "reports/ does not exist yet (the supplier makes it when it first reports)");
    return lines;
  }

  Result<int> collect_reports(const ApplyReports& apply) override {
    Connection connection(options_);
    HERALD_TRY(open_pinned(connection));
    const std::string dir = remote_path("reports");
    auto names = connection.list(dir);
    if (!names) return unavailable(options_.name + ": " + names.error().message);
    if (!*names) return 0;  // the supplier has not made the directory: no reports yet
    std::vector<std::string> files;
    for (auto& name : **names) {
      if (is_report_file_name(name)) files.push_back(std::move(name));
    }
    std::sort(files.begin(), files.end());  // suppliers name them by time: oldest first
    if (files.size() > kReportFilesPerCollection) files.resize(kReportFilesPerCollection);
    int collected = 0;
    for (const auto& file : files) {
      const std::string path = dir + "/" + file;
      auto text = connection.download(path, kMaxReportFileBytes);
      if (!text && text.error().code != ErrorCode::kInvalidArgument) {
        return unavailable(options_.name + ": " + file + ": " + text.error().message);
      }
      auto reports = text ? parse_report_file(*text) : Result<std::vector<LetterReport>>(text.error());
      if (!reports) {
        // Nothing of a file that breaks the format is applied; it is set aside for people to see.
        log::error("letters.report_file_invalid",
                   {{"supplier", options_.name}, {"file", file}, {"error", reports.error().message}});
        HERALD_TRY(set_aside(connection, path, ".invalid"));
        continue;
      }
      HERALD_TRY(apply(*reports));
      HERALD_TRY(set_aside(connection, path, ".done"));
      ++collected;
    }
    return collected;
  }

 private:
  static constexpr std::size_t kReportFilesPerCollection = 100;
  static constexpr std::size_t kMaxReportFileBytes = 16 * 1024 * 1024;

  // Connects only with a well-formed pinned fingerprint (submit() checks the same first).
  Result<void> open_pinned(Connection& connection) {
    if (options_.host_key_sha256.empty() || !is_sha256_fingerprint(options_.host_key_sha256)) {
      return unavailable(options_.name + ": no valid host_key_sha256 pinned: refusing to connect");
    }
    if (auto opened = connection.open(); !opened) return unavailable(options_.name + ": " + opened.error().message);
    return ok();
  }

  // Renames a report file out of the way (never deletes the supplier's record of it); when the
  // name is taken, under a second, unique one.
  Result<void> set_aside(Connection& connection, const std::string& path, std::string_view suffix) {
    if (connection.rename(path, path + std::string(suffix))) return ok();
    auto renamed = connection.rename(path, path + "." + crypto::random_uuid().to_string() + std::string(suffix));
    if (!renamed) return unavailable(options_.name + ": " + renamed.error().message);
    return ok();
  }

  std::string remote_path(const std::string& name) const {
    if (options_.remote_dir.empty()) return name;
    if (options_.remote_dir == "/") return "/" + name;
    return options_.remote_dir + "/" + name;
  }

  static std::optional<std::string> check_batch(std::string_view batch_id, const std::vector<OutgoingLetter>& letters) {
    if (!is_plain_name(batch_id)) return "batch id is not a plain file name";
    if (letters.empty()) return "empty batch";
    std::set<std::string_view> references;
    for (const auto& letter : letters) {
      if (!is_plain_name(letter.reference)) return "a letter reference is not a plain file name";
      if (letter.reference == "manifest") return "a letter reference is \"manifest\"";
      if (!references.insert(letter.reference).second) return "duplicate letter reference " + letter.reference;
    }
    return std::nullopt;
  }

  SftpSupplierOptions options_;
};

}  // namespace

Result<std::vector<LetterReport>> parse_report_file(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed) return invalid_argument("not JSON: " + parsed.error().message);
  const json::Value* letters = parsed->is_object() ? parsed->find("letters") : nullptr;
  if (letters == nullptr || !letters->is_array()) return invalid_argument("no \"letters\" array");
  std::vector<LetterReport> reports;
  for (const auto& entry : letters->as_array()) {
    const std::string at = "letters[" + std::to_string(reports.size()) + "]";
    const json::Value* reference = entry.is_object() ? entry.find("reference") : nullptr;
    const json::Value* status = entry.is_object() ? entry.find("status") : nullptr;
    if (reference == nullptr || !reference->is_string() || !is_plain_name(reference->as_string())) {
      return invalid_argument(at + ": \"reference\" must be a letter's reference");
    }
    if (status == nullptr || !status->is_string()) return invalid_argument(at + ": \"status\" missing");
    const std::string& said = status->as_string();
    store::NotificationStatus herald_status;
    if (said == "despatched")
      herald_status = store::NotificationStatus::kDelivered;
    else if (said == "returned")
      herald_status = store::NotificationStatus::kReturnedLetter;
    else if (said == "failed")
      herald_status = store::NotificationStatus::kTechnicalFailure;
    else return invalid_argument(at + ": \"status\" must be despatched, returned or failed");
    reports.push_back({reference->as_string(), herald_status});
  }
  return reports;
}

bool is_sha256_fingerprint(std::string_view fingerprint) {
  if (!fingerprint.starts_with("SHA256:")) return false;
  std::string body = strip_padding(fingerprint.substr(7));
  if (body.size() != 43) return false;  // 32 bytes: 43 base64 characters unpadded
  auto bytes = base64_decode(body + "=");
  return bytes && bytes->size() == 32;
}

std::unique_ptr<LetterProvider> make_sftp_supplier(SftpSupplierOptions options) {
  return std::make_unique<SftpSupplier>(std::move(options));
}

std::string libssh_version() { return ssh_version(0); }

}  // namespace herald::delivery::letters
