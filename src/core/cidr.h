#pragma once
// IP addresses and CIDR networks as text: parsed strictly (no zones, no leading-zero octets, no
// shorthand such as "10.1"), printed canonically (IPv4 dotted quad; IPv6 as RFC 5952 writes it),
// and matched. An IPv4-mapped IPv6 address ("::ffff:192.0.2.1", as a dual-stack listener reports
// an IPv4 peer) is the IPv4 address it carries, so "192.0.2.0/24" matches it.
// For per-key network allow-lists, the egress allow-list and the intrusion detectors' notion of
// "a network" (the /24 or /48 an address is in).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::cidr {

struct Address {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
  bool v4 = false;
  bool operator==(const Address&) const = default;
};

// nullopt unless `text` is one IPv4 or IPv6 address.
std::optional<Address> parse_address(std::string_view text);
std::string to_string(const Address& address);

struct Network {
  Address base;  // the host bits zero
  int bits = 0;  // of the address family: 0..32 for IPv4, 0..128 for IPv6
  bool contains(const Address& address) const;
  bool operator==(const Network&) const = default;
};

// "192.0.2.0/24", "2001:db8::/32", or one address (a /32 or /128). Host bits set in a network
// ("192.0.2.1/24") are refused: the operator meant something else. kInvalidArgument, saying why.
Result<Network> parse_network(std::string_view text);
std::string to_string(const Network& network);

// Several networks, e.g. an allow-list; empty contains nothing.
class NetworkSet {
 public:
  NetworkSet() = default;
  // Each entry as parse_network takes it; the first bad entry's error.
  static Result<NetworkSet> parse(const std::vector<std::string>& entries);
  bool contains(const Address& address) const;
  // False for text that is not an address.
  bool contains(std::string_view address) const;
  bool empty() const { return networks_.empty(); }
  // Canonical texts, in the order given.
  std::vector<std::string> texts() const;

 private:
  std::vector<Network> networks_;
};

// The network an address is counted in by anomaly detectors: its /24 (IPv4) or /48 (IPv6).
Network home_network(const Address& address);

}  // namespace herald::cidr
