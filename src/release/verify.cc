#include "release/verify.h"

namespace herald::release {
namespace {

Error refused(std::string message) { return Error{ErrorCode::kPermissionDenied, std::move(message)}; }

Result<std::string> verified_payload(std::string_view envelope_json, std::string_view what,
                                     std::string_view payload_type, std::span<const TrustedKey> keys,
                                     std::string_view role) {
  auto envelope = parse_envelope(envelope_json);
  if (!envelope) return invalid_argument(std::string(what) + ": " + envelope.error().message);
  auto payload = verify_envelope(*envelope, payload_type, keys, role);
  if (!payload) return refused(std::string(what) + ": " + payload.error().message);
  return payload;
}

}  // namespace

const Artifact& VerifiedRelease::binary() const {
  // verify_release refuses a release whose metadata has no binary, so this always finds it.
  return *find_artifact(metadata.artifacts, kBinaryFile);
}

Result<AcceptanceRecord> verify_acceptance(std::string_view envelope_json, const ReleaseMetadata& metadata,
                                           std::span<const TrustedKey> keys) {
  auto payload = verified_payload(envelope_json, "acceptance record", kAcceptancePayloadType, keys, "staging");
  if (!payload) return payload.error();
  auto record = parse_acceptance_record(*payload);
  if (!record) return record.error();
  const Artifact* binary = find_artifact(metadata.artifacts, kBinaryFile);
  if (binary == nullptr || record->binary_sha256 != binary->sha256) {
    return failed_precondition("the acceptance record is for binary " + record->binary_sha256 +
                               ", not this release's " + (binary ? binary->sha256 : std::string("(none)")) +
                               ": the release has not passed staging");
  }
  if (record->version != metadata.version || record->commit != metadata.commit) {
    return failed_precondition("the acceptance record is for " + record->version + " (" + record->commit + "), not " +
                               metadata.version + " (" + metadata.commit + ")");
  }
  if (!record->passed()) {
    std::string failed;
    for (const auto& c : record->checks) {
      if (!c.passed) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    return failed_precondition("the release failed staging acceptance" +
                               (failed.empty() ? std::string(" (no checks ran)") : ": " + failed));
  }
  return record;
}

Result<VerifiedRelease> verify_release(const ReleaseEvidence& evidence, std::span<const TrustedKey> keys, Stage stage,
                                       Timestamp now) {
  auto metadata_payload =
      verified_payload(evidence.release_envelope, "release metadata", kReleasePayloadType, keys, "release");
  if (!metadata_payload) return metadata_payload.error();
  auto metadata = parse_release_metadata(*metadata_payload);
  if (!metadata) return metadata.error();
  if (now >= metadata->expires) {
    return failed_precondition("release " + metadata->version + "'s metadata expired at " +
                               format_timestamp(metadata->expires) +
                               ": nothing is installed from it until a fresh signature renews it");
  }
  if (find_artifact(metadata->artifacts, kBinaryFile) == nullptr) {
    return invalid_argument("release metadata lists no '" + std::string(kBinaryFile) + "' binary");
  }
  if (find_artifact(metadata->artifacts, kProvenanceFile) == nullptr) {
    return invalid_argument("release metadata lists no provenance");
  }
  for (const auto& listed : metadata->artifacts) {
    const Artifact* present = find_artifact(evidence.files, listed.name);
    if (present == nullptr) return Error{ErrorCode::kDataLoss, "release file " + listed.name + " is missing"};
    if (present->sha256 != listed.sha256 || present->size != listed.size) {
      return Error{ErrorCode::kDataLoss, "release file " + listed.name + " is not the file that was signed (sha256 " +
                                             present->sha256 + ", signed " + listed.sha256 + ")"};
    }
  }
  auto provenance_payload =
      verified_payload(evidence.provenance_envelope, "provenance", kInTotoPayloadType, keys, "release");
  if (!provenance_payload) return provenance_payload.error();
  auto provenance = parse_provenance_statement(*provenance_payload);
  if (!provenance) return provenance.error();
  if (provenance->commit != metadata->commit) {
    return refused("the provenance is for commit " + provenance->commit + ", not the release's " + metadata->commit);
  }
  bool binary_attested = false;
  for (const auto& subject : provenance->subjects) {
    const Artifact* listed = find_artifact(metadata->artifacts, subject.name);
    if (listed == nullptr || listed->sha256 != subject.sha256) {
      return refused("the provenance attests " + subject.name + " sha256 " + subject.sha256 +
                     ", which is not this release's file");
    }
    binary_attested = binary_attested || subject.name == kBinaryFile;
  }
  if (!binary_attested) return refused("the provenance does not attest the binary");
  VerifiedRelease verified{std::move(*metadata), std::move(*provenance), std::nullopt};
  if (stage == Stage::kLive) {
    if (evidence.acceptance_envelope.empty()) {
      return failed_precondition("release " + verified.metadata.version +
                                 " has no acceptance record: it must pass staging before live");
    }
    auto record = verify_acceptance(evidence.acceptance_envelope, verified.metadata, keys);
    if (!record) return record.error();
    verified.acceptance = std::move(*record);
  }
  return verified;
}

}  // namespace herald::release
