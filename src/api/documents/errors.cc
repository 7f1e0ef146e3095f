#include "api/documents/errors.h"

namespace herald::api::documents {

int status_of(PageRefusal refusal) {
  switch (refusal) {
    case PageRefusal::kUnknownLink: return 404;
    case PageRefusal::kLocked: return 403;
    case PageRefusal::kWrongEmail: return 400;
    case PageRefusal::kProblem: return 500;
  }
  return 500;
}

}  // namespace herald::api::documents
