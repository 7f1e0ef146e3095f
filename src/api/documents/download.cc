#include "api/documents/download.h"

#include <optional>
#include <string>

#include "api/documents/errors.h"
#include "api/html.h"
#include "core/log.h"
#include "core/url.h"

namespace herald::api::documents {
namespace {

using domain::DocumentAccess;

net::Response not_found_page() {
  return public_page(status_of(PageRefusal::kUnknownLink), "This link has expired",
                     "<h1>This link has expired or is not valid</h1><p>Files are only available for a limited time. "
                     "If you still need the file, contact the service that sent it to you.</p>");
}

std::optional<std::string> field(std::string_view form, std::string_view name) {
  for (auto& [key, value] : parse_form(form)) {
    if (key == name) return std::move(value);
  }
  return std::nullopt;
}

std::string service_name(const Dependencies& deps, ServiceId service) {
  auto found = deps.lookups.service(service, deps.clock.now());
  if (found && *found) return (*found)->name;
  return "A service";
}

// The path and query of this document's page; the key is the link's own.
std::string self_link(const PathParams& params, std::string_view key, std::string_view suffix = "") {
  return "/d/" + percent_encode(params.at("service_id")) + "/" + percent_encode(params.at("document_id")) +
         std::string(suffix) + "?key=" + percent_encode(key);
}

net::Response confirm_form(const Dependencies& deps, ServiceId service, const PathParams& params,
                           std::string_view key, const DocumentAccess* wrong) {
  std::string body = "<h1>Confirm your email address</h1><p>" + html_escape(service_name(deps, service)) +
                     " sent you a file. To download it, enter the email address the link was sent to.</p>";
  if (wrong != nullptr) {
    body += "<p class=\"error\" role=\"alert\">This is not the email address the file was sent to. You have " +
            std::to_string(wrong->attempts_left) + (wrong->attempts_left == 1 ? " try" : " tries") + " left.</p>";
  }
  body += "<form method=\"post\" action=\"" + html_escape(self_link(params, key)) +
          "\" novalidate><label for=\"email_address\">Email address</label>"
          "<input type=\"email\" id=\"email_address\" name=\"email_address\" autocomplete=\"email\" spellcheck=\"false\">"
          "<p><button type=\"submit\">Continue</button></p></form>";
  return public_page(wrong != nullptr ? status_of(PageRefusal::kWrongEmail) : 200, "Confirm your email address", body);
}

net::Response locked_page() {
  return public_page(status_of(PageRefusal::kLocked), "Too many attempts",
                     "<h1>This file is locked</h1><p>The wrong email address was entered too many times. "
                     "Contact the service that sent you the file.</p>");
}

// "attachment; filename=...": an ASCII stand-in, and the real name in RFC 5987 form.
std::string content_disposition(std::string_view filename) {
  std::string ascii;
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    ascii += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '/' || c == ';') ? '_' : c;
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + percent_encode(filename);
}

net::Response file_response(DocumentAccess&& access) {
  net::Response response{200, access.mime_type, std::move(access.content), public_page_headers()};
  response.headers.emplace_back("Content-Disposition", content_disposition(access.filename));
  return response;
}

struct Link {
  ServiceId service;
  std::string key;
};

std::optional<Link> link_of(const net::Request& request, const PathParams& params) {
  auto service = ServiceId::parse(params.at("service_id"));
  auto key = field(request.query, "key");
  if (!service || !key || key->empty()) return std::nullopt;
  return Link{*service, std::move(*key)};
}

// `email`: what the form posted, when it did.
net::Response serve(const Dependencies& deps, const net::Request& request, const PathParams& params,
                    domain::Documents::Want want, const std::optional<std::string>& email) {
  auto link = link_of(request, params);
  if (!link) return not_found_page();
  auto opened = deps.documents.open(link->service, params.at("document_id"), link->key, email, want, deps.clock.now());
  if (!opened) {
    log::error("documents.open_failed", {{"service_id", link->service.to_string()},
                                         {"document_id", params.at("document_id")},
                                         {"error", opened.error().message}});
    return public_page(status_of(PageRefusal::kProblem), "Sorry, there is a problem",
                       "<h1>Sorry, there is a problem with the service</h1>");
  }
  if (!*opened) return not_found_page();
  DocumentAccess& access = **opened;
  switch (access.state) {
    case DocumentAccess::State::kLocked: return locked_page();
    case DocumentAccess::State::kNeedsEmail: return confirm_form(deps, link->service, params, link->key, nullptr);
    case DocumentAccess::State::kWrongEmail: return confirm_form(deps, link->service, params, link->key, &access);
    case DocumentAccess::State::kReady: break;
  }
  if (want == domain::Documents::Want::kFile) return file_response(std::move(access));
  const std::string body = "<h1>You have a file to download</h1><p>" +
                           html_escape(service_name(deps, link->service)) + " sent you a file.</p><p><a href=\"" +
                           html_escape(self_link(params, link->key, "/download")) + "\" download>Download this file</a></p>"
                           "<p>The link works until the file expires.</p>";
  return public_page(200, "You have a file to download", body);
}

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  router.add("GET", "/d/{service_id}/{document_id}", [deps](const net::Request& r, const PathParams& p) {
    return serve(deps, r, p, domain::Documents::Want::kPage, std::nullopt);
  });
  router.add("POST", "/d/{service_id}/{document_id}", [deps](const net::Request& r, const PathParams& p) {
    return serve(deps, r, p, domain::Documents::Want::kFile, field(r.body, "email_address").value_or(""));
  });
  router.add("GET", "/d/{service_id}/{document_id}/download", [deps](const net::Request& r, const PathParams& p) {
    return serve(deps, r, p, domain::Documents::Want::kFile, std::nullopt);
  });
}

}  // namespace herald::api::documents
