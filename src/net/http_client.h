#pragma once
// A small blocking HTTPS/1.1 client for Herald's outbound calls: SMS and letter providers,
// delivery-status and inbound callbacks to services. One request per connection (Connection:
// close), certificate and host name always verified, every read and write under a timeout,
// responses bounded, and the SSRF guard (net/address_policy.h) applied to the addresses actually
// connected to. Thread-safe: no shared state.

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

struct HttpClientOptions {
  std::chrono::milliseconds timeout{5000};  // connect, and each read and write
  AddressPolicy policy = AddressPolicy::kPublicOnly;
  std::string ca_file;  // empty: the system trust store
  std::size_t max_response_bytes = 1 << 20;
  Resolver resolver;  // empty: the system's (getaddrinfo)
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
};

// Sends one request. Errors: kInvalidArgument (bad URL or header), kPermissionDenied (the
// address policy refused every address of the host), kUnavailable (resolution, connection, TLS,
// timeout, malformed or oversized response). Any HTTP status is a success here.
Result<HttpResponse> https_request(std::string_view method, std::string_view url, const Headers& headers,
                                   std::string_view body, const HttpClientOptions& options);

}  // namespace herald::net
