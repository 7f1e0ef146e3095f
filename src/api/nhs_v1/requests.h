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

// NHS's limits for a batch: 45,000 messages and 5.2 MB ("5.2 MB" read as 5,200,000 bytes).
inline constexpr std::size_t kMaxBatchMessages = 45'000;
inline constexpr std::size_t kMaxBatchBytes = 5'200'000;

// POST /v1/message-batches: all or nothing. Over the byte limit: 413 CM_TOO_LARGE; over the
// message limit: 413 CM_TOO_MANY_ITEMS with no message checked; a messageReference repeated
// within the batch: CM_DUPLICATE_VALUE on the later message.
std::variant<domain::nhs::BatchRequest, std::vector<Problem>> parse_create_batch(std::string_view body);

}  // namespace herald::api::nhs_v1
