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

// `herald --version`: one line per fact, "herald <version>" first.
std::string version_text();

}  // namespace herald::cli
