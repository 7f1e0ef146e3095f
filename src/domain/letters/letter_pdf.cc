#include "domain/letters/letter_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/utf8.h"

namespace herald::domain {
namespace {

// Layout figures, in millimetres from the top left of an A4 page unless marked pt. They follow
// GOV.UK Notify's own letters:
//  - alphagov/notifications-utils notifications_utils/jinja_templates/letter_pdf/_main_css.jinja2
//    (commit a9af02a): page margins 15mm top (10mm on page 1), 10mm right, 15mm bottom, 15mm
//    left; logo box 70mm x 18mm at the top left of the page area; address block 85mm wide, 9.6mm
//    in from the left margin (24.6mm from the page edge), its bottom 215.8mm above the bottom
//    margin (66.2mm from the top), 8pt on 8.5pt lines, upper case; contact
//    block 71.2mm wide against the right margin, its bottom 199.8mm above the bottom margin
//    (82.2mm from the top), at most 132pt tall, 10pt on 12pt; content 137.5mm wide starting
//    94mm below the page-1 margin; body 12.5pt on 16pt with 16pt between paragraphs; the subject
//    20pt bold on 23.4pt, 18.16pt above and 7.68pt below; headings 14pt bold on 17.4pt; lists
//    indented 0.8em (bullets) or 1.4em (numbers); "Page n of m" at 10pt in the bottom-right
//    margin box.
//  - alphagov/notifications-template-preview app/precompiled.py (commit ccb4c6c): the address
//    area every letter must keep clear for the envelope window is 24.6mm to 120.0mm from the
//    left and 39.5mm to 66.3mm from the top; the contact block area starts 125mm from the left.
constexpr double kPointsPerMm = 72.0 / 25.4;
constexpr double kPageWidthMm = 210.0;
constexpr double kPageHeightMm = 297.0;
constexpr double kMarginLeftMm = 15.0;
constexpr double kMarginRightMm = 10.0;
constexpr double kMarginTopFirstMm = 10.0;
constexpr double kMarginTopMm = 15.0;
constexpr double kMarginBottomMm = 15.0;
constexpr double kLogoWidthMm = 70.0;
constexpr double kLogoHeightMm = 18.0;
// Notify's address block starts at 24.6mm and ends at 66.2mm, which puts the line boxes in the
// window but lets a glyph's side bearing or a descender poke a fraction of a millimetre out.
// Herald insets the block by 0.4mm at the left and 0.8mm at the bottom so that the glyphs
// themselves stay inside 24.6-120mm x 39.5-66.3mm.
constexpr double kAddressLeftMm = 24.6 + 0.4;
constexpr double kAddressWidthMm = 85.0;
constexpr double kAddressBottomMm = kPageHeightMm - kMarginBottomMm - 215.8 - 0.8;  // 65.4
// The window itself (template preview's ADDRESS_TOP/BOTTOM_FROM_TOP_OF_PAGE): the address is
// clipped to it, so nothing of it can print outside.
constexpr double kWindowTopMm = 39.5;
constexpr double kWindowBottomMm = 66.3;
constexpr double kAddressFontPt = 8.0;
constexpr double kAddressLinePt = 8.5;
constexpr double kContactWidthMm = 71.2;
constexpr double kContactLeftMm = kPageWidthMm - kMarginRightMm - kContactWidthMm;  // 128.8
constexpr double kContactBottomMm = kPageHeightMm - kMarginBottomMm - 199.8;        // 82.2
constexpr double kContactMaxHeightPt = 132.0;
constexpr double kContactFontPt = 10.0;
constexpr double kContactLinePt = 12.0;
constexpr double kContentTopFirstMm = kMarginTopFirstMm + 94.0;  // 104
constexpr double kContentWidthMm = 137.5;
constexpr double kContentBottomMm = kPageHeightMm - kMarginBottomMm;  // 282
constexpr double kPageNumberFontPt = 10.0;

// Beyond this much text no letter fits in kLetterMaxPages pages (a full page holds about 4,000
// characters), so it is refused before any layout work.
constexpr std::size_t kMaxTextBytes = 256 * 1024;

constexpr const char* kFontFamily = "Arial, Helvetica, Nimbus Sans, Liberation Sans, DejaVu Sans, sans-serif";

double mm(double millimetres) { return millimetres * kPointsPerMm; }

struct TextStyle {
  double size_pt;
  double line_pt;
  bool bold;
  double space_before_pt;
  double space_after_pt;
};
constexpr TextStyle kBodyStyle{12.5, 16.0, false, 0.0, 16.0};
constexpr TextStyle kSubjectStyle{20.0, 23.4, true, 18.16, 7.68};
constexpr TextStyle kHeadingStyle{14.0, 17.4, true, 0.0, 16.0};
constexpr TextStyle kListItemStyle{12.5, 16.0, false, 0.0, 0.0};

struct CairoSurfaceDeleter {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
struct GObjectDeleter {
  void operator()(void* object) const { g_object_unref(object); }
};
struct FontDescriptionDeleter {
  void operator()(PangoFontDescription* description) const { pango_font_description_free(description); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, CairoSurfaceDeleter>;
using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;
using ContextPtr = std::unique_ptr<PangoContext, GObjectDeleter>;
using FontDescriptionPtr = std::unique_ptr<PangoFontDescription, FontDescriptionDeleter>;

// Well-formed UTF-8 with no control characters but newlines (tabs become spaces; anything
// malformed becomes U+FFFD), so Pango sees only text it can shape.
std::string clean_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::vector<std::uint32_t> one;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    one.clear();
    std::uint32_t c = 0xFFFD;
    if (i + length <= text.size() && decode_utf8(text.substr(i, length), one) && one.size() == 1) {
      c = one[0];
      i += length;
    } else {
      ++i;
    }
    if (c == '\r') {
      if (i < text.size() && text[i] == '\n') continue;
      c = '\n';
    }
    if (c == '\t') c = ' ';
    if ((c < 0x20 && c != '\n') || (c >= 0x7F && c < 0xA0)) continue;
    append_utf8(out, c);
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return "";
  const std::size_t last = text.find_last_not_of(' ');
  return std::string(text.substr(first, last - first + 1));
}

// A block of the letter body in Notify's letter markdown.
struct Block {
  enum class Kind { kParagraph, kHeading, kBulletList, kNumberedList, kPageBreak };
  Kind kind = Kind::kParagraph;
  std::vector<std::string> items;  // one for paragraphs and headings
};

// "* x", "- x", "• x" -> "x".
std::optional<std::string> bullet_item(std::string_view line) {
  for (const std::string_view marker : {"* ", "- ", "\xE2\x80\xA2 "}) {
    if (line.substr(0, marker.size()) == marker) return trim(line.substr(marker.size()));
  }
  return std::nullopt;
}

// "1. x" -> "x".
std::optional<std::string> numbered_item(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && i < 4 && line[i] >= '0' && line[i] <= '9') ++i;
  if (i == 0 || line.substr(i, 2) != ". ") return std::nullopt;
  return trim(line.substr(i + 2));
}

// A horizontal rule in markdown ("---", "* * *", "___"): a page break in Notify's letters.
bool is_rule(std::string_view line) {
  int marks = 0;
  for (const char c : line) {
    if (c == '-' || c == '*' || c == '_') {
      ++marks;
    } else if (c != ' ') {
      return false;
    }
  }
  return marks >= 3;
}

// Notify's letter markdown, kept simple: paragraphs (blank-line separated, single newlines kept
// as line breaks), "# " headings (deeper levels are plain paragraphs, as Notify renders them),
// bullet or numbered lists, and horizontal rules as page breaks; inline markup is left as
// written.
std::vector<Block> parse_letter_markdown(std::string_view body) {
  std::vector<Block> blocks;
  bool open = false;
  auto close = [&] { open = false; };
  for (const std::string& raw : split_lines(body)) {
    const std::string line = trim(raw);
    if (line.empty()) {
      close();
      continue;
    }
    if (line[0] == '#') {
      close();
      const std::size_t level = line.find_first_not_of('#');
      const auto kind = level == 1 ? Block::Kind::kHeading : Block::Kind::kParagraph;
      blocks.push_back({kind, {level == std::string::npos ? "" : trim(line.substr(level))}});
      continue;
    }
    if (is_rule(line)) {
      close();
      blocks.push_back({Block::Kind::kPageBreak, {}});
      continue;
    }
    const auto bullet = bullet_item(line);
    const auto number = bullet ? std::nullopt : numbered_item(line);
    if (bullet || number) {
      const auto kind = bullet ? Block::Kind::kBulletList : Block::Kind::kNumberedList;
      if (!open || blocks.back().kind != kind) blocks.push_back({kind, {}});
      blocks.back().items.push_back(bullet ? *bullet : *number);
      open = true;
      continue;
    }
    if (open && blocks.back().kind == Block::Kind::kParagraph) {
      blocks.back().items.back() += "\n" + line;
    } else if (open) {
      blocks.back().items.back() += " " + line;  // a list item's continuation line
    } else {
      blocks.push_back({Block::Kind::kParagraph, {line}});
      open = true;
    }
  }
  return blocks;
}

// One line of laid-out text, placed on a page.
struct PlacedLine {
  int page = 0;
  double x = 0;         // pt
  double top = 0;       // pt
  double line_pt = 0;   // the line box height
  PangoLayout* layout;  // owned by Renderer::layouts_
  int line_index = 0;
  std::string marker;  // a bullet or number drawn in the indent, on an item's first line
  double marker_x = 0;
  TextStyle style{};
};

class Renderer {
 public:
  explicit Renderer(cairo_t* cr) : context_(pango_cairo_create_context(cr)) {
    // Layout in points: the PDF surface's user unit is 1pt, so 72 "dots" per inch.
    pango_cairo_context_set_resolution(context_.get(), 72.0);
    cairo_font_options_t* options = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(context_.get(), options);
    cairo_font_options_destroy(options);
  }

  PangoLayout* make_layout(const std::string& text, double size_pt, bool bold, double width_pt) {
    LayoutPtr layout(pango_layout_new(context_.get()));
    FontDescriptionPtr font(pango_font_description_from_string(kFontFamily));
    pango_font_description_set_absolute_size(font.get(), size_pt * PANGO_SCALE);
    pango_font_description_set_weight(font.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout.get(), font.get());
    pango_layout_set_width(layout.get(), width_pt < 0 ? -1 : static_cast<int>(width_pt * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    // Plain text: nothing in `text` is read as markup.
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    layouts_.push_back(std::move(layout));
    return layouts_.back().get();
  }

  // Lays the body out from page 0 on; false when it needs more than kLetterMaxPages pages.
  bool flow(const std::string& date, const std::string& subject, const std::vector<Block>& body) {
    const double width = mm(kContentWidthMm);
    const double left = mm(kMarginLeftMm);
    if (!place_text(make_layout(date, kBodyStyle.size_pt, false, width), left, kBodyStyle, {}, 0)) return false;
    if (!place_text(make_layout(subject, kSubjectStyle.size_pt, true, width), left, kSubjectStyle, {}, 0)) return false;
    for (std::size_t b = 0; b < body.size(); ++b) {
      const Block& block = body[b];
      switch (block.kind) {
        case Block::Kind::kPageBreak:
          if (y_ > top_of_page() + 0.01) new_page();
          break;
        case Block::Kind::kParagraph:
          if (block.items[0].empty()) break;
          if (!place_text(make_layout(block.items[0], kBodyStyle.size_pt, false, width), left, kBodyStyle, {}, 0))
            return false;
          break;
        case Block::Kind::kHeading: {
          // Keep a heading with at least one line of what follows.
          auto* layout = make_layout(block.items[0], kHeadingStyle.size_pt, true, width);
          const double needed = pango_layout_get_line_count(layout) * kHeadingStyle.line_pt + kBodyStyle.line_pt;
          if (y_ + needed > mm(kContentBottomMm)) new_page();
          if (!place_text(layout, left, kHeadingStyle, {}, 0)) return false;
          break;
        }
        case Block::Kind::kBulletList:
        case Block::Kind::kNumberedList: {
          const bool numbered = block.kind == Block::Kind::kNumberedList;
          const double indent = (numbered ? 1.4 : 0.8) * kBodyStyle.size_pt + 4.0;
          for (std::size_t i = 0; i < block.items.size(); ++i) {
            const std::string marker = numbered ? std::to_string(i + 1) + "." : "\xE2\x80\xA2";
            auto* layout = make_layout(block.items[i], kBodyStyle.size_pt, false, width - indent);
            if (!place_text(layout, left + indent, kListItemStyle, marker, left)) return false;
          }
          y_ += kBodyStyle.space_after_pt;
          break;
        }
      }
      if (page_ >= kLetterMaxPages) return false;
    }
    return page_ < kLetterMaxPages;
  }

  int page_count() const { return page_ + 1; }
  const std::vector<PlacedLine>& placed() const { return placed_; }

 private:
  void new_page() {
    ++page_;
    y_ = mm(kMarginTopMm);
  }

  bool place_text(PangoLayout* layout, double x, const TextStyle& style, const std::string& marker, double marker_x) {
    if (y_ > top_of_page() + 0.01) y_ += style.space_before_pt;
    const int lines = pango_layout_get_line_count(layout);
    for (int i = 0; i < lines; ++i) {
      if (y_ + style.line_pt > mm(kContentBottomMm)) {
        new_page();
        if (page_ >= kLetterMaxPages) return false;
      }
      placed_.push_back({page_, x, y_, style.line_pt, layout, i, i == 0 ? marker : "", marker_x, style});
      y_ += style.line_pt;
    }
    y_ += style.space_after_pt;
    return true;
  }

  double top_of_page() const { return page_ == 0 ? mm(kContentTopFirstMm) : mm(kMarginTopMm); }

  ContextPtr context_;
  std::vector<LayoutPtr> layouts_;
  std::vector<PlacedLine> placed_;
  int page_ = 0;
  double y_ = mm(kContentTopFirstMm);
};

// Draws `line` of `layout` in a line box whose top is `top`, its baseline placed so that the
// line's own ascent and descent sit centred in the box, as CSS line-height does.
void draw_line(cairo_t* cr, PangoLayout* layout, int line_index, double x, double top, double line_pt) {
  PangoLayoutIter* iter = pango_layout_get_iter(layout);
  for (int i = 0; i < line_index; ++i) pango_layout_iter_next_line(iter);
  PangoRectangle logical;
  pango_layout_iter_get_line_extents(iter, nullptr, &logical);
  const double line_top = logical.y / static_cast<double>(PANGO_SCALE);
  const double height = logical.height / static_cast<double>(PANGO_SCALE);
  const double baseline = pango_layout_iter_get_baseline(iter) / static_cast<double>(PANGO_SCALE) - line_top;
  PangoLayoutLine* line = pango_layout_iter_get_line_readonly(iter);
  cairo_move_to(cr, x, top + (line_pt - height) / 2.0 + baseline);
  pango_cairo_show_layout_line(cr, line);
  pango_layout_iter_free(iter);
}

// Draws every line of `layout` from `top`, `line_pt` apart.
void draw_layout_lines(cairo_t* cr, PangoLayout* layout, double x, double top, double line_pt) {
  const int lines = pango_layout_get_line_count(layout);
  for (int i = 0; i < lines; ++i) draw_line(cr, layout, i, x, top + i * line_pt, line_pt);
}

void draw_address(cairo_t* cr, Renderer& renderer, const std::vector<std::string>& lines) {
  // Royal Mail reads addresses best in capitals; Notify prints them upper case. One layout per
  // line: each is cut at the block's width rather than wrapped.
  const double top = mm(kAddressBottomMm) - static_cast<double>(lines.size()) * kAddressLinePt;
  cairo_save(cr);
  cairo_rectangle(cr, mm(kAddressLeftMm), mm(kWindowTopMm), mm(kAddressWidthMm), mm(kWindowBottomMm - kWindowTopMm));
  cairo_clip(cr);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    gchar* upper = g_utf8_strup(lines[i].data(), static_cast<gssize>(lines[i].size()));
    PangoLayout* layout = renderer.make_layout(upper, kAddressFontPt, false, mm(kAddressWidthMm));
    g_free(upper);
    pango_layout_set_width(layout, -1);
    draw_line(cr, layout, 0, mm(kAddressLeftMm), top + static_cast<double>(i) * kAddressLinePt, kAddressLinePt);
  }
  cairo_restore(cr);
}

void draw_contact_block(cairo_t* cr, Renderer& renderer, const std::string& contact_block) {
  if (contact_block.empty()) return;
  PangoLayout* layout = renderer.make_layout(contact_block, kContactFontPt, false, mm(kContactWidthMm));
  const double height = pango_layout_get_line_count(layout) * kContactLinePt;
  const double box_top = mm(kContactBottomMm) - kContactMaxHeightPt;
  const double top = std::max(box_top, mm(kContactBottomMm) - height);
  cairo_save(cr);
  cairo_rectangle(cr, mm(kContactLeftMm), box_top, mm(kContactWidthMm), kContactMaxHeightPt);
  cairo_clip(cr);
  draw_layout_lines(cr, layout, mm(kContactLeftMm), top, kContactLinePt);
  cairo_restore(cr);
}

Result<void> draw_logo(cairo_t* cr, const std::string& path) {
  SurfacePtr logo(cairo_image_surface_create_from_png(path.c_str()));
  if (cairo_surface_status(logo.get()) != CAIRO_STATUS_SUCCESS) {
    return failed_precondition("letter logo is not a readable PNG file");
  }
  const int width = cairo_image_surface_get_width(logo.get());
  const int height = cairo_image_surface_get_height(logo.get());
  if (width <= 0 || height <= 0) return failed_precondition("letter logo is empty");
  const double scale = std::min(mm(kLogoWidthMm) / width, mm(kLogoHeightMm) / height);
  cairo_save(cr);
  cairo_translate(cr, mm(kMarginLeftMm), mm(kMarginTopFirstMm));
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, logo.get(), 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  return ok();
}

void draw_page_number(cairo_t* cr, Renderer& renderer, int page, int pages) {
  const std::string text = "Page " + std::to_string(page) + " of " + std::to_string(pages);
  PangoLayout* layout = renderer.make_layout(text, kPageNumberFontPt, false, -1);
  pango_layout_set_width(layout, -1);
  PangoRectangle logical;
  pango_layout_get_extents(layout, nullptr, &logical);
  const double width = logical.width / static_cast<double>(PANGO_SCALE);
  const double right = mm(kPageWidthMm - kMarginRightMm);
  draw_line(cr, layout, 0, right - width, mm(kContentBottomMm) + 4.0, 12.0);
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

Error too_long() {
  return invalid_argument("Letters must be " + std::to_string(kLetterMaxPages) + " pages or less (" +
                          std::to_string(kLetterMaxPages / 2) + " double-sided sheets of paper)");
}

}  // namespace

Result<LetterPdf> render_letter_pdf(const LetterContent& letter) {
  std::size_t total = letter.subject.size() + letter.body.size() + letter.contact_block.size() + letter.date.size();
  for (const auto& line : letter.address_lines) total += line.size();
  if (total > kMaxTextBytes) return too_long();

  std::string bytes;
  SurfacePtr surface(
      cairo_pdf_surface_create_for_stream(append_to_string, &bytes, mm(kPageWidthMm), mm(kPageHeightMm)));
  CairoPtr cr(cairo_create(surface.get()));
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
    return internal_error("cairo could not start a PDF");
  }
  Renderer renderer(cr.get());
  const auto blocks = parse_letter_markdown(clean_text(letter.body));
  if (!renderer.flow(clean_text(letter.date), clean_text(letter.subject), blocks)) {
    return too_long();
  }
  const int pages = renderer.page_count();

  std::vector<std::string> address;
  for (const auto& line : letter.address_lines) address.push_back(clean_text(line));
  cairo_set_source_rgb(cr.get(), 0, 0, 0);
  std::size_t next = 0;
  const auto& placed = renderer.placed();
  for (int page = 0; page < pages; ++page) {
    if (page == 0) {
      if (letter.logo_png_path) HERALD_TRY(draw_logo(cr.get(), *letter.logo_png_path));
      draw_address(cr.get(), renderer, address);
      draw_contact_block(cr.get(), renderer, clean_text(letter.contact_block));
    }
    for (; next < placed.size() && placed[next].page == page; ++next) {
      const PlacedLine& line = placed[next];
      if (!line.marker.empty()) {
        PangoLayout* marker = renderer.make_layout(line.marker, line.style.size_pt, false, -1);
        draw_line(cr.get(), marker, 0, line.marker_x, line.top, line.line_pt);
      }
      draw_line(cr.get(), line.layout, line.line_index, line.x, line.top, line.line_pt);
    }
    draw_page_number(cr.get(), renderer, page + 1, pages);
    cairo_show_page(cr.get());
  }
  cr.reset();
  cairo_surface_finish(surface.get());
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return internal_error("cairo could not write the PDF");
  }
  surface.reset();
  return LetterPdf{std::move(bytes), pages};
}

std::vector<std::pair<std::string, std::string>> drawing_library_versions() {
  return {{"cairo", cairo_version_string()}, {"pango", pango_version_string()}};
}

}  // namespace herald::domain
