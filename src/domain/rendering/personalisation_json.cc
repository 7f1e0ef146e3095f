#include "domain/rendering/personalisation_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace herald::domain {
namespace {

bool is_integer_lexeme(const std::string& lexeme) { return lexeme.find_first_of(".eE") == std::string::npos; }

// repr() of a Python float: shortest round-trip digits; scientific notation when the decimal
// exponent is < -4 or >= 16; otherwise fixed with at least one fractional digit.
std::string python_float_repr(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  if (ec != std::errc()) return "nan";
  std::string sci(buf, end);  // e.g. "-1.2345e+02"
  const auto e_pos = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string mantissa = sci.substr(0, e_pos);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_buf;
  }
  if (exponent < 0) {
    return out + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  }
  const auto int_len = static_cast<std::size_t>(exponent + 1);
  if (digits.size() <= int_len) {
    return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  }
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string python_int_str(const std::string& lexeme) {
  // JSON integers keep their digits (Python ints are arbitrary precision); "-0" prints as "0".
  if (lexeme == "-0") return "0";
  return lexeme;
}

}  // namespace

std::string python_str(const json::Value& scalar) {
  switch (scalar.type()) {
    case json::Type::kBool: return scalar.as_bool() ? "True" : "False";
    case json::Type::kString: return scalar.as_string();
    case json::Type::kNumber: {
      const std::string& lexeme = scalar.as_string();
      if (is_integer_lexeme(lexeme)) return python_int_str(lexeme);
      return python_float_repr(std::strtod(lexeme.c_str(), nullptr));
    }
    case json::Type::kNull: return "None";
    case json::Type::kArray:
    case json::Type::kObject: return json::serialize(scalar);
  }
  return "";
}

Personalisation personalisation_from_json(const json::Value& object) {
  Personalisation out;
  for (const auto& [key, value] : object.as_object()) {
    PersonalisationValue v;
    if (value.is_null()) {
      v.kind = PersonalisationValue::Kind::kNull;
    } else if (value.is_array()) {
      v.kind = PersonalisationValue::Kind::kList;
      for (const auto& item : value.as_array()) {
        if (item.is_null())
          v.items.emplace_back(std::nullopt);
        else
          v.items.emplace_back(python_str(item));
      }
    } else {
      v.kind = PersonalisationValue::Kind::kText;
      v.text = python_str(value);
    }
    out.entries.emplace_back(key, std::move(v));
  }
  return out;
}

}  // namespace herald::domain
