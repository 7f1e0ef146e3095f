// The outbound HTTPS client against Herald's own HTTPS server on 127.0.0.1, and the SSRF guard.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "crypto/self_signed.h"
#include "net/http_client.h"
#include "net/https_server.h"
#include "net/tls_stream.h"

namespace herald::net {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-http-client-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    ASSERT_TRUE(crypto::write_self_signed_certificate(cert_, (dir_ / "key.pem").string(), 1));
    ServerOptions options;
    options.port = 0;
    options.certificate_file = cert_;
    options.private_key_file = (dir_ / "key.pem").string();
    options.request_timeout = std::chrono::seconds(1);  // a request's socket backstop: 1 s + 2 s
    auto server = HttpsServer::start(
        options,
        [this](Request&& request, Responder respond) {
          ++requests_;
          last_ = request;
          if (request.path == "/slow") {  // answered later, from another thread, past the backstop
            later_.emplace_back([respond] {
              std::this_thread::sleep_for(std::chrono::milliseconds(3500));
              respond(Response{200, "text/plain", "late", {}});
            });
          } else if (request.path == "/big") {
            respond(Response{200, "text/plain", std::string(4096, 'x'), {}});
          } else {
            respond(Response{201, "application/json", R"({"echo":")" + request.body + R"("})", {{"X-Test", "yes"}}});
          }
        },
        [](int status, std::string_view message, std::string_view) {
          return Response{status, "text/plain", std::string(message), {}};
        });
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    base_ = "https://127.0.0.1:" + std::to_string(server_->port());
    options_.ca_file = cert_;
    options_.policy = AddressPolicy::kAny;
  }
  void TearDown() override {
    for (auto& thread : later_) thread.join();
    server_->stop();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string cert_;
  std::unique_ptr<HttpsServer> server_;
  std::string base_;
  HttpClientOptions options_;
  std::atomic<int> requests_{0};
  Request last_;
  std::vector<std::thread> later_;
};

TEST_F(HttpClientTest, PostsAndReadsTheResponse) {
  auto response = https_request("POST", base_ + "/callback?x=1", {{"Authorization", "Bearer abc"}}, "hello", options_);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"echo":"hello"})");
  EXPECT_EQ(response->header("x-test"), "yes");
  EXPECT_EQ(last_.path, "/callback");
  EXPECT_EQ(last_.query, "x=1");
  EXPECT_EQ(last_.header("authorization"), "Bearer abc");
}

// The connection's deadlines bound reading and writing, not the handler: an answer that takes
// longer than the request timeout and its backstop still reaches the client.
TEST_F(HttpClientTest, ASlowHandlerStillAnswers) {
  auto response = https_request("GET", base_ + "/slow", {}, "", options_);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "late");
}

TEST_F(HttpClientTest, BoundsTheResponse) {
  options_.max_response_bytes = 1000;
  auto response = https_request("GET", base_ + "/big", {}, "", options_);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST_F(HttpClientTest, VerifiesTheCertificate) {
  options_.ca_file.clear();  // the system store does not trust the test certificate
  auto response = https_request("GET", base_ + "/", {}, "", options_);
  ASSERT_FALSE(response);
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpClientTest, PublicOnlyPolicyRefusesLoopbackAndLocalhostBeforeConnecting) {
  options_.policy = AddressPolicy::kPublicOnly;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto response = https_request("POST", "https://" + host + ":" + std::to_string(server_->port()) + "/", {}, "x",
                                  options_);
    ASSERT_FALSE(response) << host;
    EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied) << host;
  }
  EXPECT_EQ(requests_.load(), 0) << "nothing may reach the server";
  options_.policy = AddressPolicy::kAny;  // the control switched off: the same request gets through
  EXPECT_TRUE(https_request("POST", base_ + "/", {}, "x", options_));
  EXPECT_EQ(requests_.load(), 1);
}

TEST_F(HttpClientTest, AHostnameResolvingToPrivateOrMetadataAddressesIsRefused) {
  // A resolver standing in for DNS: these names resolve to addresses no callback may reach.
  options_.resolver = [](const std::string& host, std::uint16_t port) -> Result<std::vector<sockaddr_storage>> {
    const char* ip = host == "internal.example" ? "10.0.0.1" : host == "metadata.example" ? "169.254.169.254" : "127.0.0.1";
    sockaddr_storage address{};
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &in->sin_addr);
    return std::vector<sockaddr_storage>{address};
  };
  options_.policy = AddressPolicy::kPublicOnly;
  for (const char* host : {"internal.example", "metadata.example", "loopback.example"}) {
    auto response = https_request("POST", std::string("https://") + host + "/hook", {}, "x", options_);
    ASSERT_FALSE(response) << host;
    EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied) << host;
  }
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpClientTest, TheEgressAllowListRefusesEveryAddressOutsideIt) {
  // On top of the SSRF guard, with the guard itself allowing everything (kAny).
  set_egress_allow_list(*cidr::NetworkSet::parse({"192.0.2.0/24", "2001:db8::/32"}));
  auto refused = https_request("POST", base_ + "/", {}, "x", options_);
  set_egress_allow_list(*cidr::NetworkSet::parse({"127.0.0.0/8"}));
  auto allowed = https_request("POST", base_ + "/", {}, "x", options_);
  set_egress_allow_list(cidr::NetworkSet());  // no list: the policy alone
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message.find("outside the egress allow-list (127.0.0.1)"), std::string::npos)
      << refused.error().message;
  ASSERT_TRUE(allowed) << allowed.error().message;
  EXPECT_EQ(requests_.load(), 1) << "only the allowed request reached the server";
  EXPECT_TRUE(https_request("POST", base_ + "/", {}, "x", options_));
}

TEST_F(HttpClientTest, CertificateFailuresAreReportedToTheObserver) {
  std::vector<std::pair<std::string, std::string>> seen;
  set_certificate_failure_observer(
      [&seen](const std::string& host, const std::string& reason) { seen.emplace_back(host, reason); });
  options_.ca_file.clear();  // the system store does not trust the test certificate
  auto untrusted = https_request("GET", base_ + "/", {}, "", options_);
  options_.ca_file = cert_;
  auto trusted = https_request("GET", base_ + "/", {}, "", options_);
  options_.pinned_key_sha256 = "sha256//" + std::string(43, 'A') + "=";  // someone else's key
  auto pinned = https_request("GET", base_ + "/", {}, "", options_);
  set_certificate_failure_observer(nullptr);
  EXPECT_FALSE(untrusted);
  EXPECT_TRUE(trusted);
  EXPECT_FALSE(pinned);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, "127.0.0.1");
  EXPECT_NE(seen[0].second.find("certificate verification failed"), std::string::npos) << seen[0].second;
  EXPECT_EQ(seen[1].first, "127.0.0.1");
}

TEST_F(HttpClientTest, RefusesHeaderInjectionAndBadUrls) {
  EXPECT_EQ(https_request("GET", base_ + "/", {{"X", "a\r\nEvil: 1"}}, "", options_).error().code,
            ErrorCode::kInvalidArgument);
  for (const char* url : {"http://example.org/", "https://user:pw@example.org/", "https:///x", "https://a b/",
                          "https://example.org:0/", "https://example.org:99999/", "ftp://x"}) {
    EXPECT_FALSE(parse_https_url(url)) << url;
  }
  auto url = parse_https_url("HTTPS://[::1]:8443?a=b#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/?a=b");
}

bool public_v4(const char* text) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, text, &in.sin_addr), 1) << text;
  return is_public_address(reinterpret_cast<const sockaddr*>(&in));
}

bool public_v6(const char* text) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  EXPECT_EQ(::inet_pton(AF_INET6, text, &in6.sin6_addr), 1) << text;
  return is_public_address(reinterpret_cast<const sockaddr*>(&in6));
}

TEST(AddressPolicy, OnlyGlobalUnicastIsPublic) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1",
                        "198.18.0.1"}) {
    EXPECT_FALSE(public_v4(a)) << a;
  }
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "51.140.1.1"}) {
    EXPECT_TRUE(public_v4(a)) << a;
  }
  for (const char* a : {"::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1",
                        "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:a00:1::", "2001:db8::1", "::127.0.0.1"}) {
    EXPECT_FALSE(public_v6(a)) << a;
  }
  for (const char* a : {"2a00:1450:4009:81f::200e", "::ffff:8.8.8.8", "2002:808:808::"}) {
    EXPECT_TRUE(public_v6(a)) << a;
  }
}

}  // namespace
}  // namespace herald::net
