// PDS FHIR's Patient as NHS Notify's enrichment reads it: the usual, current name; the current
// mobile and email; the home address; death (formal or informal); restriction; exit code;
// language and accessible format; the record's version.
#include "delivery/pds/pds_client.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace herald::delivery::pds {
namespace {

using domain::nhs::DemographicsRecord;

// Shaped like PDS's own sandbox example (9000000009), trimmed.
constexpr const char* kPatient = R"({
  "resourceType": "Patient", "id": "9000000009",
  "meta": {"versionId": "2", "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                           "code": "U", "display": "unrestricted"}]},
  "name": [{"use": "maiden", "given": ["Janet"], "family": "Jones"},
           {"use": "usual", "period": {"start": "2020-01-01"}, "given": ["Jane", "Anne"], "family": "Smith",
            "prefix": ["Mrs"]}],
  "telecom": [{"system": "phone", "value": "01632960587", "use": "home"},
              {"system": "email", "value": "old@example.com", "use": "home",
               "period": {"start": "2019-01-01", "end": "2022-12-31"}},
              {"system": "email", "value": "jane.smith@example.com", "use": "home"},
              {"system": "phone", "value": "07700900123", "use": "mobile"}],
  "address": [{"use": "temp", "line": ["Student Accommodation"], "postalCode": "LS2 9JT"},
              {"use": "home", "line": ["1 Trevelyan Square", "", "Boar Lane", "Leeds"], "postalCode": "LS1 6AE"}],
  "extension": [
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication",
     "extension": [{"url": "language", "valueCodeableConcept": {"coding": [{"code": "fr", "display": "French"}]}},
                   {"url": "interpreterRequired", "valueBoolean": true}]},
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference",
     "extension": [{"url": "PreferredWrittenCommunicationFormat",
                    "valueCodeableConcept": {"coding": [{"code": "12", "display": "Braille"}]}}]}]
})";

TEST(PdsPatient, TheCurrentUsualNameContactsAndHomeAddressAreRead) {
  fakes::FakeClock clock(*parse_timestamp("2026-12-02T10:00:00.000000Z"));
  auto r = record_from_patient(kPatient, clock.now());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, DemographicsRecord::Status::kFound);
  EXPECT_EQ(r->version, "2");
  EXPECT_FALSE(r->restricted);
  EXPECT_EQ(r->deceased, DemographicsRecord::Deceased::kNo);
  EXPECT_EQ(r->given_name, "Jane Anne");
  EXPECT_EQ(r->family_name, "Smith");
  EXPECT_EQ(r->mobile, "07700900123") << "the mobile, not the home phone";
  EXPECT_EQ(r->email, "jane.smith@example.com") << "not the one whose period has ended";
  EXPECT_EQ(r->address_lines, (std::vector<std::string>{"1 Trevelyan Square", "Boar Lane", "Leeds"}));
  EXPECT_EQ(r->postcode, "LS1 6AE");
  EXPECT_EQ(r->language, "fr");
  EXPECT_EQ(r->accessible_format, "braille");
  EXPECT_FALSE(r->exit_code.has_value());
  EXPECT_EQ(r->queried_at, clock.now());
}

TEST(PdsPatient, ASupersededNumberAnsweredWithAnotherNumbersRecordIsInvalidated) {
  fakes::FakeClock clock(*parse_timestamp("2026-12-02T10:00:00.000000Z"));
  auto same = record_from_patient(kPatient, clock.now(), "9000000009");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, DemographicsRecord::Status::kFound);
  // Asked for 9000000017, PDS answered with 9000000009's record: the old number was merged.
  auto merged = record_from_patient(kPatient, clock.now(), "9000000017");
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->status, DemographicsRecord::Status::kInvalidated);
  EXPECT_FALSE(merged->mobile.has_value()) << "nothing of the new number's record is kept";
  EXPECT_FALSE(merged->email.has_value());
  EXPECT_TRUE(merged->given_name.empty());
  EXPECT_TRUE(merged->address_lines.empty());
}

TEST(PdsPatient, DeathRestrictionAndExitCodesAreRead) {
  fakes::FakeClock clock;
  const std::string death = R"({"resourceType": "Patient", "deceasedDateTime": "2010-10-22T00:00:00+00:00",
    "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus",
                   "extension": [{"url": "deathNotificationStatus",
                                  "valueCodeableConcept": {"coding": [{"code": "CODE"}]}}]}]})";
  auto with_code = [&](const std::string& code) {
    std::string text = death;
    text.replace(text.find("CODE"), 4, code);
    return record_from_patient(text, clock.now())->deceased;
  };
  EXPECT_EQ(with_code("2"), DemographicsRecord::Deceased::kFormal);
  EXPECT_EQ(with_code("1"), DemographicsRecord::Deceased::kInformal);
  EXPECT_EQ(with_code("U"), DemographicsRecord::Deceased::kNo) << "a death notice removed";

  auto restricted = record_from_patient(
      R"({"resourceType": "Patient", "meta": {"security": [{"code": "R", "display": "restricted"}]}})", clock.now());
  EXPECT_TRUE(restricted->restricted);
  EXPECT_FALSE(restricted->mobile.has_value());

  auto exited = record_from_patient(R"({"resourceType": "Patient", "extension": [
      {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-PDS-RemovalFromRegistration",
       "extension": [{"url": "removalFromRegistrationCode",
                      "valueCodeableConcept": {"coding": [{"code": "SCT", "display": "Transferred to Scotland"}]}}]}]})",
                                    clock.now());
  EXPECT_EQ(exited->exit_code, "SCT");

  EXPECT_FALSE(record_from_patient(R"({"resourceType": "OperationOutcome"})", clock.now()));
  EXPECT_FALSE(record_from_patient("not json", clock.now()));
}

}  // namespace
}  // namespace herald::delivery::pds
