// LetterDispatcher with no print supplier configured: letters wait, accepted ("created", looked
// at again after `wait`), and the state is logged once per process however many lanes look.

#include "delivery/letter_dispatcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/log.h"
#include "crypto/random.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"
#include "tests/fakes/sample_records.h"

namespace herald::delivery {
namespace {

using namespace std::chrono_literals;

// Everything logged while it lives, read back from a temporary file.
class LogCapture {
 public:
  LogCapture() : file_(std::tmpfile()) { log::set_output_fd(::fileno(file_)); }
  ~LogCapture() {
    log::set_output_fd(2);
    std::fclose(file_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  int count(const std::string& event) const {
    std::rewind(file_);
    std::string text;
    char buffer[4096];
    for (std::size_t n = 0; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) text.append(buffer, n);
    int found = 0;
    for (std::size_t at = 0; (at = text.find("\"" + event + "\"", at)) != std::string::npos; ++at) ++found;
    return found;
  }

 private:
  std::FILE* file_;
};

TEST(LetterDispatcher, WithoutASupplierLettersWaitAndTheStateIsLoggedOnce) {
  fakes::FakeClock clock;
  fakes::MemoryStore store;
  const domain::RetryPolicy retry;
  const LetterDispatchOptions options{500, 10min};
  LetterDispatcher first_lane(store, nullptr, options);
  LetterDispatcher second_lane(store, nullptr, options);
  auto letter = fakes::sample_email(ServiceId{crypto::random_uuid()}, clock.now());
  letter.type = store::Channel::kLetter;
  std::vector<store::DeliveryOutcome> outcomes;
  const DispatchContext context{[] { return true; }, [&](store::DeliveryOutcome o) { outcomes.push_back(o); }, clock,
                                retry};
  const LogCapture log;
  for (int look = 0; look < 3; ++look) {
    first_lane.dispatch({&letter}, context);
    second_lane.dispatch({&letter}, context);
    clock.advance(10min);
  }
  EXPECT_EQ(log.count("delivery.letters_waiting"), 1) << "once per process, not per look or per lane";
  ASSERT_EQ(outcomes.size(), 6U);
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.status, store::NotificationStatus::kCreated);
    ASSERT_TRUE(o.next_attempt_at);
    EXPECT_EQ(*o.next_attempt_at - o.updated_at, 10min);
  }
}

}  // namespace
}  // namespace herald::delivery
