#pragma once
// What a provider said about one message, for every channel.

#include <string>

namespace herald::delivery {

enum class SendStatus {
  kAccepted,          // the relay or provider took responsibility for the message
  kPermanentFailure,  // refused this message or recipient for good (SMTP 5xx)
  kTemporaryFailure,  // try again later (SMTP 4xx, provider errors, timeouts, refused connections, TLS)
};

struct SendResult {
  SendStatus status = SendStatus::kTemporaryFailure;
  std::string detail;  // protocol-level reason for the log: codes and stages, never addresses
};

}  // namespace herald::delivery
