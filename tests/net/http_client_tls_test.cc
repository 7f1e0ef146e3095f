// The outbound HTTPS client's mutual TLS, public-key pinning and certificate-failure messages,
// against a bare OpenSSL server on 127.0.0.1: Herald's own server never asks for a client
// certificate, and this one records what it received (handshake, client subject, bytes).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "crypto/self_signed.h"
#include "net/http_client.h"

namespace herald::net {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

bool write_key(const std::string& path, EVP_PKEY* key, const char* passphrase = nullptr) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(path.c_str(), "w"));
  if (!file) return false;
  if (passphrase == nullptr) return PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return PEM_write_PrivateKey(file.get(), key, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>(passphrase)) ==
         1;
}

// A self-signed client certificate (ECDSA P-256, extended key usage clientAuth): the server
// trusts it as its own CA.
bool write_client_certificate(const std::string& cert_path, const std::string& key_path, const char* common_name) {
  Pkey key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert) return false;
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* usage = X509V3_EXT_conf_nid(nullptr, &ctx, NID_ext_key_usage, "clientAuth");
  const bool made =
      usage != nullptr && X509_set_version(cert.get(), 2) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Herald tests"), -1,
                                 -1, 0) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_add_ext(cert.get(), usage, -1) == 1 && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  X509_EXTENSION_free(usage);
  if (!made || !write_key(key_path, key.get())) return false;
  std::unique_ptr<FILE, FileClose> file(std::fopen(cert_path.c_str(), "w"));
  return file && PEM_write_X509(file.get(), cert.get()) == 1;
}

// The pin for a PEM certificate, computed here from the EVP_PKEY (i2d_PUBKEY) rather than the
// way the client does it (i2d_X509_PUBKEY), so the two check each other.
std::string pin_of(const std::string& cert_path) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(cert_path.c_str(), "r"));
  if (!file) return "";
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  if (!cert) return "";
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  const bool hashed = length > 0 && EVP_Digest(der, static_cast<std::size_t>(length), digest, &digest_length,
                                               EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!hashed) return "";
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_length));
}

// One connection at a time: handshake, read the request head, answer 200 with the client
// certificate's subject as the body, close. Records each connection once it is over.
class TlsTestServer {
 public:
  struct Seen {
    bool handshake_ok = false;
    std::string client_subject;  // X509_NAME_oneline form; empty: no client certificate
    std::size_t request_bytes = 0;
  };

  // client_ca non-empty: a client certificate it issued is required
  // (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  TlsTestServer(const std::string& cert, const std::string& key, const std::string& client_ca, int max_version = 0) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_NE(ctx_, nullptr);
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM), 1);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (!client_ca.empty()) {
      EXPECT_EQ(SSL_CTX_load_verify_locations(ctx_, client_ca.c_str(), nullptr), 1);
      SSL_CTX_set_client_CA_list(ctx_, SSL_load_client_CA_file(client_ca.c_str()));
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TlsTestServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
    SSL_CTX_free(ctx_);
  }
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/callback"; }

  // The connections so far, once at least n are over (or after 10 s).
  std::vector<Seen> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return seen_.size() >= n; });
    return seen_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      Seen seen = serve(fd);
      ::close(fd);
      std::lock_guard lock(mutex_);
      seen_.push_back(std::move(seen));
      changed_.notify_all();
    }
  }

  Seen serve(int fd) {
    Seen seen;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    seen.handshake_ok = SSL_accept(ssl) == 1;
    if (seen.handshake_ok) {
      if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
        seen.client_subject = subject;
      }
      std::string request;
      char chunk[4096];
      std::size_t n = 0;
      while (request.find("\r\n\r\n") == std::string::npos && SSL_read_ex(ssl, chunk, sizeof chunk, &n) == 1) {
        request.append(chunk, n);
      }
      seen.request_bytes = request.size();
      if (!request.empty()) {
        const std::string body = seen.client_subject.empty() ? "none" : seen.client_subject;
        const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                                     "\r\nConnection: close\r\n\r\n" + body;
        SSL_write_ex(ssl, response.data(), response.size(), &n);
      }
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ERR_clear_error();
    return seen;
  }

  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Seen> seen_;
};

class HttpClientTlsTest : public ::testing::Test {
 protected:
  // A peer that closes first makes a later write raise SIGPIPE; Herald's server ignores it too.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        std::filesystem::temp_directory_path() / ("herald-http-tls-" + std::to_string(::getpid()) + "-" + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_cert_ = path("server-cert.pem");
    server_key_ = path("server-key.pem");
    client_cert_ = path("client-cert.pem");
    client_key_ = path("client-key.pem");
    ASSERT_TRUE(crypto::write_self_signed_certificate(server_cert_, server_key_, 1));
    ASSERT_TRUE(write_client_certificate(client_cert_, client_key_, "herald-test-client"));
    options_.ca_file = server_cert_;
    options_.policy = AddressPolicy::kAny;  // loopback only, in these tests
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  std::string server_cert_;
  std::string server_key_;
  std::string client_cert_;
  std::string client_key_;
  HttpClientOptions options_;
};

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

TEST_F(HttpClientTlsTest, TheRightPinIsAccepted) {
  TlsTestServer server(server_cert_, server_key_, "");
  const std::string pin = pin_of(server_cert_);
  ASSERT_EQ(pin.size(), 44U);
  for (const std::string& form : {pin, "sha256//" + pin}) {
    options_.pinned_key_sha256 = form;
    auto response = https_request("POST", server.url(), {}, "x", options_);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
  }
  const auto seen = server.wait_for(2);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_GT(seen[0].request_bytes, 0U);
}

TEST_F(HttpClientTlsTest, AWrongPinFailsBeforeAnyRequestByteIsWritten) {
  TlsTestServer server(server_cert_, server_key_, "");
  options_.pinned_key_sha256 = base64_encode(std::string(32, '\0'));
  auto response = https_request("POST", server.url(), {{"Authorization", "Bearer secret"}}, "x", options_);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(starts_with(response.error().message, "pinned key mismatch")) << response.error().message;
  EXPECT_NE(response.error().message.find("sha256//" + pin_of(server_cert_)), std::string::npos)
      << "the message shows the key the server has: " << response.error().message;
  const auto seen = server.wait_for(1);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_TRUE(seen[0].handshake_ok) << "the certificate itself verified";
  EXPECT_EQ(seen[0].request_bytes, 0U);
}

TEST_F(HttpClientTlsTest, APinDoesNotReplaceCertificateVerification) {
  TlsTestServer server(server_cert_, server_key_, "");
  options_.ca_file.clear();  // the system store does not trust the test certificate
  options_.pinned_key_sha256 = pin_of(server_cert_);
  auto response = https_request("POST", server.url(), {}, "x", options_);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(starts_with(response.error().message, "certificate")) << response.error().message;
  const auto seen = server.wait_for(1);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].request_bytes, 0U);
}

TEST_F(HttpClientTlsTest, AMalformedPinIsAnInvalidArgument) {
  for (const char* pin :
       {"abc", "sha256//", "not base64 at all!", "0000000000000000000000000000000000000000000000000000000000000000"}) {
    options_.pinned_key_sha256 = pin;
    auto response = https_request("POST", "https://127.0.0.1:9/callback", {}, "x", options_);
    ASSERT_FALSE(response) << pin;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << pin;
  }
}

TEST_F(HttpClientTlsTest, CertificateVerificationFailuresStartWithCertificate) {
  TlsTestServer server(server_cert_, server_key_, "");
  HttpClientOptions untrusted = options_;
  untrusted.ca_file.clear();
  auto response = https_request("GET", server.url(), {}, "", untrusted);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << "kept: callers retry kUnavailable";
  EXPECT_TRUE(starts_with(response.error().message, "certificate")) << response.error().message;

  // Trusted, but not issued to this name (its names: localhost, 127.0.0.1, ::1).
  HttpClientOptions renamed = options_;
  renamed.resolver = [](const std::string&, std::uint16_t port) -> Result<std::vector<sockaddr_storage>> {
    sockaddr_storage address{};
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return std::vector<sockaddr_storage>{address};
  };
  response = https_request("GET", "https://callbacks.example:" + std::to_string(server.port()) + "/", {}, "", renamed);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(starts_with(response.error().message, "certificate")) << response.error().message;

  // A refused connection is not a certificate failure.
  response = https_request("GET", "https://127.0.0.1:1/", {}, "", options_);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(starts_with(response.error().message, "certificate")) << response.error().message;
}

TEST_F(HttpClientTlsTest, AServerRequiringAClientCertificateRefusesAClientWithout) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    TlsTestServer server(server_cert_, server_key_, client_cert_, version);
    auto response = https_request("POST", server.url(), {}, "x", options_);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(starts_with(response.error().message, "certificate"))
        << "the server's certificate was fine: " << response.error().message;
    const auto seen = server.wait_for(1);
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_FALSE(seen[0].handshake_ok);
    EXPECT_EQ(seen[0].request_bytes, 0U);
  }
}

TEST_F(HttpClientTlsTest, TheConfiguredClientCertificateIsPresented) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    TlsTestServer server(server_cert_, server_key_, client_cert_, version);
    options_.client_certificate_file = client_cert_;
    options_.client_key_file = client_key_;
    options_.pinned_key_sha256 = pin_of(server_cert_);  // both features at once
    auto response = https_request("POST", server.url(), {}, "x", options_);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    const auto seen = server.wait_for(1);
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_TRUE(seen[0].handshake_ok);
    EXPECT_NE(seen[0].client_subject.find("CN=herald-test-client"), std::string::npos) << seen[0].client_subject;
    EXPECT_EQ(response->body, seen[0].client_subject);
  }
}

TEST_F(HttpClientTlsTest, UnusableClientCertificateFilesAreInvalidArguments) {
  TlsTestServer server(server_cert_, server_key_, client_cert_);
  // Returns the message, which must name `named`.
  const auto expect_invalid = [&](const std::string& cert, const std::string& key, const std::string& named) {
    SCOPED_TRACE(cert + " + " + key);
    options_.client_certificate_file = cert;
    options_.client_key_file = key;
    auto response = https_request("POST", server.url(), {}, "x", options_);
    if (response) {
      ADD_FAILURE() << "accepted";
      return std::string();
    }
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << response.error().message;
    EXPECT_NE(response.error().message.find(named), std::string::npos) << response.error().message;
    EXPECT_EQ(response.error().message.find("BEGIN"), std::string::npos) << "no key material";
    return response.error().message;
  };
  expect_invalid(path("missing-cert.pem"), client_key_, path("missing-cert.pem"));
  expect_invalid(client_cert_, path("missing-key.pem"), path("missing-key.pem"));
  expect_invalid(client_key_, client_key_, client_key_);  // a key where the certificate goes
  const std::string mismatch = expect_invalid(client_cert_, server_key_, server_key_);  // another P-256 key
  EXPECT_NE(mismatch.find("does not match"), std::string::npos) << mismatch;

  Pkey ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed25519 && write_key(path("ed25519.pem"), ed25519.get()));
  EXPECT_NE(expect_invalid(client_cert_, path("ed25519.pem"), path("ed25519.pem")).find("does not match"),
            std::string::npos);  // another key type

  Pkey encrypted(EVP_EC_gen("P-256"));
  ASSERT_TRUE(encrypted && write_key(path("encrypted.pem"), encrypted.get(), "passphrase"));
  expect_invalid(client_cert_, path("encrypted.pem"), path("encrypted.pem"));  // and no prompt on the terminal

  expect_invalid(client_cert_, "", "both");
  expect_invalid("", client_key_, "both");
  // None of these got as far as a handshake (the last two not even a connection).
  const auto seen = server.wait_for(6);
  EXPECT_EQ(seen.size(), 6U);
  for (const auto& connection : seen) EXPECT_FALSE(connection.handshake_ok);
}

}  // namespace
}  // namespace herald::net
