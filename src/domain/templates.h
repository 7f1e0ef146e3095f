#pragma once
// Templates: the read side of a service's templates as the v2 API shows them (get, list,
// preview), independent of the wire format. Editing is Admin's. Thread-safe if the Store is.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "domain/authenticator.h"
#include "domain/rendering/personalisation.h"
#include "store/store.h"

namespace herald::domain {

struct TemplatePreview {
  store::TemplateRecord record;
  std::string body;                    // rendered as a notification's body would be
  std::optional<std::string> subject;  // email subject or letter heading; nullopt for sms
  std::optional<std::string> html;     // email only: the HTML body
};

// The placeholders a template needs, as written, de-duplicated by normalised name: the
// subject's first, then the body's (GOV.UK's template `personalisation`).
std::vector<std::string> template_placeholders(const store::TemplateRecord& record);

// The contact block a letter template prints: its own letter contact (one of
// `letter_contacts`), else the service's default one; nullopt when neither exists. GOV.UK has
// only the template's own; Herald falls back so that templates made before per-template
// contacts keep what they printed.
std::optional<std::string> letter_contact_block_for(const store::TemplateRecord& letter_template,
                                                    const std::vector<store::ServiceContact>& letter_contacts);

class Templates {
 public:
  explicit Templates(store::ServiceDirectory& store) : store_(store) {}

  // The latest version, or the given one; archived templates are found too. nullopt when the
  // caller's service has no such template (or version).
  Result<std::optional<store::TemplateRecord>> get(const Caller& caller, TemplateId id, std::optional<int> version);
  // Latest versions of the service's templates that are not archived, of `type` when given.
  Result<std::vector<store::TemplateRecord>> list(const Caller& caller, std::optional<store::Channel> type);
  // Renders the latest version with `personalisation`. kNotFound when there is no such
  // template; kInvalidArgument with GOV.UK's message for missing personalisation.
  Result<TemplatePreview> preview(const Caller& caller, TemplateId id, const Personalisation& personalisation);
  // GOV.UK's template `letter_contact_block`: the version's own letter contact, nullopt when it
  // has none (even though such a letter prints the service default, letter_contact_block_for)
  // and for templates that are not letters.
  Result<std::vector<std::optional<std::string>>> letter_contact_blocks(const Caller& caller,
                                                                      const std::vector<store::TemplateRecord>& templates);

 private:
  store::ServiceDirectory& store_;
};

}  // namespace herald::domain
