#pragma once
// Template rendering: ((placeholder)) substitution for email templates exactly as GOV.UK Notify
// does it (notifications-utils field.py, template.py PlainTextEmailTemplate, formatters.py;
// empty messages as is_message_empty). Pure and thread-safe. Templates and values are
// untrusted: every scan is linear in its input and no regular expressions are used.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/rendering/personalisation.h"

namespace herald::domain {

// Placeholder names as written in `text`, first occurrence order, de-duplicated by normalised
// key (normalise_placeholder_key). For ((name??text)) conditionals the name part is returned.
std::vector<std::string> placeholder_names(std::string_view text);

// Fails with kInvalidArgument "Missing personalisation: a, b" when any placeholder in `texts`
// has an absent or null value: names as written, `texts` in order, first-occurrence order,
// each name once (API process_notifications.py check_placeholders).
Result<void> check_placeholders(std::initializer_list<std::string_view> texts, const Personalisation& personalisation);

// How a list value is written when substituted.
enum class ListStyle {
  kMarkdownBullets,  // Field(markdown_lists=True): "\n\n* a\n* b" (email bodies)
  kInline,           // unescaped_formatted_list without quotes: "a, b and c" (subjects, SMS)
};

// field.py Field(html="passthrough").replaced: each ((placeholder)) replaced by its value as it
// is (never scanned again), ((name??text)) by text when the value is truthy, list items
// stripped of obscure whitespace with empty and null items dropped. A placeholder with no
// value is left as "((body))": call check_placeholders first. No other processing.
std::string substitute_placeholders(std::string_view text, const Personalisation& personalisation, ListStyle style);

struct EmailTemplateContent {
  std::string subject;
  std::string body;
};

struct RenderedEmail {
  // GOV.UK content.subject: substituted (lists as "a, b and c"), nice typography (smart quotes,
  // en dashes), whitespace collapsed to single spaces and trimmed.
  std::string subject;
  // GOV.UK content.body: the raw template text with placeholders substituted (lists as markdown
  // bullets), then Python str.strip(); line endings are preserved.
  std::string body;
  // The text/plain MIME part: `body` (plus the unsubscribe footer) rendered by Notify's
  // plain-text markdown renderer (email_markdown_to_plain_text): "• " bullets, underlined
  // headings, "text: url" links, "\n" line endings.
  std::string text_body;
  // The text/html MIME part: a complete HTML document around the Notify markdown rendering of
  // the same text (email_markdown_to_html, email_html_document). Template text and values
  // alike are HTML-escaped; markdown in values is rendered, as Notify does.
  std::string html_body;
};

// Fails with kInvalidArgument:
//  - "Missing personalisation: a, b" when any placeholder's value is absent or null (names as
//    written, subject placeholders first then body, first-occurrence order);
//  - "Your message is empty." when the body starts with "((" and ends with "))" and renders to
//    nothing, or the body template is empty.
// A non-empty `one_click_unsubscribe_url` appends Notify's footer (a rule and an "Unsubscribe
// from these emails" link) to both MIME parts; `body` never has it (§7.2).
enum class RenderParts { kContent, kContentAndMime };
// kContent leaves text_body and html_body empty: accepting a notification needs only the checks
// and the content; email_mime_parts makes the rest from that content when it is sent.
Result<RenderedEmail> render_email(const EmailTemplateContent& content, const Personalisation& personalisation,
                                   RenderParts parts = RenderParts::kContentAndMime,
                                   std::string_view one_click_unsubscribe_url = {});

// The text/plain and text/html parts of an email whose rendered subject and body (RenderedEmail's
// `subject` and `body`, as stored when it was accepted) are these: a function of them alone, so
// an email is sent exactly as it was accepted and stored, without its template.
struct EmailMimeParts {
  std::string text_body;
  std::string html_body;
};
EmailMimeParts email_mime_parts(std::string_view subject, std::string_view body,
                                std::string_view one_click_unsubscribe_url = {});

}  // namespace herald::domain
