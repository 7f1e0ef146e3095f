#pragma once
// The admin web UI's static assets: the NHS.UK design system's stylesheet, script and icons
// (npm nhsuk-frontend, pinned in ui/package-lock.json), embedded in the binary at build time by
// cmake/embed_assets.cmake and served under /assets/. Nothing is fetched at run time.

#include <string_view>
#include <vector>

namespace herald::api::admin {

struct Asset {
  std::string_view name;  // path under /assets/, e.g. "nhsuk.css", "images/favicon.svg"
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<Asset>& assets();

}  // namespace herald::api::admin
