#pragma once
// NHS Notify routing plans ("message plans"): which channels a message tries, in what order,
// for how long each, and what it says on each. A primary cascade is tried one channel after
// another, the next only when the previous fails (no contact detail, not delivered or read
// within its time limit, or a technical failure); secondary channels are sent alongside the
// primary one, with no fallback.
//
// Two kinds of plan:
// - the seven free-text plans NHS Notify gives every client, built in with NHS's ids, where the
//   request's personalisation carries the text itself;
// - plans of a client's own, created by an operator (`herald plan create`, later the admin UI)
//   from the client's service's templates: a template per email, SMS and letter channel (letters
//   with accessible-format and language variants), the NHS App message in the plan itself, and
//   overrides (another plan of the client's for recipients with a given language or accessible
//   format). Each save is a new immutable version; a message keeps the version it was accepted
//   under, and each template's version is pinned when the plan is saved, so what a message says
//   does not change under it.
//
// A plan is checked when it is saved (RoutingPlans::save): a plan that could not send (a missing
// or archived template, the wrong template type, two channels of one type, a time limit outside
// 1-72 hours, an override to a plan of another client) is refused with the reason.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "core/uuid.h"
#include "domain/nhs/nhs_app.h"
#include "store/records.h"
#include "store/store.h"

namespace herald::domain::nhs {

using store::nhs_channel_name;
using store::NhsChannel;

// A letter template for recipients who need another format or language (PDS's preferences):
// sent instead of the channel's own template when the recipient's preference matches.
struct PlanVariant {
  enum class Kind { kAccessibleFormat, kLanguage };
  Kind kind = Kind::kAccessibleFormat;
  std::string value;  // "braille", "large_print", "audio"; or a language ("cy", "pl", ...)
  TemplateId template_id;
  int template_version = 1;
};

struct PlanChannel {
  NhsChannel type = NhsChannel::kEmail;
  bool primary = true;  // false: secondary (sent alongside, no fallback)
  int order = 1;        // 1-based, within its cascade
  std::chrono::hours time_limit{72};
  // Email, SMS and letter channels of a client's plan: the service's template, at the version
  // the plan was saved with. Unset on the built-in free-text plans.
  std::optional<TemplateId> template_id = std::nullopt;
  int template_version = 0;
  // NHS App channels of a client's plan: the message (NHS App Markdown, ((placeholders))).
  std::string message = {};
  std::vector<PlanVariant> variants = {};  // letters only
};

// Recipients whose preference (from the demographics source) matches get another plan instead.
struct PlanOverride {
  PlanVariant::Kind when = PlanVariant::Kind::kLanguage;
  std::string value;
  Uuid plan;
};

struct RoutingPlan {
  Uuid id;
  std::optional<Uuid> client;  // nullopt: built in, every client's
  std::string name;
  std::string version;
  Timestamp created;
  std::vector<PlanChannel> channels;
  // Free-text plans: the personalisation fields that carry the text itself.
  std::vector<std::string> free_text_fields = {};
  std::vector<PlanOverride> overrides = {};

  const PlanChannel* channel(NhsChannel type) const;
};
using PlanPtr = std::shared_ptr<const RoutingPlan>;

// The built-in free-text plans (00000000-0000-0000-0000-00000000000{1..7}).
std::span<const PlanPtr> built_in_plans();
// The built-in plan with this id, or nullptr.
PlanPtr find_built_in_plan(const Uuid& id);

// A plan definition as an operator writes it (JSON; see docs/nhs-notify.md):
//   {"name": "...", "channels": [{"type": "nhsapp"|"email"|"sms"|"letter",
//     "cascade": "primary"|"secondary", "timeLimitHours": 1..72, "template": "<uuid>",
//     "templateVersion": n, "message": "...", "variants": [{"accessibleFormat"|"language": "...",
//     "template": "<uuid>", "templateVersion": n}]}], "overrides": [{"language"|"accessibleFormat":
//     "...", "plan": "<uuid>"}]}
// Channels are tried in the order given within their cascade. Only the shape is checked here
// (kInvalidArgument naming the field); templates and overrides are checked by RoutingPlans::save.
Result<RoutingPlan> parse_plan_definition(std::string_view text);
// The definition as stored: every template version pinned (parse_plan_definition reads it back).
std::string plan_definition_json(const RoutingPlan& plan);
// The stored version as a plan.
Result<RoutingPlan> plan_from_record(const store::RoutingPlanRecord& record);

// The plans clients may use: the built-in ones and their own, from the store. Versions are
// immutable, so a version once read is kept in memory. Thread-safe if the stores are.
class RoutingPlans {
 public:
  RoutingPlans(store::RoutingPlanStore& plans, store::ServiceDirectory& services, store::NhsClientStore& clients,
               const Clock& clock)
      : plans_(plans), services_(services), clients_(clients), clock_(clock) {}

  // A plan the client may send with: built in, or the client's own (latest version); nullopt
  // for an unknown plan and for another client's.
  Result<PlanPtr> for_client(const Uuid& client, const Uuid& id);
  // The plan's version a message was accepted under (built in, or stored); nullptr when absent.
  Result<PlanPtr> version(const Uuid& id, std::string_view version);

  // Saves `definition` as the client's new plan (plan_id unset: version 1 of a new id) or as
  // the next version of its plan `plan_id`, after checking it against the client's service's
  // templates and plans. kInvalidArgument says what is wrong; kNotFound: no such client or plan.
  Result<PlanPtr> save(const Uuid& client, std::optional<Uuid> plan_id, std::string_view definition);
  // The latest version of a stored plan (any client's; callers check whose), or nullptr.
  Result<PlanPtr> latest(const Uuid& id);
  // When each version of a stored plan was saved, newest first, at most `limit` of them.
  Result<std::vector<std::pair<int, Timestamp>>> history(const Uuid& id, int limit);
  // The latest version of each of the client's plans (every client's when nullopt).
  Result<std::vector<RoutingPlan>> list(std::optional<Uuid> client);

 private:
  Result<void> check(const store::NhsClientRecord& client, RoutingPlan& plan);
  Result<void> pin_template(ServiceId service, const TemplateId& id, int& version, store::Channel type,
                            std::string_view where);
  PlanPtr remember(RoutingPlan plan);

  store::RoutingPlanStore& plans_;
  store::ServiceDirectory& services_;
  store::NhsClientStore& clients_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::pair<Uuid, std::string>, PlanPtr> versions_;  // guarded by mutex_
};

}  // namespace herald::domain::nhs
