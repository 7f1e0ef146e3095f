#include "api/admin/pages.h"

#include <algorithm>

#include "api/html.h"

namespace herald::api::admin {

namespace {

std::string header_html(const Page& page) {
  std::string html =
      "<header class=\"nhsuk-header\" data-module=\"nhsuk-header\" role=\"banner\"><div class=\"nhsuk-header__container nhsuk-width-container\">"
      "<div class=\"nhsuk-header__service\"><a class=\"nhsuk-header__service-logo\" href=\"/\" aria-label=\"Herald "
      "homepage\"><span class=\"nhsuk-header__service-name\">Herald</span></a></div>";
  if (page.user_name) {
    html +=
        "<nav class=\"nhsuk-header__account\" aria-label=\"Account\"><ul class=\"nhsuk-header__account-list\">"
        "<li class=\"nhsuk-header__account-item\"><a class=\"nhsuk-header__account-link\" href=\"/account\">" +
        html_escape(*page.user_name) +
        "</a></li><li class=\"nhsuk-header__account-item\"><form action=\"/sign-out\" method=\"post\" novalidate>" +
        hidden("csrf_token", page.csrf_token) +
        "<button class=\"nhsuk-header__account-button\" type=\"submit\">Sign out</button></form></li></ul></nav>";
  }
  html += "</div>";
  if (!page.navigation.empty()) {
    html +=
        "<nav class=\"nhsuk-header__navigation\" aria-label=\"Service\"><div class=\"nhsuk-header__navigation-container "
        "nhsuk-width-container\"><ul class=\"nhsuk-header__navigation-list\">";
    for (const auto& [href, text] : page.navigation) {
      const bool current = href == page.current;
      html += "<li class=\"nhsuk-header__navigation-item" +
              std::string(current ? " nhsuk-header__navigation-item--current" : "") +
              "\"><a class=\"nhsuk-header__navigation-link\" href=\"" + html_escape(href) + "\"" +
              (current ? " aria-current=\"page\"><strong class=\"nhsuk-header__navigation-item-current-fallback\">" +
                             html_escape(text) + "</strong>"
                       : ">" + html_escape(text)) +
              "</a></li>";
    }
    html +=
        "<li class=\"nhsuk-header__menu\" hidden><button class=\"nhsuk-header__menu-toggle "
        "nhsuk-header__navigation-link\" id=\"toggle-menu\" aria-expanded=\"false\"><span "
        "class=\"nhsuk-u-visually-hidden\">Browse </span>More</button></li></ul></div></nav>";
  }
  html += "</header>";
  return html;
}

std::string error_summary(const std::vector<FieldError>& errors) {
  if (errors.empty()) return "";
  std::string html =
      "<div class=\"nhsuk-error-summary\" data-module=\"nhsuk-error-summary\"><div role=\"alert\">"
      "<h2 class=\"nhsuk-error-summary__title\">There is a problem</h2><div class=\"nhsuk-error-summary__body\">"
      "<ul class=\"nhsuk-list nhsuk-error-summary__list\">";
  for (const auto& [message, field] : errors) {
    html += field.empty() ? "<li>" + html_escape(message) + "</li>"
                          : "<li><a href=\"#" + html_escape(field) + "\">" + html_escape(message) + "</a></li>";
  }
  html += "</ul></div></div></div>";
  return html;
}

}  // namespace

std::string render(const Page& page) {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
      std::string(page.errors.empty() ? "" : "Error: ") + html_escape(page.title) +
      " – Herald</title><link rel=\"icon\" href=\"/assets/images/favicon.svg\" type=\"image/svg+xml\">"
      "<link rel=\"stylesheet\" href=\"/assets/nhsuk.css\"></head><body>"
      "<a class=\"nhsuk-skip-link\" href=\"#maincontent\">Skip to main content</a>";
  html += header_html(page);
  html +=
      "<div class=\"nhsuk-width-container\"><main class=\"nhsuk-main-wrapper\" id=\"maincontent\" role=\"main\">"
      "<div class=\"nhsuk-grid-row\"><div class=\"nhsuk-grid-column-two-thirds\">";
  html += error_summary(page.errors);
  html += page.main_html;
  html +=
      "</div></div></main></div><footer role=\"contentinfo\"><div class=\"nhsuk-footer\"><div "
      "class=\"nhsuk-width-container\"><p class=\"nhsuk-body-s\">Herald – patient messaging</p></div></div>"
      "</footer><script src=\"/assets/init.js\" type=\"module\"></script></body></html>";
  return html;
}

std::string hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">";
}

std::string form(std::string_view action, std::string_view csrf_token, std::string_view fields_html,
                 std::string_view button_text, bool with_files, bool secondary) {
  std::string html = "<form action=\"" + html_escape(action) + "\" method=\"post\" novalidate" +
                     (with_files ? " enctype=\"multipart/form-data\"" : "") + ">";
  if (!csrf_token.empty()) html += hidden("csrf_token", csrf_token);
  html += fields_html;
  html += std::string("<button class=\"nhsuk-button") + (secondary ? " nhsuk-button--secondary" : "") +
          "\" data-module=\"nhsuk-button\" type=\"submit\">" + html_escape(button_text) + "</button></form>";
  return html;
}

std::string error_for(const std::vector<FieldError>& errors, std::string_view id) {
  for (const auto& [message, field_id] : errors) {
    if (field_id == id) return message;
  }
  return "";
}

namespace {

// A field's form group up to the field itself: its label, hint and error message. `described`
// gets the ids of the hint and error, for the field's aria-describedby.
std::string group_start(const Input& in, std::string& described) {
  const std::string id = html_escape(in.id);
  std::string html = "<div class=\"nhsuk-form-group" + std::string(in.error.empty() ? "" : " nhsuk-form-group--error") +
                     "\"><label class=\"nhsuk-label\" for=\"" + id + "\">" + html_escape(in.label) + "</label>";
  described.clear();
  if (!in.hint.empty()) {
    html += "<div class=\"nhsuk-hint\" id=\"" + id + "-hint\">" + html_escape(in.hint) + "</div>";
    described = id + "-hint";
  }
  if (!in.error.empty()) {
    html += "<span class=\"nhsuk-error-message\" id=\"" + id +
            "-error\"><span class=\"nhsuk-u-visually-hidden\">Error:</span> " + html_escape(in.error) + "</span>";
    described += (described.empty() ? "" : " ") + id + "-error";
  }
  return html;
}

}  // namespace

std::string input(const Input& in) {
  const std::string id = html_escape(in.id);
  std::string described;
  std::string html = group_start(in, described);
  html += "<input class=\"nhsuk-input" + std::string(in.error.empty() ? "" : " nhsuk-input--error") +
          (in.width_class.empty() ? "" : " " + html_escape(in.width_class)) + "\" id=\"" + id + "\" name=\"" + id +
          "\" type=\"" + html_escape(in.type) + "\"";
  if (!in.value.empty()) html += " value=\"" + html_escape(in.value) + "\"";
  if (!in.autocomplete.empty()) html += " autocomplete=\"" + html_escape(in.autocomplete) + "\"";
  if (!in.input_mode.empty()) html += " inputmode=\"" + html_escape(in.input_mode) + "\"";
  if (!described.empty()) html += " aria-describedby=\"" + described + "\"";
  html += " spellcheck=\"false\"></div>";
  return html;
}

std::string select(const Input& in, const std::vector<std::pair<std::string, std::string>>& options) {
  const std::string id = html_escape(in.id);
  std::string described;
  std::string html = group_start(in, described);
  html += "<select class=\"nhsuk-select" + std::string(in.error.empty() ? "" : " nhsuk-select--error") + "\" id=\"" +
          id + "\" name=\"" + id + "\"";
  if (!described.empty()) html += " aria-describedby=\"" + described + "\"";
  html += ">";
  for (const auto& [value, label] : options) {
    html += "<option value=\"" + html_escape(value) + "\"" + (value == in.value ? " selected" : "") + ">" +
            html_escape(label) + "</option>";
  }
  html += "</select></div>";
  return html;
}

std::string capitalised(std::string text) {
  if (!text.empty() && text.front() >= 'a' && text.front() <= 'z') text.front() = static_cast<char>(text.front() - 32);
  return text;
}

std::string textarea(const Input& in, int rows) {
  const std::string id = html_escape(in.id);
  std::string described;
  std::string html = group_start(in, described);
  html += "<textarea class=\"nhsuk-textarea" + std::string(in.error.empty() ? "" : " nhsuk-textarea--error") +
          "\" id=\"" + id + "\" name=\"" + id + "\" rows=\"" + std::to_string(rows) + "\"";
  if (!described.empty()) html += " aria-describedby=\"" + described + "\"";
  html += ">" + html_escape(in.value) + "</textarea></div>";
  return html;
}

namespace {

// Radios and checkboxes: the same fieldset around inputs of another type and class.
std::string choices(std::string_view kind, std::string_view name, std::string_view legend,
                    const std::vector<std::pair<std::string, std::string>>& options,
                    const std::vector<std::string>& checked, std::string_view error) {
  const std::string id = html_escape(name);
  const std::string k(kind);  // "radios" or "checkboxes"
  std::string html =
      "<div class=\"nhsuk-form-group" + std::string(error.empty() ? "" : " nhsuk-form-group--error") +
      "\"><fieldset class=\"nhsuk-fieldset\"" + (error.empty() ? "" : " aria-describedby=\"" + id + "-error\"") +
      "><legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--s\">" + html_escape(legend) + "</legend>";
  if (!error.empty()) {
    html += "<span class=\"nhsuk-error-message\" id=\"" + id +
            "-error\"><span class=\"nhsuk-u-visually-hidden\">Error:</span> " + html_escape(error) + "</span>";
  }
  html += "<div class=\"nhsuk-" + k + "\" data-module=\"nhsuk-" + k + "\">";
  bool first = true;
  for (const auto& [value, label] : options) {
    // The first input carries the group's id, so that the error summary's link lands on it.
    const std::string input_id = first ? id : id + "-" + html_escape(value);
    first = false;
    const bool on = std::find(checked.begin(), checked.end(), value) != checked.end();
    html += "<div class=\"nhsuk-" + k + "__item\"><input class=\"nhsuk-" + k + "__input\" id=\"" + input_id +
            "\" name=\"" + id + "\" type=\"" + (k == "radios" ? "radio" : "checkbox") + "\" value=\"" +
            html_escape(value) + "\"" + (on ? " checked" : "") + "><label class=\"nhsuk-label nhsuk-" + k +
            "__label\" for=\"" + input_id + "\">" + html_escape(label) + "</label></div>";
  }
  html += "</div></fieldset></div>";
  return html;
}

}  // namespace

std::string radios(std::string_view name, std::string_view legend,
                   const std::vector<std::pair<std::string, std::string>>& options, std::string_view selected,
                   std::string_view error) {
  return choices("radios", name, legend, options, {std::string(selected)}, error);
}

std::string checkboxes(std::string_view name, std::string_view legend,
                       const std::vector<std::pair<std::string, std::string>>& options,
                       const std::vector<std::string>& checked, std::string_view error) {
  return choices("checkboxes", name, legend, options, checked, error);
}

std::string table(std::string_view caption, const std::vector<std::string>& headings,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string html = "<table class=\"nhsuk-table\"><caption class=\"nhsuk-table__caption nhsuk-u-visually-hidden\">" +
                     html_escape(caption) +
                     "</caption><thead class=\"nhsuk-table__head\"><tr class=\"nhsuk-table__row\">";
  for (const auto& h : headings) {
    html += "<th class=\"nhsuk-table__header\" scope=\"col\">" +
            (h.empty() ? std::string("<span class=\"nhsuk-u-visually-hidden\">Action</span>") : html_escape(h)) +
            "</th>";
  }
  html += "</tr></thead><tbody class=\"nhsuk-table__body\">";
  for (const auto& row : rows) {
    html += "<tr class=\"nhsuk-table__row\">";
    for (const auto& cell : row) html += "<td class=\"nhsuk-table__cell\">" + cell + "</td>";
    html += "</tr>";
  }
  html += "</tbody></table>";
  return html;
}

std::string button_link(std::string_view href, std::string_view text, bool secondary) {
  return "<a class=\"nhsuk-button" + std::string(secondary ? " nhsuk-button--secondary" : "") + "\" href=\"" +
         html_escape(href) + "\">" + html_escape(text) + "</a>";
}

std::string human_time(Timestamp t) {
  static constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};
  const std::string iso = format_timestamp(t);  // 2026-12-03T12:30:00.000000Z
  const int month = std::stoi(iso.substr(5, 2));
  const int day = std::stoi(iso.substr(8, 2));
  return std::to_string(day) + " " + kMonths[month - 1] + " " + iso.substr(0, 4) + " at " + iso.substr(11, 5) + " UTC";
}

std::string summary_row(std::string_view key, std::string_view value, std::string_view value_id) {
  return "<div class=\"nhsuk-summary-list__row\"><dt class=\"nhsuk-summary-list__key\">" + html_escape(key) +
         "</dt><dd class=\"nhsuk-summary-list__value\"" +
         (value_id.empty() ? std::string() : " id=\"" + html_escape(value_id) + "\"") + ">" + html_escape(value) +
         "</dd></div>";
}

std::string small_form(std::string_view action, std::string_view csrf_token, std::string_view fields_html,
                       std::string_view button_text, std::string_view label) {
  return "<form action=\"" + html_escape(action) + "\" method=\"post\" novalidate>" + hidden("csrf_token", csrf_token) +
         std::string(fields_html) +
         "<button class=\"nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0\" "
         "type=\"submit\" aria-label=\"" +
         html_escape(label) + "\">" + html_escape(button_text) + "</button></form>";
}

std::string heading(std::string_view text) { return "<h1>" + html_escape(text) + "</h1>"; }
std::string paragraph(std::string_view text) { return "<p>" + html_escape(text) + "</p>"; }
std::string link(std::string_view href, std::string_view text) {
  return "<a href=\"" + html_escape(href) + "\">" + html_escape(text) + "</a>";
}

}  // namespace herald::api::admin
