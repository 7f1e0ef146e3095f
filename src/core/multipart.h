#pragma once
// multipart/form-data request bodies (RFC 7578), as browsers send a form with a file input. Pure;
// linear in the input.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::multipart {

struct Part {
  std::string name;                     // the form field's name
  std::optional<std::string> filename;  // set for a file input (possibly empty: no file chosen)
  std::string content_type;             // as sent; empty when absent
  std::string data;
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type (quoted or not); nullopt
// for any other type or a boundary RFC 2046 does not allow (empty, over 70 characters).
std::optional<std::string> boundary_of(std::string_view content_type);

// The parts in order. Names and file names are decoded as browsers encode them (%22 for a
// double quote, %0D and %0A for line breaks). kInvalidArgument for a body that does not start
// with the boundary, a part without a form-data Content-Disposition and name, headers that do
// not end, a missing final boundary, or more than `max_parts` parts.
Result<std::vector<Part>> parse(std::string_view body, std::string_view boundary, std::size_t max_parts = 100);

}  // namespace herald::multipart
