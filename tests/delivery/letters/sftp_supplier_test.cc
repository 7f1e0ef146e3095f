// The SFTP print supplier against a real OpenSSH sshd (internal-sftp) that the test starts on
// 127.0.0.1 with its own host key, client key and configuration, as the current user. If sshd
// cannot start, the tests fail with its log: nothing is skipped.
#include "delivery/letters/sftp_supplier.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "core/hex.h"
#include "core/json.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"

extern char** environ;

namespace herald::delivery::letters {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Runs a shell command; returns its standard output, or nullopt when it fails.
std::optional<std::string> run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[512];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return out;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool port_open(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return open;
}

std::string current_user() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry != nullptr ? entry->pw_name : "";
}

// The keys every server and client of this suite uses, made once with ssh-keygen.
struct Keys {
  fs::path dir;
  std::string host_key;       // private key file
  std::string client_key;     // authorised on every server
  std::string stranger_key;   // not authorised anywhere
  std::string rsa_client_key;  // authorised too: an RSA key in PEM form
  std::string host_fingerprint;  // "SHA256:..."
  std::string error;          // set when making them failed
};

Keys make_keys() {
  Keys keys;
  keys.dir = fs::temp_directory_path() / ("herald-sftp-" + crypto::random_uuid().to_string());
  fs::create_directories(keys.dir);
  fs::permissions(keys.dir, fs::perms::owner_all, fs::perm_options::replace);
  keys.host_key = (keys.dir / "host_key").string();
  keys.client_key = (keys.dir / "client_key").string();
  keys.stranger_key = (keys.dir / "stranger_key").string();
  keys.rsa_client_key = (keys.dir / "rsa_client_key").string();
  for (const auto& key : {keys.host_key, keys.client_key, keys.stranger_key}) {
    if (!run("ssh-keygen -q -t ed25519 -N '' -C herald-test -f '" + key + "' </dev/null")) {
      keys.error = "ssh-keygen failed for " + key;
      return keys;
    }
  }
  if (!run("ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C herald-test -f '" + keys.rsa_client_key + "' </dev/null")) {
    keys.error = "ssh-keygen failed for the RSA key";
    return keys;
  }
  write_file(keys.dir / "authorized_keys", read_file(keys.client_key + ".pub") + read_file(keys.rsa_client_key + ".pub"));
  // "256 SHA256:abc... herald-test (ED25519)"
  const auto listed = run("ssh-keygen -lf '" + keys.host_key + ".pub' -E sha256");
  if (!listed) {
    keys.error = "ssh-keygen -lf failed";
    return keys;
  }
  std::istringstream fields(*listed);
  std::string bits;
  fields >> bits >> keys.host_fingerprint;
  if (!is_sha256_fingerprint(keys.host_fingerprint)) keys.error = "unexpected ssh-keygen -l output: " + *listed;
  return keys;
}

// One sshd -D process; stopped (SIGTERM) when destroyed.
class Sshd {
 public:
  // `sftp_flags`: extra internal-sftp options, e.g. "-P rename,posix-rename".
  Sshd(const Keys& keys, const std::string& name, const std::string& sftp_flags) {
    // sshd refuses to start without its privilege separation directory.
    if (::geteuid() == 0 && !fs::exists("/run/sshd")) {
      std::error_code ignored;
      fs::create_directories("/run/sshd", ignored);
      fs::permissions("/run/sshd", fs::perms(0755), fs::perm_options::replace, ignored);
    }
    log_ = keys.dir / (name + ".log");
    const fs::path config = keys.dir / (name + "_config");
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      write_file(config, "ListenAddress 127.0.0.1\n"
                         "Port " + std::to_string(port_) + "\n"
                         "HostKey " + keys.host_key + "\n"
                         "PidFile " + (keys.dir / (name + ".pid")).string() + "\n"
                         "AuthorizedKeysFile " + (keys.dir / "authorized_keys").string() + "\n"
                         "AllowUsers " + current_user() + "\n"
                         "PubkeyAuthentication yes\n"
                         "PasswordAuthentication no\n"
                         "KbdInteractiveAuthentication no\n"
                         "PermitRootLogin prohibit-password\n"
                         "StrictModes no\n"
                         "UsePAM no\n"
                         "UseDNS no\n"
                         "PrintMotd no\n"
                         "AllowTcpForwarding no\n"
                         "X11Forwarding no\n"
                         "LogLevel VERBOSE\n"
                         "Subsystem sftp internal-sftp " + sftp_flags + "\n");
      start(config);
    }
  }
  ~Sshd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;

  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  std::string log() const { return read_file(log_); }

 private:
  void start(const fs::path& config) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const std::string config_path = config.string();
    std::vector<char*> argv{const_cast<char*>("/usr/sbin/sshd"), const_cast<char*>("-D"), const_cast<char*>("-e"),
                            const_cast<char*>("-f"), const_cast<char*>(config_path.c_str()), nullptr};
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, "/usr/sbin/sshd", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return;
    // Ready when the port answers; a dead sshd (port taken, bad config) means try again.
    for (auto give_up = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < give_up;) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
      if (port_open(port_)) {
        pid_ = pid;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  fs::path log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A TCP relay to a local port that goes silent, without closing anything, once the client has
// sent `limit` bytes: a server that stalls in the middle of a transfer.
class StallingRelay {
 public:
  StallingRelay(std::uint16_t target, std::size_t limit) : target_(target), limit_(limit) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 4);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { relay(); });
  }
  ~StallingRelay() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  StallingRelay(const StallingRelay&) = delete;
  StallingRelay& operator=(const StallingRelay&) = delete;
  std::uint16_t port() const { return port_; }
  bool stalled() const { return stalled_; }

 private:
  void relay() {
    pollfd waiting{listener_, POLLIN, 0};
    while (!stop_ && ::poll(&waiting, 1, 50) == 0) {
    }
    if (stop_) return;
    const int client = ::accept(listener_, nullptr, nullptr);
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(target_);
    if (client < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return;
    std::size_t forwarded = 0;
    char buffer[16 * 1024];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, stalled_ ? 0 : 2, 50) <= 0) {
        if (stalled_) std::this_thread::sleep_for(50ms);
        continue;
      }
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buffer, i == 0 ? std::min(sizeof buffer, limit_ - forwarded) : sizeof buffer);
        if (n <= 0) {
          stop_ = true;
          break;
        }
        if (::write(fds[1 - i].fd, buffer, static_cast<std::size_t>(n)) != n) stop_ = true;
        if (i == 0 && (forwarded += static_cast<std::size_t>(n)) >= limit_) stalled_ = true;
      }
    }
    ::close(client);
    ::close(server);
  }

  std::uint16_t target_;
  std::size_t limit_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stalled_{false};
  std::thread thread_;
};

OutgoingLetter letter(std::string reference, std::string postage, int pages, std::size_t size) {
  OutgoingLetter out;
  out.reference = std::move(reference);
  out.postage = std::move(postage);
  out.page_count = pages;
  out.international = out.postage == "europe" || out.postage == "rest-of-world";
  out.pdf = "%PDF-1.7\n";
  // Every byte value, in a pattern that differs per letter, so any corruption shows.
  for (std::size_t i = 0; out.pdf.size() < size; ++i) {
    out.pdf.push_back(static_cast<char>((i * 7 + out.reference.size() * 13 + size) % 256));
  }
  return out;
}

class SftpSupplierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new Keys(make_keys());
    if (keys_->error.empty()) sshd_ = new Sshd(*keys_, "sshd", "");
  }
  static void TearDownTestSuite() {
    delete sshd_;
    sshd_ = nullptr;
    if (keys_ != nullptr) {
      std::error_code ignored;
      fs::remove_all(keys_->dir, ignored);
    }
    delete keys_;
    keys_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(keys_->error.empty()) << keys_->error;
    ASSERT_TRUE(sshd_->running()) << "sshd did not start; its log:\n" << sshd_->log();
    drop_ = keys_->dir / ("drop-" + crypto::random_uuid().to_string());
    fs::create_directories(drop_);
    options_.host = "127.0.0.1";
    options_.port = sshd_->port();
    options_.username = current_user();
    options_.private_key_file = keys_->client_key;
    options_.host_key_sha256 = keys_->host_fingerprint;
    options_.remote_dir = drop_.string();
    options_.timeout = 5s;
    options_.clock = &clock_;
    batch_id_ = crypto::random_uuid().to_string();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(drop_, ignored);
  }
  // Names in the drop directory, sorted.
  std::vector<std::string> drop_listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(drop_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string context() const { return "sshd log:\n" + sshd_->log(); }

  static Keys* keys_;
  static Sshd* sshd_;
  fs::path drop_;
  SftpSupplierOptions options_;
  fakes::FakeClock clock_;
  std::string batch_id_;
  const std::vector<OutgoingLetter> letters_{
      letter("5c1b0a9e-0d3f-4a57-9a4e-2f6a8f0c1d01", "second", 2, 70'000),
      letter("5c1b0a9e-0d3f-4a57-9a4e-2f6a8f0c1d02", "first", 1, 1'000),
      letter("5c1b0a9e-0d3f-4a57-9a4e-2f6a8f0c1d03", "europe", 3, 33'000)};
};

Keys* SftpSupplierTest::keys_ = nullptr;
Sshd* SftpSupplierTest::sshd_ = nullptr;

TEST_F(SftpSupplierTest, BatchArrivesWholeUnderItsId) {
  auto supplier = make_sftp_supplier(options_);
  EXPECT_EQ(supplier->name(), "sftp-print");
  const SendResult result = supplier->submit(batch_id_, letters_);
  ASSERT_EQ(result.status, SendStatus::kAccepted) << result.detail << "\n" << context();

  EXPECT_EQ(drop_listing(), std::vector<std::string>{batch_id_}) << "renamed, no .tmp left";
  const fs::path batch = drop_ / batch_id_;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(batch)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{letters_[0].reference + ".pdf", letters_[1].reference + ".pdf",
                                             letters_[2].reference + ".pdf", "manifest.json"}));
  for (const auto& sent : letters_) {
    EXPECT_EQ(read_file(batch / (sent.reference + ".pdf")), sent.pdf) << sent.reference;
  }

  auto manifest = json::parse(read_file(batch / "manifest.json"));
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_TRUE(manifest->is_object());
  EXPECT_EQ(manifest->as_object().size(), 3u) << "batch_id, created_at, letters only";
  EXPECT_EQ(manifest->find("batch_id")->as_string(), batch_id_);
  EXPECT_EQ(manifest->find("created_at")->as_string(), format_timestamp(clock_.now()));
  EXPECT_TRUE(manifest->find("created_at")->as_string().ends_with("Z"));
  const auto& listed = manifest->find("letters")->as_array();
  ASSERT_EQ(listed.size(), letters_.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const auto& entry = listed[i];
    EXPECT_EQ(entry.as_object().size(), 5u) << "no address or other personal data";
    EXPECT_EQ(entry.find("reference")->as_string(), letters_[i].reference);
    EXPECT_EQ(entry.find("file")->as_string(), letters_[i].reference + ".pdf");
    EXPECT_EQ(entry.find("postage")->as_string(), letters_[i].postage);
    EXPECT_EQ(entry.find("pages")->as_int64(), letters_[i].page_count);
    EXPECT_EQ(entry.find("sha256")->as_string(), hex_encode(crypto::sha256(letters_[i].pdf)));
    EXPECT_EQ(entry.find("sha256")->as_string(),
              hex_encode(crypto::sha256(read_file(batch / entry.find("file")->as_string()))));
  }
}

TEST_F(SftpSupplierTest, WrongHostKeyIsRefusedBeforeAnythingIsSent) {
  // Another key's fingerprint: a man in the middle, or a server rebuilt without telling us.
  const auto other = run("ssh-keygen -lf '" + keys_->client_key + ".pub' -E sha256 | cut -d' ' -f2");
  ASSERT_TRUE(other);
  options_.host_key_sha256 = other->substr(0, other->find('\n'));
  ASSERT_TRUE(is_sha256_fingerprint(options_.host_key_sha256));
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("host key"), std::string::npos) << result.detail;
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, UnsetOrMalformedFingerprintIsRefused) {
  options_.host_key_sha256.clear();
  SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("host_key_sha256"), std::string::npos) << result.detail;
  options_.host_key_sha256 = "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48";
  result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, MissingRemoteDirectoryFailsWithoutABatch) {
  options_.remote_dir = (drop_ / "no-such-directory").string();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("mkdir"), std::string::npos) << result.detail;
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, UnwritableRemoteDirectoryFailsWithoutABatch) {
  // A regular file where the directory should be: no user, root included, can create in it.
  write_file(drop_ / "not-a-directory", "x");
  options_.remote_dir = (drop_ / "not-a-directory").string();
  SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure) << result.detail;
  EXPECT_EQ(drop_listing(), std::vector<std::string>{"not-a-directory"});
  if (::geteuid() != 0) {  // permission bits bind everyone but root; the case above binds root too
    const fs::path read_only = drop_ / "read-only";
    fs::create_directories(read_only);
    fs::permissions(read_only, fs::perms(0555), fs::perm_options::replace);
    options_.remote_dir = read_only.string();
    result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
    EXPECT_EQ(result.status, SendStatus::kTemporaryFailure) << result.detail;
    EXPECT_TRUE(fs::is_empty(read_only));
    fs::permissions(read_only, fs::perms(0755), fs::perm_options::replace);
  }
}

TEST_F(SftpSupplierTest, FailureAfterUploadRemovesTheStagingDirectory) {
  // A server that refuses renames: every file arrives, then the batch cannot be completed.
  Sshd no_rename(*keys_, "sshd-no-rename", "-P rename,posix-rename");
  ASSERT_TRUE(no_rename.running()) << no_rename.log();
  options_.port = no_rename.port();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("rename"), std::string::npos) << result.detail;
  EXPECT_TRUE(drop_listing().empty()) << "neither " << batch_id_ << " nor its .tmp";
}

TEST_F(SftpSupplierTest, RsaClientKeyInPemForm) {
  options_.private_key_file = keys_->rsa_client_key;
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail << "\n" << context();
  EXPECT_EQ(drop_listing(), std::vector<std::string>{batch_id_});
}

TEST_F(SftpSupplierTest, WrongClientKeyIsATemporaryFailure) {
  options_.private_key_file = keys_->stranger_key;
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("login"), std::string::npos) << result.detail;
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, KeyFileReadableByOthersIsNotUsed) {
  const fs::path copy = keys_->dir / ("open-key-" + batch_id_);
  fs::copy_file(keys_->client_key, copy);
  fs::permissions(copy, fs::perms(0644), fs::perm_options::replace);
  options_.private_key_file = copy.string();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  fs::remove(copy);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, ServerDownFailsQuickly) {
  options_.port = free_port();  // nothing listens there
  const auto start = std::chrono::steady_clock::now();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("connect"), std::string::npos) << result.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(SftpSupplierTest, SilentServerTimesOut) {
  // Accepts TCP connections (the kernel completes the handshake) but never says a word.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  options_.port = ntohs(address.sin_port);
  options_.timeout = 1s;
  const auto start = std::chrono::steady_clock::now();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, letters_);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(listener);
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_LT(took, 5s) << result.detail;
}

TEST_F(SftpSupplierTest, ServerStallingMidTransferTimesOut) {
  StallingRelay relay(sshd_->port(), 256 * 1024);
  options_.port = relay.port();
  options_.timeout = 1s;
  std::vector<OutgoingLetter> big{letter("5c1b0a9e-0d3f-4a57-9a4e-2f6a8f0c1d09", "first", 40, 2'000'000)};
  const auto start = std::chrono::steady_clock::now();
  const SendResult result = make_sftp_supplier(options_)->submit(batch_id_, big);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(relay.stalled());
  EXPECT_EQ(result.status, SendStatus::kTemporaryFailure);
  EXPECT_NE(result.detail.find("timed out"), std::string::npos) << result.detail;
  EXPECT_LT(took, 5s) << result.detail;
  // The .tmp directory may stay behind (the connection is gone); the batch never appears.
  EXPECT_FALSE(fs::exists(drop_ / batch_id_));
}

TEST_F(SftpSupplierTest, NamesThatAreNotPlainFileNamesAreRefusedForGood) {
  auto supplier = make_sftp_supplier(options_);
  EXPECT_EQ(supplier->submit("../escape", letters_).status, SendStatus::kPermanentFailure);
  auto bad = letters_;
  bad[1].reference = "../../etc/x";
  EXPECT_EQ(supplier->submit(batch_id_, bad).status, SendStatus::kPermanentFailure);
  bad[1].reference = bad[0].reference;
  EXPECT_EQ(supplier->submit(batch_id_, bad).status, SendStatus::kPermanentFailure);
  EXPECT_EQ(supplier->submit(batch_id_, {}).status, SendStatus::kPermanentFailure);
  EXPECT_TRUE(drop_listing().empty());
}

TEST_F(SftpSupplierTest, ConcurrentBatchesFromOneProvider) {
  auto supplier = make_sftp_supplier(options_);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(crypto::random_uuid().to_string());
  std::vector<SendResult> results(ids.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = supplier->submit(ids[i], letters_); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result.status, SendStatus::kAccepted) << result.detail;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(drop_listing(), ids);
}

TEST(SftpFingerprint, OpenSshForm) {
  EXPECT_TRUE(is_sha256_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  EXPECT_TRUE(is_sha256_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
  EXPECT_FALSE(is_sha256_fingerprint("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  EXPECT_FALSE(is_sha256_fingerprint("SHA256:47DEQpj8HBSa"));
  EXPECT_FALSE(is_sha256_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu!U"));
  EXPECT_FALSE(is_sha256_fingerprint(""));
}

TEST(LetterReportFile, StatusesMapToHeraldsAndExtraFieldsAreIgnored) {
  auto reports = parse_report_file(
      R"({"letters":[{"reference":"a-1","status":"despatched","at":"2026-11-24T09:00:00Z"},)"
      R"({"reference":"a-2","status":"returned"},{"reference":"a-3","status":"failed","reason":"torn"}],"v":2})");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 3u);
  EXPECT_EQ((*reports)[0].reference, "a-1");
  EXPECT_EQ((*reports)[0].status, store::NotificationStatus::kDelivered);
  EXPECT_EQ((*reports)[1].status, store::NotificationStatus::kReturnedLetter);
  EXPECT_EQ((*reports)[2].status, store::NotificationStatus::kTechnicalFailure);
  EXPECT_TRUE(parse_report_file(R"({"letters":[]})")->empty());
}

TEST(LetterReportFile, AFileThatBreaksTheFormatIsRefusedWhole) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not JSON"},
      {R"([])", "no \"letters\" array"},
      {R"({"letters":{}})", "no \"letters\" array"},
      {R"({"letters":[{"reference":"a-1","status":"despatched"},{"status":"despatched"}]})",
       "letters[1]: \"reference\" must be a letter's reference"},
      {R"({"letters":[{"reference":"../x","status":"despatched"}]})", "letters[0]: \"reference\""},
      {R"({"letters":[{"reference":"a-1"}]})", "letters[0]: \"status\" missing"},
      {R"({"letters":[{"reference":"a-1","status":"Sent"}]})", "must be despatched, returned or failed"},
      {R"({"letters":[7]})", "letters[0]"},
  };
  for (const auto& [text, message] : cases) {
    auto reports = parse_report_file(text);
    ASSERT_FALSE(reports) << text;
    EXPECT_NE(reports.error().message.find(message), std::string::npos) << text << ": " << reports.error().message;
  }
}

TEST_F(SftpSupplierTest, ReportsAreCollectedOnceAndBrokenFilesSetAside) {
  auto supplier = make_sftp_supplier(options_);
  std::vector<std::vector<LetterReport>> seen;
  auto record = [&](const std::vector<LetterReport>& reports) -> Result<void> {
    seen.push_back(reports);
    return ok();
  };
  auto none = supplier->collect_reports(record);
  ASSERT_TRUE(none) << none.error().message << "\n" << context();
  EXPECT_EQ(*none, 0) << "no reports directory yet";

  const fs::path reports = drop_ / "reports";
  fs::create_directories(reports);
  write_file(reports / "2026-11-24-0900.json", R"({"letters":[{"reference":"r-1","status":"despatched"}]})");
  write_file(reports / "2026-11-24-1000.json", R"({"letters":[{"reference":"r-2","status":"returned"}]})");
  write_file(reports / "2026-11-24-0930.json", R"({"letters":[{"reference":"r-3","status":"lost"}]})");
  write_file(reports / "2026-11-24-1100.json.part", "being written");
  write_file(reports / "notes.txt", "not a report");
  auto collected = supplier->collect_reports(record);
  ASSERT_TRUE(collected) << collected.error().message << "\n" << context();
  EXPECT_EQ(*collected, 2);
  ASSERT_EQ(seen.size(), 2u) << "the broken file is not applied at all";
  EXPECT_EQ(seen[0][0].reference, "r-1") << "oldest name first";
  EXPECT_EQ(seen[1][0].status, store::NotificationStatus::kReturnedLetter);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(reports)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"2026-11-24-0900.json.done", "2026-11-24-0930.json.invalid",
                                             "2026-11-24-1000.json.done", "2026-11-24-1100.json.part", "notes.txt"}));

  // Applying fails: the file stays, to be handed over again.
  write_file(reports / "2026-11-24-1200.json", R"({"letters":[{"reference":"r-4","status":"despatched"}]})");
  auto failing = supplier->collect_reports([](const std::vector<LetterReport>&) -> Result<void> {
    return unavailable("store down");
  });
  ASSERT_FALSE(failing);
  EXPECT_TRUE(fs::exists(reports / "2026-11-24-1200.json"));
  seen.clear();
  ASSERT_EQ(*supplier->collect_reports(record), 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0][0].reference, "r-4");

  // The supplier reuses a name already collected: the new file is set aside under another name.
  write_file(reports / "2026-11-24-0900.json", R"({"letters":[{"reference":"r-5","status":"failed"}]})");
  ASSERT_EQ(*supplier->collect_reports(record), 1);
  EXPECT_FALSE(fs::exists(reports / "2026-11-24-0900.json"));
  EXPECT_EQ(*supplier->collect_reports(record), 0) << "nothing twice";
}

TEST_F(SftpSupplierTest, CheckProvesTheDropWritableAndLeavesNothing) {
  auto checked = make_sftp_supplier(options_)->check();
  ASSERT_TRUE(checked) << checked.error().message << "\n" << context();
  ASSERT_EQ(checked->size(), 3u);
  EXPECT_NE((*checked)[0].find("as pinned"), std::string::npos) << (*checked)[0];
  EXPECT_NE((*checked)[1].find("is writable"), std::string::npos) << (*checked)[1];
  EXPECT_NE((*checked)[2].find("does not exist yet"), std::string::npos) << (*checked)[2];
  EXPECT_TRUE(drop_listing().empty()) << "the probe directory is removed";

  options_.remote_dir = (drop_ / "no-such-directory").string();
  auto missing = make_sftp_supplier(options_)->check();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot write in remote_dir"), std::string::npos) << missing.error().message;
}

TEST_F(SftpSupplierTest, ReportsNeedThePinnedHostKeyToo) {
  const auto other = run("ssh-keygen -lf '" + keys_->client_key + ".pub' -E sha256 | cut -d' ' -f2");
  ASSERT_TRUE(other);
  options_.host_key_sha256 = other->substr(0, other->find('\n'));
  auto collected = make_sftp_supplier(options_)->collect_reports([](const auto&) -> Result<void> { return ok(); });
  ASSERT_FALSE(collected);
  EXPECT_NE(collected.error().message.find("is not the pinned"), std::string::npos) << collected.error().message;
}

}  // namespace
}  // namespace herald::delivery::letters
