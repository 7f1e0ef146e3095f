#include "core/json.h"

#include <charconv>
#include <iterator>

#include "core/check.h"
#include "core/utf8.h"

namespace herald::json {

Value Value::boolean(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}
Value Value::number(std::string lexeme) {
  Value v;
  v.type_ = Type::kNumber;
  v.text_ = std::move(lexeme);
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}
Value Value::array(Array items) {
  Value v;
  v.type_ = Type::kArray;
  v.array_ = std::make_shared<const Array>(std::move(items));
  return v;
}
Value Value::object(Object members) {
  Value v;
  v.type_ = Type::kObject;
  v.object_ = std::make_shared<const Object>(std::move(members));
  return v;
}

bool Value::as_bool() const {
  HERALD_CHECK(type_ == Type::kBool, "json: not a bool");
  return bool_;
}
const std::string& Value::as_string() const {
  HERALD_CHECK(type_ == Type::kString || type_ == Type::kNumber, "json: not a string");
  return text_;
}
const Array& Value::as_array() const {
  HERALD_CHECK(type_ == Type::kArray, "json: not an array");
  return *array_;
}
const Object& Value::as_object() const {
  HERALD_CHECK(type_ == Type::kObject, "json: not an object");
  return *object_;
}
std::optional<std::int64_t> Value::as_int64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), n);
  if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
  return n;
}
const Value* Value::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  const Value* found = nullptr;
  for (const auto& [k, v] : *object_) {
    if (k == key) found = &v;
  }
  return found;
}

namespace {

// Where the members of the objects (and the items of the arrays) being parsed collect, so that
// each finished one is moved into a vector of exactly its size: one allocation, not one per
// doubling. Nested ones stack above their parent's. Per thread, kept between documents.
struct Scratch {
  std::vector<Member> members;
  std::vector<Value> items;
};
thread_local Scratch scratch;

// Takes what a container pushed onto `stack` from `base` up, and on every exit (an error
// included) leaves the stack as the container found it.
template <typename T>
class ScratchFrame {
 public:
  explicit ScratchFrame(std::vector<T>& stack) : stack_(stack), base_(stack.size()) {}
  ~ScratchFrame() { stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(base_), stack_.end()); }
  ScratchFrame(const ScratchFrame&) = delete;
  ScratchFrame& operator=(const ScratchFrame&) = delete;
  std::vector<T> take() {
    return std::vector<T>(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(base_)),
                          std::make_move_iterator(stack_.end()));
  }

 private:
  std::vector<T>& stack_;
  std::size_t base_;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}
  ~Parser() {
    // A large document's stacks are not kept for the thread's life.
    constexpr std::size_t kKept = 256;
    if (scratch.members.capacity() > kKept) std::vector<Member>().swap(scratch.members);
    if (scratch.items.capacity() > kKept) std::vector<Value>().swap(scratch.items);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  Result<Value> parse_document() {
    if (text_.size() > limits_.max_bytes) return fail("document too large");
    skip_ws();
    auto v = parse_value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ != text_.size()) return fail("trailing characters");
    return v;
  }

 private:
  Error fail(const char* what) const {
    return invalid_argument(std::string("invalid JSON: ") + what + " at offset " +
                            std::to_string(pos_));
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }
  bool consume_literal(std::string_view lit) {
    if (text_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  Result<Value> parse_value(std::size_t depth) {
    if (at_end()) return fail("unexpected end");
    switch (peek()) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': {
        auto s = parse_string();
        if (!s) return s.error();
        return Value::string(std::move(*s));
      }
      case 't': if (consume_literal("true")) return Value::boolean(true); break;
      case 'f': if (consume_literal("false")) return Value::boolean(false); break;
      case 'n': if (consume_literal("null")) return Value::null(); break;
      default: return parse_number();
    }
    return fail("unexpected literal");
  }

  Result<Value> parse_object(std::size_t depth) {
    if (depth > limits_.max_depth) return fail("nesting too deep");
    ++pos_;  // '{'
    skip_ws();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return Value::object({});
    }
    ScratchFrame<Member> members(scratch.members);
    while (true) {
      skip_ws();
      if (at_end() || peek() != '"') return fail("expected member name");
      auto key = parse_string();
      if (!key) return key.error();
      skip_ws();
      if (at_end() || peek() != ':') return fail("expected ':'");
      ++pos_;
      skip_ws();
      auto value = parse_value(depth);
      if (!value) return value;
      scratch.members.emplace_back(std::move(*key), std::move(*value));
      skip_ws();
      if (at_end()) return fail("unterminated object");
      if (peek() == ',') { ++pos_; continue; }
      if (peek() == '}') {
        ++pos_;
        return Value::object(members.take());
      }
      return fail("expected ',' or '}'");
    }
  }

  Result<Value> parse_array(std::size_t depth) {
    if (depth > limits_.max_depth) return fail("nesting too deep");
    ++pos_;  // '['
    skip_ws();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return Value::array({});
    }
    ScratchFrame<Value> items(scratch.items);
    while (true) {
      skip_ws();
      auto value = parse_value(depth);
      if (!value) return value;
      scratch.items.push_back(std::move(*value));
      skip_ws();
      if (at_end()) return fail("unterminated array");
      if (peek() == ',') { ++pos_; continue; }
      if (peek() == ']') {
        ++pos_;
        return Value::array(items.take());
      }
      return fail("expected ',' or ']'");
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  Result<Value> parse_number() {
    const std::size_t start = pos_;
    if (!at_end() && peek() == '-') ++pos_;
    if (at_end() || !is_digit(peek())) return fail("unexpected character");
    if (peek() == '0') {
      ++pos_;
    } else {
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (at_end() || !is_digit(peek())) return fail("bad number");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (at_end() || !is_digit(peek())) return fail("bad number");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    return Value::number(std::string(text_.substr(start, pos_ - start)));
  }

  int hex_value(char c) const {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool parse_hex4(unsigned& out) {
    if (pos_ + 4 > text_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(text_[pos_++]);
      if (h < 0) return false;
      out = (out << 4) | static_cast<unsigned>(h);
    }
    return true;
  }

  Result<void> parse_escape(std::string& out) {
    if (at_end()) return fail("unterminated escape");
    const char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; return ok();
      case '\\': out += '\\'; return ok();
      case '/': out += '/'; return ok();
      case 'b': out += '\b'; return ok();
      case 'f': out += '\f'; return ok();
      case 'n': out += '\n'; return ok();
      case 'r': out += '\r'; return ok();
      case 't': out += '\t'; return ok();
      case 'u': break;
      default: return fail("bad escape");
    }
    unsigned cp = 0;
    if (!parse_hex4(cp)) return fail("bad \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned low = 0;
      if (consume_literal("\\u") && parse_hex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      } else {
        return fail("unpaired surrogate");
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return fail("unpaired surrogate");
    }
    append_utf8(out, cp);
    return ok();
  }

  static bool is_plain(char c) { return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20; }

  Result<std::string> parse_string() {
    ++pos_;  // opening quote
    // The run before the first quote, escape or control character, taken whole: most strings
    // are nothing else, and are built at their size at once.
    std::size_t run = pos_;
    while (run < text_.size() && is_plain(text_[run])) ++run;
    if (run < text_.size() && text_[run] == '"') {
      std::string whole(text_.substr(pos_, run - pos_));
      pos_ = run + 1;
      return whole;
    }
    std::string out(text_.substr(pos_, run - pos_));
    pos_ = run;
    while (true) {
      if (at_end()) return fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        auto escaped = parse_escape(out);
        if (!escaped) return escaped.error();
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in string");
      } else {
        out += c;
      }
    }
  }

  std::string_view text_;
  ParseLimits limits_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Value> parse(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).parse_document();
}

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t plain_from = 0;  // runs that need no escaping are appended whole
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(plain_from, i - plain_from));
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 0xF];
    }
  }
  out.append(s.substr(plain_from));
  out += '"';
}

std::string serialize(const Value& value) {
  Writer w;
  w.value(value);
  return w.take();
}

void Writer::separator() {
  if (need_comma_) out_ += ',';
  need_comma_ = true;
}
Writer& Writer::begin_object() {
  separator();
  out_ += '{';
  need_comma_ = false;
  return *this;
}
Writer& Writer::end_object() {
  out_ += '}';
  need_comma_ = true;
  return *this;
}
Writer& Writer::begin_array() {
  separator();
  out_ += '[';
  need_comma_ = false;
  return *this;
}
Writer& Writer::end_array() {
  out_ += ']';
  need_comma_ = true;
  return *this;
}
Writer& Writer::key(std::string_view k) {
  separator();
  append_quoted(out_, k);
  out_ += ':';
  need_comma_ = false;
  return *this;
}
Writer& Writer::string(std::string_view s) {
  separator();
  append_quoted(out_, s);
  return *this;
}
Writer& Writer::string_or_null(const std::optional<std::string>& s) {
  return s ? string(*s) : null();
}
Writer& Writer::integer(std::int64_t n) {
  separator();
  out_ += std::to_string(n);
  return *this;
}
Writer& Writer::raw_number(std::string_view lexeme) {
  separator();
  out_ += lexeme;
  return *this;
}
Writer& Writer::boolean(bool b) {
  separator();
  out_ += b ? "true" : "false";
  return *this;
}
Writer& Writer::null() {
  separator();
  out_ += "null";
  return *this;
}
Writer& Writer::value(const Value& v) {
  switch (v.type()) {
    case Type::kNull: return null();
    case Type::kBool: return boolean(v.as_bool());
    case Type::kNumber: return raw_number(v.as_string());
    case Type::kString: return string(v.as_string());
    case Type::kArray:
      begin_array();
      for (const auto& item : v.as_array()) value(item);
      return end_array();
    case Type::kObject:
      begin_object();
      for (const auto& [k, item] : v.as_object()) {
        key(k);
        value(item);
      }
      return end_object();
  }
  return *this;
}

}  // namespace herald::json
