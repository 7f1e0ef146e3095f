#pragma once
// Data-subject requests (UK GDPR articles 15 and 17): everything one service holds about one
// person, found by their email address, mobile number or NHS number across both APIs, exported
// as one JSON document or erased in one transaction.
//
// What is found, and how (never by opening every row: the blind indexes find the rows):
// - notifications to the address or number (GOV.UK's API, lists, admin sends, and the channels
//   of NHS Notify messages), with their letters' PDFs and the files their links point to;
// - NHS Notify messages to the NHS number, and the messages any found notification carries a
//   channel of (with all of those messages' other channels);
// - received texts from the number; guest list entries for the address or number; requests to
//   unsubscribe made by the address;
// - rows of the service's uploaded lists (jobs) that name the address or number: a list's file
//   is opened and read in memory, as the worker reads it, since a row not yet sent has no
//   notification to index.
// GOV.UK letters sent to a postal address are not found by these identifiers (nothing about
// them is indexed by a person's email, number or NHS number). The imported demographics records
// (the PDS stand-in) are the NHS's, shared by every service: a service's request neither exports
// nor erases them.
//
// Erasure empties the personal fields (as retention does), deletes received texts, guest list
// entries, letters' PDFs and linked files, fails what was not yet delivered (it must not go out
// without its data), and blanks the person's rows in uploaded lists (rows keep their places, so
// a list being sent carries on with the others). Thread-safe if the store is.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace herald::domain {

// How an NHS Notify message still in flight is failed when its recipient's data is erased.
inline constexpr const char* kNhsErasureFailureCode = "HRD_ERAS_0001";
inline constexpr const char* kNhsErasureFailureDescription =
    "Failed reason: The recipient's personal data was erased at their request before it was delivered";

// The person a request is about, by one identifier.
struct Subject {
  enum class Kind { kEmail, kPhone, kNhsNumber };
  Kind kind = Kind::kEmail;
  std::string value;       // as validated (email), as typed (phone), 10 digits (NHS number)
  std::string normalised;  // as the blind index sees it (NotificationRecord::recipient_normalised)
};
const char* subject_kind_name(Subject::Kind kind);  // "email_address", "phone_number", "nhs_number"

// An identifier typed by a person: 10 digits (spaces allowed) with a valid NHS check digit is an
// NHS number; with an '@', an email address; otherwise a mobile number. kInvalidArgument when it
// is none of them.
Result<Subject> parse_subject(std::string_view text);
// The same, of a stated kind (the CLI's --email, --phone, --nhs-number).
Result<Subject> parse_subject(Subject::Kind kind, std::string_view text);

// One row of an uploaded list that names the person.
struct ListRow {
  store::JobRecord job;                                    // without its contents
  int row = 0;                                             // as a spreadsheet numbers it: the header is row 1
  std::vector<std::pair<std::string, std::string>> cells;  // column name, value
};

// Everything found.
struct SubjectRecords {
  std::vector<store::NotificationRecord> notifications;  // newest first
  std::vector<store::NhsMessageRecord> nhs_messages;     // oldest first
  std::vector<store::InboundSms> received_texts;
  std::vector<store::GuestListEntry> guest_list;
  std::vector<ListRow> list_rows;
  std::vector<store::UnsubscribeRequest> unsubscribe_requests;      // made through hosted links
  std::vector<std::pair<NotificationId, std::string>> letter_pdfs;  // of the letters found
  std::vector<Uuid> files;  // files sent by email that the notifications' links point to
  std::size_t total() const {
    return notifications.size() + nhs_messages.size() + received_texts.size() + guest_list.size() + list_rows.size() +
           unsubscribe_requests.size();
  }
};

// What a request found or erased, for the audit log: the kind of identifier and counts, never
// the person or their data.
using AuditObjects = std::vector<std::pair<std::string, std::string>>;
AuditObjects audit_objects(const Subject& subject, const SubjectRecords& found);
AuditObjects audit_objects(const Subject& subject, const store::ErasureOutcome& erased);

class Subjects {
 public:
  explicit Subjects(store::Store& store) : store_(store) {}

  Result<SubjectRecords> find(ServiceId service, const Subject& subject);
  // The export a person is given: JSON, every personal field opened (docs/data-subject-requests.md
  // describes it).
  static std::string export_json(const store::ServiceRecord& service, const Subject& subject,
                                 const SubjectRecords& records, Timestamp now);
  // Erases what find() finds, in one transaction.
  Result<store::ErasureOutcome> erase(ServiceId service, const Subject& subject, Timestamp now);

 private:
  Result<void> add_list_rows(ServiceId service, const Subject& subject, SubjectRecords& out);

  store::Store& store_;
};

}  // namespace herald::domain
