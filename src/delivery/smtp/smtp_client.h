#pragma once
// SmtpProvider: delivers email to an SMTP relay (RFC 5321). Uses STARTTLS whenever the relay
// offers it, verifying the relay's certificate and name; with `require_starttls` a relay that
// does not offer it gets nothing (the message is retried, never sent in plaintext). AUTH PLAIN
// is used only inside TLS. Keeps its connection open from message to message and batch to batch
// (RSET only after a refusal or a long idle spell), and pipelines MAIL, RCPT and DATA when the
// relay offers PIPELINING (RFC 2920).
//
// Outcomes: 2xx after DATA -> kAccepted; 5xx to MAIL, RCPT or DATA -> kPermanentFailure;
// 4xx, timeouts, refused connections and TLS failures -> kTemporaryFailure.
// Not thread-safe: one per worker thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/time.h"
#include "delivery/email_provider.h"
#include "delivery/smtp/smtp_stream.h"

namespace herald::delivery::smtp {

struct SmtpOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 25;
  bool require_starttls = false;
  std::string ca_file;           // trust anchors for the relay's certificate; empty: system store
  std::string tls_server_name;   // defaults to host
  std::string username;          // AUTH PLAIN when set (TLS only)
  std::string password;
  std::string helo_name = "localhost";
  std::string message_id_domain = "herald.localhost";
  std::chrono::milliseconds timeout{10000};
};

class SmtpProvider final : public EmailProvider {
 public:
  // `connect` opens the connection to the relay: TCP by default, a scripted relay in tests.
  SmtpProvider(SmtpOptions options, const Clock& clock, SmtpConnector connect = tcp_connector())
      : options_(std::move(options)), clock_(clock), connect_(std::move(connect)) {}
  SendResult send(const OutgoingEmail& email) override;
  void close() override;

 private:
  struct Reply {
    int code = 0;
    std::string text;  // the last line, for extensions parsing only; never logged
    std::string extensions;
  };
  Result<Reply> read_reply();
  Result<Reply> command(const std::string& line);
  SendResult open_session();
  SendResult greet();
  SendResult transaction(const OutgoingEmail& email);

  SmtpOptions options_;
  const Clock& clock_;
  SmtpConnector connect_;
  static constexpr Duration kIdleProbeAfter = std::chrono::seconds(5);

  std::unique_ptr<SmtpStream> stream_;
  bool smtputf8_ = false;
  bool pipelining_ = false;
  bool needs_reset_ = false;  // the last transaction did not end in a delivered message
  Timestamp last_used_{};
};

}  // namespace herald::delivery::smtp
