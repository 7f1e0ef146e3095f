#pragma once
// Letters: the use cases of sending letters (templated and precompiled) and reading their PDFs,
// independent of any API's wire format (GOV.UK's POST /v2/notifications/letter and
// GET /v2/notifications/{id}/pdf). A letter is
// rendered (or checked) when it is sent, so its page count, sheets and postage are known at
// once and the PDF that `GET .../pdf` returns is the one that is printed. The PDF shows the
// address: the store seals it like the notification's other personal fields.
// Thread-safe if the Store is.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "domain/notifications.h"
#include "domain/recipients/postal_address.h"

namespace herald::domain {

struct LetterRequest {
  TemplateId template_id;
  Personalisation personalisation;   // holds the address (address_line_1..7, postcode)
  std::string personalisation_json;  // as received, stored encrypted
  std::optional<std::string> reference;
};

struct PrecompiledLetterRequest {
  std::string reference;               // required by GOV.UK for precompiled letters
  std::string pdf;                     // decoded from base64
  std::optional<std::string> postage;  // first, second or economy (already schema-checked)
};

struct AcceptedLetter {
  store::NotificationRecord record;  // record.subject/body: the rendered heading and body
};

// What the print supplier charges for one letter, by postage and sheets of paper: price(postage,
// sheets) from by_postage[postage][sheets - 1]. nullopt where no price is set (GOV.UK's API then
// says the cost is not ready rather than showing a made-up figure).
struct LetterPrices {
  std::map<std::string, std::vector<double>, std::less<>> by_postage;
  std::optional<double> price(std::string_view postage, int sheets) const {
    auto it = by_postage.find(postage);
    if (it == by_postage.end() || sheets < 1 || static_cast<std::size_t>(sheets) > it->second.size())
      return std::nullopt;
    return it->second[static_cast<std::size_t>(sheets) - 1];
  }
};

struct LettersConfig {
  std::optional<std::string> logo_png_path;  // drawn top left of every templated letter
};

// A templated letter another use case sends for a service (NHS Notify's cascade): the service
// may send letters, the personalisation (holding the address) fills the template, the letter is
// rendered and its PDF stored; the caller stores the notification (type letter, queued, or
// validation-failed beyond kLetterMaxPages). kInvalidArgument as Letters::send's. An interface,
// so that the cascade does not link the letter renderer.
class LetterPreparer {
 public:
  virtual ~LetterPreparer() = default;
  // prepare_for_service's checks (letter permission, personalisation, the address) without
  // rendering or storing anything: a list's rows are checked this way before it is sent. A
  // letter too long to print is found only when it is rendered (validation-failed then).
  virtual Result<void> check_for_service(ServiceId service, const store::TemplateRecord& letter_template,
                                         const Personalisation& personalisation, Timestamp now) = 0;
  virtual Result<store::NotificationRecord> prepare_for_service(ServiceId service,
                                                                const store::TemplateRecord& letter_template,
                                                                const Personalisation& personalisation,
                                                                Timestamp now) = 0;
};

class Letters final : public LetterPreparer {
 public:
  Letters(store::NotificationStore& letters, store::ServiceDirectory& services, Notifications& notifications,
          LettersConfig config = {})
      : letters_(letters), services_(services), notifications_(notifications), config_(std::move(config)) {}
  Letters(store::Store& store, Notifications& notifications, LettersConfig config = {})
      : Letters(store, store, notifications, std::move(config)) {}

  // GOV.UK's order: letter permission ("Service is not allowed to send letters"), template,
  // personalisation, team key ("Cannot send letters with a team api key"), trial mode ("Cannot
  // send letters when service is in trial mode"; both kPermissionDenied, Refusal::kRestricted),
  // the address (kInvalidArgument, Refusal::kInvalidLetter),
  // then rendered and durable. A letter beyond kLetterMaxPages is accepted in status
  // validation-failed, as GOV.UK fails it after accepting it. Test keys: delivered at once,
  // never handed to a print supplier.
  Result<AcceptedLetter> send(const Caller& caller, LetterRequest&& request, Timestamp now);
  // A PDF the service made. Checked at once (domain/letters/precompiled_letter.h, then the address read
  // from its window): status created (or delivered for a test key), or validation-failed when a
  // check fails - accepted either way, as GOV.UK accepts it and fails it later.
  Result<AcceptedLetter> send_precompiled(const Caller& caller, PrecompiledLetterRequest&& request, Timestamp now);

  // The letter's PDF. Errors as GOV.UK's, all kInvalidArgument: "Notification is not a letter",
  // "File did not pass the virus scan", "PDF not available for letters in status
  // technical-failure" (and validation-failed, when there is no PDF at all), "PDF not available
  // yet, try again later" (Refusal::kNotReady); kNotFound when there is no such notification.
  Result<std::string> pdf(const Caller& caller, NotificationId id);

  // The PDF as the print supplier gets it (the delivery worker); kNotFound when it is gone.
  Result<std::string> pdf_for_print(const store::NotificationRecord& record);

  Result<void> check_for_service(ServiceId service, const store::TemplateRecord& letter_template,
                                 const Personalisation& personalisation, Timestamp now) override;
  Result<store::NotificationRecord> prepare_for_service(ServiceId service, const store::TemplateRecord& letter_template,
                                                        const Personalisation& personalisation, Timestamp now) override;

 private:
  struct Rendered {
    store::NotificationRecord record;  // content, address, postage, contact block and status
    std::optional<std::string> pdf;    // nullopt: too long to print (validation-failed)
  };
  // The template filled and rendered, for `address` (checked), as the PDF that prints.
  Result<Rendered> render(ServiceId service, const store::TemplateRecord& letter_template,
                          const Personalisation& personalisation, const PostalAddress& address, Timestamp now);
  Result<store::ServiceRecord> letter_service(const Caller& caller, Timestamp now);
  // check_for_service's checks: the address, or kInvalidArgument.
  Result<PostalAddress> checked_address(ServiceId service, const store::TemplateRecord& letter_template,
                                        const Personalisation& personalisation, Timestamp now);
  void finish(const Caller& caller, store::NotificationRecord& record, Timestamp now);

  store::NotificationStore& letters_;
  store::ServiceDirectory& services_;
  Notifications& notifications_;
  LettersConfig config_;
};

}  // namespace herald::domain
