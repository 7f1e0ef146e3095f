#include "net/tls_stream.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/base64.h"
#include "core/cidr.h"

namespace herald::net {

struct ClientStream::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string buffer;  // bytes read past the last line
  bool closed = false;  // the peer ended the stream cleanly (FIN or TLS close_notify)
  bool pin_refused = false;  // the server's key was not the pinned one: no byte may go to it
  ~Impl() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
};

namespace {

Result<int> connect_with_timeout(const sockaddr* address, std::chrono::milliseconds timeout) {
  const socklen_t length = address->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return unavailable("socket() failed");
  if (::connect(fd, address, length) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return unavailable(std::string("connect failed: ") + std::strerror(errno));
  }
  pollfd p{fd, POLLOUT, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  int error = 0;
  socklen_t len = sizeof error;
  if (ready <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    ::close(fd);
    return unavailable(ready == 0 ? "connect timed out"
                                  : std::string("connect failed: ") + std::strerror(error));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// The reason of the first OpenSSL error ("" when there is none), for messages: the root cause
// ("No such file or directory", "no start line"); the later ones only wrap it ("PEM lib").
// Clears the queue so that a stale error cannot be blamed on a later call. Reasons never carry
// key material.
std::string take_openssl_reason() {
  const unsigned long code = ERR_peek_error();
  const char* reason = code == 0                ? nullptr
                       : ERR_SYSTEM_ERROR(code) ? std::strerror(ERR_GET_REASON(code))  // an errno
                                                : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason == nullptr ? std::string() : std::string(reason);
}

std::string with_reason(std::string message, const std::string& reason) {
  return reason.empty() ? message : message + " (" + reason + ")";
}

constexpr std::string_view kPinPrefix = "sha256//";

std::string_view pin_text(std::string_view pin) {
  return pin.substr(0, kPinPrefix.size()) == kPinPrefix ? pin.substr(kPinPrefix.size()) : pin;
}

// Without this OpenSSL would prompt on the terminal for an encrypted key's passphrase.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

Result<void> load_trust(SSL_CTX* ctx, const std::string& ca_file) {
  const bool loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                      : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1;
  ERR_clear_error();
  if (!loaded) return unavailable("cannot load trust store");
  return ok();
}

// The key goes in before the certificate: the other way round, OpenSSL refuses a mismatched key
// inside SSL_CTX_use_PrivateKey_file, indistinguishable from an unreadable one; this way an
// unreadable file and a mismatch each get their own message.
Result<void> load_client_certificate(SSL_CTX* ctx, const TlsClientOptions& options) {
  if (options.client_certificate_file.empty()) return ok();
  SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
  if (SSL_CTX_use_PrivateKey_file(ctx, options.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return invalid_argument(
        with_reason("cannot read client key file " + options.client_key_file, take_openssl_reason()));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, options.client_certificate_file.c_str()) != 1) {
    return invalid_argument(
        with_reason("cannot read client certificate file " + options.client_certificate_file, take_openssl_reason()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return invalid_argument("client key file " + options.client_key_file + " does not match client certificate file " +
                            options.client_certificate_file);
  }
  return ok();
}

Result<void> set_peer_name(SSL* ssl, const std::string& server_name) {
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(server_name.c_str()));  // the macro form uses a C cast
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const bool named = X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str()) == 1 ||
                     X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0) == 1;
  ERR_clear_error();  // set1_ip_asc fails, as expected, for a host name
  if (!named) return internal_error("cannot set TLS peer name");
  return ok();
}

// Guards the process-wide settings below (the observer and the egress list).
std::mutex& certificate_observer_mutex() {
  static std::mutex mutex;
  return mutex;
}
CertificateFailureObserver& certificate_observer() {
  static CertificateFailureObserver observer;
  return observer;
}
std::shared_ptr<const cidr::NetworkSet>& egress_list() {
  static std::shared_ptr<const cidr::NetworkSet> list;
  return list;
}
// The list in force (nullptr: none), read once per connection.
std::shared_ptr<const cidr::NetworkSet> egress_allow_list() {
  std::lock_guard lock(certificate_observer_mutex());
  return egress_list();
}

void report_certificate_failure(const std::string& host, const std::string& reason) {
  CertificateFailureObserver observer;
  {
    std::lock_guard lock(certificate_observer_mutex());
    observer = certificate_observer();
  }
  if (observer) observer(host, reason);
}

// Certificate failures get their own prefix: callers treat them as lasting (a retry meets the
// same certificate), unlike a refused or cut connection.
Error handshake_error(SSL* ssl) {
  const long verify = SSL_get_verify_result(ssl);
  const std::string reason = take_openssl_reason();
  if (verify != X509_V_OK) {
    return unavailable(std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify));
  }
  return unavailable(reason.empty() ? "TLS handshake failed or timed out" : "TLS handshake failed: " + reason);
}

// base64(SHA-256(DER SubjectPublicKeyInfo)) of the server's leaf certificate.
Result<std::string> peer_key_sha256(SSL* ssl) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  unsigned char* der = nullptr;
  const int length = leaf == nullptr ? -1 : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
  if (length <= 0) return internal_error("cannot encode the server's public key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  const bool hashed =
      EVP_Digest(der, static_cast<std::size_t>(length), digest, &digest_length, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!hashed) return internal_error("cannot hash the server's public key");
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_length));
}

// Compared as decoded bytes, so a pin written with non-canonical base64 still matches. The
// message shows the server's actual key hash (public) so an operator can see what changed.
Result<void> check_pin(SSL* ssl, const std::string& pin) {
  if (pin.empty()) return ok();
  auto actual = peer_key_sha256(ssl);
  if (!actual) return actual.error();
  if (base64_decode(pin_text(pin)) != base64_decode(*actual)) {
    return Error{ErrorCode::kPermissionDenied, "pinned key mismatch: the server's key is sha256//" + *actual};
  }
  return ok();
}

}  // namespace

Result<void> validate_tls_client_options(const TlsClientOptions& options) {
  if (options.client_certificate_file.empty() != options.client_key_file.empty()) {
    return invalid_argument("a client certificate file and a client key file go together: set both or neither");
  }
  if (!options.pinned_key_sha256.empty()) {
    const auto digest = base64_decode(pin_text(options.pinned_key_sha256));
    if (!digest || digest->size() != 32) {
      return invalid_argument("the pinned key is not the base64 of a SHA-256 digest");
    }
  }
  return ok();
}

ClientStream::ClientStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientStream::~ClientStream() = default;

Result<std::vector<sockaddr_storage>> system_resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return unavailable("cannot resolve " + host);
  }
  std::vector<sockaddr_storage> out;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage address{};
    std::memcpy(&address, ai->ai_addr, ai->ai_addrlen);
    out.push_back(address);
  }
  ::freeaddrinfo(found);
  return out;
}

Result<std::unique_ptr<ClientStream>> ClientStream::connect(const std::string& host, std::uint16_t port,
                                                            std::chrono::milliseconds timeout,
                                                            AddressPolicy policy, const Resolver& resolver) {
  auto addresses = resolver ? resolver(host, port) : system_resolve(host, port);
  if (!addresses) return addresses.error();
  Result<int> fd = unavailable("no address for " + host);
  std::string refused;
  bool tried = false;
  const auto egress = egress_allow_list();
  std::string outside;
  for (const sockaddr_storage& address : *addresses) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&address);
    if (policy == AddressPolicy::kPublicOnly && !is_public_address(sa)) {
      refused += (refused.empty() ? "" : ", ") + address_text(sa);
      continue;
    }
    if (egress && !egress->contains(address_text(sa))) {
      outside += (outside.empty() ? "" : ", ") + address_text(sa);
      continue;
    }
    tried = true;
    fd = connect_with_timeout(sa, timeout);
    if (fd) break;
  }
  if (!tried && !outside.empty()) {
    return Error{ErrorCode::kPermissionDenied,
                 host + " resolves only to addresses outside the egress allow-list (" + outside + "): refused"};
  }
  if (!tried && !refused.empty()) {
    return Error{ErrorCode::kPermissionDenied,
                 host + " resolves only to addresses that are not public (" + refused + "): refused"};
  }
  if (!fd) return Error{ErrorCode::kUnavailable, host + ":" + std::to_string(port) + ": " + fd.error().message};
  auto impl = std::make_unique<Impl>();
  impl->fd = *fd;
  return std::unique_ptr<ClientStream>(new ClientStream(std::move(impl)));
}

bool ClientStream::is_tls() const { return impl_->ssl != nullptr; }

Result<std::size_t> ClientStream::read_some(char* data, std::size_t size) {
  if (impl_->pin_refused) return Error{ErrorCode::kPermissionDenied, "pinned key mismatch: connection not used"};
  if (impl_->ssl != nullptr) {
    std::size_t n = 0;
    if (SSL_read_ex(impl_->ssl, data, size, &n) != 1) {
      const int reason = SSL_get_error(impl_->ssl, 0);
      // The reason says e.g. that the server refused our client certificate (TLS 1.3 reports
      // that on the first read, after the handshake has completed on our side).
      const std::string why = take_openssl_reason();
      if (reason == SSL_ERROR_ZERO_RETURN) {
        impl_->closed = true;
        return unavailable("connection closed by peer");
      }
      return unavailable(with_reason("TLS read failed or timed out", why));
    }
    return n;
  }
  const ssize_t n = ::recv(impl_->fd, data, size, 0);
  if (n < 0) return unavailable(errno == EAGAIN ? "read timed out" : "read failed");
  if (n == 0) {
    impl_->closed = true;
    return unavailable("connection closed by peer");
  }
  return static_cast<std::size_t>(n);
}

Result<std::string> ClientStream::read_line(std::size_t max_bytes) {
  while (true) {
    const auto eol = impl_->buffer.find('\n');
    if (eol != std::string::npos) {
      std::string line = impl_->buffer.substr(0, eol);
      impl_->buffer.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (impl_->buffer.size() > max_bytes) return invalid_argument("line too long");
    char chunk[4096];
    auto n = read_some(chunk, sizeof chunk);
    if (!n) return n.error();
    impl_->buffer.append(chunk, *n);
  }
}

Result<std::string> ClientStream::read_bytes(std::size_t n) {
  while (impl_->buffer.size() < n) {
    char chunk[16384];
    auto got = read_some(chunk, std::min(sizeof chunk, n - impl_->buffer.size()));
    if (!got) return got.error();
    impl_->buffer.append(chunk, *got);
  }
  std::string out = impl_->buffer.substr(0, n);
  impl_->buffer.erase(0, n);
  return out;
}

Result<std::string> ClientStream::read_to_close(std::size_t max_bytes) {
  std::string out = std::move(impl_->buffer);
  impl_->buffer.clear();
  while (true) {
    if (out.size() > max_bytes) return invalid_argument("response too large");
    char chunk[16384];
    auto got = read_some(chunk, sizeof chunk);
    if (!got) {
      if (impl_->closed) return out;
      return got.error();
    }
    out.append(chunk, *got);
  }
}

Result<void> ClientStream::write_all(std::string_view data) {
  if (impl_->pin_refused) return Error{ErrorCode::kPermissionDenied, "pinned key mismatch: connection not used"};
  while (!data.empty()) {
    std::size_t written = 0;
    if (impl_->ssl != nullptr) {
      if (SSL_write_ex(impl_->ssl, data.data(), data.size(), &written) != 1) {
        return unavailable(with_reason("TLS write failed or timed out", take_openssl_reason()));
      }
    } else {
      const ssize_t n = ::send(impl_->fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return unavailable("write failed or timed out");
      written = static_cast<std::size_t>(n);
    }
    data.remove_prefix(written);
  }
  return ok();
}

Result<void> ClientStream::start_tls(const TlsClientOptions& options) {
  if (impl_->ssl != nullptr) return invalid_argument("already TLS");
  HERALD_TRY(validate_tls_client_options(options));
  impl_->buffer.clear();  // nothing sent before the handshake may be trusted (STARTTLS injection)
  // A context of its own for each connection: nothing (trust store, client certificate, pin)
  // can leak from one request's options into another's.
  impl_->ctx = SSL_CTX_new(TLS_client_method());
  if (impl_->ctx == nullptr) return internal_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(impl_->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(impl_->ctx, SSL_VERIFY_PEER, nullptr);
  HERALD_TRY(load_trust(impl_->ctx, options.ca_file));
  HERALD_TRY(load_client_certificate(impl_->ctx, options));
  impl_->ssl = SSL_new(impl_->ctx);
  if (impl_->ssl == nullptr) return internal_error("SSL_new failed");
  SSL_set_fd(impl_->ssl, impl_->fd);
  HERALD_TRY(set_peer_name(impl_->ssl, options.server_name));
  if (SSL_connect(impl_->ssl) != 1) {
    Error error = handshake_error(impl_->ssl);
    if (SSL_get_verify_result(impl_->ssl) != X509_V_OK) report_certificate_failure(options.server_name, error.message);
    return error;
  }
  auto pinned = check_pin(impl_->ssl, options.pinned_key_sha256);
  impl_->pin_refused = !pinned;
  if (!pinned) report_certificate_failure(options.server_name, pinned.error().message);
  return pinned;
}

void set_egress_allow_list(const cidr::NetworkSet& networks) {
  std::lock_guard lock(certificate_observer_mutex());
  egress_list() = networks.empty() ? nullptr : std::make_shared<const cidr::NetworkSet>(networks);
}

void set_certificate_failure_observer(CertificateFailureObserver observer) {
  std::lock_guard lock(certificate_observer_mutex());
  certificate_observer() = std::move(observer);
}

}  // namespace herald::net
