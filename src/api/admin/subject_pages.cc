// Data-subject requests in the admin UI (domain/subjects.h): find what the service holds about one
// person (by email address, mobile number or NHS number), download it all as JSON, or erase it.
// For those who manage the service's settings, with the second factor given recently (as for
// changing retention: each decides what happens to personal data). The person's identifier
// travels only in form bodies (POST), never in a URL, and every request is audited with what
// was found or erased, counted, never who it was about.

#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "domain/subjects.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

constexpr std::string_view kWho = "who";
constexpr std::string_view kWhoLabel = "Email address, mobile number or NHS number";

class SubjectPages : public PageHandlers {
 public:
  explicit SubjectPages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<SubjectPages>& self) {
    add(router, self, "GET", "/services/{id}/data-requests", &SubjectPages::start_page);
    add(router, self, "POST", "/services/{id}/data-requests", &SubjectPages::find);
    add(router, self, "POST", "/services/{id}/data-requests/export", &SubjectPages::download);
    add(router, self, "POST", "/services/{id}/data-requests/erase", &SubjectPages::erase);
  }

 private:
  std::string path(const ServiceAccess& access, std::string_view rest = {}) const {
    return service_path(access, "/data-requests" + std::string(rest));
  }

  Page search_page(const ServiceAccess& access, const std::string& who, const std::string& error) {
    const std::string main =
        paragraph(
            "Find everything this service holds about one person, across GOV.UK Notify's API, NHS Notify's "
            "API and lists sent from here: to download it for them (the right of access) or to erase it (the "
            "right to erasure). The audit log records each request and what it found, never who it was about.") +
        form(path(access), domain::users::Users::csrf_token(access.token),
             input({std::string(kWho), std::string(kWhoLabel), "text", who, "off",
                    "An NHS number is 10 digits. Letters sent to a postal address are not found this way.", error}),
             "Find");
    Page page =
        service_page(access, service_path(access, "/settings"), "Data requests", heading("Data requests") + main);
    if (!error.empty()) page.errors = {{error, std::string(kWho)}};
    return page;
  }

  // The checks every request goes through (manage settings, a recent second factor), then the
  // person named in the form: nullopt to go on, with `access`, `post` and `subject`; else the
  // refusal, or the search page again with why not.
  std::optional<net::Response> open(const net::Request& request, const PathParams& params, ServiceAccess& access,
                                    Post& post, domain::Subject& subject) {
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return refused;
    if (!deps_.users.recently_verified(access.who)) return reauthentication_needed(path(access));
    const std::string who = field(post.fields, kWho);
    auto parsed = domain::parse_subject(who);
    if (!parsed) return html(400, search_page(access, who, "Enter an email address, a mobile number or an NHS number"));
    subject = std::move(*parsed);
    return std::nullopt;
  }

  net::Response start_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageSettings, access)) return *refused;
    if (!deps_.users.recently_verified(access.who)) return reauthentication_needed(path(access));
    return html(200, search_page(access, "", ""));
  }

  net::Response find(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    domain::Subject subject;
    if (auto refused = open(request, params, access, post, subject)) return *refused;
    auto found = deps_.subjects.find(access.service.id, subject);
    if (!found) return internal_error();
    audit(request, access, "subject.searched", domain::audit_objects(subject, *found));
    return html(200, results_page(access, subject, *found, ""));
  }

  Page results_page(const ServiceAccess& access, const domain::Subject& subject, const domain::SubjectRecords& found,
                    const std::string& error) {
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    const std::string who = hidden(kWho, subject.value);
    std::string main = heading("Data held about " + subject.value);
    std::vector<std::vector<std::string>> counts{
        {"Messages (emails, text messages, letters)", std::to_string(found.notifications.size())},
        {"NHS Notify messages", std::to_string(found.nhs_messages.size())},
        {"Text messages received from them", std::to_string(found.received_texts.size())},
        {"Guest list entries", std::to_string(found.guest_list.size())},
        {"Rows of lists uploaded here", std::to_string(found.list_rows.size())},
        {"Files sent to them by email", std::to_string(found.files.size())},
        {"Requests to unsubscribe", std::to_string(found.unsubscribe_requests.size())}};
    main += table("What is held", {"What", "How many"}, counts);
    if (found.total() == 0) {
      main += paragraph("Nothing about this person is held by this service.") + "<p>" +
              link(path(access), "Search again") + "</p>";
    } else {
      main += "<h2>Download it</h2>" +
              paragraph(
                  "One JSON file with every record above, each personal field readable: give it to the person "
                  "and delete your copy.") +
              form(path(access, "/export"), csrf, who, "Download (JSON)");
      main += "<h2>Erase it</h2>" +
              paragraph(
                  "Recipients, content, references and personalisation are erased; received texts, guest "
                  "list entries, letters and files are deleted; their rows in uploaded lists are blanked. "
                  "Messages not yet delivered are not sent. Counts and statuses stay, without the person.") +
              form(path(access, "/erase"), csrf,
                   who + checkboxes("confirm", "Erasing cannot be undone",
                                    {{"yes", "I understand that this person's data cannot be recovered"}}, {}, error),
                   "Erase");
    }
    Page page = service_page(access, service_path(access, "/settings"), "Data requests", main);
    if (!error.empty()) page.errors = {{error, "confirm"}};
    return page;
  }

  net::Response download(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    domain::Subject subject;
    if (auto refused = open(request, params, access, post, subject)) return *refused;
    const Timestamp now = deps_.clock.now();
    auto found = deps_.subjects.find(access.service.id, subject);
    if (!found) return internal_error();
    // On record before it leaves: what was exported, counted.
    audit(request, access, "subject.exported", domain::audit_objects(subject, *found));
    net::Response response{
        200, "application/json", domain::Subjects::export_json(access.service, subject, *found, now), {}};
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"data-request-" +
                                                             format_timestamp(now).substr(0, 10) + ".json\"");
    secure(response);
    return response;
  }

  net::Response erase(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    domain::Subject subject;
    if (auto refused = open(request, params, access, post, subject)) return *refused;
    if (field(post.fields, "confirm") != "yes") {
      auto found = deps_.subjects.find(access.service.id, subject);
      if (!found) return internal_error();
      return html(400, results_page(access, subject, *found, "Confirm that you understand erasing cannot be undone"));
    }
    auto erased = deps_.subjects.erase(access.service.id, subject, deps_.clock.now());
    if (!erased) return internal_error();
    audit(request, access, "subject.erased", domain::audit_objects(subject, *erased));
    std::vector<std::vector<std::string>> counts{
        {"Messages", std::to_string(erased->notifications)},
        {"Of them not yet delivered, now not sent", std::to_string(erased->failed_pending)},
        {"NHS Notify messages", std::to_string(erased->nhs_messages)},
        {"Received texts", std::to_string(erased->inbound_sms)},
        {"Guest list entries", std::to_string(erased->guest_list_entries)},
        {"Uploaded lists with rows blanked", std::to_string(erased->jobs)},
        {"Files", std::to_string(erased->documents)},
        {"Unsubscribe requests", std::to_string(erased->unsubscribe_requests)}};
    const std::string main = heading("Erased") + paragraph("The person's data held by this service has been erased.") +
                             table("What was erased", {"What", "How many"}, counts) + "<p>" +
                             link(path(access), "Another data request") + "</p>";
    return html(200, service_page(access, service_path(access, "/settings"), "Erased", main));
  }
};

}  // namespace

void register_subject_pages(Router& router, const Dependencies& deps) {
  SubjectPages::install(router, std::make_shared<SubjectPages>(deps));
}

}  // namespace herald::api::admin
