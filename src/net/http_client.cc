#include "net/http_client.h"

#include <algorithm>
#include <charconv>

#include "net/tls_stream.h"

namespace herald::net {
namespace {

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::size_t> parse_size(std::string_view text, int base) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return unavailable("malformed length");
  return value;
}

// Read errors are all kUnavailable, an over-long line (kInvalidArgument from read_line) included:
// kInvalidArgument from https_request means the request itself was at fault and never sent.
Result<std::string> read_chunked(ClientStream& stream, std::size_t max_bytes) {
  std::string body;
  while (true) {
    auto line = stream.read_line();
    if (!line) return unavailable(line.error().message);
    const auto semicolon = line->find(';');
    auto size = parse_size(std::string_view(*line).substr(0, semicolon), 16);
    if (!size) return size.error();
    if (*size == 0) break;
    if (body.size() + *size > max_bytes) return unavailable("response too large");
    auto chunk = stream.read_bytes(*size);
    if (!chunk) return chunk.error();
    body += *chunk;
    auto end = stream.read_line();
    if (!end) return unavailable(end.error().message);
  }
  while (true) {  // trailers
    auto line = stream.read_line();
    if (!line) return unavailable(line.error().message);
    if (line->empty()) return body;
  }
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Result<HttpsUrl> parse_https_url(std::string_view url) {
  if (url.size() > 2048 || has_control(url) || url.find(' ') != std::string_view::npos) {
    return invalid_argument("not a valid https URL");
  }
  if (lower(url.substr(0, 8)) != "https://") return invalid_argument("the URL must start with https://");
  std::string_view rest = url.substr(8);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  HttpsUrl out;
  if (path_start != std::string_view::npos) {
    out.target = std::string(rest.substr(path_start));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) return invalid_argument("the URL must not contain user info");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid_argument("not a valid https URL");
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid_argument("not a valid https URL");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return invalid_argument("the URL has no host");
  for (char c : out.host) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != ':' && c != '_') {
      return invalid_argument("the URL's host is not valid");
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return invalid_argument("the URL's port is not valid");
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

Result<HttpsUrl> check_destination(std::string_view url, AddressPolicy policy, const Resolver& resolver) {
  auto parsed = parse_https_url(url);
  if (!parsed) return parsed.error();
  if (policy != AddressPolicy::kPublicOnly) return parsed;
  auto addresses = resolver ? resolver(parsed->host, parsed->port) : system_resolve(parsed->host, parsed->port);
  if (!addresses || addresses->empty()) return invalid_argument("cannot resolve " + parsed->host);
  for (const auto& address : *addresses) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&address);
    if (!is_public_address(sa)) {
      return invalid_argument(parsed->host + " resolves to " + address_text(sa) +
                              ", which is not a public address (callbacks.allow_private_addresses allows it)");
    }
  }
  return parsed;
}

Result<HttpResponse> https_request(std::string_view method, std::string_view url, const Headers& headers,
                                   std::string_view body, const HttpClientOptions& options) {
  auto parsed = parse_https_url(url);
  if (!parsed) return parsed.error();
  std::string request = std::string(method) + " " + parsed->target + " HTTP/1.1\r\nHost: ";
  request += parsed->host.find(':') != std::string::npos ? "[" + parsed->host + "]" : parsed->host;
  if (parsed->port != 443) request += ":" + std::to_string(parsed->port);
  request += "\r\nUser-Agent: Herald\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers) {
    if (name.empty() || has_control(name) || has_control(value) || name.find(':') != std::string::npos) {
      return invalid_argument("invalid header");
    }
    request += name + ": " + value + "\r\n";
  }
  request += "\r\n";
  request += body;

  const TlsClientOptions tls{parsed->host, options.ca_file, options.client_certificate_file, options.client_key_file,
                             options.pinned_key_sha256};
  HERALD_TRY(validate_tls_client_options(tls));  // a misconfiguration is reported without touching the network
  auto stream = ClientStream::connect(parsed->host, parsed->port, options.timeout, options.policy, options.resolver);
  if (!stream) return stream.error();
  HERALD_TRY((*stream)->start_tls(tls));
  HERALD_TRY((*stream)->write_all(request));

  HttpResponse response;
  while (true) {  // skip 1xx interim responses
    auto status_line = (*stream)->read_line();
    if (!status_line) return unavailable(status_line.error().message);
    // "HTTP/1.1 200 OK"
    if (status_line->size() < 12 || status_line->rfind("HTTP/1.", 0) != 0 || (*status_line)[8] != ' ') {
      return unavailable("malformed HTTP status line");
    }
    auto status = parse_size(std::string_view(*status_line).substr(9, 3), 10);
    if (!status || *status < 100 || *status > 599) return unavailable("malformed HTTP status");
    response.status = static_cast<int>(*status);
    response.headers.clear();
    std::size_t header_bytes = 0;
    while (true) {
      auto line = (*stream)->read_line(8192);
      if (!line) return unavailable(line.error().message);
      if (line->empty()) break;
      header_bytes += line->size();
      if (header_bytes > 65536 || response.headers.size() > 100) return unavailable("response headers too large");
      const auto colon = line->find(':');
      if (colon == std::string::npos) return unavailable("malformed response header");
      std::string value = line->substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      response.headers.emplace_back(line->substr(0, colon), std::move(value));
    }
    if (response.status >= 200) break;
  }
  if (method == "HEAD" || response.status == 204 || response.status == 304) return response;
  const auto encoding = response.header("Transfer-Encoding");
  if (encoding && lower(*encoding).find("chunked") != std::string::npos) {
    auto chunked = read_chunked(**stream, options.max_response_bytes);
    if (!chunked) return chunked.error();
    response.body = std::move(*chunked);
  } else if (const auto length = response.header("Content-Length")) {
    auto n = parse_size(*length, 10);
    if (!n) return n.error();
    if (*n > options.max_response_bytes) return unavailable("response too large");
    auto bytes = (*stream)->read_bytes(*n);
    if (!bytes) return bytes.error();
    response.body = std::move(*bytes);
  } else {
    auto bytes = (*stream)->read_to_close(options.max_response_bytes);
    if (!bytes) return unavailable(bytes.error().message);
    response.body = std::move(*bytes);
  }
  return response;
}

}  // namespace herald::net
