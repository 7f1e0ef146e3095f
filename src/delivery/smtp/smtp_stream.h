#pragma once
// SmtpStream: the byte stream an SmtpProvider talks to its relay through, and SmtpConnector, how
// it gets one. The real stream is a TCP connection upgraded to TLS in place (net::ClientStream);
// tests give a scripted relay instead, so every reply, refusal, drop and timeout can be played
// without a socket or the wall clock. Destroying a stream closes it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/tls_stream.h"

namespace herald::delivery::smtp {

class SmtpStream {
 public:
  virtual ~SmtpStream() = default;
  // One line without its CRLF; kUnavailable on timeout or when the peer closed.
  virtual Result<std::string> read_line() = 0;
  virtual Result<void> write_all(std::string_view data) = 0;
  // Upgrades the connection in place (STARTTLS), verifying the relay's certificate and name.
  virtual Result<void> start_tls(const net::TlsClientOptions& options) = 0;
  virtual bool is_tls() const = 0;
};

// Opens a stream to host:port; kUnavailable when it cannot (refused, unresolvable, no answer
// within `timeout`, which also bounds each later read and write).
using SmtpConnector = std::function<Result<std::unique_ptr<SmtpStream>>(const std::string& host, std::uint16_t port,
                                                                        std::chrono::milliseconds timeout)>;

// The real connector: plain TCP, TLS after STARTTLS (net/tls_stream.h).
SmtpConnector tcp_connector();

}  // namespace herald::delivery::smtp
