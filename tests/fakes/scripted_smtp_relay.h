#pragma once
// ScriptedSmtpRelay: an SMTP relay's side of conversations, played through the SmtpStream seam
// (delivery/smtp/smtp_stream.h) with no socket and no clock. Each connection the client opens
// takes the next script: lines the relay sends, lines the client must send (compared exactly,
// in order), the DATA content (captured up to its terminating "."), the TLS upgrade, a drop or a
// read timeout. A client that writes what the script does not expect, or waits for a reply the
// script does not have, fails the test (ADD_FAILURE) and gets an error, as from a silent relay.
// Single-threaded, like the provider.

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "delivery/smtp/smtp_stream.h"

namespace herald::fakes {

class SmtpScript {
 public:
  // The relay sends `line` (CRLF added).
  SmtpScript& reply(std::string line) { return add(Step::kReply, std::move(line)); }
  // The client must send `line` next (without its CRLF).
  SmtpScript& expect(std::string line) { return add(Step::kExpect, std::move(line)); }
  // The client sends a message's DATA content, up to and including the "." line: kept in messages.
  SmtpScript& expect_message() { return add(Step::kMessage, ""); }
  // The client upgrades to TLS here; with `failure`, the handshake fails with that message.
  SmtpScript& expect_tls(std::string failure = "") { return add(Step::kTls, std::move(failure)); }
  // The relay goes away: from here every read and write fails (closed by peer).
  SmtpScript& drop() { return add(Step::kDrop, ""); }
  // The client's next read times out (the real stream's SO_RCVTIMEO); the connection stays up.
  SmtpScript& time_out() { return add(Step::kTimeout, ""); }

  // What the client did on this connection.
  std::vector<std::string> client_lines;  // every line it sent, DATA content excluded
  std::vector<std::string> writes;        // each write_all call's bytes, as given
  std::vector<std::string> messages;      // each DATA content, dot-stuffed, with its final ".\r\n"
  std::string tls_server_name;
  std::string tls_ca_file;
  bool tls = false;
  bool closed = false;  // the client closed (destroyed) the stream

  bool finished() const { return steps_.empty(); }
  std::string next_step() const { return steps_.empty() ? "(end of script)" : describe(steps_.front()); }

 private:
  friend class ScriptedSmtpStream;
  struct Step {
    enum Kind { kReply, kExpect, kMessage, kTls, kDrop, kTimeout } kind;
    std::string text;
  };
  SmtpScript& add(Step::Kind kind, std::string text) {
    steps_.push_back({kind, std::move(text)});
    return *this;
  }
  static std::string describe(const Step& step) {
    static constexpr const char* kNames[] = {"reply", "expect", "message", "tls", "drop", "timeout"};
    return std::string(kNames[step.kind]) + (step.text.empty() ? "" : " \"" + step.text + "\"");
  }

  std::deque<Step> steps_;
  std::string partial_;  // written bytes not yet ending in CRLF
  std::string message_;  // DATA content so far
  bool dropped_ = false;
};

class ScriptedSmtpStream final : public delivery::smtp::SmtpStream {
 public:
  explicit ScriptedSmtpStream(std::shared_ptr<SmtpScript> script) : s_(std::move(script)) {}
  ~ScriptedSmtpStream() override { s_->closed = true; }

  Result<std::string> read_line() override {
    if (s_->dropped_) return unavailable("connection closed by peer");
    if (s_->steps_.empty() || s_->steps_.front().kind == SmtpScript::Step::kExpect ||
        s_->steps_.front().kind == SmtpScript::Step::kMessage || s_->steps_.front().kind == SmtpScript::Step::kTls) {
      ADD_FAILURE() << "client waits for a reply; the relay's script is at: " << s_->next_step();
      return unavailable("read timed out");
    }
    const SmtpScript::Step step = s_->steps_.front();
    s_->steps_.pop_front();
    if (step.kind == SmtpScript::Step::kDrop) {
      s_->dropped_ = true;
      return unavailable("connection closed by peer");
    }
    if (step.kind == SmtpScript::Step::kTimeout) return unavailable("read timed out");
    return step.text;
  }

  Result<void> write_all(std::string_view data) override {
    if (!s_->dropped_ && !s_->steps_.empty() && s_->steps_.front().kind == SmtpScript::Step::kDrop) {
      s_->steps_.pop_front();
      s_->dropped_ = true;
    }
    if (s_->dropped_) return unavailable("write failed or timed out");
    s_->writes.emplace_back(data);
    s_->partial_.append(data);
    for (auto eol = s_->partial_.find("\r\n"); eol != std::string::npos; eol = s_->partial_.find("\r\n")) {
      const std::string line = s_->partial_.substr(0, eol);
      s_->partial_.erase(0, eol + 2);
      if (!take_client_line(line)) return unavailable("the relay did not expect that");
    }
    return ok();
  }

  Result<void> start_tls(const net::TlsClientOptions& options) override {
    if (s_->steps_.empty() || s_->steps_.front().kind != SmtpScript::Step::kTls) {
      ADD_FAILURE() << "client starts TLS; the relay's script is at: " << s_->next_step();
      return unavailable("TLS handshake failed");
    }
    const std::string failure = s_->steps_.front().text;
    s_->steps_.pop_front();
    s_->tls_server_name = options.server_name;
    s_->tls_ca_file = options.ca_file;
    if (!failure.empty()) return unavailable(failure);
    s_->tls = true;
    return ok();
  }

  bool is_tls() const override { return s_->tls; }

 private:
  bool take_client_line(const std::string& line) {
    auto& steps = s_->steps_;
    if (!steps.empty() && steps.front().kind == SmtpScript::Step::kMessage) {
      s_->message_ += line + "\r\n";
      if (line == ".") {
        s_->messages.push_back(std::move(s_->message_));
        s_->message_.clear();
        steps.pop_front();
      }
      return true;
    }
    s_->client_lines.push_back(line);
    if (steps.empty() || steps.front().kind != SmtpScript::Step::kExpect) {
      ADD_FAILURE() << "client sent \"" << line << "\"; the relay's script is at: " << s_->next_step();
      return false;
    }
    const std::string expected = steps.front().text;
    steps.pop_front();
    EXPECT_EQ(line, expected) << "client line out of script";
    return line == expected;
  }

  std::shared_ptr<SmtpScript> s_;
};

// Connections in the order the client opens them; one more than scripted fails the test.
class ScriptedSmtpRelay {
 public:
  // The next connection's script.
  SmtpScript& connection() {
    scripts_.push_back(std::make_shared<SmtpScript>());
    return *scripts_.back();
  }
  // The next connection attempt is refused.
  void refuse() { scripts_.push_back(nullptr); }

  delivery::smtp::SmtpConnector connector() {
    return [this](const std::string& host, std::uint16_t port,
                  std::chrono::milliseconds timeout) -> Result<std::unique_ptr<delivery::smtp::SmtpStream>> {
      last_host = host;
      last_port = port;
      last_timeout = timeout;
      if (opened >= scripts_.size()) {
        ADD_FAILURE() << "client opened connection " << opened + 1 << "; " << scripts_.size() << " scripted";
        return unavailable(host + ":" + std::to_string(port) + ": connect failed: Connection refused");
      }
      auto script = scripts_[opened++];
      if (!script) return unavailable(host + ":" + std::to_string(port) + ": connect failed: Connection refused");
      return std::unique_ptr<delivery::smtp::SmtpStream>(std::make_unique<ScriptedSmtpStream>(script));
    };
  }

  SmtpScript& script(std::size_t i) { return *scripts_.at(i); }
  // Every scripted connection opened and played to its end.
  void expect_finished() const {
    EXPECT_EQ(opened, scripts_.size()) << "connections opened";
    for (std::size_t i = 0; i < scripts_.size(); ++i) {
      if (!scripts_[i]) continue;
      EXPECT_TRUE(scripts_[i]->finished()) << "connection " << i + 1 << " stopped at " << scripts_[i]->next_step();
    }
  }

  std::size_t opened = 0;
  std::string last_host;
  std::uint16_t last_port = 0;
  std::chrono::milliseconds last_timeout{0};

 private:
  std::vector<std::shared_ptr<SmtpScript>> scripts_;
};

}  // namespace herald::fakes
