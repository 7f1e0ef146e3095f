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

// One field as RFC 4180 writes it: in double quotes (its quotes doubled) when it holds a comma,
// a quote or a line break; as it is otherwise.
std::string field(std::string_view value);
// The same for a report people open in a spreadsheet: a value that starts as a formula would
// (= + - @, a tab or a carriage return) gets a ' in front, so it is shown, never run.
std::string spreadsheet_field(std::string_view value);
// Rows written back, each ended by CRLF: parse(format(rows)) == rows, except that a row with no
// fields comes back as one empty field.
std::string format(const Rows& rows);

}  // namespace herald::csv
