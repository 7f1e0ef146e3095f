#pragma once
// Demographics: who an NHS number is, for NHS Notify's "enrichment" (spec §7). A message names
// its recipient only by NHS number; before any channel is tried Herald looks the number up once
// and takes from the record the recipient's name and contact details, and whether they may be
// messaged at all (not when deceased, restricted (S-flag), exit-coded, invalidated or unknown).
//
// DemographicsProvider is the seam: LocalDemographics reads the encrypted table an operator
// imports (`herald demographics import`, an air-gapped trust's own master patient index); a
// PDS-FHIR-shaped HTTPS client is the other implementation (net layer). The record's JSON form
// (to_json/from_json) is what the local table stores, sealed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain::nhs {

struct DemographicsRecord {
  enum class Status { kFound, kInvalidated };
  enum class Deceased { kNo, kFormal, kInformal };
  Status status = Status::kFound;
  std::optional<std::string> version;  // the record's version (NHS's metadata[].version)
  Timestamp queried_at;                // when it was looked up (timestamps.enriched)
  bool restricted = false;             // S-flag: never messaged
  Deceased deceased = Deceased::kNo;
  std::optional<std::string> exit_code;  // reason for removal; never shown to clients
  std::string given_name, family_name;
  std::vector<std::string> address_lines;
  std::optional<std::string> postcode;
  std::optional<std::string> email, mobile;
  std::optional<bool> nhs_app_registered;
  std::optional<std::string> accessible_format;  // "large_print", "braille", "audio"
  std::optional<std::string> language;           // BCP 47
  // A trigger number's record (TriggerDemographics): its messages go through the cascade but are
  // never really sent (GOV.UK's test-key simulation decides each channel's outcome).
  bool simulated = false;
};

std::string to_json(const DemographicsRecord& record);
// kInvalidArgument naming what is wrong.
Result<DemographicsRecord> demographics_from_json(std::string_view text);

class DemographicsProvider {
 public:
  virtual ~DemographicsProvider() = default;
  // The record, nullopt when the number is unknown; kUnavailable when the source cannot answer
  // now (the lookup is tried again later), other errors are permanent.
  virtual Result<std::optional<DemographicsRecord>> lookup(std::string_view nhs_number, Timestamp now) = 0;
};

// Records imported into Herald's own store, sealed at rest.
class LocalDemographics final : public DemographicsProvider {
 public:
  explicit LocalDemographics(store::NhsCascadeStore& store) : store_(store) {}
  Result<std::optional<DemographicsRecord>> lookup(std::string_view nhs_number, Timestamp now) override;

 private:
  store::NhsCascadeStore& store_;
};

// Herald's trigger NHS numbers ([nhs] trigger_numbers = true), for integration environments:
// valid numbers (999 000 00xx) whose fixed records drive real messages through each of NHS's
// outcomes without anything being sent (README "Trigger NHS numbers"). Other numbers go to
// `inner` (nullptr: unknown).
class TriggerDemographics final : public DemographicsProvider {
 public:
  explicit TriggerDemographics(DemographicsProvider* inner) : inner_(inner) {}
  Result<std::optional<DemographicsRecord>> lookup(std::string_view nhs_number, Timestamp now) override;
  // The trigger's record, or nullopt when the number is no trigger; `found` false: a trigger for
  // an unknown number.
  static std::optional<DemographicsRecord> trigger(std::string_view nhs_number, bool& found);

 private:
  DemographicsProvider* inner_;
};

// `herald demographics import`: a CSV with a header row naming its columns (any order; unknown
// columns refused): nhs_number (required), given_name, family_name, email, mobile,
// address_line_1..address_line_5, postcode, deceased ("", "formal", "informal"), restricted
// ("true"/"false"), exit_code, invalidated ("true"/"false"), nhs_app ("true"/"false"/""),
// accessible_format, language, version. Every row is checked (NHS number check digit, known
// values) before anything is stored: kInvalidArgument "line N: ..." for the first bad row.
struct ImportedDemographics {
  std::string nhs_number;
  DemographicsRecord record;
};
Result<std::vector<ImportedDemographics>> parse_demographics_csv(std::string_view csv);

}  // namespace herald::domain::nhs
