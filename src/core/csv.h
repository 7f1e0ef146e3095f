#pragma once
// Comma-separated values as spreadsheets write them (RFC 4180), for files people upload: a list
// of recipients to send to, demographics to import.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace herald::csv {

using Rows = std::vector<std::vector<std::string>>;

// Fields separated by commas, records by CRLF or LF; a field in double quotes may hold commas,
// line breaks and doubled quotes. A leading UTF-8 byte order mark is dropped. A blank line is a
// row of one empty field. kInvalidArgument "line N: ..." for a stray or unterminated quote.
Result<Rows> parse(std::string_view text);

}  // namespace herald::csv
