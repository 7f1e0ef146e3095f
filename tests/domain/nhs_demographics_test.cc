// Demographics records: the CSV an operator imports (every row checked before any is stored),
// the stored JSON form, and the local source that reads them back through the store.
#include "domain/nhs/demographics.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain::nhs {
namespace {

TEST(NhsDemographics, ACsvWithQuotedFieldsAndAnyColumnOrderIsRead) {
  auto rows = parse_demographics_csv(
      "family_name,nhs_number,given_name,address_line_1,address_line_2,postcode,mobile,deceased,nhs_app,"
      "accessible_format,version\r\n"
      "\"O'Brien, Jr\",9990548609,Mary,\"1 \"\"The\"\" Street\",\"Leeds\nWest Yorkshire\",LS1 4AP,07700900123,,"
      "true,large_print,12\r\n"
      "\n"
      "Smith,9434765919,John,,,,,informal,,,\n");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  const DemographicsRecord& mary = (*rows)[0].record;
  EXPECT_EQ((*rows)[0].nhs_number, "9990548609");
  EXPECT_EQ(mary.family_name, "O'Brien, Jr");
  EXPECT_EQ(mary.given_name, "Mary");
  EXPECT_EQ(mary.address_lines, (std::vector<std::string>{"1 \"The\" Street", "Leeds\nWest Yorkshire"}));
  EXPECT_EQ(mary.postcode, "LS1 4AP");
  EXPECT_EQ(mary.mobile, "07700900123");
  EXPECT_FALSE(mary.email.has_value());
  EXPECT_EQ(mary.nhs_app_registered, true);
  EXPECT_EQ(mary.accessible_format, "large_print");
  EXPECT_EQ(mary.version, "12");
  EXPECT_EQ(mary.deceased, DemographicsRecord::Deceased::kNo);
  EXPECT_EQ((*rows)[1].record.deceased, DemographicsRecord::Deceased::kInformal);
  EXPECT_FALSE((*rows)[1].record.nhs_app_registered.has_value());
  EXPECT_TRUE((*rows)[1].record.address_lines.empty());
}

TEST(NhsDemographics, EveryBadRowIsRefusedWithItsLine) {
  struct Case {
    std::string csv;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "line 1: a header row is required"},
      {"given_name\nAda\n", "line 1: the nhs_number column is required"},
      {"nhs_number,shoe_size\n9990548609,9\n", "line 1: unknown column 'shoe_size'"},
      {"nhs_number,nhs_number\n", "line 1: column 'nhs_number' appears twice"},
      {"nhs_number\n9990548600\n", "line 2: nhs_number is not a valid NHS number"},
      {"nhs_number,deceased\n9990548609,maybe\n", "line 2: deceased must be empty, formal or informal"},
      {"nhs_number,restricted\n9990548609,yes\n", "line 2: restricted and invalidated must be true or false"},
      {"nhs_number,accessible_format\n9990548609,smoke signals\n",
       "line 2: accessible_format must be large_print, braille, audio or empty"},
      {"nhs_number,given_name\n9990548609\n", "line 2: expected 2 fields"},
      {"nhs_number,given_name\n9990548609,\"Ada\n", "line 3: unterminated quote"},
      {"nhs_number,given_name\n9990548609,A\"da\n", "line 2: stray quote"},
      {"nhs_number,given_name\n9990548609,\"Ada\"x\n", "line 2: text after a closing quote"},
  };
  for (const Case& c : cases) {
    auto rows = parse_demographics_csv(c.csv);
    ASSERT_FALSE(rows) << c.csv;
    EXPECT_EQ(rows.error().message, c.error) << c.csv;
  }
}

TEST(NhsDemographics, TheLocalSourceReadsImportedRecordsBack) {
  fakes::MemoryStore store;
  fakes::FakeClock clock;
  auto rows = parse_demographics_csv(
      "nhs_number,given_name,email,restricted,exit_code,invalidated\n"
      "9990548609,Ada,ada@example.com,true,SCT,true\n");
  ASSERT_TRUE(rows);
  ASSERT_TRUE(store.put_demographics({{(*rows)[0].nhs_number, to_json((*rows)[0].record), clock.now()}}));
  LocalDemographics local(store);
  auto found = local.lookup("9990548609", clock.now());
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->given_name, "Ada");
  EXPECT_EQ((*found)->email, "ada@example.com");
  EXPECT_TRUE((*found)->restricted);
  EXPECT_EQ((*found)->exit_code, "SCT");
  EXPECT_EQ((*found)->status, DemographicsRecord::Status::kInvalidated);
  EXPECT_EQ((*found)->queried_at, clock.now());
  EXPECT_FALSE(local.lookup("9434765919", clock.now())->has_value());
}

}  // namespace
}  // namespace herald::domain::nhs
