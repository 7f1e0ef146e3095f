#include "core/cidr.h"

#include <charconv>

namespace herald::cidr {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

// "a.b.c.d" into four bytes: decimal octets 0..255 without leading zeros.
bool parse_v4(std::string_view text, std::uint8_t* out) {
  for (int i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    const std::string_view part = i < 3 ? text.substr(0, dot) : text;
    if ((i < 3 && dot == std::string_view::npos) || part.empty() || part.size() > 3) return false;
    if (part.size() > 1 && part[0] == '0') return false;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || value > 255) return false;
    out[i] = static_cast<std::uint8_t>(value);
    if (i < 3) text.remove_prefix(dot + 1);
  }
  return true;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The groups of one side of "::" (either may be empty): up to `max_groups` 16-bit groups, the
// last two of which may be written as an IPv4 address. Appends bytes to `out`.
bool parse_v6_groups(std::string_view text, std::vector<std::uint8_t>& out, bool may_end_in_v4) {
  if (text.empty()) return true;
  std::size_t start = 0;
  while (true) {
    const auto colon = text.find(':', start);
    const std::string_view group = text.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (colon == std::string_view::npos && may_end_in_v4 && group.find('.') != std::string_view::npos) {
      std::uint8_t v4[4];
      if (!parse_v4(group, v4)) return false;
      out.insert(out.end(), v4, v4 + 4);
      return true;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned value = 0;
    for (char c : group) {
      if (!is_hex(c)) return false;
    }
    std::from_chars(group.data(), group.data() + group.size(), value, 16);
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
    if (colon == std::string_view::npos) return true;
    start = colon + 1;
  }
}

bool parse_v6(std::string_view text, std::array<std::uint8_t, 16>& out) {
  std::vector<std::uint8_t> head;
  std::vector<std::uint8_t> tail;
  const auto gap = text.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_v6_groups(text, head, true) || head.size() != 16) return false;
  } else {
    if (text.find("::", gap + 1) != std::string_view::npos) return false;
    const std::string_view before = text.substr(0, gap);
    const std::string_view after = text.substr(gap + 2);
    // A single colon next to "::" (":::", "1:::2") leaves an empty group: refused there.
    if (!parse_v6_groups(before, head, false) || !parse_v6_groups(after, tail, true)) return false;
    if (head.size() + tail.size() > 14) return false;  // "::" stands for at least one group
  }
  out.fill(0);
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(tail.begin(), tail.end(), out.end() - static_cast<std::ptrdiff_t>(tail.size()));
  return true;
}

bool is_mapped(const std::array<std::uint8_t, 16>& bytes) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin());
}

// The prefix length counted in the 128-bit form.
int full_bits(const Network& network) { return network.base.v4 ? network.bits + 96 : network.bits; }

bool prefix_equal(const Address& a, const Address& b, int bits) {
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xFF : 0xFF << (8 - bits));
    if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) return false;
  }
  return true;
}

Address masked(Address address, int full) {
  for (std::size_t i = 0; i < 16; ++i, full -= 8) {
    if (full >= 8) continue;
    address.bytes[i] = static_cast<std::uint8_t>(address.bytes[i] & (full <= 0 ? 0 : 0xFF << (8 - full)));
  }
  return address;
}

}  // namespace

std::optional<Address> parse_address(std::string_view text) {
  Address address;
  if (text.find(':') == std::string_view::npos) {
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), address.bytes.begin());
    if (!parse_v4(text, address.bytes.data() + 12)) return std::nullopt;
    address.v4 = true;
    return address;
  }
  if (!parse_v6(text, address.bytes)) return std::nullopt;
  address.v4 = is_mapped(address.bytes);
  return address;
}

std::string to_string(const Address& address) {
  const auto& b = address.bytes;
  if (address.v4) {
    return std::to_string(b[12]) + "." + std::to_string(b[13]) + "." + std::to_string(b[14]) + "." +
           std::to_string(b[15]);
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) groups[i] = (unsigned{b[2 * i]} << 8) | b[2 * i + 1];
  // RFC 5952: the longest run of two or more zero groups (the first of equals) becomes "::".
  int best = -1;
  int best_length = 1;
  for (int i = 0; i < 8;) {
    if (groups[static_cast<std::size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_length) {
      best = i;
      best_length = j - i;
    }
    i = j;
  }
  std::string out;
  char hex[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_length - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const auto [end, ec] = std::to_chars(hex, hex + sizeof hex, groups[static_cast<std::size_t>(i)], 16);
    out.append(hex, end);
  }
  return out;
}

bool Network::contains(const Address& address) const {
  return address.v4 == base.v4 && prefix_equal(address, base, full_bits(*this));
}

Result<Network> parse_network(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  auto address = parse_address(address_text);
  if (!address) return invalid_argument("'" + std::string(text) + "' is not an IP address or network");
  Network network{*address, address->v4 ? 32 : 128};
  if (slash != std::string_view::npos) {
    const std::string_view length = text.substr(slash + 1);
    int bits = -1;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bits);
    if (length.empty() || ec != std::errc() || end != length.data() + length.size() || bits < 0 ||
        bits > (address->v4 ? 32 : 128) || (length.size() > 1 && length[0] == '0')) {
      return invalid_argument("'" + std::string(text) + "' has no valid prefix length");
    }
    network.bits = bits;
  }
  if (masked(network.base, full_bits(network)) != network.base) {
    return invalid_argument("'" + std::string(text) + "' has host bits set (did you mean " +
                            to_string(Network{masked(network.base, full_bits(network)), network.bits}) + "?)");
  }
  return network;
}

std::string to_string(const Network& network) { return to_string(network.base) + "/" + std::to_string(network.bits); }

Result<NetworkSet> NetworkSet::parse(const std::vector<std::string>& entries) {
  NetworkSet set;
  for (const auto& entry : entries) {
    auto network = parse_network(entry);
    if (!network) return network.error();
    set.networks_.push_back(*network);
  }
  return set;
}

bool NetworkSet::contains(const Address& address) const {
  for (const auto& network : networks_) {
    if (network.contains(address)) return true;
  }
  return false;
}

bool NetworkSet::contains(std::string_view address) const {
  const auto parsed = parse_address(address);
  return parsed && contains(*parsed);
}

std::vector<std::string> NetworkSet::texts() const {
  std::vector<std::string> out;
  out.reserve(networks_.size());
  for (const auto& network : networks_) out.push_back(to_string(network));
  return out;
}

Network home_network(const Address& address) {
  const int bits = address.v4 ? 24 : 48;
  Network network{address, bits};
  network.base = masked(address, full_bits(network));
  return network;
}

}  // namespace herald::cidr
