#include "delivery/pds/pds_client.h"

#include "core/json.h"
#include "crypto/random.h"

namespace herald::delivery::pds {
namespace {

using domain::nhs::DemographicsRecord;

const json::Value* member(const json::Value& object, std::string_view key) {
  return object.is_object() ? object.find(key) : nullptr;
}

std::string text(const json::Value& object, std::string_view key) {
  const json::Value* v = member(object, key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

// Whether an element's period (yyyy-mm-dd dates) covers today. No period: current.
bool current(const json::Value& element, Timestamp now) {
  const json::Value* period = member(element, "period");
  if (period == nullptr) return true;
  const std::string today = format_timestamp(now).substr(0, 10);
  const std::string start = text(*period, "start").substr(0, 10);
  const std::string end = text(*period, "end").substr(0, 10);
  return (start.empty() || start <= today) && (end.empty() || today <= end);
}

// The first coding's code of a sub-extension `url` of the extension whose url ends with `name`.
std::string extension_code(const json::Value& patient, std::string_view name, std::string_view sub) {
  const json::Value* extensions = member(patient, "extension");
  if (extensions == nullptr || !extensions->is_array()) return "";
  for (const json::Value& extension : extensions->as_array()) {
    const std::string url = text(extension, "url");
    if (url.size() < name.size() || url.compare(url.size() - name.size(), name.size(), name) != 0) continue;
    const json::Value* parts = member(extension, "extension");
    if (parts == nullptr || !parts->is_array()) continue;
    for (const json::Value& part : parts->as_array()) {
      if (text(part, "url") != sub) continue;
      const json::Value* coded = member(part, "valueCodeableConcept");
      const json::Value* codings = coded != nullptr ? member(*coded, "coding") : nullptr;
      if (codings != nullptr && codings->is_array() && !codings->as_array().empty()) {
        return text(codings->as_array()[0], "code");
      }
    }
  }
  return "";
}

// The first issue's Spine error code of an OperationOutcome.
std::string spine_code(std::string_view body) {
  auto parsed = json::parse(body);
  if (!parsed) return "";
  const json::Value* issues = member(*parsed, "issue");
  if (issues == nullptr || !issues->is_array() || issues->as_array().empty()) return "";
  const json::Value* details = member(issues->as_array()[0], "details");
  const json::Value* codings = details != nullptr ? member(*details, "coding") : nullptr;
  if (codings == nullptr || !codings->is_array() || codings->as_array().empty()) return "";
  return text(codings->as_array()[0], "code");
}

}  // namespace

Result<DemographicsRecord> record_from_patient(std::string_view patient_json, Timestamp now,
                                               std::string_view requested) {
  auto parsed = json::parse(patient_json);
  if (!parsed || text(*parsed, "resourceType") != "Patient") return invalid_argument("not a FHIR Patient");
  const json::Value& patient = *parsed;
  DemographicsRecord r;
  r.queried_at = now;
  if (const std::string id = text(patient, "id"); !requested.empty() && !id.empty() && id != requested) {
    r.status = DemographicsRecord::Status::kInvalidated;  // superseded: the record is another number's now
    return r;
  }
  if (const json::Value* meta = member(patient, "meta")) {
    if (std::string version = text(*meta, "versionId"); !version.empty()) r.version = version;
    if (const json::Value* security = member(*meta, "security"); security != nullptr && security->is_array()) {
      for (const json::Value& label : security->as_array()) {
        const std::string code = text(label, "code");
        if (code == "R" || code == "V" || code == "REDACTED") r.restricted = true;
      }
    }
  }
  if (const json::Value* names = member(patient, "name"); names != nullptr && names->is_array()) {
    for (const json::Value& name : names->as_array()) {
      if (text(name, "use") != "usual" || !current(name, now)) continue;
      r.family_name = text(name, "family");
      if (const json::Value* given = member(name, "given"); given != nullptr && given->is_array()) {
        for (const json::Value& g : given->as_array()) {
          if (!g.is_string()) continue;
          r.given_name += (r.given_name.empty() ? "" : " ") + g.as_string();
        }
      }
      break;
    }
  }
  if (const json::Value* telecoms = member(patient, "telecom"); telecoms != nullptr && telecoms->is_array()) {
    for (const json::Value& t : telecoms->as_array()) {
      if (!current(t, now)) continue;
      const std::string system = text(t, "system");
      const std::string use = text(t, "use");
      if (system == "phone" && use == "mobile" && !r.mobile) r.mobile = text(t, "value");
      if (system == "email" && !r.email) r.email = text(t, "value");
    }
  }
  if (const json::Value* addresses = member(patient, "address"); addresses != nullptr && addresses->is_array()) {
    for (const json::Value& a : addresses->as_array()) {
      if (text(a, "use") != "home" || !current(a, now)) continue;
      if (const json::Value* lines = member(a, "line"); lines != nullptr && lines->is_array()) {
        for (const json::Value& line : lines->as_array()) {
          if (line.is_string() && !line.as_string().empty()) r.address_lines.push_back(line.as_string());
        }
      }
      if (std::string postcode = text(a, "postalCode"); !postcode.empty()) r.postcode = postcode;
      break;
    }
  }
  if (member(patient, "deceasedDateTime") != nullptr) {
    // 1: informal (a local NHS organisation), 2: formal (the Registrar of Deaths), U: removed.
    const std::string status = extension_code(patient, "DeathNotificationStatus", "deathNotificationStatus");
    if (status == "2") {
      r.deceased = DemographicsRecord::Deceased::kFormal;
    } else if (status != "U") {
      r.deceased = DemographicsRecord::Deceased::kInformal;
    }
  }
  if (std::string exit = extension_code(patient, "RemovalFromRegistration", "removalFromRegistrationCode");
      !exit.empty()) {
    r.exit_code = exit;
  }
  if (std::string language = extension_code(patient, "NHSCommunication", "language"); !language.empty()) {
    r.language = language;
  }
  const std::string format = extension_code(patient, "ContactPreference", "PreferredWrittenCommunicationFormat");
  if (format == "11") r.accessible_format = "large_print";
  if (format == "12") r.accessible_format = "braille";
  if (format == "13") r.accessible_format = "audio";
  return r;
}

Result<std::optional<DemographicsRecord>> PdsClient::lookup(std::string_view nhs_number, Timestamp now) {
  auto bearer = token_->get();
  if (!bearer) return unavailable("PDS: " + bearer.error().message);
  const std::string request_id = crypto::random_uuid().to_string();
  auto response = net::https_request(
      "GET", base_url_ + "/Patient/" + std::string(nhs_number),
      {{"Accept", "application/fhir+json"}, {"Authorization", "Bearer " + *bearer}, {"X-Request-ID", request_id}}, "",
      http_);
  if (!response) return unavailable("PDS: " + response.error().message);
  const int status = response->status;
  if (status == 200) {
    auto record = record_from_patient(response->body, now, nhs_number);
    if (!record) return unavailable("PDS answered 200 without a Patient");
    return std::optional<DemographicsRecord>(std::move(*record));
  }
  const std::string code = spine_code(response->body);
  if (status == 404 && code == "INVALIDATED_RESOURCE") {
    DemographicsRecord invalidated;
    invalidated.status = DemographicsRecord::Status::kInvalidated;
    invalidated.queried_at = now;
    return std::optional<DemographicsRecord>(std::move(invalidated));
  }
  if ((status == 404 && code != "") || (status == 400 && code == "INVALID_RESOURCE_ID")) {
    return std::optional<DemographicsRecord>();
  }
  if (status == 401) token_->forget();
  return unavailable("PDS answered " + std::to_string(status) + (code.empty() ? "" : " " + code));
}

}  // namespace herald::delivery::pds
