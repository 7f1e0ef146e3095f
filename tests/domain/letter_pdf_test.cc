#include "domain/letters/letter_pdf.h"

#include <cairo.h>
#include <gtest/gtest.h>
#include <poppler-document.h>
#include <poppler-page.h>
#include <poppler-rectangle.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "domain/letters/precompiled_letter.h"

namespace herald::domain {
namespace {

constexpr double kPointsPerMm = 72.0 / 25.4;

LetterContent sample_letter(std::string body) {
  LetterContent letter;
  letter.subject = "Your appointment";
  letter.body = std::move(body);
  letter.address_lines = {"Ms A Person", "1 High Street", "Leeds", "LS1 4AP"};
  letter.contact_block = "Herald Hospital\nOutpatients\n0113 496 0000";
  letter.date = "23 November 2026";
  return letter;
}

std::unique_ptr<poppler::document> open_pdf(const std::string& bytes) {
  return std::unique_ptr<poppler::document>(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
}

std::string utf8(const poppler::ustring& text) {
  const auto bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

struct Word {
  std::string text;
  poppler::rectf box;
};

std::vector<Word> words_on(const poppler::document& document, int index) {
  std::unique_ptr<poppler::page> page(document.create_page(index));
  std::vector<Word> words;
  for (const auto& box : page->text_list()) words.push_back({utf8(box.text()), box.bbox()});
  return words;
}

std::string page_text(const poppler::document& document, int index) {
  std::string text;
  for (const auto& word : words_on(document, index)) text += word.text + " ";
  return text;
}

std::string long_body(int paragraphs) {
  std::string body;
  for (int i = 0; i < paragraphs; ++i) {
    body += "Paragraph " + std::to_string(i) +
            " has enough words in it to take up a line or two of the letter, which is what "
            "we need to fill pages.\n\n";
  }
  return body;
}

TEST(LetterPdf, OnePageA4WithTheAddressInTheWindow) {
  const auto pdf = render_letter_pdf(sample_letter("Dear Ms Person,\n\nPlease come in."));
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_EQ(pdf->page_count, 1);
  ASSERT_EQ(pdf->bytes.compare(0, 5, "%PDF-"), 0);
  const auto document = open_pdf(pdf->bytes);
  ASSERT_TRUE(document);
  ASSERT_EQ(document->pages(), 1);
  std::unique_ptr<poppler::page> page(document->create_page(0));
  const auto rect = page->page_rect(poppler::media_box);
  EXPECT_NEAR(rect.width() / kPointsPerMm, 210.0, 0.1);
  EXPECT_NEAR(rect.height() / kPointsPerMm, 297.0, 0.1);

  // Every word of the address sits inside Notify's address window (24.6-120mm across,
  // 39.5-66.3mm down), in capitals.
  int address_words = 0;
  for (const auto& word : words_on(*document, 0)) {
    if (word.text != "MS" && word.text != "PERSON" && word.text != "HIGH" && word.text != "LEEDS" &&
        word.text != "LS1" && word.text != "4AP") {
      continue;
    }
    ++address_words;
    EXPECT_GE(word.box.left() / kPointsPerMm, 24.6) << word.text;
    EXPECT_LE(word.box.right() / kPointsPerMm, 120.0) << word.text;
    EXPECT_GE(word.box.top() / kPointsPerMm, 39.5) << word.text;
    EXPECT_LE(word.box.bottom() / kPointsPerMm, 66.3) << word.text;
  }
  EXPECT_EQ(address_words, 6);

  // The contact block sits in template preview's service-address area (125-195mm across,
  // 5-95mm down); the content starts below its body top (95mm).
  for (const auto& word : words_on(*document, 0)) {
    if (word.text == "Hospital" || word.text == "Outpatients") {
      EXPECT_GE(word.box.left() / kPointsPerMm, 125.0) << word.text;
      EXPECT_LE(word.box.right() / kPointsPerMm, 195.0) << word.text;
      EXPECT_GE(word.box.top() / kPointsPerMm, 5.0) << word.text;
      EXPECT_LE(word.box.bottom() / kPointsPerMm, 95.0) << word.text;
    }
    if (word.text == "November" || word.text == "appointment") {
      EXPECT_GE(word.box.top() / kPointsPerMm, 95.0) << word.text;
    }
  }

  const std::string text = page_text(*document, 0);
  EXPECT_NE(text.find("Your appointment"), std::string::npos) << text;
  EXPECT_NE(text.find("Herald Hospital"), std::string::npos) << text;
  EXPECT_NE(text.find("23 November 2026"), std::string::npos) << text;
  EXPECT_NE(text.find("Page 1 of 1"), std::string::npos) << text;

  // The precompiled check reads the same address back out of the window.
  const auto checked = check_precompiled_letter(pdf->bytes);
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->address_lines,
            (std::vector<std::string>{"MS A PERSON", "1 HIGH STREET", "LEEDS", "LS1 4AP"}));
}

TEST(LetterPdf, TwoPagesAreNumbered) {
  const auto pdf = render_letter_pdf(sample_letter(long_body(25)));
  ASSERT_TRUE(pdf) << pdf.error().message;
  ASSERT_EQ(pdf->page_count, 2);
  const auto document = open_pdf(pdf->bytes);
  ASSERT_EQ(document->pages(), 2);
  EXPECT_NE(page_text(*document, 0).find("Page 1 of 2"), std::string::npos);
  EXPECT_NE(page_text(*document, 1).find("Page 2 of 2"), std::string::npos);
  // The address is on page 1 only.
  EXPECT_EQ(page_text(*document, 1).find("LEEDS"), std::string::npos);
}

TEST(LetterPdf, TenPagesAllowedElevenRefused) {
  int paragraphs = 25;
  Result<LetterPdf> pdf = render_letter_pdf(sample_letter(long_body(paragraphs)));
  // Grow the body until it reaches ten pages, then one paragraph-block more.
  while (pdf && pdf->page_count < 10) {
    paragraphs += 10;
    pdf = render_letter_pdf(sample_letter(long_body(paragraphs)));
  }
  ASSERT_TRUE(pdf) << "jumped past 10 pages at " << paragraphs << " paragraphs";
  EXPECT_EQ(pdf->page_count, 10);
  const auto too_long = render_letter_pdf(sample_letter(long_body(paragraphs + 200)));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_long.error().message,
            "Letters must be 10 pages or less (5 double-sided sheets of paper)");
  // Far beyond any letter: refused before layout.
  EXPECT_FALSE(render_letter_pdf(sample_letter(std::string(1 << 20, 'x'))));
}

TEST(LetterPdf, MarkupInUserTextIsShownLiterally) {
  auto letter = sample_letter("Hello <b>bold</b> & <span foreground=\"red\">red</span>");
  letter.subject = "<i>Subject</i>";
  letter.address_lines[0] = "<b>Ms</b> A Person";
  const auto pdf = render_letter_pdf(letter);
  ASSERT_TRUE(pdf) << pdf.error().message;
  const auto document = open_pdf(pdf->bytes);
  const std::string text = page_text(*document, 0);
  EXPECT_NE(text.find("<b>bold</b>"), std::string::npos) << text;
  EXPECT_NE(text.find("<span"), std::string::npos) << text;
  EXPECT_NE(text.find("<i>Subject</i>"), std::string::npos) << text;
  EXPECT_NE(text.find("<B>MS</B>"), std::string::npos) << text;
}

TEST(LetterPdf, MarkdownHeadingsAndLists) {
  const auto pdf = render_letter_pdf(sample_letter(
      "# What to bring\n\n* your letter\n* a friend\n\n1. arrive\n2. check in\n\nThanks"));
  ASSERT_TRUE(pdf) << pdf.error().message;
  const auto document = open_pdf(pdf->bytes);
  const std::string text = page_text(*document, 0);
  EXPECT_NE(text.find("What to bring"), std::string::npos) << text;
  EXPECT_EQ(text.find("# What"), std::string::npos) << text;
  EXPECT_NE(text.find("\xE2\x80\xA2 your letter"), std::string::npos) << text;
  EXPECT_NE(text.find("2. check in"), std::string::npos) << text;
}

TEST(LetterPdf, HorizontalRuleStartsANewPageAndDeeperHeadingsArePlain) {
  const auto pdf = render_letter_pdf(sample_letter("First page\n\n---\n\n## Second page"));
  ASSERT_TRUE(pdf) << pdf.error().message;
  ASSERT_EQ(pdf->page_count, 2);
  const auto document = open_pdf(pdf->bytes);
  EXPECT_NE(page_text(*document, 1).find("Second page"), std::string::npos);
  EXPECT_EQ(page_text(*document, 1).find("#"), std::string::npos);
}

TEST(LetterPdf, MalformedUtf8AndControlCharactersAreReplaced) {
  const auto pdf = render_letter_pdf(sample_letter(std::string("ok \xff\xfe bad \x01\x07 end")));
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_EQ(pdf->page_count, 1);
}

TEST(LetterPdf, LogoIsDrawnAndAMissingOneIsAnError) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("herald-logo-" + std::to_string(::getpid()) + ".png");
  {
    cairo_surface_t* image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 100);
    cairo_t* cr = cairo_create(image);
    cairo_set_source_rgb(cr, 0, 0.3, 0.6);
    cairo_paint(cr);
    cairo_destroy(cr);
    ASSERT_EQ(cairo_surface_write_to_png(image, path.c_str()), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(image);
  }
  auto letter = sample_letter("Body");
  letter.logo_png_path = path.string();
  const auto pdf = render_letter_pdf(letter);
  std::filesystem::remove(path);
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_NE(pdf->bytes.find("/Image"), std::string::npos);

  letter.logo_png_path = (std::filesystem::temp_directory_path() / "herald-no-such-logo.png");
  const auto missing = render_letter_pdf(letter);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace herald::domain
