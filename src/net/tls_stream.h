#pragma once
// ClientStream: a blocking TCP client connection with timeouts, readable by lines, that can be
// upgraded to TLS in place (STARTTLS). Used by the SMTP and HTTPS clients. The peer's certificate and host
// name are always verified on upgrade (against the system trust store, or a given CA file).
// Not thread-safe: one owner.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"
#include "net/address_policy.h"

namespace herald::net {

// The fields after ca_file have default member initializers ({}) so that callers brace-initializing
// only the first two (the SMTP client) stay clear of -Wmissing-field-initializers.
struct TlsClientOptions {
  std::string server_name;  // verified against the certificate
  std::string ca_file;      // empty: the system's trust store
  // Mutual TLS: a PEM certificate chain (leaf first) and its PEM private key, presented when the
  // server asks for a client certificate. Both or neither. The key must not be encrypted.
  std::string client_certificate_file{};
  std::string client_key_file{};
  // Public-key pinning, checked after (never instead of) normal verification: the base64 of the
  // SHA-256 of the server certificate's DER SubjectPublicKeyInfo, as HPKP and curl's
  // --pinnedpubkey use it (a "sha256//" prefix is accepted). Empty: no pin.
  std::string pinned_key_sha256{};
};

// Checks what can be checked without files or the network: the client certificate and key come
// together, and a pin is the base64 of 32 bytes. kInvalidArgument otherwise.
Result<void> validate_tls_client_options(const TlsClientOptions& options);

// Told of every outbound TLS connection refused for the peer's certificate (failed verification
// or a pin that does not match): the host and the reason, on the connecting thread. For the
// intrusion detector; set at start-up (empty: nobody is told).
using CertificateFailureObserver = std::function<void(const std::string& host, const std::string& reason)>;
void set_certificate_failure_observer(CertificateFailureObserver observer);

// The egress allow-list: outbound connections (providers, callbacks, relays, JWKS) may go only
// to addresses in these networks, on top of each connection's AddressPolicy (the SSRF guard);
// empty: no list. Process-wide, set at start-up and on reload.
void set_egress_allow_list(const cidr::NetworkSet& networks);

// Resolves a host name to the addresses to try, in order (sockaddr_in / sockaddr_in6 with the
// port set). The default uses getaddrinfo; tests give their own to exercise address policies.
using Resolver = std::function<Result<std::vector<sockaddr_storage>>(const std::string& host, std::uint16_t port)>;
Result<std::vector<sockaddr_storage>> system_resolve(const std::string& host, std::uint16_t port);

class ClientStream {
 public:
  // kUnavailable when the host cannot be resolved, refuses, or does not answer in time.
  // kPermissionDenied when `policy` refuses every address the host resolves to: the check is
  // made on the very address connected to (no second resolution a rebinding DNS could change).
  static Result<std::unique_ptr<ClientStream>> connect(const std::string& host, std::uint16_t port,
                                                       std::chrono::milliseconds timeout,
                                                       AddressPolicy policy = AddressPolicy::kAny,
                                                       const Resolver& resolver = nullptr);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  // One line without its CRLF; kUnavailable on timeout or close; kInvalidArgument beyond max.
  Result<std::string> read_line(std::size_t max_bytes = 4096);
  // Exactly `n` bytes (after whatever read_line buffered).
  Result<std::string> read_bytes(std::size_t n);
  // Everything until the peer closes; kInvalidArgument beyond max_bytes.
  Result<std::string> read_to_close(std::size_t max_bytes);
  Result<void> write_all(std::string_view data);
  // Handshakes as a client. Errors: kInvalidArgument for bad options or a client certificate or
  // key file that cannot be read or do not match (the message names the file), before any TLS
  // byte is sent; kUnavailable with a message starting "certificate" when the server's
  // certificate fails verification (chain, validity, host name), and starting "TLS handshake
  // failed" for any other handshake failure; kPermissionDenied with a message starting "pinned
  // key mismatch" when the certificate verified but its key is not the pinned one (nothing has
  // been written on the connection, and every later read or write fails).
  Result<void> start_tls(const TlsClientOptions& options);
  bool is_tls() const;

 private:
  struct Impl;
  explicit ClientStream(std::unique_ptr<Impl> impl);
  Result<std::size_t> read_some(char* data, std::size_t size);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::net
