#pragma once
// Email markdown: turns an email body (template text with placeholders already substituted)
// into the HTML and plain-text bodies that are actually emailed, following the "Notify
// markdown" dialect of GOV.UK Notify (notifications-utils markdown.py, the email and plain-text
// renderers; what emails and template previews show).
//
// Supported:
//   - paragraphs separated by blank lines; a single newline is a line break;
//   - "# heading" (level 1) and "## heading" (level 2); deeper levels are paragraphs;
//   - bullet lists ("* ", "- ", "• " items; the space is optional) and numbered lists ("1.");
//     a list continues over blank lines while the next line is another item;
//   - inset text: a paragraph (or blocks) whose first line starts with "^";
//   - horizontal rules: a line of three or more "-", "*" or "_" (spaces allowed between);
//   - links [text](url) and [text](url "title"), and bare http:// and https:// URLs;
//   - backslash escapes (\* \# \[ ...), which give the character literally.
// Deliberately not supported, as in Notify: emphasis (* _ ** ~~), inline code, code blocks,
// tables and HTML; they stay literal text. Images ![alt](url) are dropped, as Notify does.
// "+ " and "1) " do not start list items (Notify's list grammar has neither). Indented items
// are items of the same list: nested lists are flattened, which keeps nesting bounded.
//
// Security: the input is untrusted. Everything that is not markup Herald generates itself is
// HTML-escaped. Only http:, https: and mailto: links (or scheme-less ones, which get "http://")
// become <a> elements; any other scheme (javascript:, data:, vbscript:, ...) is left as literal,
// escaped text. Hrefs are percent-encoded so they cannot leave their attribute. Every scan is
// linear in the input (no regular expressions, no backtracking) and nesting is bounded: inset
// text holds blocks but not further inset text, and link text is never parsed for more links.
//
// All functions are pure and thread-safe. Input need not be valid UTF-8: bytes are copied
// through (after escaping) unchanged. "\r\n" and "\r" line endings are treated as "\n".

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::domain {

// The HTML body fragment: block elements (<p>, <h2>, <h3>, <table><tr><td><ul>/<ol>, <hr>,
// <div><blockquote>) with inline styles for email clients, one block per line. This is the
// `html` of the template preview endpoint and what email_html_document() wraps.
std::string email_markdown_to_html(std::string_view body);

// The text/plain body, as Notify's plain-text renderer lays it out: paragraphs separated by
// blank lines; a level-1 heading is preceded by two blank lines and underlined with 65 "=",
// level 2 with 65 "-"; list items as "• item" or "1. item"; a horizontal rule is 65 characters
// of "=-=-…="; inset text is its content; links as "text: url" ("text (title): url").
// No leading whitespace; ends with exactly one "\n" (empty input gives "\n").
std::string email_markdown_to_plain_text(std::string_view body);

// A complete, email-client-safe HTML document: doctype, UTF-8 meta, the subject (escaped) as
// the <title>, and `html_fragment` (from email_markdown_to_html, inserted as is) in a centred
// 580px-wide layout table with the body font set on every container.
std::string email_html_document(std::string_view subject, std::string_view html_fragment);

// `body` with Notify's one-click unsubscribe footer appended (a horizontal rule, then the link
// "Unsubscribe from these emails" to `unsubscribe_url`), to be rendered by the functions
// above. Blanks, parentheses and brackets in the URL are percent-encoded so that it stays one
// link. Returns `body` unchanged when `unsubscribe_url` is empty.
std::string with_unsubscribe_footer(std::string_view body, std::string_view unsubscribe_url);

// Test-only: the scan steps (characters examined, summed over every scan, including scans that
// find nothing) that the two renderers above have taken on the calling thread so far, so that
// a test can check the work is linear in the input without timing it.
std::uint64_t email_markdown_steps_for_test();

}  // namespace herald::domain
