// libFuzzer target: NHS Notify's third-party and operator inputs that reach the cascade. The first
// byte picks the parser: an NHS App realtime receipt (a FHIR Task the NHS App posts), a
// demographics CSV (`herald demographics import`), a stored demographics record or enriched
// recipient (JSON), a routing plan definition (`herald plan create`). Parsing must never crash,
// and what is accepted must keep the parsers' promises.
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "domain/nhs/cascade.h"
#include "domain/nhs/demographics.h"
#include "domain/nhs/messages.h"
#include "domain/nhs/nhs_app.h"
#include "domain/nhs/routing_plans.h"

namespace nhs = herald::domain::nhs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const herald::Timestamp now = herald::from_micros(1'800'000'000'000'000);
  switch (data[0] % 5) {
    case 0: {
      auto receipt = nhs::read_nhs_app_receipt(text, now);
      if (!receipt) return 0;
      HERALD_CHECK(!receipt->message_id.empty(), "a receipt names its message");
      HERALD_CHECK(receipt->at <= now, "never in the future");
      const auto& s = receipt->supplier_status;
      HERALD_CHECK(s == "delivered" || s == "read" || s == "notified" || s == "notification_attempted" ||
                       s == "unnotified" || s == "rejected",
                   "only NHS's supplier statuses");
      return 0;
    }
    case 1: {
      auto rows = nhs::parse_demographics_csv(text);
      if (!rows) return 0;
      for (const auto& row : *rows) {
        HERALD_CHECK(nhs::valid_nhs_number(row.nhs_number), "only valid NHS numbers are imported");
        // What is stored reads back the same.
        auto back = nhs::demographics_from_json(nhs::to_json(row.record));
        HERALD_CHECK(back.has_value(), "a stored record reads back");
        HERALD_CHECK(back->given_name == row.record.given_name && back->address_lines == row.record.address_lines &&
                         back->email == row.record.email && back->deceased == row.record.deceased &&
                         back->restricted == row.record.restricted && back->exit_code == row.record.exit_code,
                     "a stored record reads back the same");
      }
      return 0;
    }
    case 2: (void)nhs::demographics_from_json(text); return 0;
    case 4: {
      auto plan = nhs::parse_plan_definition(text);
      if (!plan) return 0;
      HERALD_CHECK(!plan->channels.empty() && plan->channels.size() <= 4, "one to four channels");
      bool primary = false;
      for (const auto& c : plan->channels) {
        primary = primary || c.primary;
        HERALD_CHECK(c.time_limit.count() >= 1 && c.time_limit.count() <= 72, "time limits of 1-72 hours");
        HERALD_CHECK(c.variants.empty() || c.type == herald::store::NhsChannel::kLetter, "variants on letters only");
      }
      HERALD_CHECK(primary, "a primary channel");
      // What is stored reads back the same.
      const std::string stored = nhs::plan_definition_json(*plan);
      auto back = nhs::parse_plan_definition(stored);
      HERALD_CHECK(back && nhs::plan_definition_json(*back) == stored, "a stored plan reads back the same");
      return 0;
    }
    default: {
      auto recipient = nhs::recipient_from_json(text);
      if (recipient) {
        auto back = nhs::recipient_from_json(nhs::to_json(*recipient));
        HERALD_CHECK(back && back->sms == recipient->sms && back->email == recipient->email,
                     "a stored recipient reads back the same");
      }
      return 0;
    }
  }
}
