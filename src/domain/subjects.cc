#include "domain/subjects.h"

#include <algorithm>
#include <set>

#include "core/base64.h"
#include "core/csv.h"
#include "core/json.h"
#include "domain/jobs.h"
#include "domain/nhs/messages.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"

namespace herald::domain {

namespace {

// Jobs looked at per request: a service keeps its lists only as long as its retention period.
constexpr int kMaxJobs = 100000;

std::string without_spaces(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != ' ') out += c;
  }
  return out;
}

// The ids of the files sent by email that a notification's personalisation links to
// ("{root}d/{service}/{file}?key=..."): each is the service's.
void add_linked_files(const store::NotificationRecord& n, std::set<Uuid>& out) {
  const std::string marker = "d/" + n.service.to_string() + "/";
  constexpr std::size_t kUuidLength = 36;
  for (std::size_t at = n.personalisation_json.find(marker); at != std::string::npos;
       at = n.personalisation_json.find(marker, at + 1)) {
    const std::size_t start = at + marker.size();
    if (auto id = Uuid::parse(std::string_view(n.personalisation_json).substr(start, kUuidLength))) out.insert(*id);
  }
}

// A JSON text written as its value (personalisation, contact details), or as a string when it
// does not parse (it always should).
void json_or_string(json::Writer& w, std::string_view text) {
  auto parsed = json::parse(text);
  if (parsed) {
    w.value(*parsed);
  } else {
    w.string(text);
  }
}

void optional_time(json::Writer& w, std::string_view key, const std::optional<Timestamp>& t) {
  w.key(key);
  if (t) {
    w.string(format_timestamp(*t));
  } else {
    w.null();
  }
}

void write_notification(json::Writer& w, const store::NotificationRecord& n,
                        const std::vector<std::pair<NotificationId, std::string>>& pdfs) {
  w.begin_object();
  w.key("id").string(n.id.to_string());
  w.key("api").string(n.nhs_message_id ? "nhs_notify" : "govuk_notify");
  w.key("type").string(store::channel_name(n.type));
  w.key("status").string(store::status_name(n.status));
  w.key("recipient").string(n.recipient);
  w.key("reference").string_or_null(n.reference);
  w.key("template_id").string(n.template_id.to_string());
  w.key("template_version").integer(n.template_version);
  w.key("personalisation");
  json_or_string(w, n.personalisation_json.empty() ? "{}" : n.personalisation_json);
  w.key("subject").string(n.subject);
  w.key("body").string(n.body);
  w.key("created_at").string(format_timestamp(n.created_at));
  optional_time(w, "sent_at", n.sent_at);
  optional_time(w, "updated_at", n.updated_at);
  w.key("sent_by").string_or_null(n.sent_by);
  w.key("postage").string_or_null(n.postage);
  w.key("nhs_message_id").string_or_null(n.nhs_message_id);
  w.key("job_id").string_or_null(n.job_id ? std::optional(n.job_id->to_string()) : std::nullopt);
  const auto pdf = std::find_if(pdfs.begin(), pdfs.end(), [&](const auto& p) { return p.first == n.id; });
  w.key("letter_pdf_base64")
      .string_or_null(pdf != pdfs.end() ? std::optional(base64_encode(pdf->second)) : std::nullopt);
  w.end_object();
}

void write_nhs_message(json::Writer& w, const store::NhsMessageRecord& m) {
  w.begin_object();
  w.key("id").string(m.id);
  w.key("message_reference").string(m.message_reference);
  w.key("billing_reference").string_or_null(m.billing_reference);
  w.key("routing_plan_id").string(m.routing_plan_id.to_string());
  w.key("routing_plan_version").string(m.routing_plan_version);
  w.key("nhs_number").string_or_null(m.nhs_number);
  w.key("ods_code").string_or_null(m.ods_code);
  w.key("personalisation");
  json_or_string(w, m.personalisation_json);
  w.key("contact_details");
  if (m.contact_details_json) {
    json_or_string(w, *m.contact_details_json);
  } else {
    w.null();
  }
  w.key("recipient");
  if (m.recipient_json) {
    json_or_string(w, *m.recipient_json);
  } else {
    w.null();
  }
  w.key("status").string(store::nhs_message_status_name(m.status));
  w.key("status_description").string_or_null(m.status_description);
  w.key("created_at").string(format_timestamp(m.created_at));
  optional_time(w, "delivered_at", m.delivered_at);
  optional_time(w, "failed_at", m.failed_at);
  w.key("channels").begin_array();
  for (const auto& c : m.channels) {
    w.begin_object();
    w.key("type").string(store::nhs_channel_name(c.type));
    w.key("status").string(store::nhs_channel_status_name(c.status));
    w.key("notification_id")
        .string_or_null(c.notification_id ? std::optional(c.notification_id->to_string()) : std::nullopt);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace

const char* subject_kind_name(Subject::Kind kind) {
  switch (kind) {
    case Subject::Kind::kEmail: return "email_address";
    case Subject::Kind::kPhone: return "phone_number";
    case Subject::Kind::kNhsNumber: return "nhs_number";
  }
  return "email_address";
}

Result<Subject> parse_subject(Subject::Kind kind, std::string_view text) {
  switch (kind) {
    case Subject::Kind::kEmail: {
      auto email = validate_email_address(text);
      if (!email) return invalid_argument("not a valid email address");
      return Subject{kind, *email, normalise_email_for_index(*email)};
    }
    case Subject::Kind::kPhone: {
      auto number = parse_phone_number(text);
      if (!number) return invalid_argument("not a valid phone number");
      return Subject{kind, std::string(text), number->normalised};
    }
    case Subject::Kind::kNhsNumber: {
      std::string digits = without_spaces(text);
      if (!nhs::valid_nhs_number(digits)) return invalid_argument("not a valid NHS number");
      return Subject{kind, digits, digits};
    }
  }
  return invalid_argument("unknown kind of identifier");
}

Result<Subject> parse_subject(std::string_view text) {
  if (nhs::valid_nhs_number(without_spaces(text))) return parse_subject(Subject::Kind::kNhsNumber, text);
  if (text.find('@') != std::string_view::npos) return parse_subject(Subject::Kind::kEmail, text);
  auto phone = parse_subject(Subject::Kind::kPhone, text);
  if (!phone) return invalid_argument("not a valid email address, phone number or NHS number");
  return phone;
}

AuditObjects audit_objects(const Subject& subject, const SubjectRecords& found) {
  return {{"identifier", subject_kind_name(subject.kind)},
          {"notifications", std::to_string(found.notifications.size())},
          {"nhs_messages", std::to_string(found.nhs_messages.size())},
          {"received_texts", std::to_string(found.received_texts.size())},
          {"guest_list_entries", std::to_string(found.guest_list.size())},
          {"list_rows", std::to_string(found.list_rows.size())},
          {"unsubscribe_requests", std::to_string(found.unsubscribe_requests.size())}};
}

AuditObjects audit_objects(const Subject& subject, const store::ErasureOutcome& erased) {
  return {{"identifier", subject_kind_name(subject.kind)},
          {"notifications", std::to_string(erased.notifications)},
          {"failed_pending", std::to_string(erased.failed_pending)},
          {"nhs_messages", std::to_string(erased.nhs_messages)},
          {"received_texts", std::to_string(erased.inbound_sms)},
          {"guest_list_entries", std::to_string(erased.guest_list_entries)},
          {"jobs", std::to_string(erased.jobs)},
          {"files", std::to_string(erased.documents)},
          {"unsubscribe_requests", std::to_string(erased.unsubscribe_requests)}};
}

Result<SubjectRecords> Subjects::find(ServiceId service, const Subject& subject) {
  SubjectRecords out;
  std::vector<std::string> message_ids;
  if (subject.kind == Subject::Kind::kNhsNumber) {
    auto messages = store_.find_nhs_messages_by_nhs_number(service, subject.value);
    if (!messages) return messages.error();
    out.nhs_messages = std::move(*messages);
    for (const auto& m : out.nhs_messages) message_ids.push_back(m.id);
  } else {
    auto found = store_.find_by_recipient(service, subject.normalised);
    if (!found) return found.error();
    out.notifications = std::move(*found);
    // The NHS Notify messages these carry a channel of are about the same person.
    for (const auto& n : out.notifications) {
      if (n.nhs_message_id &&
          std::find(message_ids.begin(), message_ids.end(), *n.nhs_message_id) == message_ids.end()) {
        message_ids.push_back(*n.nhs_message_id);
      }
    }
    if (!message_ids.empty()) {
      auto messages = store_.find_nhs_messages_by_id(service, message_ids);
      if (!messages) return messages.error();
      out.nhs_messages = std::move(*messages);
    }
    auto listed = store_.find_guest_list_entries(service, subject.normalised);
    if (!listed) return listed.error();
    out.guest_list = std::move(*listed);
    if (subject.kind == Subject::Kind::kEmail) {
      auto requests = store_.find_unsubscribe_requests(service, subject.normalised);
      if (!requests) return requests.error();
      out.unsubscribe_requests = std::move(*requests);
    }
    if (subject.kind == Subject::Kind::kPhone) {
      auto texts = store_.find_inbound_sms_by_number(service, subject.normalised);
      if (!texts) return texts.error();
      out.received_texts = std::move(*texts);
    }
    HERALD_TRY(add_list_rows(service, subject, out));
  }
  if (!message_ids.empty()) {
    // Every channel of those messages: a letter or a text to the same person too.
    auto channels = store_.notifications_for_nhs_messages(service, message_ids);
    if (!channels) return channels.error();
    for (auto& n : *channels) {
      const bool known = std::any_of(out.notifications.begin(), out.notifications.end(),
                                     [&](const store::NotificationRecord& m) { return m.id == n.id; });
      if (!known) out.notifications.push_back(std::move(n));
    }
    std::sort(out.notifications.begin(), out.notifications.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : b.id < a.id;
    });
  }
  std::set<Uuid> files;
  for (const auto& n : out.notifications) {
    add_linked_files(n, files);
    if (n.type != store::Channel::kLetter) continue;
    auto pdf = store_.find_letter_pdf(service, n.id);
    if (!pdf) return pdf.error();
    if (*pdf) out.letter_pdfs.emplace_back(n.id, std::move(**pdf));
  }
  out.files.assign(files.begin(), files.end());
  return out;
}

Result<void> Subjects::add_list_rows(ServiceId service, const Subject& subject, SubjectRecords& out) {
  const store::Channel type = subject.kind == Subject::Kind::kEmail ? store::Channel::kEmail : store::Channel::kSms;
  auto jobs = store_.jobs_for_service(service, kMaxJobs);
  if (!jobs) return jobs.error();
  for (const store::JobRecord& listed : *jobs) {
    if (listed.type != type) continue;
    auto job = store_.find_job(service, listed.id);
    if (!job) return job.error();
    if (!*job || (*job)->contents.empty()) continue;  // its file went with retention
    auto rows = csv::parse((*job)->contents);
    if (!rows || rows->empty()) continue;  // never stored: a file is checked before it is
    for (const int row : rows_for_recipient(type, *rows, subject.normalised)) {
      ListRow found{listed, row + 2, {}};
      const auto& header = rows->front();
      const auto& cells = (*rows)[static_cast<std::size_t>(row) + 1];
      for (std::size_t i = 0; i < header.size(); ++i) {
        found.cells.emplace_back(header[i], i < cells.size() ? cells[i] : std::string());
      }
      out.list_rows.push_back(std::move(found));
    }
  }
  return ok();
}

std::string Subjects::export_json(const store::ServiceRecord& service, const Subject& subject,
                                  const SubjectRecords& records, Timestamp now) {
  json::Writer w;
  w.begin_object();
  w.key("subject").begin_object();
  w.key("type").string(subject_kind_name(subject.kind));
  w.key("value").string(subject.value);
  w.end_object();
  w.key("service").begin_object();
  w.key("id").string(service.id.to_string());
  w.key("name").string(service.name);
  w.end_object();
  w.key("exported_at").string(format_timestamp(now));
  w.key("notifications").begin_array();
  for (const auto& n : records.notifications) write_notification(w, n, records.letter_pdfs);
  w.end_array();
  w.key("nhs_messages").begin_array();
  for (const auto& m : records.nhs_messages) write_nhs_message(w, m);
  w.end_array();
  w.key("received_texts").begin_array();
  for (const auto& t : records.received_texts) {
    w.begin_object();
    w.key("id").string(t.id.to_string());
    w.key("from").string(t.user_number);
    w.key("to").string(t.notify_number);
    w.key("content").string(t.content);
    w.key("received_at").string(format_timestamp(t.received_at));
    w.end_object();
  }
  w.end_array();
  w.key("guest_list").begin_array();
  for (const auto& g : records.guest_list) {
    w.begin_object();
    w.key("id").string(g.id.to_string());
    w.key("type").string(g.recipient_type);
    w.key("recipient").string(g.recipient);
    w.key("added_at").string(format_timestamp(g.created_at));
    w.end_object();
  }
  w.end_array();
  w.key("list_rows").begin_array();
  for (const auto& r : records.list_rows) {
    w.begin_object();
    w.key("job_id").string(r.job.id.to_string());
    w.key("file_name").string(r.job.file_name);
    w.key("uploaded_at").string(format_timestamp(r.job.created_at));
    w.key("row").integer(r.row);
    w.key("cells").begin_object();
    for (const auto& [name, value] : r.cells) w.key(name).string(value);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.key("unsubscribe_requests").begin_array();
  for (const auto& u : records.unsubscribe_requests) {
    w.begin_object();
    w.key("id").string(u.id.to_string());
    w.key("email_address").string(u.email);
    w.key("notification_id").string(u.notification.to_string());
    w.key("template_name").string(u.template_name);
    w.key("requested_at").string(format_timestamp(u.created_at));
    w.end_object();
  }
  w.end_array();
  w.key("files").begin_array();
  for (const Uuid& id : records.files) w.string(id.to_string());
  w.end_array();
  w.end_object();
  return w.take();
}

Result<store::ErasureOutcome> Subjects::erase(ServiceId service, const Subject& subject, Timestamp now) {
  auto found = find(service, subject);
  if (!found) return found.error();
  store::SubjectErasure erasure;
  erasure.service = service;
  erasure.now = now;
  erasure.nhs_failure_code = kNhsErasureFailureCode;
  erasure.nhs_failure_description = kNhsErasureFailureDescription;
  for (const auto& n : found->notifications) erasure.notifications.push_back(n.id);
  for (const auto& m : found->nhs_messages) erasure.nhs_messages.push_back(m.id);
  for (const auto& t : found->received_texts) erasure.inbound_sms.push_back(t.id);
  for (const auto& g : found->guest_list) erasure.guest_list_entries.push_back(g.id);
  erasure.documents = found->files;
  for (const auto& u : found->unsubscribe_requests) erasure.unsubscribe_requests.push_back(u.id);
  // The person's rows of each list blanked where they stand: the rows after them keep their
  // numbers, so a list being sent goes on with the others (a blank row is passed over).
  std::vector<Uuid> jobs;
  for (const auto& r : found->list_rows) {
    if (std::find(jobs.begin(), jobs.end(), r.job.id) == jobs.end()) jobs.push_back(r.job.id);
  }
  for (const Uuid& id : jobs) {
    auto job = store_.find_job(service, id);
    if (!job) return job.error();
    if (!*job) continue;
    auto rows = csv::parse((*job)->contents);
    if (!rows) return rows.error();
    const store::Channel type = (*job)->type;
    for (const int row : rows_for_recipient(type, *rows, subject.normalised)) {
      auto& cells = (*rows)[static_cast<std::size_t>(row) + 1];
      std::fill(cells.begin(), cells.end(), std::string());
    }
    erasure.job_contents.emplace_back(id, csv::format(*rows));
  }
  return store_.erase_subject(erasure);
}

}  // namespace herald::domain
