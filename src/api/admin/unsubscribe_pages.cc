// A service's email unsubscribe requests in the admin UI (domain/unsubscribe.h), as GOV.UK
// Notify shows them: the requests not yet downloaded and each report made by a download, with
// its status (not downloaded, downloaded, completed); a report's page to download it as CSV and
// to mark it completed once the addresses are off the service's mailing list. Any member of the
// service sees them (GOV.UK: those who see its activity); a download holds addresses, so it is
// audited (the report and its count, never its contents). Downloading the pending requests makes
// them a report, so it is a form post with the CSRF token, not a link.

#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "domain/unsubscribe.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

// The requests not yet in a report, in URLs.
constexpr std::string_view kPending = "pending";

std::string report_key(const store::UnsubscribeReport& r) {
  return r.id == Uuid{} ? std::string(kPending) : r.id.to_string();
}

std::string report_status(const store::UnsubscribeReport& r) {
  if (r.id == Uuid{}) return "Not downloaded";
  return r.processed_at ? "Completed" : "Downloaded";
}

std::string report_period(const store::UnsubscribeReport& r) {
  return human_time(r.earliest) + " to " + human_time(r.latest);
}

class UnsubscribePages : public PageHandlers {
 public:
  explicit UnsubscribePages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<UnsubscribePages>& self) {
    add(router, self, "GET", "/services/{id}/unsubscribe-requests", &UnsubscribePages::summary);
    add(router, self, "GET", "/services/{id}/unsubscribe-requests/{report}", &UnsubscribePages::report_page);
    add(router, self, "POST", "/services/{id}/unsubscribe-requests/{report}", &UnsubscribePages::mark);
    add(router, self, "POST", "/services/{id}/unsubscribe-requests/{report}/download", &UnsubscribePages::download);
  }

 private:
  std::string path(const ServiceAccess& access, std::string_view rest = {}) const {
    return service_path(access, "/unsubscribe-requests" + std::string(rest));
  }

  // The report named in the route (kPending: the requests not yet downloaded), or nullopt.
  Result<std::optional<store::UnsubscribeReport>> find(const ServiceAccess& access, const PathParams& params) {
    auto reports = deps_.unsubscribes.reports(access.service.id);
    if (!reports) return reports.error();
    for (const auto& r : *reports) {
      if (report_key(r) == params.at("report")) return std::optional(r);
    }
    return std::optional<store::UnsubscribeReport>();
  }

  net::Response summary(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto reports = deps_.unsubscribes.reports(access.service.id);
    if (!reports) return internal_error();
    std::string main = heading("Email unsubscribe requests");
    if (reports->empty()) {
      main += paragraph("Nobody has asked to unsubscribe from this service's emails.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : *reports) {
        rows.push_back({link(path(access, "/" + report_key(r)), report_period(r)), std::to_string(r.count),
                        html_escape(report_status(r))});
      }
      main += table("Unsubscribe requests", {"Requests received", "How many", "Status"}, rows);
    }
    main += paragraph(
                "Once downloaded, reports are available for 7 days. Requests which have not been downloaded "
                "will be deleted after 90 days.") +
            paragraph(
                "Emails get an unsubscribe link when their template asks for one (a template's \u2018Add an "
                "unsubscribe link\u2019).");
    return html(200, service_page(access, service_path(access), "Email unsubscribe requests", main));
  }

  Page report(const ServiceAccess& access, const store::UnsubscribeReport& r) {
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main = heading(report_period(r)) + "<dl class=\"nhsuk-summary-list\">" +
                       summary_row("Requests", std::to_string(r.count)) + summary_row("Status", report_status(r)) +
                       "</dl>" +
                       "<p>You must:</p><ul><li>Download the report</li><li>Remove the email addresses from your "
                       "mailing list before you send any further emails</li></ul>" +
                       form(path(access, "/" + report_key(r) + "/download"), csrf, "", "Download the report");
    if (r.id != Uuid{}) {
      main += form(path(access, "/" + r.id.to_string()), csrf,
                   checkboxes("done", "Mark as completed",
                              {{"yes", "I have unsubscribed these recipients from our mailing list"}},
                              r.processed_at ? std::vector<std::string>{"yes"} : std::vector<std::string>{}),
                   "Update");
    }
    main += "<p>" + link(path(access), "All unsubscribe requests") + "</p>";
    return service_page(access, service_path(access), "Email unsubscribe requests", main);
  }

  net::Response report_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto found = find(access, params);
    if (!found) return internal_error();
    if (!*found) return not_found();
    return html(200, report(access, **found));
  }

  net::Response mark(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kView, access, post)) return *refused;
    auto id = Uuid::parse(params.at("report"));
    if (!id) return not_found();
    const bool done = field(post.fields, "done") == "yes";
    auto marked = deps_.unsubscribes.mark_done(access.service.id, *id, done, deps_.clock.now());
    if (!marked) return internal_error();
    if (!*marked) return not_found();
    audit(request, access, done ? "unsubscribe.report_completed" : "unsubscribe.report_reopened",
          {{"report_id", id->to_string()}});
    return redirect(path(access, "/" + id->to_string()));
  }

  net::Response download(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kView, access, post)) return *refused;
    Uuid id;
    if (params.at("report") != kPending) {
      auto parsed = Uuid::parse(params.at("report"));
      if (!parsed) return not_found();
      id = *parsed;
    }
    store::UnsubscribeReport made;
    auto csv = deps_.unsubscribes.download(access.service.id, id, deps_.clock.now(), made);
    if (!csv && csv.error().code == ErrorCode::kNotFound) return not_found();
    if (!csv) return internal_error();
    audit(request, access, "unsubscribe.report_downloaded",
          {{"report_id", made.id.to_string()}, {"requests", std::to_string(made.count)}});
    net::Response response{200, "text/csv; charset=utf-8", std::move(*csv), {}};
    response.headers.emplace_back("Content-Disposition",
                                  "attachment; filename=\"" + domain::unsubscribe_report_file_name(made) + "\"");
    secure(response);
    return response;
  }
};

}  // namespace

void register_unsubscribe_pages(Router& router, const Dependencies& deps) {
  UnsubscribePages::install(router, std::make_shared<UnsubscribePages>(deps));
}

}  // namespace herald::api::admin
