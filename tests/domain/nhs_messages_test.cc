// NHS Notify messages as use cases: permissions, plans, and the reference's idempotency,
// including the 425 case (the same reference while the first is still being stored).
#include "domain/nhs/messages.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain::nhs {
namespace {

// The fake store, whose single-message inserts wait until the test lets them go.
class HeldStore final : public store::NhsClientStore {
 public:
  explicit HeldStore(fakes::MemoryStore& inner) : inner_(inner) {}
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }
  void wait_until_waiting() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return waiting_ > 0; });
  }

  Result<bool> insert_nhs_message(const store::NhsMessageRecord& message, Timestamp cutoff) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !held_; });
      --waiting_;
    }
    return inner_.insert_nhs_message(message, cutoff);
  }
  Result<void> create_nhs_client(const store::NhsClientRecord& c) override { return inner_.create_nhs_client(c); }
  Result<void> update_nhs_client(const store::NhsClientRecord& c) override { return inner_.update_nhs_client(c); }
  Result<std::optional<store::NhsClientRecord>> find_nhs_client(Uuid id) override { return inner_.find_nhs_client(id); }
  Result<std::optional<store::NhsClientRecord>> find_nhs_client_by_key(std::string_view hash) override {
    return inner_.find_nhs_client_by_key(hash);
  }
  Result<std::vector<store::NhsClientRecord>> list_nhs_clients() override { return inner_.list_nhs_clients(); }
  Result<bool> remember_assertion_id(Uuid client, std::string_view jti, Timestamp expires, Timestamp now) override {
    return inner_.remember_assertion_id(client, jti, expires, now);
  }
  Result<void> insert_access_token(const store::NhsAccessToken& t) override { return inner_.insert_access_token(t); }
  Result<std::optional<store::NhsAccessToken>> find_access_token(std::string_view hash, Timestamp now) override {
    return inner_.find_access_token(hash, now);
  }
  Result<bool> insert_nhs_batch(const store::NhsBatchRecord& batch,
                                const std::vector<store::NhsMessageRecord>& messages, Timestamp cutoff) override {
    return inner_.insert_nhs_batch(batch, messages, cutoff);
  }
  Result<std::optional<store::NhsMessageRecord>> find_nhs_message(Uuid client, std::string_view id) override {
    return inner_.find_nhs_message(client, id);
  }

 private:
  fakes::MemoryStore& inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  int waiting_ = 0;
};

MessageRequest request(std::string reference) {
  MessageRequest r;
  r.routing_plan_id = *Uuid::parse("00000000-0000-0000-0000-000000000003");
  r.message_reference = std::move(reference);
  r.nhs_number = "9990548609";
  return r;
}

class NhsMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.id = crypto::random_uuid();
    client_.service = ServiceId{crypto::random_uuid()};
    client_.default_ods_code = "A12345";
  }
  fakes::FakeClock clock_;
  fakes::MemoryStore memory_;
  HeldStore store_{memory_};
  RoutingPlans plans_{memory_, memory_, memory_, clock_};
  NhsMessages messages_{store_, plans_, clock_};
  store::NhsClientRecord client_;
};

TEST_F(NhsMessagesTest, TheSameReferenceWhileTheFirstIsBeingStoredIsToldToRetry) {
  store_.hold();
  auto first = std::async(std::launch::async, [&] { return messages_.send(client_, request("ref-1")); });
  store_.wait_until_waiting();
  auto second = messages_.send(client_, request("ref-1"));
  ASSERT_TRUE(second);
  ASSERT_TRUE(std::holds_alternative<MessageRefusal>(*second));
  EXPECT_EQ(std::get<MessageRefusal>(*second), MessageRefusal::kInFlight);
  store_.release();
  auto stored = first.get();
  ASSERT_TRUE(stored);
  EXPECT_TRUE(std::holds_alternative<AcceptedMessage>(*stored));
  // Once stored, a repeat is a duplicate, not "too early".
  auto repeat = messages_.send(client_, request("ref-1"));
  ASSERT_TRUE(repeat);
  EXPECT_EQ(std::get<MessageRefusal>(*repeat), MessageRefusal::kDuplicate);
  // Another reference was never held up by the first.
  EXPECT_TRUE(std::holds_alternative<AcceptedMessage>(*messages_.send(client_, request("ref-2"))));
}

TEST_F(NhsMessagesTest, NhsNumbersNeedTheirModulus11CheckDigit) {
  EXPECT_TRUE(valid_nhs_number("9990548609"));
  EXPECT_TRUE(valid_nhs_number("9434765919"));
  EXPECT_TRUE(valid_nhs_number("9044151320")) << "NHS's schema example";
  EXPECT_FALSE(valid_nhs_number("9990548600"));
  EXPECT_FALSE(valid_nhs_number("999054860"));
  EXPECT_FALSE(valid_nhs_number("99905486090"));
  EXPECT_FALSE(valid_nhs_number("999054860a"));
  // Weighted sum 12: the check value would be 10, which no digit is.
  EXPECT_FALSE(valid_nhs_number("1000000010"));
}

TEST_F(NhsMessagesTest, PermissionsAreTheClients) {
  MessageRequest with_ods = request("r-ods");
  with_ods.ods_code = "X26";
  EXPECT_EQ(std::get<MessageRefusal>(*messages_.send(client_, std::move(with_ods))), MessageRefusal::kCannotSetOdsCode);
  MessageRequest with_contact = request("r-contact");
  with_contact.contact_details_json = R"({"sms":"07700900123"})";
  EXPECT_EQ(std::get<MessageRefusal>(*messages_.send(client_, std::move(with_contact))),
            MessageRefusal::kCannotSetContactDetails);
  client_.default_ods_code.reset();
  EXPECT_EQ(std::get<MessageRefusal>(*messages_.send(client_, request("r-none"))), MessageRefusal::kOdsCodeRequired);
  client_.allow_ods_override = true;
  MessageRequest own = request("r-own");
  own.ods_code = "X26";
  auto accepted = messages_.send(client_, std::move(own));
  ASSERT_TRUE(std::holds_alternative<AcceptedMessage>(*accepted));
  EXPECT_EQ(std::get<AcceptedMessage>(*accepted).record.ods_code, std::optional<std::string>("X26"));
  MessageRequest unknown = request("r-plan");
  unknown.ods_code = "X26";
  unknown.routing_plan_id = crypto::random_uuid();
  EXPECT_EQ(std::get<MessageRefusal>(*messages_.send(client_, std::move(unknown))), MessageRefusal::kNoSuchRoutingPlan);
}

}  // namespace
}  // namespace herald::domain::nhs
