#pragma once
// QR codes as SVG (libqrencode), for the otpauth:// URI an authenticator app scans at enrolment.
// Plain rectangles with presentation attributes: no inline style, so the page's CSP need not
// allow any.

#include <string>
#include <string_view>

namespace herald::api::admin {

// An <svg> element drawing `text` as a QR code (error correction M, a 4-module quiet zone),
// labelled for assistive technology with `label`. Empty when the text is too long to encode.
std::string qr_svg(std::string_view text, std::string_view label);

// The libqrencode this process runs with (`herald --version`).
std::string qrencode_version();

}  // namespace herald::api::admin
