#pragma once
// NHS Notify routing plans ("message plans"): which channels a message tries, in what order,
// and for how long each. A primary cascade is tried one channel after another, the next only when
// the previous fails (no contact detail, not delivered or read within its time limit, or a
// technical failure); secondary channels are sent alongside the primary one, with no fallback.
//
// Today the seven free-text plans NHS Notify gives every client are built in (their ids are
// NHS's, so clients need no change); plans of a client's own, with templates per channel, are
// created by operators next.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "core/uuid.h"
#include "store/records.h"

namespace herald::domain::nhs {

using store::nhs_channel_name;
using store::NhsChannel;

struct PlanChannel {
  NhsChannel type = NhsChannel::kEmail;
  bool primary = true;  // false: secondary (sent alongside, no fallback)
  int order = 1;        // 1-based, within its cascade
  std::chrono::hours time_limit{72};
};

struct RoutingPlan {
  Uuid id;
  std::string name;
  std::string version;
  Timestamp created;
  std::vector<PlanChannel> channels;
  // Free-text plans: the personalisation fields that carry the text itself.
  std::vector<std::string> free_text_fields;
};

// The built-in free-text plans (00000000-0000-0000-0000-00000000000{1..7}).
std::span<const RoutingPlan> built_in_plans();
// The plan a client may use by this id, or nullptr.
const RoutingPlan* find_plan(const Uuid& id);

}  // namespace herald::domain::nhs
