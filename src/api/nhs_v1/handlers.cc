#include "api/nhs_v1/handlers.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>

#include "api/nhs_v1/errors.h"
#include "api/nhs_v1/requests.h"
#include "api/nhs_v1/responses.h"
#include "core/cidr.h"
#include "core/json.h"
#include "core/ksuid.h"
#include "core/log.h"
#include "core/url.h"

namespace herald::api::nhs_v1 {
namespace {

using domain::nhs::AccessRefusal;

bool equals_ignoring_case(std::string_view a, std::string_view b) { return net::iequals(a, b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A JSON media type the API speaks, optionally with "; charset=utf-8" (the OpenAPI lists it; NHS's
// gateway compares whole strings and refuses it, Herald follows the documented behaviour).
bool json_media_type(std::string_view value, bool allow_wildcards) {
  const auto semicolon = value.find(';');
  const std::string_view type = trim(value.substr(0, semicolon));
  if (semicolon != std::string_view::npos) {
    std::string_view params = value.substr(semicolon + 1);
    // Only a charset of utf-8 and, in Accept, a quality other than zero.
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      const auto eq = param.find('=');
      const std::string_view name = trim(param.substr(0, eq));
      std::string_view arg = eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
      if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"') arg = arg.substr(1, arg.size() - 2);
      if (equals_ignoring_case(name, "charset")) {
        if (!equals_ignoring_case(arg, "utf-8")) return false;
      } else if (allow_wildcards && equals_ignoring_case(name, "q")) {
        if (std::strtod(std::string(arg).c_str(), nullptr) <= 0.0) return false;
      } else {
        return false;
      }
      if (next == std::string_view::npos) break;
      params.remove_prefix(next + 1);
    }
  }
  if (equals_ignoring_case(type, "application/json") || equals_ignoring_case(type, "application/vnd.api+json")) {
    return true;
  }
  return allow_wildcards && (type == "*/*" || equals_ignoring_case(type, "application/*"));
}

}  // namespace

// Accept: absent, or a list in which some range the API can answer.
bool acceptable(const net::Request& request) {
  const auto accept = request.header("Accept");
  if (!accept || trim(*accept).empty()) return true;
  std::string_view list = *accept;
  while (true) {
    const auto comma = list.find(',');
    if (json_media_type(list.substr(0, comma), true)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

bool json_body(const net::Request& request) {
  const auto type = request.header("Content-Type");
  return type && json_media_type(*type, false);
}

namespace {

// The steps every resource request takes first: the client's token, its rate limits, then what
// it accepts.
// Returns the client, or the response that refuses the request.
std::variant<store::NhsClientRecord, net::Response> admit(const Dependencies& deps, const Exchange& exchange,
                                                          const net::Request& request, bool has_body) {
  auto access = deps.clients.authenticate(request.header("Authorization"));
  if (!access) return error_response(exchange, access.error());
  if (auto* refusal = std::get_if<AccessRefusal>(&*access)) {
    if (deps.on_auth_failure) deps.on_auth_failure("nhs bearer token refused", request.remote_address);
    switch (*refusal) {
      case AccessRefusal::kDenied: return problem(exchange, Cm::kDenied);
      case AccessRefusal::kForbidden: return problem(exchange, Cm::kForbidden);
      case AccessRefusal::kServiceBan: return problem(exchange, Cm::kServiceBan);
    }
  }
  const auto& client = std::get<store::NhsClientRecord>(*access);
  // A client restricted to networks (`herald key restrict`) is refused from any other.
  if (!client.allowed_networks.empty()) {
    auto networks = cidr::NetworkSet::parse(client.allowed_networks);
    if (!networks || !networks->contains(request.remote_address)) {
      if (deps.on_auth_failure) deps.on_auth_failure("nhs network not allowed", request.remote_address);
      return problem(exchange, Cm::kForbidden);
    }
  }
  if (deps.on_authenticated) deps.on_authenticated(client, request.remote_address);
  auto limited = deps.rate_limits.admit(client.id);
  if (!limited) return error_response(exchange, limited.error());
  if (*limited) return quota(exchange, **limited);
  if (!acceptable(request)) return problem(exchange, Cm::kNotAcceptable);
  if (has_body && !json_body(request)) return problem(exchange, Cm::kUnsupportedMedia);
  return std::get<store::NhsClientRecord>(std::move(*access));
}

// Runs a handler; an exception (a bug) becomes NHS's 500, never its text.
template <typename F>
RouteHandler guarded(F handler) {
  return [handler = std::move(handler)](const net::Request& request, const PathParams& params) {
    const Exchange exchange = exchange_for(request);
    try {
      return handler(exchange, request, params);
    } catch (const std::exception& e) {
      log::error("nhs_api.handler_exception", {{"path", request.path}, {"what", e.what()}});
      return problem(exchange, Cm::kInternalServerError);
    }
  };
}

std::optional<std::string> form_value(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return std::nullopt;
}

net::Response token(const Dependencies& deps, const Exchange& exchange, const net::Request& request) {
  const auto type = request.header("Content-Type");
  const std::string_view media = type ? trim(type->substr(0, type->find(';'))) : std::string_view();
  if (!equals_ignoring_case(media, "application/x-www-form-urlencoded")) return token_not_a_form(exchange);
  const FormFields form = parse_form(request.body);
  domain::nhs::TokenRequest token_request{
      form_value(form, "grant_type"), form_value(form, "client_assertion_type"), form_value(form, "client_assertion"),
      deps.token_url.empty() ? "https://" + request.host + deps.token_path : deps.token_url};
  auto outcome = deps.tokens.issue(token_request);
  if (!outcome) return token_error(exchange, outcome.error());
  if (auto* refusal = std::get_if<domain::nhs::TokenRefusal>(&*outcome)) {
    net::Response refused = token_refusal(exchange, *refusal);
    if (deps.on_auth_failure) deps.on_auth_failure("nhs token request refused", request.remote_address);
    return refused;
  }
  const auto& issued = std::get<domain::nhs::IssuedToken>(*outcome);
  const auto issued_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(issued.issued_at.time_since_epoch()).count();
  // Every value a string, as NHS's platform sends them.
  json::Writer w;
  w.begin_object()
      .key("access_token")
      .string(issued.access_token)
      .key("expires_in")
      .string(std::to_string(issued.expires_in.count()))
      .key("token_type")
      .string("Bearer")
      .key("issued_at")
      .string(std::to_string(issued_ms))
      .end_object();
  net::Response response{200, "application/json", w.take(), {}};
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Pragma", "no-cache");
  return response;
}

// GET /channels/nhsapp/accounts: who at a GP practice uses the NHS App. The report comes from the
// NHS App's daily batch; Herald has no source for it yet, so a valid request is answered as NHS
// answers for a practice it has no report for.
net::Response nhsapp_accounts(const Dependencies& deps, const Exchange& exchange, const net::Request& request) {
  auto admitted = admit(deps, exchange, request, false);
  if (auto* refused = std::get_if<net::Response>(&admitted)) return std::move(*refused);
  const FormFields query = parse_form(request.query);
  std::optional<std::string> ods;
  std::optional<std::string> page;
  for (const auto& [key, value] : query) {
    if (key == "ods-organisation-code") ods = value;
    if (key == "page") page = value;
  }
  if (!ods || ods->empty()) return problem(exchange, Problem::saying(Cm::kInvalidRequest, "Missing ODS Code"));
  if (!valid_practice_code(*ods)) return problem(exchange, Problem::saying(Cm::kInvalidRequest, "Invalid ODS Code"));
  if (page) {
    const bool numeric = !page->empty() && page->size() <= 9 &&
                         std::all_of(page->begin(), page->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric || std::stol(*page) < 1) {
      return problem(exchange, Problem::saying(Cm::kInvalidRequest, "page must be a positive non-zero integer"));
    }
  }
  return problem(exchange, Problem::saying(Cm::kNotFound, "Report not found"));
}

std::string api_base(const Dependencies& deps, const net::Request& request) {
  return api_root(deps.public_root, deps.prefix, request);
}

// `contact_details_at`: where the contact details a client may not set are ("/data/attributes" for
// a message, "/data/attributes/messages/<i>" for a batch's first such message), as NHS points.
net::Response refusal_response(const Exchange& exchange, domain::nhs::MessageRefusal refusal, bool batch,
                               const std::string& contact_details_at) {
  using domain::nhs::MessageRefusal;
  switch (refusal) {
    case MessageRefusal::kCannotSetContactDetails:
      return problem(exchange,
                     Problem::at(Cm::kCannotSetContactDetails, contact_details_at + "/recipient/contactDetails"));
    case MessageRefusal::kCannotSetOdsCode: return problem(exchange, Cm::kCannotSetOdsCode);
    case MessageRefusal::kOdsCodeRequired: return problem(exchange, Cm::kOdsCodeRequired);
    case MessageRefusal::kNoSuchRoutingPlan: return problem(exchange, Cm::kNoSuchRoutingPlan);
    case MessageRefusal::kDuplicate:
      return problem(exchange, batch ? Cm::kDuplicateBatchRequest : Cm::kDuplicateMessageRequest);
    case MessageRefusal::kInFlight: return retry_too_early(exchange, 1);
  }
  return problem(exchange, Cm::kInternalServerError);
}

// POST /v1/messages: one message, durable before the 201.
net::Response create_message(const Dependencies& deps, const Exchange& exchange, const net::Request& request) {
  auto admitted = admit(deps, exchange, request, true);
  if (auto* refused = std::get_if<net::Response>(&admitted)) return std::move(*refused);
  const auto& client = std::get<store::NhsClientRecord>(admitted);
  auto parsed = parse_create_message(request.body);
  if (auto* invalid = std::get_if<std::vector<Problem>>(&parsed)) return problems(exchange, *invalid);
  auto sent = deps.messages.send(client, std::get<domain::nhs::MessageRequest>(std::move(parsed)));
  if (!sent) return error_response(exchange, sent.error());
  if (auto* refusal = std::get_if<domain::nhs::MessageRefusal>(&*sent)) {
    return refusal_response(exchange, *refusal, false, "/data/attributes");
  }
  const auto& accepted = std::get<domain::nhs::AcceptedMessage>(*sent);
  net::Response response{201, "", message_created_json(accepted, api_base(deps, request)), {}};
  // Relative, as NHS's gateway sends it (spec §0.2).
  response.headers.emplace_back("Location", "/v1/messages/" + accepted.record.id);
  return finish(exchange, std::move(response));
}

// POST /v1/message-batches: all or nothing, one transaction, durable before the 201.
net::Response create_batch(const Dependencies& deps, const Exchange& exchange, const net::Request& request) {
  auto admitted = admit(deps, exchange, request, true);
  if (auto* refused = std::get_if<net::Response>(&admitted)) return std::move(*refused);
  const auto& client = std::get<store::NhsClientRecord>(admitted);
  auto parsed = parse_create_batch(request.body);
  if (auto* invalid = std::get_if<std::vector<Problem>>(&parsed)) return problems(exchange, *invalid);
  auto& batch = std::get<domain::nhs::BatchRequest>(parsed);
  std::size_t with_contact_details = 0;
  while (with_contact_details < batch.messages.size() && !batch.messages[with_contact_details].contact_details_json) {
    ++with_contact_details;
  }
  auto sent = deps.messages.send_batch(client, std::move(batch));
  if (!sent) return error_response(exchange, sent.error());
  if (auto* refusal = std::get_if<domain::nhs::MessageRefusal>(&*sent)) {
    return refusal_response(exchange, *refusal, true,
                            "/data/attributes/messages/" + std::to_string(with_contact_details));
  }
  return finish(exchange, net::Response{201, "", batch_created_json(std::get<domain::nhs::AcceptedBatch>(*sent)), {}});
}

// GET and HEAD /v1/messages/{id}: a malformed id is as unknown as another client's (404).
net::Response get_message(const Dependencies& deps, const Exchange& exchange, const net::Request& request,
                          const PathParams& params) {
  auto admitted = admit(deps, exchange, request, false);
  if (auto* refused = std::get_if<net::Response>(&admitted)) return std::move(*refused);
  const std::string& id = params.at("message_id");
  if (!is_ksuid(id)) return problem(exchange, Cm::kNotFound);
  auto found = deps.messages.get(std::get<store::NhsClientRecord>(admitted), id);
  if (!found) return error_response(exchange, found.error());
  if (!*found) return problem(exchange, Cm::kNotFound);
  net::Response response{200, "", message_json(**found, api_base(deps, request)), {}};
  response = finish(exchange, std::move(response));
  if (request.method == "HEAD") response.body.clear();
  return response;
}

}  // namespace

// GP practice ODS codes as NHS's sandbox accepts them: A12345 or A1B2C (any case), and X26 (NHS
// England's own code, which NHS's tests use).
bool valid_practice_code(std::string_view code) {
  if (code.size() == 3 && std::toupper(static_cast<unsigned char>(code[0])) == 'X' && code.substr(1) == "26")
    return true;
  auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  if (code.size() == 6) return letter(code[0]) && std::all_of(code.begin() + 1, code.end(), digit);
  return code.size() == 5 && letter(code[0]) && digit(code[1]) && letter(code[2]) && digit(code[3]) && letter(code[4]);
}

std::string api_root(const std::string& public_root, const std::string& prefix, const net::Request& request) {
  std::string root = public_root.empty() ? "https://" + request.host + "/" : public_root;
  root.pop_back();
  return root + prefix;
}

void register_routes(Router& router, const Dependencies& deps) {
  auto d = std::make_shared<const Dependencies>(deps);
  router.add("POST", deps.token_path,
             guarded([d](const Exchange& exchange, const net::Request& request, const PathParams&) {
               return token(*d, exchange, request);
             }));
  router.add("GET", deps.prefix + "/channels/nhsapp/accounts",
             guarded([d](const Exchange& exchange, const net::Request& request, const PathParams&) {
               return nhsapp_accounts(*d, exchange, request);
             }));
  router.add("POST", deps.prefix + "/v1/messages",
             guarded([d](const Exchange& exchange, const net::Request& request, const PathParams&) {
               return create_message(*d, exchange, request);
             }));
  router.add("POST", deps.prefix + "/v1/message-batches",
             guarded([d](const Exchange& exchange, const net::Request& request, const PathParams&) {
               return create_batch(*d, exchange, request);
             }));
  for (const char* method : {"GET", "HEAD"}) {
    router.add(method, deps.prefix + "/v1/messages/{message_id}",
               guarded([d](const Exchange& exchange, const net::Request& request, const PathParams& params) {
                 return get_message(*d, exchange, request, params);
               }));
  }
  router.add_prefix_errors(deps.prefix, PrefixErrors{&unknown_path, &wrong_method});
}

}  // namespace herald::api::nhs_v1
