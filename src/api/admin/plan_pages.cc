// NHS Notify routing plans in the admin UI (domain/nhs/routing_plans.h): the plans of the
// service's NHS Notify clients, each plan's channels as a cascade (with the templates each
// sends, pinned at a version, and how long each is given before the next is tried), its letter
// variants, overrides and versions; and a form that builds a plan from the service's templates,
// the same definition `herald plan create|update` takes from a file. Saving goes through
// RoutingPlans::save, which checks the plan against the service's templates and pins each
// template's latest version; every save is a new version and messages keep the version they
// were accepted under. Members with "view" see plans; those who manage templates edit them.

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "api/admin/base.h"
#include "api/html.h"

namespace herald::api::admin {
namespace {

using domain::nhs::NhsChannel;
using domain::nhs::PlanChannel;
using domain::nhs::PlanOverride;
using domain::nhs::PlanPtr;
using domain::nhs::PlanVariant;
using domain::nhs::RoutingPlan;
using domain::users::Permission;

// The form's channels, in the order NHS Notify's plans usually cascade.
struct ChannelKind {
  NhsChannel type;
  const char* key;    // the prefix of its form fields
  const char* label;  // for people
  store::Channel templates;
};
constexpr ChannelKind kChannels[] = {
    {NhsChannel::kNhsApp, "nhsapp", "NHS App message", store::Channel::kEmail},
    {NhsChannel::kEmail, "email", "Email", store::Channel::kEmail},
    {NhsChannel::kSms, "sms", "Text message", store::Channel::kSms},
    {NhsChannel::kLetter, "letter", "Letter", store::Channel::kLetter},
};
constexpr const char* kFormats[] = {"braille", "large_print", "audio"};
// A form without JavaScript cannot add rows: it shows at least kMinRows of language variants
// and of overrides, and one empty row more than the plan has, up to kMaxRows (a plan with more is
// edited with `herald plan version`, so that an edit here never drops one).
constexpr int kMinRows = 3;
constexpr int kMaxRows = 20;
constexpr int kMaxVersionsShown = 50;

const ChannelKind& kind_of(NhsChannel type) {
  for (const ChannelKind& k : kChannels) {
    if (k.type == type) return k;
  }
  return kChannels[0];
}

std::string format_label(std::string_view format) {
  if (format == "braille") return "Braille";
  if (format == "large_print") return "Large print";
  if (format == "audio") return "Audio";
  return std::string(format);
}

std::string row_key(std::string_view prefix, int row) { return std::string(prefix) + "_" + std::to_string(row); }

// How many rows of `prefix` the form shows: kMinRows, or one more than the last with a value.
int rows_shown(const FormFields& f, std::string_view prefix) {
  int last = 0;
  for (const auto& [name, value] : f) {
    if (value.empty() || name.rfind(std::string(prefix) + "_", 0) != 0) continue;
    int n = 0;
    for (std::size_t i = prefix.size() + 1; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
      n = n * 10 + (name[i] - '0');
      if (n > kMaxRows) break;
    }
    last = std::max(last, n);
  }
  return std::min(std::max(kMinRows, last + 1), kMaxRows);
}

bool whole_number(const std::string& text, int low, int high, int& out) {
  if (text.empty() || text.size() > 3 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  out = std::stoi(text);
  return out >= low && out <= high;
}

// A plan read from the form, with where each of its parts came from, so that an error the
// domain finds ("channels[1].variants[0]: ...") is shown at the field it is about.
struct PlanForm {
  RoutingPlan plan;
  std::vector<std::string> channel_fields;                           // by the definition's channel index
  std::vector<std::vector<std::string>> variant_fields;              // by channel, then variant index
  std::vector<std::pair<std::string, std::string>> override_fields;  // (value field, plan field)
};

// The service's templates by id (latest versions; deleted ones are not among them, and a plan
// naming one says so).
using TemplateNames = std::map<std::string, store::TemplateRecord>;

class PlanPages : public PageHandlers {
 public:
  explicit PlanPages(Dependencies deps) : PageHandlers(std::move(deps)) {}

  static void install(Router& router, const std::shared_ptr<PlanPages>& self) {
    add(router, self, "GET", "/services/{id}/routing-plans", &PlanPages::list);
    add(router, self, "GET", "/services/{id}/routing-plans/new", &PlanPages::new_plan_page);
    add(router, self, "POST", "/services/{id}/routing-plans", &PlanPages::create);
    add(router, self, "GET", "/services/{id}/routing-plans/{plan}", &PlanPages::show);
    add(router, self, "POST", "/services/{id}/routing-plans/{plan}", &PlanPages::update);
    add(router, self, "GET", "/services/{id}/routing-plans/{plan}/edit", &PlanPages::edit_page);
  }

 private:
  std::string path(const ServiceAccess& access, std::string_view rest = {}) const {
    return service_path(access, "/routing-plans" + std::string(rest));
  }

  Result<TemplateNames> templates(const ServiceAccess& access) {
    auto list = deps_.services.templates_for_service(access.service.id);
    if (!list) return list.error();
    TemplateNames names;
    for (auto& t : *list) names.emplace(t.id.to_string(), std::move(t));
    return names;
  }

  // The plan of the route ({plan}, at ?version=N or its latest) and its client, when the client
  // is one of this service's.
  struct Found {
    RoutingPlan plan;
    int latest = 1;
    store::NhsClientRecord client;
  };
  Result<std::optional<Found>> find(const ServiceAccess& access, const PathParams& params, std::optional<int> version) {
    auto id = Uuid::parse(params.at("plan"));
    if (!id) return std::optional<Found>();
    auto latest = deps_.plans.latest(*id);
    if (!latest) return latest.error();
    if (*latest == nullptr || !(*latest)->client) return std::optional<Found>();
    auto owner = nhs_client_of(access, (*latest)->client->to_string());
    if (!owner) return owner.error();
    if (!*owner) return std::optional<Found>();
    PlanPtr plan = *latest;
    if (version && std::to_string(*version) != plan->version) {
      auto older = deps_.plans.version(*id, std::to_string(*version));
      if (!older) return older.error();
      if (*older == nullptr) return std::optional<Found>();
      plan = *older;
    }
    return std::optional<Found>(Found{*plan, std::stoi((*latest)->version), std::move(**owner)});
  }

  static std::optional<int> version_of(const net::Request& request) {
    int n = 0;
    if (!whole_number(field(parse_form(request.query), "version"), 1, 999, n)) return std::nullopt;
    return n;
  }

  // --- Showing plans ------------------------------------------------------------------------

  std::string plan_rows_table(const ServiceAccess& access, const std::vector<RoutingPlan>& plans) const {
    std::vector<std::vector<std::string>> rows;
    for (const RoutingPlan& p : plans) {
      rows.push_back({link(path(access, "/" + p.id.to_string()), p.name), html_escape(cascade_summary(p)),
                      html_escape(p.version), html_escape(human_time(p.created))});
    }
    return table("Routing plans", {"Name", "Channels", "Version", "Saved"}, rows);
  }

  // "NHS App, then email, then letter; text message alongside".
  static std::string cascade_summary(const RoutingPlan& plan) {
    std::string primary;
    std::string secondary;
    for (const PlanChannel& c : ordered(plan.channels, true)) {
      primary += (primary.empty() ? std::string(kind_of(c.type).label) : ", then " + lower(kind_of(c.type).label));
    }
    for (const PlanChannel& c : ordered(plan.channels, false)) {
      secondary += (secondary.empty() ? "" : ", ") + lower(kind_of(c.type).label);
    }
    return secondary.empty() ? primary : primary + "; " + secondary + " alongside";
  }

  static std::string lower(std::string text) {
    if (text.rfind("NHS", 0) != 0 && !text.empty()) text.front() = static_cast<char>(std::tolower(text.front()));
    return text;
  }

  static std::vector<PlanChannel> ordered(const std::vector<PlanChannel>& channels, bool primary) {
    std::vector<PlanChannel> out;
    for (const PlanChannel& c : channels) {
      if (c.primary == primary) out.push_back(c);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
    return out;
  }

  net::Response list(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto mine = nhs_clients_of(access);
    if (!mine) return internal_error();
    std::string main = heading("Routing plans") +
                       paragraph(
                           "An NHS Notify request names a routing plan: which channels to try, in what order, "
                           "for how long each, and the template each sends.");
    if (mine->empty()) {
      main += paragraph(
          "This service has no NHS Notify client yet. A platform operator adds one with "
          "\u2018herald nhs client create\u2019.");
    }
    for (const store::NhsClientRecord& c : *mine) {
      auto plans = deps_.plans.list(c.id);
      if (!plans) return internal_error();
      main += "<h2>" + html_escape(c.name) + "</h2>" +
              paragraph("NHS Notify client (application id " + c.id.to_string() + ")");
      main += plans->empty() ? paragraph("This client has no routing plans of its own yet.")
                             : plan_rows_table(access, *plans);
      if (access.can(Permission::kManageTemplates)) {
        main += button_link(path(access, "/new?client=" + c.id.to_string()), "Create a routing plan", true);
      }
    }
    std::vector<std::vector<std::string>> built_in;
    for (const domain::nhs::PlanPtr& p : domain::nhs::built_in_plans()) {
      built_in.push_back({html_escape(p->name), "<code>" + html_escape(p->id.to_string()) + "</code>"});
    }
    main += "<h2>Free-text plans</h2>" +
            paragraph("Every client may also use NHS Notify's free-text plans, whose requests carry the text itself.") +
            table("Free-text plans", {"Name", "Routing plan ID"}, built_in);
    return html(200, service_page(access, service_path(access, "/templates"), "Routing plans", main));
  }

  std::string what_it_sends(const ServiceAccess& access, const TemplateNames& names, const TemplateId& id,
                            int version) const {
    auto it = names.find(id.to_string());
    const std::string name = it == names.end() ? "A deleted template" : it->second.name;
    return link(service_path(access, "/templates/" + id.to_string() + "?version=" + std::to_string(version)),
                name + " (version " + std::to_string(version) + ")");
  }

  std::string channel_table(const ServiceAccess& access, const TemplateNames& names, const RoutingPlan& plan,
                            bool primary) const {
    std::vector<std::vector<std::string>> rows;
    for (const PlanChannel& c : ordered(plan.channels, primary)) {
      std::string sends;
      if (c.template_id) {
        sends = what_it_sends(access, names, *c.template_id, c.template_version);
      } else if (!c.message.empty()) {
        std::size_t cut = std::min<std::size_t>(c.message.size(), 200);
        while (cut < c.message.size() && cut > 0 && (static_cast<unsigned char>(c.message[cut]) & 0xC0) == 0x80) --cut;
        sends = html_escape(cut < c.message.size() ? c.message.substr(0, cut) + "\u2026" : c.message);
      } else {
        sends = "The request\u2019s own text";
      }
      rows.push_back({std::to_string(c.order), html_escape(kind_of(c.type).label), sends,
                      std::to_string(c.time_limit.count()) + " hours"});
    }
    return table(primary ? "Primary cascade" : "Sent alongside", {"Step", "Channel", "Sends", "Time limit"}, rows);
  }

  net::Response show(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto found = find(access, params, version_of(request));
    if (!found) return internal_error();
    if (!*found) return not_found();
    auto names = templates(access);
    if (!names) return internal_error();
    const RoutingPlan& plan = (*found)->plan;
    const bool latest = plan.version == std::to_string((*found)->latest);
    std::string main = heading(plan.name) + "<dl class=\"nhsuk-summary-list\">" +
                       summary_row("Routing plan ID", plan.id.to_string()) +
                       summary_row("Version", plan.version + (latest ? " (latest)" : "")) +
                       summary_row("NHS Notify client", (*found)->client.name) +
                       summary_row("Saved", human_time(plan.created)) + "</dl>";
    main += "<h2>Primary cascade</h2>" +
            paragraph(
                "Tried one after another: the next only when the one before fails or is not delivered (or "
                "read, in the NHS App) within its time limit.") +
            channel_table(access, *names, plan, true);
    if (!ordered(plan.channels, false).empty()) {
      main += "<h2>Sent alongside</h2>" + paragraph("Sent at the same time as the primary cascade, with no fallback.") +
              channel_table(access, *names, plan, false);
    }
    std::vector<std::vector<std::string>> variants;
    if (const PlanChannel* letter = plan.channel(NhsChannel::kLetter)) {
      for (const PlanVariant& v : letter->variants) {
        variants.push_back(
            {html_escape(v.kind == PlanVariant::Kind::kLanguage ? "Language: " + v.value : format_label(v.value)),
             what_it_sends(access, *names, v.template_id, v.template_version)});
      }
    }
    if (!variants.empty()) {
      main += "<h2>Letters in other formats and languages</h2>" +
              table("Letter variants", {"For recipients who need", "Letter"}, variants);
    }
    if (!plan.overrides.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const PlanOverride& o : plan.overrides) {
        rows.push_back(
            {html_escape(o.when == PlanVariant::Kind::kLanguage ? "Language: " + o.value : format_label(o.value)),
             plan_link(access, o.plan)});
      }
      main += "<h2>Other plans for some recipients</h2>" +
              table("Overrides", {"For recipients who need", "Routing plan"}, rows);
    }
    if (access.can(Permission::kManageTemplates)) {
      main += button_link(path(access, "/" + plan.id.to_string() + "/edit"), "Edit this routing plan");
    }
    auto history = deps_.plans.history(plan.id, kMaxVersionsShown);
    if (!history) return internal_error();
    std::vector<std::vector<std::string>> versions;
    for (const auto& [v, saved] : *history) {
      versions.push_back({link(path(access, "/" + plan.id.to_string() + "?version=" + std::to_string(v)),
                               "Version " + std::to_string(v)),
                          html_escape(human_time(saved))});
    }
    main += "<h2>Versions</h2>" +
            paragraph("Each save is a new version; a message keeps the version it was accepted under.") +
            table("Versions", {"Version", "Saved"}, versions);
    main +=
        "<details class=\"nhsuk-details\"><summary class=\"nhsuk-details__summary\"><span "
        "class=\"nhsuk-details__summary-text\">Definition (as herald plan show prints it)</span></summary><div "
        "class=\"nhsuk-details__text\"><pre>" +
        html_escape(domain::nhs::plan_definition_json(plan)) + "</pre></div></details>";
    return html(200, service_page(access, service_path(access, "/templates"), plan.name, main));
  }

  std::string plan_link(const ServiceAccess& access, const Uuid& id) const {
    if (auto built_in = domain::nhs::find_built_in_plan(id)) return html_escape(built_in->name);
    return link(path(access, "/" + id.to_string()), id.to_string());
  }

  // --- The editor -----------------------------------------------------------------------------

  static bool fits_the_form(const RoutingPlan& plan) {
    int languages = 0;
    for (const PlanChannel& c : plan.channels) {
      for (const PlanVariant& v : c.variants) languages += v.kind == PlanVariant::Kind::kLanguage ? 1 : 0;
    }
    return languages <= kMaxRows && plan.overrides.size() <= static_cast<std::size_t>(kMaxRows);
  }

  // The form's fields for a saved plan (what the editor starts from).
  static FormFields fields_of(const RoutingPlan& plan) {
    FormFields f{{"name", plan.name}};
    for (const PlanChannel& c : plan.channels) {
      const std::string key = kind_of(c.type).key;
      f.emplace_back(key + "_use", c.primary ? "primary" : "secondary");
      f.emplace_back(key + "_order", std::to_string(c.order));
      f.emplace_back(key + "_hours", std::to_string(c.time_limit.count()));
      if (c.template_id) f.emplace_back(key + "_template", c.template_id->to_string());
      if (c.type == NhsChannel::kNhsApp) f.emplace_back("nhsapp_message", c.message);
      int language = 0;
      for (const PlanVariant& v : c.variants) {
        if (v.kind == PlanVariant::Kind::kAccessibleFormat) {
          f.emplace_back("letter_" + v.value, v.template_id.to_string());
        } else if (++language <= kMaxRows) {
          f.emplace_back(row_key("letter_language", language), v.value);
          f.emplace_back(row_key("letter_language", language) + "_template", v.template_id.to_string());
        }
      }
    }
    int row = 0;
    for (const PlanOverride& o : plan.overrides) {
      if (++row > kMaxRows) break;
      f.emplace_back(row_key("override", row) + "_kind",
                     o.when == PlanVariant::Kind::kLanguage ? "language" : "accessibleFormat");
      f.emplace_back(row_key("override", row) + "_value", o.value);
      f.emplace_back(row_key("override", row) + "_plan", o.plan.to_string());
    }
    return f;
  }

  static std::vector<std::pair<std::string, std::string>> template_options(const TemplateNames& names,
                                                                           store::Channel type,
                                                                           const std::string& selected) {
    std::vector<std::pair<std::string, std::string>> options{{"", "Choose a template"}};
    std::vector<const store::TemplateRecord*> sorted;
    for (const auto& [id, t] : names) {
      if (t.type == type) sorted.push_back(&t);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
    for (const auto* t : sorted) options.emplace_back(t->id.to_string(), t->name);
    if (!selected.empty() && names.find(selected) == names.end()) options.emplace_back(selected, "A deleted template");
    return options;
  }

  std::string channel_fieldset(const ChannelKind& k, const FormFields& f, const TemplateNames& names,
                               const std::vector<FieldError>& errors) const {
    const std::string key = k.key;
    std::string html =
        "<fieldset class=\"nhsuk-fieldset nhsuk-u-margin-bottom-6\"><legend class=\"nhsuk-fieldset__"
        "legend nhsuk-fieldset__legend--m\">" +
        html_escape(k.label) + "</legend>";
    html += radios(key + "_use", "Use this channel",
                   {{"", "Not used"}, {"primary", "In the primary cascade"}, {"secondary", "Alongside (no fallback)"}},
                   field(f, key + "_use"), error_for(errors, key + "_use"));
    html += input({key + "_order", "Step in its cascade", "text", field(f, key + "_order"), "off", "1 is tried first",
                   error_for(errors, key + "_order"), "numeric", "nhsuk-input--width-2"});
    html += input({key + "_hours", "Time limit in hours", "text", field(f, key + "_hours"), "off",
                   "How long this channel has before the next is tried: 1 to 72", error_for(errors, key + "_hours"),
                   "numeric", "nhsuk-input--width-2"});
    if (k.type == NhsChannel::kNhsApp) {
      html += textarea({"nhsapp_message", "Message", "", field(f, "nhsapp_message"), "",
                        "NHS App Markdown; put personal details in double brackets, like ((first name))",
                        error_for(errors, "nhsapp_message")},
                       6);
    } else {
      const std::string chosen = field(f, key + "_template");
      html += select({key + "_template", "Template", "", chosen, "", "Saving pins the template\u2019s latest version",
                      error_for(errors, key + "_template")},
                     template_options(names, k.templates, chosen));
    }
    if (k.type == NhsChannel::kLetter) html += letter_variants(f, names, errors);
    return html + "</fieldset>";
  }

  static std::string letter_variants(const FormFields& f, const TemplateNames& names,
                                     const std::vector<FieldError>& errors) {
    std::string html =
        "<h3>Letters in other formats and languages</h3>"
        "<p class=\"nhsuk-hint\">Sent instead of the letter above to recipients whose NHS record asks "
        "for them.</p>";
    for (const char* format : kFormats) {
      const std::string id = std::string("letter_") + format;
      html += select({id, format_label(format), "", field(f, id), "", "", error_for(errors, id)},
                     template_options(names, store::Channel::kLetter, field(f, id)));
    }
    for (int row = 1, rows = rows_shown(f, "letter_language"); row <= rows; ++row) {
      const std::string id = row_key("letter_language", row);
      html += input({id, "Language " + std::to_string(row), "text", field(f, id), "off",
                     row == 1 ? "A language code such as cy (Welsh) or pl (Polish)" : "", error_for(errors, id), "",
                     "nhsuk-input--width-5"}) +
              select({id + "_template", "Letter in language " + std::to_string(row), "", field(f, id + "_template"), "",
                      "", error_for(errors, id + "_template")},
                     template_options(names, store::Channel::kLetter, field(f, id + "_template")));
    }
    return html;
  }

  std::string overrides_fieldset(const FormFields& f, const std::vector<RoutingPlan>& others,
                                 const std::vector<FieldError>& errors) const {
    std::vector<std::pair<std::string, std::string>> plans{{"", "Choose a routing plan"}};
    for (const RoutingPlan& p : others) plans.emplace_back(p.id.to_string(), p.name);
    for (const domain::nhs::PlanPtr& p : domain::nhs::built_in_plans()) plans.emplace_back(p->id.to_string(), p->name);
    std::string html =
        "<fieldset class=\"nhsuk-fieldset\"><legend class=\"nhsuk-fieldset__legend "
        "nhsuk-fieldset__legend--m\">Other plans for some recipients</legend>"
        "<p class=\"nhsuk-hint\">Recipients whose NHS record gives this language or format get "
        "another of the client's plans instead.</p>";
    for (int row = 1, rows = rows_shown(f, "override"); row <= rows; ++row) {
      const std::string id = row_key("override", row);
      html +=
          "<h3>Override " + std::to_string(row) + "</h3>" +
          select({id + "_kind", "When the recipient needs", "", field(f, id + "_kind"), "", "",
                  error_for(errors, id + "_kind")},
                 {{"", "Not used"}, {"language", "A language"}, {"accessibleFormat", "An accessible format"}}) +
          input({id + "_value", "Which", "text", field(f, id + "_value"), "off",
                 "A language code (cy) or a format (braille, large_print, audio)", error_for(errors, id + "_value"), "",
                 "nhsuk-input--width-10"}) +
          select({id + "_plan", "Routing plan", "", field(f, id + "_plan"), "", "", error_for(errors, id + "_plan")},
                 plans);
    }
    return html + "</fieldset>";
  }

  Result<Page> editor(const ServiceAccess& access, const store::NhsClientRecord& owner, const std::string& action,
                      const std::string& title, const FormFields& f, std::optional<Uuid> editing,
                      std::vector<FieldError> errors) {
    auto names = templates(access);
    if (!names) return names.error();
    auto others = deps_.plans.list(owner.id);
    if (!others) return others.error();
    std::erase_if(*others, [&](const RoutingPlan& p) { return editing && p.id == *editing; });
    std::string fields =
        hidden("client", owner.id.to_string()) +
        input({"name", "Plan name", "text", field(f, "name"), "off",
               "For your team; NHS Notify requests name the plan by its id", error_for(errors, "name")});
    for (const ChannelKind& k : kChannels) fields += channel_fieldset(k, f, *names, errors);
    fields += overrides_fieldset(f, *others, errors);
    std::string main = heading(title) +
                       paragraph("NHS Notify client: " + owner.name +
                                 ". Channels in the primary cascade are tried in their steps' order.") +
                       form(action, domain::users::Users::csrf_token(access.token), fields, "Save the routing plan");
    Page page = service_page(access, service_path(access, "/templates"), title, main);
    page.errors = std::move(errors);
    return page;
  }

  // The plan the form describes, with errors for people (field by field); the domain checks
  // the rest when it is saved.
  static PlanForm plan_of(const FormFields& f, std::vector<FieldError>& errors) {
    PlanForm out;
    out.plan.name = field(f, "name");
    if (out.plan.name.empty()) errors.emplace_back("Enter a name for the routing plan", "name");
    struct Step {
      PlanChannel channel;
      std::string field;
      std::vector<std::string> variant_fields;
    };
    std::vector<Step> steps;
    for (const ChannelKind& k : kChannels) {
      const std::string key = k.key;
      const std::string use = field(f, key + "_use");
      if (use != "primary" && use != "secondary") continue;
      Step step;
      step.channel.type = k.type;
      step.channel.primary = use == "primary";
      int n = 0;
      if (!whole_number(field(f, key + "_order"), 1, 4, n)) {
        errors.emplace_back(std::string(k.label) + ": enter its step, 1 to 4", key + "_order");
      }
      step.channel.order = n;
      if (!whole_number(field(f, key + "_hours"), 1, 72, n)) {
        errors.emplace_back(std::string(k.label) + ": enter a time limit from 1 to 72 hours", key + "_hours");
      }
      step.channel.time_limit = std::chrono::hours(n);
      if (k.type == NhsChannel::kNhsApp) {
        step.channel.message = field(f, "nhsapp_message");
        step.field = "nhsapp_message";
        if (step.channel.message.empty()) errors.emplace_back("Enter the NHS App message", step.field);
      } else {
        step.field = key + "_template";
        if (auto id = Uuid::parse(field(f, step.field))) {
          step.channel.template_id = TemplateId{*id};
        } else {
          errors.emplace_back(std::string(k.label) + ": choose a template", step.field);
        }
      }
      if (k.type == NhsChannel::kLetter) {
        for (const char* format : kFormats) {
          const std::string id = std::string("letter_") + format;
          if (auto t = Uuid::parse(field(f, id))) {
            step.channel.variants.push_back({PlanVariant::Kind::kAccessibleFormat, format, TemplateId{*t}, 0});
            step.variant_fields.push_back(id);
          }
        }
        for (int row = 1; row <= kMaxRows; ++row) {
          const std::string id = row_key("letter_language", row);
          const std::string language = field(f, id);
          const auto t = Uuid::parse(field(f, id + "_template"));
          if (language.empty() && !t) continue;
          if (language.empty()) errors.emplace_back("Enter the language of this letter", id);
          if (!t) errors.emplace_back("Choose the letter in this language", id + "_template");
          if (language.empty() || !t) continue;
          step.channel.variants.push_back({PlanVariant::Kind::kLanguage, language, TemplateId{*t}, 0});
          step.variant_fields.push_back(id);
        }
      }
      steps.push_back(std::move(step));
    }
    if (std::none_of(steps.begin(), steps.end(), [](const Step& s) { return s.channel.primary; })) {
      errors.emplace_back("Put at least one channel in the primary cascade", "nhsapp_use");
    }
    // The definition lists the primary cascade in its order, then the others.
    std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
      return a.channel.primary != b.channel.primary ? a.channel.primary : a.channel.order < b.channel.order;
    });
    for (std::size_t i = 1; i < steps.size(); ++i) {
      const PlanChannel& a = steps[i - 1].channel;
      const PlanChannel& b = steps[i].channel;
      if (a.primary == b.primary && a.order == b.order && a.order != 0) {
        errors.emplace_back(
            std::string(kind_of(a.type).label) + " and " + lower(kind_of(b.type).label) + " have the same step",
            std::string(kind_of(b.type).key) + "_order");
      }
    }
    for (Step& s : steps) {
      out.channel_fields.push_back(s.field);
      out.variant_fields.push_back(std::move(s.variant_fields));
      out.plan.channels.push_back(std::move(s.channel));
    }
    for (int row = 1; row <= kMaxRows; ++row) {
      const std::string id = row_key("override", row);
      const std::string kind = field(f, id + "_kind");
      const std::string value = field(f, id + "_value");
      const auto plan = Uuid::parse(field(f, id + "_plan"));
      if (kind.empty() && value.empty() && !plan) continue;
      if (kind != "language" && kind != "accessibleFormat") {
        errors.emplace_back("Choose whether override " + std::to_string(row) + " is for a language or a format",
                            id + "_kind");
        continue;
      }
      if (value.empty())
        errors.emplace_back("Enter the language or format of override " + std::to_string(row), id + "_value");
      if (!plan) errors.emplace_back("Choose the routing plan of override " + std::to_string(row), id + "_plan");
      if (value.empty() || !plan) continue;
      out.plan.overrides.push_back(
          {kind == "language" ? PlanVariant::Kind::kLanguage : PlanVariant::Kind::kAccessibleFormat, value, *plan});
      out.override_fields.emplace_back(id + "_value", id + "_plan");
    }
    return out;
  }

  // An error of RoutingPlans::save, at the field it names ("channels[1].variants[0]: ...").
  static FieldError at_field(const PlanForm& form, const std::string& message) {
    auto index = [&](std::string_view prefix, std::size_t& pos) -> std::optional<std::size_t> {
      if (message.compare(pos, prefix.size(), prefix) != 0) return std::nullopt;
      pos += prefix.size();
      std::size_t n = 0;
      bool digits = false;
      while (pos < message.size() && message[pos] >= '0' && message[pos] <= '9') {
        n = n * 10 + static_cast<std::size_t>(message[pos++] - '0');
        digits = true;
      }
      if (!digits || pos >= message.size() || message[pos] != ']') return std::nullopt;
      ++pos;
      return n;
    };
    std::size_t pos = 0;
    std::string id = "name";
    if (auto c = index("channels[", pos); c && *c < form.channel_fields.size()) {
      id = form.channel_fields[*c];
      std::size_t after = pos;
      if (auto v = index(".variants[", after); v && *v < form.variant_fields[*c].size()) {
        id = form.variant_fields[*c][*v];
        pos = after;
      } else if (message.compare(pos, 15, ".timeLimitHours") == 0) {
        id = std::string(kind_of(form.plan.channels[*c].type).key) + "_hours";
      }
    } else if (auto o = index("overrides[", pos); o && *o < form.override_fields.size()) {
      id = message.compare(pos, 5, ".plan") == 0 ? form.override_fields[*o].second : form.override_fields[*o].first;
    } else {
      pos = 0;
    }
    // What follows the path: ": the service has no template ..." or ".language must be ...".
    std::string rest = message.substr(pos);
    if (rest.rfind(": ", 0) == 0) return {capitalised(rest.substr(2)), id};
    if (!rest.empty() && rest.front() == '.') {
      const auto space = rest.find(' ');
      return {capitalised(space == std::string::npos ? rest.substr(1) : "This value" + rest.substr(space)), id};
    }
    return {capitalised(rest), id};
  }

  // Saves the form's plan (a new plan, or the next version of `editing`): the plan's page, or
  // the editor again with what is wrong.
  net::Response save(const net::Request& request, const ServiceAccess& access, const store::NhsClientRecord& owner,
                     const Post& post, std::optional<Uuid> editing, const std::string& action,
                     const std::string& title) {
    std::vector<FieldError> errors;
    const PlanForm form = plan_of(post.fields, errors);
    if (errors.empty()) {
      auto saved = deps_.plans.save(owner.id, editing, domain::nhs::plan_definition_json(form.plan));
      if (saved) {
        audit(request, access, editing ? "routing_plan.versioned" : "routing_plan.created",
              {{"client_id", owner.id.to_string()},
               {"plan_id", (*saved)->id.to_string()},
               {"version", (*saved)->version}});
        return redirect(path(access, "/" + (*saved)->id.to_string()));
      }
      const ErrorCode code = saved.error().code;
      if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kFailedPrecondition) return internal_error();
      errors.push_back(at_field(form, saved.error().message));
    }
    auto page = editor(access, owner, action, title, post.fields, editing, std::move(errors));
    if (!page) return internal_error();
    return html(400, *page);
  }

  net::Response new_plan_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTemplates, access)) return *refused;
    auto owner = nhs_client_of(access, field(parse_form(request.query), "client"));
    if (!owner) return internal_error();
    if (!*owner) return not_found();
    const FormFields defaults{{"nhsapp_order", "1"}, {"nhsapp_hours", "24"}, {"email_order", "2"},
                              {"email_hours", "72"}, {"sms_order", "3"},     {"sms_hours", "72"},
                              {"letter_order", "4"}, {"letter_hours", "72"}};
    auto page = editor(access, **owner, path(access), "New routing plan", defaults, std::nullopt, {});
    if (!page) return internal_error();
    return html(200, *page);
  }

  net::Response create(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTemplates, access, post)) return *refused;
    auto owner = nhs_client_of(access, field(post.fields, "client"));
    if (!owner) return internal_error();
    if (!*owner) return not_found();
    return save(request, access, **owner, post, std::nullopt, path(access), "New routing plan");
  }

  net::Response edit_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTemplates, access)) return *refused;
    auto found = find(access, params, std::nullopt);
    if (!found) return internal_error();
    if (!*found) return not_found();
    const RoutingPlan& plan = (*found)->plan;
    if (!fits_the_form(plan)) {
      return html(200, service_page(access, service_path(access, "/templates"), "Edit " + plan.name,
                                    heading("Edit " + plan.name) +
                                        paragraph("This plan has more language letters or overrides than this form "
                                                  "holds: change it with \u2018herald plan version\u2019.")));
    }
    auto page = editor(access, (*found)->client, path(access, "/" + plan.id.to_string()), "Edit " + plan.name,
                       fields_of(plan), plan.id, {});
    if (!page) return internal_error();
    return html(200, *page);
  }

  net::Response update(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTemplates, access, post)) return *refused;
    auto found = find(access, params, std::nullopt);
    if (!found) return internal_error();
    if (!*found) return not_found();
    const RoutingPlan& plan = (*found)->plan;
    return save(request, access, (*found)->client, post, plan.id, path(access, "/" + plan.id.to_string()),
                "Edit " + plan.name);
  }
};

}  // namespace

void register_plan_pages(Router& router, const Dependencies& deps) {
  PlanPages::install(router, std::make_shared<PlanPages>(deps));
}

}  // namespace herald::api::admin
