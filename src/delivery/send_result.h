#pragma once
// What a provider said about one message, for every channel.

#include <string>

#include "domain/lifecycle.h"

namespace herald::delivery {

// kAccepted, kPermanentFailure, kTemporaryFailure: what the lifecycle rules take.
using SendStatus = domain::SendAttempt;

struct SendResult {
  SendStatus status = SendStatus::kTemporaryFailure;
  std::string detail;  // protocol-level reason for the log: codes and stages, never addresses
};

}  // namespace herald::delivery
