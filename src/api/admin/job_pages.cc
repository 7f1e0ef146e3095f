// Sending to a list in the admin UI: a template's upload page (a CSV file), the check of the
// file (every row's error, before anything is sent), and the job's page, whose counts change as
// the delivery worker sends its rows (ui/init.js polls the progress endpoint; without
// JavaScript, reloading the page shows the same). Uploading and starting need the send
// permission; seeing a service's jobs, membership.

#include <algorithm>
#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "core/json.h"
#include "domain/jobs.h"
#include "domain/templates.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

constexpr std::string_view kFileField = "file";

std::string job_status_label(store::JobStatus status) {
  switch (status) {
    case store::JobStatus::kPending: return "Checked, not sent";
    case store::JobStatus::kInProgress: return "Sending";
    case store::JobStatus::kFinished: return "Sent";
    case store::JobStatus::kCancelled: return "Cancelled";
  }
  return "Checked, not sent";
}

class JobPages : public PageHandlers {
 public:
  explicit JobPages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<JobPages>& self) {
    add(router, self, "GET", "/services/{id}/templates/{template}/upload", &JobPages::upload_page);
    add(router, self, "POST", "/services/{id}/templates/{template}/upload", &JobPages::upload);
    add(router, self, "GET", "/services/{id}/jobs", &JobPages::job_list);
    add(router, self, "GET", "/services/{id}/jobs/{job}", &JobPages::job_page);
    add(router, self, "POST", "/services/{id}/jobs/{job}/start", &JobPages::start);
    add(router, self, "POST", "/services/{id}/jobs/{job}/cancel", &JobPages::cancel);
    add(router, self, "GET", "/services/{id}/jobs/{job}/progress", &JobPages::progress);
  }

 private:
  // The service's template that may be sent to a list: email, text or letter, not archived.
  Result<std::optional<store::TemplateRecord>> list_template(const ServiceAccess& access, const PathParams& params) {
    auto id = TemplateId::parse(params.at("template"));
    if (!id) return std::optional<store::TemplateRecord>();
    auto found = deps_.services.find_template(access.service.id, *id, std::nullopt);
    if (!found) return found.error();
    if (*found && ((*found)->archived || !domain::recipient_column((*found)->type)))
      return std::optional<store::TemplateRecord>();
    return found;
  }

  Result<std::optional<store::JobRecord>> find_job(const ServiceAccess& access, const PathParams& params) {
    auto id = Uuid::parse(params.at("job"));
    if (!id) return std::optional<store::JobRecord>();
    return deps_.jobs.find(access.service.id, *id);
  }

  Page upload_form(const ServiceAccess& access, const store::TemplateRecord& t, std::vector<FieldError> errors) {
    const bool letter = t.type == store::Channel::kLetter;
    const auto recipient = domain::recipient_column(t.type).value_or("");
    // A letter's address: at least three lines, the last a postcode (or a country abroad).
    std::string columns = letter ? "<li>address line 1, address line 2 and address line 3 (the last line of an "
                                   "address is its postcode, or its country when it is abroad)</li>"
                                   "<li>address line 4 to address line 7, for addresses that need them</li>"
                                 : "<li>" + html_escape(recipient) + "</li>";
    const auto& address = domain::address_columns();
    for (const std::string& name : domain::template_placeholders(t)) {
      const bool taken =
          letter ? std::any_of(address.begin(), address.end(),
                               [&](const std::string& a) { return domain::column_key(a) == domain::column_key(name); })
                 : domain::column_key(name) == domain::column_key(recipient);
      if (!taken) columns += "<li>" + html_escape(name) + "</li>";
    }
    const std::string fields =
        paragraph(
            "Upload a CSV file (a spreadsheet saved as comma-separated values) with a row for each person. "
            "Its first row names the columns. It needs these columns, in any order:") +
        "<ul class=\"nhsuk-list nhsuk-list--bullet\">" + columns + "</ul>" +
        paragraph("Herald checks every row before anything is sent, and shows you the rows it cannot send.") +
        input({std::string(kFileField), "CSV file", "file", "", "", "", error_for(errors, std::string(kFileField))});
    const std::string action = service_path(access, "/templates/" + t.id.to_string() + "/upload");
    Page page =
        service_page(access, service_path(access, "/templates"), "Send " + t.name + " to a list",
                     heading("Send " + t.name + " to a list") +
                         form(action, domain::users::Users::csrf_token(access.token), fields, "Upload and check",
                              /*with_files=*/true));
    page.errors = std::move(errors);
    return page;
  }

  net::Response upload_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kSend, access)) return *refused;
    auto t = list_template(access, params);
    if (!t) return internal_error();
    if (!*t) return not_found();
    return html(200, upload_form(access, **t, {}));
  }

  net::Response upload(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kSend, access, post)) return *refused;
    auto t = list_template(access, params);
    if (!t) return internal_error();
    if (!*t) return not_found();
    const multipart::Part* file = nullptr;
    for (const auto& part : post.files) {
      if (part.name == kFileField) file = &part;
    }
    if (file == nullptr || file->data.empty()) {
      return html(400, upload_form(access, **t, {{"Choose a CSV file to upload", std::string(kFileField)}}));
    }
    const Timestamp now = deps_.clock.now();
    auto checked = deps_.jobs.check(access.service.id, **t, file->data, now);
    if (!checked) return internal_error();
    if (!checked->problems.empty()) {
      std::vector<FieldError> errors;
      for (const std::string& problem : checked->problems) errors.emplace_back(problem, std::string(kFileField));
      return html(400, upload_form(access, **t, std::move(errors)));
    }
    auto job =
        deps_.jobs.upload(access.service.id, **t, file->filename.value_or(""), file->data, access.who.user.id, now);
    if (!job) return internal_error();
    audit(request, access, "job.uploaded",
          {{"job_id", job->id.to_string()},
           {"template_id", job->template_id.to_string()},
           {"rows", std::to_string(checked->rows)}});
    return redirect(service_path(access, "/jobs/" + job->id.to_string()));
  }

  net::Response job_list(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto jobs = deps_.jobs.list(access.service.id, 100);
    if (!jobs) return internal_error();
    std::string main = heading("Lists sent");
    if (jobs->empty()) {
      main += paragraph("Nobody has uploaded a list for this service yet. Choose a template to send it to a list.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& job : *jobs) {
        const std::string name = job.file_name.empty() ? "(no file name)" : job.file_name;
        rows.push_back({link(service_path(access, "/jobs/" + job.id.to_string()), name),
                        html_escape(std::to_string(job.row_count)), html_escape(job_status_label(job.status)),
                        html_escape(human_time(job.created_at))});
      }
      main += table("Lists sent", {"File", "Rows", "Status", "Uploaded"}, rows);
    }
    return html(200, service_page(access, service_path(access, "/notifications"), "Lists sent", main));
  }

  net::Response job_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto job = find_job(access, params);
    if (!job) return internal_error();
    if (!*job) return not_found();
    auto t = deps_.services.find_template(access.service.id, (*job)->template_id, (*job)->template_version);
    if (!t) return internal_error();
    if (!*t) return not_found();
    if ((*job)->status == store::JobStatus::kPending) return check_page(access, **job, **t);
    auto progress = deps_.jobs.progress(access.service.id, **job);
    if (!progress) return internal_error();
    return html(200, progress_page(access, *progress, **t));
  }

  net::Response check_page(const ServiceAccess& access, const store::JobRecord& job, const store::TemplateRecord& t) {
    const std::string title = "Check " + (job.file_name.empty() ? std::string("the list") : job.file_name);
    std::string main = heading(title);
    auto latest = deps_.services.find_template(access.service.id, t.id, std::nullopt);
    if (!latest) return internal_error();
    std::vector<FieldError> errors;
    if (!*latest || (*latest)->archived || (*latest)->version != t.version) {
      errors.emplace_back("The template has changed since this file was uploaded: upload it again", "upload");
    }
    auto checked = deps_.jobs.check(access.service.id, t, job.contents, deps_.clock.now());
    if (!checked) return internal_error();
    for (const std::string& problem : checked->problems) errors.emplace_back(problem, "upload");
    main += "<dl class=\"nhsuk-summary-list\">" + summary_row("Template", t.name) +
            summary_row("Rows in the file", std::to_string(checked->rows)) +
            summary_row(t.type == store::Channel::kLetter ? "Letters to send" : "Messages to send",
                        std::to_string(checked->sendable)) +
            summary_row("Rows with errors", std::to_string(checked->row_errors_total)) + "</dl>";
    if (!checked->row_errors.empty()) {
      main += "<h2>Rows that will not be sent</h2>";
      if (checked->row_errors_total > static_cast<int>(checked->row_errors.size())) {
        main += paragraph("The first " + std::to_string(checked->row_errors.size()) + " of " +
                          std::to_string(checked->row_errors_total) + " are shown.");
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& e : checked->row_errors) rows.push_back({std::to_string(e.row), html_escape(e.message)});
      main += table("Rows that will not be sent", {"Row", "Error"}, rows);
    }
    const std::string upload_again =
        link(service_path(access, "/templates/" + t.id.to_string() + "/upload"), "Upload a different file");
    if (errors.empty() && checked->sendable > 0 && access.can(Permission::kSend)) {
      const std::string count = std::to_string(checked->sendable);
      const std::string noun = t.type == store::Channel::kLetter ? "letter" : "message";
      main += form(service_path(access, "/jobs/" + job.id.to_string() + "/start"),
                   domain::users::Users::csrf_token(access.token), "",
                   "Send " + count + " " + noun + (checked->sendable == 1 ? "" : "s"));
    } else if (errors.empty() && checked->sendable == 0) {
      main += paragraph("No row of this file can be sent.");
    }
    main += "<p id=\"upload\">" + upload_again + "</p>";
    Page page = service_page(access, service_path(access, "/templates"), title, main);
    page.errors = std::move(errors);
    return html(200, page);
  }

  Page progress_page(const ServiceAccess& access, const domain::JobProgress& p, const store::TemplateRecord& t) {
    const store::JobRecord& job = p.job;
    const std::string title = job.file_name.empty() ? std::string("A list") : job.file_name;
    const std::string base = service_path(access, "/jobs/" + job.id.to_string());
    std::string main = heading(title);
    main += "<dl class=\"nhsuk-summary-list\">" +
            summary_row("Template", t.name + " (version " + std::to_string(t.version) + ")") +
            summary_row("Uploaded", human_time(job.created_at)) +
            (job.started_at ? summary_row("Started", human_time(*job.started_at)) : "") +
            (job.finished_at ? summary_row("All rows handled", human_time(*job.finished_at)) : "") + "</dl>";
    // data-job-progress: ui/init.js polls it and updates the values by their ids.
    main += "<div data-job-progress=\"" + html_escape(base + "/progress") + "\">";
    main += "<p><label for=\"job-rows\">Rows handled: <span id=\"job-rows-text\">" + std::to_string(job.next_row) +
            " of " + std::to_string(job.row_count) + "</span></label></p>";
    main += "<progress id=\"job-rows\" class=\"nhsuk-u-width-full\" max=\"" +
            std::to_string(std::max(job.row_count, 1)) + "\" value=\"" + std::to_string(job.next_row) +
            "\"></progress>";
    main += "<dl class=\"nhsuk-summary-list\" aria-live=\"polite\">" +
            summary_row("Status", job_status_label(job.status), "job-status") +
            summary_row("Messages sent", std::to_string(p.sent), "job-sent") +
            summary_row("Being delivered", std::to_string(p.sending), "job-sending") +
            summary_row("Delivered", std::to_string(p.delivered), "job-delivered") +
            summary_row("Failed", std::to_string(p.failed), "job-failed") + "</dl></div>";
    if (job.status == store::JobStatus::kInProgress && access.can(Permission::kSend)) {
      main += form(base + "/cancel", domain::users::Users::csrf_token(access.token),
                   paragraph("Rows not yet handled will not be sent; messages already sent are not recalled."),
                   "Cancel sending the rest");
    }
    main += link(service_path(access, "/jobs"), "All lists sent");
    return service_page(access, service_path(access, "/notifications"), title, main);
  }

  net::Response start(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kSend, access, post)) return *refused;
    auto id = Uuid::parse(params.at("job"));
    if (!id) return not_found();
    auto started = deps_.jobs.start(access.service.id, *id, deps_.clock.now());
    if (!started && started.error().code != ErrorCode::kFailedPrecondition) return internal_error();
    // Started by this click: audited. Already started (a second click), or the template has
    // changed (the job's page says so): back to the job's page.
    if (started && *started) audit(request, access, "job.started", {{"job_id", id->to_string()}});
    return redirect(service_path(access, "/jobs/" + id->to_string()));
  }

  net::Response cancel(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kSend, access, post)) return *refused;
    auto id = Uuid::parse(params.at("job"));
    if (!id) return not_found();
    auto cancelled = deps_.jobs.cancel(access.service.id, *id, deps_.clock.now());
    if (!cancelled) return internal_error();
    // Cancelled by this click: audited. Finished already, or another's: the job's page says so.
    if (*cancelled) audit(request, access, "job.cancelled", {{"job_id", id->to_string()}});
    return redirect(service_path(access, "/jobs/" + id->to_string()));
  }

  // The job's counts as JSON, for the progress bar.
  net::Response progress(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto id = Uuid::parse(params.at("job"));
    if (!id) return not_found();
    auto job = deps_.jobs.find(access.service.id, *id);
    if (!job) return internal_error();
    if (!*job) return not_found();
    auto p = deps_.jobs.progress(access.service.id, **job);
    if (!p) return internal_error();
    json::Writer w;
    w.begin_object();
    w.key("status").string(store::job_status_name(p->job.status));
    w.key("status_label").string(job_status_label(p->job.status));
    w.key("rows").integer(p->job.row_count);
    w.key("rows_done").integer(p->job.next_row);
    w.key("sent").integer(p->sent);
    w.key("sending").integer(p->sending);
    w.key("delivered").integer(p->delivered);
    w.key("failed").integer(p->failed);
    w.end_object();
    net::Response response{200, "application/json", w.take(), {}};
    secure(response);
    return response;
  }
};

}  // namespace

void register_job_pages(Router& router, const Dependencies& deps) {
  JobPages::install(router, std::make_shared<JobPages>(deps));
}

}  // namespace herald::api::admin
