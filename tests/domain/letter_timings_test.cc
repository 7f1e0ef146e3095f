#include "domain/letters/letter_timings.h"

#include <gtest/gtest.h>

namespace herald::domain {
namespace {

Timestamp at(const char* text) { return *parse_timestamp(text); }
std::string estimate(const char* sent, const char* postage) {
  return format_timestamp(estimated_letter_delivery(at(sent), postage));
}

TEST(LetterTimings, PrintedNextWorkingDayThenDaysInTransit) {
  // Monday 10:00: processed 16:30, printed Tuesday; second class 1 + 4 working days later.
  EXPECT_EQ(estimate("2026-11-23T10:00:00.000000Z", "second"), "2026-12-01T16:00:00.000000Z");
  EXPECT_EQ(estimate("2026-11-23T10:00:00.000000Z", "first"), "2026-11-25T16:00:00.000000Z");
  EXPECT_EQ(estimate("2026-11-23T10:00:00.000000Z", "economy"), "2026-12-03T16:00:00.000000Z");
  EXPECT_EQ(estimate("2026-11-23T10:00:00.000000Z", "europe"), "2026-12-02T16:00:00.000000Z");
  EXPECT_EQ(estimate("2026-11-23T10:00:00.000000Z", "rest-of-world"), "2026-12-04T16:00:00.000000Z");
}

TEST(LetterTimings, WeekendsAreNotWorkingDaysButFirstClassArrivesOnSaturdays) {
  // Friday evening: processed on Saturday, printed Monday.
  EXPECT_EQ(estimate("2026-11-27T18:00:00.000000Z", "first"), "2026-12-01T16:00:00.000000Z");
  // Printed Friday: first class arrives Saturday, second class not before the next week.
  EXPECT_EQ(estimate("2026-11-26T10:00:00.000000Z", "first"), "2026-11-28T16:00:00.000000Z");
  EXPECT_EQ(estimate("2026-11-26T10:00:00.000000Z", "second"), "2026-12-04T16:00:00.000000Z");
}

TEST(LetterTimings, BankHolidaysAreNoWorkingDays) {
  // Christmas 2026: Friday 25th, and Boxing Day (a Saturday) moved to Monday 28th.
  EXPECT_TRUE(is_bank_holiday(std::chrono::sys_days{std::chrono::year{2026} / 12 / 28}));
  EXPECT_FALSE(is_bank_holiday(std::chrono::sys_days{std::chrono::year{2026} / 12 / 26}));
  // Printed Thursday 24th; second class: the 29th, 30th, 31st, then (New Year's Day, the
  // weekend) the 4th and the 5th.
  EXPECT_EQ(estimate("2026-12-23T10:00:00.000000Z", "second"), "2027-01-05T16:00:00.000000Z");
  // First class skips Christmas Day but not Saturday the 26th.
  EXPECT_EQ(estimate("2026-12-23T10:00:00.000000Z", "first"), "2026-12-26T16:00:00.000000Z");
  // Processed on Christmas Eve evening: nothing is printed until Tuesday 29th.
  EXPECT_EQ(estimate("2026-12-24T10:00:00.000000Z", "first"), "2026-12-30T16:00:00.000000Z");
  EXPECT_GE(bank_holidays_known_until(), std::chrono::sys_days{std::chrono::year{2027} / 12 / 28});
}

TEST(LetterTimings, UkTimeInSummer) {
  // 16:00 BST is 15:00 UTC.
  EXPECT_EQ(estimate("2026-06-01T10:00:00.000000Z", "second"), "2026-06-09T15:00:00.000000Z");
  // 23:30 UTC on Monday is already Tuesday in the UK.
  EXPECT_EQ(estimate("2026-06-01T23:30:00.000000Z", "first"), "2026-06-04T15:00:00.000000Z");
  EXPECT_EQ(letter_date(at("2026-06-01T23:30:00.000000Z")), "2 June 2026");
  EXPECT_EQ(letter_date(at("2026-11-23T10:00:00.000000Z")), "23 November 2026");
  EXPECT_FALSE(is_british_summer_time(at("2026-03-29T00:59:59.000000Z")));
  EXPECT_TRUE(is_british_summer_time(at("2026-03-29T01:00:00.000000Z")));
  EXPECT_TRUE(is_british_summer_time(at("2026-10-25T00:59:59.000000Z")));
  EXPECT_FALSE(is_british_summer_time(at("2026-10-25T01:00:00.000000Z")));
}

TEST(LetterTimings, AcrossTheEndOfSummerTime) {
  // BST ends at 01:00 UTC on Sunday 25 October 2026. A letter dated in its last UK hour, and
  // in the hour that UK clocks then repeat, is dated the 25th; the hour before midnight UK time
  // is still the 24th.
  EXPECT_EQ(letter_date(at("2026-10-24T22:59:59.999999Z")), "24 October 2026");
  EXPECT_EQ(letter_date(at("2026-10-24T23:00:00.000000Z")), "25 October 2026");
  EXPECT_EQ(letter_date(at("2026-10-25T00:30:00.000000Z")), "25 October 2026");  // 01:30 BST
  EXPECT_EQ(letter_date(at("2026-10-25T01:30:00.000000Z")), "25 October 2026");  // 01:30 GMT
  EXPECT_EQ(letter_date(at("2026-10-25T23:59:59.999999Z")), "25 October 2026");
  // Thursday 22nd, 11:00 BST: printed Friday 23rd. First class arrives Saturday 24th, 16:00
  // BST (15:00 UTC); second class Friday 30th, 16:00 GMT (16:00 UTC), after the change.
  EXPECT_EQ(estimate("2026-10-22T10:00:00.000000Z", "first"), "2026-10-24T15:00:00.000000Z");
  EXPECT_EQ(estimate("2026-10-22T10:00:00.000000Z", "second"), "2026-10-30T16:00:00.000000Z");
  // Saturday 24th, 21:00 BST: processed at 02:30 on Sunday (GMT by then), printed Monday 26th.
  EXPECT_EQ(estimate("2026-10-24T20:00:00.000000Z", "first"), "2026-10-27T16:00:00.000000Z");
}

TEST(LetterTimings, LeapDay) {
  EXPECT_EQ(letter_date(at("2028-02-29T23:59:59.999999Z")), "29 February 2028");
  // Tuesday 29 February 2028, 10:00: printed Wednesday 1 March, first class Thursday 2nd.
  EXPECT_EQ(estimate("2028-02-29T10:00:00.000000Z", "first"), "2028-03-02T16:00:00.000000Z");
  // Monday 28th, 10:00: printed on the 29th; second class 5 working days on: Tuesday 7 March.
  EXPECT_EQ(estimate("2028-02-28T10:00:00.000000Z", "second"), "2028-03-07T16:00:00.000000Z");
}

}  // namespace
}  // namespace herald::domain
