#include "domain/jobs.h"

#include <algorithm>

#include "core/csv.h"
#include "core/json.h"
#include "crypto/random.h"
#include "domain/lifecycle.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"
#include "domain/templates.h"

namespace herald::domain {

namespace {

bool blank(const std::vector<std::string>& row) {
  return std::all_of(row.begin(), row.end(),
                     [](const std::string& cell) { return cell.find_first_not_of(" \t\r\n") == std::string::npos; });
}

std::string trimmed(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

// A file read for a template: its rows (the header first) and which column holds what.
struct Sheet {
  csv::Rows rows;
  std::size_t recipient = 0;
  std::vector<std::pair<std::string, std::size_t>> placeholders;  // name, column
  // Letters: the address columns the file has, as the API's personalisation names them
  // ("address_line_1", ..., "postcode"), and their columns.
  std::vector<std::pair<std::string, std::size_t>> address;
  std::vector<std::string> problems;
  int data_rows = 0;  // not blank

  const std::string& cell(const std::vector<std::string>& row, std::size_t column) const {
    static const std::string kEmpty;
    return column < row.size() ? row[column] : kEmpty;
  }
};

Sheet read_sheet(const store::TemplateRecord& t, std::string_view contents) {
  Sheet sheet;
  const auto recipient_name = recipient_column(t.type);
  if (!recipient_name) {
    sheet.problems.emplace_back("This kind of template cannot be sent to a list");
    return sheet;
  }
  auto rows = csv::parse(contents);
  if (!rows) {
    sheet.problems.push_back("This is not a CSV file Herald can read (" + rows.error().message + ")");
    return sheet;
  }
  sheet.rows = std::move(*rows);
  if (sheet.rows.empty() || blank(sheet.rows.front())) {
    sheet.problems.emplace_back("The file is empty: its first row must name the columns");
    return sheet;
  }
  const std::vector<std::string>& header = sheet.rows.front();
  auto columns_called = [&](std::string_view name) {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (column_key(header[i]) == column_key(name)) found.push_back(i);
    }
    return found;
  };
  const auto recipients = columns_called(*recipient_name);
  if (recipients.empty()) {
    sheet.problems.push_back("The file needs a column called \u2018" + std::string(*recipient_name) + "\u2019");
  } else if (recipients.size() > 1) {
    sheet.problems.push_back("The file has more than one column called \u2018" + std::string(*recipient_name) +
                             "\u2019");
  } else {
    sheet.recipient = recipients.front();
  }
  const bool letter = t.type == store::Channel::kLetter;
  auto is_address = [](std::string_view name) {
    const auto& all = address_columns();
    return std::any_of(all.begin(), all.end(), [&](const std::string& a) { return column_key(a) == column_key(name); });
  };
  if (letter) {
    for (const std::string& name : address_columns()) {
      const auto found = columns_called(name);
      if (found.size() > 1)
        sheet.problems.push_back("The file has more than one column called \u2018" + name + "\u2019");
      std::string key = name;
      std::replace(key.begin(), key.end(), ' ', '_');
      if (!found.empty()) sheet.address.emplace_back(std::move(key), found.front());
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : template_placeholders(t)) {
    if (letter && is_address(name)) continue;  // an address line: from its column, may be empty
    const auto found = columns_called(name);
    if (found.empty()) {
      missing.push_back("\u2018" + name + "\u2019");
    } else {
      sheet.placeholders.emplace_back(name, found.front());
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    sheet.problems.push_back("The template needs a column for each placeholder. Missing: " + list);
  }
  for (std::size_t i = 1; i < sheet.rows.size(); ++i) {
    if (!blank(sheet.rows[i])) ++sheet.data_rows;
  }
  if (sheet.data_rows == 0) sheet.problems.emplace_back("The file has no rows of recipients under its header");
  if (sheet.data_rows > kMaxJobRows) {
    sheet.problems.push_back("The file has " + std::to_string(sheet.data_rows) + " rows: at most " +
                             std::to_string(kMaxJobRows) + " can be sent at once");
  }
  return sheet;
}

// How a row is taken: checked (nothing rendered or stored) or prepared to be stored.
enum class RowUse { kCheck, kSend };

// Data row `index` (0: the row under the header) as the service's own send would take it: the
// notification it would store (with RowUse::kCheck, a letter's is empty: it is not rendered),
// or kInvalidArgument with why not. A letter prepared to send has its PDF stored already.
Result<store::NotificationRecord> prepare_row(Notifications& notifications, LetterPreparer* letters,
                                              const Caller& caller, const store::TemplateRecord& t, const Sheet& sheet,
                                              std::size_t index, Timestamp now, RowUse use, bool& international) {
  const std::vector<std::string>& row = sheet.rows[index + 1];
  const std::string to = trimmed(sheet.cell(row, sheet.recipient));
  Personalisation personalisation;
  json::Writer personalisation_json;
  personalisation_json.begin_object();
  for (const auto& [key, column] : sheet.address) {
    const std::string& value = sheet.cell(row, column);
    personalisation.entries.emplace_back(key, PersonalisationValue{PersonalisationValue::Kind::kText, value, {}});
    personalisation_json.key(key).string(value);
  }
  for (const auto& [name, column] : sheet.placeholders) {
    const std::string& value = sheet.cell(row, column);
    if (trimmed(value).empty() && column != sheet.recipient) return invalid_argument("No value for ((" + name + "))");
    personalisation.entries.emplace_back(name, PersonalisationValue{PersonalisationValue::Kind::kText, value, {}});
    personalisation_json.key(name).string(value);
  }
  personalisation_json.end_object();
  if (t.type == store::Channel::kLetter) {
    if (letters == nullptr) return failed_precondition("Letters cannot be sent to a list here");
    if (use == RowUse::kCheck) {
      HERALD_TRY(letters->check_for_service(caller.service, t, personalisation, now));
      return store::NotificationRecord{};
    }
    auto record = letters->prepare_for_service(caller.service, t, personalisation, now);
    if (!record) return record.error();
    record->api_key = caller.key;
    record->key_type = caller.key_type;
    record->personalisation_json = personalisation_json.take();
    return record;
  }
  if (t.type == store::Channel::kEmail) {
    auto address = validate_email_address(to);
    if (!address) return address.error();
    EmailRequest email;
    email.email_address = std::move(*address);
    email.template_id = t.id;
    email.personalisation = std::move(personalisation);
    email.personalisation_json = personalisation_json.take();
    auto prepared = notifications.prepare_email(caller, std::move(email), now, Blocking::kAllowed);
    if (!prepared) return prepared.error();
    return std::move(prepared->record);
  }
  if (to.empty()) return invalid_argument("No phone number");
  auto number = parse_phone_number(to);
  if (!number) return invalid_argument("Not a valid phone number (" + number.error().message + ")");
  SmsRequest sms;
  sms.phone_number = to;
  sms.parsed = std::move(*number);
  sms.template_id = t.id;
  sms.personalisation = std::move(personalisation);
  sms.personalisation_json = personalisation_json.take();
  auto prepared = notifications.prepare_sms(caller, std::move(sms), now);
  if (!prepared) return prepared.error();
  international = prepared->international;
  return std::move(prepared->record);
}

Caller list_caller(ServiceId service) { return {service, ApiKeyId{}, store::KeyType::kNormal}; }

Timestamp next_utc_day(Timestamp now) {
  return std::chrono::time_point_cast<Duration>(std::chrono::floor<std::chrono::days>(now) + std::chrono::days{1});
}

}  // namespace

std::optional<std::string_view> recipient_column(store::Channel type) {
  if (type == store::Channel::kEmail) return "email address";
  if (type == store::Channel::kSms) return "phone number";
  if (type == store::Channel::kLetter) return "address line 1";
  return std::nullopt;
}

const std::vector<std::string>& address_columns() {
  static const std::vector<std::string> kColumns = {"address line 1", "address line 2", "address line 3",
                                                    "address line 4", "address line 5", "address line 6",
                                                    "address line 7", "postcode"};
  return kColumns;
}

std::string column_key(std::string_view name) {
  std::string key;
  for (const char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

std::vector<int> rows_for_recipient(store::Channel type, const csv::Rows& rows, std::string_view recipient_normalised) {
  std::vector<int> found;
  const auto name = recipient_column(type);
  if (!name || rows.empty() || type == store::Channel::kLetter) return found;
  const auto& header = rows.front();
  const auto column = std::find_if(header.begin(), header.end(),
                                   [&](const std::string& h) { return column_key(h) == column_key(*name); });
  if (column == header.end()) return found;
  const auto at = static_cast<std::size_t>(column - header.begin());
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (at >= rows[i].size()) continue;
    const std::string cell = trimmed(rows[i][at]);
    std::string normalised;
    if (type == store::Channel::kEmail) {
      if (auto address = validate_email_address(cell)) normalised = normalise_email_for_index(*address);
    } else if (auto number = parse_phone_number(cell)) {
      normalised = number->normalised;
    }
    if (!normalised.empty() && normalised == recipient_normalised) found.push_back(static_cast<int>(i) - 1);
  }
  return found;
}

Result<JobCheck> Jobs::check(ServiceId service, const store::TemplateRecord& t, std::string_view contents,
                             Timestamp now) {
  Sheet sheet = read_sheet(t, contents);
  JobCheck out;
  auto refused = template_problems(service, t);
  if (!refused) return refused.error();
  out.problems = std::move(*refused);
  out.problems.insert(out.problems.end(), sheet.problems.begin(), sheet.problems.end());
  out.rows = sheet.data_rows;
  if (!out.problems.empty()) return out;
  const Caller caller = list_caller(service);
  for (std::size_t i = 0; i + 1 < sheet.rows.size(); ++i) {
    if (blank(sheet.rows[i + 1])) continue;
    bool international = false;
    auto prepared = prepare_row(notifications_, letters_, caller, t, sheet, i, now, RowUse::kCheck, international);
    if (prepared) {
      ++out.sendable;
      continue;
    }
    // A row over the day's international texts limit: shown with the limit's message (once started, the
    // worker waits for the limit to allow it rather than dropping it).
    const ErrorCode code = prepared.error().code;
    if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kResourceExhausted) return prepared.error();
    ++out.row_errors_total;
    if (out.row_errors.size() < kMaxShownErrors) {
      out.row_errors.push_back({static_cast<int>(i) + 2, prepared.error().message});
    }
  }
  return out;
}

Result<store::JobRecord> Jobs::upload(ServiceId service, const store::TemplateRecord& t, std::string file_name,
                                      std::string contents, Uuid user, Timestamp now) {
  auto refused = template_problems(service, t);
  if (!refused) return refused.error();
  if (!refused->empty()) return invalid_argument(refused->front());
  Sheet sheet = read_sheet(t, contents);
  if (!sheet.problems.empty()) return invalid_argument(sheet.problems.front());
  store::JobRecord job;
  job.id = crypto::time_ordered_uuid(now);
  job.service = service;
  job.template_id = t.id;
  job.template_version = t.version;
  job.type = t.type;
  job.file_name = std::move(file_name);
  job.contents = std::move(contents);
  job.row_count = static_cast<int>(sheet.rows.size()) - 1;
  job.created_by = user;
  job.created_at = now;
  HERALD_TRY(store_.create_job(job));
  job.contents.clear();
  return job;
}

Result<bool> Jobs::cancel(ServiceId service, Uuid id, Timestamp now) {
  auto cancelled = store_.cancel_job(service, id, now);
  if (!cancelled) return cancelled.error();
  if (*cancelled) {
    std::lock_guard lock(mutex_);
    waiting_.erase(id);
  }
  return *cancelled;
}

Result<bool> Jobs::start(ServiceId service, Uuid id, Timestamp now) {
  auto job = store_.find_job(service, id);
  if (!job) return job.error();
  if (!*job) return false;
  auto latest = services_.find_template(service, (*job)->template_id, std::nullopt);
  if (!latest) return latest.error();
  if (!*latest || (*latest)->archived) return failed_precondition("The template has been deleted");
  if ((*latest)->version != (*job)->template_version) {
    return failed_precondition("The template has changed since the file was checked: check it again");
  }
  auto refused = template_problems(service, **latest);
  if (!refused) return refused.error();
  if (!refused->empty()) return failed_precondition(refused->front());
  return store_.start_job(service, id, now);
}

Result<std::vector<std::string>> Jobs::template_problems(ServiceId service, const store::TemplateRecord& t) {
  std::vector<std::string> problems;
  if (t.type != store::Channel::kLetter) return problems;
  if (letters_ == nullptr) {
    problems.emplace_back("Letters cannot be sent to a list here: send them with the API");
    return problems;
  }
  auto found = services_.find_service(service);
  if (!found) return found.error();
  if (!*found) return not_found("service " + service.to_string());
  if (!(*found)->has_permission("letter")) problems.emplace_back("Service is not allowed to send letters");
  if ((*found)->restricted) problems.emplace_back("Cannot send letters when service is in trial mode");
  return problems;
}

Result<JobProgress> Jobs::progress(ServiceId service, const store::JobRecord& job) {
  auto counts = store_.job_status_counts(service, job.id);
  if (!counts) return counts.error();
  JobProgress out{job, std::move(*counts)};
  for (const auto& [status, count] : out.counts) {
    out.sent += count;
    if (status == store::NotificationStatus::kDelivered || status == store::NotificationStatus::kSent) {
      out.delivered += count;
    } else if (is_final(status)) {
      out.failed += count;
    } else {
      out.sending += count;
    }
  }
  return out;
}

bool Jobs::waiting(Uuid job, Timestamp now) {
  std::lock_guard lock(mutex_);
  std::erase_if(waiting_, [now](const auto& entry) { return entry.second <= now; });
  return waiting_.contains(job);
}

void Jobs::wait_until_tomorrow(Uuid job, Timestamp now) {
  std::lock_guard lock(mutex_);
  waiting_[job] = next_utc_day(now);
}

Result<int> Jobs::run_once(Timestamp now, int max_rows) {
  auto listed = store_.jobs_in_progress(kJobsPerRun);
  if (!listed) return listed.error();
  int handled = 0;
  for (const store::JobRecord& next : *listed) {
    if (handled >= max_rows) break;
    if (waiting(next.id, now)) continue;
    auto job = store_.find_job(next.service, next.id);
    if (!job) return job.error();
    std::optional<store::TemplateRecord> t;
    if (*job) {
      auto found = services_.find_template(next.service, (*job)->template_id, (*job)->template_version);
      if (!found) return found.error();
      t = std::move(*found);
    }
    std::optional<Sheet> read;
    if (t) read = read_sheet(*t, (*job)->contents);
    if (!read || !read->problems.empty()) {
      // Nothing more of it can be sent: its file went with retention (or its data key), or its
      // template is gone. Its remaining rows are closed, so that it stops holding a place here.
      auto closed = store_.save_job_rows(next.service, next.id, next.next_row, next.row_count, {}, {}, now);
      if (!closed) return closed.error();
      continue;
    }
    if (t->type == store::Channel::kLetter && letters_ == nullptr) continue;  // for a node that can render them
    const Sheet& sheet = *read;
    const Caller caller = list_caller(next.service);
    int row = (*job)->next_row;
    const int row_count = std::min((*job)->row_count, static_cast<int>(sheet.rows.size()) - 1);
    const int chunk = t->type == store::Channel::kLetter ? kLetterChunkRows : kChunkRows;
    while (row < row_count && handled < max_rows) {
      int to = std::min(row_count, row + chunk);
      std::vector<store::NotificationRecord> records;
      std::vector<int> rows;
      bool limited = false;
      for (int i = row; i < to; ++i) {
        if (blank(sheet.rows[static_cast<std::size_t>(i) + 1])) continue;
        auto room = notifications_.check_daily(caller, t->type, now);
        bool abroad = false;
        auto prepared = room ? prepare_row(notifications_, letters_, caller, *t, sheet, static_cast<std::size_t>(i),
                                           now, RowUse::kSend, abroad)
                             : Result<store::NotificationRecord>(room.error());
        if (!prepared && prepared.error().code == ErrorCode::kResourceExhausted) {
          // The day's limit: this row and the rest wait for a later run.
          to = i;
          limited = true;
          break;
        }
        if (!prepared && prepared.error().code == ErrorCode::kInvalidArgument) continue;  // skipped, as checked
        if (!prepared) return prepared.error();
        // Counted now, so that the next row's check sees it. Should another worker save this
        // chunk first, it is counted twice: a day's limit errs on the side of sending less.
        notifications_.count_daily(caller, *prepared, now, abroad);
        records.push_back(std::move(*prepared));
        rows.push_back(i);
      }
      if (limited) wait_until_tomorrow(next.id, now);
      if (to == row) break;
      auto saved = store_.save_job_rows(next.service, next.id, row, to, records, rows, now);
      if (!saved) return saved.error();
      if (!*saved) break;  // another worker took these rows
      if (std::any_of(records.begin(), records.end(), [](const auto& r) { return r.queued; })) {
        notifications_.queued();
      }
      handled += to - row;
      row = to;
      if (limited) break;
    }
  }
  return handled;
}

}  // namespace herald::domain
