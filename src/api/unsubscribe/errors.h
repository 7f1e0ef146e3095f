#pragma once
// The hosted unsubscribe pages' refusals and the statuses they are served with (docs/architecture.md,
// "Conventions": errors). A person's browser gets an HTML page (unsubscribe.cc draws it), a
// mail client's one-click POST GOV.UK's JSON; both take their status from here.

namespace herald::api::unsubscribe {

enum class Refusal {
  kInvalidLink,  // not one of Herald's links, too old, or for no email: one answer (no oracle)
  kProblem,      // the request could not be recorded (the detail is logged)
};

// 404 and 500.
int status_of(Refusal refusal);

}  // namespace herald::api::unsubscribe
