#include "domain/lookup_cache.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "domain/admin.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

class LookupCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = Admin(store_).create_service("S", now_)->id;
    template_ = Admin(store_).create_template({service_, "email", "T", "s", "b", "t"}, now_)->id;
  }
  fakes::MemoryStore store_;
  LookupCache cache_{store_, 2s};
  Timestamp now_ = from_micros(1'800'000'000'000'000);
  ServiceId service_;
  TemplateId template_;
};

TEST_F(LookupCacheTest, ServiceReadOncePerTtl) {
  const int before = store_.service_reads;
  ASSERT_TRUE(*cache_.service(service_, now_));
  ASSERT_TRUE(*cache_.service(service_, now_ + 1s));
  EXPECT_EQ(store_.service_reads, before + 1);
  ASSERT_TRUE(*cache_.service(service_, now_ + 3s));
  EXPECT_EQ(store_.service_reads, before + 2) << "a change from another process is seen after the ttl";
}

TEST_F(LookupCacheTest, LatestExpiresButVersionsAreKept) {
  ASSERT_TRUE(*cache_.template_version(service_, template_, std::nullopt, now_));
  ASSERT_TRUE(*cache_.template_version(service_, template_, 1, now_));
  EXPECT_EQ(store_.template_reads, 2);
  ASSERT_TRUE(*cache_.template_version(service_, template_, 1, now_ + 1h));
  EXPECT_EQ(store_.template_reads, 2) << "a version never changes";
  ASSERT_TRUE(*cache_.template_version(service_, template_, std::nullopt, now_ + 3s));
  EXPECT_EQ(store_.template_reads, 3);
}

TEST_F(LookupCacheTest, AbsentAndForeignAreNotCachedOrShared) {
  EXPECT_FALSE(*cache_.template_version(service_, TemplateId{crypto::random_uuid()}, std::nullopt, now_));
  const ServiceId other = Admin(store_).create_service("Other", now_)->id;
  ASSERT_TRUE(*cache_.template_version(service_, template_, std::nullopt, now_));
  EXPECT_FALSE(*cache_.template_version(other, template_, std::nullopt, now_)) << "tenant isolation";
  EXPECT_FALSE(*cache_.service(ServiceId{crypto::random_uuid()}, now_));
}

TEST_F(LookupCacheTest, WithoutBlockingAMissWouldBlockAndAHitAnswers) {
  const int service_reads = store_.service_reads;
  const int template_reads = store_.template_reads;
  auto service = cache_.service(service_, now_, Blocking::kNotAllowed);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().code, ErrorCode::kWouldBlock);
  auto latest = cache_.template_version(service_, template_, std::nullopt, now_, Blocking::kNotAllowed);
  ASSERT_FALSE(latest);
  EXPECT_EQ(latest.error().code, ErrorCode::kWouldBlock);
  EXPECT_EQ(store_.service_reads, service_reads);
  EXPECT_EQ(store_.template_reads, template_reads);
  ASSERT_TRUE(*cache_.service(service_, now_));
  ASSERT_TRUE(*cache_.template_version(service_, template_, std::nullopt, now_));
  EXPECT_TRUE(*cache_.service(service_, now_ + 1s, Blocking::kNotAllowed));
  EXPECT_TRUE(*cache_.template_version(service_, template_, std::nullopt, now_ + 1s, Blocking::kNotAllowed));
  EXPECT_FALSE(cache_.service(service_, now_ + 3s, Blocking::kNotAllowed)) << "expired: needs the store";
}

}  // namespace
}  // namespace herald::domain
