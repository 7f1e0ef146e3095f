#include "domain/letters/precompiled_letter.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace herald::domain {
namespace {

constexpr double kPointsPerMm = 72.0 / 25.4;
constexpr double kA4Width = 210.0 * kPointsPerMm;
constexpr double kA4Height = 297.0 * kPointsPerMm;

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A PDF of `pages` pages of `width` x `height` points; page 1 carries `address` in the window.
std::string make_pdf(int pages, double width, double height,
                     const std::vector<std::string>& address = {}) {
  std::string bytes;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append, &bytes, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 9.0);
  for (int page = 0; page < pages; ++page) {
    if (page == 0) {
      double baseline = 45.0 * kPointsPerMm;
      for (const auto& line : address) {
        cairo_move_to(cr, 26.0 * kPointsPerMm, baseline);
        cairo_show_text(cr, line.c_str());
        baseline += 10.0;
      }
    }
    cairo_move_to(cr, 20.0 * kPointsPerMm, 150.0 * kPointsPerMm);
    cairo_show_text(cr, ("Body of page " + std::to_string(page + 1)).c_str());
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
  return bytes;
}

std::string refusal(std::string_view pdf) {
  const auto result = check_precompiled_letter(pdf);
  if (result) return "(accepted)";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().refusal, Refusal::kInvalidLetter);
  return result.error().message;
}

TEST(PrecompiledLetter, AcceptsOneA4PageAndReadsTheAddress) {
  const std::string pdf =
      make_pdf(1, kA4Width, kA4Height, {"Ms A Person", "1 High Street", "Leeds", "LS1 4AP"});
  const auto letter = check_precompiled_letter(pdf);
  ASSERT_TRUE(letter) << letter.error().message;
  EXPECT_EQ(letter->page_count, 1);
  EXPECT_EQ(letter->address_lines,
            (std::vector<std::string>{"Ms A Person", "1 High Street", "Leeds", "LS1 4AP"}));
}

TEST(PrecompiledLetter, TenPagesAcceptedElevenRefused) {
  const auto ten = check_precompiled_letter(make_pdf(10, kA4Width, kA4Height));
  ASSERT_TRUE(ten) << ten.error().message;
  EXPECT_EQ(ten->page_count, 10);
  EXPECT_TRUE(ten->address_lines.empty());
  EXPECT_EQ(refusal(make_pdf(11, kA4Width, kA4Height)), "letter-too-long: 11 pages");
}

TEST(PrecompiledLetter, PageGeometry) {
  EXPECT_EQ(refusal(make_pdf(1, 612.0, 792.0)), "letter-not-a4-portrait-oriented: pages 1")
      << "US Letter";
  EXPECT_EQ(refusal(make_pdf(2, kA4Height, kA4Width)),
            "letter-not-a4-portrait-oriented: pages 1, 2")
      << "A4 landscape";
  // Within Notify's 2mm tolerance.
  EXPECT_EQ(refusal(make_pdf(1, kA4Width + 1.5 * kPointsPerMm, kA4Height - 1.5 * kPointsPerMm)),
            "(accepted)");
  EXPECT_EQ(refusal(make_pdf(1, kA4Width + 3 * kPointsPerMm, kA4Height)),
            "letter-not-a4-portrait-oriented: pages 1");
}

TEST(PrecompiledLetter, GarbageAndOversizeRefused) {
  EXPECT_EQ(refusal(""), "unable-to-read-the-file");
  EXPECT_EQ(refusal("hello, this is not a PDF"), "unable-to-read-the-file");
  EXPECT_NE(refusal("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF"), "(accepted)");
  std::string truncated = make_pdf(1, kA4Width, kA4Height);
  truncated.resize(truncated.size() / 3);
  EXPECT_NE(refusal(truncated), "(accepted)");

  std::string big = make_pdf(1, kA4Width, kA4Height);
  big.resize(kPrecompiledLetterMaxBytes + 1, ' ');
  EXPECT_EQ(refusal(big), "letter-too-big");
  std::string at_limit = make_pdf(1, kA4Width, kA4Height);
  at_limit.resize(kPrecompiledLetterMaxBytes, ' ');
  EXPECT_EQ(refusal(at_limit), "(accepted)");
}

}  // namespace
}  // namespace herald::domain
