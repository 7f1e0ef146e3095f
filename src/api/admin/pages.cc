#include "api/admin/pages.h"

#include "api/html.h"

namespace herald::api::admin {

namespace {

std::string header_html(const Page& page) {
  std::string html =
      "<header class=\"nhsuk-header\" role=\"banner\"><div class=\"nhsuk-header__container nhsuk-width-container\">"
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
  html += "</div></header>";
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
                 std::string_view button_text) {
  std::string html = "<form action=\"" + html_escape(action) + "\" method=\"post\" novalidate>";
  if (!csrf_token.empty()) html += hidden("csrf_token", csrf_token);
  html += fields_html;
  html += "<button class=\"nhsuk-button\" data-module=\"nhsuk-button\" type=\"submit\">" + html_escape(button_text) +
          "</button></form>";
  return html;
}

std::string input(const Input& in) {
  const std::string id = html_escape(in.id);
  std::string html = "<div class=\"nhsuk-form-group" + std::string(in.error.empty() ? "" : " nhsuk-form-group--error") +
                     "\"><label class=\"nhsuk-label\" for=\"" + id + "\">" + html_escape(in.label) + "</label>";
  std::string described;
  if (!in.hint.empty()) {
    html += "<div class=\"nhsuk-hint\" id=\"" + id + "-hint\">" + html_escape(in.hint) + "</div>";
    described = id + "-hint";
  }
  if (!in.error.empty()) {
    html += "<span class=\"nhsuk-error-message\" id=\"" + id +
            "-error\"><span class=\"nhsuk-u-visually-hidden\">"
            "Error:</span> " +
            html_escape(in.error) + "</span>";
    described += (described.empty() ? "" : " ") + id + "-error";
  }
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

std::string summary_row(std::string_view key, std::string_view value) {
  return "<div class=\"nhsuk-summary-list__row\"><dt class=\"nhsuk-summary-list__key\">" + html_escape(key) +
         "</dt><dd class=\"nhsuk-summary-list__value\">" + html_escape(value) + "</dd></div>";
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
