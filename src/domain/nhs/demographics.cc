#include "domain/nhs/demographics.h"

#include <algorithm>
#include <array>

#include "core/csv.h"
#include "core/json.h"
#include "domain/nhs/json_fields.h"
#include "domain/nhs/messages.h"

namespace herald::domain::nhs {
namespace {

const char* deceased_name(DemographicsRecord::Deceased d) {
  switch (d) {
    case DemographicsRecord::Deceased::kNo: return "";
    case DemographicsRecord::Deceased::kFormal: return "formal";
    case DemographicsRecord::Deceased::kInformal: return "informal";
  }
  return "";
}

std::optional<DemographicsRecord::Deceased> parse_deceased(std::string_view s) {
  if (s.empty()) return DemographicsRecord::Deceased::kNo;
  if (s == "formal") return DemographicsRecord::Deceased::kFormal;
  if (s == "informal") return DemographicsRecord::Deceased::kInformal;
  return std::nullopt;
}

std::optional<bool> parse_flag(std::string_view s) {
  if (s == "true") return true;
  if (s == "false" || s.empty()) return false;
  return std::nullopt;
}

bool known_format(std::string_view s) { return s.empty() || s == "large_print" || s == "braille" || s == "audio"; }

constexpr std::array<std::string_view, 19> kColumns = {
    "nhs_number",     "given_name",     "family_name",       "email",    "mobile",   "address_line_1", "address_line_2",
    "address_line_3", "address_line_4", "address_line_5",    "postcode", "deceased", "restricted",     "exit_code",
    "invalidated",    "nhs_app",        "accessible_format", "language", "version"};

}  // namespace

std::string to_json(const DemographicsRecord& r) {
  json::Writer w;
  w.begin_object();
  w.key("status").string(r.status == DemographicsRecord::Status::kInvalidated ? "invalidated" : "found");
  optional_member(w, "version", r.version);
  w.key("restricted").boolean(r.restricted);
  w.key("deceased").string(deceased_name(r.deceased));
  optional_member(w, "exit_code", r.exit_code);
  w.key("given_name").string(r.given_name);
  w.key("family_name").string(r.family_name);
  w.key("address_lines").begin_array();
  for (const std::string& line : r.address_lines) w.string(line);
  w.end_array();
  optional_member(w, "postcode", r.postcode);
  optional_member(w, "email", r.email);
  optional_member(w, "mobile", r.mobile);
  if (r.nhs_app_registered) w.key("nhs_app").boolean(*r.nhs_app_registered);
  optional_member(w, "accessible_format", r.accessible_format);
  optional_member(w, "language", r.language);
  w.end_object();
  return w.take();
}

Result<DemographicsRecord> demographics_from_json(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_object()) return invalid_argument("demographics record is not a JSON object");
  const json::Value& o = *parsed;
  DemographicsRecord r;
  const auto status = string_member(o, "status").value_or("found");
  if (status != "found" && status != "invalidated") return invalid_argument("demographics status is unknown");
  r.status = status == "found" ? DemographicsRecord::Status::kFound : DemographicsRecord::Status::kInvalidated;
  r.version = string_member(o, "version");
  const json::Value* restricted = o.find("restricted");
  r.restricted = restricted != nullptr && restricted->is_bool() && restricted->as_bool();
  auto deceased = parse_deceased(string_member(o, "deceased").value_or(""));
  if (!deceased) return invalid_argument("demographics deceased is unknown");
  r.deceased = *deceased;
  r.exit_code = string_member(o, "exit_code");
  r.given_name = string_member(o, "given_name").value_or("");
  r.family_name = string_member(o, "family_name").value_or("");
  r.address_lines = string_array_member(o, "address_lines");
  r.postcode = string_member(o, "postcode");
  r.email = string_member(o, "email");
  r.mobile = string_member(o, "mobile");
  if (const json::Value* app = o.find("nhs_app"); app != nullptr && app->is_bool())
    r.nhs_app_registered = app->as_bool();
  r.accessible_format = string_member(o, "accessible_format");
  r.language = string_member(o, "language");
  return r;
}

Result<std::optional<DemographicsRecord>> LocalDemographics::lookup(std::string_view nhs_number, Timestamp now) {
  auto row = store_.find_demographics(nhs_number);
  if (!row) return row.error();
  if (!*row) return std::optional<DemographicsRecord>();
  auto record = demographics_from_json((*row)->record_json);
  if (!record) return data_loss("stored demographics record: " + record.error().message);
  record->queried_at = now;
  return std::optional<DemographicsRecord>(std::move(*record));
}

Result<std::vector<ImportedDemographics>> parse_demographics_csv(std::string_view csv) {
  auto rows = csv::parse(csv);
  if (!rows) return rows.error();
  if (rows->empty()) return invalid_argument("line 1: a header row is required");
  const std::vector<std::string>& header = rows->front();
  std::array<int, kColumns.size()> at{};
  at.fill(-1);
  for (std::size_t i = 0; i < header.size(); ++i) {
    auto it = std::find(kColumns.begin(), kColumns.end(), header[i]);
    if (it == kColumns.end()) return invalid_argument("line 1: unknown column '" + header[i] + "'");
    const auto column = static_cast<std::size_t>(it - kColumns.begin());
    if (at[column] != -1) return invalid_argument("line 1: column '" + header[i] + "' appears twice");
    at[column] = static_cast<int>(i);
  }
  if (at[0] == -1) return invalid_argument("line 1: the nhs_number column is required");

  std::vector<ImportedDemographics> out;
  for (std::size_t n = 1; n < rows->size(); ++n) {
    const std::vector<std::string>& row = (*rows)[n];
    const std::string where = "line " + std::to_string(n + 1) + ": ";
    if (row.size() == 1 && row[0].empty()) continue;  // a blank line
    if (row.size() != header.size())
      return invalid_argument(where + "expected " + std::to_string(header.size()) + " fields");
    auto get = [&](std::string_view name) -> std::string {
      const auto column =
          static_cast<std::size_t>(std::find(kColumns.begin(), kColumns.end(), name) - kColumns.begin());
      return at[column] == -1 ? std::string() : row[static_cast<std::size_t>(at[column])];
    };
    auto optional = [&](std::string_view name) -> std::optional<std::string> {
      std::string value = get(name);
      if (value.empty()) return std::nullopt;
      return value;
    };
    ImportedDemographics item;
    item.nhs_number = get("nhs_number");
    if (!valid_nhs_number(item.nhs_number)) return invalid_argument(where + "nhs_number is not a valid NHS number");
    DemographicsRecord& r = item.record;
    r.given_name = get("given_name");
    r.family_name = get("family_name");
    r.email = optional("email");
    r.mobile = optional("mobile");
    for (int i = 1; i <= 5; ++i) {
      if (auto line = optional("address_line_" + std::to_string(i))) r.address_lines.push_back(std::move(*line));
    }
    r.postcode = optional("postcode");
    auto deceased = parse_deceased(get("deceased"));
    if (!deceased) return invalid_argument(where + "deceased must be empty, formal or informal");
    r.deceased = *deceased;
    auto restricted = parse_flag(get("restricted"));
    auto invalidated = parse_flag(get("invalidated"));
    if (!restricted || !invalidated)
      return invalid_argument(where + "restricted and invalidated must be true or false");
    r.restricted = *restricted;
    r.status = *invalidated ? DemographicsRecord::Status::kInvalidated : DemographicsRecord::Status::kFound;
    r.exit_code = optional("exit_code");
    if (const std::string app = get("nhs_app"); !app.empty()) {
      auto registered = parse_flag(app);
      if (!registered) return invalid_argument(where + "nhs_app must be true, false or empty");
      r.nhs_app_registered = *registered;
    }
    r.accessible_format = optional("accessible_format");
    if (!known_format(get("accessible_format"))) {
      return invalid_argument(where + "accessible_format must be large_print, braille, audio or empty");
    }
    r.language = optional("language");
    r.version = optional("version");
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<DemographicsRecord> TriggerDemographics::trigger(std::string_view nhs_number, bool& found) {
  found = true;
  DemographicsRecord r;
  r.simulated = true;
  r.version = "1";
  r.given_name = "Test";
  r.family_name = "Patient";
  r.email = "test.patient@example.org";
  r.mobile = "07700900123";
  r.address_lines = {"1 Test Street", "Leeds"};
  r.postcode = "LS1 1AA";
  if (nhs_number == "9990000018") return r;  // every channel delivered
  if (nhs_number == "9990000026") {
    r.deceased = DemographicsRecord::Deceased::kFormal;
  } else if (nhs_number == "9990000034") {
    r.deceased = DemographicsRecord::Deceased::kInformal;
  } else if (nhs_number == "9990000042") {
    r.exit_code = "SCT";
  } else if (nhs_number == "9990000050") {
    r.status = DemographicsRecord::Status::kInvalidated;
  } else if (nhs_number == "9990000069") {
    r.restricted = true;
  } else if (nhs_number == "9990000077") {
    found = false;  // not found: MFR_PDSV_0004
  } else if (nhs_number == "9990000085") {
    r.email.reset();  // nothing to reach them by: every channel skipped
    r.mobile.reset();
    r.address_lines.clear();
    r.postcode.reset();
    r.nhs_app_registered = false;
  } else if (nhs_number == "9990000093") {
    r.email = "perm-fail@simulator.notify";  // the email fails for good
  } else if (nhs_number == "9990000107") {
    r.mobile = "07700900003";  // the text fails (phone off)
  } else if (nhs_number == "9990000115") {
    r.nhs_app_registered = false;  // not an NHS App user: that channel is skipped
  } else if (nhs_number == "9990000123") {
    r.email.reset();  // only a letter reaches them
    r.mobile.reset();
    r.nhs_app_registered = false;
  } else {
    return std::nullopt;
  }
  if (!found) return std::nullopt;
  return r;
}

Result<std::optional<DemographicsRecord>> TriggerDemographics::lookup(std::string_view nhs_number, Timestamp now) {
  bool found = true;
  if (auto record = trigger(nhs_number, found)) {
    record->queried_at = now;
    return std::optional<DemographicsRecord>(std::move(*record));
  }
  if (!found) return std::optional<DemographicsRecord>();
  if (inner_ == nullptr) return std::optional<DemographicsRecord>();
  return inner_->lookup(nhs_number, now);
}

}  // namespace herald::domain::nhs
