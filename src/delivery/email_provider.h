#pragma once
// EmailProvider: hands one rendered email to whatever delivers it (an SMTP relay today). One
// interface so tests and operators can swap providers. Implementations may keep a connection
// open between calls; they are used by one worker thread at a time.

#include <optional>
#include <string>

#include "delivery/send_result.h"
#include "domain/rendering/outgoing.h"

namespace herald::delivery {

using OutgoingEmail = domain::OutgoingEmail;

class EmailProvider {
 public:
  virtual ~EmailProvider() = default;
  virtual SendResult send(const OutgoingEmail& email) = 0;
  // What the notifications it takes record as their sent_by (the dashboard's providers).
  virtual std::string name() const { return "smtp"; }
  // Ends any open connection (called when the worker stops).
  virtual void close() {}
};

}  // namespace herald::delivery
