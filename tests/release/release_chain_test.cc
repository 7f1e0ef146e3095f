// The code chain's signed documents: key files, DSSE envelopes, the provenance, release metadata
// and acceptance records, and verify_release against each attack the issue names.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/hex.h"
#include "crypto/hmac.h"
#include "crypto/signing.h"
#include "release/dsse.h"
#include "release/statements.h"
#include "release/verify.h"

namespace herald::release {
namespace {

using namespace std::chrono_literals;

const Timestamp kNow = *parse_timestamp("2026-12-05T10:00:00.000000Z");

std::unique_ptr<crypto::Ed25519Signer> new_signer(const std::string& name) {
  auto seed = crypto::generate_ed25519_seed();
  EXPECT_TRUE(seed);
  auto signer = crypto::seed_signer(std::move(*seed), name);
  EXPECT_TRUE(signer);
  return std::move(*signer);
}

std::string digest(std::string_view bytes) { return hex_encode(crypto::sha256(bytes)); }

TEST(ReleaseKeyFile, RoundTripsUnderItsPassphraseOnly) {
  auto seed = crypto::generate_ed25519_seed();
  ASSERT_TRUE(seed);
  auto pem = crypto::ed25519_private_key_pem(*seed, "correct horse battery");
  ASSERT_TRUE(pem) << pem.error().message;
  EXPECT_NE(pem->find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
  auto back = crypto::ed25519_seed_from_pem(*pem, "correct horse battery");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->view(), seed->view());
  auto wrong = crypto::ed25519_seed_from_pem(*pem, "correct horse staple!");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
}

TEST(ReleaseKeyFile, RefusesShortPassphrasesAndUnencryptedKeys) {
  auto seed = crypto::generate_ed25519_seed();
  ASSERT_TRUE(seed);
  EXPECT_FALSE(crypto::ed25519_private_key_pem(*seed, "short"));
  const std::string plain =
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
  auto refused = crypto::ed25519_seed_from_pem(plain, "whatever passphrase");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not encrypted"), std::string::npos);
}

TEST(ReleaseKeyFile, PublicKeyPemRoundTrips) {
  auto signer = new_signer("test");
  auto pem = crypto::ed25519_public_key_pem(signer->public_key());
  ASSERT_TRUE(pem);
  EXPECT_NE(pem->find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  auto raw = crypto::ed25519_public_key_from_pem(*pem);
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, signer->public_key());
  EXPECT_FALSE(crypto::ed25519_public_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
}

TEST(Dsse, PaeIsTheSpecifiedEncoding) {
  // DSSE v1.0's own example of the encoding.
  EXPECT_EQ(pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
}

TEST(Dsse, SignedEnvelopeVerifiesAndSurvivesItsJsonForm) {
  auto signer = new_signer("release");
  const std::vector<TrustedKey> keys{{"release", signer->public_key()}};
  auto envelope = sign_envelope("application/x-test", "payload bytes", *signer);
  ASSERT_TRUE(envelope);
  auto parsed = parse_envelope(envelope_json(*envelope));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->signatures.front().keyid, crypto::ed25519_key_id(signer->public_key()));
  auto payload = verify_envelope(*parsed, "application/x-test", keys, "release");
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(*payload, "payload bytes");
}

TEST(Dsse, RefusesAChangedPayloadAnotherTypeAnUntrustedKeyAndTheWrongRole) {
  auto signer = new_signer("release");
  auto stranger = new_signer("stranger");
  const std::vector<TrustedKey> keys{{"release", signer->public_key()}};
  auto envelope = sign_envelope("application/x-test", "payload", *signer);
  ASSERT_TRUE(envelope);

  auto changed = *envelope;
  changed.payload = "payloaD";
  auto r = verify_envelope(changed, "application/x-test", keys, "release");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().message.find("does not verify"), std::string::npos) << r.error().message;

  // The payload type is signed: the same bytes under another type do not verify.
  auto retyped = *envelope;
  retyped.payload_type = "application/x-other";
  EXPECT_FALSE(verify_envelope(retyped, "application/x-other", keys, "release"));
  EXPECT_FALSE(verify_envelope(*envelope, "application/x-other", keys, "release"));

  auto foreign = sign_envelope("application/x-test", "payload", *stranger);
  ASSERT_TRUE(foreign);
  r = verify_envelope(*foreign, "application/x-test", keys, "release");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a trusted release key"), std::string::npos) << r.error().message;

  const std::vector<TrustedKey> staging_only{{"staging", signer->public_key()}};
  r = verify_envelope(*envelope, "application/x-test", staging_only, "release");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("trusted as a staging key"), std::string::npos) << r.error().message;
}

TEST(Dsse, MalformedEnvelopesAreNamed) {
  EXPECT_FALSE(parse_envelope("[]"));
  EXPECT_FALSE(parse_envelope(R"({"payload":"@@","payloadType":"t","signatures":[{"sig":"AA=="}]})"));
  EXPECT_FALSE(parse_envelope(R"({"payload":"AA==","payloadType":"t","signatures":[]})"));
  auto r = parse_envelope(R"({"payload":"AA==","payloadType":"t","signatures":[{"keyid":"k"}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("signatures[0].sig"), std::string::npos);
}

TEST(Statements, ProvenanceRoundTripsAsAnInTotoStatement) {
  Provenance p;
  p.subjects = {{"herald", std::string(64, 'a'), 0}, {"sbom.spdx.json", std::string(64, 'b'), 0}};
  p.repository = "/srv/herald.git";
  p.commit = std::string(40, 'c');
  p.commit_range = std::string(40, 'd') + ".." + std::string(40, 'c');
  p.build_command = "herald release build --targets herald";
  p.source_date_epoch = "1764930000";
  p.tools = {{"pkg:deb/debian/g++-12", "12.2.0-14"}};
  p.builder_id = "urn:herald:builder:ci";
  p.invocation_id = "0b9f2a4e-0000-4000-8000-000000000000";
  p.started_on = kNow;
  p.finished_on = kNow + 10min;
  p.reproduced_builds = 2;
  const std::string text = provenance_statement_json(p);
  EXPECT_NE(text.find("\"_type\":\"https://in-toto.io/Statement/v1\""), std::string::npos);
  EXPECT_NE(text.find("\"predicateType\":\"https://slsa.dev/provenance/v1\""), std::string::npos);
  auto back = parse_provenance_statement(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->subjects.size(), 2U);
  EXPECT_EQ(back->commit, p.commit);
  EXPECT_EQ(back->commit_range, p.commit_range);
  EXPECT_EQ(back->tools, p.tools);
  EXPECT_EQ(back->reproduced_builds, 2);
  EXPECT_EQ(back->finished_on, p.finished_on);
}

TEST(Statements, ReleaseVersionsCompareNumerically) {
  EXPECT_EQ(*compare_release_versions("0.14.0", "0.14.0"), 0);
  EXPECT_EQ(*compare_release_versions("0.9.0", "0.14.0"), -1);
  EXPECT_EQ(*compare_release_versions("1.0", "0.99.99"), 1);
  EXPECT_EQ(*compare_release_versions("1.0", "1.0.0"), 0);
  EXPECT_FALSE(compare_release_versions("1.0-rc1", "1.0"));
  EXPECT_FALSE(compare_release_versions("01.0", "1.0"));
  EXPECT_FALSE(compare_release_versions("", "1.0"));
}

// A release made in memory: a binary, its provenance and metadata, and (when asked) an acceptance
// record, with `files` measured as a release directory's would be.
struct FakeRelease {
  std::unique_ptr<crypto::Ed25519Signer> release_key = new_signer("release");
  std::unique_ptr<crypto::Ed25519Signer> staging_key = new_signer("staging");
  std::vector<TrustedKey> keys{{"release", release_key->public_key()}, {"staging", staging_key->public_key()}};
  std::string binary = "the herald binary, version 0.15.0";
  std::string commit = std::string(40, '1');
  std::string version = "0.15.0";
  Timestamp expires = kNow + 24h;
  ReleaseEvidence evidence;

  void make(bool accepted = false) {
    Provenance p;
    p.subjects = {{"herald", digest(binary), 0}};
    p.repository = "/srv/herald.git";
    p.commit = commit;
    p.commit_range = commit;
    p.build_command = "herald release build";
    p.source_date_epoch = "1764930000";
    p.builder_id = "urn:herald:builder:test";
    p.invocation_id = "i";
    p.started_on = kNow - 1h;
    p.finished_on = kNow - 1h;
    p.reproduced_builds = 2;
    auto provenance = sign_envelope(std::string(kInTotoPayloadType), provenance_statement_json(p), *release_key);
    ASSERT_TRUE(provenance);
    evidence.provenance_envelope = envelope_json(*provenance);
    evidence.files = {
        {"herald", digest(binary), binary.size()},
        {"provenance.dsse.json", digest(evidence.provenance_envelope), evidence.provenance_envelope.size()}};
    ReleaseMetadata m{version, commit, kNow - 1h, expires, evidence.files};
    auto metadata = sign_envelope(std::string(kReleasePayloadType), release_metadata_json(m), *release_key);
    ASSERT_TRUE(metadata);
    evidence.release_envelope = envelope_json(*metadata);
    if (accepted) accept(digest(binary));
  }

  void accept(const std::string& binary_sha256, bool passed = true) {
    AcceptanceRecord a{version, commit, binary_sha256, "https://staging:8443", "staging-1", kNow, {}};
    a.checks = {{"send_email", passed, passed ? "accepted" : "refused"}};
    auto record = sign_envelope(std::string(kAcceptancePayloadType), acceptance_record_json(a), *staging_key);
    ASSERT_TRUE(record);
    evidence.acceptance_envelope = envelope_json(*record);
  }
};

TEST(VerifyRelease, AGoodReleaseVerifiesForStagingAndWithItsRecordForLive) {
  FakeRelease r;
  r.make();
  auto staging = verify_release(r.evidence, r.keys, Stage::kStaging, kNow);
  ASSERT_TRUE(staging) << staging.error().message;
  EXPECT_EQ(staging->metadata.version, "0.15.0");
  EXPECT_EQ(staging->binary().sha256, digest(r.binary));
  auto live = verify_release(r.evidence, r.keys, Stage::kLive, kNow);
  ASSERT_FALSE(live);
  EXPECT_NE(live.error().message.find("must pass staging"), std::string::npos);
  r.accept(digest(r.binary));
  live = verify_release(r.evidence, r.keys, Stage::kLive, kNow);
  ASSERT_TRUE(live) << live.error().message;
  EXPECT_EQ(live->acceptance->staging_node, "staging-1");
}

TEST(VerifyRelease, AFlippedByteInTheArtifactIsRefused) {
  FakeRelease r;
  r.make();
  r.binary[5] ^= 1;
  r.evidence.files[0] = {"herald", digest(r.binary), r.binary.size()};
  auto v = verify_release(r.evidence, r.keys, Stage::kStaging, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kDataLoss);
  EXPECT_NE(v.error().message.find("not the file that was signed"), std::string::npos);
}

TEST(VerifyRelease, AValidSignatureOverAnotherArtifactIsRefused) {
  FakeRelease r;
  r.make();
  FakeRelease other;
  other.release_key = std::move(r.release_key);  // the same, trusted key signs another release
  other.keys = r.keys;
  other.binary = "a different binary";
  other.make();
  // The other release's (validly signed) metadata, with this release's files.
  r.evidence.release_envelope = other.evidence.release_envelope;
  auto v = verify_release(r.evidence, r.keys, Stage::kStaging, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kDataLoss);
}

TEST(VerifyRelease, AProvenanceForAnotherCommitIsRefused) {
  FakeRelease r;
  r.make();
  FakeRelease other;
  other.release_key = std::move(r.release_key);
  other.keys = r.keys;
  other.commit = std::string(40, '2');
  other.make();
  // Another commit's provenance, for the same binary, with metadata listing it.
  r.evidence.provenance_envelope = other.evidence.provenance_envelope;
  r.evidence.files[1] = {"provenance.dsse.json", digest(r.evidence.provenance_envelope),
                         r.evidence.provenance_envelope.size()};
  ReleaseMetadata m{r.version, r.commit, kNow - 1h, r.expires, r.evidence.files};
  auto metadata = sign_envelope(std::string(kReleasePayloadType), release_metadata_json(m), *other.release_key);
  ASSERT_TRUE(metadata);
  r.evidence.release_envelope = envelope_json(*metadata);
  auto v = verify_release(r.evidence, r.keys, Stage::kStaging, kNow);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("provenance is for commit"), std::string::npos) << v.error().message;
}

TEST(VerifyRelease, ExpiredMetadataIsFrozen) {
  FakeRelease r;
  r.expires = kNow + 1h;
  r.make();
  EXPECT_TRUE(verify_release(r.evidence, r.keys, Stage::kStaging, kNow));
  auto v = verify_release(r.evidence, r.keys, Stage::kStaging, kNow + 1h);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(v.error().message.find("expired"), std::string::npos);
}

TEST(VerifyRelease, AStagingRecordForAnotherDigestOrAFailedRunIsRefused) {
  FakeRelease r;
  r.make();
  r.accept(digest("some other binary"));
  auto v = verify_release(r.evidence, r.keys, Stage::kLive, kNow);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("has not passed staging"), std::string::npos) << v.error().message;
  r.accept(digest(r.binary), false);
  v = verify_release(r.evidence, r.keys, Stage::kLive, kNow);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("failed staging acceptance: send_email"), std::string::npos);
}

TEST(VerifyRelease, ARecordSignedByTheReleaseKeyIsNotAStagingRecord) {
  FakeRelease r;
  r.make();
  AcceptanceRecord a{r.version, r.commit, digest(r.binary), "https://staging", "x", kNow, {{"send_email", true, ""}}};
  auto forged = sign_envelope(std::string(kAcceptancePayloadType), acceptance_record_json(a), *r.release_key);
  ASSERT_TRUE(forged);
  r.evidence.acceptance_envelope = envelope_json(*forged);
  auto v = verify_release(r.evidence, r.keys, Stage::kLive, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kPermissionDenied);
}

TEST(VerifyRelease, AKeyNotTrustedSignsNothing) {
  FakeRelease r;
  r.make();
  const std::vector<TrustedKey> only_staging{{"staging", r.staging_key->public_key()}};
  auto v = verify_release(r.evidence, only_staging, Stage::kStaging, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kPermissionDenied);
}

TEST(VerifyRelease, AMissingFileIsRefused) {
  FakeRelease r;
  r.make();
  r.evidence.files.erase(r.evidence.files.begin());
  auto v = verify_release(r.evidence, r.keys, Stage::kStaging, kNow);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("herald is missing"), std::string::npos);
}

}  // namespace
}  // namespace herald::release
