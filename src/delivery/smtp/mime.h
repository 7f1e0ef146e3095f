#pragma once
// Builds an RFC 5322 / MIME message (multipart/alternative, UTF-8, quoted-printable) with CRLF
// line endings, and the SMTP DATA form of it (dot-stuffed, terminated).

#include <string>

#include "core/time.h"
#include "delivery/email_provider.h"

namespace herald::delivery::smtp {

std::string build_message(const OutgoingEmail& email, const std::string& message_id_domain,
                          Timestamp now, const std::string& boundary);
std::string quoted_printable(std::string_view text);
// "=?UTF-8?B?...?=" when needed, else the text itself; never contains CR or LF.
std::string encode_header_text(std::string_view text);
std::string dot_stuff(std::string_view message);

}  // namespace herald::delivery::smtp
