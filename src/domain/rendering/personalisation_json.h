#pragma once
// Converts the API's JSON personalisation object into domain Personalisation, printing numbers
// and booleans as GOV.UK Notify (Python's str()) would: 1 -> "1", 1.50 -> "1.5", 1e2 -> "100.0",
// true -> "True". Objects are printed as JSON; a file object (send a file by email,
// domain/documents.h) is replaced by its download link before the email is rendered for good.

#include <string>

#include "core/json.h"
#include "core/result.h"
#include "domain/rendering/personalisation.h"

namespace herald::domain {

// `object` must be a JSON object.
Personalisation personalisation_from_json(const json::Value& object);

// Python's str() of a JSON scalar (number lexeme, bool, string).
std::string python_str(const json::Value& scalar);

}  // namespace herald::domain
