#include "api/unsubscribe/errors.h"

namespace herald::api::unsubscribe {

int status_of(Refusal refusal) {
  switch (refusal) {
    case Refusal::kInvalidLink: return 404;
    case Refusal::kProblem: return 500;
  }
  return 500;
}

}  // namespace herald::api::unsubscribe
