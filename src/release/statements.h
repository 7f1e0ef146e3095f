#pragma once
// The signed documents of the code chain (docs/formats/release.md), each carried in a DSSE
// envelope (release/dsse.h):
//
// - the provenance: an in-toto Statement v1 whose predicate is SLSA Provenance v1. Its subjects
//   are the release's artifacts by SHA-256; it names the source commit, the signed commit range,
//   the build command, the tools and the builder. Signed by the release key.
// - the release metadata: version, commit, when made and until when a host may install it
//   (expiry: a stale channel is frozen, not trusted for ever), and every file of the release
//   with its digest and size. Signed by the release key.
// - the acceptance record: that the release's binary, by digest, passed the acceptance suite on
//   a staging node. Signed by the staging key; `herald promote --to live` requires it.
//
// Parsers accept what the writers write and refuse anything else with kInvalidArgument naming
// the field. All times are format_timestamp's ("2026-12-05T10:00:00.000000Z").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace herald::release {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kReleasePayloadType = "application/vnd.herald.release.v1+json";
inline constexpr std::string_view kAcceptancePayloadType = "application/vnd.herald.acceptance.v1+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kSlsaProvenanceType = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kBuildType = "urn:herald:release-build:v1";

struct Artifact {
  std::string name;    // file name inside the release directory
  std::string sha256;  // lower-case hex
  std::uint64_t size = 0;
};

struct Provenance {
  std::vector<Artifact> subjects;
  std::string repository;     // where the source came from (a path or URL of the git repository)
  std::string commit;         // the commit built (40 hex)
  std::string commit_range;   // the range whose signatures were checked ("<base>..<commit>")
  std::string build_command;  // what was run
  std::string source_date_epoch;
  std::vector<std::pair<std::string, std::string>> tools;  // build tools and their versions
  std::string builder_id;                                  // who built it ("urn:herald:builder:<host>")
  std::string invocation_id;
  Timestamp started_on{};
  Timestamp finished_on{};
  int reproduced_builds = 0;  // how many clean builds gave identical artifacts
};

std::string provenance_statement_json(const Provenance& provenance);
Result<Provenance> parse_provenance_statement(std::string_view json);

struct ReleaseMetadata {
  std::string version;
  std::string commit;
  Timestamp created{};
  Timestamp expires{};
  std::vector<Artifact> artifacts;
};

std::string release_metadata_json(const ReleaseMetadata& metadata);
Result<ReleaseMetadata> parse_release_metadata(std::string_view json);

struct AcceptanceCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct AcceptanceRecord {
  std::string version;
  std::string commit;
  std::string binary_sha256;  // the digest the staging node reported it was running
  std::string staging_url;
  std::string staging_node;
  Timestamp ran_at{};
  std::vector<AcceptanceCheck> checks;
  bool passed() const;
};

std::string acceptance_record_json(const AcceptanceRecord& record);
Result<AcceptanceRecord> parse_acceptance_record(std::string_view json);

// The artifact named `name`, or nullptr.
const Artifact* find_artifact(const std::vector<Artifact>& artifacts, std::string_view name);

// Release versions in order ("0.14.0" < "0.14.1" < "0.15.0"): numeric dot-separated parts,
// compared part by part. kInvalidArgument for anything else.
Result<int> compare_release_versions(std::string_view a, std::string_view b);

}  // namespace herald::release
