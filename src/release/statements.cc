#include "release/statements.h"

#include <charconv>

#include "core/json.h"

namespace herald::release {
namespace {

// Field readers for the parsers: each error names the document and the field.
class Reader {
 public:
  explicit Reader(std::string document) : document_(std::move(document)) {}

  Error missing(std::string_view field, std::string_view what) const {
    return invalid_argument(document_ + ": " + std::string(field) + " is not " + std::string(what));
  }
  Result<const json::Value*> object(const json::Value& parent, std::string_view field) const {
    const auto* v = parent.find(field);
    if (!v || !v->is_object()) return missing(field, "an object");
    return v;
  }
  Result<const json::Array*> array(const json::Value& parent, std::string_view field) const {
    const auto* v = parent.find(field);
    if (!v || !v->is_array()) return missing(field, "an array");
    return &v->as_array();
  }
  Result<std::string> string(const json::Value& parent, std::string_view field) const {
    const auto* v = parent.find(field);
    if (!v || !v->is_string()) return missing(field, "a string");
    return v->as_string();
  }
  Result<Timestamp> time(const json::Value& parent, std::string_view field) const {
    auto text = string(parent, field);
    if (!text) return text.error();
    auto t = parse_timestamp(*text);
    if (!t) return missing(field, "a timestamp (2026-01-31T12:00:00.000000Z)");
    return *t;
  }
  Result<std::int64_t> integer(const json::Value& parent, std::string_view field) const {
    const auto* v = parent.find(field);
    const auto n = v && v->is_number() ? v->as_int64() : std::nullopt;
    if (!n || *n < 0) return missing(field, "a non-negative integer");
    return *n;
  }

 private:
  std::string document_;
};

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<json::Value> parse_document(std::string_view text, const std::string& document) {
  auto doc = json::parse(text);
  if (!doc) return invalid_argument(document + ": " + doc.error().message);
  if (!doc->is_object()) return invalid_argument(document + ": not a JSON object");
  return doc;
}

void write_artifacts(json::Writer& w, const std::vector<Artifact>& artifacts) {
  w.begin_array();
  for (const auto& a : artifacts) {
    w.begin_object().key("name").string(a.name).key("sha256").string(a.sha256);
    w.key("size").integer(static_cast<std::int64_t>(a.size)).end_object();
  }
  w.end_array();
}

Result<std::vector<Artifact>> read_artifacts(const Reader& r, const json::Value& parent) {
  auto items = r.array(parent, "artifacts");
  if (!items) return items.error();
  std::vector<Artifact> out;
  for (const auto& item : **items) {
    auto name = r.string(item, "name");
    auto digest = r.string(item, "sha256");
    auto size = r.integer(item, "size");
    if (!name) return name.error();
    if (!digest || !is_sha256_hex(*digest)) return r.missing("artifacts[].sha256", "64 lower-case hex digits");
    if (!size) return size.error();
    out.push_back({std::move(*name), std::move(*digest), static_cast<std::uint64_t>(*size)});
  }
  return out;
}

}  // namespace

std::string provenance_statement_json(const Provenance& p) {
  json::Writer w;
  w.begin_object().key("_type").string(kStatementType);
  w.key("subject").begin_array();
  for (const auto& s : p.subjects) {
    w.begin_object().key("name").string(s.name).key("digest").begin_object().key("sha256").string(s.sha256);
    w.end_object().end_object();
  }
  w.end_array();
  w.key("predicateType").string(kSlsaProvenanceType);
  w.key("predicate").begin_object();
  w.key("buildDefinition").begin_object().key("buildType").string(kBuildType);
  w.key("externalParameters").begin_object();
  w.key("source").begin_object().key("repository").string(p.repository).key("commit").string(p.commit);
  w.key("signedRange").string(p.commit_range).end_object();
  w.key("command").string(p.build_command).end_object();
  w.key("internalParameters").begin_object().key("SOURCE_DATE_EPOCH").string(p.source_date_epoch);
  w.key("reproducedBuilds").integer(p.reproduced_builds).end_object();
  w.key("resolvedDependencies").begin_array();
  w.begin_object().key("uri").string("git+" + p.repository + "@" + p.commit);
  w.key("digest").begin_object().key("gitCommit").string(p.commit).end_object().end_object();
  for (const auto& [tool, version] : p.tools) {
    w.begin_object().key("name").string(tool).key("annotations").begin_object().key("version").string(version);
    w.end_object().end_object();
  }
  w.end_array().end_object();
  w.key("runDetails").begin_object();
  w.key("builder").begin_object().key("id").string(p.builder_id).end_object();
  w.key("metadata").begin_object().key("invocationId").string(p.invocation_id);
  w.key("startedOn").string(format_timestamp(p.started_on)).key("finishedOn").string(format_timestamp(p.finished_on));
  w.end_object().end_object();
  w.end_object().end_object();
  return w.take() + "\n";
}

Result<Provenance> parse_provenance_statement(std::string_view text) {
  const std::string document = "provenance";
  auto doc = parse_document(text, document);
  if (!doc) return doc.error();
  const Reader r(document);
  auto type = r.string(*doc, "_type");
  auto predicate_type = r.string(*doc, "predicateType");
  if (!type || *type != kStatementType) return r.missing("_type", kStatementType);
  if (!predicate_type || *predicate_type != kSlsaProvenanceType) return r.missing("predicateType", kSlsaProvenanceType);
  Provenance p;
  auto subjects = r.array(*doc, "subject");
  if (!subjects) return subjects.error();
  for (const auto& s : **subjects) {
    auto name = r.string(s, "name");
    auto digest = r.object(s, "digest");
    if (!name) return name.error();
    if (!digest) return digest.error();
    auto sha = r.string(**digest, "sha256");
    if (!sha || !is_sha256_hex(*sha)) return r.missing("subject[].digest.sha256", "64 lower-case hex digits");
    p.subjects.push_back({std::move(*name), std::move(*sha), 0});
  }
  auto predicate = r.object(*doc, "predicate");
  if (!predicate) return predicate.error();
  auto definition = r.object(**predicate, "buildDefinition");
  if (!definition) return definition.error();
  auto build_type = r.string(**definition, "buildType");
  if (!build_type || *build_type != kBuildType) return r.missing("buildDefinition.buildType", kBuildType);
  auto external = r.object(**definition, "externalParameters");
  if (!external) return external.error();
  auto source = r.object(**external, "source");
  if (!source) return source.error();
  auto repository = r.string(**source, "repository");
  auto commit = r.string(**source, "commit");
  auto range = r.string(**source, "signedRange");
  auto command = r.string(**external, "command");
  for (auto* field : {&repository, &commit, &range, &command}) {
    if (!*field) return field->error();
  }
  p.repository = std::move(*repository);
  p.commit = std::move(*commit);
  p.commit_range = std::move(*range);
  p.build_command = std::move(*command);
  auto internal = r.object(**definition, "internalParameters");
  if (!internal) return internal.error();
  auto epoch = r.string(**internal, "SOURCE_DATE_EPOCH");
  auto reproduced = r.integer(**internal, "reproducedBuilds");
  if (!epoch) return epoch.error();
  if (!reproduced) return reproduced.error();
  p.source_date_epoch = std::move(*epoch);
  p.reproduced_builds = static_cast<int>(*reproduced);
  auto dependencies = r.array(**definition, "resolvedDependencies");
  if (!dependencies) return dependencies.error();
  for (const auto& d : **dependencies) {
    const auto* name = d.find("name");
    const auto* annotations = d.find("annotations");
    const auto* version = annotations ? annotations->find("version") : nullptr;
    if (name && name->is_string() && version && version->is_string()) {
      p.tools.emplace_back(name->as_string(), version->as_string());
    }
  }
  auto run = r.object(**predicate, "runDetails");
  if (!run) return run.error();
  auto builder = r.object(**run, "builder");
  auto metadata = r.object(**run, "metadata");
  if (!builder) return builder.error();
  if (!metadata) return metadata.error();
  auto builder_id = r.string(**builder, "id");
  auto invocation = r.string(**metadata, "invocationId");
  auto started = r.time(**metadata, "startedOn");
  auto finished = r.time(**metadata, "finishedOn");
  if (!builder_id) return builder_id.error();
  if (!invocation) return invocation.error();
  if (!started) return started.error();
  if (!finished) return finished.error();
  p.builder_id = std::move(*builder_id);
  p.invocation_id = std::move(*invocation);
  p.started_on = *started;
  p.finished_on = *finished;
  return p;
}

std::string release_metadata_json(const ReleaseMetadata& m) {
  json::Writer w;
  w.begin_object().key("version").string(m.version).key("commit").string(m.commit);
  w.key("created").string(format_timestamp(m.created)).key("expires").string(format_timestamp(m.expires));
  w.key("artifacts");
  write_artifacts(w, m.artifacts);
  w.end_object();
  return w.take() + "\n";
}

Result<ReleaseMetadata> parse_release_metadata(std::string_view text) {
  const std::string document = "release metadata";
  auto doc = parse_document(text, document);
  if (!doc) return doc.error();
  const Reader r(document);
  auto version = r.string(*doc, "version");
  auto commit = r.string(*doc, "commit");
  auto created = r.time(*doc, "created");
  auto expires = r.time(*doc, "expires");
  auto artifacts = read_artifacts(r, *doc);
  if (!version) return version.error();
  if (auto ok = compare_release_versions(*version, *version); !ok) return ok.error();
  if (!commit) return commit.error();
  if (!created) return created.error();
  if (!expires) return expires.error();
  if (!artifacts) return artifacts.error();
  return ReleaseMetadata{std::move(*version), std::move(*commit), *created, *expires, std::move(*artifacts)};
}

bool AcceptanceRecord::passed() const {
  if (checks.empty()) return false;
  for (const auto& c : checks) {
    if (!c.passed) return false;
  }
  return true;
}

std::string acceptance_record_json(const AcceptanceRecord& a) {
  json::Writer w;
  w.begin_object().key("version").string(a.version).key("commit").string(a.commit);
  w.key("binary_sha256").string(a.binary_sha256).key("staging_url").string(a.staging_url);
  w.key("staging_node").string(a.staging_node).key("ran_at").string(format_timestamp(a.ran_at));
  w.key("passed").boolean(a.passed()).key("checks").begin_array();
  for (const auto& c : a.checks) {
    w.begin_object().key("name").string(c.name).key("passed").boolean(c.passed).key("detail").string(c.detail);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take() + "\n";
}

Result<AcceptanceRecord> parse_acceptance_record(std::string_view text) {
  const std::string document = "acceptance record";
  auto doc = parse_document(text, document);
  if (!doc) return doc.error();
  const Reader r(document);
  AcceptanceRecord a;
  for (auto [field, out] :
       {std::pair{"version", &a.version}, std::pair{"commit", &a.commit}, std::pair{"binary_sha256", &a.binary_sha256},
        std::pair{"staging_url", &a.staging_url}, std::pair{"staging_node", &a.staging_node}}) {
    auto value = r.string(*doc, field);
    if (!value) return value.error();
    *out = std::move(*value);
  }
  if (!is_sha256_hex(a.binary_sha256)) return r.missing("binary_sha256", "64 lower-case hex digits");
  auto ran_at = r.time(*doc, "ran_at");
  if (!ran_at) return ran_at.error();
  a.ran_at = *ran_at;
  auto checks = r.array(*doc, "checks");
  if (!checks) return checks.error();
  for (const auto& c : **checks) {
    auto name = r.string(c, "name");
    auto detail = r.string(c, "detail");
    const auto* passed = c.find("passed");
    if (!name) return name.error();
    if (!detail) return detail.error();
    if (!passed || !passed->is_bool()) return r.missing("checks[].passed", "a boolean");
    a.checks.push_back({std::move(*name), passed->as_bool(), std::move(*detail)});
  }
  return a;
}

const Artifact* find_artifact(const std::vector<Artifact>& artifacts, std::string_view name) {
  for (const auto& a : artifacts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<int> compare_release_versions(std::string_view a, std::string_view b) {
  auto parts = [](std::string_view v) -> std::optional<std::vector<std::uint64_t>> {
    std::vector<std::uint64_t> out;
    while (true) {
      const auto dot = v.find('.');
      const auto part = v.substr(0, dot);
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
      if (part.empty() || ec != std::errc() || end != part.data() + part.size() ||
          (part.size() > 1 && part.front() == '0')) {
        return std::nullopt;
      }
      out.push_back(n);
      if (dot == std::string_view::npos) return out;
      v.remove_prefix(dot + 1);
    }
  };
  const auto x = parts(a);
  const auto y = parts(b);
  if (!x) return invalid_argument("release version '" + std::string(a) + "' is not numbers separated by dots");
  if (!y) return invalid_argument("release version '" + std::string(b) + "' is not numbers separated by dots");
  for (std::size_t i = 0; i < std::max(x->size(), y->size()); ++i) {
    const auto p = i < x->size() ? (*x)[i] : 0;
    const auto q = i < y->size() ? (*y)[i] : 0;
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

}  // namespace herald::release
