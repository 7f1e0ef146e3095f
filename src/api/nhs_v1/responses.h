#pragma once
// NHS Notify's JSON:API documents for messages. Times are RFC 3339 UTC with milliseconds
// ("2023-11-17T14:27:51.413Z"); personal fields (recipient, personalisation, contact details) are
// never returned.

#include <string>

#include "domain/nhs/messages.h"

namespace herald::api::nhs_v1 {

// "2023-11-17T14:27:51.413Z"
std::string nhs_time(Timestamp t);
// The 201 of POST /v1/messages; `base` is the API's root URL ("https://host/comms").
std::string message_created_json(const domain::nhs::AcceptedMessage& message, const std::string& base);
// The 201 of POST /v1/message-batches: each message's reference and id, in request order.
std::string batch_created_json(const domain::nhs::AcceptedBatch& batch);
// The 200 of GET /v1/messages/{id}.
std::string message_json(const domain::nhs::AcceptedMessage& message, const std::string& base);

}  // namespace herald::api::nhs_v1
