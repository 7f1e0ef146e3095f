// A service's senders and guest list in the admin UI, as GOV.UK Notify's settings have them:
// reply-to email addresses, text message senders and letter contact blocks (each kind listed,
// added, changed, made the default, removed; the API's email_reply_to_id and sms_sender_id name
// them), and the guest list (who team keys, and the service in trial mode, may send to). The
// rules are domain::Admin's, shared with `herald service add-contact|update-contact|
// remove-contact|add-to-guest-list|remove-from-guest-list`, and each change is audited under the
// CLI's action names. Contacts need "manage settings"; the guest list, like API keys, "manage API
// keys" (GOV.UK keeps it with the API integration).

#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "domain/admin.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

struct ContactPage {
  store::ContactKind kind;
  const char* slug;  // in URLs
  const char* title;
  const char* one;  // "a reply-to email address"
  const char* label;
};
constexpr ContactPage kContactPages[] = {
    {store::ContactKind::kEmailReplyTo, "reply-to", "Reply-to email addresses", "a reply-to email address",
     "Email address"},
    {store::ContactKind::kSmsSender, "sms-senders", "Text message senders", "a text message sender",
     "Text message sender"},
    {store::ContactKind::kLetterContact, "letter-contacts", "Letter contact blocks", "a letter contact block",
     "Contact block"},
};

const ContactPage* contact_page(std::string_view slug) {
  for (const ContactPage& p : kContactPages) {
    if (slug == p.slug) return &p;
  }
  return nullptr;
}

// A letter contact block keeps its lines.
std::string contact_html(const std::string& value) {
  std::string out = html_escape(value);
  for (std::size_t at = out.find('\n'); at != std::string::npos; at = out.find('\n', at + 4)) {
    out.replace(at, 1, "<br>");
  }
  return out;
}

class SettingsPages : public PageHandlers {
 public:
  explicit SettingsPages(Dependencies deps) : PageHandlers(std::move(deps)), admin_(deps_.services) {}

  static void install(Router& router, const std::shared_ptr<SettingsPages>& self) {
    add(router, self, "GET", "/services/{id}/contacts/{kind}", &SettingsPages::contacts);
    add(router, self, "POST", "/services/{id}/contacts/{kind}", &SettingsPages::add_contact);
    add(router, self, "GET", "/services/{id}/contacts/{kind}/{contact}", &SettingsPages::contact);
    add(router, self, "POST", "/services/{id}/contacts/{kind}/{contact}", &SettingsPages::change_contact);
    add(router, self, "POST", "/services/{id}/contacts/{kind}/{contact}/remove", &SettingsPages::remove_contact);
    add(router, self, "GET", "/services/{id}/guest-list", &SettingsPages::guest_list);
    add(router, self, "POST", "/services/{id}/guest-list", &SettingsPages::add_guest);
    add(router, self, "POST", "/services/{id}/guest-list/{entry}/remove", &SettingsPages::remove_guest);
  }

 private:
  // --- Contacts -------------------------------------------------------------------------------

  static std::string path(const ServiceAccess& access, const ContactPage& page, std::string_view rest = {}) {
    return service_path(access, std::string("/contacts/") + page.slug + std::string(rest));
  }

  static std::string value_field(const ContactPage& page, const std::string& value, const std::string& error) {
    const Input in{"value",
                   page.label,
                   "text",
                   value,
                   page.kind == store::ContactKind::kEmailReplyTo ? "email" : "off",
                   page.kind == store::ContactKind::kSmsSender ? "3 to 11 letters and numbers, or a phone number" : "",
                   error};
    return page.kind == store::ContactKind::kLetterContact ? textarea(in, 5) : input(in);
  }

  Result<Page> contacts_page(const ServiceAccess& access, const ContactPage& page, const std::string& value,
                             bool is_default, const std::string& error) {
    auto list = deps_.services.service_contacts(access.service.id, page.kind);
    if (!list) return list.error();
    std::string main = heading(page.title);
    if (list->empty()) {
      main += paragraph(std::string("This service has no ") + (page.one + 2) + " yet.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const store::ServiceContact& c : *list) {
        rows.push_back({contact_html(c.value), c.is_default ? "Default" : "", "<code>" + c.id.to_string() + "</code>",
                        link(path(access, page, "/" + c.id.to_string()), "Change")});
      }
      main += table(page.title, {page.label, "Default", "ID (for the API)", ""}, rows);
    }
    main +=
        std::string("<h2>Add ") + page.one + "</h2>" +
        form(path(access, page), domain::users::Users::csrf_token(access.token),
             value_field(page, value, error) +
                 checkboxes("default", "Default", {{"yes", "Make this the default"}},
                            is_default || list->empty() ? std::vector<std::string>{"yes"} : std::vector<std::string>{}),
             "Add");
    Page out = service_page(access, service_path(access, "/settings"), page.title, main);
    if (!error.empty()) out.errors = {{error, "value"}};
    return out;
  }

  // The kind named by the route and a member who manages settings.
  std::optional<net::Response> open_kind(const net::Request& request, const PathParams& params, ServiceAccess& access,
                                         const ContactPage*& page) {
    if (auto refused = open_service(request, params, Permission::kManageSettings, access)) return refused;
    page = contact_page(params.at("kind"));
    if (page == nullptr) return not_found();
    return std::nullopt;
  }

  std::optional<net::Response> open_kind_post(const net::Request& request, const PathParams& params,
                                              ServiceAccess& access, Post& post, const ContactPage*& page) {
    if (auto refused = open_post(request, params, Permission::kManageSettings, access, post)) return refused;
    page = contact_page(params.at("kind"));
    if (page == nullptr) return not_found();
    return std::nullopt;
  }

  net::Response contacts(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    const ContactPage* page = nullptr;
    if (auto refused = open_kind(request, params, access, page)) return *refused;
    auto out = contacts_page(access, *page, "", false, "");
    if (!out) return internal_error();
    return html(200, *out);
  }

  net::Response add_contact(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    const ContactPage* page = nullptr;
    if (auto refused = open_kind_post(request, params, access, post, page)) return *refused;
    const std::string value = field(post.fields, "value");
    const bool is_default = field(post.fields, "default") == "yes";
    auto added = admin_.add_contact(access.service.id, page->kind, value, is_default, deps_.clock.now());
    if (!added) {
      if (added.error().code != ErrorCode::kInvalidArgument) return internal_error();
      auto out = contacts_page(access, *page, value, is_default, capitalised(added.error().message));
      if (!out) return internal_error();
      return html(400, *out);
    }
    audit(request, access, "service.contact_added",
          {{"kind", store::contact_kind_name(page->kind)}, {"contact_id", added->id.to_string()}});
    return redirect(path(access, *page));
  }

  // The contact of the route, or nullopt (also when the id is not the service's).
  Result<std::optional<store::ServiceContact>> find_contact(const ServiceAccess& access, const ContactPage& page,
                                                            const PathParams& params) {
    auto list = deps_.services.service_contacts(access.service.id, page.kind);
    if (!list) return list.error();
    for (auto& c : *list) {
      if (c.id.to_string() == params.at("contact")) return std::optional(std::move(c));
    }
    return std::optional<store::ServiceContact>();
  }

  Page contact_page_of(const ServiceAccess& access, const ContactPage& page, const store::ServiceContact& c,
                       const std::string& value, bool is_default, const std::vector<FieldError>& errors) {
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    const std::string title = std::string("Change ") + (page.one + 2);
    std::string main =
        heading(title) + form(path(access, page, "/" + c.id.to_string()), csrf,
                              value_field(page, value, error_for(errors, "value")) +
                                  checkboxes("default", "Default", {{"yes", "Make this the default"}},
                                             is_default ? std::vector<std::string>{"yes"} : std::vector<std::string>{}),
                              "Save");
    main += "<h2>Remove</h2>" +
            paragraph(c.is_default ? "The default can be removed only when it is the last one: make another the "
                                     "default first."
                                   : "Requests and templates that name it will use the default instead.") +
            small_form(path(access, page, "/" + c.id.to_string() + "/remove"), csrf, "", "Remove",
                       std::string("Remove ") + (page.one + 2)) +
            "<p>" + link(path(access, page), std::string("All ") + page.title) + "</p>";
    Page out = service_page(access, service_path(access, "/settings"), title, main);
    out.errors = errors;
    return out;
  }

  net::Response contact(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    const ContactPage* page = nullptr;
    if (auto refused = open_kind(request, params, access, page)) return *refused;
    auto found = find_contact(access, *page, params);
    if (!found) return internal_error();
    if (!*found) return not_found();
    return html(200, contact_page_of(access, *page, **found, (*found)->value, (*found)->is_default, {}));
  }

  net::Response change_contact(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    const ContactPage* page = nullptr;
    if (auto refused = open_kind_post(request, params, access, post, page)) return *refused;
    auto found = find_contact(access, *page, params);
    if (!found) return internal_error();
    if (!*found) return not_found();
    const std::string value = field(post.fields, "value");
    const bool is_default = field(post.fields, "default") == "yes";
    auto updated = admin_.update_contact(access.service.id, page->kind, (*found)->id, value, is_default);
    if (!updated) {
      if (updated.error().code != ErrorCode::kInvalidArgument) return internal_error();
      return html(400, contact_page_of(access, *page, **found, value, is_default,
                                       {{capitalised(updated.error().message), "value"}}));
    }
    audit(request, access, "service.contact_updated",
          {{"kind", store::contact_kind_name(page->kind)},
           {"contact_id", updated->id.to_string()},
           {"default", updated->is_default ? "yes" : "no"}});
    return redirect(path(access, *page));
  }

  net::Response remove_contact(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    const ContactPage* page = nullptr;
    if (auto refused = open_kind_post(request, params, access, post, page)) return *refused;
    auto found = find_contact(access, *page, params);
    if (!found) return internal_error();
    if (!*found) return not_found();
    auto removed = admin_.remove_contact(access.service.id, page->kind, (*found)->id);
    if (!removed) {
      if (removed.error().code != ErrorCode::kFailedPrecondition) return internal_error();
      return html(400, contact_page_of(access, *page, **found, (*found)->value, (*found)->is_default,
                                       {{capitalised(removed.error().message), "value"}}));
    }
    audit(request, access, "service.contact_removed",
          {{"kind", store::contact_kind_name(page->kind)}, {"contact_id", (*found)->id.to_string()}});
    return redirect(path(access, *page));
  }

  // --- Guest list -----------------------------------------------------------------------------

  Result<Page> guest_list_page(const ServiceAccess& access, const std::string& recipient, const std::string& error) {
    auto entries = admin_.guest_list(access.service.id);
    if (!entries) return entries.error();
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main =
        heading("Guest list") + paragraph(
                                    "Team and guest list keys, and this service while it is in trial mode, may send "
                                    "only to its team members and to the people on this list.");
    if (entries->empty()) {
      main += paragraph("Nobody is on the guest list yet.");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const store::GuestListEntry& e : *entries) {
        rows.push_back({html_escape(e.recipient), e.recipient_type == "email" ? "Email address" : "Mobile number",
                        html_escape(human_time(e.created_at)),
                        small_form(service_path(access, "/guest-list/" + e.id.to_string() + "/remove"), csrf, "",
                                   "Remove", "Remove " + e.recipient)});
      }
      main += table("Guest list", {"Recipient", "Type", "Added", ""}, rows);
    }
    main += "<h2>Add someone</h2>" +
            form(service_path(access, "/guest-list"), csrf,
                 input({"recipient", "Email address or mobile number", "text", recipient, "off", "", error}), "Add");
    Page out = service_page(access, service_path(access, "/api-keys"), "Guest list", main);
    if (!error.empty()) out.errors = {{error, "recipient"}};
    return out;
  }

  net::Response guest_list(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageApiKeys, access)) return *refused;
    auto page = guest_list_page(access, "", "");
    if (!page) return internal_error();
    return html(200, *page);
  }

  net::Response add_guest(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    const std::string recipient = field(post.fields, "recipient");
    auto added = admin_.add_to_guest_list(access.service.id, recipient, deps_.clock.now());
    if (!added) {
      if (added.error().code != ErrorCode::kInvalidArgument) return internal_error();
      auto page = guest_list_page(access, recipient, "Enter a valid email address or mobile number");
      if (!page) return internal_error();
      return html(400, *page);
    }
    // The recipient is personal data: the audit log names the entry only.
    audit(request, access, "service.guest_list_added", {{"entry_id", added->id.to_string()}});
    return redirect(service_path(access, "/guest-list"));
  }

  net::Response remove_guest(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    auto id = Uuid::parse(params.at("entry"));
    if (!id) return not_found();
    auto removed = admin_.remove_from_guest_list(access.service.id, *id);
    if (!removed) return removed.error().code == ErrorCode::kNotFound ? not_found() : internal_error();
    audit(request, access, "service.guest_list_removed", {{"entry_id", id->to_string()}});
    return redirect(service_path(access, "/guest-list"));
  }

  domain::Admin admin_;
};

}  // namespace

void register_settings_pages(Router& router, const Dependencies& deps) {
  SettingsPages::install(router, std::make_shared<SettingsPages>(deps));
}

}  // namespace herald::api::admin
