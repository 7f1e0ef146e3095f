#include "domain/rendering/email_markdown.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/html.h"

namespace herald::domain {
namespace {

// Characters examined on this thread; read by email_markdown_steps_for_test().
thread_local std::uint64_t steps_taken = 0;

// Counts a scan of `n` characters (plus one, so that empty scans count too).
void tally(std::size_t n) { steps_taken += n + 1; }

// =============================================================================================
// Styles. Values follow Notify's email renderer and email template (notifications-utils
// markdown.py, email_template.jinja2); "Margin" is capitalised on purpose: Outlook.com strips
// a lower-case margin.

constexpr std::string_view kParagraphStyle = "Margin: 0 0 20px 0; font-size: 19px; line-height: 25px; color: #0B0C0C;";
constexpr std::string_view kHeading1Style =
    "Margin: 0 0 15px 0; padding: 10px 0 0 0; font-size: 27px; line-height: 35px; "
    "font-weight: bold; color: #0B0C0C;";
constexpr std::string_view kHeading2Style =
    "Margin: 0 0 15px 0; padding: 10px 0 0 0; font-size: 19px; line-height: 25px; "
    "font-weight: bold; color: #0B0C0C;";
constexpr std::string_view kRuleStyle = "border: 0; height: 1px; background: #B1B4B6; Margin: 30px 0 30px 0;";
constexpr std::string_view kListTableStyle = "padding: 0 0 20px 0;";
constexpr std::string_view kListCellStyle = "font-family: Helvetica, Arial, sans-serif;";
constexpr std::string_view kBulletListStyle = "Margin: 0 0 0 20px; padding: 0; list-style-type: disc;";
constexpr std::string_view kNumberedListStyle = "Margin: 0 0 0 20px; padding: 0; list-style-type: decimal;";
constexpr std::string_view kListItemStyle =
    "Margin: 5px 0 5px; padding: 0 0 0 5px; font-size: 19px; line-height: 25px; "
    "color: #0B0C0C;";
constexpr std::string_view kInsetOuterStyle = "Margin: 0 0 20px 0;";
constexpr std::string_view kInsetStyle =
    "Margin: 0; border-left: 10px solid #B1B4B6; padding: 15px 0 0.1px 15px; font-size: 19px; "
    "line-height: 25px;";
constexpr std::string_view kLinkStyle = "word-wrap: break-word; color: #1D70B8;";

// Notify's plain-text renderer lays headings and rules out to this width.
constexpr std::size_t kColumnWidth = 65;
constexpr std::string_view kBullet = "\u2022";  // •

// =============================================================================================
// Lines and their classification.

bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank_char(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank_char(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view skip_indent(std::string_view line) {
  while (!line.empty() && is_blank_char(line.front())) line.remove_prefix(1);
  return line;
}

bool is_blank(std::string_view line) {
  tally(line.size());
  return skip_indent(line).empty();
}

// Newlines normalised to "\n"; U+2028 and U+3164 removed, as Notify does before rendering.
std::string prepare(std::string_view body) {
  tally(body.size());
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r') {
      out += '\n';
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else if ((c == '\xE2' || c == '\xE3') && (body.substr(i, 3) == "\u2028" || body.substr(i, 3) == "\u3164")) {
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  tally(text.size());
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// "---", "***", "___", "- - -": three or more of -*_ and nothing else but blanks.
bool is_rule(std::string_view line) {
  tally(line.size());
  std::size_t markers = 0;
  for (const char c : line) {
    if (c == '-' || c == '*' || c == '_') {
      ++markers;
    } else if (!is_blank_char(c)) {
      return false;
    }
  }
  return markers >= 3;
}

// A setext underline: a run of '=' (level 1) or '-' (level 2) with blanks around it.
std::optional<int> underline_level(std::string_view line) {
  tally(line.size());
  line = trim(line);
  if (line.empty() || (line.front() != '=' && line.front() != '-')) return std::nullopt;
  for (const char c : line) {
    if (c != line.front()) return std::nullopt;
  }
  return line.front() == '=' ? 1 : 2;
}

struct Heading {
  int level;
  std::string_view text;
};

// "# text" to "###### text" (the space is optional); more '#' count as level 6 with the rest
// as text. Closing '#'s after a blank are dropped.
std::optional<Heading> atx_heading(std::string_view line) {
  tally(line.size());
  line = skip_indent(line);
  std::size_t level = 0;
  while (level < 6 && level < line.size() && line[level] == '#') ++level;
  if (level == 0) return std::nullopt;
  std::string_view text = trim(line.substr(level));
  std::string_view without_closing = text;
  while (!without_closing.empty() && without_closing.back() == '#') {
    without_closing.remove_suffix(1);
  }
  if (without_closing.empty() || is_blank_char(without_closing.back())) {
    without_closing = trim(without_closing);
    if (!without_closing.empty()) text = without_closing;
  }
  if (text.empty()) return std::nullopt;
  return Heading{static_cast<int>(level), text};
}

bool is_inset_start(std::string_view line) {
  tally(line.size());
  line = skip_indent(line);
  return line.size() >= 2 && line.front() == '^';
}

// The line without its "^" marker and one following space.
std::string_view inset_content(std::string_view line) {
  const std::string_view rest = skip_indent(line);
  if (rest.empty() || rest.front() != '^') return line;
  return rest.substr(rest.size() > 1 && rest[1] == ' ' ? 2 : 1);
}

struct ListMarker {
  bool numbered;
  bool space_after;  // only a marker followed by a blank interrupts a paragraph
  std::string_view content;
};

// "* ", "- ", "• " or "12. " (the blank is optional); the item must have some text.
std::optional<ListMarker> list_marker(std::string_view line) {
  tally(line.size());
  line = skip_indent(line);
  std::size_t length = 0;
  bool numbered = false;
  if (!line.empty() && (line.front() == '*' || line.front() == '-')) {
    length = 1;
  } else if (line.starts_with(kBullet)) {
    length = kBullet.size();
  } else {
    while (length < line.size() && line[length] >= '0' && line[length] <= '9') ++length;
    if (length == 0 || length >= line.size() || line[length] != '.') return std::nullopt;
    ++length;
    numbered = true;
  }
  const std::string_view rest = line.substr(length);
  const std::string_view content = trim(rest);
  if (content.empty()) return std::nullopt;
  return ListMarker{numbered, !rest.empty() && is_blank_char(rest.front()), content};
}

// =============================================================================================
// Blocks.

enum class BlockKind {
  kParagraph,
  kHeading1,
  kHeading2,
  kRule,
  kBulletList,
  kNumberedList,
  kInset,
};

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  // Paragraphs and headings: the text lines. Lists: one entry per item, its lines joined by
  // "\n" in `items`.
  std::vector<std::string_view> lines;
  std::vector<std::string> items;
  std::vector<Block> children;  // inset text
};

enum class Depth { kTop, kInsideInset };

class BlockParser {
 public:
  BlockParser(const std::vector<std::string_view>& lines, Depth depth) : lines_(lines), depth_(depth) {}

  std::vector<Block> parse() {
    while (next_ < lines_.size()) {
      const std::string_view line = lines_[next_];
      if (is_blank(line)) {
        ++next_;
      } else if (is_rule(line)) {
        blocks_.push_back(Block{BlockKind::kRule, {}, {}, {}});
        ++next_;
      } else if (const auto heading = atx_heading(line)) {
        add_heading(heading->level, heading->text);
        ++next_;
      } else if (const auto level = setext_level_at(next_)) {
        add_heading(*level, trim(line));
        next_ += 2;
      } else if (depth_ == Depth::kTop && is_inset_start(line)) {
        parse_inset();
      } else if (const auto marker = list_marker(line)) {
        parse_list(marker->numbered);
      } else {
        parse_paragraph();
      }
    }
    return std::move(blocks_);
  }

 private:
  // The level when line `index` is text underlined by line `index + 1`.
  std::optional<int> setext_level_at(std::size_t index) const {
    if (index + 1 >= lines_.size() || is_blank(lines_[index])) return std::nullopt;
    return underline_level(lines_[index + 1]);
  }

  void add_heading(int level, std::string_view text) {
    const BlockKind kind = level == 1   ? BlockKind::kHeading1
                           : level == 2 ? BlockKind::kHeading2
                                        : BlockKind::kParagraph;
    blocks_.push_back(Block{kind, {text}, {}, {}});
  }

  // Lines that end a paragraph without a blank line before them.
  bool interrupts_paragraph(std::size_t index) const {
    const std::string_view line = lines_[index];
    if (is_blank(line) || is_rule(line) || atx_heading(line) || setext_level_at(index)) {
      return true;
    }
    if (depth_ == Depth::kTop && is_inset_start(line)) return true;
    const auto marker = list_marker(line);
    return marker && marker->space_after;
  }

  void parse_paragraph() {
    Block block;
    block.lines.push_back(trim(lines_[next_++]));
    while (next_ < lines_.size() && !interrupts_paragraph(next_)) {
      block.lines.push_back(trim(lines_[next_++]));
    }
    blocks_.push_back(std::move(block));
  }

  // Inset text runs over the following non-blank lines, and over blank lines when the next
  // non-blank line starts another "^" paragraph. Its content is parsed as blocks, once.
  void parse_inset() {
    std::vector<std::string_view> content;
    while (next_ < lines_.size()) {
      while (next_ < lines_.size() && !is_blank(lines_[next_])) {
        content.push_back(inset_content(lines_[next_++]));
      }
      std::size_t after_blanks = next_;
      while (after_blanks < lines_.size() && is_blank(lines_[after_blanks])) ++after_blanks;
      if (after_blanks >= lines_.size() || !is_inset_start(lines_[after_blanks])) break;
      content.insert(content.end(), after_blanks - next_, std::string_view());
      next_ = after_blanks;
    }
    Block block{BlockKind::kInset, {}, {}, {}};
    block.children = BlockParser(content, Depth::kInsideInset).parse();
    blocks_.push_back(std::move(block));
  }

  // Whether the list goes on at line `index`, after blank lines: an indented line continues
  // the last item, a marker followed by a blank starts another.
  bool list_continues_after_blanks(std::size_t index) const {
    if (index >= lines_.size() || is_rule(lines_[index])) return false;
    if (is_blank_char(lines_[index].front())) return true;
    const auto marker = list_marker(lines_[index]);
    return marker && marker->space_after;
  }

  void parse_list(bool numbered) {
    Block block{numbered ? BlockKind::kNumberedList : BlockKind::kBulletList, {}, {}, {}};
    while (next_ < lines_.size()) {
      const std::string_view line = lines_[next_];
      if (is_blank(line)) {
        std::size_t after_blanks = next_;
        while (after_blanks < lines_.size() && is_blank(lines_[after_blanks])) ++after_blanks;
        if (!list_continues_after_blanks(after_blanks)) break;
        next_ = after_blanks;
        continue;
      }
      if (is_rule(line)) break;
      if (const auto marker = list_marker(line)) {
        block.items.emplace_back(marker->content);
      } else {
        block.items.back() += '\n';
        block.items.back() += trim(line);
      }
      ++next_;
    }
    blocks_.push_back(std::move(block));
  }

  const std::vector<std::string_view>& lines_;
  Depth depth_;
  std::size_t next_ = 0;
  std::vector<Block> blocks_;
};

std::vector<Block> parse_blocks(const std::string& prepared) {
  return BlockParser(split_lines(prepared), Depth::kTop).parse();
}

// =============================================================================================
// Inline markup: backslash escapes, links, bare URLs and line breaks.

enum class Format { kHtml, kPlainText };

void append_text(std::string& out, std::string_view text, Format format) {
  if (format == Format::kHtml) {
    append_html_escaped(out, text);
  } else {
    out += text;
  }
}

// The characters a backslash makes literal (sanitise_content_for escapes these, §7.6).
bool is_escapable(char c) { return std::string_view("\\`*{}[]()#+-.!_>~|").find(c) != std::string_view::npos; }

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_alnum(char c) { return is_ascii_alpha(c) || (c >= '0' && c <= '9'); }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// The URL a link may point at, or nullopt when it must stay text: http, https and mailto
// schemes only; a URL without a scheme that starts like a host name gets "http://", as Notify
// does. Anything else (javascript:, data:, a leading control character) is refused.
std::optional<std::string> allowed_href(std::string_view url) {
  std::size_t scheme_end = 0;
  while (scheme_end < url.size() && (is_ascii_alnum(url[scheme_end]) || url[scheme_end] == '+' ||
                                     url[scheme_end] == '-' || url[scheme_end] == '.')) {
    ++scheme_end;
  }
  if (scheme_end < url.size() && url[scheme_end] == ':') {
    const std::string_view scheme = url.substr(0, scheme_end);
    if (equals_ignoring_case(scheme, "http") || equals_ignoring_case(scheme, "https") ||
        equals_ignoring_case(scheme, "mailto")) {
      return std::string(url);
    }
    return std::nullopt;
  }
  if (url.empty() || !is_ascii_alnum(url.front())) return std::nullopt;
  return "http://" + std::string(url);
}

// Percent-encodes every byte outside the URL characters that are harmless in a double-quoted
// attribute, then escapes '&'. Existing %XX sequences are kept, so encoded URLs survive.
void append_href(std::string& out, std::string_view href) {
  static constexpr std::string_view kKept = "-._~:/?#[]@!$&*+,;=%";
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char c : href) {
    if (is_ascii_alnum(c) || kKept.find(c) != std::string_view::npos) {
      if (c == '&') {
        out += "&amp;";
      } else {
        out += c;
      }
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
}

struct Link {
  std::string_view text;
  std::string_view url;
  std::string_view title;
  std::size_t end;  // one past ")"
};

void skip_spaces(std::string_view text, std::size_t& i) {
  while (i < text.size() && is_blank_char(text[i])) ++i;
}

// [text](url) or [text](url "title") starting at the '[' at `open`. No part may hold '[' or a
// newline, so a failed attempt scans no further than the next '[' and the whole inline scan
// stays linear. The URL ends at the first blank or ')'.
std::optional<Link> parse_link(std::string_view text, std::size_t open) {
  std::size_t i = open + 1;
  struct Count {  // i only moves forward: the scan examined what lies between open and i
    const std::size_t& i;
    std::size_t open;
    ~Count() { tally(i - open); }
  } count{i, open};
  while (i < text.size() && text[i] != ']' && text[i] != '[' && text[i] != '\n') ++i;
  if (i + 1 >= text.size() || text[i] != ']' || text[i + 1] != '(') return std::nullopt;
  Link link{text.substr(open + 1, i - open - 1), {}, {}, 0};
  i += 2;
  skip_spaces(text, i);
  const std::size_t url_start = i;
  while (i < text.size() && !is_blank_char(text[i]) && text[i] != ')' && text[i] != '[' && text[i] != ']' &&
         text[i] != '\n') {
    ++i;
  }
  link.url = text.substr(url_start, i - url_start);
  skip_spaces(text, i);
  if (i < text.size() && i > url_start + link.url.size() && (text[i] == '"' || text[i] == '\'')) {
    const char quote = text[i];
    const std::size_t title_start = ++i;
    while (i < text.size() && text[i] != quote && text[i] != '[' && text[i] != '\n') ++i;
    if (i >= text.size() || text[i] != quote) return std::nullopt;
    link.title = text.substr(title_start, i - title_start);
    ++i;
    skip_spaces(text, i);
  }
  if (i >= text.size() || text[i] != ')' || link.url.empty()) return std::nullopt;
  link.end = i + 1;
  return link;
}

// A bare URL at `start` ("http://" or "https://"): up to the next blank or '<', less trailing
// characters that usually end a sentence rather than a URL. Returns its length, or 0.
std::size_t bare_url_length(std::string_view text, std::size_t start) {
  const std::string_view rest = text.substr(start);
  std::size_t prefix = 0;
  if (rest.starts_with("http://")) prefix = 7;
  if (rest.starts_with("https://")) prefix = 8;
  if (prefix == 0) return 0;
  std::size_t end = prefix;
  struct Count {  // the scan forward, then at most as far back
    const std::size_t& end;
    ~Count() { tally(2 * end); }
  } count{end};
  while (end < rest.size() && rest[end] != '<' && rest[end] != '\n' && !is_blank_char(rest[end])) {
    ++end;
  }
  const std::string_view trailing = ".,:\"')]";
  while (end > prefix && trailing.find(rest[end - 1]) != std::string_view::npos) --end;
  return end >= prefix + 2 ? end : 0;
}

void append_anchor(std::string& out, std::string_view href, std::string_view title, std::string_view text) {
  out += "<a style=\"";
  out += kLinkStyle;
  out += "\" href=\"";
  append_href(out, href);
  out += '"';
  if (!title.empty()) {
    out += " title=\"";
    append_html_escaped(out, title);
    out += '"';
  }
  out += '>';
  append_html_escaped(out, text);
  out += "</a>";
}

void append_link(std::string& out, const Link& link, std::string_view href, Format format) {
  const std::string_view text = link.text.empty() ? link.url : link.text;
  if (format == Format::kHtml) {
    append_anchor(out, href, link.title, text);
    return;
  }
  out += text;
  if (!link.title.empty()) {
    out += " (";
    out += link.title;
    out += ')';
  }
  out += ": ";
  out += link.url;
}

// Tries the construct starting at `i`; on success appends it and returns where it ends.
std::optional<std::size_t> append_construct(std::string& out, std::string_view text, std::size_t i, Format format) {
  const char c = text[i];
  if (c == '\\' && i + 1 < text.size() && is_escapable(text[i + 1])) {
    append_text(out, text.substr(i + 1, 1), format);
    return i + 2;
  }
  if (c == '!' && i + 1 < text.size() && text[i + 1] == '[') {
    if (const auto image = parse_link(text, i + 1)) return image->end;  // images are dropped
    return std::nullopt;
  }
  if (c == '[') {
    const auto link = parse_link(text, i);
    if (!link) return std::nullopt;
    const auto href = allowed_href(link->url);
    if (!href) return std::nullopt;
    append_link(out, *link, *href, format);
    return link->end;
  }
  if (c == 'h') {
    const std::size_t length = bare_url_length(text, i);
    if (length == 0) return std::nullopt;
    const std::string_view url = text.substr(i, length);
    if (format == Format::kHtml) {
      append_anchor(out, url, {}, url);
    } else {
      out += url;
    }
    return i + length;
  }
  return std::nullopt;
}

std::string render_inline(std::string_view text, Format format) {
  tally(text.size());  // the loop below; the constructs it tries count their own scans
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t i = 0;
  while (i < text.size()) {
    if (const auto end = append_construct(out, text, i, format)) {
      i = *end;
    } else if (text[i] == '\n') {
      out += format == Format::kHtml ? "<br>\n" : "\n";
      ++i;
    } else {
      // Plain text up to the next character that could start a construct, in one go.
      std::size_t run_end = text.find_first_of("\\![h\n", i + 1);
      if (run_end == std::string_view::npos) run_end = text.size();
      append_text(out, text.substr(i, run_end - i), format);
      i = run_end;
    }
  }
  return out;
}

std::string joined_lines(const std::vector<std::string_view>& lines) {
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    tally(lines[i].size());
    if (i > 0) text += '\n';
    text += lines[i];
  }
  return text;
}

bool has_visible_text(std::string_view rendered) {
  return rendered.find_first_not_of(" \t\n\f\v") != std::string_view::npos;
}

// =============================================================================================
// HTML blocks.

void append_element(std::string& out, std::string_view tag, std::string_view style, std::string_view inner) {
  out += '<';
  out += tag;
  out += " style=\"";
  out += style;
  out += "\">";
  out += inner;
  out += "</";
  out += tag;
  out += ">\n";
}

void append_html_list(std::string& out, const Block& block) {
  const bool numbered = block.kind == BlockKind::kNumberedList;
  const std::string_view tag = numbered ? "ol" : "ul";
  out += "<table role=\"presentation\" style=\"";
  out += kListTableStyle;
  out += "\"><tr><td style=\"";
  out += kListCellStyle;
  out += "\">\n<";
  out += tag;
  out += " style=\"";
  out += numbered ? kNumberedListStyle : kBulletListStyle;
  out += "\">\n";
  for (const std::string& item : block.items) {
    append_element(out, "li", kListItemStyle, render_inline(item, Format::kHtml));
  }
  out += "</";
  out += tag;
  out += ">\n</td></tr></table>\n";
}

void append_html_blocks(std::string& out, const std::vector<Block>& blocks) {
  for (const Block& block : blocks) {
    switch (block.kind) {
      case BlockKind::kParagraph: {
        const std::string inner = render_inline(joined_lines(block.lines), Format::kHtml);
        if (has_visible_text(inner)) append_element(out, "p", kParagraphStyle, inner);
        break;
      }
      case BlockKind::kHeading1:
        append_element(out, "h2", kHeading1Style, render_inline(block.lines[0], Format::kHtml));
        break;
      case BlockKind::kHeading2:
        append_element(out, "h3", kHeading2Style, render_inline(block.lines[0], Format::kHtml));
        break;
      case BlockKind::kRule:
        out += "<hr style=\"";
        out += kRuleStyle;
        out += "\">\n";
        break;
      case BlockKind::kBulletList:
      case BlockKind::kNumberedList: append_html_list(out, block); break;
      case BlockKind::kInset:
        out += "<div style=\"";
        out += kInsetOuterStyle;
        out += "\"><blockquote style=\"";
        out += kInsetStyle;
        out += "\">\n";
        append_html_blocks(out, block.children);
        out += "</blockquote></div>\n";
        break;
    }
  }
}

// =============================================================================================
// Plain-text blocks.

void append_plain_list(std::string& out, const Block& block) {
  out += '\n';
  std::size_t number = 1;
  for (const std::string& item : block.items) {
    out += '\n';
    if (block.kind == BlockKind::kNumberedList) {
      out += std::to_string(number++);
      out += '.';
    } else {
      out += kBullet;
    }
    out += ' ';
    out += trim(render_inline(item, Format::kPlainText));
  }
}

void append_plain_heading(std::string& out, std::string_view text, char underline) {
  out += "\n\n\n";
  out += render_inline(text, Format::kPlainText);
  out += '\n';
  out.append(kColumnWidth, underline);
}

void append_plain_blocks(std::string& out, const std::vector<Block>& blocks) {
  for (const Block& block : blocks) {
    switch (block.kind) {
      case BlockKind::kParagraph: {
        const std::string text = render_inline(joined_lines(block.lines), Format::kPlainText);
        if (has_visible_text(text)) out += "\n\n" + text;
        break;
      }
      case BlockKind::kHeading1: append_plain_heading(out, block.lines[0], '='); break;
      case BlockKind::kHeading2: append_plain_heading(out, block.lines[0], '-'); break;
      case BlockKind::kRule:
        out += "\n\n";
        for (std::size_t i = 0; i < kColumnWidth; ++i) out += i % 2 == 0 ? '=' : '-';
        break;
      case BlockKind::kBulletList:
      case BlockKind::kNumberedList: append_plain_list(out, block); break;
      case BlockKind::kInset: append_plain_blocks(out, block.children); break;
    }
  }
}

}  // namespace

std::uint64_t email_markdown_steps_for_test() { return steps_taken; }

std::string email_markdown_to_html(std::string_view body) {
  const std::string prepared = prepare(body);
  std::string out;
  out.reserve(prepared.size() * 2);
  append_html_blocks(out, parse_blocks(prepared));
  return out;
}

std::string email_markdown_to_plain_text(std::string_view body) {
  const std::string prepared = prepare(body);
  std::string out;
  out.reserve(prepared.size() + 16);
  append_plain_blocks(out, parse_blocks(prepared));
  const std::size_t start = out.find_first_not_of(" \t\n\f\v");
  out.erase(0, start == std::string::npos ? out.size() : start);
  out += '\n';
  return out;
}

std::string email_html_document(std::string_view subject, std::string_view html_fragment) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
      "<meta name=\"format-detection\" content=\"telephone=no\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  append_html_escaped(out, subject);
  out +=
      "</title>\n</head>\n<body style=\"font-family: Helvetica, Arial, sans-serif; "
      "font-size: 16px; margin: 0; color: #0B0C0C;\">\n"
      "<table role=\"presentation\" align=\"center\" cellpadding=\"0\" cellspacing=\"0\" "
      "border=\"0\" style=\"border-collapse: collapse; max-width: 580px; width: 100%;\">\n"
      "<tr><td height=\"30\"><br></td></tr>\n"
      "<tr><td width=\"10\" valign=\"middle\"><br></td>\n"
      "<td style=\"font-family: Helvetica, Arial, sans-serif; font-size: 19px; "
      "line-height: 1.315789474; max-width: 560px;\">\n";
  out += html_fragment;
  out +=
      "</td>\n<td width=\"10\" valign=\"middle\"><br></td></tr>\n"
      "<tr><td height=\"30\"><br></td></tr>\n</table>\n</body>\n</html>\n";
  return out;
}

std::string with_unsubscribe_footer(std::string_view body, std::string_view unsubscribe_url) {
  std::string out(body);
  if (unsubscribe_url.empty()) return out;
  out += "\n\n---\n\n[Unsubscribe from these emails](";
  // Characters that would end the link's URL early are percent-encoded, so the whole URL is
  // one link (or, with a refused scheme, one piece of text).
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char c : unsubscribe_url) {
    if (std::string_view(" \t\r\n\f\v()[]").find(c) == std::string_view::npos) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  out += ')';
  return out;
}

}  // namespace herald::domain
