#include "delivery/smtp/mime.h"

#include <cstdio>
#include <ctime>

#include "core/base64.h"

namespace herald::delivery::smtp {
namespace {

std::string rfc5322_date(Timestamp now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(now));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

bool is_plain_header_text(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) return false;
  }
  return text.find("=?") == std::string_view::npos;
}

// Keeps only characters that are safe inside an address header (no CR, LF or angle brackets).
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '\r' && c != '\n' && c != '<' && c != '>') out += c;
  }
  return out;
}

}  // namespace

std::string encode_header_text(std::string_view text) {
  if (is_plain_header_text(text) && text.size() <= 900) return std::string(text);
  // Encoded words of at most 45 input bytes, split on UTF-8 character boundaries.
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + 45);
    while (end < text.size() && end > start && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t line_length = 0;
  auto emit = [&](std::string_view piece) {
    if (line_length + piece.size() > 75) {
      out += "=\r\n";
      line_length = 0;
    }
    out += piece;
    line_length += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\r\n";
      line_length = 0;
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (literal) {
      emit(std::string_view(text.data() + i, 1));
    } else {
      const char encoded[3] = {'=', kHex[c >> 4], kHex[c & 0xF]};
      emit(std::string_view(encoded, 3));
    }
  }
  return out;
}

std::string build_message(const OutgoingEmail& email, const std::string& message_id_domain,
                          Timestamp now, const std::string& boundary) {
  std::string m;
  m += "From: <" + header_safe(email.from) + ">\r\n";
  m += "To: <" + header_safe(email.to) + ">\r\n";
  m += "Subject: " + encode_header_text(email.subject) + "\r\n";
  if (!email.reply_to.empty()) m += "Reply-To: <" + header_safe(email.reply_to) + ">\r\n";
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "Message-ID: <" + header_safe(email.message_id) + "@" + header_safe(message_id_domain) + ">\r\n";
  if (email.one_click_unsubscribe_url) {
    m += "List-Unsubscribe: <" + header_safe(*email.one_click_unsubscribe_url) + ">\r\n";
    m += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  for (const auto& [type, body] : {std::pair<const char*, const std::string*>{"text/plain", &email.text_body},
                                   {"text/html", &email.html_body}}) {
    m += "--" + boundary + "\r\n";
    m += std::string("Content-Type: ") + type + "; charset=utf-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += quoted_printable(*body) + "\r\n";
  }
  m += "--" + boundary + "--\r\n";
  return m;
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 8);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace herald::delivery::smtp
