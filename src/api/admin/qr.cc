#include "api/admin/qr.h"

#include <qrencode.h>

#include <memory>

namespace herald::api::admin {

std::string qr_svg(std::string_view text, std::string_view label) {
  const std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) return "";
  const int width = code->width;
  const int quiet = 4;
  const int size = width + 2 * quiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + std::to_string(size * 6) +
                    "\" height=\"" + std::to_string(size * 6) + "\" viewBox=\"0 0 " + std::to_string(size) + " " +
                    std::to_string(size) + "\" shape-rendering=\"crispEdges\"><title>";
  for (char c : label) {
    if (c == '<') {
      svg += "&lt;";
    } else if (c == '&') {
      svg += "&amp;";
    } else {
      svg += c;
    }
  }
  svg += "</title><rect width=\"" + std::to_string(size) + "\" height=\"" + std::to_string(size) + "\" fill=\"#fff\"/>";
  svg += "<path fill=\"#000\" d=\"";
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if (code->data[y * width + x] & 1) {
        svg += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>";
  return svg;
}

std::string qrencode_version() { return QRcode_APIVersionString(); }

}  // namespace herald::api::admin
