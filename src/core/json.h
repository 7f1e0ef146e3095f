#pragma once
// A small JSON document model, a bounded parser for untrusted input, and a writer.
//
// The parser follows RFC 8259 strictly (no comments, no trailing commas, no NaN) with limits on
// nesting depth and size, and keeps each number's lexeme so that callers can reproduce how
// GOV.UK Notify (Python) prints it. Objects keep member order; duplicate keys are kept and
// `find` returns the last one, as Python's json module would. Thread-compatible value types.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace herald::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

class Value {
 public:
  Value() = default;
  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value number(std::string lexeme);  // a valid JSON number lexeme
  static Value string(std::string s);
  static Value array(Array items);
  static Value object(Object members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const;
  const std::string& as_string() const;     // kString: text; kNumber: lexeme
  const Array& as_array() const;
  const Object& as_object() const;
  // Integral value of a number without fraction or exponent that fits int64.
  std::optional<std::int64_t> as_int64() const;
  // Last member named `key`, or nullptr (also when this is not an object).
  const Value* find(std::string_view key) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::shared_ptr<const Array> array_;    // shared: values are immutable once built
  std::shared_ptr<const Object> object_;
};

struct ParseLimits {
  std::size_t max_depth = 64;
  std::size_t max_bytes = 16 * 1024 * 1024;
};

// Parses one JSON text (surrounding whitespace allowed). Errors are kInvalidArgument with a
// message that names the offset, never the content.
Result<Value> parse(std::string_view text, const ParseLimits& limits = {});

// Appends `s` as a JSON string literal (with quotes) to `out`. Invalid UTF-8 is passed
// through byte for byte; control characters are escaped.
void append_quoted(std::string& out, std::string_view s);
// Serialises a value compactly.
std::string serialize(const Value& value);

// Writer builds compact JSON text incrementally; the caller is responsible for well-formedness
// (keys inside objects, balanced begin/end).
class Writer {
 public:
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& string(std::string_view s);
  Writer& string_or_null(const std::optional<std::string>& s);
  Writer& integer(std::int64_t n);
  Writer& raw_number(std::string_view lexeme);
  Writer& boolean(bool b);
  Writer& null();
  Writer& value(const Value& v);
  std::string take() { return std::move(out_); }
  const std::string& str() const { return out_; }

 private:
  void separator();
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace herald::json
