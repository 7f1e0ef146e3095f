// libFuzzer target: the code chain's documents, which Herald reads from release directories,
// operators' advisory feeds and SBOMs — files that may come from anywhere a release is copied.
// The first byte picks the reader; the rest is the document.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "release/advisories.h"
#include "release/dsse.h"
#include "release/sbom.h"
#include "release/statements.h"

using namespace herald::release;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view document(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {
      auto envelope = parse_envelope(document);
      if (envelope) {
        // What parses writes back to an envelope that parses the same.
        auto again = parse_envelope(envelope_json(*envelope));
        HERALD_CHECK(again && again->payload == envelope->payload && again->payload_type == envelope->payload_type &&
                         again->signatures.size() == envelope->signatures.size(),
                     "DSSE envelope does not round-trip");
        (void)verify_envelope(*envelope, envelope->payload_type, {}, "release");
      }
      break;
    }
    case 1:
      if (auto p = parse_provenance_statement(document)) {
        HERALD_CHECK(parse_provenance_statement(provenance_statement_json(*p)).has_value(), "provenance round-trip");
      }
      break;
    case 2:
      if (auto m = parse_release_metadata(document)) {
        HERALD_CHECK(parse_release_metadata(release_metadata_json(*m)).has_value(), "metadata round-trip");
      }
      break;
    case 3:
      if (auto a = parse_acceptance_record(document)) {
        HERALD_CHECK(parse_acceptance_record(acceptance_record_json(*a)).has_value(), "record round-trip");
      }
      break;
    case 4:
      if (auto sbom = parse_spdx_json(document)) (void)to_spdx_json(*sbom);
      break;
    case 5: (void)npm_components_from_lock(document); break;
    default: {
      auto advisories = parse_feed(document, "bookworm");
      if (advisories) {
        Component c;
        c.name = "libssl3";
        c.version = "3.0.17-1~deb12u2";
        c.ecosystem = "debian";
        c.source = "openssl";
        c.distro = "debian-12";
        Component n;
        n.name = "nhsuk-frontend";
        n.version = "9.1.0";
        n.ecosystem = "npm";
        (void)affected_components({c, n}, *advisories);
      }
      break;
    }
  }
  return 0;
}
