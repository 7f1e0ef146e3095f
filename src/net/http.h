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

// Builds a response. The server runs it on the connection's own network thread, so the
// formatting of a body is spread over the network threads rather than done by whichever
// thread completed the work (a store's single writer, say).
using ResponseMaker = std::function<Response()>;

// Delivers the response for one request: call it exactly once, from any thread.
class Responder {
 public:
  explicit Responder(std::function<void(ResponseMaker)> deliver) : deliver_(std::move(deliver)) {}
  void operator()(Response response) const {
    deliver_([response = std::move(response)]() mutable { return std::move(response); });
  }
  void later(ResponseMaker make) const { deliver_(std::move(make)); }

 private:
  std::function<void(ResponseMaker)> deliver_;
};

// Handles one request. Called on a network thread and must not block: hand blocking work to
// another thread and respond from there.
using Handler = std::function<void(Request&&, Responder)>;
// Formats an error the server detects itself (body too large, malformed request) in the
// API's own error format; `target` is the request's path and query when its header was read
// (else empty), so that a server with several APIs can answer in the right one's.
using ProtocolErrorFormatter = std::function<Response(int status, std::string_view message, std::string_view target)>;

bool iequals(std::string_view a, std::string_view b);

// Appends `response` to `out` as HTTP/1.`minor_version` bytes, status line to body, ready for one
// write: the security headers every response carries (SC-34: Strict-Transport-Security,
// X-Content-Type-Options, Cache-Control no-store) unless the response sets its own; a header the
// response names twice (case-insensitively) sent once, its last value; Connection as keep_alive
// and the version need; Content-Length, except on 1xx, 204 and 304 answers, which carry no body.
// `head`: the answer to a HEAD request, whose Content-Length is that of the body a GET would get
// but which carries none (RFC 9110 9.3.2: a body there would be read as the next response). A CR,
// LF or NUL in a header name or value (which would split the header) is sent as a space.
void serialize_response(const Response& response, unsigned minor_version, bool keep_alive, bool head, std::string& out);
// The same without the body: status line and headers through the blank line. The body follows
// when status_has_body(response.status) and the request was not HEAD.
void serialize_response_head(const Response& response, unsigned minor_version, bool keep_alive, std::string& out);
bool status_has_body(int status);

}  // namespace herald::net
