#include "release/sbom.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "core/json.h"

namespace herald::release {
namespace {

constexpr std::string_view kNoAssertion = "NOASSERTION";
constexpr std::string_view kBuiltFrom = "built package from: ";
constexpr std::string_view kToolPrefix = "Tool: ";
constexpr std::string_view kDebianSupplier = "Organization: Debian";

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// ---- purl ---------------------------------------------------------------------------------------

// Percent-encodes all but RFC 3986's unreserved characters and ':' (which purl leaves alone).
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A '%' not followed by two hex digits is kept as it is.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int high = hex_value(s[i + 1]);
      const int low = hex_value(s[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct Purl {
  std::string type;
  std::string namespace_path;  // decoded segments joined by '/'
  std::string name;
  std::string version;
  std::map<std::string, std::string> qualifiers;
};

// Parses a purl as the specification's "How to parse" section does (the subpath is dropped).
std::optional<Purl> parse_purl(std::string_view text) {
  if (const auto hash = text.rfind('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  Purl purl;
  if (const auto question = text.rfind('?'); question != std::string_view::npos) {
    std::string_view query = text.substr(question + 1);
    text = text.substr(0, question);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto equals = pair.find('=');
      if (equals != std::string_view::npos && equals + 1 < pair.size()) {
        purl.qualifiers[lowercase(std::string(pair.substr(0, equals)))] = percent_decode(pair.substr(equals + 1));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || text.substr(0, colon) != "pkg") return std::nullopt;
  text.remove_prefix(colon + 1);
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  purl.type = lowercase(std::string(text.substr(0, slash)));
  text.remove_prefix(slash + 1);
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    purl.version = percent_decode(text.substr(at + 1));
    text = text.substr(0, at);
  }
  const auto last_slash = text.rfind('/');
  purl.name = percent_decode(last_slash == std::string_view::npos ? text : text.substr(last_slash + 1));
  if (purl.name.empty()) return std::nullopt;
  if (last_slash != std::string_view::npos) {
    std::string_view rest = text.substr(0, last_slash);
    while (!rest.empty()) {
      const auto cut = rest.find('/');
      const std::string_view segment = rest.substr(0, cut);
      if (!segment.empty()) {
        if (!purl.namespace_path.empty()) purl.namespace_path += '/';
        purl.namespace_path += percent_decode(segment);
      }
      if (cut == std::string_view::npos) break;
      rest.remove_prefix(cut + 1);
    }
  }
  return purl;
}

// ---- licenses -----------------------------------------------------------------------------------

bool is_license_id(std::string_view token) {
  if (!token.empty() && token.back() == '+') token.remove_suffix(1);
  if (token.empty()) return false;
  for (char c : token) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != ':') return false;
  }
  return true;
}

// A loose check of SPDX license expression syntax (annex D): license ids (or LicenseRef-…)
// alternating with AND, OR and WITH, with balanced parentheses. Keeps npm's "UNLICENSED" and
// "SEE LICENSE IN …" out of the document.
bool is_license_expression(std::string_view text) {
  if (text == "NOASSERTION" || text == "NONE") return true;
  if (text == "UNLICENSED") return false;
  int depth = 0;
  bool expect_operand = true;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ') {
      ++i;
    } else if (c == '(') {
      if (!expect_operand) return false;
      ++depth;
      ++i;
    } else if (c == ')') {
      if (expect_operand || --depth < 0) return false;
      ++i;
    } else {
      std::size_t end = i;
      while (end < text.size() && text[end] != ' ' && text[end] != '(' && text[end] != ')') ++end;
      const std::string_view token = text.substr(i, end - i);
      const bool is_operator =
          token == "AND" || token == "OR" || token == "WITH" || token == "and" || token == "or" || token == "with";
      if (expect_operand == is_operator) return false;
      if (!is_operator && !is_license_id(token)) return false;
      expect_operand = is_operator;
      i = end;
    }
  }
  return depth == 0 && !expect_operand;
}

std::string license_or_noassertion(std::string_view license) {
  return is_license_expression(license) && !license.empty() ? std::string(license) : std::string(kNoAssertion);
}

// ---- writing ------------------------------------------------------------------------------------

auto sort_key(const Component& c) {
  return std::tie(c.ecosystem, c.name, c.version, c.arch, c.distro, c.source, c.source_version, c.license, c.sha256,
                  c.dev);
}

// "SPDXRef-" followed by letters, digits, '.' and '-' only (SPDX 2.3 section 7.2).
std::string spdx_id_for(const Component& component, std::set<std::string>& taken) {
  std::string base = "SPDXRef-Package-" + component.ecosystem + "-" + component.name + "-" + component.version;
  for (std::size_t i = 8; i < base.size(); ++i) {
    if (!is_alnum(base[i]) && base[i] != '.' && base[i] != '-') base[i] = '-';
  }
  std::string id = base;
  for (int n = 2; !taken.insert(id).second; ++n) id = base + "-" + std::to_string(n);
  return id;
}

void write_package(json::Writer& w, const Component& component, const std::string& spdx_id, bool described) {
  w.begin_object();
  w.key("SPDXID").string(spdx_id);
  w.key("name").string(component.name);
  if (!component.version.empty()) w.key("versionInfo").string(component.version);
  if (component.ecosystem == "debian") w.key("supplier").string(kDebianSupplier);
  w.key("downloadLocation").string(kNoAssertion);
  w.key("filesAnalyzed").boolean(false);
  if (!component.sha256.empty()) {
    w.key("checksums").begin_array();
    w.begin_object().key("algorithm").string("SHA256").key("checksumValue").string(component.sha256).end_object();
    w.end_array();
  }
  if (!component.source.empty()) {
    const std::string& source_version = component.source_version.empty() ? component.version : component.source_version;
    w.key("sourceInfo").string(std::string(kBuiltFrom) + component.source + " " + source_version);
  }
  w.key("licenseConcluded").string(kNoAssertion);
  w.key("licenseDeclared").string(license_or_noassertion(component.license));
  w.key("copyrightText").string(kNoAssertion);
  w.key("externalRefs").begin_array();
  w.begin_object()
      .key("referenceCategory")
      .string("PACKAGE-MANAGER")
      .key("referenceType")
      .string("purl")
      .key("referenceLocator")
      .string(component.purl())
      .end_object();
  w.end_array();
  if (described) w.key("primaryPackagePurpose").string("APPLICATION");
  w.end_object();
}

void write_relationship(json::Writer& w, std::string_view from, std::string_view type, std::string_view to) {
  w.begin_object()
      .key("spdxElementId")
      .string(from)
      .key("relationshipType")
      .string(type)
      .key("relatedSpdxElement")
      .string(to)
      .end_object();
}

// ---- reading ------------------------------------------------------------------------------------

Error field_error(const std::string& field, std::string_view problem) {
  return invalid_argument("SPDX document: " + field + " " + std::string(problem));
}

// The string member `key` of `object`: nullopt when absent, an error when not a string.
Result<std::optional<std::string>> optional_string(const json::Value& object, std::string_view key,
                                                   const std::string& where) {
  const json::Value* value = object.find(key);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return field_error(where + std::string(key), "is not a string");
  return std::optional<std::string>(value->as_string());
}

Result<std::string> required_string(const json::Value& object, std::string_view key, const std::string& where) {
  auto value = optional_string(object, key, where);
  if (!value) return std::move(value).error();
  if (!value->has_value()) return field_error(where + std::string(key), "is missing");
  return std::move(**value);
}

// The purl among a package's externalRefs, if any.
Result<std::optional<std::string>> package_purl(const json::Value& package, const std::string& where) {
  const json::Value* refs = package.find("externalRefs");
  if (refs == nullptr) return std::optional<std::string>();
  if (!refs->is_array()) return field_error(where + "externalRefs", "is not an array");
  for (std::size_t i = 0; i < refs->as_array().size(); ++i) {
    const json::Value& ref = refs->as_array()[i];
    const std::string ref_where = where + "externalRefs[" + std::to_string(i) + "].";
    if (!ref.is_object()) return field_error(where + "externalRefs[" + std::to_string(i) + "]", "is not an object");
    auto type = optional_string(ref, "referenceType", ref_where);
    if (!type) return std::move(type).error();
    if (*type != std::optional<std::string>("purl")) continue;
    auto locator = required_string(ref, "referenceLocator", ref_where);
    if (!locator) return std::move(locator).error();
    return std::optional<std::string>(std::move(*locator));
  }
  return std::optional<std::string>();
}

Result<std::string> package_sha256(const json::Value& package, const std::string& where) {
  const json::Value* checksums = package.find("checksums");
  if (checksums == nullptr) return std::string();
  if (!checksums->is_array()) return field_error(where + "checksums", "is not an array");
  for (std::size_t i = 0; i < checksums->as_array().size(); ++i) {
    const json::Value& checksum = checksums->as_array()[i];
    const std::string checksum_where = where + "checksums[" + std::to_string(i) + "].";
    if (!checksum.is_object()) return field_error(where + "checksums[" + std::to_string(i) + "]", "is not an object");
    auto algorithm = required_string(checksum, "algorithm", checksum_where);
    if (!algorithm) return std::move(algorithm).error();
    if (*algorithm != "SHA256") continue;
    auto value = required_string(checksum, "checksumValue", checksum_where);
    if (!value) return std::move(value).error();
    return lowercase(std::move(*value));
  }
  return std::string();
}

std::string ecosystem_of_purl_type(const std::string& type) {
  if (type == "deb") return "debian";
  return type;  // "npm", "generic", or another purl type kept as it is
}

// Fills the component's identity from its purl, then its Debian source from sourceInfo or the
// purl's "upstream" qualifier ("openssl" or "openssl@3.0.11-1").
void apply_purl(const Purl& purl, Component& component) {
  component.ecosystem = ecosystem_of_purl_type(purl.type);
  component.name =
      purl.namespace_path.empty() || purl.type != "npm" ? purl.name : purl.namespace_path + "/" + purl.name;
  if (!purl.version.empty()) component.version = purl.version;
  if (auto it = purl.qualifiers.find("arch"); it != purl.qualifiers.end()) component.arch = it->second;
  if (auto it = purl.qualifiers.find("distro"); it != purl.qualifiers.end()) component.distro = it->second;
  if (auto it = purl.qualifiers.find("upstream"); it != purl.qualifiers.end() && component.ecosystem == "debian") {
    const auto at = it->second.find('@');
    component.source = it->second.substr(0, at);
    if (at != std::string::npos) component.source_version = it->second.substr(at + 1);
  }
}

void apply_source_info(std::string_view source_info, Component& component) {
  if (source_info.substr(0, kBuiltFrom.size()) != kBuiltFrom) return;
  source_info.remove_prefix(kBuiltFrom.size());
  const auto space = source_info.find(' ');
  component.source = std::string(source_info.substr(0, space));
  component.source_version = space == std::string_view::npos ? "" : std::string(source_info.substr(space + 1));
}

// One package as a component; nullopt for a package without a purl.
Result<std::optional<Component>> read_package(const json::Value& package, const std::string& where, bool described) {
  if (!package.is_object()) return field_error(where.substr(0, where.size() - 1), "is not an object");
  Component component;
  auto name = required_string(package, "name", where);
  if (!name) return std::move(name).error();
  auto version = optional_string(package, "versionInfo", where);
  if (!version) return std::move(version).error();
  auto purl_text = package_purl(package, where);
  if (!purl_text) return std::move(purl_text).error();
  if (!purl_text->has_value() && !described) return std::optional<Component>();
  component.name = *name;
  component.version = version->value_or("");
  component.ecosystem = "generic";
  if (purl_text->has_value()) {
    const auto purl = parse_purl(**purl_text);
    if (!purl) return field_error(where + "externalRefs", "has a purl that is not a package URL");
    apply_purl(*purl, component);
  }
  auto source_info = optional_string(package, "sourceInfo", where);
  if (!source_info) return std::move(source_info).error();
  if (source_info->has_value() && component.ecosystem == "debian") apply_source_info(**source_info, component);
  if (component.source_version == component.version) component.source_version.clear();
  auto declared = optional_string(package, "licenseDeclared", where);
  if (!declared) return std::move(declared).error();
  auto concluded = optional_string(package, "licenseConcluded", where);
  if (!concluded) return std::move(concluded).error();
  component.license = std::string(kNoAssertion);
  if (declared->has_value() && **declared != kNoAssertion) {
    component.license = **declared;
  } else if (concluded->has_value()) {
    component.license = **concluded;
  }
  auto sha256 = package_sha256(package, where);
  if (!sha256) return std::move(sha256).error();
  component.sha256 = std::move(*sha256);
  return std::optional<Component>(std::move(component));
}

struct Relationship {
  std::string from;
  std::string type;
  std::string to;
};

Result<std::vector<Relationship>> read_relationships(const json::Value& document) {
  std::vector<Relationship> relationships;
  const json::Value* list = document.find("relationships");
  if (list == nullptr) return relationships;
  if (!list->is_array()) return field_error("relationships", "is not an array");
  for (std::size_t i = 0; i < list->as_array().size(); ++i) {
    const json::Value& item = list->as_array()[i];
    const std::string where = "relationships[" + std::to_string(i) + "].";
    if (!item.is_object()) return field_error("relationships[" + std::to_string(i) + "]", "is not an object");
    auto from = required_string(item, "spdxElementId", where);
    if (!from) return std::move(from).error();
    auto type = required_string(item, "relationshipType", where);
    if (!type) return std::move(type).error();
    auto to = required_string(item, "relatedSpdxElement", where);
    if (!to) return std::move(to).error();
    relationships.push_back({std::move(*from), std::move(*type), std::move(*to)});
  }
  return relationships;
}

// The SPDXID of the described package: documentDescribes[0], else the first DOCUMENT DESCRIBES.
Result<std::string> described_id(const json::Value& document, const std::vector<Relationship>& relationships) {
  if (const json::Value* describes = document.find("documentDescribes"); describes != nullptr) {
    if (!describes->is_array()) return field_error("documentDescribes", "is not an array");
    if (!describes->as_array().empty()) {
      if (!describes->as_array()[0].is_string()) return field_error("documentDescribes[0]", "is not a string");
      return describes->as_array()[0].as_string();
    }
  }
  for (const Relationship& r : relationships) {
    if (r.from == "SPDXRef-DOCUMENT" && r.type == "DESCRIBES") return r.to;
  }
  return field_error("documentDescribes", "is missing and no relationship DESCRIBES a package");
}

Result<void> read_creation_info(const json::Value& document, Sbom& sbom) {
  const json::Value* info = document.find("creationInfo");
  if (info == nullptr) return field_error("creationInfo", "is missing");
  if (!info->is_object()) return field_error("creationInfo", "is not an object");
  auto created = required_string(*info, "created", "creationInfo.");
  if (!created) return std::move(created).error();
  sbom.created = std::move(*created);
  const json::Value* creators = info->find("creators");
  if (creators == nullptr) return field_error("creationInfo.creators", "is missing");
  if (!creators->is_array()) return field_error("creationInfo.creators", "is not an array");
  for (std::size_t i = 0; i < creators->as_array().size(); ++i) {
    const json::Value& creator = creators->as_array()[i];
    if (!creator.is_string()) return field_error("creationInfo.creators[" + std::to_string(i) + "]", "is not a string");
    if (sbom.creator_tool.empty() && creator.as_string().rfind(kToolPrefix, 0) == 0) {
      sbom.creator_tool = creator.as_string().substr(kToolPrefix.size());
    }
  }
  return ok();
}

// ---- package-lock.json --------------------------------------------------------------------------

Error lock_error(std::string_view problem) { return invalid_argument("package-lock.json: " + std::string(problem)); }

}  // namespace

std::string Component::purl() const {
  std::string out = "pkg:";
  std::vector<std::pair<std::string, std::string>> qualifiers;
  if (ecosystem == "debian") {
    out += "deb/debian/" + percent_encode(name);
    qualifiers = {{"arch", arch}, {"distro", distro}};
  } else if (ecosystem == "npm") {
    out += "npm/";
    const auto slash = name.find('/');
    if (!name.empty() && name.front() == '@' && slash != std::string::npos) {
      out += percent_encode(name.substr(0, slash)) + "/" + percent_encode(name.substr(slash + 1));
    } else {
      out += percent_encode(name);
    }
  } else {
    out += (ecosystem.empty() ? std::string("generic") : ecosystem) + "/" + percent_encode(name);
  }
  if (!version.empty()) out += "@" + percent_encode(version);
  char separator = '?';
  for (const auto& [key, value] : qualifiers) {  // already in lexicographic order of key
    if (value.empty()) continue;
    out += separator;
    out += key + "=" + percent_encode(value);
    separator = '&';
  }
  return out;
}

std::string to_spdx_json(const Sbom& sbom) {
  std::vector<Component> components = sbom.components;
  if (components.size() > 1) {
    std::sort(components.begin() + 1, components.end(),
              [](const Component& a, const Component& b) { return sort_key(a) < sort_key(b); });
  }
  std::set<std::string> taken;
  std::vector<std::string> ids;
  ids.reserve(components.size());
  for (const Component& component : components) ids.push_back(spdx_id_for(component, taken));

  json::Writer w;
  w.begin_object();
  w.key("spdxVersion").string("SPDX-2.3");
  w.key("dataLicense").string("CC0-1.0");
  w.key("SPDXID").string("SPDXRef-DOCUMENT");
  w.key("name").string(sbom.name);
  w.key("documentNamespace").string(sbom.document_namespace);
  w.key("creationInfo").begin_object();
  w.key("created").string(sbom.created);
  w.key("creators").begin_array().string(std::string(kToolPrefix) + sbom.creator_tool).end_array();
  w.end_object();
  w.key("documentDescribes").begin_array();
  if (!ids.empty()) w.string(ids[0]);
  w.end_array();
  w.key("packages").begin_array();
  for (std::size_t i = 0; i < components.size(); ++i) write_package(w, components[i], ids[i], i == 0);
  w.end_array();
  w.key("relationships").begin_array();
  if (!ids.empty()) write_relationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", ids[0]);
  for (std::size_t i = 1; i < components.size(); ++i) {
    if (components[i].dev) {
      write_relationship(w, ids[i], "DEV_DEPENDENCY_OF", ids[0]);
    } else {
      write_relationship(w, ids[0], "DEPENDS_ON", ids[i]);
    }
  }
  w.end_array();
  w.end_object();
  std::string out = w.take();
  out += '\n';
  return out;
}

Result<Sbom> parse_spdx_json(std::string_view json_text) {
  auto parsed = json::parse(json_text, {.max_depth = 64, .max_bytes = 256 * 1024 * 1024});
  if (!parsed) return invalid_argument("SPDX document: " + parsed.error().message);
  const json::Value& document = *parsed;
  if (!document.is_object()) return field_error("document", "is not a JSON object");
  auto version = required_string(document, "spdxVersion", "");
  if (!version) return std::move(version).error();
  if (*version != "SPDX-2.3" && *version != "SPDX-2.2")
    return field_error("spdxVersion", "is not SPDX-2.2 or SPDX-2.3");
  Sbom sbom;
  auto name = optional_string(document, "name", "");
  if (!name) return std::move(name).error();
  sbom.name = name->value_or("");
  auto document_namespace = optional_string(document, "documentNamespace", "");
  if (!document_namespace) return std::move(document_namespace).error();
  sbom.document_namespace = document_namespace->value_or("");
  HERALD_TRY(read_creation_info(document, sbom));

  const json::Value* packages = document.find("packages");
  if (packages == nullptr) return field_error("packages", "is missing");
  if (!packages->is_array()) return field_error("packages", "is not an array");
  if (packages->as_array().empty()) return sbom;
  auto relationships = read_relationships(document);
  if (!relationships) return std::move(relationships).error();
  auto described = described_id(document, *relationships);
  if (!described) return std::move(described).error();

  std::optional<Component> root;
  std::vector<std::pair<std::string, Component>> others;  // SPDXID, component
  for (std::size_t i = 0; i < packages->as_array().size(); ++i) {
    const json::Value& package = packages->as_array()[i];
    const std::string where = "packages[" + std::to_string(i) + "].";
    std::string spdx_id;
    if (package.is_object()) {
      auto id = required_string(package, "SPDXID", where);
      if (!id) return std::move(id).error();
      spdx_id = std::move(*id);
    }
    const bool is_root = spdx_id == *described;
    auto component = read_package(package, where, is_root);
    if (!component) return std::move(component).error();
    if (!component->has_value()) continue;
    if (is_root) {
      root = std::move(**component);
    } else {
      others.emplace_back(std::move(spdx_id), std::move(**component));
    }
  }
  if (!root) return field_error("documentDescribes", "names " + *described + ", which is not among the packages");
  std::set<std::string> dev_ids;
  for (const Relationship& r : *relationships) {
    if (r.type == "DEV_DEPENDENCY_OF" && r.to == *described) dev_ids.insert(r.from);
  }
  sbom.components.push_back(std::move(*root));
  for (auto& [id, component] : others) {
    component.dev = dev_ids.count(id) > 0;
    sbom.components.push_back(std::move(component));
  }
  return sbom;
}

Result<std::vector<Component>> npm_components_from_lock(std::string_view lock_json) {
  auto parsed = json::parse(lock_json, {.max_depth = 64, .max_bytes = 256 * 1024 * 1024});
  if (!parsed) return lock_error(parsed.error().message);
  const json::Value& lock = *parsed;
  if (!lock.is_object()) return lock_error("not a JSON object");
  const json::Value* lockfile_version = lock.find("lockfileVersion");
  if (lockfile_version == nullptr || !lockfile_version->as_int64()) return lock_error("lockfileVersion is missing");
  const std::int64_t version = *lockfile_version->as_int64();
  if (version != 2 && version != 3) {
    return lock_error("lockfileVersion " + std::to_string(version) + " is not supported (2 or 3 is)");
  }
  const json::Value* packages = lock.find("packages");
  if (packages == nullptr || !packages->is_object()) return lock_error("\"packages\" is not an object");

  constexpr std::string_view kNodeModules = "node_modules/";
  std::map<std::pair<std::string, std::string>, Component> found;  // (name, version)
  for (const auto& [path, entry] : packages->as_object()) {
    const auto last = path.rfind(kNodeModules);
    if (last == std::string::npos || (last != 0 && path[last - 1] != '/')) continue;  // root or workspace folder
    if (!entry.is_object()) return lock_error("packages[\"" + path + "\"] is not an object");
    if (const json::Value* link = entry.find("link"); link != nullptr && link->is_bool() && link->as_bool()) continue;
    const json::Value* version_value = entry.find("version");
    if (version_value == nullptr) continue;  // an optional or peer package that is not installed
    if (!version_value->is_string()) return lock_error("packages[\"" + path + "\"].version is not a string");
    Component component;
    component.ecosystem = "npm";
    component.name = path.substr(last + kNodeModules.size());
    if (const json::Value* name = entry.find("name"); name != nullptr && name->is_string()) {
      component.name = name->as_string();
    }
    if (component.name.empty()) return lock_error("packages[\"" + path + "\"] has no package name");
    component.version = version_value->as_string();
    const json::Value* license = entry.find("license");
    component.license = license != nullptr && license->is_string() ? license_or_noassertion(license->as_string())
                                                                   : std::string(kNoAssertion);
    const json::Value* dev = entry.find("dev");
    component.dev = dev != nullptr && dev->is_bool() && dev->as_bool();
    const auto key = std::make_pair(component.name, component.version);
    if (auto it = found.find(key); it != found.end()) {
      it->second.dev = it->second.dev && component.dev;
    } else {
      found.emplace(key, std::move(component));
    }
  }
  std::vector<Component> components;
  components.reserve(found.size());
  for (auto& [key, component] : found) components.push_back(std::move(component));
  return components;
}

}  // namespace herald::release
