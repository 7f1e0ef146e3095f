#pragma once
// The compliance frameworks an assessor holds Herald to, as data: each framework item Herald's
// live evidence bears on, and which pieces of evidence it rests on (`herald compliance report`).
//
// Evidence ids name what the report gathers (evidence_ids() below); an item's status is computed
// from them by the report (security/compliance_report.h): every evidence met -> met, any not met
// -> not met, else partly met. `operator_part` says what Herald cannot show for the item (policy,
// people, premises): the report prints it beside the status, as the organisation's part.

#include <span>
#include <string_view>

namespace herald::security {

struct FrameworkItem {
  std::string_view framework;                  // one of kFrameworks
  std::string_view id;                         // the framework's own reference ("A1.a", "Standard 1", "8.24")
  std::string_view title;                      // the framework's short name for it, in Herald's words
  std::span<const std::string_view> evidence;  // evidence ids (kEvidenceIds), at least one
  std::string_view herald_part;                // what Herald itself does towards it
  std::string_view operator_part;              // what remains the operator's ("" when Herald's evidence covers it)
};

// Every evidence id an item may cite.
std::span<const std::string_view> evidence_ids();
// The frameworks, in report order.
std::span<const std::string_view> frameworks();
// Every item, grouped by framework in report order, then in the framework's own order.
std::span<const FrameworkItem> framework_items();

}  // namespace herald::security
