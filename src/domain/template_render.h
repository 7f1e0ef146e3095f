#pragma once
// Template rendering: ((placeholder)) substitution as GOV.UK Notify does it
// (api/govuk-notify-v2.md §7.1, §7.2, §7.5). Pure; bounded, linear scans of untrusted input.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/personalisation.h"

namespace herald::domain {

// Placeholder names as written in `text`, first occurrence order, de-duplicated by normalised
// key. For ((name??text)) conditionals the name part is returned.
std::vector<std::string> placeholder_names(std::string_view text);

struct EmailTemplateContent {
  std::string subject;
  std::string body;
};

struct RenderedEmail {
  std::string subject;    // content.subject: substituted, nice typography, whitespace collapsed
  std::string body;       // content.body: raw text with placeholders substituted, stripped
  std::string text_body;  // the text/plain part that is emailed
  std::string html_body;  // the text/html part that is emailed; values HTML-escaped
};

// kInvalidArgument "Missing personalisation: a, b" when a placeholder's value is absent or null;
// "Your message is empty." per §7.5.
Result<RenderedEmail> render_email(const EmailTemplateContent& content,
                                   const Personalisation& personalisation);

}  // namespace herald::domain
