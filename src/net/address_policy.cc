#include "net/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace herald::net {
namespace {

struct V4Range {
  std::uint32_t base;
  int bits;
};

// IANA's special-purpose IPv4 registry, less what is globally reachable.
constexpr std::array<V4Range, 16> kNotPublicV4 = {{
    {0x00000000, 8},   // 0.0.0.0/8 "this network"
    {0x0A000000, 8},   // 10/8 private
    {0x64400000, 10},  // 100.64/10 shared (carrier-grade NAT)
    {0x7F000000, 8},   // 127/8 loopback
    {0xA9FE0000, 16},  // 169.254/16 link-local (cloud metadata lives here)
    {0xAC100000, 12},  // 172.16/12 private
    {0xC0000000, 24},  // 192.0.0/24 protocol assignments
    {0xC0000200, 24},  // 192.0.2/24 documentation
    {0xC0586300, 24},  // 192.88.99/24 6to4 relay anycast (deprecated)
    {0xC0A80000, 16},  // 192.168/16 private
    {0xC6120000, 15},  // 198.18/15 benchmarking
    {0xC6336400, 24},  // 198.51.100/24 documentation
    {0xCB007100, 24},  // 203.0.113/24 documentation
    {0xE0000000, 4},   // 224/4 multicast
    {0xF0000000, 4},   // 240/4 reserved, and the broadcast address
    {0xFFFFFFFF, 32},
}};

bool is_public_v4(std::uint32_t ip) {
  for (const V4Range& r : kNotPublicV4) {
    const std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
    if ((ip & mask) == r.base) return false;
  }
  return true;
}

std::uint32_t v4_at(const std::uint8_t* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

bool is_public_v6(const std::uint8_t* a) {
  const auto all_zero = [a](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (a[i] != 0) return false;
    }
    return true;
  };
  if (all_zero(0, 15) && (a[15] == 0 || a[15] == 1)) return false;  // :: and ::1
  if (all_zero(0, 10) && a[10] == 0xFF && a[11] == 0xFF) return is_public_v4(v4_at(a + 12));  // ::ffff:a.b.c.d
  if (all_zero(0, 12)) return false;  // deprecated IPv4-compatible ::a.b.c.d
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B && all_zero(4, 12)) {
    return is_public_v4(v4_at(a + 12));  // 64:ff9b::/96 NAT64
  }
  if (a[0] == 0x20 && a[1] == 0x02) return is_public_v4(v4_at(a + 2));  // 2002::/16 6to4
  if ((a[0] & 0xFE) == 0xFC) return false;                               // fc00::/7 unique local
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return false;               // fe80::/10 link-local
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return false;               // fec0::/10 site-local
  if (a[0] == 0xFF) return false;                                        // multicast
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8) return false;  // 2001:db8::/32 docs
  if (a[0] == 0x01 && a[1] == 0x00 && all_zero(2, 8)) return false;      // 100::/64 discard
  return (a[0] & 0xE0) == 0x20;  // only 2000::/3 is global unicast
}

}  // namespace

bool is_public_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return is_public_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return is_public_v6(in6->sin6_addr.s6_addr);
  }
  return false;
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    const std::uint8_t* a = in6->sin6_addr.s6_addr;
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::equal(kMapped, kMapped + 12, a)) {
      // A dual-stack listener's IPv4 peer: named as IPv4, as the same peer on an IPv4 listener is.
      ::inet_ntop(AF_INET, a + 12, text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    }
  }
  return text;
}

}  // namespace herald::net
