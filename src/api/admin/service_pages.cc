// A service's pages in the admin UI: API keys, templates, team, messages and settings (its
// overview, the dashboard, is dashboard_pages.cc's). Each page opens
// through PageHandlers::open_service with the permission it needs (another service's pages
// answer 404), each form is a checked Post, and each change is audited under the same action
// names as its CLI equivalent (api_key.created, template.updated, ...).

#include <algorithm>
#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "core/json.h"
#include "core/log.h"
#include "domain/admin.h"
#include "domain/letters/letter_pdf.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"
#include "domain/rendering/sms_text.h"
#include "domain/rendering/template_render.h"
#include "domain/templates.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

const char* key_type_label(store::KeyType type) {
  switch (type) {
    case store::KeyType::kNormal: return "Live";
    case store::KeyType::kTeam: return "Team and guest list";
    case store::KeyType::kTest: return "Test";
  }
  return "Live";
}

const char* channel_label(store::Channel channel) {
  switch (channel) {
    case store::Channel::kEmail: return "Email";
    case store::Channel::kSms: return "Text message";
    case store::Channel::kLetter: return "Letter";
    default: return "Message";
  }
}

// What a preview shows for each placeholder: the placeholder itself, "((name))".
domain::Personalisation placeholders_as_themselves(const store::TemplateRecord& record) {
  domain::Personalisation personalisation;
  for (const auto& name : domain::template_placeholders(record)) {
    personalisation.entries.emplace_back(
        name, domain::PersonalisationValue{domain::PersonalisationValue::Kind::kText, "((" + name + "))", {}});
  }
  return personalisation;
}

class ServicePages : public PageHandlers {
 public:
  explicit ServicePages(Dependencies deps)
      : PageHandlers(std::move(deps)), admin_(deps_.services), templates_(deps_.services) {}

  static void install(Router& router, const std::shared_ptr<ServicePages>& self) {
    add(router, self, "GET", "/services/{id}/api-keys", &ServicePages::api_keys);
    add(router, self, "GET", "/services/{id}/api-keys/new", &ServicePages::new_api_key_page);
    add(router, self, "POST", "/services/{id}/api-keys", &ServicePages::create_api_key);
    add(router, self, "POST", "/services/{id}/api-keys/{key}/revoke", &ServicePages::revoke_api_key);
    add(router, self, "GET", "/services/{id}/templates", &ServicePages::template_list);
    add(router, self, "GET", "/services/{id}/templates/new", &ServicePages::new_template_page);
    add(router, self, "POST", "/services/{id}/templates", &ServicePages::create_template);
    add(router, self, "GET", "/services/{id}/templates/{template}", &ServicePages::template_page);
    add(router, self, "POST", "/services/{id}/templates/{template}", &ServicePages::update_template);
    add(router, self, "GET", "/services/{id}/templates/{template}/edit", &ServicePages::edit_template_page);
    add(router, self, "GET", "/services/{id}/templates/{template}/email-preview", &ServicePages::email_preview);
    add(router, self, "GET", "/services/{id}/templates/{template}/letter-preview.pdf", &ServicePages::letter_preview);
    add(router, self, "GET", "/services/{id}/templates/{template}/send", &ServicePages::send_page);
    add(router, self, "POST", "/services/{id}/templates/{template}/send", &ServicePages::send);
    add(router, self, "GET", "/services/{id}/team", &ServicePages::team);
    add(router, self, "GET", "/services/{id}/team/invite", &ServicePages::invite_page);
    add(router, self, "POST", "/services/{id}/team", &ServicePages::invite);
    add(router, self, "GET", "/services/{id}/team/{user}", &ServicePages::member_page);
    add(router, self, "POST", "/services/{id}/team/{user}", &ServicePages::change_member);
    add(router, self, "GET", "/services/{id}/notifications", &ServicePages::find_notifications);
    add(router, self, "GET", "/services/{id}/notifications/{notification}", &ServicePages::notification_page);
    add(router, self, "GET", "/services/{id}/settings", &ServicePages::settings);
    add(router, self, "POST", "/services/{id}/settings/retention", &ServicePages::change_retention);
    add(router, self, "POST", "/services/{id}/settings/go-live", &ServicePages::go_live);
    add(router, self, "POST", "/services/{id}/settings/request-go-live", &ServicePages::request_go_live);
    add(router, self, "POST", "/services/{id}/settings/decline-go-live", &ServicePages::decline_go_live);
    add(router, self, "POST", "/services/{id}/settings/sending", &ServicePages::change_sending);
    add(router, self, "POST", "/services/{id}/settings/limits", &ServicePages::change_limits);
  }

 private:
  // --- API keys -----------------------------------------------------------------------------

  net::Response api_keys(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageApiKeys, access)) return *refused;
    auto keys = deps_.services.api_keys_for_service(access.service.id);
    if (!keys) return internal_error();
    std::sort(keys->begin(), keys->end(), [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main = heading("API keys");
    if (keys->empty()) {
      main += paragraph("This service has no API keys yet.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& key : *keys) {
        const std::string action = key.revoked_at
                                       ? "Revoked " + html_escape(human_time(*key.revoked_at))
                                       : small_form(service_path(access, "/api-keys/" + key.id.to_string() + "/revoke"),
                                                    csrf, "", "Revoke", "Revoke " + key.name);
        rows.push_back(
            {html_escape(key.name), key_type_label(key.type), html_escape(human_time(key.created_at)), action});
      }
      main += table("API keys", {"Name", "Type", "Created", ""}, rows);
    }
    main += button_link(service_path(access, "/api-keys/new"), "Create an API key");
    main += "<h2>API integration</h2><ul class=\"nhsuk-list\"><li>" +
            link(service_path(access, "/guest-list"), "Guest list") + "</li><li>" +
            link(service_path(access, "/callbacks"), "Callbacks") + "</li><li>" +
            link(service_path(access, "/nhs-callbacks"), "NHS Notify callbacks") + "</li></ul>";
    return html(200, service_page(access, service_path(access, "/api-keys"), "API keys", main));
  }

  Page new_api_key_form(const ServiceAccess& access, const std::string& name, const std::string& type,
                        std::vector<FieldError> errors) {
    std::string fields =
        input({"name", "Name for this key", "text", name, "off", "So that you can tell your keys apart",
               error_for(errors, "name"), "", "nhsuk-input--width-20"}) +
        radios("type", "Type of key",
               {{"normal", "Live – sends to anyone"},
                {"team", "Team and guest list – sends only to your team and guest list"},
                {"test", "Test – pretends to send, for testing your integration"}},
               type, error_for(errors, "type"));
    return form_page(access, service_path(access, "/api-keys"), "Create an API key", service_path(access, "/api-keys"),
                     fields, "Continue", std::move(errors));
  }

  // Creating a key is sensitive: it needs the second factor given in the last few minutes.
  net::Response new_api_key_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageApiKeys, access)) return *refused;
    if (!deps_.users.recently_verified(access.who))
      return reauthentication_needed(service_path(access, "/api-keys/new"));
    return html(200, new_api_key_form(access, "", "normal", {}));
  }

  net::Response create_api_key(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    if (!deps_.users.recently_verified(access.who))
      return reauthentication_needed(service_path(access, "/api-keys/new"));
    const std::string name = field(post.fields, "name");
    const std::string type_text = field(post.fields, "type");
    const auto type = store::parse_key_type(type_text);
    if (!type) return html(400, new_api_key_form(access, name, "", {{"Select the type of key", "type"}}));
    auto created = admin_.create_api_key(access.service.id, *type, name, deps_.clock.now());
    if (!created) {
      if (created.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400, new_api_key_form(access, name, type_text, {{capitalised(created.error().message), "name"}}));
    }
    audit(request, access, "api_key.created",
          {{"api_key_id", created->record.id.to_string()}, {"type", store::key_type_name(*type)}});
    std::string main =
        heading("New API key") +
        paragraph(
            "Copy this key now. Herald does not show it again; if you lose it, create another and revoke this "
            "one.") +
        "<div class=\"nhsuk-inset-text\"><span class=\"nhsuk-u-visually-hidden\">API key: </span><code "
        "id=\"api-key\">" +
        html_escape(created->full_key) + "</code></div>" + link(service_path(access, "/api-keys"), "Back to API keys");
    return html(201, service_page(access, service_path(access, "/api-keys"), "New API key", main));
  }

  net::Response revoke_api_key(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    auto key = ApiKeyId::parse(params.at("key"));
    if (!key) return not_found();
    auto revoked = admin_.revoke_api_key(access.service.id, *key, deps_.clock.now());
    if (!revoked && revoked.error().code != ErrorCode::kNotFound) return internal_error();
    if (revoked) audit(request, access, "api_key.revoked", {{"api_key_id", key->to_string()}});
    return redirect(service_path(access, "/api-keys"));
  }

  // --- Templates ----------------------------------------------------------------------------

  domain::Caller caller(const ServiceAccess& access) const { return {access.service.id, ApiKeyId{}, {}}; }

  net::Response template_list(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto list = templates_.list(caller(access), std::nullopt);
    if (!list) return internal_error();
    std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string main = heading("Templates");
    if (list->empty()) {
      main += paragraph("This service has no templates yet.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : *list) {
        rows.push_back({link(service_path(access, "/templates/" + t.id.to_string()), t.name), channel_label(t.type),
                        html_escape(human_time(t.updated_at.value_or(t.created_at)))});
      }
      main += table("Templates", {"Name", "Type", "Last changed"}, rows);
    }
    if (access.can(Permission::kManageTemplates)) {
      main += button_link(service_path(access, "/templates/new"), "Create a template");
    }
    main += "<p>" + link(service_path(access, "/routing-plans"), "NHS Notify routing plans") + "</p>";
    return html(200, service_page(access, service_path(access, "/templates"), "Templates", main));
  }

  struct TemplateForm {
    std::string type;  // "email", "sms" or "letter"
    std::string name, subject, body;
    bool unsubscribe_link = false;  // emails: Herald's hosted unsubscribe link in each one
  };

  static TemplateForm template_values(std::string type, const FormFields& fields) {
    return {std::move(type), field(fields, "name"), field(fields, "subject"), field(fields, "body"),
            field(fields, "unsubscribe_link") == "yes"};
  }

  Page template_form_page(const ServiceAccess& access, const std::string& action, const std::string& title,
                          const TemplateForm& values, std::vector<FieldError> errors) {
    std::string fields =
        hidden("type", values.type) + input({"name", "Template name", "text", values.name, "off",
                                             "Your recipients will not see this", error_for(errors, "name")});
    if (values.type == "email") {
      fields += input(
          {"subject", "Subject line of the email", "text", values.subject, "off", "", error_for(errors, "subject")});
    } else if (values.type == "letter") {
      fields += input({"subject", "Main heading", "text", values.subject, "off", "", error_for(errors, "subject")});
    }
    fields += textarea({"body",
                        values.type == "email" ? "Message"
                        : values.type == "sms" ? "Text message"
                                               : "Body",
                        "", values.body, "", "Put personal details in double brackets, like ((first name))",
                        error_for(errors, "body")},
                       values.type == "sms" ? 5 : 12);
    if (values.type == "email") {
      fields += checkboxes("unsubscribe_link", "Unsubscribe link",
                           {{"yes", "Add an unsubscribe link (you will see unsubscribe requests on the dashboard)"}},
                           values.unsubscribe_link ? std::vector<std::string>{"yes"} : std::vector<std::string>{});
    }
    return form_page(access, service_path(access, "/templates"), title, action, fields, "Save", std::move(errors));
  }

  static FieldError template_error(const Error& error) {
    const std::string& m = error.message;
    const std::string field_id = m.find("name") != std::string::npos ? "name"
                                 : m.find("subject") != std::string::npos || m.find("heading") != std::string::npos
                                     ? "subject"
                                     : "body";
    return {capitalised(m), field_id};
  }

  net::Response new_template_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTemplates, access)) return *refused;
    const std::string type = field(parse_form(request.query), "type");
    if (type == "email" || type == "sms" || type == "letter") {
      return html(200, template_form_page(access, service_path(access, "/templates"),
                                          std::string("New ") + (type == "sms" ? "text message" : type) + " template",
                                          {type, "", "", ""}, {}));
    }
    // Which kind: a GET form, so that it works without JavaScript.
    std::string main = heading("Create a template") + "<form action=\"" +
                       html_escape(service_path(access, "/templates/new")) + "\" method=\"get\" novalidate>" +
                       radios("type", "What kind of template?",
                              {{"email", "Email"}, {"sms", "Text message"}, {"letter", "Letter"}}, "email") +
                       "<button class=\"nhsuk-button\" data-module=\"nhsuk-button\" type=\"submit\">Continue</button>"
                       "</form>";
    return html(200, service_page(access, service_path(access, "/templates"), "Create a template", main));
  }

  net::Response create_template(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTemplates, access, post)) return *refused;
    const TemplateForm values = template_values(field(post.fields, "type"), post.fields);
    if (values.type != "email" && values.type != "sms" && values.type != "letter") {
      return redirect(service_path(access, "/templates/new"));
    }
    domain::NewTemplate request_to_create{access.service.id, values.type, values.name,
                                          values.subject,    values.body, access.who.user.email};
    request_to_create.has_unsubscribe_link = values.type == "email" && values.unsubscribe_link;
    auto created = admin_.create_template(request_to_create, deps_.clock.now());
    if (!created) {
      if (created.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400, template_form_page(access, service_path(access, "/templates"), "New template", values,
                                          {template_error(created.error())}));
    }
    audit(request, access, "template.created", {{"template_id", created->id.to_string()}});
    return redirect(service_path(access, "/templates/" + created->id.to_string()));
  }

  // The template (its latest version, or ?version=N) as its recipients would get it, with
  // placeholders shown as themselves, and its versions.
  std::optional<store::TemplateRecord> find_template(const ServiceAccess& access, const PathParams& params,
                                                     std::optional<int> version, bool& failed) {
    failed = false;
    auto id = TemplateId::parse(params.at("template"));
    if (!id) return std::nullopt;
    auto found = templates_.get(caller(access), *id, version);
    if (!found) {
      failed = true;
      return std::nullopt;
    }
    return std::move(*found);
  }

  static std::optional<int> version_of(const net::Request& request) {
    const std::string text = field(parse_form(request.query), "version");
    if (text.empty() || text.size() > 6 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stoi(text);
  }

  net::Response template_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    bool failed = false;
    const auto version = version_of(request);
    auto shown = find_template(access, params, version, failed);
    if (failed) return internal_error();
    if (!shown) return not_found();
    auto latest = version ? find_template(access, params, std::nullopt, failed) : shown;
    if (failed || !latest) return internal_error();
    const std::string base = service_path(access, "/templates/" + shown->id.to_string());
    const std::string version_query = version ? "?version=" + std::to_string(*version) : "";

    std::string main = heading(shown->name);
    if (version && *version != latest->version) {
      main += "<div class=\"nhsuk-inset-text\"><p>This is version " + std::to_string(*version) + " of " +
              std::to_string(latest->version) + ". " + link(base, "See the latest version") + "</p></div>";
    }
    main += render_preview(access, *shown, base + "/email-preview" + version_query,
                           base + "/letter-preview.pdf" + version_query);
    if (access.can(Permission::kSend) && !shown->archived && shown->type != store::Channel::kLetter) {
      main += button_link(base + "/send", "Send this message");
      main += " " + button_link(base + "/upload", "Send to a list", true);
    } else if (access.can(Permission::kSend) && !shown->archived) {
      main += button_link(base + "/upload", "Send to a list of addresses");
    }
    if (access.can(Permission::kManageTemplates) && !shown->archived) {
      main += " " + button_link(base + "/edit", "Edit this template", true);
    }
    main += "<h2>Versions</h2>";
    std::vector<std::vector<std::string>> rows;
    for (int v = latest->version; v >= 1 && v > latest->version - 20; --v) {
      auto record = v == latest->version ? latest : find_template(access, params, v, failed);
      if (failed) return internal_error();
      if (!record) continue;
      rows.push_back({v == shown->version
                          ? "Version " + std::to_string(v) + " (shown)"
                          : link(base + "?version=" + std::to_string(v), "Version " + std::to_string(v)),
                      html_escape(human_time(record->created_at)), html_escape(record->created_by)});
    }
    main += table("Versions", {"Version", "Saved", "By"}, rows);
    Page page = service_page(access, service_path(access, "/templates"), shown->name, main);
    page.frames_self = shown->type == store::Channel::kEmail;
    return html(200, page);
  }

  // The preview block: the email in a frame of its own (its HTML has the inline styles email
  // clients need, which this page's CSP forbids), the text message with its length, the letter
  // as text with its PDF.
  std::string render_preview(const ServiceAccess& access, const store::TemplateRecord& t,
                             const std::string& email_frame, const std::string& letter_pdf) {
    const domain::Personalisation personalisation = placeholders_as_themselves(t);
    switch (t.type) {
      case store::Channel::kEmail: {
        auto email = domain::render_email({t.subject, t.body}, personalisation, domain::RenderParts::kContent);
        const std::string subject = email ? email->subject : t.subject;
        return "<h2>Preview</h2><dl class=\"nhsuk-summary-list\">" + summary_row("Subject", subject) +
               "</dl><iframe class=\"herald-email-preview\" title=\"Preview of the email\" src=\"" +
               html_escape(email_frame) + "\" sandbox width=\"100%\" height=\"480\"></iframe>";
      }
      case store::Channel::kSms: {
        auto sms = domain::render_sms(t.body, personalisation, access.service.prefix_sms ? access.service.name : "");
        if (!sms) return "<h2>Preview</h2>" + paragraph(capitalised(sms.error().message));
        const std::string length = std::to_string(sms->content_count) + " characters, " +
                                   std::to_string(sms->fragment_count) +
                                   (sms->fragment_count == 1 ? " text message" : " text messages") +
                                   (domain::is_sms_too_long(*sms) ? " – too long to send" : "");
        return "<h2>Preview</h2><div class=\"nhsuk-inset-text\" id=\"sms-preview\"><p>" + html_escape(sms->body) +
               "</p></div><p class=\"nhsuk-body-s\" id=\"sms-length\">" + html_escape(length) +
               (access.service.prefix_sms ? " (with the service name in front)" : "") + "</p>";
      }
      case store::Channel::kLetter:
        return "<h2>Preview</h2><div class=\"nhsuk-inset-text\"><p><strong>" + html_escape(t.subject) +
               "</strong></p><p>" + html_escape(t.body) + "</p></div><p>" +
               link(letter_pdf, "See the letter as it would print (PDF)") + "</p>";
      default: return std::string();
    }
  }

  // The email as its recipient sees it, for the frame of the template page: its own CSP lets
  // the email's inline styles apply and nothing else (no script, sandboxed, framed only here).
  net::Response email_preview(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    bool failed = false;
    auto t = find_template(access, params, version_of(request), failed);
    if (failed) return internal_error();
    if (!t || t->type != store::Channel::kEmail) return not_found();
    auto email = domain::render_email({t->subject, t->body}, placeholders_as_themselves(*t));
    net::Response response{200, "text/html; charset=utf-8", email ? email->html_body : "", {}};
    if (!email) response.body = "<!DOCTYPE html><title>Preview</title><p>" + html_escape(email.error().message);
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                  "frame-ancestors 'self'; sandbox");
    response.headers.emplace_back("X-Frame-Options", "SAMEORIGIN");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
    response.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    return response;
  }

  net::Response letter_preview(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    bool failed = false;
    auto t = find_template(access, params, version_of(request), failed);
    if (failed) return internal_error();
    if (!t || t->type != store::Channel::kLetter) return not_found();
    auto contacts = deps_.services.service_contacts(access.service.id, store::ContactKind::kLetterContact);
    if (!contacts) return internal_error();
    domain::LetterContent letter;
    letter.subject = t->subject;
    letter.body = t->body;
    letter.address_lines = {"((address line 1))", "((address line 2))", "((address line 3))"};
    letter.contact_block = domain::letter_contact_block_for(*t, *contacts).value_or("");
    const std::string when = human_time(deps_.clock.now());
    letter.date = when.substr(0, when.find(" at "));
    auto pdf = domain::render_letter_pdf(letter);
    if (!pdf) {
      if (pdf.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400,
                  service_page(access, service_path(access, "/templates"), "Letter too long",
                               heading("This letter cannot be printed") + paragraph(capitalised(pdf.error().message))));
    }
    // No CSP here: browsers' PDF viewers do not render under the pages' default-src 'none'.
    net::Response response{200, "application/pdf", std::move(pdf->bytes), {}};
    response.headers.emplace_back("Content-Disposition", "inline; filename=\"letter-preview.pdf\"");
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
    response.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    return response;
  }

  net::Response edit_template_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTemplates, access)) return *refused;
    bool failed = false;
    auto t = find_template(access, params, std::nullopt, failed);
    if (failed) return internal_error();
    if (!t || t->archived) return not_found();
    return html(200, template_form_page(
                         access, service_path(access, "/templates/" + t->id.to_string()), "Edit " + t->name,
                         {store::channel_name(t->type), t->name, t->subject, t->body, t->has_unsubscribe_link}, {}));
  }

  net::Response update_template(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTemplates, access, post)) return *refused;
    bool failed = false;
    auto t = find_template(access, params, std::nullopt, failed);
    if (failed) return internal_error();
    if (!t || t->archived) return not_found();
    const TemplateForm values = template_values(store::channel_name(t->type), post.fields);
    domain::TemplateChanges changes{values.name, values.subject, values.body, access.who.user.email};
    if (t->type == store::Channel::kEmail) changes.has_unsubscribe_link = values.unsubscribe_link;
    auto updated = admin_.update_template(access.service.id, t->id, changes, deps_.clock.now());
    const std::string base = service_path(access, "/templates/" + t->id.to_string());
    if (!updated) {
      const ErrorCode code = updated.error().code;
      if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kFailedPrecondition) return internal_error();
      FieldError error = code == ErrorCode::kFailedPrecondition
                             ? FieldError{"Someone else changed this template meanwhile. Check their version, then "
                                          "make your changes again",
                                          "name"}
                             : template_error(updated.error());
      return html(code == ErrorCode::kFailedPrecondition ? 409 : 400,
                  template_form_page(access, base, "Edit " + t->name, values, {std::move(error)}));
    }
    audit(request, access, "template.updated",
          {{"template_id", t->id.to_string()}, {"version", std::to_string(updated->version)}});
    return redirect(base);
  }

  // --- Team ---------------------------------------------------------------------------------

  static std::string permission_list(const std::vector<Permission>& permissions) {
    std::string out;
    for (auto p : permissions) {
      if (p == Permission::kView && permissions.size() > 1) continue;  // implied by the others
      out += (out.empty() ? "" : ", ") + std::string(permission_label(p));
    }
    return out;
  }

  // As the CLI's audit records them: "view,send", or "(none)".
  static std::string names_of(const std::vector<Permission>& permissions) {
    std::string names;
    for (auto p : permissions) names += (names.empty() ? "" : ",") + std::string(domain::users::permission_name(p));
    return names.empty() ? "(none)" : names;
  }

  static const char* permission_label(Permission p) {
    switch (p) {
      case Permission::kView: return "See the service";
      case Permission::kSend: return "Send messages";
      case Permission::kManageTemplates: return "Add and edit templates";
      case Permission::kManageApiKeys: return "Manage API keys";
      case Permission::kManageTeam: return "Manage the team";
      case Permission::kManageSettings: return "Change settings";
    }
    return "";
  }

  static std::string permission_checkboxes(const std::vector<std::string>& checked, const std::string& error) {
    std::vector<std::pair<std::string, std::string>> options;
    for (auto p : domain::users::kAllPermissions) {
      options.emplace_back(domain::users::permission_name(p), permission_label(p));
    }
    return checkboxes("permissions", "Permissions", options, checked, error);
  }

  static std::vector<Permission> permissions_ticked(const FormFields& fields) {
    std::vector<Permission> out;
    for (const auto& name : fields_named(fields, "permissions")) {
      if (auto p = domain::users::parse_permission(name)) out.push_back(*p);
    }
    return out;
  }

  net::Response team(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto members = deps_.users.team(access.service.id);
    if (!members) return internal_error();
    const bool manager = access.can(Permission::kManageTeam);
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : *members) {
      std::vector<std::string> row{html_escape(m.user.name), html_escape(m.user.email),
                                   html_escape(permission_list(m.permissions))};
      if (manager) {
        row.push_back(m.user.id == access.who.user.id
                          ? std::string("(you)")
                          : "<a href=\"" + html_escape(service_path(access, "/team/" + m.user.id.to_string())) +
                                "\">Change<span class=\"nhsuk-u-visually-hidden\"> " + html_escape(m.user.name) +
                                "</span></a>");
      }
      rows.push_back(std::move(row));
    }
    std::vector<std::string> headings{"Name", "Email address", "Permissions"};
    if (manager) headings.emplace_back("");
    std::string main = heading("Team members") + table("Team members", headings, rows);
    if (manager) main += button_link(service_path(access, "/team/invite"), "Invite a team member");
    return html(200, service_page(access, service_path(access, "/team"), "Team members", main));
  }

  Page invite_form(const ServiceAccess& access, const std::string& email, const std::string& name,
                   const std::vector<std::string>& checked, std::vector<FieldError> errors) {
    std::string fields = input({"email", "Email address", "email", email, "off", "", error_for(errors, "email")}) +
                         input({"name", "Full name", "text", name, "off",
                                "Not needed for someone who already has an account", error_for(errors, "name")}) +
                         permission_checkboxes(checked, error_for(errors, "permissions"));
    return form_page(access, service_path(access, "/team"), "Invite a team member", service_path(access, "/team"),
                     fields, "Send invitation", std::move(errors));
  }

  // Adding a team member is sensitive: it needs the second factor given recently.
  net::Response invite_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTeam, access)) return *refused;
    if (!deps_.users.recently_verified(access.who))
      return reauthentication_needed(service_path(access, "/team/invite"));
    return html(200, invite_form(access, "", "", {"view"}, {}));
  }

  net::Response invite(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTeam, access, post)) return *refused;
    if (!deps_.users.recently_verified(access.who))
      return reauthentication_needed(service_path(access, "/team/invite"));
    const std::string email = field(post.fields, "email");
    const std::string name = field(post.fields, "name");
    const auto permissions = permissions_ticked(post.fields);
    auto invited = deps_.users.invite(access.service.id, email, name, permissions);
    if (!invited) {
      if (invited.error().code != ErrorCode::kInvalidArgument) return internal_error();
      const std::string& message = invited.error().message;
      const std::string field_id = message.find("permission") != std::string::npos ? "permissions"
                                   : message.find("email") != std::string::npos    ? "email"
                                                                                   : "name";
      return html(400,
                  invite_form(access, email, name, fields_named(post.fields, "permissions"), {{message, field_id}}));
    }
    if (invited->enrolment_token) {
      audit(request, access, "user.created", {{"user_id", invited->user.id.to_string()}, {"platform_admin", "false"}});
    }
    audit(request, access, "user.permissions_set",
          {{"user_id", invited->user.id.to_string()}, {"permissions", names_of(permissions)}});
    std::string main = heading(invited->user.name + " is in the team");
    if (invited->enrolment_token) {
      const std::string url =
          (origin_.empty() ? "https://" + request.host : origin_) + "/enrol/" + *invited->enrolment_token;
      main += paragraph(
                  "Send them this link, which sets up their account. It works once, for 72 hours, and is not "
                  "shown again.") +
              "<div class=\"nhsuk-inset-text\"><code id=\"enrolment-link\">" + html_escape(url) + "</code></div>";
    } else {
      main += paragraph("They already have an account: they will see " + access.service.name +
                        " the next time they sign in.");
    }
    main += link(service_path(access, "/team"), "Back to the team");
    return html(201, service_page(access, service_path(access, "/team"), "Team member added", main));
  }

  // A member of this service other than the user themselves (nobody changes their own role).
  std::optional<domain::users::Users::Member> other_member(const ServiceAccess& access, const PathParams& params,
                                                           bool& failed) {
    failed = false;
    auto id = Uuid::parse(params.at("user"));
    if (!id || *id == access.who.user.id) return std::nullopt;
    auto members = deps_.users.team(access.service.id);
    if (!members) {
      failed = true;
      return std::nullopt;
    }
    for (auto& m : *members) {
      if (m.user.id == *id) return std::move(m);
    }
    return std::nullopt;
  }

  Page member_form(const ServiceAccess& access, const domain::users::Users::Member& member,
                   const std::vector<std::string>& checked) {
    std::string fields = permission_checkboxes(checked, "");
    return service_page(access, service_path(access, "/team"), "Change " + member.user.name,
                        heading("Change " + member.user.name) + paragraph(member.user.email) +
                            form(service_path(access, "/team/" + member.user.id.to_string()),
                                 domain::users::Users::csrf_token(access.token), fields, "Save") +
                            "<h2>Remove from the team</h2>" +
                            form(service_path(access, "/team/" + member.user.id.to_string()),
                                 domain::users::Users::csrf_token(access.token), hidden("remove", "yes"),
                                 "Remove " + member.user.name));
  }

  net::Response member_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageTeam, access)) return *refused;
    bool failed = false;
    auto member = other_member(access, params, failed);
    if (failed) return internal_error();
    if (!member) return not_found();
    std::vector<std::string> checked;
    for (auto p : member->permissions) checked.emplace_back(domain::users::permission_name(p));
    return html(200, member_form(access, *member, checked));
  }

  net::Response change_member(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageTeam, access, post)) return *refused;
    bool failed = false;
    auto member = other_member(access, params, failed);
    if (failed) return internal_error();
    if (!member) return not_found();
    // Removing someone is an empty set of permissions.
    const auto permissions =
        field(post.fields, "remove") == "yes" ? std::vector<Permission>{} : permissions_ticked(post.fields);
    if (auto set = deps_.users.set_permissions(member->user.id, access.service.id, permissions); !set) {
      return internal_error();
    }
    audit(request, access, "user.permissions_set",
          {{"user_id", member->user.id.to_string()}, {"permissions", names_of(permissions)}});
    return redirect(service_path(access, "/team"));
  }

  // --- Messages -------------------------------------------------------------------------------

  // A person's messages, found through the blind index (never a scan of plaintext). Each search
  // is audited with the count found, never the address or number searched for.
  net::Response find_notifications(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    const std::string to = field(parse_form(request.query), "to");
    std::string error;
    std::string results;
    if (!to.empty()) {
      auto recipient = domain::parse_recipient(to);
      if (!recipient) {
        error = "Enter an email address or a phone number";
      } else {
        auto found = deps_.notifications.find_by_recipient(access.service.id, recipient->normalised);
        if (!found) return internal_error();
        audit(request, access, "notifications.searched", {{"found", std::to_string(found->size())}});
        std::vector<std::vector<std::string>> rows;
        for (const auto& n : *found) {
          rows.push_back({link(service_path(access, "/notifications/" + n.id.to_string()), n.recipient),
                          channel_label(n.type), html_escape(store::status_name(n.status)),
                          html_escape(human_time(n.created_at))});
        }
        results = found->empty() ? paragraph("No messages to " + to + " are held.")
                                 : "<h2>" + std::to_string(found->size()) + " messages</h2>" +
                                       table("Messages found", {"Recipient", "Type", "Status", "Sent"}, rows);
      }
    }
    std::string main =
        heading("Find messages") + "<form action=\"" + html_escape(service_path(access, "/notifications")) +
        "\" method=\"get\" novalidate>" +
        input({"to", "Email address or phone number", "text", to, "off",
               "Messages are kept for " + std::to_string(access.service.retention_days) + " days", error}) +
        "<button class=\"nhsuk-button\" data-module=\"nhsuk-button\" type=\"submit\">Search</button></form>" + results +
        "<p>" + link(service_path(access, "/jobs"), "Lists sent") + "</p>";
    Page page = service_page(access, service_path(access, "/notifications"), "Find messages", main);
    if (!error.empty()) page.errors = {{error, "to"}};
    return html(error.empty() ? 200 : 400, page);
  }

  net::Response notification_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kView, access)) return *refused;
    auto id = NotificationId::parse(params.at("notification"));
    if (!id) return not_found();
    auto found = deps_.notifications.find_notification(access.service.id, *id);
    if (!found) return internal_error();
    if (!*found) return not_found();
    const store::NotificationRecord& n = **found;
    std::string rows = summary_row("To", n.recipient) + summary_row("Type", channel_label(n.type)) +
                       summary_row("Status", store::status_name(n.status));
    if (n.reference) rows += summary_row("Reference", *n.reference);
    std::string main = heading("Message") + "<dl class=\"nhsuk-summary-list\">" + rows + "</dl>";
    if (!store::is_free_text(n)) {
      main += "<p>" +
              link(service_path(access, "/templates/" + n.template_id.to_string() +
                                            "?version=" + std::to_string(n.template_version)),
                   "The template it was sent from (version " + std::to_string(n.template_version) + ")") +
              "</p>";
    }
    std::vector<std::vector<std::string>> history{{"Accepted", html_escape(human_time(n.created_at))}};
    if (n.sent_at) history.push_back({"Sent to the provider", html_escape(human_time(*n.sent_at))});
    if (n.updated_at && n.status != store::NotificationStatus::kCreated) {
      history.push_back(
          {html_escape(capitalised(store::status_name(n.status))), html_escape(human_time(*n.updated_at))});
    }
    main += "<h2>History</h2>" + table("History", {"What happened", "When"}, history);
    return html(200, service_page(access, service_path(access, "/notifications"), "Message", main));
  }

  // --- Settings -------------------------------------------------------------------------------

  static const char* permission_name(std::string_view p) {
    if (p == "email") return "Send emails";
    if (p == "sms") return "Send text messages";
    if (p == "letter") return "Send letters";
    if (p == "international_sms") return "Send text messages to international numbers";
    if (p == "sms_to_uk_landlines") return "Send text messages to UK landlines";
    if (p == "inbound_sms") return "Receive text messages";
    if (p == "international_letters") return "Send letters to international addresses";
    return "Other";
  }

  // What the service may send (any who manage settings) and its limits (platform admins), as
  // `herald service set` changes them; `typed`: the values of a refused try.
  std::string sending_forms(const ServiceAccess& access, const FormFields& typed,
                            const std::vector<FieldError>& errors) const {
    const store::ServiceRecord& s = access.service;
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::vector<std::pair<std::string, std::string>> options;
    for (std::string_view p : domain::known_permissions()) options.emplace_back(std::string(p), permission_name(p));
    std::string main = "<h2>What the service sends</h2>" +
                       form(service_path(access, "/settings/sending"), csrf,
                            checkboxes("permissions", "The service may", options, s.permissions) +
                                radios("prefix_sms", "Start text messages with the service name",
                                       {{"yes", "Yes"}, {"no", "No"}}, s.prefix_sms ? "yes" : "no"),
                            "Save");
    if (!access.who.user.platform_admin) return main;
    auto value = [&](const std::string& id, std::int64_t current) {
      const std::string t = field(typed, id);
      return t.empty() && error_for(errors, id).empty() ? std::to_string(current) : t;
    };
    auto limit = [&](const std::string& id, const std::string& label, std::int64_t current) {
      return input({id, label, "text", value(id, current), "off", "", error_for(errors, id), "numeric",
                    "nhsuk-input--width-10"});
    };
    return main + "<h2>Limits</h2>" +
           form(service_path(access, "/settings/limits"), csrf,
                limit("rate_limit", "Sends per minute (each key type)", s.rate_limit) +
                    limit("email_limit", "Emails a day", s.email_limit) +
                    limit("sms_limit", "Text messages a day", s.sms_limit) +
                    limit("letter_limit", "Letters a day", s.letter_limit) +
                    limit("international_sms_limit", "Text messages to international numbers a day",
                          s.international_sms_limit),
                "Save the limits");
  }

  Page settings_page(const ServiceAccess& access, const std::string& retention, const std::string& error,
                     const FormFields& typed = {}, std::vector<FieldError> errors = {}) {
    const store::ServiceRecord& s = access.service;
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main =
        heading("Settings") + "<dl class=\"nhsuk-summary-list\">" +
        summary_row("Status", s.restricted ? "Trial mode: sends only to the team and guest list" : "Live") +
        summary_row("Sends per minute (each key type)", std::to_string(s.rate_limit)) +
        summary_row("Emails a day", std::to_string(s.email_limit)) +
        summary_row("Text messages a day", std::to_string(s.sms_limit)) +
        summary_row("Letters a day", std::to_string(s.letter_limit)) +
        summary_row("Text messages start with the service name", s.prefix_sms ? "Yes" : "No") + "</dl>";
    main += "<h2>How long personal data is kept</h2>" +
            form(service_path(access, "/settings/retention"), csrf,
                 input({"retention_days", "Days", "text", retention, "off",
                        "Between 3 and 90 days. After this, recipients and content are deleted.", error, "numeric",
                        "nhsuk-input--width-3"}),
                 "Save");
    main += sending_forms(access, typed, errors);
    if (s.restricted) main += going_live(access, csrf);
    main += "<h2>Senders</h2><ul class=\"nhsuk-list\"><li>" +
            link(service_path(access, "/contacts/reply-to"), "Reply-to email addresses") + "</li><li>" +
            link(service_path(access, "/contacts/sms-senders"), "Text message senders") + "</li><li>" +
            link(service_path(access, "/contacts/letter-contacts"), "Letter contact blocks") + "</li></ul>";
    main += "<h2>Audit log</h2>" + paragraph("Who did what in this service, and what was refused.") +
            link(service_path(access, "/audit"), "See the audit log");
    main += "<h2>Data requests</h2>" + paragraph("Download or erase everything this service holds about one person.") +
            link(service_path(access, "/data-requests"), "Make a data request");
    Page page = service_page(access, service_path(access, "/settings"), "Settings", main);
    if (!error.empty()) errors.insert(errors.begin(), {error, "retention_days"});
    page.errors = std::move(errors);
    return page;
  }

  // Trial mode: the team asks to go live (GOV.UK's request), a platform admin approves or turns
  // the request down.
  std::string going_live(const ServiceAccess& access, const std::string& csrf) {
    const store::ServiceRecord& s = access.service;
    std::string out = "<h2 id=\"going-live\">Going live</h2>" +
                      paragraph(
                          "In trial mode the service sends only to its team and guest list, and no letters. "
                          "A live service can send to anyone.");
    if (s.go_live_requested_at) {
      std::string who = "a former member of the team";
      if (auto team = deps_.users.team(s.id)) {
        for (const auto& m : *team) {
          if (s.go_live_requested_by && m.user.id == *s.go_live_requested_by) who = m.user.name;
        }
      }
      out += "<div class=\"nhsuk-inset-text\"><p>" +
             html_escape(who + " asked for this service to go live on " + human_time(*s.go_live_requested_at) +
                         ". A platform administrator reviews the request.") +
             "</p></div>";
      if (access.who.user.platform_admin) {
        out += form(service_path(access, "/settings/go-live"), csrf, "", "Approve: make this service live") +
               form(service_path(access, "/settings/decline-go-live"), csrf, "", "Turn the request down",
                    /*with_files=*/false, /*secondary=*/true);
      }
      return out;
    }
    auto templates = deps_.services.templates_for_service(s.id);
    const bool has_templates = templates && !templates->empty();
    out += "<ul class=\"nhsuk-list nhsuk-list--tick\"><li>" +
           std::string(has_templates ? "The service has templates" : "Add a template: it is what a reviewer looks at") +
           "</li></ul>";
    if (has_templates) {
      out += form(service_path(access, "/settings/request-go-live"), csrf, "", "Request to go live");
    }
    if (access.who.user.platform_admin) {
      out += form(service_path(access, "/settings/go-live"), csrf, "", "Make this service live", false, true);
    }
    return out;
  }

  // Audited as `herald service set` is.
  void audit_settings(const net::Request& request, const ServiceAccess& access, const store::ServiceRecord& changed) {
    audit(request, access, "service.settings_changed",
          {{"permissions", store::join_permissions(changed.permissions)},
           {"prefix_sms", changed.prefix_sms ? "on" : "off"},
           {"rate_limit", std::to_string(changed.rate_limit)},
           {"daily_limits", std::to_string(changed.email_limit) + "/" + std::to_string(changed.sms_limit) + "/" +
                                std::to_string(changed.letter_limit) + "/" +
                                std::to_string(changed.international_sms_limit)}});
  }

  net::Response change_sending(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return *refused;
    domain::ServiceSettings settings;
    settings.permissions = fields_named(post.fields, "permissions");
    settings.prefix_sms = field(post.fields, "prefix_sms") == "yes";
    auto changed = admin_.change_settings(access.service.id, settings);
    if (!changed) {
      if (changed.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400, settings_page(access, std::to_string(access.service.retention_days), "", post.fields,
                                     {{capitalised(changed.error().message), "permissions"}}));
    }
    audit_settings(request, access, *changed);
    return redirect(service_path(access, "/settings"));
  }

  // A settings form only a platform admin may post, with the second factor given recently (the
  // limits, going live, turning a request down): the refusal, or nullopt to go on.
  std::optional<net::Response> open_platform_post(const net::Request& request, const PathParams& params,
                                                  ServiceAccess& access, Post& post) {
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return refused;
    if (!access.who.user.platform_admin) return not_permitted(request, access, "platform admin");
    if (!deps_.users.recently_verified(access.who)) return reauthentication_needed(service_path(access, "/settings"));
    return std::nullopt;
  }

  // Limits are a platform admin's to set (GOV.UK's), with a recent second factor.
  net::Response change_limits(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_platform_post(request, params, access, post)) return *refused;
    domain::ServiceSettings settings;
    std::vector<FieldError> errors;
    auto number = [&](const char* id, const char* what) -> std::int64_t {
      const std::string text = field(post.fields, id);
      if (text.empty() || text.size() > 12 ||
          !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        errors.emplace_back(std::string("Enter ") + what + " as a whole number", id);
        return 0;
      }
      return std::stoll(text);
    };
    settings.rate_limit =
        static_cast<int>(std::min<std::int64_t>(number("rate_limit", "sends per minute"), 1'000'000'000));
    settings.email_limit = number("email_limit", "emails a day");
    settings.sms_limit = number("sms_limit", "text messages a day");
    settings.letter_limit = number("letter_limit", "letters a day");
    settings.international_sms_limit = number("international_sms_limit", "international text messages a day");
    if (errors.empty()) {
      auto changed = admin_.change_settings(access.service.id, settings);
      if (changed) {
        audit_settings(request, access, *changed);
        return redirect(service_path(access, "/settings"));
      }
      if (changed.error().code != ErrorCode::kInvalidArgument) return internal_error();
      errors.emplace_back(capitalised(changed.error().message), "rate_limit");
    }
    return html(400, settings_page(access, std::to_string(access.service.retention_days), "", post.fields, errors));
  }

  net::Response settings(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageSettings, access)) return *refused;
    return html(200, settings_page(access, std::to_string(access.service.retention_days), ""));
  }

  // Changing retention is sensitive (it decides when personal data is deleted): it needs the
  // second factor given recently.
  net::Response change_retention(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return *refused;
    if (!deps_.users.recently_verified(access.who)) return reauthentication_needed(service_path(access, "/settings"));
    const std::string text = field(post.fields, "retention_days");
    const bool digits = !text.empty() && text.size() <= 3 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto set = digits ? admin_.set_retention(access.service.id, std::stoi(text))
                      : Result<void>(invalid_argument("retention must be between 3 and 90 days"));
    if (!set) {
      if (set.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400, settings_page(access, text, "Enter a number of days between 3 and 90"));
    }
    audit(request, access, "service.retention_changed", {{"days", text}});
    return redirect(service_path(access, "/settings"));
  }

  // Only a platform admin makes a service live (GOV.UK's approval), with a recent second factor.
  net::Response go_live(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_platform_post(request, params, access, post)) return *refused;
    auto live = admin_.go_live(access.service.id);
    if (!live) return internal_error();
    audit(request, access, "service.went_live", {});
    return redirect(service_path(access, "/settings"));
  }

  // Any member who manages settings may ask; the request waits for a platform admin.
  net::Response request_go_live(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return *refused;
    const bool asked_before = access.service.go_live_requested_at.has_value();
    auto requested = admin_.request_go_live(access.service.id, access.who.user.id, deps_.clock.now());
    if (!requested) {
      if (requested.error().code != ErrorCode::kFailedPrecondition) return internal_error();
      return html(400, settings_page(access, std::to_string(access.service.retention_days), "", {},
                                     {{capitalised(requested.error().message), "going-live"}}));
    }
    if (!asked_before) audit(request, access, "service.go_live_requested", {});
    return redirect(service_path(access, "/settings"));
  }

  net::Response decline_go_live(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_platform_post(request, params, access, post)) return *refused;
    auto declined = admin_.decline_go_live(access.service.id);
    if (!declined && declined.error().code != ErrorCode::kFailedPrecondition) return internal_error();
    if (declined) audit(request, access, "service.go_live_declined", {});
    return redirect(service_path(access, "/settings"));
  }

  // --- Sending one message ----------------------------------------------------------------------

  // The latest version of an email or text message template that can be sent from here.
  std::optional<store::TemplateRecord> sendable(const ServiceAccess& access, const PathParams& params, bool& failed) {
    auto t = find_template(access, params, std::nullopt, failed);
    if (!t || t->archived || t->type == store::Channel::kLetter) return std::nullopt;
    return t;
  }

  Page send_form(const ServiceAccess& access, const store::TemplateRecord& t, const FormFields& values,
                 std::vector<FieldError> errors) {
    const bool email = t.type == store::Channel::kEmail;
    std::string fields = input({"to", email ? "Email address" : "Mobile phone number", email ? "email" : "tel",
                                field(values, "to"), "off", "", error_for(errors, "to")});
    const auto names = domain::template_placeholders(t);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string id = "placeholder-" + std::to_string(i);
      fields += input({id, names[i], "text", field(values, id), "off", "", error_for(errors, id)});
    }
    const std::string base = service_path(access, "/templates/" + t.id.to_string());
    return form_page(access, service_path(access, "/templates"), "Send " + t.name, base + "/send", fields, "Send",
                     std::move(errors));
  }

  net::Response send_page(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kSend, access)) return *refused;
    bool failed = false;
    auto t = sendable(access, params, failed);
    if (failed) return internal_error();
    if (!t) return not_found();
    return html(200, send_form(access, *t, {}, {}));
  }

  // Sent as the API sends (its checks, limits and messages), by no API key: GOV.UK's admin sends
  // have none either. The service's trial mode applies as it does to a live key.
  net::Response send(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kSend, access, post)) return *refused;
    bool failed = false;
    auto t = sendable(access, params, failed);
    if (failed) return internal_error();
    if (!t) return not_found();

    const auto names = domain::template_placeholders(*t);
    domain::Personalisation personalisation;
    json::Writer personalisation_json;
    personalisation_json.begin_object();
    std::vector<FieldError> errors;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string id = "placeholder-" + std::to_string(i);
      const std::string value = field(post.fields, id);
      if (value.empty()) errors.emplace_back("Enter " + names[i], id);
      personalisation.entries.emplace_back(
          names[i], domain::PersonalisationValue{domain::PersonalisationValue::Kind::kText, value, {}});
      personalisation_json.key(names[i]).string(value);
    }
    personalisation_json.end_object();
    const std::string to = field(post.fields, "to");
    const domain::Caller caller{access.service.id, ApiKeyId{}, store::KeyType::kNormal};
    const Timestamp now = deps_.clock.now();

    Result<store::NotificationRecord> sent = invalid_argument("");
    if (t->type == store::Channel::kEmail) {
      auto address = domain::validate_email_address(to);
      if (!address) errors.insert(errors.begin(), {"Enter a valid email address", "to"});
      if (!errors.empty()) return html(400, send_form(access, *t, post.fields, std::move(errors)));
      domain::EmailRequest email;
      email.email_address = *address;
      email.template_id = t->id;
      email.personalisation = std::move(personalisation);
      email.personalisation_json = personalisation_json.take();
      auto admitted = deps_.sender.admit(caller, store::Channel::kEmail, now, Blocking::kAllowed);
      auto accepted = admitted ? deps_.sender.send_email(caller, std::move(email), now)
                               : Result<domain::AcceptedEmail>(admitted.error());
      sent = accepted ? Result<store::NotificationRecord>(std::move(accepted->record))
                      : Result<store::NotificationRecord>(accepted.error());
    } else {
      auto number = domain::parse_phone_number(to);
      if (!number) errors.insert(errors.begin(), {"Enter a valid mobile phone number", "to"});
      if (!errors.empty()) return html(400, send_form(access, *t, post.fields, std::move(errors)));
      domain::SmsRequest sms;
      sms.phone_number = to;
      sms.parsed = std::move(*number);
      sms.template_id = t->id;
      sms.personalisation = std::move(personalisation);
      sms.personalisation_json = personalisation_json.take();
      auto admitted = deps_.sender.admit(caller, store::Channel::kSms, now, Blocking::kAllowed);
      auto accepted =
          admitted ? deps_.sender.send_sms(caller, std::move(sms), now) : Result<domain::AcceptedSms>(admitted.error());
      sent = accepted ? Result<store::NotificationRecord>(std::move(accepted->record))
                      : Result<store::NotificationRecord>(accepted.error());
    }
    if (!sent) {
      const ErrorCode code = sent.error().code;
      if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kResourceExhausted) return internal_error();
      audit(request, access, "notification.sent", {{"template_id", t->id.to_string()}},
            "failure: " + sent.error().message);
      return html(code == ErrorCode::kResourceExhausted ? 429 : 400,
                  send_form(access, *t, post.fields, {{sent.error().message, "to"}}));
    }
    audit(request, access, "notification.sent",
          {{"template_id", t->id.to_string()}, {"notification_id", sent->id.to_string()}});
    return redirect(service_path(access, "/notifications/" + sent->id.to_string()));
  }

  domain::Admin admin_;
  domain::Templates templates_;
};

}  // namespace

void register_service_pages(Router& router, const Dependencies& deps) {
  ServicePages::install(router, std::make_shared<ServicePages>(deps));
}

}  // namespace herald::api::admin
