#include "api/providers/errors.h"

#include "api/govuk_v2/errors.h"
#include "core/json.h"

namespace herald::api::providers {

net::Response unauthorised() {
  return net::Response{401,
                       "application/json",
                       R"({"result":"error","message":"Unauthorized"})",
                       {{"WWW-Authenticate", "Basic realm=\"herald\""}}};
}

net::Response forbidden() {
  return net::Response{403, "application/json", R"({"result":"error","message":"Forbidden"})", {}};
}

net::Response missing_fields(const std::vector<std::string>& messages) {
  json::Writer w;
  w.begin_object().key("result").string("error").key("message").begin_array();
  for (const auto& m : messages) w.string(m);
  w.end_array().end_object();
  return net::Response{400, "application/json", w.take(), {}};
}

net::Response no_such_provider() { return govuk_v2::unknown_url(); }

net::Response bad_callback(std::string message) { return govuk_v2::bad_request(std::move(message)); }

net::Response error_response(const Error& error) { return govuk_v2::error_response(error); }

}  // namespace herald::api::providers
