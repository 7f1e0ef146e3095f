#include "api/govuk_v2/handlers.h"

#include <algorithm>

#include "api/govuk_v2/auth.h"
#include "api/govuk_v2/errors.h"
#include "api/govuk_v2/queries.h"
#include "api/govuk_v2/requests.h"
#include "api/govuk_v2/responses.h"
#include "core/log.h"

namespace herald::api::govuk_v2 {
namespace {

// GOV.UK's API_PAGE_SIZE: notifications and received texts per page.
constexpr int kPageSize = 250;

// GOV.UK builds absolute URLs from the request's own root (Flask's request.url_root).
std::string root_url(const net::Request& request, const std::string& configured) {
  if (!configured.empty()) return configured;
  std::string host;
  for (char c : request.host) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' ||
        c == '[' || c == ']') {
      host += c;
    }
  }
  if (host.empty()) host = "localhost";
  return "https://" + host + "/";
}

// How far a send has come (Router's Progress): each step runs once, whichever run reaches it,
// so a cache miss after the limits were checked does not count the request twice.
template <typename Request>
struct SendProgress {
  Timestamp now;                         // the request's time, fixed by its first run
  std::optional<domain::Caller> caller;  // authenticated
  domain::Admission admission;           // the limits, each counted once
  std::optional<Request> parsed;         // the body, checked against the schema
};

template <typename Request>
SendProgress<Request>& progress_of(Progress& progress, const Clock& clock) {
  if (!progress.has_value()) progress = SendProgress<Request>{clock.now(), std::nullopt, {}, std::nullopt};
  return std::any_cast<SendProgress<Request>&>(progress);
}

// Authentication, limits (before the body, as GOV.UK) and the schema, each once. Returns false
// when it would block, true when it replied (a refusal), nullopt when the send may go on.
template <typename Request, typename Parse>
std::optional<bool> admit_and_parse(const Dependencies& deps, const net::Request& request, const Reply& reply,
                                    Blocking blocking, SendProgress<Request>& step, store::Channel channel,
                                    Parse&& parse) {
  if (!step.caller) {
    auto caller = authenticate(request, deps.authenticator, step.now, blocking, &deps.auth_hooks);
    if (!caller) return false;  // would block: nothing done yet
    if (auto* refused = std::get_if<net::Response>(&*caller)) {
      reply([response = std::move(*refused)] { return response; });
      return true;
    }
    step.caller = std::get<domain::Caller>(*caller);
  }
  if (auto admitted = deps.notifications.admit(*step.caller, channel, step.now, blocking, step.admission); !admitted) {
    if (admitted.error().code == ErrorCode::kWouldBlock) return false;
    reply([response = error_response(admitted.error())] { return response; });
    return true;
  }
  if (!step.parsed) {
    auto body = parse_body(request.body);
    if (auto* invalid = std::get_if<net::Response>(&body)) {
      reply([response = std::move(*invalid)] { return response; });
      return true;
    }
    auto parsed = parse(std::get<json::Value>(body), step.now);
    if (auto* invalid = std::get_if<net::Response>(&parsed)) {
      reply([response = std::move(*invalid)] { return response; });
      return true;
    }
    step.parsed = std::move(std::get<Request>(parsed));
  }
  return std::nullopt;
}

bool post_email(const Dependencies& deps, const net::Request& request, const Reply& reply,
                Blocking blocking, Progress& progress) {
  auto& step = progress_of<domain::EmailRequest>(progress, deps.clock);
  if (auto done = admit_and_parse(deps, request, reply, blocking, step, store::Channel::kEmail, parse_send_email))
    return *done;
  step.parsed->public_root = root_url(request, deps.public_root);
  const domain::Caller who = *step.caller;
  // With kWouldBlock, send_email_async leaves the request whole for the resumed run.
  auto sent = deps.notifications.send_email_async(
      who, std::move(*step.parsed), step.now, blocking,
      [reply, who, root = root_url(request, deps.public_root)](Result<domain::AcceptedEmail> accepted) {
        // Runs on the store's writer thread: the response is built on the connection's thread.
        auto shared = std::make_shared<Result<domain::AcceptedEmail>>(std::move(accepted));
        reply([shared, who, root] {
          if (!*shared) return error_response(shared->error());
          const domain::AcceptedEmail& email = **shared;
          if (log::enabled(log::Level::kInfo)) {
            log::info("notification.accepted", {{"notification_id", email.record.id.to_string()},
                                                {"service_id", who.service.to_string()},
                                                {"api_key_id", who.key.to_string()}});
          }
          return net::Response{201, "application/json", created_email_json(email, root), {}};
        });
      });
  return sent.has_value();  // kWouldBlock: neither replied nor stored
}

bool post_sms(const Dependencies& deps, const net::Request& request, const Reply& reply, Blocking blocking,
              Progress& progress) {
  auto& step = progress_of<domain::SmsRequest>(progress, deps.clock);
  // Sender ids are read from the store: texts are accepted on the pool, after authentication.
  if (step.caller && blocking == Blocking::kNotAllowed) return false;
  if (!step.caller) {
    auto caller = authenticate(request, deps.authenticator, step.now, blocking, &deps.auth_hooks);
    if (!caller) return false;
    if (auto* refused = std::get_if<net::Response>(&*caller)) {
      reply([response = std::move(*refused)] { return response; });
      return true;
    }
    step.caller = std::get<domain::Caller>(*caller);
    if (blocking == Blocking::kNotAllowed) return false;
  }
  if (auto done = admit_and_parse(deps, request, reply, blocking, step, store::Channel::kSms, parse_send_sms))
    return *done;
  const domain::Caller who = *step.caller;
  auto sent = deps.notifications.send_sms_async(
      who, std::move(*step.parsed), step.now, blocking,
      [reply, who, root = root_url(request, deps.public_root)](Result<domain::AcceptedSms> accepted) {
        auto shared = std::make_shared<Result<domain::AcceptedSms>>(std::move(accepted));
        reply([shared, who, root] {
          if (!*shared) return error_response(shared->error());
          log::info("notification.accepted", {{"notification_id", (*shared)->record.id.to_string()},
                                              {"service_id", who.service.to_string()},
                                              {"api_key_id", who.key.to_string()}});
          return net::Response{201, "application/json", created_sms_json(**shared, root), {}};
        });
      });
  return sent.has_value();
}

// Authenticates a synchronous route's request and runs `use` with the caller; refusals are
// answered in the v2 envelope.
template <typename F>
net::Response with_caller(const Dependencies& deps, const net::Request& request, F&& use) {
  auto caller = authenticate(request, deps.authenticator, deps.clock.now(), Blocking::kAllowed, &deps.auth_hooks);
  if (!caller) return error_response(caller.error());
  if (auto* refused = std::get_if<net::Response>(&*caller)) return std::move(*refused);
  return use(std::get<domain::Caller>(*caller));
}

// Letters are rendered (or checked) as they are sent: on the pool, synchronously.
net::Response post_letter(const Dependencies& deps, const net::Request& request) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    const Timestamp now = deps.clock.now();
    if (auto admitted = deps.notifications.admit(caller, store::Channel::kLetter, now, Blocking::kAllowed); !admitted) {
      return error_response(admitted.error());
    }
    auto body = parse_body(request.body);
    if (auto* invalid = std::get_if<net::Response>(&body)) return std::move(*invalid);
    auto parsed = parse_send_letter(std::get<json::Value>(body));
    if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
    const bool precompiled = std::holds_alternative<domain::PrecompiledLetterRequest>(parsed);
    auto accepted = precompiled
                        ? deps.letters.send_precompiled(caller, std::move(std::get<domain::PrecompiledLetterRequest>(parsed)), now)
                        : deps.letters.send(caller, std::move(std::get<domain::LetterRequest>(parsed)), now);
    if (!accepted) return error_response(accepted.error());
    log::info("notification.accepted", {{"notification_id", accepted->record.id.to_string()},
                                        {"service_id", caller.service.to_string()},
                                        {"api_key_id", caller.key.to_string()}});
    return net::Response{201, "application/json",
                         precompiled ? created_precompiled_letter_json(*accepted)
                                     : created_letter_json(*accepted, root_url(request, deps.public_root)),
                         {}};
  });
}

net::Response get_letter_pdf(const Dependencies& deps, const net::Request& request, const PathParams& params) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto id = NotificationId::parse(params.at("notification_id"));
    if (!id) return validation_error("notification_id is not a valid UUID");
    auto pdf = deps.letters.pdf(caller, *id);
    if (!pdf) return error_response(pdf.error());
    return net::Response{200, "application/pdf", std::move(*pdf), {}};
  });
}

net::Response get_notification(const Dependencies& deps, const net::Request& request,
                               const PathParams& params) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto id = NotificationId::parse(params.at("notification_id"));
    if (!id) return validation_error("notification_id is not a valid UUID");
    auto found = deps.notifications.get(caller, *id);
    if (!found) return error_response(found.error());
    if (!*found) return no_result_found();
    return net::Response{200, "application/json", notification_json(**found, root_url(request, deps.public_root), deps.prices), {}};
  });
}

net::Response list_notifications(const Dependencies& deps, const net::Request& request) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto parsed = parse_list_notifications(request.query);
    if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
    auto& filters = std::get<ListNotificationsRequest>(parsed);
    store::NotificationQuery query;
    query.types = std::move(filters.types);
    query.statuses = std::move(filters.statuses);
    query.reference = std::move(filters.reference);
    query.older_than = filters.older_than;
    query.include_jobs = filters.include_jobs;
    query.limit = kPageSize;
    auto page = deps.notifications.list(caller, std::move(query));
    if (!page) return error_response(page.error());
    const std::string root = root_url(request, deps.public_root);
    const std::string base = root + "v2/notifications";
    std::optional<std::string> next;
    if (!page->empty()) next = page_link(base, filters.echo, page->back().id.to_string());
    return net::Response{200, "application/json",
                         notifications_page_json(*page, root, deps.prices, page_link(base, filters.echo, std::nullopt), next), {}};
  });
}

net::Response list_received_texts(const Dependencies& deps, const net::Request& request) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto parsed = parse_older_than_only(request.query);
    if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
    auto page = deps.received_texts.list(caller, std::get<std::optional<Uuid>>(parsed), deps.clock.now());
    if (!page) return error_response(page.error());
    const std::string base = root_url(request, deps.public_root) + "v2/received-text-messages";
    std::optional<std::string> next;
    if (!page->empty()) next = page_link(base, {}, page->back().id.to_string());
    return net::Response{200, "application/json", received_texts_json(*page, base, next), {}};
  });
}

net::Response get_template(const Dependencies& deps, const net::Request& request, const PathParams& params) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto id = TemplateId::parse(params.at("template_id"));
    if (!id) return validation_error("id is not a valid UUID");
    std::optional<int> version;
    if (auto v = params.find("version"); v != params.end()) {
      // GOV.UK's route takes only digits; 0 means the latest (a truthiness check upstream).
      const std::string& text = v->second;
      if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return unknown_url();
      }
      if (const int n = std::stoi(text); n > 0) version = n;
    }
    auto found = deps.templates.get(caller, *id, version);
    if (!found) return error_response(found.error());
    if (!*found) return no_result_found();
    auto contact_block = deps.templates.letter_contact_blocks(caller, {**found});
    if (!contact_block) return error_response(contact_block.error());
    return net::Response{200, "application/json", template_json(**found, contact_block->front()), {}};
  });
}

net::Response list_templates(const Dependencies& deps, const net::Request& request) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto parsed = parse_list_templates(request.query);
    if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
    auto found = deps.templates.list(caller, std::get<std::optional<store::Channel>>(parsed));
    if (!found) return error_response(found.error());
    auto contact_blocks = deps.templates.letter_contact_blocks(caller, *found);
    if (!contact_blocks) return error_response(contact_blocks.error());
    return net::Response{200, "application/json", templates_json(*found, *contact_blocks), {}};
  });
}

net::Response preview_template(const Dependencies& deps, const net::Request& request, const PathParams& params) {
  return with_caller(deps, request, [&](const domain::Caller& caller) {
    auto id = TemplateId::parse(params.at("template_id"));
    if (!id) return validation_error("id is not a valid UUID");
    auto parsed = parse_preview(request.body);
    if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
    auto preview = deps.templates.preview(caller, *id, std::get<domain::Personalisation>(parsed));
    if (!preview) return error_response(preview.error());
    return net::Response{200, "application/json", template_preview_json(*preview), {}};
  });
}

}  // namespace

void register_routes(Router& router, const Dependencies& deps) {
  router.add_async("POST", "/v2/notifications/email",
                   [deps](const net::Request& r, const PathParams&, const Reply& reply, Blocking blocking,
                          Progress& progress) { return post_email(deps, r, reply, blocking, progress); });
  router.add("GET", "/v2/notifications/{notification_id}",
             [deps](const net::Request& r, const PathParams& p) { return get_notification(deps, r, p); });
  router.add_async("POST", "/v2/notifications/sms",
                   [deps](const net::Request& r, const PathParams&, const Reply& reply, Blocking blocking,
                          Progress& progress) { return post_sms(deps, r, reply, blocking, progress); });
  router.add("POST", "/v2/notifications/letter",
             [deps](const net::Request& r, const PathParams&) { return post_letter(deps, r); });
  router.add("GET", "/v2/notifications/{notification_id}/pdf",
             [deps](const net::Request& r, const PathParams& p) { return get_letter_pdf(deps, r, p); });
  router.add("GET", "/v2/notifications",
             [deps](const net::Request& r, const PathParams&) { return list_notifications(deps, r); });
  router.add("GET", "/v2/template/{template_id}",
             [deps](const net::Request& r, const PathParams& p) { return get_template(deps, r, p); });
  router.add("GET", "/v2/template/{template_id}/version/{version}",
             [deps](const net::Request& r, const PathParams& p) { return get_template(deps, r, p); });
  router.add("GET", "/v2/received-text-messages",
             [deps](const net::Request& r, const PathParams&) { return list_received_texts(deps, r); });
  router.add("GET", "/v2/templates",
             [deps](const net::Request& r, const PathParams&) { return list_templates(deps, r); });
  router.add("POST", "/v2/template/{template_id}/preview",
             [deps](const net::Request& r, const PathParams& p) { return preview_template(deps, r, p); });
}

}  // namespace herald::api::govuk_v2
