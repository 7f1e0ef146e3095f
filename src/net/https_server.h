#pragma once
// HttpsServer: asynchronous HTTP/1.1 over TLS (1.2 minimum, 1.3 preferred, AEAD ciphers with
// forward secrecy only). Keep-alive, a request size limit, a deadline for each request to
// arrive (slow clients are cut off), and graceful shutdown: stop() closes the listener and idle
// connections, lets in-flight requests finish and answer, and gives up after a grace period.
// The certificate and key can be replaced while it runs (reload_tls).
// Under abuse: connection caps (per node, per source address); when the process runs out of
// file descriptors the accept loop backs off, logs once per interval, sheds the oldest idle
// connection and uses a reserved descriptor to turn the waiting connection away.
//
// Runs its own threads. Thread-safe. Beast and Asio stay inside https_server.cc.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/http.h"

namespace herald::net {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;  // 0 picks a free port (tests)
  std::string certificate_file;
  std::string private_key_file;
  std::size_t threads = 2;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds request_timeout{30};  // for a whole request to arrive, from its first byte
  // For the first byte of the next request: after the handshake, and between keep-alive requests.
  std::chrono::seconds idle_timeout{30};
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds shutdown_grace{20};
  // Connections held at once, in all and from one source address; beyond them a new connection
  // is closed at once (after the oldest idle one is shed, when the node is full).
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_source = 512;
};

class HttpsServer {
 public:
  static Result<std::unique_ptr<HttpsServer>> start(const ServerOptions& options, Handler handler,
                                                    ProtocolErrorFormatter format_error);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  std::uint16_t port() const;
  // New connections get this certificate and key from now on (SIGHUP); connections open keep
  // theirs. On any error (unreadable, not matching) nothing changes.
  Result<void> reload_tls(const std::string& certificate_file, const std::string& private_key_file);
  // Graceful stop; returns when every connection has closed or the grace period has passed.
  void stop();

 private:
  struct Impl;
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::net
