#include "domain/letters/precompiled_letter.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <poppler-rectangle.h>
#include <poppler-version.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

namespace herald::domain {
namespace {

// alphagov/notifications-template-preview app/precompiled.py (commit ccb4c6c): A4 is 210 x 297mm
// and a page passes within 2mm of it (`_is_page_A4_portrait`, math.isclose(abs_tol=2)), upright
// or upside down, or landscape-shaped with a /Rotate of 90 or 270. The address is read from
// 24.6-120.0mm across and 39.5-66.3mm down, widened by 3mm on every side (ADDRESS_BOUNDING_BOX).
constexpr double kPointsPerMm = 72.0 / 25.4;
constexpr double kA4WidthMm = 210.0;
constexpr double kA4HeightMm = 297.0;
constexpr double kSizeToleranceMm = 2.0;
constexpr double kAddressLeftMm = 24.6 - 3.0;
constexpr double kAddressRightMm = 120.0 + 3.0;
constexpr double kAddressTopMm = 39.5 - 3.0;
constexpr double kAddressBottomMm = 66.3 + 3.0;
constexpr int kMaxPages = 10;  // notifications-utils LETTER_MAX_PAGE_COUNT
// Where a PDF reader looks for the "%PDF-" header.
constexpr std::size_t kHeaderSearchBytes = 1024;
// Bounds on what is read out of the address window.
constexpr std::size_t kMaxAddressWords = 200;
constexpr std::size_t kMaxAddressLines = 20;

Error refused(std::string message) {
  return with_refusal(invalid_argument(std::move(message)), Refusal::kInvalidLetter);
}

void ignore_poppler_message(const std::string& /*message*/, void* /*closure*/) {}

// Poppler reports malformed input on stderr by default; a refused PDF is an answer, not a log
// line.
void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(ignore_poppler_message, nullptr); });
}

bool near(double value, double target) { return std::fabs(value - target) <= kSizeToleranceMm; }

bool is_a4_portrait(const poppler::page& page) {
  const poppler::rectf box = page.page_rect(poppler::media_box);
  const double width = std::fabs(box.width()) / kPointsPerMm;
  const double height = std::fabs(box.height()) / kPointsPerMm;
  const auto orientation = page.orientation();
  const bool upright = orientation == poppler::page::portrait || orientation == poppler::page::upside_down;
  if (near(width, kA4WidthMm) && near(height, kA4HeightMm)) return upright;
  if (near(width, kA4HeightMm) && near(height, kA4WidthMm)) return !upright;
  return false;
}

std::string utf8_of(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

struct Word {
  double left, top, bottom;
  std::string text;
  bool space_after;
};

// Groups the words inside the address window into printed lines, top to bottom.
std::vector<std::string> address_lines_of(const poppler::page& page) {
  const double left = kAddressLeftMm * kPointsPerMm;
  const double right = kAddressRightMm * kPointsPerMm;
  const double top = kAddressTopMm * kPointsPerMm;
  const double bottom = kAddressBottomMm * kPointsPerMm;
  std::vector<Word> words;
  for (const poppler::text_box& box : page.text_list()) {
    const poppler::rectf r = box.bbox();
    const double centre_x = r.left() + r.width() / 2;
    const double centre_y = r.top() + r.height() / 2;
    if (centre_x < left || centre_x > right || centre_y < top || centre_y > bottom) continue;
    words.push_back({r.left(), r.top(), r.bottom(), utf8_of(box.text()), box.has_space_after()});
    if (words.size() >= kMaxAddressWords) break;
  }
  std::sort(words.begin(), words.end(),
            [](const Word& a, const Word& b) { return a.top != b.top ? a.top < b.top : a.left < b.left; });
  std::vector<std::vector<Word>> lines;
  for (Word& word : words) {
    const double middle = (word.top + word.bottom) / 2;
    if (lines.empty() || middle > lines.back().front().bottom) {
      if (lines.size() >= kMaxAddressLines) break;
      lines.emplace_back();
    }
    lines.back().push_back(std::move(word));
  }
  std::vector<std::string> out;
  for (auto& line : lines) {
    std::sort(line.begin(), line.end(), [](const Word& a, const Word& b) { return a.left < b.left; });
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i].text;
      if (i + 1 < line.size()) text += ' ';
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace

Result<PrecompiledLetter> check_precompiled_letter(std::string_view pdf) {
  if (pdf.size() > kPrecompiledLetterMaxBytes) return refused("letter-too-big");
  if (pdf.substr(0, kHeaderSearchBytes).find("%PDF-") == std::string_view::npos) {
    return refused("unable-to-read-the-file");
  }
  silence_poppler();
  std::unique_ptr<poppler::document> document(
      poppler::document::load_from_raw_data(pdf.data(), static_cast<int>(pdf.size())));
  if (!document) return refused("unable-to-read-the-file");
  if (document->is_locked()) return refused("letter-is-encrypted");
  const int pages = document->pages();
  if (pages <= 0) return refused("letter-has-no-pages");
  if (pages > kMaxPages) return refused("letter-too-long: " + std::to_string(pages) + " pages");

  std::string bad_pages;
  for (int index = 0; index < pages; ++index) {
    std::unique_ptr<poppler::page> page(document->create_page(index));
    if (!page) return refused("unable-to-read-the-file");
    if (!is_a4_portrait(*page)) {
      bad_pages += (bad_pages.empty() ? "" : ", ") + std::to_string(index + 1);
    }
  }
  if (!bad_pages.empty()) return refused("letter-not-a4-portrait-oriented: pages " + bad_pages);

  PrecompiledLetter letter;
  letter.page_count = pages;
  std::unique_ptr<poppler::page> first(document->create_page(0));
  if (!first) return refused("unable-to-read-the-file");
  letter.address_lines = address_lines_of(*first);
  return letter;
}

std::string poppler_version() { return poppler::version_string(); }

}  // namespace herald::domain
