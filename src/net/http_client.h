#pragma once
// A small blocking HTTPS/1.1 client for Herald's outbound calls: SMS and letter providers,
// delivery-status and inbound callbacks to services. One request per connection (Connection:
// close), certificate and host name always verified (and, when asked, a pinned public key; a
// client certificate offered for mutual TLS), every read and write under a timeout, responses
// bounded, and the SSRF guard (net/address_policy.h) applied to the addresses actually connected
// to. Thread-safe: no shared state.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/address_policy.h"
#include "net/http.h"
#include "net/tls_stream.h"

namespace herald::net {

struct HttpsUrl {
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 443;
  std::string target = "/";  // path and query
};

// Only https:// URLs without user info; the fragment is dropped. kInvalidArgument otherwise.
Result<HttpsUrl> parse_https_url(std::string_view url);
// Where a URL an operator or service saves (a callback) leads, checked when it is saved: an
// https:// URL whose host resolves, and (under kPublicOnly) only to public addresses. The check
// on every connection still stands (DNS may change). kInvalidArgument saying what is wrong.
Result<HttpsUrl> check_destination(std::string_view url, AddressPolicy policy, const Resolver& resolver = {});

struct HttpClientOptions {
  std::chrono::milliseconds timeout{5000};  // connect, and each read and write
  AddressPolicy policy = AddressPolicy::kPublicOnly;
  std::string ca_file;  // empty: the system trust store
  std::size_t max_response_bytes = 1 << 20;
  Resolver resolver;  // empty: the system's (getaddrinfo)
  // Mutual TLS: a PEM certificate chain and its unencrypted PEM private key to present when the
  // server asks for one (NHS Notify callbacks). Both or neither; empty: none.
  std::string client_certificate_file;
  std::string client_key_file;
  // Public-key pinning on top of normal verification: base64(SHA-256(DER SubjectPublicKeyInfo))
  // of the server's leaf certificate, as curl's --pinnedpubkey sha256//... (the prefix is
  // optional here). Empty: no pin.
  std::string pinned_key_sha256;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
};

// Sends one request. Any HTTP status is a success here. Errors, and what a caller may rely on:
//   kInvalidArgument   bad URL, header or options; a client certificate or key file that cannot
//                      be read, or a key that does not match its certificate (the message names
//                      the file). No request byte is sent (the files are read once the
//                      connection is open, before the TLS handshake).
//   kPermissionDenied  the address policy refused every address of the host (nothing sent); or,
//                      message starting "pinned key mismatch", the server's certificate verified
//                      but its key is not the pinned one (no request byte written).
//   kUnavailable       resolution, connection, TLS, timeout, malformed or oversized response:
//                      transient. Except a message starting "certificate": the server's
//                      certificate failed verification (untrusted, expired, wrong host name);
//                      no request byte was written, and retrying meets the same certificate, so
//                      a caller may treat it as permanent.
Result<HttpResponse> https_request(std::string_view method, std::string_view url, const Headers& headers,
                                   std::string_view body, const HttpClientOptions& options);

}  // namespace herald::net
