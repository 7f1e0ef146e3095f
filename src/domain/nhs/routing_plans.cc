#include "domain/nhs/routing_plans.h"

#include <algorithm>

namespace herald::domain::nhs {
namespace {

using std::chrono::hours;

// When these built-in versions were written (fixed, so that responses do not change with the
// date a server started).
constexpr std::int64_t kBuiltInCreatedMicros = 1'764'547'200'000'000;  // 2025-12-01T00:00:00Z

RoutingPlan free_text(int n, std::string name, std::vector<PlanChannel> channels, std::vector<std::string> fields) {
  RoutingPlan plan;
  plan.id = *Uuid::parse("00000000-0000-0000-0000-00000000000" + std::to_string(n));
  plan.name = std::move(name);
  plan.version = "1";
  plan.created = from_micros(kBuiltInCreatedMicros);
  plan.channels = std::move(channels);
  plan.free_text_fields = std::move(fields);
  return plan;
}

const std::vector<RoutingPlan>& plans() {
  static const std::vector<RoutingPlan> all = [] {
    const PlanChannel app24{NhsChannel::kNhsApp, true, 1, hours(24)};
    const PlanChannel app4{NhsChannel::kNhsApp, true, 1, hours(4)};
    return std::vector<RoutingPlan>{
        free_text(1, "Free text: NHS App", {app24}, {"body"}),
        free_text(2, "Free text: email", {{NhsChannel::kEmail, true, 1, hours(72)}}, {"email_subject", "email_body"}),
        free_text(3, "Free text: text message", {{NhsChannel::kSms, true, 1, hours(72)}}, {"sms_body"}),
        free_text(4, "Free text: NHS App, then email after 24 hours", {app24, {NhsChannel::kEmail, true, 2, hours(72)}},
                  {"nhsapp_body", "email_subject", "email_body"}),
        free_text(5, "Free text: NHS App, then email after 4 hours", {app4, {NhsChannel::kEmail, true, 2, hours(72)}},
                  {"nhsapp_body", "email_subject", "email_body"}),
        free_text(6, "Free text: NHS App, then text message after 24 hours",
                  {app24, {NhsChannel::kSms, true, 2, hours(72)}}, {"nhsapp_body", "sms_body"}),
        free_text(7, "Free text: NHS App, then text message after 4 hours",
                  {app4, {NhsChannel::kSms, true, 2, hours(72)}}, {"nhsapp_body", "sms_body"}),
    };
  }();
  return all;
}

}  // namespace

std::span<const RoutingPlan> built_in_plans() { return plans(); }

const RoutingPlan* find_plan(const Uuid& id) {
  const auto& all = plans();
  auto it = std::find_if(all.begin(), all.end(), [&](const RoutingPlan& p) { return p.id == id; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace herald::domain::nhs
