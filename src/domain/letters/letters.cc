#include "domain/letters/letters.h"

#include <algorithm>

#include "core/json.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "domain/letters/letter_pdf.h"
#include "domain/letters/letter_timings.h"
#include "domain/letters/precompiled_letter.h"
#include "domain/recipients/postal_address.h"
#include "domain/rendering/template_render.h"
#include "domain/templates.h"

namespace herald::domain {

using Status = store::NotificationStatus;
namespace {

// GOV.UK prints letters double-sided: a sheet of paper holds two pages.
int sheets_of_paper(int pages) { return (pages + 1) / 2; }

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

// Every precompiled letter of a service names one template, as GOV.UK's hidden "Pre-compiled
// PDF" template: its id is derived from the service's, so that every node finds the same one.
TemplateId precompiled_template_id(ServiceId service) {
  const std::string digest = crypto::sha256("herald precompiled letter template " + service.to_string());
  Uuid id;
  std::copy_n(digest.begin(), 16, id.bytes.begin());
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x80);  // version 8: derived
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);
  return TemplateId{id};
}

// The personalisation a precompiled letter's GET shows: its address lines, the last as postcode.
std::string address_personalisation(const std::vector<std::string>& lines) {
  json::Writer w;
  w.begin_object();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size() && lines.size() > 1;
    w.key(last ? std::string("postcode") : "address_line_" + std::to_string(i + 1)).string(lines[i]);
  }
  w.end_object();
  return w.take();
}

Error letter_refusal(std::string message) {
  return {ErrorCode::kPermissionDenied, std::move(message), Refusal::kRestricted};
}

}  // namespace

Result<store::ServiceRecord> Letters::letter_service(const Caller& caller, Timestamp now) {
  auto service = notifications_.lookups().service(caller.service, now, Blocking::kAllowed);
  if (!service) return service.error();
  if (!*service) return not_found("service " + caller.service.to_string());
  if (!(*service)->has_permission("letter")) return invalid_argument("Service is not allowed to send letters");
  return **service;
}

void Letters::finish(const Caller& caller, store::NotificationRecord& record, Timestamp now) {
  record.id = NotificationId{crypto::time_ordered_uuid(now)};
  record.service = caller.service;
  record.api_key = caller.key;
  record.key_type = caller.key_type;
  record.type = store::Channel::kLetter;
  record.created_at = now;
  // Test letters never leave Herald: delivered at once (GOV.UK's research mode). Failed ones
  // are final too. Only letters in "created" wait for the print supplier.
  if (record.status == Status::kCreated && caller.key_type == store::KeyType::kTest) record.status = Status::kDelivered;
  record.queued = record.status == Status::kCreated;
  if (!record.queued) record.updated_at = now;
}

Result<Letters::Rendered> Letters::render(ServiceId service, const store::TemplateRecord& letter_template,
                                          const Personalisation& personalisation, const PostalAddress& address,
                                          Timestamp now) {
  auto contacts =
      notifications_.lookups().contacts(service, store::ContactKind::kLetterContact, now, Blocking::kAllowed);
  if (!contacts) return contacts.error();
  const std::string contact_block = letter_contact_block_for(letter_template, **contacts).value_or("");
  const auto uk_postage = parse_uk_postage(letter_template.postage.value_or("second"));

  Rendered out;
  store::NotificationRecord& record = out.record;
  record.template_id = letter_template.id;
  record.template_version = letter_template.version;
  record.recipient = join_lines(address.lines);
  record.subject = substitute_placeholders(letter_template.subject, personalisation, ListStyle::kInline);
  record.body = substitute_placeholders(letter_template.body, personalisation, ListStyle::kMarkdownBullets);
  record.postage = std::string(letter_postage(address, uk_postage ? *uk_postage : UkPostage::kSecond));
  record.sender = contact_block;
  record.status = Status::kCreated;
  auto pdf = render_letter_pdf(
      {record.subject, record.body, address.lines, contact_block, config_.logo_png_path, letter_date(now)});
  if (!pdf && pdf.error().code != ErrorCode::kInvalidArgument) return pdf.error();
  if (!pdf) {
    record.status = Status::kValidationFailed;  // longer than GOV.UK's 10 pages
  } else {
    record.billable_units = sheets_of_paper(pdf->page_count);
    out.pdf = std::move(pdf->bytes);
  }
  return out;
}

Result<PostalAddress> Letters::checked_address(ServiceId service, const store::TemplateRecord& letter_template,
                                               const Personalisation& personalisation, Timestamp now) {
  auto owner = notifications_.lookups().service(service, now, Blocking::kAllowed);
  if (!owner) return owner.error();
  if (!*owner) return not_found("service " + service.to_string());
  if (!(*owner)->has_permission("letter")) return invalid_argument("Service is not allowed to send letters");
  HERALD_TRY(check_placeholders({letter_template.subject, letter_template.body}, personalisation));
  return validate_postal_address(personalisation, (*owner)->has_permission("international_letters")
                                                      ? InternationalLetters::kAllowed
                                                      : InternationalLetters::kNotAllowed);
}

Result<void> Letters::check_for_service(ServiceId service, const store::TemplateRecord& letter_template,
                                        const Personalisation& personalisation, Timestamp now) {
  auto address = checked_address(service, letter_template, personalisation, now);
  if (!address) return address.error();
  return {};
}

Result<store::NotificationRecord> Letters::prepare_for_service(ServiceId service,
                                                               const store::TemplateRecord& letter_template,
                                                               const Personalisation& personalisation, Timestamp now) {
  auto address = checked_address(service, letter_template, personalisation, now);
  if (!address) return address.error();
  auto rendered = render(service, letter_template, personalisation, *address, now);
  if (!rendered) return rendered.error();
  store::NotificationRecord record = std::move(rendered->record);
  record.id = NotificationId{crypto::time_ordered_uuid(now)};
  record.service = service;
  record.type = store::Channel::kLetter;
  record.created_at = now;
  record.queued = record.status == Status::kCreated;
  if (!record.queued) record.updated_at = now;
  if (rendered->pdf) HERALD_TRY(letters_.put_letter_pdf(service, record.id, now, *rendered->pdf));
  return record;
}

Result<AcceptedLetter> Letters::send(const Caller& caller, LetterRequest&& request, Timestamp now) {
  auto service = letter_service(caller, now);
  if (!service) return service.error();
  auto found =
      notifications_.usable_template(caller, request.template_id, store::Channel::kLetter, now, Blocking::kAllowed);
  if (!found) return found.error();
  const store::TemplateRecord& letter_template = **found;
  HERALD_TRY(check_placeholders({letter_template.subject, letter_template.body}, request.personalisation));
  if (caller.key_type == store::KeyType::kTeam) return letter_refusal("Cannot send letters with a team api key");
  if (service->restricted && caller.key_type != store::KeyType::kTest) {
    return letter_refusal("Cannot send letters when service is in trial mode");
  }
  const auto international = service->has_permission("international_letters") ? InternationalLetters::kAllowed
                                                                              : InternationalLetters::kNotAllowed;
  auto address = validate_postal_address(request.personalisation, international);
  if (!address) return address.error();
  auto rendered = render(caller.service, letter_template, request.personalisation, *address, now);
  if (!rendered) return rendered.error();
  store::NotificationRecord record = std::move(rendered->record);
  record.reference = std::move(request.reference);
  record.personalisation_json = std::move(request.personalisation_json);
  finish(caller, record, now);
  if (rendered->pdf) {
    HERALD_TRY(letters_.put_letter_pdf(record.service, record.id, record.created_at, *rendered->pdf));
  }
  HERALD_TRY(letters_.insert_notification(record));
  notifications_.accepted(caller, record, now);
  return AcceptedLetter{std::move(record)};
}

Result<AcceptedLetter> Letters::send_precompiled(const Caller& caller, PrecompiledLetterRequest&& request,
                                                 Timestamp now) {
  auto service = letter_service(caller, now);
  if (!service) return service.error();
  if (caller.key_type == store::KeyType::kTeam) return letter_refusal("Cannot send letters with a team api key");
  if (service->restricted && caller.key_type != store::KeyType::kTest) {
    return letter_refusal("Cannot send letters when service is in trial mode");
  }
  auto uk_postage = parse_uk_postage(request.postage.value_or("second"));
  if (!uk_postage) return uk_postage.error();

  // The service's precompiled-letter template: made on its first precompiled letter, archived
  // so that it is never listed or sent as a template (GOV.UK's is hidden).
  const TemplateId template_id = precompiled_template_id(caller.service);
  auto existing = services_.find_template(caller.service, template_id, std::nullopt);
  if (!existing) return existing.error();
  int template_version = 1;
  if (*existing) {
    template_version = (*existing)->version;
  } else {
    store::TemplateRecord t;
    t.id = template_id;
    t.service = caller.service;
    t.name = "Pre-compiled PDF";
    t.type = store::Channel::kLetter;
    t.created_at = now;
    t.created_by = "herald";
    t.archived = true;
    // Another node may make it at the same moment: then theirs is as good.
    if (services_.create_template(t)) HERALD_TRY(services_.set_template_archived(caller.service, template_id, true));
  }

  store::NotificationRecord record;
  record.template_id = template_id;
  record.template_version = template_version;
  record.reference = std::move(request.reference);
  record.status = Status::kCreated;
  auto checked = check_precompiled_letter(request.pdf);
  std::vector<std::string> lines;
  if (checked) {
    const auto international = service->has_permission("international_letters") ? InternationalLetters::kAllowed
                                                                                : InternationalLetters::kNotAllowed;
    auto address = validate_postal_address_lines(checked->address_lines, international);
    if (address) {
      lines = address->lines;
      record.postage = std::string(letter_postage(*address, *uk_postage));
      record.billable_units = sheets_of_paper(checked->page_count);
    }
  }
  if (lines.empty()) {
    // GOV.UK accepts the letter and fails it after its checks: so does Herald, at once.
    record.status = Status::kValidationFailed;
    lines = {"Provided as PDF"};
  }
  if (!record.postage) record.postage = std::string(letter_postage({}, *uk_postage));
  record.recipient = join_lines(lines);
  record.personalisation_json = address_personalisation(lines);
  finish(caller, record, now);
  if (request.pdf.size() <= kPrecompiledLetterMaxBytes) {
    HERALD_TRY(letters_.put_letter_pdf(record.service, record.id, record.created_at, request.pdf));
  }
  HERALD_TRY(letters_.insert_notification(record));
  notifications_.accepted(caller, record, now);
  return AcceptedLetter{std::move(record)};
}

Result<std::string> Letters::pdf(const Caller& caller, NotificationId id) {
  auto found = letters_.find_notification(caller.service, id);
  if (!found) return found.error();
  if (!*found) return not_found("notification");
  const store::NotificationRecord& record = **found;
  if (record.type != store::Channel::kLetter) return invalid_argument("Notification is not a letter");
  if (record.status == Status::kVirusScanFailed) return invalid_argument("File did not pass the virus scan");
  if (record.status == Status::kTechnicalFailure) {
    return invalid_argument("PDF not available for letters in status technical-failure");
  }
  auto pdf = letters_.find_letter_pdf(caller.service, id);
  if (!pdf) return pdf.error();
  if (!*pdf && record.status == Status::kValidationFailed) {
    // Too long to render: there never will be a PDF (GOV.UK's wording for technical failures).
    return invalid_argument("PDF not available for letters in status validation-failed");
  }
  if (!*pdf || record.status == Status::kPendingVirusCheck) {
    return Error{ErrorCode::kInvalidArgument, "PDF not available yet, try again later", Refusal::kNotReady};
  }
  return std::move(**pdf);
}

Result<std::string> Letters::pdf_for_print(const store::NotificationRecord& record) {
  auto pdf = letters_.find_letter_pdf(record.service, record.id);
  if (!pdf) return pdf.error();
  if (!*pdf) return not_found("letter PDF " + record.id.to_string());
  return std::move(**pdf);
}

}  // namespace herald::domain
