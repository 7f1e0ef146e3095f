#pragma once
// Renders a templated letter to an A4 PDF laid out as GOV.UK Notify lays its letters out for a
// DL windowed envelope (figures and their sources in letter_pdf.cc). Pure apart from reading the
// logo file; thread-safe (each call has its own font map and surface).
//
// All text is laid out as plain text: nothing a sender writes is read as Pango markup, and
// malformed UTF-8 or control characters are replaced before layout.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace herald::domain {

// GOV.UK Notify's limit (notifications-utils LETTER_MAX_PAGE_COUNT).
inline constexpr int kLetterMaxPages = 10;

struct LetterContent {
  std::string subject;                       // the heading, placeholders already substituted
  std::string body;                          // Notify letter markdown, placeholders already substituted
  std::vector<std::string> address_lines;    // normalised (postal_address.h), 3-7 lines
  std::string contact_block;                 // the service's letter contact block; may be empty
  std::optional<std::string> logo_png_path;  // a PNG drawn top left, scaled to fit
  std::string date;                          // as printed, e.g. "23 November 2026"
};

struct LetterPdf {
  std::string bytes;  // the PDF file
  int page_count = 0;
};

// Lays out and draws the letter. Errors: kInvalidArgument when it would run to more than
// kLetterMaxPages pages or the text is beyond any letter's size; kFailedPrecondition when the
// logo cannot be read as a PNG; kInternal when cairo fails.
Result<LetterPdf> render_letter_pdf(const LetterContent& letter);

// The cairo and pango this process draws letters with (`herald --version`): (name, version).
std::vector<std::pair<std::string, std::string>> drawing_library_versions();

}  // namespace herald::domain
