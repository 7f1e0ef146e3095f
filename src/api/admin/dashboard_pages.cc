// A service's overview in the admin UI, its dashboard: sent, delivered and failed per channel
// over the last week as server-drawn SVG bar charts (each with its figures in a table, for
// screen readers and for reading off exact numbers), how each provider did (slowest first), and
// a day's report as a CSV download. Figures come from the store's aggregates: drawing them
// opens no personal data. Any member may see them; the report holds recipients, so each
// download is audited (the day and the count, never its contents).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "domain/reports.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

constexpr int kDays = 7;
// NHS.UK colours: green for delivered, red for failed, grey for not yet.
constexpr const char* kDelivered = "#007f3b";
constexpr const char* kFailed = "#d5281b";
constexpr const char* kInProgress = "#768692";

const char* channel_plural(store::Channel channel) {
  switch (channel) {
    case store::Channel::kEmail: return "Emails";
    case store::Channel::kSms: return "Text messages";
    case store::Channel::kLetter: return "Letters";
    default: return "Messages";
  }
}

std::string short_day(std::int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return std::to_string(static_cast<unsigned>(ymd.day())) + " " + kMonths[static_cast<unsigned>(ymd.month()) - 1];
}

// One channel's week as stacked bars: delivered at the bottom, then failed, then not yet.
std::string bar_chart(const domain::ChannelFigures& figures) {
  constexpr int kWidth = 640, kHeight = 220, kTop = 20, kBottom = 30, kLeft = 40, kBar = 50;
  const int plot = kHeight - kTop - kBottom;
  std::int64_t most = 1;
  for (const auto& d : figures.days) most = std::max(most, d.total());
  const std::string id = std::string("chart-") + store::channel_name(figures.type);
  std::string svg =
      "<svg class=\"herald-chart\" role=\"img\" aria-labelledby=\"" + id + "-title\" viewBox=\"0 0 " +
      std::to_string(kWidth) + " " + std::to_string(kHeight) + "\" width=\"100%\" height=\"" + std::to_string(kHeight) +
      "\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"" + id + "-title\">" +
      html_escape(std::string(channel_plural(figures.type)) + " per day: " + std::to_string(figures.totals.delivered) +
                  " delivered, " + std::to_string(figures.totals.failed) + " failed, " +
                  std::to_string(figures.totals.in_progress) + " not yet") +
      "</title>";
  svg += "<text x=\"0\" y=\"" + std::to_string(kTop + 4) + "\" font-size=\"12\" fill=\"#4c6272\">" +
         std::to_string(most) + "</text><line x1=\"" + std::to_string(kLeft) + "\" y1=\"" +
         std::to_string(kTop + plot) + "\" x2=\"" + std::to_string(kWidth) + "\" y2=\"" + std::to_string(kTop + plot) +
         "\" stroke=\"#4c6272\"/>";
  const int step = (kWidth - kLeft) / static_cast<int>(std::max<std::size_t>(figures.days.size(), 1));
  for (std::size_t i = 0; i < figures.days.size(); ++i) {
    const auto& d = figures.days[i];
    const int x = kLeft + static_cast<int>(i) * step + (step - kBar) / 2;
    int y = kTop + plot;
    for (const auto& [value, colour] :
         {std::pair{d.delivered, kDelivered}, std::pair{d.failed, kFailed}, std::pair{d.in_progress, kInProgress}}) {
      if (value == 0) continue;
      const int h =
          std::max(1, static_cast<int>(std::lround(static_cast<double>(value) * plot / static_cast<double>(most))));
      y -= h;
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(kBar) +
             "\" height=\"" + std::to_string(h) + "\" fill=\"" + colour + "\"/>";
    }
    svg += "<text x=\"" + std::to_string(x + kBar / 2) + "\" y=\"" + std::to_string(kHeight - 10) +
           "\" font-size=\"12\" text-anchor=\"middle\" fill=\"#212b32\">" + short_day(d.day) + "</text>";
  }
  return svg + "</svg>";
}

std::string legend() {
  std::string html = "<p class=\"nhsuk-body-s\">";
  for (const auto& [colour, label] : {std::pair{kDelivered, "delivered"}, std::pair{kFailed, "failed"},
                                      std::pair{kInProgress, "not yet delivered"}}) {
    html +=
        "<svg width=\"12\" height=\"12\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"12\" "
        "height=\"12\" fill=\"" +
        std::string(colour) + "\"/></svg> " + label + " &nbsp; ";
  }
  return html + "</p>";
}

std::string seconds_text(double seconds) {
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1f seconds", seconds);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f minutes", seconds / 60);
  }
  return buffer;
}

class DashboardPages : public PageHandlers {
 public:
  explicit DashboardPages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<DashboardPages>& self) {
    add(router, self, "GET", "/services/{id}", &DashboardPages::overview);
    add(router, self, "GET", "/services/{id}/report", &DashboardPages::day_report);
  }

 private:
  net::Response overview(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    const Timestamp now = deps_.clock.now();
    auto figures = domain::dashboard(deps_.notifications, access.service.id, now, kDays);
    if (!figures) return internal_error();
    std::string main = heading("Overview") + "<dl class=\"nhsuk-summary-list\">" +
                       summary_row("Status", access.service.restricted ? "Trial mode" : "Live") +
                       summary_row("Keeps personal data for", std::to_string(access.service.retention_days) + " days") +
                       "</dl>";
    // Unsubscribe requests the service has still to act on (GOV.UK shows them here too).
    auto unsubscribes = deps_.unsubscribes.reports(access.service.id);
    if (!unsubscribes) return internal_error();
    std::int64_t waiting = 0;
    for (const auto& r : *unsubscribes) {
      if (!r.processed_at) waiting += r.count;
    }
    if (waiting > 0) {
      main += "<p>" +
              link(service_path(access, "/unsubscribe-requests"),
                   std::to_string(waiting) +
                       (waiting == 1 ? " email unsubscribe request" : " email unsubscribe requests")) +
              "</p>";
    }
    std::string permissions;
    for (auto p : access.permissions) permissions += "<li>" + html_escape(domain::users::permission_name(p)) + "</li>";
    const std::string your_permissions =
        "<h2>Your permissions</h2><ul class=\"nhsuk-list nhsuk-list--bullet\">" + permissions + "</ul>";
    main += "<h2>Messages in the last " + std::to_string(kDays) + " days</h2>" + legend();
    for (const domain::ChannelFigures& channel : figures->channels) {
      const std::string name = channel_plural(channel.type);
      main += "<h3>" + html_escape(name) + "</h3>";
      if (channel.totals.total() == 0) {
        main += paragraph("None in the last " + std::to_string(kDays) + " days.");
        continue;
      }
      main += bar_chart(channel);
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : channel.days) {
        rows.push_back({html_escape(short_day(d.day)), std::to_string(d.delivered), std::to_string(d.failed),
                        std::to_string(d.in_progress)});
      }
      rows.push_back({"<strong>All " + std::to_string(kDays) + " days</strong>",
                      std::to_string(channel.totals.delivered), std::to_string(channel.totals.failed),
                      std::to_string(channel.totals.in_progress)});
      main +=
          "<details class=\"nhsuk-details\"><summary class=\"nhsuk-details__summary\"><span "
          "class=\"nhsuk-details__summary-text\">" +
          html_escape(name) + " per day as a table</span></summary><div class=\"nhsuk-details__text\">" +
          table(name + " per day", {"Day", "Delivered", "Failed", "Not yet"}, rows) + "</div></details>";
    }
    main += providers(figures->providers);
    main += report_form(access, domain::day_of(now)) + your_permissions;
    return html(200, service_page(access, service_path(access), access.service.name, main));
  }

  static std::string providers(std::vector<store::ProviderStats> stats) {
    std::string html = "<h2>Providers</h2>";
    if (stats.empty()) return html + paragraph("No provider has taken a message in these days.");
    // Slowest first; a provider that delivered nothing (all failing) before them all.
    std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) {
      const bool a_none = a.delivered == 0, b_none = b.delivered == 0;
      if (a_none != b_none) return a_none;
      return a.mean_seconds_to_delivered > b.mean_seconds_to_delivered;
    });
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : stats) {
      const double rate = p.sent == 0 ? 0 : 100.0 * static_cast<double>(p.failed) / static_cast<double>(p.sent);
      char percent[16];
      std::snprintf(percent, sizeof percent, "%.1f%%", rate);
      rows.push_back({html_escape(p.provider), std::to_string(p.sent), std::to_string(p.delivered),
                      std::to_string(p.failed) + " (" + percent + ")",
                      p.delivered == 0 ? "–" : html_escape(seconds_text(p.mean_seconds_to_delivered))});
    }
    return html + paragraph("Slowest first: the mean time from accepting a message to its delivery.") +
           table("Providers", {"Provider", "Messages", "Delivered", "Failed", "Mean time to delivery"}, rows);
  }

  std::string report_form(const ServiceAccess& access, std::int64_t today) {
    return "<h2>Download a day's messages</h2><form action=\"" + html_escape(service_path(access, "/report")) +
           "\" method=\"get\" novalidate>" +
           input({"day", "Day (UTC)", "date", domain::day_text(today), "off",
                  "A CSV file of every message of that day, with its recipient and status"}) +
           "<button class=\"nhsuk-button nhsuk-button--secondary\" data-module=\"nhsuk-button\" "
           "type=\"submit\">Download</button></form>";
  }

  net::Response day_report(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    const std::string day_field = field(parse_form(request.query), "day");
    const auto day = domain::parse_day(day_field);
    if (!day) {
      Page page =
          service_page(access, service_path(access), "Download a day's messages",
                       heading("Download a day's messages") + report_form(access, domain::day_of(deps_.clock.now())));
      page.errors = {{"Enter a day like 2026-12-03", "day"}};
      return html(400, page);
    }
    std::size_t count = 0;
    auto csv = domain::day_report_csv(deps_.notifications, access.service.id, *day, count);
    if (!csv) return internal_error();
    audit(request, access, "notifications.report_downloaded",
          {{"day", domain::day_text(*day)}, {"notifications", std::to_string(count)}});
    net::Response response{200, "text/csv; charset=utf-8", std::move(*csv), {}};
    response.headers.emplace_back("Content-Disposition",
                                  "attachment; filename=\"" + domain::day_text(*day) + "-messages.csv\"");
    secure(response);
    return response;
  }
};

}  // namespace

void register_dashboard_pages(Router& router, const Dependencies& deps) {
  DashboardPages::install(router, std::make_shared<DashboardPages>(deps));
}

}  // namespace herald::api::admin
