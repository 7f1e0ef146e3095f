#pragma once
// The download pages' refusals and the statuses they are served with (docs/architecture.md,
// "Conventions": errors). The pages are HTML for the person the file was sent to, not an API's
// envelope: download.cc draws them, and takes their status from here.

namespace herald::api::documents {

enum class PageRefusal {
  kUnknownLink,  // unknown, expired or wrong key: one answer for all three (no oracle)
  kLocked,       // too many wrong email addresses
  kWrongEmail,   // the confirm form again, saying the address was wrong
  kProblem,      // the documents could not be read (the detail is logged)
};

// 404, 403, 400 and 500.
int status_of(PageRefusal refusal);

}  // namespace herald::api::documents
