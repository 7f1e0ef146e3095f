#pragma once
// Whether a release may go to a stage: every check `herald release verify`, `herald promote` and
// `herald deploy` make, in one place and without I/O (the caller reads the release directory and
// measures its files).
//
// For either stage: the release metadata is signed by a trusted release key and not past its
// expiry; every file it lists is present with its digest and size; the provenance is signed by a
// trusted release key, is for the metadata's commit, and every subject it names is one of the
// release's files with the same digest (the binary among them). For live, also: an acceptance
// record signed by a trusted staging key, for this version and this binary's digest, that passed.
// Each refusal is kPermissionDenied (a signature or trust failure), kDataLoss (a file that is
// not what was signed) or kFailedPrecondition (expired; not accepted on staging), with a message
// that says which check failed.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "release/dsse.h"
#include "release/statements.h"

namespace herald::release {

// The files of a release directory.
inline constexpr std::string_view kReleaseFile = "release.dsse.json";
inline constexpr std::string_view kProvenanceFile = "provenance.dsse.json";
inline constexpr std::string_view kAcceptanceFile = "acceptance.dsse.json";
inline constexpr std::string_view kSbomFile = "sbom.spdx.json";
inline constexpr std::string_view kBinaryFile = "herald";

enum class Stage { kStaging, kLive };

struct ReleaseEvidence {
  std::string release_envelope;     // release.dsse.json's text
  std::string provenance_envelope;  // provenance.dsse.json's text
  std::string acceptance_envelope;  // acceptance.dsse.json's text; "" when there is none
  std::vector<Artifact> files;      // every file in the directory, measured
};

struct VerifiedRelease {
  ReleaseMetadata metadata;
  Provenance provenance;
  std::optional<AcceptanceRecord> acceptance;  // set when checked (live)
  const Artifact& binary() const;              // the metadata's entry for the binary
};

Result<VerifiedRelease> verify_release(const ReleaseEvidence& evidence, std::span<const TrustedKey> keys, Stage stage,
                                       Timestamp now);

// The acceptance record's own checks against a verified release (used by verify_release for live,
// and by `herald acceptance run` before it signs).
Result<AcceptanceRecord> verify_acceptance(std::string_view envelope_json, const ReleaseMetadata& metadata,
                                           std::span<const TrustedKey> keys);

}  // namespace herald::release
