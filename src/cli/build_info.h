#pragma once
// What this binary is: its version, the commit it was built from and that commit's date
// (generated at build time by cmake/build_info.cmake), and the libraries it runs with.

#include <string>
#include <utility>
#include <vector>

namespace herald::cli {

struct BuildInfo {
  const char* version;
  const char* commit;  // "<sha>-modified" when tracked files differed from it; "unknown" outside git
  const char* date;    // the commit's date (or SOURCE_DATE_EPOCH's), UTC
};
extern const BuildInfo kBuildInfo;

// The libraries linked in, each with the version it reports at run time (name, version).
std::vector<std::pair<std::string, std::string>> linked_library_versions();

// The SHA-256 (hex) of the executable this process runs (/proc/self/exe), computed once; "" when
// it cannot be read. What a release's provenance and a staging acceptance record name.
const std::string& running_binary_sha256();

// `herald --version`: one line per fact, "herald <version>" first.
std::string version_text();

}  // namespace herald::cli
