#pragma once
// Herald's own HTTP request and response values. Handlers in api/ take and return these, so
// they never see Beast types and can be tested without a socket.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoding is the handler's business
  std::string query;   // after '?', may be empty
  std::string host;    // Host header, as sent (used to build absolute URLs)
  Headers headers;
  std::string body;
  std::string remote_address;

  // First header with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// Delivers the response for one request. May be called from any thread, exactly once.
using Responder = std::function<void(Response)>;
// Handles one request. Must not block: hand blocking work to another thread and call the
// responder from there.
using Handler = std::function<void(Request&&, Responder)>;
// Formats an error the server detects itself (body too large, malformed request) in the
// API's own error format.
using ProtocolErrorFormatter = std::function<Response(int status, std::string_view message)>;

bool iequals(std::string_view a, std::string_view b);

}  // namespace herald::net
