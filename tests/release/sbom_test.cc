#include "release/sbom.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/json.h"

namespace herald::release {
namespace {

// A file of the source tree, found from this file's path (tests/release/sbom_test.cc).
std::string read_source_file(const std::string& relative) {
  const std::string self = __FILE__;
  const auto tests = self.rfind("tests/release/");
  EXPECT_NE(tests, std::string::npos) << self;
  std::ifstream in(self.substr(0, tests) + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Component herald_binary() {
  Component c;
  c.name = "herald";
  c.version = "0.14.0";
  c.ecosystem = "generic";
  c.license = "NOASSERTION";
  c.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  return c;
}

Component debian(std::string name, std::string version, std::string source, std::string source_version = "") {
  Component c;
  c.name = std::move(name);
  c.version = std::move(version);
  c.ecosystem = "debian";
  c.source = std::move(source);
  c.source_version = std::move(source_version);
  c.license = "NOASSERTION";
  c.arch = "amd64";
  c.distro = "debian-12";
  return c;
}

Component npm(std::string name, std::string version, std::string license = "MIT", bool dev = false) {
  Component c;
  c.name = std::move(name);
  c.version = std::move(version);
  c.ecosystem = "npm";
  c.license = std::move(license);
  c.dev = dev;
  return c;
}

Sbom sample() {
  Sbom sbom;
  sbom.name = "herald-0.14.0";
  sbom.document_namespace = "https://herald.example.nhs.uk/spdx/herald-0.14.0-3f2a";
  sbom.created = "2025-06-01T12:00:00Z";
  sbom.creator_tool = "herald-0.14.0";
  sbom.components = {herald_binary(),
                     npm("nhsuk-frontend", "10.6.1"),
                     debian("libssl3", "3.0.17-1~deb12u2", "openssl"),
                     debian("libc6", "2.36-9+deb12u10", "glibc"),
                     debian("libfoo1", "1.0-1+b1", "foo", "1.0-1"),  // a binNMU
                     debian("tzdata", "2025b-0+deb12u1", "tzdata"),
                     npm("@babel/core", "7.26.0", "MIT", true),
                     npm("@babel/core", "7.24.0", "MIT", true)};
  sbom.components[3].license = "LGPL-2.1-or-later AND GPL-2.0-or-later WITH GCC-exception-3.1";
  return sbom;
}

// The components as to_spdx_json orders them: the first, then sorted.
Sbom sorted(Sbom sbom) {
  std::sort(sbom.components.begin() + 1, sbom.components.end(), [](const Component& a, const Component& b) {
    return std::tie(a.ecosystem, a.name, a.version) < std::tie(b.ecosystem, b.name, b.version);
  });
  return sbom;
}

TEST(SbomPurl, DebianNpmAndGenericForms) {
  EXPECT_EQ(debian("libssl3", "3.0.17-1~deb12u2", "openssl").purl(),
            "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=debian-12");
  Component epoch = debian("libpam0g", "1:1.5.2-6+deb12u1", "pam");
  epoch.arch = "";
  EXPECT_EQ(epoch.purl(), "pkg:deb/debian/libpam0g@1:1.5.2-6%2Bdeb12u1?distro=debian-12");
  epoch.distro = "";
  EXPECT_EQ(epoch.purl(), "pkg:deb/debian/libpam0g@1:1.5.2-6%2Bdeb12u1");
  EXPECT_EQ(npm("@scope/name", "1.2.3").purl(), "pkg:npm/%40scope/name@1.2.3");
  EXPECT_EQ(npm("nhsuk-frontend", "10.6.1").purl(), "pkg:npm/nhsuk-frontend@10.6.1");
  EXPECT_EQ(npm("left-pad", "1.0.0-rc.1+build.5").purl(), "pkg:npm/left-pad@1.0.0-rc.1%2Bbuild.5");
  EXPECT_EQ(herald_binary().purl(), "pkg:generic/herald@0.14.0");
  Component unversioned = herald_binary();
  unversioned.version = "";
  EXPECT_EQ(unversioned.purl(), "pkg:generic/herald");
}

TEST(SbomSpdx, WritesTheRequiredSpdx23Fields) {
  const std::string text = to_spdx_json(sample());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto parsed = json::parse(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const json::Value& doc = *parsed;
  EXPECT_EQ(doc.find("spdxVersion")->as_string(), "SPDX-2.3");
  EXPECT_EQ(doc.find("dataLicense")->as_string(), "CC0-1.0");
  EXPECT_EQ(doc.find("SPDXID")->as_string(), "SPDXRef-DOCUMENT");
  EXPECT_EQ(doc.find("name")->as_string(), "herald-0.14.0");
  EXPECT_EQ(doc.find("documentNamespace")->as_string(), "https://herald.example.nhs.uk/spdx/herald-0.14.0-3f2a");
  const json::Value* info = doc.find("creationInfo");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->find("created")->as_string(), "2025-06-01T12:00:00Z");
  ASSERT_EQ(info->find("creators")->as_array().size(), 1U);
  EXPECT_EQ(info->find("creators")->as_array()[0].as_string(), "Tool: herald-0.14.0");

  const json::Array& packages = doc.find("packages")->as_array();
  ASSERT_EQ(packages.size(), 8U);
  std::set<std::string> ids;
  for (const json::Value& package : packages) {
    const std::string& id = package.find("SPDXID")->as_string();
    EXPECT_EQ(id.rfind("SPDXRef-", 0), 0U) << id;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    })) << id;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    EXPECT_EQ(package.find("downloadLocation")->as_string(), "NOASSERTION");
    EXPECT_FALSE(package.find("filesAnalyzed")->as_bool());
    EXPECT_NE(package.find("licenseConcluded"), nullptr);
    EXPECT_NE(package.find("licenseDeclared"), nullptr);
    const json::Array& refs = package.find("externalRefs")->as_array();
    ASSERT_EQ(refs.size(), 1U);
    EXPECT_EQ(refs[0].find("referenceCategory")->as_string(), "PACKAGE-MANAGER");
    EXPECT_EQ(refs[0].find("referenceType")->as_string(), "purl");
    EXPECT_EQ(refs[0].find("referenceLocator")->as_string().rfind("pkg:", 0), 0U);
  }

  // The described package comes first, with the binary's checksum.
  const json::Value& herald = packages[0];
  EXPECT_EQ(herald.find("name")->as_string(), "herald");
  EXPECT_EQ(herald.find("versionInfo")->as_string(), "0.14.0");
  EXPECT_EQ(herald.find("primaryPackagePurpose")->as_string(), "APPLICATION");
  const json::Array& checksums = herald.find("checksums")->as_array();
  ASSERT_EQ(checksums.size(), 1U);
  EXPECT_EQ(checksums[0].find("algorithm")->as_string(), "SHA256");
  EXPECT_EQ(checksums[0].find("checksumValue")->as_string(), herald_binary().sha256);
  EXPECT_EQ(doc.find("documentDescribes")->as_array()[0].as_string(), herald.find("SPDXID")->as_string());

  // Then Debian packages by name, then npm packages by name and version.
  std::vector<std::string> names;
  for (const json::Value& package : packages) {
    names.push_back(package.find("name")->as_string() + " " + package.find("versionInfo")->as_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"herald 0.14.0", "libc6 2.36-9+deb12u10", "libfoo1 1.0-1+b1",
                                             "libssl3 3.0.17-1~deb12u2", "tzdata 2025b-0+deb12u1", "@babel/core 7.24.0",
                                             "@babel/core 7.26.0", "nhsuk-frontend 10.6.1"}));
  const json::Value& libssl = packages[3];
  EXPECT_EQ(libssl.find("supplier")->as_string(), "Organization: Debian");
  EXPECT_EQ(libssl.find("sourceInfo")->as_string(), "built package from: openssl 3.0.17-1~deb12u2");
  EXPECT_EQ(packages[2].find("sourceInfo")->as_string(), "built package from: foo 1.0-1");
  EXPECT_EQ(packages[1].find("licenseDeclared")->as_string(),
            "LGPL-2.1-or-later AND GPL-2.0-or-later WITH GCC-exception-3.1");
  EXPECT_EQ(packages[7].find("licenseDeclared")->as_string(), "MIT");
  EXPECT_EQ(packages[7].find("supplier"), nullptr);

  // DOCUMENT DESCRIBES herald; herald DEPENDS_ON each runtime component; dev packages are
  // DEV_DEPENDENCY_OF herald.
  const std::string& root = herald.find("SPDXID")->as_string();
  int describes = 0;
  int depends_on = 0;
  int dev_dependency_of = 0;
  for (const json::Value& r : doc.find("relationships")->as_array()) {
    const std::string& type = r.find("relationshipType")->as_string();
    if (type == "DESCRIBES") {
      ++describes;
      EXPECT_EQ(r.find("spdxElementId")->as_string(), "SPDXRef-DOCUMENT");
      EXPECT_EQ(r.find("relatedSpdxElement")->as_string(), root);
    } else if (type == "DEPENDS_ON") {
      ++depends_on;
      EXPECT_EQ(r.find("spdxElementId")->as_string(), root);
      EXPECT_TRUE(ids.count(r.find("relatedSpdxElement")->as_string()));
    } else if (type == "DEV_DEPENDENCY_OF") {
      ++dev_dependency_of;
      EXPECT_EQ(r.find("relatedSpdxElement")->as_string(), root);
    } else {
      ADD_FAILURE() << type;
    }
  }
  EXPECT_EQ(describes, 1);
  EXPECT_EQ(depends_on, 5);
  EXPECT_EQ(dev_dependency_of, 2);
}

TEST(SbomSpdx, SameInputGivesTheSameBytesWhateverTheOrder) {
  Sbom a = sample();
  Sbom b = sample();
  std::reverse(b.components.begin() + 1, b.components.end());
  EXPECT_EQ(to_spdx_json(a), to_spdx_json(b));
  std::rotate(b.components.begin() + 1, b.components.begin() + 3, b.components.end());
  EXPECT_EQ(to_spdx_json(a), to_spdx_json(b));
}

TEST(SbomSpdx, RoundTrips) {
  const Sbom original = sample();
  auto parsed = parse_spdx_json(to_spdx_json(original));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const Sbom expected = sorted(original);
  ASSERT_EQ(parsed->components.size(), expected.components.size());
  for (std::size_t i = 0; i < expected.components.size(); ++i) {
    EXPECT_EQ(parsed->components[i], expected.components[i]) << i << ": " << expected.components[i].name;
  }
  EXPECT_EQ(*parsed, expected);
  // And a second trip changes nothing.
  EXPECT_EQ(to_spdx_json(*parsed), to_spdx_json(original));
}

TEST(SbomSpdx, OddNamesGetValidUniqueIds) {
  Sbom sbom = sample();
  sbom.components.push_back(npm("@scope/a_b", "1.0.0"));
  sbom.components.push_back(npm("@scope/a.b", "1.0.0"));
  sbom.components.push_back(npm("@scope/a.b", "1.0.0", "Apache-2.0"));  // same name and version twice
  auto parsed = json::parse(to_spdx_json(sbom));
  ASSERT_TRUE(parsed);
  std::set<std::string> ids;
  for (const json::Value& package : parsed->find("packages")->as_array()) {
    const std::string& id = package.find("SPDXID")->as_string();
    EXPECT_TRUE(ids.insert(id).second) << id;
    EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"),
              std::string::npos)
        << id;
  }
  EXPECT_EQ(ids.size(), 11U);
  auto back = parse_spdx_json(to_spdx_json(sbom));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->components.size(), 11U);
}

TEST(SbomSpdx, LicencesThatAreNotSpdxExpressionsBecomeNoAssertion) {
  Sbom sbom = sample();
  sbom.components = {herald_binary(),
                     npm("a", "1.0.0", "UNLICENSED"),
                     npm("b", "1.0.0", "SEE LICENSE IN LICENSE.md"),
                     npm("c", "1.0.0", ""),
                     npm("d", "1.0.0", "(MIT OR Apache-2.0)"),
                     npm("e", "1.0.0", "MIT AND"),
                     npm("f", "1.0.0", "LicenseRef-Herald"),
                     npm("g", "1.0.0", "GPL-2.0+")};
  auto parsed = parse_spdx_json(to_spdx_json(sbom));
  ASSERT_TRUE(parsed) << parsed.error().message;
  std::vector<std::string> licenses;
  for (const Component& c : parsed->components) licenses.push_back(c.license);
  EXPECT_EQ(licenses,
            (std::vector<std::string>{"NOASSERTION", "NOASSERTION", "NOASSERTION", "NOASSERTION", "(MIT OR Apache-2.0)",
                                      "NOASSERTION", "LicenseRef-Herald", "GPL-2.0+"}));
}

TEST(SbomSpdx, ReadsAnotherProducersDocument) {
  // Shaped like Syft's SPDX 2.3 JSON: relationships only, an upstream qualifier, a file package
  // without a purl, PACKAGE_MANAGER spelt the SPDX 2.2 way, an uppercase checksum.
  const std::string text = R"({
    "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
    "name": "registry.example/herald:0.14.0", "documentNamespace": "https://anchore.com/syft/image/x",
    "creationInfo": {"licenseListVersion": "3.25", "creators": ["Organization: Anchore, Inc", "Tool: syft-1.18.1"],
                     "created": "2025-06-01T12:00:00Z"},
    "packages": [
      {"name": "libssl3", "SPDXID": "SPDXRef-Package-deb-libssl3-1", "versionInfo": "3.0.15-1~deb12u1",
       "supplier": "Person: Debian OpenSSL Team", "downloadLocation": "NOASSERTION", "filesAnalyzed": false,
       "licenseConcluded": "NOASSERTION", "licenseDeclared": "Apache-2.0", "copyrightText": "NOASSERTION",
       "externalRefs": [
         {"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
          "referenceLocator": "cpe:2.3:a:libssl3:libssl3:3.0.15:*:*:*:*:*:*:*"},
         {"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
          "referenceLocator": "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12"}]},
      {"name": "libfoo1", "SPDXID": "SPDXRef-Package-deb-libfoo1-2", "versionInfo": "1.0-1+b1",
       "downloadLocation": "NOASSERTION",
       "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
          "referenceLocator": "pkg:deb/debian/libfoo1@1.0-1%2Bb1?arch=amd64&upstream=foo%401.0-1&distro=debian-12"}]},
      {"name": "@babel/core", "SPDXID": "SPDXRef-Package-npm-babel-core-3", "versionInfo": "7.26.0",
       "downloadLocation": "NOASSERTION", "licenseConcluded": "MIT",
       "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
          "referenceLocator": "pkg:npm/%40babel/core@7.26.0"}]},
      {"name": "/usr/bin/herald", "SPDXID": "SPDXRef-File-usr-bin-herald", "downloadLocation": "NOASSERTION"},
      {"name": "registry.example/herald", "SPDXID": "SPDXRef-DocumentRoot-Image", "versionInfo": "sha256:abcd",
       "downloadLocation": "NOASSERTION",
       "checksums": [{"algorithm": "SHA1", "checksumValue": "00"}, {"algorithm": "SHA256", "checksumValue": "ABCDEF"}]}
    ],
    "relationships": [
      {"spdxElementId": "SPDXRef-DocumentRoot-Image", "relationshipType": "CONTAINS",
       "relatedSpdxElement": "SPDXRef-Package-deb-libssl3-1"},
      {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
       "relatedSpdxElement": "SPDXRef-DocumentRoot-Image"}
    ]})";
  auto sbom = parse_spdx_json(text);
  ASSERT_TRUE(sbom) << sbom.error().message;
  EXPECT_EQ(sbom->name, "registry.example/herald:0.14.0");
  EXPECT_EQ(sbom->creator_tool, "syft-1.18.1");
  EXPECT_EQ(sbom->created, "2025-06-01T12:00:00Z");
  ASSERT_EQ(sbom->components.size(), 4U);  // the file without a purl is left out
  const Component& root = sbom->components[0];
  EXPECT_EQ(root.name, "registry.example/herald");
  EXPECT_EQ(root.ecosystem, "generic");
  EXPECT_EQ(root.version, "sha256:abcd");
  EXPECT_EQ(root.sha256, "abcdef");
  const Component& libssl = sbom->components[1];
  EXPECT_EQ(libssl.ecosystem, "debian");
  EXPECT_EQ(libssl.name, "libssl3");
  EXPECT_EQ(libssl.version, "3.0.15-1~deb12u1");
  EXPECT_EQ(libssl.source, "openssl");
  EXPECT_EQ(libssl.source_version, "");
  EXPECT_EQ(libssl.arch, "amd64");
  EXPECT_EQ(libssl.distro, "debian-12");
  EXPECT_EQ(libssl.license, "Apache-2.0");
  const Component& libfoo = sbom->components[2];
  EXPECT_EQ(libfoo.version, "1.0-1+b1");
  EXPECT_EQ(libfoo.source, "foo");
  EXPECT_EQ(libfoo.source_version, "1.0-1");
  const Component& babel = sbom->components[3];
  EXPECT_EQ(babel.ecosystem, "npm");
  EXPECT_EQ(babel.name, "@babel/core");
  EXPECT_EQ(babel.license, "MIT");  // from licenseConcluded when nothing is declared
  EXPECT_FALSE(babel.dev);
}

TEST(SbomSpdx, MalformedDocumentsNameTheField) {
  const std::string good = to_spdx_json(sample());
  auto replaced = [&good](const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "SPDX document: "},
           {"[]", "document is not a JSON object"},
           {"{}", "spdxVersion is missing"},
           {replaced("\"SPDX-2.3\"", "\"SPDX-3.0\""), "spdxVersion is not SPDX-2.2 or SPDX-2.3"},
           {replaced("\"creationInfo\"", "\"creationInf0\""), "creationInfo is missing"},
           {replaced("\"created\":\"2025-06-01T12:00:00Z\"", "\"created\":7"), "creationInfo.created is not a string"},
           {replaced("\"name\":\"libc6\"", "\"name\":[]"), "packages[1].name is not a string"},
           {replaced("\"name\":\"libc6\"", "\"nam\":\"libc6\""), "packages[1].name is missing"},
           {replaced("\"documentDescribes\":[\"", "\"documentDescribes\":[\"x"), "which is not among the packages"},
           {replaced("\"relationshipType\":\"DESCRIBES\"", "\"relationshipType\":1"),
            "relationships[0].relationshipType is not a string"},
       }) {
    auto parsed = parse_spdx_json(c.text);
    ASSERT_FALSE(parsed) << c.text.substr(0, 200);
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(c.message), std::string::npos) << parsed.error().message;
  }
  // Named fields of the wrong type, built directly.
  auto not_array =
      parse_spdx_json(R"({"spdxVersion":"SPDX-2.3","creationInfo":{"created":"x","creators":[]},"packages":{}})");
  ASSERT_FALSE(not_array);
  EXPECT_EQ(not_array.error().message, "SPDX document: packages is not an array");
  auto refs = parse_spdx_json(
      R"({"spdxVersion":"SPDX-2.3","creationInfo":{"created":"x","creators":[]},"documentDescribes":["a"],
          "packages":[{"SPDXID":"a","name":"a","externalRefs":{}}]})");
  ASSERT_FALSE(refs);
  EXPECT_EQ(refs.error().message, "SPDX document: packages[0].externalRefs is not an array");
  auto no_describes = parse_spdx_json(
      R"({"spdxVersion":"SPDX-2.3","creationInfo":{"created":"x","creators":[]},
          "packages":[{"SPDXID":"a","name":"a"}]})");
  ASSERT_FALSE(no_describes);
  EXPECT_NE(no_describes.error().message.find("documentDescribes is missing"), std::string::npos);
}

TEST(SbomNpmLock, ReadsLockfileVersion3) {
  const std::string lock = R"({
    "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
    "packages": {
      "": {"name": "app", "version": "1.0.0", "license": "UNLICENSED", "dependencies": {"a": "^1.0.0"}},
      "node_modules/a": {"version": "1.2.0", "resolved": "https://registry.npmjs.org/a/-/a-1.2.0.tgz",
                         "license": "MIT"},
      "node_modules/a/node_modules/@scope/b": {"version": "2.0.0-beta.1", "license": "ISC"},
      "node_modules/@scope/b": {"version": "1.0.0", "dev": true, "license": "ISC"},
      "node_modules/c": {"version": "3.0.0", "dev": true, "license": {"type": "MIT"}},
      "node_modules/d/node_modules/c": {"version": "3.0.0", "license": "MIT"},
      "node_modules/d": {"version": "0.1.0", "dev": true},
      "node_modules/alias": {"name": "real-package", "version": "4.0.0", "license": "Apache-2.0"},
      "node_modules/linked": {"resolved": "packages/linked", "link": true},
      "node_modules/fsevents": {"optional": true},
      "packages/linked": {"name": "linked", "version": "0.0.1"}
    }})";
  auto components = npm_components_from_lock(lock);
  ASSERT_TRUE(components) << components.error().message;
  std::vector<Component> expected = {
      npm("@scope/b", "1.0.0", "ISC", true),  npm("@scope/b", "2.0.0-beta.1", "ISC"),    npm("a", "1.2.0", "MIT"),
      npm("c", "3.0.0", "NOASSERTION"),  // dev at one path, not at the other
      npm("d", "0.1.0", "NOASSERTION", true), npm("real-package", "4.0.0", "Apache-2.0")};
  EXPECT_EQ(*components, expected);
}

TEST(SbomNpmLock, ReadsLockfileVersion2AndRefusesVersion1) {
  auto v2 = npm_components_from_lock(
      R"({"lockfileVersion": 2, "packages": {"": {}, "node_modules/x": {"version": "1.0.0"}},
          "dependencies": {"x": {"version": "1.0.0"}}})");
  ASSERT_TRUE(v2) << v2.error().message;
  ASSERT_EQ(v2->size(), 1U);
  EXPECT_EQ((*v2)[0].name, "x");
  EXPECT_EQ((*v2)[0].license, "NOASSERTION");

  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"lockfileVersion": 1, "dependencies": {}})", "lockfileVersion 1 is not supported"},
           {R"({"packages": {}})", "lockfileVersion is missing"},
           {R"({"lockfileVersion": 3})", "\"packages\" is not an object"},
           {R"({"lockfileVersion": 3, "packages": {"node_modules/x": 1}})",
            "packages[\"node_modules/x\"] is not an object"},
           {R"({"lockfileVersion": 3, "packages": {"node_modules/x": {"version": 1}}})", "version is not a string"},
           {"not json", "package-lock.json: "},
           {"[]", "not a JSON object"},
       }) {
    auto result = npm_components_from_lock(text);
    ASSERT_FALSE(result) << text;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message.find(message), std::string::npos) << result.error().message;
  }
}

TEST(SbomNpmLock, ReadsTheAdminUisRealLockfile) {
  const std::string lock = read_source_file("ui/package-lock.json");
  auto components = npm_components_from_lock(lock);
  ASSERT_TRUE(components) << components.error().message;
  ASSERT_FALSE(components->empty());
  for (const Component& c : *components) {
    EXPECT_EQ(c.ecosystem, "npm");
    EXPECT_FALSE(c.name.empty());
    EXPECT_FALSE(c.version.empty()) << c.name;
    EXPECT_EQ(c.name.find("node_modules"), std::string::npos) << c.name;
    EXPECT_NE(c.name, "herald-admin-ui");  // the root entry is left out
  }
  // Every runtime dependency package.json names is there, at the pinned version when it is exact.
  auto manifest = json::parse(read_source_file("ui/package.json"));
  ASSERT_TRUE(manifest);
  const json::Value* dependencies = manifest->find("dependencies");
  ASSERT_NE(dependencies, nullptr);
  ASSERT_FALSE(dependencies->as_object().empty());
  for (const auto& [name, spec] : dependencies->as_object()) {
    const auto found = std::find_if(components->begin(), components->end(),
                                    [&name = name](const Component& c) { return c.name == name; });
    ASSERT_NE(found, components->end()) << name;
    EXPECT_FALSE(found->dev) << name;
    if (spec.as_string().find_first_not_of("0123456789.") == std::string::npos) {
      EXPECT_EQ(found->version, spec.as_string()) << name;
    }
  }
  // nhsuk-frontend is published under MIT.
  const auto frontend = std::find_if(components->begin(), components->end(),
                                     [](const Component& c) { return c.name == "nhsuk-frontend"; });
  ASSERT_NE(frontend, components->end());
  EXPECT_EQ(frontend->license, "MIT");
  EXPECT_EQ(frontend->purl(), "pkg:npm/nhsuk-frontend@" + frontend->version);
}

}  // namespace
}  // namespace herald::release
