// The audit log in the admin UI: every entry for platform admins (/audit), a service's own
// entries for its members who may change its settings (/services/{id}/audit). Filters by
// action, actor and failures only (security events), over a number of recent days; newest
// first, at most kShown entries. Entries hold ids, never personal data (crypto/audit_chain.h),
// so showing them shows none. Reading the log is itself audited.

#include <algorithm>
#include <deque>
#include <memory>

#include "api/admin/base.h"
#include "api/html.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

constexpr std::size_t kShown = 200;

struct AuditFilter {
  std::string action;  // entries whose action starts with this
  std::string actor;   // entries whose actor contains this
  bool failures_only = false;
  int days = 7;
  std::optional<std::string> service_id;  // entries naming this service

  static AuditFilter from_query(std::string_view query) {
    const FormFields fields = parse_form(query);
    AuditFilter filter;
    filter.action = field(fields, "action");
    filter.actor = field(fields, "actor");
    filter.failures_only = field(fields, "failures") == "yes";
    const std::string days = field(fields, "days");
    if (!days.empty() && days.size() <= 3 &&
        std::all_of(days.begin(), days.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      filter.days = std::clamp(std::stoi(days), 1, 400);
    }
    return filter;
  }

  bool matches(const crypto::AuditEntry& e) const {
    if (!action.empty() && !e.action.starts_with(action)) return false;
    if (!actor.empty() && e.actor.find(actor) == std::string::npos) return false;
    if (failures_only && e.outcome == "success") return false;
    if (service_id) {
      const bool names = std::any_of(e.objects.begin(), e.objects.end(), [this](const auto& object) {
        return object.first == "service_id" && object.second == *service_id;
      });
      if (!names) return false;
    }
    return true;
  }
};

class AuditPages : public PageHandlers {
 public:
  explicit AuditPages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<AuditPages>& self) {
    add(router, self, "GET", "/audit", &AuditPages::platform_audit);
    add(router, self, "GET", "/services/{id}/audit", &AuditPages::service_audit);
  }

 private:
  net::Response platform_audit(const net::Request& request, const PathParams&) {
    std::string token;
    auto who = signed_in(request, token);
    if (!who) return redirect("/sign-in");
    if (!who->user.platform_admin) return not_found();
    const AuditFilter filter = AuditFilter::from_query(request.query);
    auto main = audit_html("/audit", filter);
    if (!main) return internal_error();
    record(actor_of(who->user.id), "audit.viewed", {}, "success", request);
    return html(200, signed_in_page(*who, token, "Audit log", heading("Audit log") + *main));
  }

  net::Response service_audit(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageSettings, access)) return *refused;
    AuditFilter filter = AuditFilter::from_query(request.query);
    filter.service_id = access.service.id.to_string();
    const std::string path = "/services/" + access.service.id.to_string() + "/audit";
    auto main = audit_html(path, filter);
    if (!main) return internal_error();
    record(actor_of(access.who.user.id), "audit.viewed", {{"service_id", access.service.id.to_string()}}, "success",
           request);
    return html(200, signed_in_page(access.who, access.token, "Audit log",
                                    "<span class=\"nhsuk-caption-l\">" + html_escape(access.service.name) + "</span>" +
                                        heading("Audit log") + *main));
  }

  // The filter form and the newest matching entries of the last `days` days.
  std::optional<std::string> audit_html(const std::string& path, const AuditFilter& filter) {
    std::deque<crypto::AuditEntry> newest;
    std::int64_t matched = 0;
    const Timestamp since = deps_.clock.now() - std::chrono::hours(24) * filter.days;
    auto read = deps_.audit.read_audit(0, since, [&](const crypto::AuditEntry& e) -> Result<void> {
      if (!filter.matches(e)) return ok();
      ++matched;
      newest.push_back(e);
      if (newest.size() > kShown) newest.pop_front();
      return ok();
    });
    if (!read) return std::nullopt;

    std::string main =
        "<form action=\"" + html_escape(path) + "\" method=\"get\" novalidate>" +
        input({"action", "Action starts with", "text", filter.action, "off", "For example admin.sign_in or api_key"}) +
        input({"actor", "Actor contains", "text", filter.actor, "off", "For example admin-user:, cli: or an id"}) +
        input({"days", "Days", "text", std::to_string(filter.days), "off", "", "", "numeric", "nhsuk-input--width-3"}) +
        checkboxes("failures", "Show", {{"yes", "Only refusals and failures (security events)"}},
                   filter.failures_only ? std::vector<std::string>{"yes"} : std::vector<std::string>{}) +
        "<button class=\"nhsuk-button nhsuk-button--secondary\" data-module=\"nhsuk-button\" "
        "type=\"submit\">Filter</button></form>";
    main += "<p id=\"audit-count\">" + std::to_string(matched) + " entries" +
            (static_cast<std::size_t>(matched) > kShown ? ", the newest " + std::to_string(kShown) + " shown" : "") +
            "</p>";
    std::vector<std::vector<std::string>> rows;
    for (auto it = newest.rbegin(); it != newest.rend(); ++it) {
      std::string objects;
      for (const auto& [key, value] : it->objects) {
        objects += (objects.empty() ? "" : "<br>") + html_escape(key) + ": " + html_escape(value);
      }
      const bool failed = it->outcome != "success";
      rows.push_back({std::to_string(it->seq), html_escape(human_time(it->at)), html_escape(it->actor),
                      html_escape(it->action), objects,
                      failed ? "<strong>" + html_escape(it->outcome) + "</strong>" : html_escape(it->outcome),
                      html_escape(it->source)});
    }
    if (!rows.empty()) {
      main += table("Audit entries", {"Seq", "When", "Actor", "Action", "Objects", "Outcome", "From"}, rows);
    }
    return main;
  }
};

}  // namespace

void register_audit_pages(Router& router, const Dependencies& deps) {
  AuditPages::install(router, std::make_shared<AuditPages>(deps));
}

}  // namespace herald::api::admin
