#include "core/cidr.h"

#include <gtest/gtest.h>

namespace herald::cidr {
namespace {

std::string canonical(std::string_view text) {
  auto address = parse_address(text);
  return address ? to_string(*address) : "<invalid>";
}

TEST(Addresses, ParseAndPrintCanonically) {
  EXPECT_EQ(canonical("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(canonical("255.255.255.255"), "255.255.255.255");
  EXPECT_EQ(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");     // the first of equal runs
  EXPECT_EQ(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // one zero group stays
  EXPECT_EQ(canonical("::"), "::");
  EXPECT_EQ(canonical("::1"), "::1");
  EXPECT_EQ(canonical("fe80::"), "fe80::");
  EXPECT_EQ(canonical("1:2:3:4:5:6:7::"), "1:2:3:4:5:6:7:0");
  // A dual-stack listener's IPv4 peer is that IPv4 address.
  EXPECT_EQ(canonical("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical("::FFFF:c000:0201"), "192.0.2.1");
  EXPECT_EQ(parse_address("::ffff:192.0.2.1"), parse_address("192.0.2.1"));
}

TEST(Addresses, RefuseWhatIsNotExactlyOneAddress) {
  for (const char* bad : {"",
                          "1",
                          "10.1",
                          "1.2.3",
                          "1.2.3.4.5",
                          "256.1.1.1",
                          "01.2.3.4",
                          "1.2.3.4 ",
                          " 1.2.3.4",
                          "1.2.3.-4",
                          "1..2.3",
                          "a.b.c.d",
                          ":",
                          ":::",
                          "1:::2",
                          "1::2::3",
                          "12345::",
                          "g::1",
                          "1:2:3:4:5:6:7:8:9",
                          "1:2:3:4:5:6:7",
                          "fe80::1%eth0",
                          "::1.2.3",
                          "1.2.3.4::",
                          ":1::",
                          "1:2:3:4:5:6:7:8::",
                          "::1:2:3:4:5:6:7:8",
                          "192.0.2.1/24"}) {
    EXPECT_FALSE(parse_address(bad)) << bad;
  }
}

TEST(Networks, MatchTheirAddressesOnly) {
  auto v4 = parse_network("192.0.2.0/24");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_TRUE(v4->contains(*parse_address("192.0.2.0")));
  EXPECT_TRUE(v4->contains(*parse_address("192.0.2.255")));
  EXPECT_TRUE(v4->contains(*parse_address("::ffff:192.0.2.7")));
  EXPECT_FALSE(v4->contains(*parse_address("192.0.3.0")));
  EXPECT_FALSE(v4->contains(*parse_address("::c000:0207")));  // IPv4-compatible is IPv6, not IPv4
  auto v6 = parse_network("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_address("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*parse_address("2001:db9::1")));
  EXPECT_FALSE(v6->contains(*parse_address("192.0.2.1")));
  auto odd = parse_network("10.0.0.0/9");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*parse_address("10.127.255.255")));
  EXPECT_FALSE(odd->contains(*parse_address("10.128.0.0")));
  auto everything = parse_network("0.0.0.0/0");
  ASSERT_TRUE(everything);
  EXPECT_TRUE(everything->contains(*parse_address("203.0.113.9")));
  EXPECT_FALSE(everything->contains(*parse_address("::1")));  // all of IPv4, none of IPv6
  auto host = parse_network("2001:db8::1");
  ASSERT_TRUE(host);
  EXPECT_EQ(to_string(*host), "2001:db8::1/128");
  EXPECT_TRUE(host->contains(*parse_address("2001:DB8::1")));
  EXPECT_FALSE(host->contains(*parse_address("2001:db8::2")));
}

TEST(Networks, RefuseHostBitsAndBadLengthsSayingWhy) {
  auto host_bits = parse_network("192.0.2.1/24");
  ASSERT_FALSE(host_bits);
  EXPECT_NE(host_bits.error().message.find("did you mean 192.0.2.0/24"), std::string::npos)
      << host_bits.error().message;
  for (const char* bad : {"192.0.2.0/33", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/024", "2001:db8::/129",
                          "2001:db8::/x", "/24", "nonsense/8", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(parse_network(bad)) << bad;
  }
  EXPECT_EQ(to_string(*parse_network("2001:DB8:0::/48")), "2001:db8::/48");
  EXPECT_EQ(to_string(*parse_network("::ffff:10.0.0.0/8")), "10.0.0.0/8");
}

TEST(NetworkSets, AnyMemberMatchesAndTheFirstBadEntryIsNamed) {
  auto set = NetworkSet::parse({"192.0.2.0/24", "2001:db8::/32"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("192.0.2.9"));
  EXPECT_TRUE(set->contains("2001:db8::9"));
  EXPECT_FALSE(set->contains("198.51.100.1"));
  EXPECT_FALSE(set->contains("not an address"));
  EXPECT_EQ(set->texts(), (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
  auto bad = NetworkSet::parse({"192.0.2.0/24", "10.0.0.1/8"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("10.0.0.1/8"), std::string::npos);
  EXPECT_FALSE(NetworkSet().contains("192.0.2.9"));
}

TEST(HomeNetworks, AreTheSlash24OrSlash48) {
  EXPECT_EQ(to_string(home_network(*parse_address("203.0.113.77"))), "203.0.113.0/24");
  EXPECT_EQ(to_string(home_network(*parse_address("2001:db8:1:2:3::9"))), "2001:db8:1::/48");
  EXPECT_EQ(home_network(*parse_address("::ffff:203.0.113.1")), home_network(*parse_address("203.0.113.200")));
}

}  // namespace
}  // namespace herald::cidr
