#include "domain/rendering/template_render.h"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/utf8.h"
#include "domain/rendering/email_markdown.h"
#include "domain/rendering/text_passes.h"

namespace herald::domain {
namespace {

// =============================================================================================
// UTF-8 scanning. Text here is usually valid UTF-8; a malformed byte is treated as one opaque
// code point (neither whitespace nor a word character) and copied through unchanged.

constexpr std::uint32_t kOpaque = 0xFFFFFFFF;

struct Decoded {
  std::uint32_t code_point;
  std::size_t size;  // bytes
};

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The code point starting at byte `i` (which must be < text.size()).
Decoded decode_at(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = sequence_length(lead);
  if (length == 1) return {lead, 1};
  if (length == 0 || i + length > text.size()) return {kOpaque, 1};
  std::uint32_t cp = lead & (0x7Fu >> length);
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return {kOpaque, 1};
    cp = (cp << 6) | (next & 0x3Fu);
  }
  const bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kOpaque, 1};
  return {cp, length};
}

// The code point that ends just before byte `i`, with its size; nullopt at the start.
std::optional<Decoded> decode_before(std::string_view text, std::size_t i) {
  if (i == 0) return std::nullopt;
  std::size_t start = i - 1;
  while (start > 0 && i - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  const Decoded decoded = decode_at(text, start);
  if (start + decoded.size == i) return decoded;
  return Decoded{kOpaque, 1};
}

// =============================================================================================
// Character classes as Python's re module sees them in str patterns.

// \s, str.isspace().
bool is_space(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

struct Range {
  std::uint32_t first;
  std::uint32_t last;
};

// \w. Exact for ASCII and Latin-1. Beyond that, an approximation of Python's Unicode
// str.isalnum(): letters and digits of every script count, punctuation, symbol and emoji
// blocks and combining marks do not.
bool is_word(std::uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_';
  }
  if (cp < 0xC0) {
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE);
  }
  static constexpr Range kNotWord[] = {{0xD7, 0xD7},     {0xF7, 0xF7},     {0x0300, 0x036F},   {0x2000, 0x206F},
                                       {0x20A0, 0x20FF}, {0x2190, 0x23FF}, {0x2500, 0x2775},   {0x2794, 0x27FF},
                                       {0x2E00, 0x2E7F}, {0x3000, 0x3004}, {0x3008, 0x3020},   {0x3030, 0x3030},
                                       {0xFE10, 0xFE1F}, {0xFE30, 0xFE6F}, {0xFF01, 0xFF0F},   {0xFF1A, 0xFF20},
                                       {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0x1F000, 0x1FAFF}, {kOpaque, kOpaque}};
  if (is_space(cp)) return false;
  for (const Range& range : kNotWord) {
    if (cp >= range.first && cp <= range.last) return false;
  }
  return true;
}

bool is_space_at(std::string_view text, std::size_t i) {
  return i < text.size() && is_space(decode_at(text, i).code_point);
}

bool is_word_at(std::string_view text, std::size_t i) {
  return i < text.size() && is_word(decode_at(text, i).code_point);
}

bool is_digit_at(std::string_view text, std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; }

// Python str.strip() with no argument: Unicode whitespace from both ends.
std::string_view python_strip(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    const Decoded decoded = decode_at(text, begin);
    if (!is_space(decoded.code_point)) break;
    begin += decoded.size;
  }
  std::size_t end = text.size();
  while (end > begin) {
    const auto decoded = decode_before(text, end);
    if (!is_space(decoded->code_point)) break;
    end -= decoded->size;
  }
  return text.substr(begin, end - begin);
}

// formatters.py OBSCURE_ZERO_WIDTH_WHITESPACE.
bool is_zero_width_whitespace(std::uint32_t cp) {
  return cp == 0x180E || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x2028 || cp == 0x2029;
}

// formatters.py OBSCURE_FULL_WIDTH_WHITESPACE.
bool is_full_width_whitespace(std::uint32_t cp) { return cp == 0xA0 || cp == 0x202F; }

bool is_ascii_whitespace(char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

// formatters.py strip_and_remove_obscure_whitespace: obscure whitespace deleted anywhere, then
// string.whitespace stripped from the ends.
std::string strip_and_remove_obscure_whitespace(std::string_view text) {
  std::string kept;
  kept.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Decoded decoded = decode_at(text, i);
    const auto cp = decoded.code_point;
    if (!is_zero_width_whitespace(cp) && !is_full_width_whitespace(cp)) {
      kept.append(text.substr(i, decoded.size));
    }
    i += decoded.size;
  }
  std::size_t begin = 0;
  std::size_t end = kept.size();
  while (begin < end && is_ascii_whitespace(kept[begin])) ++begin;
  while (end > begin && is_ascii_whitespace(kept[end - 1])) --end;
  return kept.substr(begin, end - begin);
}

// =============================================================================================
// Placeholders: the regex \(\(([^()]+)\)\) of field.py, matched left to right without
// overlapping, as re.sub and re.findall do.

struct PlaceholderMatch {
  std::size_t begin;  // of "(("
  std::size_t end;    // one past "))"
  std::string_view body;
};

std::optional<PlaceholderMatch> next_placeholder(std::string_view text, std::size_t from) {
  while (true) {
    const std::size_t open = text.find("((", from);
    if (open == std::string_view::npos) return std::nullopt;
    std::size_t close = open + 2;
    while (close < text.size() && text[close] != '(' && text[close] != ')') ++close;
    if (close > open + 2 && close + 1 < text.size() && text[close] == ')' && text[close + 1] == ')') {
      return PlaceholderMatch{open, close + 2, text.substr(open + 2, close - open - 2)};
    }
    // With a non-empty body no match can start before `close`, so each byte is scanned once.
    from = close == open + 2 ? open + 1 : close;
  }
}

std::string_view name_of(std::string_view body) { return body.substr(0, body.find("??")); }

// The text after the first "??" of a conditional, or nullopt for a plain placeholder.
std::optional<std::string_view> conditional_text_of(std::string_view body) {
  const std::size_t separator = body.find("??");
  if (separator == std::string_view::npos) return std::nullopt;
  return body.substr(separator + 2);
}

bool is_missing(const PersonalisationValue* value) {
  return value == nullptr || value->kind == PersonalisationValue::Kind::kNull;
}

// field.py str2bool, applied to the value as substituted.
bool is_truthy(std::string_view value) {
  static constexpr std::array<std::string_view, 7> kTruthy = {"yes", "y", "true", "t", "1", "include", "show"};
  for (const std::string_view word : kTruthy) {
    if (word.size() != value.size()) continue;
    bool equal = true;
    for (std::size_t i = 0; i < word.size() && equal; ++i) {
      const char c = value[i];
      equal = ((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c) == word[i];
    }
    if (equal) return true;
  }
  return false;
}

// =============================================================================================
// Substitution (field.py Field with html="passthrough").

std::string format_list(const PersonalisationValue& value, ListStyle style) {
  std::vector<std::string> items;
  for (const auto& item : value.items) {
    if (!item) continue;
    std::string cleaned = strip_and_remove_obscure_whitespace(*item);
    if (!cleaned.empty()) items.push_back(std::move(cleaned));
  }
  std::string out;
  if (items.empty()) return out;
  if (style == ListStyle::kMarkdownBullets) out += "\n\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (style == ListStyle::kMarkdownBullets) {
      out += i == 0 ? "* " : "\n* ";
    } else if (i > 0) {
      out += i + 1 == items.size() ? " and " : ", ";
    }
    out += items[i];
  }
  return out;
}

void append_replacement(std::string& out, const PlaceholderMatch& match, const Personalisation& personalisation,
                        ListStyle style) {
  const PersonalisationValue* value = personalisation.find(name_of(match.body));
  if (is_missing(value)) {
    out += "((";  // renderers reject missing values first; shown as PlainTextField would
    out += match.body;
    out += "))";
    return;
  }
  const bool is_list = value->kind == PersonalisationValue::Kind::kList;
  const std::string list = is_list ? format_list(*value, style) : std::string();
  const std::string_view replacement = is_list ? std::string_view(list) : value->text;
  if (const auto conditional = conditional_text_of(match.body)) {
    if (is_truthy(replacement)) out += *conditional;
  } else {
    out += replacement;
  }
}

// Values are inserted as they are and never scanned again for placeholders.
std::string substitute(std::string_view text, const Personalisation& personalisation, ListStyle style) {
  std::string out;
  out.reserve(text.size());
  std::size_t from = 0;
  while (const auto match = next_placeholder(text, from)) {
    out.append(text.substr(from, match->begin - from));
    append_replacement(out, *match, personalisation, style);
    from = match->end;
  }
  out.append(text.substr(from));
  return out;
}

// =============================================================================================
// Nice typography (template.py do_nice_typography): whitespace before punctuation removed,
// smartypants quotes, smart quotes taken back out of email addresses, spaced hyphens to en
// dashes. Each step reproduces one regular expression or library call of notifications-utils.

// ---------------------------------------------------------------------------------------------
// smartypants 2.0 smartypants(text, Attr.q | Attr.u), with notifications-utils' addition of
// "a" to the tags whose content is left alone.

constexpr std::string_view kOpenSingle = "&#8216;";
constexpr std::string_view kCloseSingle = "&#8217;";
constexpr std::string_view kOpenDouble = "&#8220;";
constexpr std::string_view kCloseDouble = "&#8221;";

struct HtmlToken {
  bool is_tag;
  std::string_view text;
};

// Finds "--\s*>" (the end of <!--.*?--\s*>) at or after a position. Positions only grow, so
// one search result is reused until passed: the scans over a whole text stay linear.
class CommentCloseFinder {
 public:
  explicit CommentCloseFinder(std::string_view text) : text_(text) {}

  // One past the '>' of the first "--\s*>" starting at or after `from`, or npos.
  std::size_t end_after(std::size_t from) {
    if (searched_ && from >= searched_from_ && (start_ == npos || from <= start_)) return end_;
    searched_ = true;
    searched_from_ = from;
    for (start_ = text_.find("--", from); start_ != npos; start_ = text_.find("--", start_ + 1)) {
      std::size_t i = start_ + 2;
      while (is_space_at(text_, i)) i += decode_at(text_, i).size;
      if (i < text_.size() && text_[i] == '>') {
        end_ = i + 1;
        return end_;
      }
    }
    end_ = npos;
    return end_;
  }

 private:
  static constexpr std::size_t npos = std::string_view::npos;
  std::string_view text_;
  bool searched_ = false;
  std::size_t searched_from_ = 0;
  std::size_t start_ = npos;
  std::size_t end_ = npos;
};

// A comment with "--" inside is not a comment to smartypants, so its text is educated.
bool is_comment_treated_as_text(std::string_view tag) {
  if (tag.substr(0, 4) != "<!--") return false;
  std::string_view inner = tag.substr(4);
  while (!inner.empty() && inner.back() == '>') inner.remove_suffix(1);
  while (!inner.empty()) {
    const auto last = decode_before(inner, inner.size());
    if (!is_space(last->code_point)) break;
    inner.remove_suffix(last->size);
  }
  while (!inner.empty() && inner.back() == '-') inner.remove_suffix(1);
  return inner.find("--") != std::string_view::npos;
}

// smartypants _tokenize: ([^<]*)(<!--.*?--\s*>|<[^>]*>) matched repeatedly; the rest is text.
std::vector<HtmlToken> tokenize_html(std::string_view text) {
  std::vector<HtmlToken> tokens;
  CommentCloseFinder comment_close(text);
  std::size_t position = 0;
  while (true) {
    const std::size_t open = text.find('<', position);
    if (open == std::string_view::npos) break;
    std::size_t end = std::string_view::npos;
    if (text.substr(open, 4) == "<!--") end = comment_close.end_after(open + 4);
    if (end == std::string_view::npos) {
      const std::size_t close = text.find('>', open + 1);
      if (close == std::string_view::npos) break;
      end = close + 1;
    }
    if (open > position) tokens.push_back({false, text.substr(position, open - position)});
    const std::string_view tag = text.substr(open, end - open);
    tokens.push_back({!is_comment_treated_as_text(tag), tag});
    position = end;
  }
  if (position < text.size()) tokens.push_back({false, text.substr(position)});
  return tokens;
}

struct SkippedTag {
  bool closing;
  std::string_view name;
};

// <(/)?(pre|samp|code|tt|kbd|script|style|math|a)[^>]*> with re.I, matched at the tag's start
// (so "<abbr>" counts as "a", as it does upstream).
std::optional<SkippedTag> match_skipped_tag(std::string_view tag) {
  static constexpr std::array<std::string_view, 9> kSkipped = {"pre",    "samp",  "code", "tt", "kbd",
                                                               "script", "style", "math", "a"};
  const bool closing = tag.size() > 1 && tag[1] == '/';
  const std::string_view rest = tag.substr(closing ? 2 : 1);
  for (const std::string_view name : kSkipped) {
    if (rest.size() < name.size()) continue;
    bool equal = true;
    for (std::size_t i = 0; i < name.size() && equal; ++i) {
      const char c = rest[i];
      equal = ((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c) == name[i];
    }
    if (equal) return SkippedTag{closing, name};
  }
  return std::nullopt;
}

// smartypants process_escapes: \\ \" \' \. \- \` become numeric character references.
std::string process_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (text[i] != '\\' || std::string_view("\\\"'.-`").find(next) == std::string_view::npos) {
      out += text[i];
      continue;
    }
    out += "&#";
    out += std::to_string(static_cast<int>(next));
    out += ';';
    ++i;
  }
  return out;
}

// punct_class of convert_quotes: ASCII punctuation except '&'.
bool is_quote_punctuation(char c) {
  return std::string_view("!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}~").find(c) != std::string_view::npos;
}

// ^'(?=[punct]\\B) and ^"(?=[punct]\\B): a literal backslash and B, as upstream's raw string
// spells it.
void close_leading_quotes(std::string& text) {
  for (const auto& [quote, entity] : {std::pair{'\'', kCloseSingle}, std::pair{'"', kCloseDouble}}) {
    if (text.size() >= 4 && text[0] == quote && is_quote_punctuation(text[1]) && text[2] == '\\' && text[3] == 'B') {
      text.replace(0, 1, entity);
    }
  }
}

// "'(?=\w) and '"(?=\w): a pair of quotes opening a word.
std::string open_quote_pairs(std::string_view text, std::string_view pair, std::string_view replacement) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, 2) == pair && is_word_at(text, i + 2)) {
      out += replacement;
      i += 2;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// \b'(?=\d{2}s): decade abbreviations such as '80s after a word character.
std::string close_decade_quotes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool decade = text[i] == '\'' && is_digit_at(text, i + 1) && is_digit_at(text, i + 2) &&
                        i + 3 < text.size() && text[i + 3] == 's';
    const auto before = decade ? decode_before(text, i) : std::nullopt;
    if (before && is_word(before->code_point)) {
      out += kCloseSingle;
    } else {
      out += text[i];
    }
  }
  return out;
}

// What may come before an opening quote. Upstream writes (\s|&nbsp;|--|&[mn]dash;|&#8211;|
// &#8212;|&\#x201[34];) in a re.VERBOSE pattern, where the unescaped '#' of "&#8211;" starts a
// comment: what it compiles to, and what is reproduced here, is (\s|&nbsp;|--|&[mn]dash;|
// &&#x201[34];).
std::size_t opening_prefix_length(std::string_view text, std::size_t i) {
  static constexpr std::array<std::string_view, 6> kPrefixes = {"&nbsp;",  "--",        "&mdash;",
                                                                "&ndash;", "&&#x2013;", "&&#x2014;"};
  const Decoded decoded = decode_at(text, i);
  if (is_space(decoded.code_point)) return decoded.size;
  for (const std::string_view prefix : kPrefixes) {
    if (text.substr(i, prefix.size()) == prefix) return prefix.size();
  }
  return 0;
}

// (prefix)QUOTE(?=\w) -> \1ENTITY
std::string open_quotes_after_prefix(std::string_view text, char quote, std::string_view entity) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t prefix = opening_prefix_length(text, i);
    if (prefix > 0 && i + prefix < text.size() && text[i + prefix] == quote && is_word_at(text, i + prefix + 1)) {
      out.append(text.substr(i, prefix));
      out += entity;
      i += prefix + 1;
      continue;
    }
    const std::size_t size = decode_at(text, i).size;
    out.append(text.substr(i, size));
    i += size;
  }
  return out;
}

enum class CloseRule {
  kNotBeforeSpaceSOrDigit,  // (close_class)'(?!\s|s\b|\d)
  kBeforeSpaceOrS,          // (close_class)'(\s|s\b), the \s or s kept
  kAnywhere,                // (close_class)"
};

// close_class is [^\ \t\r\n\[\{\(\-]: any character but those.
bool is_close_class(std::uint32_t cp) {
  return cp != ' ' && cp != '\t' && cp != '\r' && cp != '\n' && cp != '[' && cp != '{' && cp != '(' && cp != '-';
}

// How many bytes after a closing quote the rule consumes; nullopt when the rule fails there.
std::optional<std::size_t> close_rule_tail(std::string_view text, std::size_t i, CloseRule rule) {
  const bool space = is_space_at(text, i);
  const bool s_at_word_end = i < text.size() && text[i] == 's' && !is_word_at(text, i + 1);
  switch (rule) {
    case CloseRule::kNotBeforeSpaceSOrDigit:
      if (space || s_at_word_end || is_digit_at(text, i)) return std::nullopt;
      return 0;
    case CloseRule::kBeforeSpaceOrS:
      if (space) return decode_at(text, i).size;
      if (s_at_word_end) return 1;
      return std::nullopt;
    case CloseRule::kAnywhere: return 0;
  }
  return std::nullopt;
}

// (close_class)QUOTE(tail) -> \1ENTITY(tail)
std::string close_quotes(std::string_view text, char quote, std::string_view entity, CloseRule rule) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Decoded decoded = decode_at(text, i);
    const std::size_t quote_at = i + decoded.size;
    if (is_close_class(decoded.code_point) && quote_at < text.size() && text[quote_at] == quote) {
      if (const auto tail = close_rule_tail(text, quote_at + 1, rule)) {
        out.append(text.substr(i, decoded.size));
        out += entity;
        out.append(text.substr(quote_at + 1, *tail));
        i = quote_at + 1 + *tail;
        continue;
      }
    }
    out.append(text.substr(i, decoded.size));
    i += decoded.size;
  }
  return out;
}

// "(?=\s) -> ENTITY
std::string close_double_quotes_before_space(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"' && is_space_at(text, i + 1)) {
      out += kCloseDouble;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string replace_all(std::string_view text, char quote, std::string_view entity) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == quote) {
      out += entity;
    } else {
      out += c;
    }
  }
  return out;
}

// smartypants convert_quotes: its regular expressions in its order, each over the previous
// one's output.
std::string convert_quotes(std::string text) {
  close_leading_quotes(text);
  text = open_quote_pairs(text, "\"'", std::string(kOpenDouble) + std::string(kOpenSingle));
  text = open_quote_pairs(text, "'\"", std::string(kOpenSingle) + std::string(kOpenDouble));
  text = close_decade_quotes(text);
  text = open_quotes_after_prefix(text, '\'', kOpenSingle);
  text = close_quotes(text, '\'', kCloseSingle, CloseRule::kNotBeforeSpaceSOrDigit);
  text = close_quotes(text, '\'', kCloseSingle, CloseRule::kBeforeSpaceOrS);
  text = replace_all(text, '\'', kOpenSingle);
  text = open_quotes_after_prefix(text, '"', kOpenDouble);
  text = close_double_quotes_before_space(text);
  text = close_quotes(text, '"', kCloseDouble, CloseRule::kAnywhere);
  return replace_all(text, '"', kOpenDouble);
}

// smartypants convert_entities mode 0 (Attr.u): its references become the characters. This
// also converts these references where the sender wrote them.
std::string convert_entities(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kEntities = {{
      {"&#8211;", "\u2013"},
      {"&#8212;", "\u2014"},
      {"&#8216;", "\u2018"},
      {"&#8217;", "\u2019"},
      {"&#8220;", "\u201C"},
      {"&#8221;", "\u201D"},
      {"&#8230;", "\u2026"},
  }};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [entity, character] : kEntities) {
      if (text[i] == '&' && text.substr(i, entity.size()) == entity) {
        out += character;
        i += entity.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string educate_text(std::string_view token, std::optional<std::uint32_t> previous_last) {
  std::string text = process_escapes(token);
  const bool after_non_space = previous_last && !is_space(*previous_last);
  if (text == "'") {
    text = after_non_space ? kCloseSingle : kOpenSingle;
  } else if (text == "\"") {
    text = after_non_space ? kCloseDouble : kOpenDouble;
  } else {
    text = convert_quotes(std::move(text));
  }
  return convert_entities(text);
}

struct SkipState {
  std::vector<std::string_view> open_tags;
  bool in_skipped = false;
};

void track_skipped_tags(std::string_view tag, SkipState& state) {
  const auto skipped = match_skipped_tag(tag);
  if (!skipped) return;
  if (!skipped->closing) {
    state.open_tags.push_back(skipped->name);
    state.in_skipped = true;
    return;
  }
  if (!state.open_tags.empty() && state.open_tags.back() == skipped->name) {
    state.open_tags.pop_back();
  }
  if (state.open_tags.empty()) state.in_skipped = false;
}

std::string make_quotes_smart(std::string_view text) {
  // Without a quote, a backslash escape or an entity reference nothing below changes the text.
  if (text.find_first_of("'\"\\&") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  SkipState state;
  std::optional<std::uint32_t> previous_last;  // last character of the previous text token
  for (const HtmlToken& token : tokenize_html(text)) {
    if (token.is_tag) {
      out.append(token.text);
      track_skipped_tags(token.text, state);
      continue;
    }
    if (state.in_skipped) {
      out.append(token.text);
    } else {
      out += educate_text(token.text, previous_last);
    }
    previous_last = decode_before(token.text, token.text.size())->code_point;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

// The regex (^|\s)\S+@\S+(\s|$) with re.MULTILINE: in each whitespace-delimited word with an
// '@' that has a character on each side, ‘ and ’ become '. A match uses up the whitespace
// character after its word, so the next word matches only after more whitespace or a newline.
std::string remove_smart_quotes_from_email_addresses(std::string_view text) {
  if (text.find('@') == std::string_view::npos) return std::string(text);  // no address in it
  std::string out;
  out.reserve(text.size());
  std::size_t consumed_space = std::string_view::npos;
  for (std::size_t i = 0; i < text.size();) {
    const Decoded decoded = decode_at(text, i);
    if (is_space(decoded.code_point)) {
      out.append(text.substr(i, decoded.size));
      i += decoded.size;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !is_space_at(text, end)) end += decode_at(text, end).size;
    const std::string_view word = text.substr(i, end - i);
    const auto before = decode_before(text, i);
    const bool can_start = !before || text[i - 1] == '\n' || i - before->size != consumed_space;
    const bool has_inner_at = word.size() >= 3 && word.substr(1, word.size() - 2).find('@') != std::string_view::npos;
    if (can_start && has_inner_at) {
      for (std::size_t k = 0; k < word.size(); ++k) {
        if (word.substr(k, 3) == "\u2018" || word.substr(k, 3) == "\u2019") {
          out += '\'';
          k += 2;
        } else {
          out += word[k];
        }
      }
      consumed_space = end;
    } else {
      out.append(word);
    }
    i = end;
  }
  return out;
}

bool is_dash_at(std::string_view text, std::size_t i, std::size_t& size) {
  if (i < text.size() && text[i] == '-') {
    size = 1;
    return true;
  }
  const std::string_view three = text.substr(i, 3);
  size = 3;
  return three == "\u2013" || three == "\u2014";
}

// (?<!\s)\s+[-–—]{1,3}\s+ -> " – "
std::string replace_hyphens_with_en_dashes(std::string_view text) {
  // No dash of any of the three kinds: nothing to replace.
  if (text.find('-') == std::string_view::npos && text.find("\u2013") == std::string_view::npos &&
      text.find("\u2014") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (!is_space_at(text, i)) {
      const std::size_t size = decode_at(text, i).size;
      out.append(text.substr(i, size));
      i += size;
      continue;
    }
    std::size_t j = i;  // i starts a whitespace run: the previous character is not whitespace
    while (is_space_at(text, j)) j += decode_at(text, j).size;
    std::size_t dashes = 0;
    std::size_t k = j;
    std::size_t size = 0;
    while (is_dash_at(text, k, size)) {
      ++dashes;
      k += size;
    }
    if (dashes == 0 || dashes > 3 || !is_space_at(text, k)) {
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    while (is_space_at(text, k)) k += decode_at(text, k).size;
    out += " \u2013 ";
    i = k;
  }
  return out;
}

// formatters.py normalise_whitespace: no-break spaces become spaces, zero-width whitespace
// goes, then " ".join(value.split()).
std::string normalise_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    const Decoded decoded = decode_at(text, i);
    const std::uint32_t cp = decoded.code_point;
    if (is_zero_width_whitespace(cp)) {
      // deleted, even U+2028 and U+2029, which would otherwise separate words
    } else if (is_space(cp) || is_full_width_whitespace(cp)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out.append(text.substr(i, decoded.size));
    }
    i += decoded.size;
  }
  return out;
}

std::string render_subject(std::string_view subject, const Personalisation& personalisation) {
  std::string text = substitute(subject, personalisation, ListStyle::kInline);
  text = remove_whitespace_before_punctuation<char>(text);
  text = make_quotes_smart(text);
  text = remove_smart_quotes_from_email_addresses(text);
  text = replace_hyphens_with_en_dashes(text);
  return normalise_whitespace(text);
}

// =============================================================================================
// Message parts.

// template.py Template.is_message_empty, given the rendered (stripped) body.
bool is_message_empty(std::string_view body_template, std::string_view rendered_body) {
  if (body_template.empty()) return true;
  if (!body_template.starts_with("((") || !body_template.ends_with("))")) return false;
  return rendered_body.empty();
}

// Names of the placeholders with no value, over `texts` in order, first occurrence order.
std::vector<std::string> missing_placeholders(std::initializer_list<std::string_view> texts,
                                              const Personalisation& personalisation) {
  std::vector<std::string> missing;
  // Usually every placeholder has its value: found without building a name or a set.
  const auto all_given = [&] {
    for (const std::string_view text : texts) {
      std::size_t from = 0;
      while (const auto match = next_placeholder(text, from)) {
        if (is_missing(personalisation.find(name_of(match->body)))) return false;
        from = match->end;
      }
    }
    return true;
  };
  if (all_given()) return missing;
  std::unordered_set<std::string> seen;
  for (const std::string_view text : texts) {
    for (std::string& name : placeholder_names(text)) {
      if (!seen.insert(normalise_placeholder_key(name)).second) continue;
      if (is_missing(personalisation.find(name))) missing.push_back(std::move(name));
    }
  }
  return missing;
}

}  // namespace

std::vector<std::string> placeholder_names(std::string_view text) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  std::size_t from = 0;
  while (const auto match = next_placeholder(text, from)) {
    const std::string_view name = name_of(match->body);
    if (seen.insert(normalise_placeholder_key(name)).second) names.emplace_back(name);
    from = match->end;
  }
  return names;
}

Result<void> check_placeholders(std::initializer_list<std::string_view> texts, const Personalisation& personalisation) {
  const std::vector<std::string> missing = missing_placeholders(texts, personalisation);
  if (missing.empty()) return ok();
  std::string message = "Missing personalisation: ";
  for (std::size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) message += ", ";
    message += missing[i];
  }
  return invalid_argument(std::move(message));
}

std::string substitute_placeholders(std::string_view text, const Personalisation& personalisation, ListStyle style) {
  return substitute(text, personalisation, style);
}

Result<RenderedEmail> render_email(const EmailTemplateContent& content, const Personalisation& personalisation,
                                   RenderParts parts, std::string_view one_click_unsubscribe_url) {
  HERALD_TRY(check_placeholders({content.subject, content.body}, personalisation));
  RenderedEmail rendered;
  rendered.body = std::string(python_strip(substitute(content.body, personalisation, ListStyle::kMarkdownBullets)));
  if (is_message_empty(content.body, rendered.body)) {
    return invalid_argument("Your message is empty.");
  }
  rendered.subject = render_subject(content.subject, personalisation);
  if (parts == RenderParts::kContent) return rendered;
  auto mime = email_mime_parts(rendered.subject, rendered.body, one_click_unsubscribe_url);
  rendered.text_body = std::move(mime.text_body);
  rendered.html_body = std::move(mime.html_body);
  return rendered;
}

EmailMimeParts email_mime_parts(std::string_view subject, std::string_view body,
                                std::string_view one_click_unsubscribe_url) {
  // Notify markdown renderings of the body, with the unsubscribe footer that the API's `body`
  // never shows.
  const std::string sent_body = with_unsubscribe_footer(body, one_click_unsubscribe_url);
  return {email_markdown_to_plain_text(sent_body), email_html_document(subject, email_markdown_to_html(sent_body))};
}

}  // namespace herald::domain
