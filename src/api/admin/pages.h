#pragma once
// The admin web UI's HTML: server-rendered pages in the NHS.UK design system's markup (its
// header, width container, form groups, error summary, buttons), working without JavaScript.
// Every value is escaped here; callers pass text, never markup, except where a parameter says
// "html" (markup this file or qr.h made).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace herald::api::admin {

// An error for the error summary and its field: (message, id of the field it is about).
using FieldError = std::pair<std::string, std::string>;

struct Page {
  std::string title;
  std::string main_html;
  std::vector<FieldError> errors = {};  // shown in an error summary above the content
  // Signed in: the user's name and the session's CSRF token (for the header's sign-out form).
  std::optional<std::string> user_name = std::nullopt;
  std::string csrf_token = {};
  // The header's navigation (a service's pages): (href, text); `current` is the href of this page's.
  std::vector<std::pair<std::string, std::string>> navigation = {};
  std::string current = {};
  // Extra Content-Security-Policy sources for frames (a template's email preview).
  bool frames_self = false;
};

// The whole document.
std::string render(const Page& page);

// The message of the error about field `id`, or "".
std::string error_for(const std::vector<FieldError>& errors, std::string_view id);

// A form posting to `action` with a hidden CSRF token (when given) and `fields_html` inside;
// `with_files`: as multipart/form-data (a file input).
// `secondary`: the button is NHS.UK's secondary one (an action beside the main one).
std::string form(std::string_view action, std::string_view csrf_token, std::string_view fields_html,
                 std::string_view button_text, bool with_files = false, bool secondary = false);
// A text input in its form group, with its label, optional hint and error message.
struct Input {
  std::string id;  // also its name
  std::string label;
  std::string type = "text";
  std::string value = {};
  std::string autocomplete = {};
  std::string hint = {};
  std::string error = {};
  std::string input_mode = {};   // "numeric" for codes
  std::string width_class = {};  // e.g. "nhsuk-input--width-10"
};
std::string input(const Input& in);
std::string hidden(std::string_view name, std::string_view value);
std::string heading(std::string_view text);
std::string paragraph(std::string_view text);
std::string link(std::string_view href, std::string_view text);
// A multi-line text input (its value kept as typed), as `input` draws a single line.
std::string textarea(const Input& in, int rows = 8);
// A drop-down list of (value, label) options with its label, hint and error; `in.value` selected.
std::string select(const Input& in, const std::vector<std::pair<std::string, std::string>>& options);
// Radio buttons in a fieldset: (value, label) options, `selected` checked.
std::string radios(std::string_view name, std::string_view legend,
                   const std::vector<std::pair<std::string, std::string>>& options, std::string_view selected,
                   std::string_view error = {});
// Checkboxes in a fieldset, all named `name`: (value, label) options, those in `checked` ticked.
std::string checkboxes(std::string_view name, std::string_view legend,
                       const std::vector<std::pair<std::string, std::string>>& options,
                       const std::vector<std::string>& checked, std::string_view error = {});
// An nhsuk-table: its caption (visually hidden: the heading above says it), column headings
// (text) and rows of cells (html).
std::string table(std::string_view caption, const std::vector<std::string>& headings,
                  const std::vector<std::vector<std::string>>& rows);
// A link styled as a (secondary) button.
std::string button_link(std::string_view href, std::string_view text, bool secondary = false);
// The text with its first letter upper case (a domain error's message as a sentence).
std::string capitalised(std::string text);
// "3 December 2026 at 12:30 UTC".
std::string human_time(Timestamp t);
// One row of an nhsuk-summary-list (its value with `value_id`, when given, for scripts to update).
std::string summary_row(std::string_view key, std::string_view value, std::string_view value_id = {});
// A one-button form for an action on a row of a table (a small secondary button); `label` says
// what it acts on for screen readers ("Remove Blue key").
std::string small_form(std::string_view action, std::string_view csrf_token, std::string_view fields_html,
                       std::string_view button_text, std::string_view label);

}  // namespace herald::api::admin
