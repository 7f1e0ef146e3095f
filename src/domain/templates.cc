#include "domain/templates.h"

#include <set>

#include "domain/rendering/email_markdown.h"
#include "domain/rendering/sms_text.h"
#include "domain/rendering/template_render.h"

namespace herald::domain {

std::vector<std::string> template_placeholders(const store::TemplateRecord& record) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string* text : {&record.subject, &record.body}) {
    if (record.type == store::Channel::kSms && text == &record.subject) continue;
    for (std::string& name : placeholder_names(*text)) {
      if (seen.insert(normalise_placeholder_key(name)).second) out.push_back(std::move(name));
    }
  }
  return out;
}

Result<std::optional<store::TemplateRecord>> Templates::get(const Caller& caller, TemplateId id,
                                                            std::optional<int> version) {
  return store_.find_template(caller.service, id, version);
}

std::optional<std::string> letter_contact_block_for(const store::TemplateRecord& letter_template,
                                                    const std::vector<store::ServiceContact>& letter_contacts) {
  std::optional<std::string> fallback;
  for (const auto& c : letter_contacts) {
    if (letter_template.letter_contact_id && c.id.to_string() == *letter_template.letter_contact_id) return c.value;
    if (c.is_default) fallback = c.value;
  }
  return fallback;
}

Result<std::vector<std::optional<std::string>>> Templates::letter_contact_blocks(
    const Caller& caller, const std::vector<store::TemplateRecord>& templates) {
  std::vector<std::optional<std::string>> out(templates.size());
  std::optional<std::vector<store::ServiceContact>> contacts;  // read once, if any template is a letter
  for (std::size_t i = 0; i < templates.size(); ++i) {
    if (templates[i].type != store::Channel::kLetter || !templates[i].letter_contact_id) continue;
    if (!contacts) {
      auto read = store_.service_contacts(caller.service, store::ContactKind::kLetterContact);
      if (!read) return read.error();
      contacts = std::move(*read);
    }
    // The version's own contact only, null when it has none (GOV.UK's Template.get_reply_to_text);
    // what such a letter prints is letter_contact_block_for's fallback, as the README says.
    for (const auto& c : *contacts) {
      if (c.id.to_string() == *templates[i].letter_contact_id) out[i] = c.value;
    }
  }
  return out;
}

Result<std::vector<store::TemplateRecord>> Templates::list(const Caller& caller, std::optional<store::Channel> type) {
  auto all = store_.templates_for_service(caller.service);
  if (!all || !type) return all;
  std::vector<store::TemplateRecord> out;
  for (auto& t : *all) {
    if (t.type == *type) out.push_back(std::move(t));
  }
  return out;
}

Result<TemplatePreview> Templates::preview(const Caller& caller, TemplateId id, const Personalisation& personalisation) {
  auto found = store_.find_template(caller.service, id, std::nullopt);
  if (!found) return found.error();
  if (!*found) return not_found("No result found");
  TemplatePreview preview{std::move(**found), {}, {}, {}};
  const store::TemplateRecord& t = preview.record;
  if (t.type == store::Channel::kEmail) {
    auto rendered = render_email({t.subject, t.body}, personalisation, RenderParts::kContent);
    if (!rendered) return rendered.error();
    preview.html = email_markdown_to_html(rendered->body);
    preview.body = std::move(rendered->body);
    preview.subject = std::move(rendered->subject);
    return preview;
  }
  if (t.type == store::Channel::kSms) {
    auto rendered = render_sms(t.body, personalisation);
    if (!rendered) return rendered.error();
    preview.body = std::move(rendered->body);
    return preview;
  }
  // A letter: its heading and body with the placeholders filled in (GOV.UK's v2 preview shows
  // the text; the PDF is what GET .../pdf of a sent letter returns).
  HERALD_TRY(check_placeholders({t.subject, t.body}, personalisation));
  preview.subject = substitute_placeholders(t.subject, personalisation, ListStyle::kInline);
  preview.body = substitute_placeholders(t.body, personalisation, ListStyle::kMarkdownBullets);
  return preview;
}

}  // namespace herald::domain
