#pragma once
// Which peer addresses outbound HTTPS (service callbacks, providers) may connect to. The SSRF
// guard: a URL a service gave us must not reach Herald's own host, its private network or the
// cloud metadata service. Checked on the addresses a connection actually goes to, after
// resolution, so a hostname that resolves (or re-resolves) to such an address is refused too.

#include <sys/socket.h>

#include <string>

namespace herald::net {

enum class AddressPolicy {
  kPublicOnly,  // refuse loopback, private, link-local, shared, reserved, multicast, documentation
  kAny,         // an operator setting (tests, closed networks)
};

// Whether `address` (AF_INET or AF_INET6) is a globally routable unicast address. IPv4-mapped,
// NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address inside them.
bool is_public_address(const sockaddr* address);
// The numeric form of an address, for messages, logs and Request::remote_address; an
// IPv4-mapped IPv6 address is written as the IPv4 address it carries.
std::string address_text(const sockaddr* address);

}  // namespace herald::net
