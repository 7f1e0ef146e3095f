#include "delivery/smtp/smtp_client.h"

#include <cctype>
#include <optional>

#include "core/base64.h"
#include "crypto/random.h"
#include "delivery/smtp/mime.h"

namespace herald::delivery::smtp {
namespace {

constexpr std::size_t kMaxReplyLines = 100;

SendResult temporary(std::string detail) { return {SendStatus::kTemporaryFailure, std::move(detail)}; }

// Classifies a reply to MAIL/RCPT/DATA.
SendResult classify(int code, const char* stage) {
  const std::string detail = std::string(stage) + " " + std::to_string(code);
  if (code >= 500) return {SendStatus::kPermanentFailure, detail};
  return temporary(detail);
}

bool has_extension(const std::string& extensions, std::string_view name) {
  std::size_t start = 0;
  while (start < extensions.size()) {
    const auto end = extensions.find('\n', start);
    std::string line = extensions.substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (auto& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (line == name || line.rfind(std::string(name) + " ", 0) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) > 0x7E) return false;
  }
  return true;
}

}  // namespace

Result<SmtpProvider::Reply> SmtpProvider::read_reply() {
  Reply reply;
  for (std::size_t i = 0; i < kMaxReplyLines; ++i) {
    auto line = stream_->read_line();
    if (!line) return line.error();
    if (line->size() < 3 || !std::isdigit(static_cast<unsigned char>((*line)[0])) ||
        !std::isdigit(static_cast<unsigned char>((*line)[1])) ||
        !std::isdigit(static_cast<unsigned char>((*line)[2]))) {
      return unavailable("malformed SMTP reply");
    }
    reply.code = std::stoi(line->substr(0, 3));
    if (i > 0) reply.extensions += line->size() > 4 ? line->substr(4) + "\n" : "\n";
    if (line->size() == 3 || (*line)[3] == ' ') {
      reply.text = line->size() > 4 ? line->substr(4) : "";
      return reply;
    }
    if ((*line)[3] != '-') return unavailable("malformed SMTP reply");
  }
  return unavailable("SMTP reply too long");
}

Result<SmtpProvider::Reply> SmtpProvider::command(const std::string& line) {
  HERALD_TRY(stream_->write_all(line + "\r\n"));
  return read_reply();
}

SendResult SmtpProvider::greet() {
  auto ehlo = command("EHLO " + options_.helo_name);
  if (!ehlo) return temporary("EHLO: " + ehlo.error().message);
  if (ehlo->code != 250) return temporary("EHLO " + std::to_string(ehlo->code));
  smtputf8_ = has_extension(ehlo->extensions, "SMTPUTF8");
  pipelining_ = has_extension(ehlo->extensions, "PIPELINING");
  if (stream_->is_tls()) return {SendStatus::kAccepted, ""};
  const bool offered = has_extension(ehlo->extensions, "STARTTLS");
  if (!offered) {
    if (options_.require_starttls) return temporary("relay does not offer STARTTLS, which is required");
    return {SendStatus::kAccepted, ""};
  }
  auto starttls = command("STARTTLS");
  if (!starttls) return temporary("STARTTLS: " + starttls.error().message);
  if (starttls->code != 220) return temporary("STARTTLS " + std::to_string(starttls->code));
  const std::string name = options_.tls_server_name.empty() ? options_.host : options_.tls_server_name;
  auto tls = stream_->start_tls({name, options_.ca_file});
  if (!tls) return temporary(tls.error().message);
  return greet();  // EHLO again inside TLS
}

SendResult SmtpProvider::open_session() {
  auto stream = connect_(options_.host, options_.port, options_.timeout);
  if (!stream) return temporary(stream.error().message);
  stream_ = std::move(*stream);
  auto banner = read_reply();
  if (!banner) return temporary("greeting: " + banner.error().message);
  if (banner->code != 220) return temporary("greeting " + std::to_string(banner->code));
  auto greeted = greet();
  if (greeted.status != SendStatus::kAccepted) return greeted;
  if (!options_.username.empty()) {
    if (!stream_->is_tls()) return temporary("refusing AUTH without TLS");
    const std::string credentials = std::string(1, '\0') + options_.username + '\0' + options_.password;
    auto auth = command("AUTH PLAIN " + base64_encode(credentials));
    if (!auth) return temporary("AUTH: " + auth.error().message);
    if (auth->code != 235) return temporary("AUTH " + std::to_string(auth->code));
  }
  return {SendStatus::kAccepted, ""};
}

SendResult SmtpProvider::transaction(const OutgoingEmail& email) {
  const bool utf8 = !is_ascii(email.from) || !is_ascii(email.to);
  if (utf8 && !smtputf8_) return {SendStatus::kPermanentFailure, "address needs SMTPUTF8, which the relay lacks"};
  static constexpr const char* kStages[3] = {"MAIL", "RCPT", "DATA"};
  const std::string lines[3] = {"MAIL FROM:<" + email.from + ">" + (utf8 ? " SMTPUTF8" : "") + "\r\n",
                                "RCPT TO:<" + email.to + ">\r\n", "DATA\r\n"};
  auto positive = [](int stage, int code) {
    return stage == 0 ? code == 250 : stage == 1 ? (code == 250 || code == 251) : code == 354;
  };
  // With PIPELINING (RFC 2920) the three commands go in one write and their replies are read in
  // order: one round trip instead of three.
  if (pipelining_) {
    if (auto w = stream_->write_all(lines[0] + lines[1] + lines[2]); !w) return temporary("MAIL: " + w.error().message);
  }
  std::optional<SendResult> refused;
  for (int i = 0; i < 3; ++i) {
    if (!pipelining_) {
      if (auto w = stream_->write_all(lines[i]); !w) return temporary(std::string(kStages[i]) + ": " + w.error().message);
    }
    auto reply = read_reply();
    if (!reply) return temporary(std::string(kStages[i]) + ": " + reply.error().message);
    if (!positive(i, reply->code)) {
      if (!refused) refused = classify(reply->code, kStages[i]);
      if (!pipelining_) return *refused;
    } else if (i == 2 && refused) {
      // Pipelined: a relay that said 354 after refusing MAIL or RCPT gets an empty message.
      if (auto w = stream_->write_all(".\r\n"); !w) return temporary("DATA: " + w.error().message);
      (void)read_reply();
    }
  }
  if (refused) return *refused;
  char boundary_bytes[16];
  crypto::public_random(reinterpret_cast<unsigned char*>(boundary_bytes), sizeof boundary_bytes);
  const std::string boundary = "herald-" + base64url_encode(std::string_view(boundary_bytes, sizeof boundary_bytes));
  const std::string message = build_message(email, options_.message_id_domain, clock_.now(), boundary);
  auto written = stream_->write_all(dot_stuff(message));
  if (!written) return temporary("message: " + written.error().message);
  auto done = read_reply();
  if (!done) return temporary("end of data: " + done.error().message);
  if (done->code != 250) return classify(done->code, "end of data");
  return {SendStatus::kAccepted, "250"};
}

SendResult SmtpProvider::send(const OutgoingEmail& email) {
  // A session is reused as it is after a delivered message; after a refusal, or when it has
  // sat idle long enough for the relay to have dropped it, RSET first checks and clears it.
  const Timestamp now = clock_.now();
  if (stream_ && (needs_reset_ || now - last_used_ > kIdleProbeAfter)) {
    auto reset = command("RSET");
    if (!reset || reset->code != 250) stream_.reset();
  }
  if (!stream_) {
    auto opened = open_session();
    if (opened.status != SendStatus::kAccepted) {
      stream_.reset();
      return opened;
    }
  }
  SendResult result = transaction(email);
  last_used_ = clock_.now();
  needs_reset_ = result.status != SendStatus::kAccepted;
  // A connection-level failure leaves the session in an unknown state: start afresh next time.
  if (result.status == SendStatus::kTemporaryFailure) stream_.reset();
  return result;
}

void SmtpProvider::close() {
  if (stream_) (void)command("QUIT");
  stream_.reset();
}

}  // namespace herald::delivery::smtp
