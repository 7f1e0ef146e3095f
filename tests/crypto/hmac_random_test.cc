#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/hmac.h"
#include "crypto/random.h"

namespace herald::crypto {
namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}
std::string hex(std::string_view s) { return hex(reinterpret_cast<const unsigned char*>(s.data()), s.size()); }

TEST(HmacSha256Key, MatchesRfc4231TestVectors) {
  // Test case 2 (short key) and test case 6 (a key longer than the block, hashed first).
  const HmacSha256Key jefe("Jefe");
  const auto mac = jefe.mac("what do ya want for nothing?");
  EXPECT_EQ(hex(mac.data(), mac.size()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const HmacSha256Key long_key(std::string(131, '\xaa'));
  const auto mac6 = long_key.mac("Test Using Larger Than Block-Size Key - Hash Key First");
  EXPECT_EQ(hex(mac6.data(), mac6.size()), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Key, AgreesWithTheOneShotFormAcrossThreadsAndMoves) {
  HmacSha256Key key("a GOV.UK key secret is a uuid-like string");
  HmacSha256Key moved(std::move(key));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string message = "message " + std::to_string(t) + "/" + std::to_string(i);
        const auto mac = moved.mac(message);
        if (hex(mac.data(), mac.size()) != hex(hmac_sha256("a GOV.UK key secret is a uuid-like string", message))) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Random, TimeOrderedIdsAreVersion7SortByTimeAndDoNotRepeat) {
  const Timestamp t0 = from_micros(1'800'000'000'000'000);
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 2000; ++i) {
    const Uuid id = time_ordered_uuid(t0 + std::chrono::milliseconds(i));
    const std::string text = id.to_string();
    EXPECT_EQ(text[14], '7') << text;
    EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << text;
    EXPECT_GT(text, previous) << "a later millisecond sorts later";
    EXPECT_TRUE(seen.insert(text).second);
    previous = text;
  }
  // Within one millisecond the 74 random bits still make each id unique.
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(time_ordered_uuid(t0).to_string()).second);
  // The timestamp is the Unix time in milliseconds, big-endian in the first 48 bits.
  EXPECT_EQ(time_ordered_uuid(t0).to_string().substr(0, 13), "01a3185c-5000");  // 1.8e12 ms
}

TEST(Random, PublicRandomnessIsNotRepeatedAcrossThreads) {
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {  // crosses several 4 KiB refills
        unsigned char nonce[12];
        public_random(nonce, sizeof nonce);
        std::lock_guard lock(mutex);
        EXPECT_TRUE(seen.insert(hex(nonce, sizeof nonce)).second);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 4000u);
}

}  // namespace
}  // namespace herald::crypto
