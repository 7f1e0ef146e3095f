#pragma once
// The OpenAPI 3.1 documents of the two APIs (docs/openapi/*.yaml), embedded at build time
// (cmake/embed_openapi.cmake), served unauthenticated on the API listener at
// GET /openapi/govuk-notify-v2.yaml and GET /openapi/nhs-notify-v1.yaml.

#include <string_view>
#include <utility>
#include <vector>

#include "api/router.h"

namespace herald::api::ops {

// (file name, YAML text) of each document.
const std::vector<std::pair<std::string_view, std::string_view>>& openapi_documents();

// GET /openapi/<name> for each document (application/yaml); 404 in the router's own format
// otherwise.
void register_openapi_routes(Router& router);

}  // namespace herald::api::ops
