#include "core/csv.h"

namespace herald::csv {

Result<Rows> parse(std::string_view text) {
  // A spreadsheet's UTF-8 byte order mark is not part of the first column's name.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  std::size_t line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    was_quoted = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) return invalid_argument("line " + std::to_string(line) + ": stray quote");
      quoted = was_quoted = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      end_field();
      rows.push_back(std::move(row));
      row.clear();
      ++line;
    } else {
      if (was_quoted) return invalid_argument("line " + std::to_string(line) + ": text after a closing quote");
      field += c;
    }
  }
  if (quoted) return invalid_argument("line " + std::to_string(line) + ": unterminated quote");
  if (!field.empty() || !row.empty() || was_quoted) {
    end_field();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string spreadsheet_field(std::string_view value) {
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' || value[0] == '\t' ||
                         value[0] == '\r')) {
    return field("'" + std::string(value));
  }
  return field(value);
}

std::string format(const Rows& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      out += field(row[i]);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace herald::csv
