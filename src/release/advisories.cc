#include "release/advisories.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "core/json.h"
#include "release/version_order.h"

namespace herald::release {
namespace {

// The full tracker file is tens of megabytes; the default 16 MiB limit is for request bodies.
constexpr json::ParseLimits kFeedLimits{.max_depth = 64, .max_bytes = std::size_t{1} << 30};

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// ---- severity -----------------------------------------------------------------------------------

// Debian's urgencies ("**" marks one NVD assigned).
std::string severity_of_urgency(std::string_view urgency) {
  if (urgency.size() >= 2 && urgency.substr(urgency.size() - 2) == "**") urgency.remove_suffix(2);
  if (urgency == "high" || urgency == "medium" || urgency == "low") return std::string(urgency);
  if (urgency == "unimportant") return "low";
  return "unknown";  // "not yet assigned", "end-of-life", anything new
}

// GitHub's database_specific.severity, or an Ubuntu priority.
std::string severity_of_label(std::string_view label) {
  const std::string lower = lowercase(label);
  if (lower == "critical" || lower == "high" || lower == "medium" || lower == "low") return lower;
  if (lower == "moderate") return "medium";
  if (lower == "negligible") return "low";
  return "unknown";
}

// ---- Debian releases ----------------------------------------------------------------------------

// A Debian release as purl's distro qualifier names it ("debian-12"), from "debian-12", "12" or a
// codename; "" when unknown.
std::string canonical_distro(std::string_view text) {
  static const std::map<std::string, std::string, std::less<>> kCodenames = {
      {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
      {"trixie", "13"}, {"forky", "14"},  {"duke", "15"}};
  std::string lower = lowercase(text);
  if (lower.rfind("debian-", 0) == 0) lower.erase(0, 7);
  if (auto it = kCodenames.find(lower); it != kCodenames.end()) return "debian-" + it->second;
  if (lower.empty()) return "";
  for (char c : lower) {
    if (c < '0' || c > '9') return "";
  }
  return "debian-" + lower;
}

// ---- version ranges -----------------------------------------------------------------------------

using Compare = int (*)(std::string_view, std::string_view);

Compare comparator_for(const std::string& ecosystem, AffectedRange::Order order) {
  if (order == AffectedRange::Order::kSemver || ecosystem == "npm") return compare_semver;
  if (ecosystem == "debian") return compare_debian_versions;
  return nullptr;
}

bool is_zero_introduced(const RangeEvent& event) {
  return event.kind == RangeEvent::Kind::kIntroduced && event.version == "0";
}

struct RangeMatch {
  bool affected = false;
  std::string fixed_version;  // the first fixed event above the version
};

// OSV's IncludedInRanges for one range, with BeforeLimits.
RangeMatch evaluate_range(std::string_view version, const AffectedRange& range, Compare compare) {
  RangeMatch match;
  bool has_limit = false;
  bool below_a_limit = false;
  for (const RangeEvent& event : range.events) {
    if (event.kind != RangeEvent::Kind::kLimit) continue;
    has_limit = true;
    if (event.version.find('*') != std::string::npos || compare(version, event.version) < 0) below_a_limit = true;
  }
  if (has_limit && !below_a_limit) return match;

  std::vector<const RangeEvent*> sorted;
  for (const RangeEvent& event : range.events) {
    if (event.kind != RangeEvent::Kind::kLimit) sorted.push_back(&event);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [compare](const RangeEvent* a, const RangeEvent* b) {
    if (is_zero_introduced(*a) || is_zero_introduced(*b)) return is_zero_introduced(*a) && !is_zero_introduced(*b);
    return compare(a->version, b->version) < 0;
  });
  for (const RangeEvent* event : sorted) {
    switch (event->kind) {
      case RangeEvent::Kind::kIntroduced:
        if (is_zero_introduced(*event) || compare(version, event->version) >= 0) match.affected = true;
        break;
      case RangeEvent::Kind::kFixed:
        if (compare(version, event->version) >= 0) match.affected = false;
        break;
      case RangeEvent::Kind::kLastAffected:
        if (compare(version, event->version) > 0) match.affected = false;
        break;
      case RangeEvent::Kind::kLimit: break;
    }
  }
  if (match.affected) {
    for (const RangeEvent* event : sorted) {
      if (event->kind == RangeEvent::Kind::kFixed && compare(event->version, version) > 0) {
        match.fixed_version = event->version;
        break;
      }
    }
  }
  return match;
}

// Whether `advisory` affects `version`, and the fix for it.
RangeMatch evaluate(std::string_view version, const Advisory& advisory) {
  RangeMatch result;
  if (version.empty()) {
    result.affected = true;
    result.fixed_version = advisory.fixed_version;
    return result;
  }
  const Compare listed = comparator_for(advisory.ecosystem, AffectedRange::Order::kEcosystem);
  for (const std::string& listed_version : advisory.versions) {
    if (listed_version == version || (listed != nullptr && listed(listed_version, version) == 0)) {
      result.affected = true;
    }
  }
  for (const AffectedRange& range : advisory.ranges) {
    const Compare compare = comparator_for(advisory.ecosystem, range.order);
    if (compare == nullptr) continue;
    RangeMatch match = evaluate_range(version, range, compare);
    if (!match.affected) continue;
    if (!result.affected || result.fixed_version.empty() ||
        (!match.fixed_version.empty() && compare(match.fixed_version, result.fixed_version) < 0)) {
      result.fixed_version = std::move(match.fixed_version);
    }
    result.affected = true;
  }
  if (result.affected && result.fixed_version.empty()) {
    // Listed in `versions`, or in a range that has no fix of its own: the first fix above it, if any.
    for (const AffectedRange& range : advisory.ranges) {
      const Compare compare = comparator_for(advisory.ecosystem, range.order);
      if (compare == nullptr) continue;
      for (const RangeEvent& event : range.events) {
        if (event.kind != RangeEvent::Kind::kFixed || compare(event.version, version) <= 0) continue;
        if (result.fixed_version.empty() || compare(event.version, result.fixed_version) < 0) {
          result.fixed_version = event.version;
        }
      }
    }
  }
  return result;
}

// The highest fixed event in the ranges: the version that fixes every affected branch when the
// last range ends in a fix.
std::string highest_fixed(const std::string& ecosystem, const std::vector<AffectedRange>& ranges) {
  std::string highest;
  for (const AffectedRange& range : ranges) {
    const Compare compare = comparator_for(ecosystem, range.order);
    for (const RangeEvent& event : range.events) {
      if (event.kind != RangeEvent::Kind::kFixed) continue;
      if (highest.empty() || (compare != nullptr && compare(event.version, highest) > 0)) highest = event.version;
    }
  }
  return highest;
}

// ---- Debian tracker -----------------------------------------------------------------------------

Error tracker_error(const std::string& where, std::string_view problem) {
  return invalid_argument("Debian tracker: " + where + " " + std::string(problem));
}

// One issue's entry for the release; nullopt when it does not affect the release.
Result<std::optional<Advisory>> tracker_advisory(const std::string& package, const std::string& issue_id,
                                                 const json::Value& issue, std::string_view release) {
  const std::string where = package + ": " + issue_id + ":";
  if (!issue.is_object()) return tracker_error(where, "is not an object");
  const json::Value* releases = issue.find("releases");
  if (releases == nullptr) return std::optional<Advisory>();
  if (!releases->is_object()) return tracker_error(where, "releases is not an object");
  const json::Value* entry = releases->find(release);
  if (entry == nullptr) return std::optional<Advisory>();
  const std::string entry_where = where + " releases." + std::string(release);
  if (!entry->is_object()) return tracker_error(entry_where, "is not an object");
  const json::Value* status = entry->find("status");
  if (status == nullptr || !status->is_string()) return tracker_error(entry_where + ".status", "is not a string");
  const json::Value* fixed = entry->find("fixed_version");
  if (fixed != nullptr && !fixed->is_string()) return tracker_error(entry_where + ".fixed_version", "is not a string");
  const json::Value* urgency = entry->find("urgency");
  if (urgency != nullptr && !urgency->is_string()) return tracker_error(entry_where + ".urgency", "is not a string");
  const json::Value* description = issue.find("description");
  if (description != nullptr && !description->is_string()) return tracker_error(where, "description is not a string");

  Advisory advisory;
  advisory.id = issue_id;
  advisory.ecosystem = "debian";
  advisory.distro = canonical_distro(release);
  advisory.package = package;
  advisory.severity = severity_of_urgency(urgency != nullptr ? urgency->as_string() : "");
  advisory.summary = description != nullptr ? description->as_string() : "";
  AffectedRange range;
  range.events.push_back({RangeEvent::Kind::kIntroduced, "0"});
  if (status->as_string() == "resolved") {
    if (fixed == nullptr || fixed->as_string().empty() || fixed->as_string() == "0") return std::optional<Advisory>();
    advisory.fixed_version = fixed->as_string();
    range.events.push_back({RangeEvent::Kind::kFixed, advisory.fixed_version});
  } else if (status->as_string() != "open" && status->as_string() != "undetermined") {
    return tracker_error(entry_where + ".status",
                         "is \"" + status->as_string() + "\", not resolved, open or undetermined");
  }
  advisory.ranges.push_back(std::move(range));
  return std::optional<Advisory>(std::move(advisory));
}

Result<std::vector<Advisory>> tracker_advisories(const json::Value& document, std::string_view release) {
  if (!document.is_object()) return tracker_error("document", "is not a JSON object");
  std::vector<Advisory> advisories;
  for (const auto& [package, issues] : document.as_object()) {
    if (!issues.is_object()) return tracker_error(package + ":", "is not an object of issues");
    for (const auto& [issue_id, issue] : issues.as_object()) {
      auto advisory = tracker_advisory(package, issue_id, issue, release);
      if (!advisory) return std::move(advisory).error();
      if (advisory->has_value()) advisories.push_back(std::move(**advisory));
    }
  }
  return advisories;
}

// ---- OSV ----------------------------------------------------------------------------------------

// Errors inside one OSV entry: "OSV entry 3: affected[0].ranges[1].events is not an array".
class OsvReader {
 public:
  explicit OsvReader(std::size_t index) : prefix_("OSV entry " + std::to_string(index) + ": ") {}

  Error error(const std::string& where, std::string_view problem) const {
    return invalid_argument(prefix_ + where + " " + std::string(problem));
  }

  // nullptr when absent (or null); an error when present with another type.
  Result<const json::Value*> member(const json::Value& object, std::string_view key, json::Type type,
                                    const std::string& where) const {
    const json::Value* value = object.find(key);
    if (value == nullptr || value->is_null()) return static_cast<const json::Value*>(nullptr);
    if (value->type() != type) return error(where + std::string(key), "is not " + type_name(type));
    return value;
  }

  Result<std::vector<AffectedRange>> ranges(const json::Value& affected, const std::string& where) const;
  Result<std::vector<std::string>> versions(const json::Value& affected, const std::string& where) const;
  Result<std::string> severity(const json::Value& entry, const json::Value& affected, const std::string& where) const;

 private:
  static std::string type_name(json::Type type) {
    switch (type) {
      case json::Type::kString: return "a string";
      case json::Type::kArray: return "an array";
      case json::Type::kObject: return "an object";
      default: return "of the expected type";
    }
  }
  Result<RangeEvent> event(const json::Value& value, const std::string& where) const;
  Result<std::string> cvss_severity(const json::Value& holder, const std::string& where) const;

  std::string prefix_;
};

Result<RangeEvent> OsvReader::event(const json::Value& value, const std::string& where) const {
  if (!value.is_object()) return error(where, "is not an object");
  static const std::pair<std::string_view, RangeEvent::Kind> kKinds[] = {
      {"introduced", RangeEvent::Kind::kIntroduced},
      {"fixed", RangeEvent::Kind::kFixed},
      {"last_affected", RangeEvent::Kind::kLastAffected},
      {"limit", RangeEvent::Kind::kLimit}};
  std::optional<RangeEvent> found;
  for (const auto& [key, kind] : kKinds) {
    const json::Value* version = value.find(key);
    if (version == nullptr) continue;
    if (!version->is_string()) return error(where + "." + std::string(key), "is not a string");
    if (found) return error(where, "has more than one of introduced, fixed, last_affected and limit");
    found = RangeEvent{kind, version->as_string()};
  }
  if (!found) return error(where, "has none of introduced, fixed, last_affected and limit");
  return *found;
}

Result<std::vector<AffectedRange>> OsvReader::ranges(const json::Value& affected, const std::string& where) const {
  std::vector<AffectedRange> out;
  auto list = member(affected, "ranges", json::Type::kArray, where);
  if (!list) return std::move(list).error();
  if (*list == nullptr) return out;
  for (std::size_t i = 0; i < (*list)->as_array().size(); ++i) {
    const json::Value& range = (*list)->as_array()[i];
    const std::string range_where = where + "ranges[" + std::to_string(i) + "]";
    if (!range.is_object()) return error(range_where, "is not an object");
    const json::Value* type = range.find("type");
    if (type == nullptr || !type->is_string()) return error(range_where + ".type", "is not a string");
    const json::Value* events = range.find("events");
    if (events == nullptr || !events->is_array()) return error(range_where + ".events", "is not an array");
    AffectedRange parsed;
    if (type->as_string() == "GIT") continue;  // commits, not versions
    if (type->as_string() == "SEMVER") {
      parsed.order = AffectedRange::Order::kSemver;
    } else if (type->as_string() != "ECOSYSTEM") {
      return error(range_where + ".type", "is \"" + type->as_string() + "\", not ECOSYSTEM, SEMVER or GIT");
    }
    for (std::size_t j = 0; j < events->as_array().size(); ++j) {
      auto parsed_event = event(events->as_array()[j], range_where + ".events[" + std::to_string(j) + "]");
      if (!parsed_event) return std::move(parsed_event).error();
      parsed.events.push_back(std::move(*parsed_event));
    }
    const bool has_introduced = std::any_of(parsed.events.begin(), parsed.events.end(), [](const RangeEvent& e) {
      return e.kind == RangeEvent::Kind::kIntroduced;
    });
    if (!has_introduced) return error(range_where + ".events", "has no introduced event");
    out.push_back(std::move(parsed));
  }
  return out;
}

Result<std::vector<std::string>> OsvReader::versions(const json::Value& affected, const std::string& where) const {
  std::vector<std::string> out;
  auto list = member(affected, "versions", json::Type::kArray, where);
  if (!list) return std::move(list).error();
  if (*list == nullptr) return out;
  for (std::size_t i = 0; i < (*list)->as_array().size(); ++i) {
    const json::Value& version = (*list)->as_array()[i];
    if (!version.is_string()) return error(where + "versions[" + std::to_string(i) + "]", "is not a string");
    out.push_back(version.as_string());
  }
  return out;
}

// From a "severity" array: the rating of its first well-formed CVSS_V3 vector, else an Ubuntu
// priority; "" when it has neither.
Result<std::string> OsvReader::cvss_severity(const json::Value& holder, const std::string& where) const {
  auto list = member(holder, "severity", json::Type::kArray, where);
  if (!list) return std::move(list).error();
  if (*list == nullptr) return std::string();
  std::string ubuntu;
  for (std::size_t i = 0; i < (*list)->as_array().size(); ++i) {
    const json::Value& item = (*list)->as_array()[i];
    const std::string item_where = where + "severity[" + std::to_string(i) + "]";
    if (!item.is_object()) return error(item_where, "is not an object");
    const json::Value* type = item.find("type");
    const json::Value* score = item.find("score");
    if (type == nullptr || !type->is_string()) return error(item_where + ".type", "is not a string");
    if (score == nullptr || !score->is_string()) return error(item_where + ".score", "is not a string");
    if (type->as_string() == "CVSS_V3") {
      const int tenths = cvss3_base_score_tenths(score->as_string());
      if (tenths >= 0) return cvss3_severity(tenths);
    } else if (type->as_string() == "Ubuntu" && ubuntu.empty()) {
      ubuntu = severity_of_label(score->as_string());
    }
  }
  return ubuntu;
}

Result<std::string> OsvReader::severity(const json::Value& entry, const json::Value& affected,
                                        const std::string& where) const {
  if (const json::Value* specific = entry.find("database_specific"); specific != nullptr && specific->is_object()) {
    if (const json::Value* label = specific->find("severity"); label != nullptr && label->is_string()) {
      if (std::string s = severity_of_label(label->as_string()); s != "unknown") return s;
    }
  }
  if (const json::Value* specific = affected.find("ecosystem_specific"); specific != nullptr && specific->is_object()) {
    if (const json::Value* urgency = specific->find("urgency"); urgency != nullptr && urgency->is_string()) {
      if (std::string s = severity_of_urgency(urgency->as_string()); s != "unknown") return s;
    }
  }
  for (const auto& [holder, holder_where] : {std::pair<const json::Value*, std::string>{&affected, where},
                                             std::pair<const json::Value*, std::string>{&entry, ""}}) {
    auto s = cvss_severity(*holder, holder_where);
    if (!s) return std::move(s).error();
    if (!s->empty() && *s != "unknown") return std::move(*s);
  }
  return std::string("unknown");
}

// The ecosystem and distro Herald uses for an OSV ecosystem string.
std::pair<std::string, std::string> normalise_ecosystem(const std::string& ecosystem) {
  if (ecosystem == "npm") return {"npm", ""};
  if (ecosystem == "Debian") return {"debian", ""};
  if (ecosystem.rfind("Debian:", 0) == 0) return {"debian", canonical_distro(ecosystem.substr(7))};
  return {ecosystem, ""};
}

std::string osv_summary(const json::Value& entry) {
  if (const json::Value* summary = entry.find("summary");
      summary != nullptr && summary->is_string() && !summary->as_string().empty()) {
    return summary->as_string();
  }
  if (const json::Value* details = entry.find("details"); details != nullptr && details->is_string()) {
    const std::string& text = details->as_string();
    return text.substr(0, text.find('\n'));
  }
  return "";
}

Result<void> osv_entry(const json::Value& entry, std::size_t index, std::vector<Advisory>& out) {
  const OsvReader reader(index);
  if (!entry.is_object()) return reader.error("entry", "is not an object");
  const json::Value* id = entry.find("id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) return reader.error("id", "is not a string");
  if (const json::Value* withdrawn = entry.find("withdrawn"); withdrawn != nullptr && !withdrawn->is_null()) {
    return ok();
  }
  auto affected_list = reader.member(entry, "affected", json::Type::kArray, "");
  if (!affected_list) return std::move(affected_list).error();
  if (*affected_list == nullptr) return ok();
  for (std::size_t i = 0; i < (*affected_list)->as_array().size(); ++i) {
    const json::Value& affected = (*affected_list)->as_array()[i];
    const std::string where = "affected[" + std::to_string(i) + "].";
    if (!affected.is_object()) return reader.error("affected[" + std::to_string(i) + "]", "is not an object");
    auto package = reader.member(affected, "package", json::Type::kObject, where);
    if (!package) return std::move(package).error();
    if (*package == nullptr) continue;  // GIT-only: no package to match
    const json::Value* ecosystem = (*package)->find("ecosystem");
    const json::Value* name = (*package)->find("name");
    if (ecosystem == nullptr || !ecosystem->is_string())
      return reader.error(where + "package.ecosystem", "is not a string");
    if (name == nullptr || !name->is_string()) return reader.error(where + "package.name", "is not a string");
    Advisory advisory;
    advisory.id = id->as_string();
    std::tie(advisory.ecosystem, advisory.distro) = normalise_ecosystem(ecosystem->as_string());
    advisory.package = name->as_string();
    advisory.summary = osv_summary(entry);
    auto ranges = reader.ranges(affected, where);
    if (!ranges) return std::move(ranges).error();
    advisory.ranges = std::move(*ranges);
    auto versions = reader.versions(affected, where);
    if (!versions) return std::move(versions).error();
    advisory.versions = std::move(*versions);
    auto severity = reader.severity(entry, affected, where);
    if (!severity) return std::move(severity).error();
    advisory.severity = std::move(*severity);
    advisory.fixed_version = highest_fixed(advisory.ecosystem, advisory.ranges);
    out.push_back(std::move(advisory));
  }
  return ok();
}

Result<std::vector<Advisory>> osv_advisories(const json::Value& document) {
  const json::Value* entries = &document;
  if (document.is_object()) {
    if (document.find("results") != nullptr && document.find("id") == nullptr) {
      return invalid_argument(
          "OSV: this looks like a querybatch answer, which lists ids only; supply the full entries (/v1/query or "
          "/v1/vulns/<id>)");
    }
    if (const json::Value* vulns = document.find("vulns"); vulns != nullptr) {
      if (!vulns->is_array()) return invalid_argument("OSV: \"vulns\" is not an array");
      entries = vulns;
    }
  }
  std::vector<Advisory> advisories;
  if (!entries->is_array()) {
    HERALD_TRY(osv_entry(*entries, 0, advisories));
    return advisories;
  }
  for (std::size_t i = 0; i < entries->as_array().size(); ++i) {
    HERALD_TRY(osv_entry(entries->as_array()[i], i, advisories));
  }
  return advisories;
}

bool looks_like_osv(const json::Value& document) {
  if (document.is_array()) return true;
  if (!document.is_object()) return false;
  if (document.find("vulns") != nullptr || document.find("results") != nullptr) return true;
  const json::Value* id = document.find("id");
  return id != nullptr && id->is_string();
}

// ---- matching -----------------------------------------------------------------------------------

struct Target {
  std::string_view package;
  std::string_view version;
};

// What an advisory for the component's ecosystem names: Debian advisories name source packages
// and their versions.
Target target_of(const Component& component) {
  if (component.ecosystem == "debian") {
    return {component.source.empty() ? component.name : component.source,
            component.source_version.empty() ? component.version : component.source_version};
  }
  return {component.name, component.version};
}

bool distro_matches(const Component& component, const Advisory& advisory) {
  if (advisory.distro.empty()) return true;
  const std::string component_distro = canonical_distro(component.distro);
  return component_distro.empty() || component_distro == canonical_distro(advisory.distro);
}

// ---- CVSS ---------------------------------------------------------------------------------------

// CVSS v3.1 specification, Appendix A: Roundup without floating-point surprises.
double roundup(double input) {
  const std::int64_t integer = std::llround(input * 100000.0);
  if (integer % 10000 == 0) return static_cast<double>(integer) / 100000.0;
  return (std::floor(static_cast<double>(integer) / 10000.0) + 1.0) / 10.0;
}

}  // namespace

Result<std::vector<Advisory>> parse_debian_tracker(std::string_view json_text, std::string_view release) {
  if (release.empty()) return invalid_argument("Debian tracker: no release named (e.g. \"bookworm\")");
  auto document = json::parse(json_text, kFeedLimits);
  if (!document) return invalid_argument("Debian tracker: " + document.error().message);
  return tracker_advisories(*document, release);
}

Result<std::vector<Advisory>> parse_osv(std::string_view json_text) {
  auto document = json::parse(json_text, kFeedLimits);
  if (!document) return invalid_argument("OSV: " + document.error().message);
  return osv_advisories(*document);
}

Result<std::vector<Advisory>> parse_feed(std::string_view json_text, std::string_view debian_release) {
  auto document = json::parse(json_text, kFeedLimits);
  if (!document) return invalid_argument("advisory feed: " + document.error().message);
  if (looks_like_osv(*document)) return osv_advisories(*document);
  if (!document->is_object()) return invalid_argument("advisory feed: neither OSV nor a Debian tracker file");
  if (debian_release.empty()) return invalid_argument("Debian tracker: no release named (e.g. \"bookworm\")");
  return tracker_advisories(*document, debian_release);
}

std::vector<Affected> affected_components(const std::vector<Component>& components,
                                          const std::vector<Advisory>& advisories) {
  std::vector<Affected> out;
  for (const Component& component : components) {
    if (component.ecosystem != "debian" && component.ecosystem != "npm") continue;
    const Target target = target_of(component);
    std::set<std::string> reported;
    for (const Advisory& advisory : advisories) {
      if (advisory.ecosystem != component.ecosystem || advisory.package != target.package) continue;
      if (!distro_matches(component, advisory) || reported.count(advisory.id) > 0) continue;
      RangeMatch match = evaluate(target.version, advisory);
      if (!match.affected) continue;
      reported.insert(advisory.id);
      out.push_back({component, advisory.id, advisory.severity, std::move(match.fixed_version), advisory.summary});
    }
  }
  return out;
}

int cvss3_base_score_tenths(std::string_view vector) {
  if (vector.rfind("CVSS:3.0/", 0) != 0 && vector.rfind("CVSS:3.1/", 0) != 0) return -1;
  vector.remove_prefix(9);
  std::map<std::string, std::string, std::less<>> metrics;
  while (!vector.empty()) {
    const auto slash = vector.find('/');
    const std::string_view item = vector.substr(0, slash);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) return -1;
    if (!metrics.emplace(std::string(item.substr(0, colon)), std::string(item.substr(colon + 1))).second) return -1;
    if (slash == std::string_view::npos) break;
    vector.remove_prefix(slash + 1);
    if (vector.empty()) return -1;  // a trailing '/'
  }
  // Base metric weights (CVSS v3.1 specification, section 7.4).
  auto weight = [&metrics](std::string_view metric, std::initializer_list<std::pair<std::string_view, double>> values,
                           double& out) {
    const auto it = metrics.find(metric);
    if (it == metrics.end()) return false;
    for (const auto& [value, w] : values) {
      if (it->second == value) {
        out = w;
        return true;
      }
    }
    return false;
  };
  double scope_changed = 0;
  if (!weight("S", {{"U", 0}, {"C", 1}}, scope_changed)) return -1;
  const bool changed = scope_changed > 0;
  double av = 0;
  double ac = 0;
  double pr = 0;
  double ui = 0;
  double c = 0;
  double i = 0;
  double a = 0;
  if (!weight("AV", {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}}, av) ||
      !weight("AC", {{"L", 0.77}, {"H", 0.44}}, ac) ||
      !weight("PR", {{"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}}, pr) ||
      !weight("UI", {{"N", 0.85}, {"R", 0.62}}, ui) || !weight("C", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, c) ||
      !weight("I", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, i) || !weight("A", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, a)) {
    return -1;
  }
  const double iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  const double base = changed ? roundup(std::min(1.08 * (impact + exploitability), 10.0))
                              : roundup(std::min(impact + exploitability, 10.0));
  return static_cast<int>(std::lround(base * 10));
}

std::string cvss3_severity(int score_tenths) {
  if (score_tenths < 0) return "unknown";
  if (score_tenths >= 90) return "critical";
  if (score_tenths >= 70) return "high";
  if (score_tenths >= 40) return "medium";
  return "low";
}

}  // namespace herald::release
