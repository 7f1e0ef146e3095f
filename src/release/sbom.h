#pragma once
// The software bill of materials of a Herald release: which Debian packages, npm packages and
// Herald build it is made of, written and read as SPDX 2.3 JSON
// (https://spdx.github.io/spdx-spec/v2.3/). `herald advisories check` matches these components
// against an advisory feed (release/advisories.h).
// Plain values and pure functions; thread-safe. Nothing here reads a clock or the network: the
// caller supplies the creation time (from SOURCE_DATE_EPOCH) and the document namespace, so the
// same input always gives the same bytes.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::release {

struct Component {
  std::string name;       // Debian binary package ("libssl3"), npm package ("nhsuk-frontend", "@scope/x"), or "herald"
  std::string version;    // exact ("3.0.17-1~deb12u2", "9.1.0")
  std::string ecosystem;  // "debian", "npm" or "generic" (another purl type when read from elsewhere)
  std::string source;     // Debian source package ("openssl"); "" otherwise. Debian advisories name source packages.
  std::string source_version;  // Debian source version when it differs from `version` (binNMU), else ""
  std::string license;         // SPDX license expression, or "NOASSERTION"
  std::string sha256;          // lowercase hex, for a file component (the herald binary), else ""
  std::string arch;            // Debian architecture ("amd64", "all"); "" otherwise
  std::string distro;          // Debian release as purl names it ("debian-12"); "" otherwise
  bool dev = false;            // npm: only in the development tree ("dev": true in package-lock.json)

  // The package URL (https://github.com/package-url/purl-spec):
  //   pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=debian-12
  //   pkg:npm/%40scope/name@1.2.3
  //   pkg:generic/herald@0.14.0
  // Components are percent-encoded; qualifiers with empty values are left out.
  std::string purl() const;

  bool operator==(const Component&) const = default;
};

struct Sbom {
  std::string name;                   // "herald-0.14.0"
  std::string document_namespace;     // a URI unique to this release, given by the caller
  std::string created;                // RFC 3339 UTC, given by the caller (SOURCE_DATE_EPOCH, never the clock)
  std::string creator_tool;           // "herald-0.14.0"
  std::vector<Component> components;  // components[0] is the described package (Herald)

  bool operator==(const Sbom&) const = default;
};

// The SPDX 2.3 JSON document: one package per component, each with its purl as a PACKAGE-MANAGER
// external reference, the SHA-256 of a file component, "Organization: Debian" as supplier of Debian
// packages, licenseDeclared from `license` (licenseConcluded NOASSERTION: nobody audited them), and
// for Debian packages a sourceInfo "built package from: <source> <source version>". The document
// DESCRIBES components[0], which DEPENDS_ON every other component, except that an npm dev package
// is a DEV_DEPENDENCY_OF it. Components after the first are sorted (ecosystem, name, version, then
// the other fields), so the output depends only on the set of components. Compact JSON with a
// trailing newline.
std::string to_spdx_json(const Sbom& sbom);

// Reads an SPDX 2.2 or 2.3 JSON document: what to_spdx_json writes (parse(to_spdx_json(s)) equals
// s with its components sorted as to_spdx_json sorts them), and other producers' documents where
// packages carry a purl. A package without a purl is skipped, unless it is the described one (then
// it becomes a "generic" component from name and versionInfo). A Debian source package and version
// come from sourceInfo as written above, or from the purl's "upstream" qualifier. Malformed input
// is kInvalidArgument naming the field ("packages[2].name is not a string").
Result<Sbom> parse_spdx_json(std::string_view json);

// The npm packages installed by a package-lock.json of lockfileVersion 2 or 3, from its "packages"
// map: every "node_modules/..." entry with a version (not links, nor optional or peer packages that
// were not installed), named by the entry's "name" (an alias's real package) or else the path after
// its last "node_modules/", with its license when it is a string. The root ("") and workspace
// folders are left out. The same name and version installed at several paths is one component,
// `dev` only when every copy is dev. Sorted by name then version. lockfileVersion 1 and malformed
// files are kInvalidArgument.
Result<std::vector<Component>> npm_components_from_lock(std::string_view lock_json);

}  // namespace herald::release
