#include "domain/template_render.h"

#include <algorithm>
#include <array>
#include <optional>

namespace herald::domain {
namespace {

enum class Escape { kNone, kHtml };
enum class Lists { kMarkdown, kInline };

struct Match {
  std::size_t begin;  // of "(("
  std::size_t end;    // one past "))"
  std::string_view body;
};

// Finds the next ((body)) at or after `from`, where body is one or more characters other than
// '(' and ')': the regex \(\(([^()]+)\)\) of notifications-utils, without backtracking.
std::optional<Match> next_placeholder(std::string_view text, std::size_t from) {
  while (true) {
    const auto open = text.find("((", from);
    if (open == std::string_view::npos) return std::nullopt;
    std::size_t i = open + 2;
    while (i < text.size() && text[i] != '(' && text[i] != ')') ++i;
    if (i > open + 2 && i + 1 < text.size() && text[i] == ')' && text[i + 1] == ')') {
      return Match{open, i + 2, text.substr(open + 2, i - open - 2)};
    }
    from = open + 1;
  }
}

std::string_view name_of(std::string_view body) { return body.substr(0, body.find("??")); }

bool is_truthy(std::string_view value) {
  std::string lower;
  for (char c : value) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  static constexpr std::array<std::string_view, 7> kTrue = {"yes", "y", "true", "t", "1", "include", "show"};
  return std::find(kTrue.begin(), kTrue.end(), lower) != kTrue.end();
}

void append_escaped(std::string& out, std::string_view text, Escape escape) {
  if (escape == Escape::kNone) {
    out += text;
    return;
  }
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#x27;"; break;
      default: out += c;
    }
  }
}

bool is_python_space(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F); }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_python_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_python_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> list_items(const PersonalisationValue& value) {
  std::vector<std::string_view> items;
  for (const auto& item : value.items) {
    if (!item) continue;
    const auto stripped = strip(*item);
    if (!stripped.empty()) items.push_back(stripped);
  }
  return items;
}

// "a", "a and b", "a, b and c" (notifications-utils formatted_list without quotes).
std::string inline_list(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " and " : ", ";
    out += items[i];
  }
  return out;
}

void append_value(std::string& out, const PersonalisationValue& value, Escape escape, Lists lists) {
  if (value.kind != PersonalisationValue::Kind::kList) {
    append_escaped(out, value.text, escape);
    return;
  }
  const auto items = list_items(value);
  if (lists == Lists::kInline) {
    append_escaped(out, inline_list(items), escape);
    return;
  }
  if (items.empty()) return;
  out += "\n\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += '\n';
    out += "* ";
    append_escaped(out, items[i], escape);
  }
}

// Substitutes every placeholder; the caller has already checked none is missing.
std::string fill(std::string_view text, const Personalisation& values, Escape escape, Lists lists) {
  std::string out;
  out.reserve(text.size());
  std::size_t from = 0;
  while (auto match = next_placeholder(text, from)) {
    append_escaped(out, text.substr(from, match->begin - from), escape);
    const PersonalisationValue* value = values.find(name_of(match->body));
    const auto question = match->body.find("??");
    if (question != std::string_view::npos) {
      // A list is never truthy: Python compares str(list) with the words above.
      const bool show = value->kind == PersonalisationValue::Kind::kText && is_truthy(value->text);
      if (show) append_escaped(out, match->body.substr(question + 2), escape);
    } else {
      append_value(out, *value, escape, lists);
    }
    from = match->end;
  }
  append_escaped(out, text.substr(from), escape);
  return out;
}

void collect_missing(std::string_view text, const Personalisation& values, std::vector<std::string>& missing) {
  for (const auto& name : placeholder_names(text)) {
    const PersonalisationValue* value = values.find(name);
    if ((value == nullptr || value->kind == PersonalisationValue::Kind::kNull) &&
        std::find(missing.begin(), missing.end(), name) == missing.end()) {
      missing.push_back(name);
    }
  }
}

bool is_space_or_open(std::string_view before) {
  if (before.empty()) return true;
  const char c = before.back();
  return is_python_space(static_cast<unsigned char>(c)) || c == '(' || c == '[' || c == '{';
}

// Smart quotes and en dashes, as notifications-utils' do_nice_typography does for subjects.
std::string nice_typography(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '-' && i > 0 && is_python_space(static_cast<unsigned char>(text[i - 1]))) {
      std::size_t j = i;
      while (j < text.size() && j - i < 3 && text[j] == '-') ++j;
      if (j < text.size() && is_python_space(static_cast<unsigned char>(text[j]))) {
        out += "\u2013";
        i = j - 1;
        continue;
      }
    }
    if (c == '\'') {
      out += is_space_or_open(out) ? "\u2018" : "\u2019";
    } else if (c == '"') {
      out += is_space_or_open(out) ? "\u201C" : "\u201D";
    } else {
      out += c;
    }
  }
  return out;
}

// Python's " ".join(value.split()).
std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (is_python_space(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

std::string normalise_newlines(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A minimal HTML rendering: blank lines separate paragraphs, single newlines become <br>.
// GOV.UK's full email formatting (headings, lists, inset text, links) comes with the full API.
std::string html_document(std::string_view escaped_body, std::string_view escaped_subject) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>";
  out += escaped_subject;
  out += "</title></head>\n<body style=\"font-family: Helvetica, Arial, sans-serif; font-size: 19px; "
         "line-height: 1.32; color: #0b0c0c;\">\n";
  const std::string body = normalise_newlines(escaped_body);
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find("\n\n", start);
    if (end == std::string::npos) end = body.size();
    std::string_view paragraph = strip(std::string_view(body).substr(start, end - start));
    if (!paragraph.empty()) {
      out += "<p style=\"margin: 0 0 20px 0;\">";
      for (char c : paragraph) {
        if (c == '\n') out += "<br>\n";
        else out += c;
      }
      out += "</p>\n";
    }
    start = end + 2;
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace

std::vector<std::string> placeholder_names(std::string_view text) {
  std::vector<std::string> names;
  std::size_t from = 0;
  while (auto match = next_placeholder(text, from)) {
    std::string name(name_of(match->body));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    from = match->end;
  }
  return names;
}

Result<RenderedEmail> render_email(const EmailTemplateContent& content,
                                   const Personalisation& personalisation) {
  std::vector<std::string> missing;
  collect_missing(content.subject, personalisation, missing);
  collect_missing(content.body, personalisation, missing);
  if (!missing.empty()) {
    std::string message = "Missing personalisation: ";
    for (std::size_t i = 0; i < missing.size(); ++i) message += (i ? ", " : "") + missing[i];
    return invalid_argument(std::move(message));
  }
  RenderedEmail out;
  out.body = std::string(strip(fill(content.body, personalisation, Escape::kNone, Lists::kMarkdown)));
  const std::string_view template_body = strip(content.body);
  if (out.body.empty() && template_body.size() >= 4 && template_body.substr(0, 2) == "((" &&
      template_body.substr(template_body.size() - 2) == "))") {
    return invalid_argument("Your message is empty.");
  }
  out.subject = collapse_whitespace(nice_typography(fill(content.subject, personalisation, Escape::kNone, Lists::kInline)));
  out.text_body = normalise_newlines(out.body);
  std::string escaped_subject;
  append_escaped(escaped_subject, out.subject, Escape::kHtml);
  out.html_body = html_document(strip(fill(content.body, personalisation, Escape::kHtml, Lists::kMarkdown)),
                                escaped_subject);
  return out;
}

}  // namespace herald::domain
