// libFuzzer target: a POST /v2/notifications/email body through parsing, schema validation and
// rendering against a fixed template.
#include <cstdint>
#include <string_view>
#include <variant>

#include "api/govuk_v2/requests.h"
#include "domain/rendering/template_render.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = herald::api::govuk_v2::parse_body(body);
  if (auto* value = std::get_if<herald::json::Value>(&parsed)) {
    auto request = herald::api::govuk_v2::parse_send_email(*value, herald::SystemClock().now());
    if (auto* email = std::get_if<herald::domain::EmailRequest>(&request)) {
      (void)herald::domain::render_email({"Hello ((name))", "Dear ((First Name)),\n\n((list))\n((flag??shown))"},
                                         email->personalisation);
    }
  }
  return 0;
}
