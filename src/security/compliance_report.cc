#include "security/compliance_report.h"

#include <algorithm>
#include <map>

#include "core/html.h"
#include "core/json.h"

namespace herald::security {
namespace {

Status worst(Status a, Status b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

const char* status_class(Status s) {
  return s == Status::kMet ? "met" : s == Status::kPartlyMet ? "partly" : "not-met";
}

struct Counts {
  int met = 0, partly = 0, not_met = 0;
};

Counts count(const ComplianceReport& report, std::string_view framework) {
  Counts c;
  for (const auto& i : report.items) {
    if (i.item->framework != framework) continue;
    (i.status == Status::kMet ? c.met : i.status == Status::kPartlyMet ? c.partly : c.not_met) += 1;
  }
  return c;
}

}  // namespace

const char* status_name(Status status) {
  switch (status) {
    case Status::kMet: return "met";
    case Status::kPartlyMet: return "partly met";
    case Status::kNotMet: return "not met";
  }
  return "not met";
}

void compute_items(ComplianceReport& report) {
  std::vector<Evidence> ordered;
  for (std::string_view id : evidence_ids()) {
    auto it =
        std::find_if(report.evidence.begin(), report.evidence.end(), [&](const Evidence& e) { return e.id == id; });
    ordered.push_back(it != report.evidence.end()
                          ? *it
                          : Evidence{std::string(id), Status::kNotMet, "not gathered", "herald compliance report"});
  }
  report.evidence = std::move(ordered);
  std::map<std::string_view, Status> by_id;
  for (const auto& e : report.evidence) by_id[e.id] = e.status;
  report.items.clear();
  for (const auto& item : framework_items()) {
    Status status = Status::kMet;
    for (std::string_view id : item.evidence) status = worst(status, by_id.count(id) ? by_id[id] : Status::kNotMet);
    report.items.push_back({&item, status});
  }
}

bool any_not_met(const ComplianceReport& report) {
  return std::any_of(report.items.begin(), report.items.end(),
                     [](const ReportItem& i) { return i.status == Status::kNotMet; });
}

std::string report_json(const ComplianceReport& report) {
  json::Writer w;
  w.begin_object().key("generated_at").string(report.generated_at).key("node").string(report.node);
  w.key("herald").begin_object().key("version").string(report.herald_version);
  w.key("commit").string(report.herald_commit).key("binary_sha256").string(report.binary_sha256).end_object();
  w.key("evidence").begin_array();
  for (const auto& e : report.evidence) {
    w.begin_object().key("id").string(e.id).key("status").string(status_name(e.status));
    w.key("found").string(e.found).key("reproduce").string(e.reproduce).end_object();
  }
  w.end_array().key("frameworks").begin_array();
  for (std::string_view framework : frameworks()) {
    const Counts c = count(report, framework);
    w.begin_object().key("name").string(framework).key("met").integer(c.met).key("partly_met").integer(c.partly);
    w.key("not_met").integer(c.not_met).key("items").begin_array();
    for (const auto& i : report.items) {
      if (i.item->framework != framework) continue;
      w.begin_object().key("id").string(i.item->id).key("title").string(i.item->title);
      w.key("status").string(status_name(i.status)).key("evidence").begin_array();
      for (std::string_view id : i.item->evidence) w.string(id);
      w.end_array().key("herald_part").string(i.item->herald_part);
      w.key("operator_part").string(i.item->operator_part).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("not_met").boolean(any_not_met(report)).end_object();
  return w.take() + "\n";
}

std::string report_html(const ComplianceReport& report) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Herald compliance report</title>\n";
  h += "<style>body{font-family:Arial,sans-serif;margin:2em;color:#212b32}table{border-collapse:collapse;width:100%;"
       "margin-bottom:2em}th,td{border:1px solid #d8dde0;padding:.4em;text-align:left;vertical-align:top}"
       "th{background:#f0f4f5}.met{background:#e6f4ea}.partly{background:#fff4d6}.not-met{background:#fde2e1}"
       "code{font-size:90%}</style></head><body>\n";
  h += "<h1>Herald compliance report</h1>\n<p>Generated " + html_escape(report.generated_at) + " on " +
       html_escape(report.node) + " by Herald " + html_escape(report.herald_version) + " (commit <code>" +
       html_escape(report.herald_commit) + "</code>, binary sha256 <code>" + html_escape(report.binary_sha256) +
       "</code>).</p>\n";
  h += "<p>Each item's status is what Herald's live evidence shows. The last column is what the organisation must "
       "show for itself; no check of the software can.</p>\n";
  h += std::string("<p><strong>") + (any_not_met(report) ? "Some items are not met." : "No item is not met.") +
       "</strong> The JSON form of this report is signed (DSSE, Ed25519).</p>\n";
  h += "<h2>Evidence</h2>\n<table><tr><th>Evidence</th><th>Status</th><th>Found</th><th>Reproduce</th></tr>\n";
  for (const auto& e : report.evidence) {
    h += "<tr class=\"" + std::string(status_class(e.status)) + "\"><td><code>" + html_escape(e.id) +
         "</code></td><td>" + status_name(e.status) + "</td><td>" + html_escape(e.found) + "</td><td><code>" +
         html_escape(e.reproduce) + "</code></td></tr>\n";
  }
  h += "</table>\n";
  for (std::string_view framework : frameworks()) {
    const Counts c = count(report, framework);
    h += "<h2>" + html_escape(framework) + "</h2>\n<p>" + std::to_string(c.met) + " met, " + std::to_string(c.partly) +
         " partly met, " + std::to_string(c.not_met) + " not met.</p>\n";
    h += "<table><tr><th>Item</th><th>Status</th><th>Evidence</th><th>What Herald does</th>"
         "<th>What remains for the organisation</th></tr>\n";
    for (const auto& i : report.items) {
      if (i.item->framework != framework) continue;
      std::string evidence;
      for (std::string_view id : i.item->evidence) evidence += (evidence.empty() ? "" : ", ") + html_escape(id);
      h += "<tr class=\"" + std::string(status_class(i.status)) + "\"><td>" + html_escape(i.item->id) + " " +
           html_escape(i.item->title) + "</td><td>" + status_name(i.status) + "</td><td><code>" + evidence +
           "</code></td><td>" + html_escape(i.item->herald_part) + "</td><td>" + html_escape(i.item->operator_part) +
           "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace herald::security
