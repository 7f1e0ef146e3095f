// Where a service is told what happened, in the admin UI: its GOV.UK Notify callbacks (delivery
// receipts and received text messages: an HTTPS URL and the bearer token Herald sends), and the
// receivers of its NHS Notify clients' callbacks with the callbacks given up on (dead), which can
// be sent again. As GOV.UK keeps callbacks with the API integration, these pages need "manage
// API keys"; saving a URL or adding a receiver sends personal data to a new place, so it needs
// the second factor given recently, and the URL must lead to public addresses (the SSRF guard,
// applied again on every connection). Tokens and keys are never shown again once saved; a new
// receiver's API key (half of the HMAC key its callbacks are signed with) is shown once. What is
// left to `herald nhs callback add`: status filters, mutual TLS files and pinning (files on the
// Herald host are an operator's business, not a web form's), rates and retry windows.

#include <memory>

#include "api/admin/base.h"
#include "api/html.h"
#include "crypto/secret.h"
#include "domain/admin.h"
#include "domain/nhs/callbacks.h"
#include "net/http_client.h"

namespace herald::api::admin {
namespace {

using domain::users::Permission;

struct CallbackPage {
  store::CallbackKind kind;
  const char* slug;
  const char* title;
  const char* what;
};
constexpr CallbackPage kCallbackPages[] = {
    {store::CallbackKind::kDeliveryStatus, "delivery-receipts", "Delivery receipts",
     "Herald posts each message's final status (delivered, permanent failure, ...) to this URL."},
    {store::CallbackKind::kInboundSms, "received-text-messages", "Received text messages",
     "Herald posts each text message the service receives to this URL."},
};

const CallbackPage* callback_page(std::string_view slug) {
  for (const CallbackPage& p : kCallbackPages) {
    if (slug == p.slug) return &p;
  }
  return nullptr;
}

constexpr int kDeadShown = 100;

class CallbackPages : public PageHandlers {
 public:
  explicit CallbackPages(Dependencies deps) : PageHandlers(std::move(deps)), admin_(deps_.services) {}

  static void install(Router& router, const std::shared_ptr<CallbackPages>& self) {
    add(router, self, "GET", "/services/{id}/callbacks", &CallbackPages::callbacks);
    add(router, self, "POST", "/services/{id}/callbacks/{kind}", &CallbackPages::set_callback);
    add(router, self, "POST", "/services/{id}/callbacks/{kind}/remove", &CallbackPages::remove_callback);
    add(router, self, "POST", "/services/{id}/callbacks/{kind}/dead/{item}/replay", &CallbackPages::replay_dead);
    add(router, self, "GET", "/services/{id}/nhs-callbacks", &CallbackPages::nhs_callbacks);
    add(router, self, "POST", "/services/{id}/nhs-callbacks", &CallbackPages::add_receiver);
    add(router, self, "POST", "/services/{id}/nhs-callbacks/{target}/remove", &CallbackPages::remove_receiver);
    add(router, self, "POST", "/services/{id}/nhs-callbacks/dead/{callback}/replay", &CallbackPages::replay);
  }

 private:
  // --- GOV.UK Notify callbacks ----------------------------------------------------------------

  // Each kind's section: what is set, and a form to set it (with the URL and error of the last
  // try for `failed`).
  Result<Page> callbacks_page(const ServiceAccess& access, const CallbackPage* failed, const std::string& url,
                              const std::vector<FieldError>& errors) {
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main =
        heading("Callbacks") + paragraph(
                                   "Herald tells your service what happened by posting JSON to these HTTPS URLs, "
                                   "with the bearer token in the Authorization header.");
    for (const CallbackPage& p : kCallbackPages) {
      auto set = deps_.services.find_service_callback(access.service.id, p.kind);
      if (!set) return set.error();
      const std::string prefix = p.slug;
      main += "<h2>" + html_escape(p.title) + "</h2>" + paragraph(p.what);
      std::string current;
      if (*set) {
        crypto::wipe_string((*set)->bearer_token);
        current = (*set)->url;
        main += "<dl class=\"nhsuk-summary-list\">" + summary_row("URL", (*set)->url) +
                summary_row("Last changed", human_time((*set)->updated_at)) + "</dl>";
      } else {
        main += paragraph("Not set.");
      }
      const bool this_one = failed == &p;
      main += form(service_path(access, "/callbacks/" + prefix), csrf,
                   input({prefix + "-url", "URL", "url", this_one ? url : current, "off", "Starts with https://",
                          this_one ? error_for(errors, prefix + "-url") : ""}) +
                       input({prefix + "-token", "Bearer token", "password", "", "new-password",
                              "At least 10 characters. It is stored encrypted and not shown again.",
                              this_one ? error_for(errors, prefix + "-token") : ""}),
                   *set ? "Save changes" : "Save");
      if (*set) {
        main += small_form(service_path(access, "/callbacks/" + prefix + "/remove"), csrf, "", "Remove",
                           std::string("Remove the ") + p.title + " callback");
      }
    }
    auto dead = deps_.callbacks.dead_callbacks(access.service.id, kDeadShown);
    if (!dead) return dead.error();
    if (!dead->empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const store::DeadCallback& d : *dead) {
        const CallbackPage& p = d.kind == store::CallbackKind::kDeliveryStatus ? kCallbackPages[0] : kCallbackPages[1];
        const std::string id = d.id.to_string();
        const std::string what = d.kind == store::CallbackKind::kDeliveryStatus
                                     ? link(service_path(access, "/notifications/" + id), id)
                                     : "<code>" + html_escape(id) + "</code>";
        rows.push_back(
            {html_escape(p.title), what, std::to_string(d.attempts), html_escape(human_time(d.dead_at)),
             html_escape(d.error),
             small_form(service_path(access, std::string("/callbacks/") + p.slug + "/dead/" + id + "/replay"), csrf, "",
                        "Send again", "Send the callback for " + id + " again")});
      }
      main += "<h2 id=\"given-up\">Given up on</h2>" +
              paragraph(
                  "Herald stopped trying these callbacks: the URL refused them, or did not accept them after its "
                  "retries. Sending one again tries it as if new.") +
              table("Callbacks given up on", {"Callback", "Message or text", "Attempts", "Given up", "Last answer", ""},
                    rows);
    }
    main += "<h2>NHS Notify</h2>" +
            paragraph("The callbacks of the service's NHS Notify clients, and those given up on:") + "<p>" +
            link(service_path(access, "/nhs-callbacks"), "NHS Notify callbacks") + "</p>";
    Page page = service_page(access, service_path(access, "/api-keys"), "Callbacks", main);
    page.errors = errors;
    return page;
  }

  net::Response callbacks(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageApiKeys, access)) return *refused;
    auto page = callbacks_page(access, nullptr, "", {});
    if (!page) return internal_error();
    return html(200, *page);
  }

  net::Response set_callback(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    const CallbackPage* p = callback_page(params.at("kind"));
    if (p == nullptr) return not_found();
    if (!deps_.users.recently_verified(access.who)) return reauthentication_needed(service_path(access, "/callbacks"));
    const std::string prefix = p->slug;
    const std::string url = field(post.fields, prefix + "-url");
    std::string token = field(post.fields, prefix + "-token");
    for (auto& [name, value] : post.fields) crypto::wipe_string(value);
    std::vector<FieldError> errors;
    if (auto checked = net::check_destination(url, deps_.callback_policy); !checked) {
      errors.emplace_back(
          "Enter a URL that starts with https:// and leads to a public address (" + checked.error().message + ")",
          prefix + "-url");
    } else if (auto saved = admin_.set_callback(access.service.id, p->kind, url, token, deps_.clock.now()); !saved) {
      if (saved.error().code != ErrorCode::kInvalidArgument) {
        crypto::wipe_string(token);
        return internal_error();
      }
      errors.emplace_back(capitalised(saved.error().message), saved.error().message.find("token") != std::string::npos
                                                                  ? prefix + "-token"
                                                                  : prefix + "-url");
    }
    crypto::wipe_string(token);
    if (!errors.empty()) {
      auto page = callbacks_page(access, p, url, errors);
      if (!page) return internal_error();
      return html(400, *page);
    }
    audit(request, access, "service.callback_set", {{"kind", store::callback_kind_name(p->kind)}});
    return redirect(service_path(access, "/callbacks"));
  }

  net::Response remove_callback(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    const CallbackPage* p = callback_page(params.at("kind"));
    if (p == nullptr) return not_found();
    auto removed = admin_.remove_callback(access.service.id, p->kind);
    if (!removed && removed.error().code != ErrorCode::kNotFound) return internal_error();
    if (removed) audit(request, access, "service.callback_removed", {{"kind", store::callback_kind_name(p->kind)}});
    return redirect(service_path(access, "/callbacks"));
  }

  // Only a dead callback of this service, of the kind the URL names.
  net::Response replay_dead(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    const CallbackPage* p = callback_page(params.at("kind"));
    auto id = Uuid::parse(params.at("item"));
    if (p == nullptr || !id) return not_found();
    auto replayed = deps_.callbacks.replay_callback(access.service.id, p->kind, *id, deps_.clock.now());
    if (!replayed) return internal_error();
    if (!*replayed) return not_found();
    audit(request, access, "service.callback_replayed",
          {{"kind", store::callback_kind_name(p->kind)}, {"id", id->to_string()}});
    return redirect(service_path(access, "/callbacks"));
  }

  // --- NHS Notify callbacks -------------------------------------------------------------------

  static std::string statuses_of(const store::NhsCallbackTarget& t) {
    std::string out;
    for (const auto& s : t.statuses) out += (out.empty() ? "" : ", ") + s;
    for (const auto& s : t.supplier_statuses) out += (out.empty() ? "supplier: " : ", supplier: ") + s;
    return out.empty() ? "Every status change" : out;
  }

  Result<Page> nhs_page(const ServiceAccess& access, const std::string& shown_key,
                        const std::vector<FieldError>& errors, const FormFields& values) {
    auto mine = nhs_clients_of(access);
    if (!mine) return mine.error();
    const std::string csrf = domain::users::Users::csrf_token(access.token);
    std::string main = heading("NHS Notify callbacks");
    if (!shown_key.empty()) {
      main +=
          "<div class=\"nhsuk-inset-text\"><p>Give the receiver this API key now: Herald sends it in the "
          "header you named and signs each callback with HMAC-SHA256 under \u201c&lt;application "
          "id&gt;.&lt;API key&gt;\u201d. It is not shown again.</p><p><code id=\"receiver-key\">" +
          html_escape(shown_key) + "</code></p></div>";
    }
    if (mine->empty()) {
      main += paragraph("This service has no NHS Notify client.");
      return service_page(access, service_path(access, "/api-keys"), "NHS Notify callbacks", main);
    }
    std::vector<std::pair<std::string, std::string>> client_options;
    for (const store::NhsClientRecord& c : *mine) {
      client_options.emplace_back(c.id.to_string(), c.name);
      auto targets = deps_.nhs_callbacks.nhs_callback_targets(c.id);
      if (!targets) return targets.error();
      main += "<h2>" + html_escape(c.name) + "</h2>";
      std::vector<std::vector<std::string>> rows;
      for (store::NhsCallbackTarget& t : *targets) {
        crypto::wipe_string(t.api_key);
        rows.push_back({t.kind == store::NhsCallbackKind::kMessage ? "Message status" : "Channel status",
                        html_escape(t.url), html_escape(statuses_of(t)),
                        small_form(service_path(access, "/nhs-callbacks/" + t.id.to_string() + "/remove"), csrf, "",
                                   "Remove", "Remove the receiver at " + t.url)});
      }
      main += rows.empty() ? paragraph("No receivers: this client is not told of status changes.")
                           : table("Receivers", {"Callbacks", "URL", "Statuses", ""}, rows);
      auto dead = deps_.nhs_callbacks.dead_nhs_callbacks(c.id, kDeadShown);
      if (!dead) return dead.error();
      if (!dead->empty()) {
        std::vector<std::vector<std::string>> dead_rows;
        for (const store::NhsCallbackRecord& d : *dead) {
          dead_rows.push_back(
              {"<code>" + html_escape(d.message_id) + "</code>", std::to_string(d.attempts),
               html_escape(human_time(d.created_at)), html_escape(d.last_error.value_or("")),
               small_form(service_path(access, "/nhs-callbacks/dead/" + std::to_string(d.id) + "/replay"), csrf, "",
                          "Send again", "Send the callback for message " + d.message_id + " again")});
        }
        main += "<h3>Given up on</h3>" +
                paragraph(
                    "These callbacks were not accepted within their retry window. Sending one again tries "
                    "it as if new.") +
                table("Callbacks given up on", {"Message", "Attempts", "Made", "Last error", ""}, dead_rows);
      }
    }
    std::string fields;
    if (client_options.size() == 1) {
      fields += hidden("client", client_options.front().first);
    } else {
      fields += select({"client", "Client", "", field(values, "client"), "", "", error_for(errors, "client")},
                       client_options);
    }
    const std::string kind = field(values, "kind").empty() ? "message" : field(values, "kind");
    fields +=
        radios("kind", "Callbacks",
               {{"message", "Message status (each message's overall status)"},
                {"channel", "Channel status (each channel's, and its supplier's)"}},
               kind) +
        input({"url", "URL", "url", field(values, "url"), "off", "Starts with https://", error_for(errors, "url")}) +
        input({"header", "Header for the API key", "text",
               field(values, "header").empty() ? "x-api-key" : field(values, "header"), "off", "",
               error_for(errors, "header"), "", "nhsuk-input--width-20"});
    main += "<h2>Add a receiver</h2>" +
            paragraph(
                "Herald makes its API key. Status filters, mutual TLS and pinning are set with "
                "\u2018herald nhs callback add\u2019.") +
            form(service_path(access, "/nhs-callbacks"), csrf, fields, "Add the receiver");
    Page page = service_page(access, service_path(access, "/api-keys"), "NHS Notify callbacks", main);
    page.errors = errors;
    return page;
  }

  net::Response nhs_callbacks(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    if (auto refused = open_service(request, params, Permission::kManageApiKeys, access)) return *refused;
    auto page = nhs_page(access, "", {}, {});
    if (!page) return internal_error();
    return html(200, *page);
  }

  net::Response add_receiver(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    auto owner = nhs_client_of(access, field(post.fields, "client"));
    if (!owner) return internal_error();
    if (!*owner) return not_found();
    if (!deps_.users.recently_verified(access.who)) {
      return reauthentication_needed(service_path(access, "/nhs-callbacks"));
    }
    domain::nhs::NewCallbackTarget in;
    in.client = (*owner)->id;
    in.kind =
        field(post.fields, "kind") == "channel" ? store::NhsCallbackKind::kChannel : store::NhsCallbackKind::kMessage;
    in.url = field(post.fields, "url");
    in.api_key_header = field(post.fields, "header");
    std::vector<FieldError> errors;
    Result<store::NhsCallbackTarget> target = invalid_argument("not made");
    if (auto checked = net::check_destination(in.url, deps_.callback_policy); !checked) {
      errors.emplace_back(
          "Enter a URL that starts with https:// and leads to a public address (" + checked.error().message + ")",
          "url");
    } else {
      target = domain::nhs::make_callback_target(std::move(in), deps_.clock.now());
      if (!target) {
        if (target.error().code != ErrorCode::kInvalidArgument) return internal_error();
        errors.emplace_back(capitalised(target.error().message),
                            target.error().message.find("header") != std::string::npos ? "header" : "url");
      }
    }
    if (!errors.empty()) {
      auto page = nhs_page(access, "", errors, post.fields);
      if (!page) return internal_error();
      return html(400, *page);
    }
    if (auto saved = deps_.nhs_callbacks.put_nhs_callback_target(*target); !saved) {
      crypto::wipe_string(target->api_key);
      return internal_error();
    }
    audit(request, access, "nhs_callback.added",
          {{"client_id", (*owner)->id.to_string()},
           {"target_id", target->id.to_string()},
           {"kind", store::nhs_callback_kind_name(target->kind)}});
    auto page = nhs_page(access, target->api_key, {}, {});
    crypto::wipe_string(target->api_key);
    if (!page) return internal_error();
    return html(201, *page);
  }

  net::Response remove_receiver(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    auto id = Uuid::parse(params.at("target"));
    if (!id) return not_found();
    auto mine = nhs_clients_of(access);
    if (!mine) return internal_error();
    bool found = false;
    for (const store::NhsClientRecord& c : *mine) {
      auto targets = deps_.nhs_callbacks.nhs_callback_targets(c.id);
      if (!targets) return internal_error();
      for (store::NhsCallbackTarget& t : *targets) {
        crypto::wipe_string(t.api_key);
        found = found || t.id == *id;
      }
    }
    if (!found) return not_found();
    auto removed = deps_.nhs_callbacks.delete_nhs_callback_target(*id);
    if (!removed) return internal_error();
    if (*removed) audit(request, access, "nhs_callback.removed", {{"target_id", id->to_string()}});
    return redirect(service_path(access, "/nhs-callbacks"));
  }

  net::Response replay(const net::Request& request, const PathParams& params) {
    ServiceAccess access;
    Post post;
    if (auto refused = open_post(request, params, Permission::kManageApiKeys, access, post)) return *refused;
    const std::string& text = params.at("callback");
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return not_found();
    }
    const std::int64_t id = std::stoll(text);
    // Only a dead callback of one of the service's clients.
    auto mine = nhs_clients_of(access);
    if (!mine) return internal_error();
    bool theirs = false;
    for (const store::NhsClientRecord& c : *mine) {
      auto dead = deps_.nhs_callbacks.dead_nhs_callbacks(c.id, kDeadShown);
      if (!dead) return internal_error();
      theirs = theirs || std::any_of(dead->begin(), dead->end(), [&](const auto& d) { return d.id == id; });
    }
    if (!theirs) return not_found();
    auto replayed = deps_.nhs_callbacks.replay_nhs_callback(id, deps_.clock.now());
    if (!replayed) return internal_error();
    if (*replayed) audit(request, access, "nhs_callback.replayed", {{"callback_id", text}});
    return redirect(service_path(access, "/nhs-callbacks"));
  }

  domain::Admin admin_;
};

}  // namespace

void register_callback_pages(Router& router, const Dependencies& deps) {
  CallbackPages::install(router, std::make_shared<CallbackPages>(deps));
}

}  // namespace herald::api::admin
