#pragma once
// NHS Notify's request bodies, read the way NHS's gateway validates them: every error collected
// (in its order, up to 100) with the JSON pointer of the offending member, then NHS's backend
// checks of the recipient's contact details (spec §0.5).

#include <string_view>
#include <variant>
#include <vector>

#include "api/nhs_v1/errors.h"
#include "domain/nhs/messages.h"

namespace herald::api::nhs_v1 {

// POST /v1/messages: the request, or its errors (a body that is not JSON: CM_INVALID_VALUE at
// "/"). `nhsNumber` may be left out only beside contact details.
std::variant<domain::nhs::MessageRequest, std::vector<Problem>> parse_create_message(std::string_view body);

}  // namespace herald::api::nhs_v1
