#pragma once
// EmailProvider: hands one rendered email to whatever delivers it (an SMTP relay today). One
// interface so tests and operators can swap providers. Implementations may keep a connection
// open between calls; they are used by one worker thread at a time.

#include <optional>
#include <string>

#include "delivery/send_result.h"

namespace herald::delivery {

struct OutgoingEmail {
  std::string message_id;  // the notification id; becomes the Message-ID header
  std::string from;
  std::string to;
  std::string subject;
  std::string text_body;
  std::string html_body;
  std::optional<std::string> one_click_unsubscribe_url;
  std::string reply_to;  // empty: no Reply-To header
};

class EmailProvider {
 public:
  virtual ~EmailProvider() = default;
  virtual SendResult send(const OutgoingEmail& email) = 0;
  // Ends any open connection (called when the worker stops).
  virtual void close() {}
};

}  // namespace herald::delivery
