#include "domain/rendering/sms_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/utf8.h"
#include "domain/rendering/template_render.h"
#include "domain/rendering/text_passes.h"

namespace herald::domain {
namespace {

// =============================================================================================
// Code points. Each pass below works on a std::u32string so that it reads every character
// once, as Python's str methods do.

constexpr char32_t kReplacementCharacter = 0xFFFD;

std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Lenient decoding: a byte that does not start a well-formed sequence becomes U+FFFD.
std::u32string to_code_points(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence_length(lead);
    if (length == 1) {
      out += static_cast<char32_t>(lead);
      ++i;
      continue;
    }
    bool valid = length != 0 && i + length <= text.size();
    std::uint32_t cp = valid ? (lead & (0x7Fu >> length)) : 0;
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3Fu);
    }
    valid = valid && !(length == 3 && cp < 0x800) && !(length == 4 && cp < 0x10000) && cp <= 0x10FFFF &&
            !(cp >= 0xD800 && cp <= 0xDFFF);
    out += valid ? static_cast<char32_t>(cp) : kReplacementCharacter;
    i += valid ? length : 1;
  }
  return out;
}

std::string to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t c : text) append_utf8(out, static_cast<std::uint32_t>(c));
  return out;
}

std::size_t utf16_length(std::u32string_view text) {
  std::size_t units = 0;
  for (const char32_t c : text) units += c > 0xFFFF ? 2 : 1;
  return units;
}

// Python str.isspace(): what str.split() and str.strip() with no argument remove.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python str.splitlines() boundaries ("\r\n" is one boundary).
bool is_line_boundary(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

// formatters.py OBSCURE_ZERO_WIDTH_WHITESPACE.
bool is_zero_width(char32_t c) {
  return c == 0x180E || (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF || c == 0x2028 || c == 0x2029;
}

// =============================================================================================
// Character sets (sanitise_text.py SanitiseSMS).

// GSM 03.38 basic table beyond printable ASCII, sorted. Printable ASCII is all in it except '`';
// of the control characters only LF, CR and ESC are.
constexpr std::array<char32_t, 40> kGsmNonAscii = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00D8,
    0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6, 0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9,
    0x00FC, 0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9, 0x20AC};

// GSM 03.38 extension table: two septets each.
bool is_gsm_extension(char32_t c) {
  return c == '^' || c == '{' || c == '}' || c == '\\' || c == '[' || c == '~' || c == ']' || c == '|' || c == 0x20AC;
}

bool is_gsm(char32_t c) {
  if (c < 0x80) return (c >= 0x20 && c <= 0x7E && c != '`') || c == '\n' || c == '\r' || c == 0x1B;
  return std::binary_search(kGsmNonAscii.begin(), kGsmNonAscii.end(), c);
}

// Welsh letters with a grave, acute, diaeresis or circumflex (WELSH_DIACRITICS), sorted.
constexpr std::array<char32_t, 56> kWelshDiacritics = {
    0x00C0, 0x00C1, 0x00C2, 0x00C4, 0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF, 0x00D2, 0x00D3,
    0x00D4, 0x00D6, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x00DD, 0x00E0, 0x00E1, 0x00E2, 0x00E4, 0x00E8, 0x00E9, 0x00EA,
    0x00EB, 0x00EC, 0x00ED, 0x00EE, 0x00EF, 0x00F2, 0x00F3, 0x00F4, 0x00F6, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x00FD,
    0x00FF, 0x0174, 0x0175, 0x0176, 0x0177, 0x0178, 0x1E80, 0x1E81, 0x1E82, 0x1E83, 0x1E84, 0x1E85, 0x1EF2, 0x1EF3};

bool is_welsh(char32_t c) { return std::binary_search(kWelshDiacritics.begin(), kWelshDiacritics.end(), c); }

bool is_kept(char32_t c) { return is_gsm(c) || is_welsh(c); }

// Welsh letters outside GSM: one of these anywhere makes the message UCS-2.
bool is_welsh_non_gsm(char32_t c) { return is_welsh(c) && !is_gsm(c); }

struct Downgrade {
  char32_t from;
  char32_t to;
};

// Characters with a canonical decomposition whose first character is kept, and that
// character: every such code point in Unicode 15.1. Generated from Python's
// unicodedata.decomposition; a character whose decomposition starts with a code point above
// U+FFFF (CJK compatibility ideographs U+2F800-U+2FA1D and a few others) is left out, so it
// becomes '?'.
constexpr Downgrade kDecompositions[] = {
    {0x00C3, 0x0041}, {0x00D5, 0x004F}, {0x00E3, 0x0061}, {0x00E7, 0x0063}, {0x00F5, 0x006F}, {0x0100, 0x0041},
    {0x0101, 0x0061}, {0x0102, 0x0041}, {0x0103, 0x0061}, {0x0104, 0x0041}, {0x0105, 0x0061}, {0x0106, 0x0043},
    {0x0107, 0x0063}, {0x0108, 0x0043}, {0x0109, 0x0063}, {0x010A, 0x0043}, {0x010B, 0x0063}, {0x010C, 0x0043},
    {0x010D, 0x0063}, {0x010E, 0x0044}, {0x010F, 0x0064}, {0x0112, 0x0045}, {0x0113, 0x0065}, {0x0114, 0x0045},
    {0x0115, 0x0065}, {0x0116, 0x0045}, {0x0117, 0x0065}, {0x0118, 0x0045}, {0x0119, 0x0065}, {0x011A, 0x0045},
    {0x011B, 0x0065}, {0x011C, 0x0047}, {0x011D, 0x0067}, {0x011E, 0x0047}, {0x011F, 0x0067}, {0x0120, 0x0047},
    {0x0121, 0x0067}, {0x0122, 0x0047}, {0x0123, 0x0067}, {0x0124, 0x0048}, {0x0125, 0x0068}, {0x0128, 0x0049},
    {0x0129, 0x0069}, {0x012A, 0x0049}, {0x012B, 0x0069}, {0x012C, 0x0049}, {0x012D, 0x0069}, {0x012E, 0x0049},
    {0x012F, 0x0069}, {0x0130, 0x0049}, {0x0134, 0x004A}, {0x0135, 0x006A}, {0x0136, 0x004B}, {0x0137, 0x006B},
    {0x0139, 0x004C}, {0x013A, 0x006C}, {0x013B, 0x004C}, {0x013C, 0x006C}, {0x013D, 0x004C}, {0x013E, 0x006C},
    {0x0143, 0x004E}, {0x0144, 0x006E}, {0x0145, 0x004E}, {0x0146, 0x006E}, {0x0147, 0x004E}, {0x0148, 0x006E},
    {0x014C, 0x004F}, {0x014D, 0x006F}, {0x014E, 0x004F}, {0x014F, 0x006F}, {0x0150, 0x004F}, {0x0151, 0x006F},
    {0x0154, 0x0052}, {0x0155, 0x0072}, {0x0156, 0x0052}, {0x0157, 0x0072}, {0x0158, 0x0052}, {0x0159, 0x0072},
    {0x015A, 0x0053}, {0x015B, 0x0073}, {0x015C, 0x0053}, {0x015D, 0x0073}, {0x015E, 0x0053}, {0x015F, 0x0073},
    {0x0160, 0x0053}, {0x0161, 0x0073}, {0x0162, 0x0054}, {0x0163, 0x0074}, {0x0164, 0x0054}, {0x0165, 0x0074},
    {0x0168, 0x0055}, {0x0169, 0x0075}, {0x016A, 0x0055}, {0x016B, 0x0075}, {0x016C, 0x0055}, {0x016D, 0x0075},
    {0x016E, 0x0055}, {0x016F, 0x0075}, {0x0170, 0x0055}, {0x0171, 0x0075}, {0x0172, 0x0055}, {0x0173, 0x0075},
    {0x0179, 0x005A}, {0x017A, 0x007A}, {0x017B, 0x005A}, {0x017C, 0x007A}, {0x017D, 0x005A}, {0x017E, 0x007A},
    {0x01A0, 0x004F}, {0x01A1, 0x006F}, {0x01AF, 0x0055}, {0x01B0, 0x0075}, {0x01CD, 0x0041}, {0x01CE, 0x0061},
    {0x01CF, 0x0049}, {0x01D0, 0x0069}, {0x01D1, 0x004F}, {0x01D2, 0x006F}, {0x01D3, 0x0055}, {0x01D4, 0x0075},
    {0x01D5, 0x00DC}, {0x01D6, 0x00FC}, {0x01D7, 0x00DC}, {0x01D8, 0x00FC}, {0x01D9, 0x00DC}, {0x01DA, 0x00FC},
    {0x01DB, 0x00DC}, {0x01DC, 0x00FC}, {0x01DE, 0x00C4}, {0x01DF, 0x00E4}, {0x01E2, 0x00C6}, {0x01E3, 0x00E6},
    {0x01E6, 0x0047}, {0x01E7, 0x0067}, {0x01E8, 0x004B}, {0x01E9, 0x006B}, {0x01EA, 0x004F}, {0x01EB, 0x006F},
    {0x01F0, 0x006A}, {0x01F4, 0x0047}, {0x01F5, 0x0067}, {0x01F8, 0x004E}, {0x01F9, 0x006E}, {0x01FA, 0x00C5},
    {0x01FB, 0x00E5}, {0x01FC, 0x00C6}, {0x01FD, 0x00E6}, {0x01FE, 0x00D8}, {0x01FF, 0x00F8}, {0x0200, 0x0041},
    {0x0201, 0x0061}, {0x0202, 0x0041}, {0x0203, 0x0061}, {0x0204, 0x0045}, {0x0205, 0x0065}, {0x0206, 0x0045},
    {0x0207, 0x0065}, {0x0208, 0x0049}, {0x0209, 0x0069}, {0x020A, 0x0049}, {0x020B, 0x0069}, {0x020C, 0x004F},
    {0x020D, 0x006F}, {0x020E, 0x004F}, {0x020F, 0x006F}, {0x0210, 0x0052}, {0x0211, 0x0072}, {0x0212, 0x0052},
    {0x0213, 0x0072}, {0x0214, 0x0055}, {0x0215, 0x0075}, {0x0216, 0x0055}, {0x0217, 0x0075}, {0x0218, 0x0053},
    {0x0219, 0x0073}, {0x021A, 0x0054}, {0x021B, 0x0074}, {0x021E, 0x0048}, {0x021F, 0x0068}, {0x0226, 0x0041},
    {0x0227, 0x0061}, {0x0228, 0x0045}, {0x0229, 0x0065}, {0x022A, 0x00D6}, {0x022B, 0x00F6}, {0x022E, 0x004F},
    {0x022F, 0x006F}, {0x0232, 0x0059}, {0x0233, 0x0079}, {0x037E, 0x003B}, {0x038F, 0x03A9}, {0x1E00, 0x0041},
    {0x1E01, 0x0061}, {0x1E02, 0x0042}, {0x1E03, 0x0062}, {0x1E04, 0x0042}, {0x1E05, 0x0062}, {0x1E06, 0x0042},
    {0x1E07, 0x0062}, {0x1E08, 0x00C7}, {0x1E0A, 0x0044}, {0x1E0B, 0x0064}, {0x1E0C, 0x0044}, {0x1E0D, 0x0064},
    {0x1E0E, 0x0044}, {0x1E0F, 0x0064}, {0x1E10, 0x0044}, {0x1E11, 0x0064}, {0x1E12, 0x0044}, {0x1E13, 0x0064},
    {0x1E18, 0x0045}, {0x1E19, 0x0065}, {0x1E1A, 0x0045}, {0x1E1B, 0x0065}, {0x1E1E, 0x0046}, {0x1E1F, 0x0066},
    {0x1E20, 0x0047}, {0x1E21, 0x0067}, {0x1E22, 0x0048}, {0x1E23, 0x0068}, {0x1E24, 0x0048}, {0x1E25, 0x0068},
    {0x1E26, 0x0048}, {0x1E27, 0x0068}, {0x1E28, 0x0048}, {0x1E29, 0x0068}, {0x1E2A, 0x0048}, {0x1E2B, 0x0068},
    {0x1E2C, 0x0049}, {0x1E2D, 0x0069}, {0x1E2E, 0x00CF}, {0x1E2F, 0x00EF}, {0x1E30, 0x004B}, {0x1E31, 0x006B},
    {0x1E32, 0x004B}, {0x1E33, 0x006B}, {0x1E34, 0x004B}, {0x1E35, 0x006B}, {0x1E36, 0x004C}, {0x1E37, 0x006C},
    {0x1E3A, 0x004C}, {0x1E3B, 0x006C}, {0x1E3C, 0x004C}, {0x1E3D, 0x006C}, {0x1E3E, 0x004D}, {0x1E3F, 0x006D},
    {0x1E40, 0x004D}, {0x1E41, 0x006D}, {0x1E42, 0x004D}, {0x1E43, 0x006D}, {0x1E44, 0x004E}, {0x1E45, 0x006E},
    {0x1E46, 0x004E}, {0x1E47, 0x006E}, {0x1E48, 0x004E}, {0x1E49, 0x006E}, {0x1E4A, 0x004E}, {0x1E4B, 0x006E},
    {0x1E54, 0x0050}, {0x1E55, 0x0070}, {0x1E56, 0x0050}, {0x1E57, 0x0070}, {0x1E58, 0x0052}, {0x1E59, 0x0072},
    {0x1E5A, 0x0052}, {0x1E5B, 0x0072}, {0x1E5E, 0x0052}, {0x1E5F, 0x0072}, {0x1E60, 0x0053}, {0x1E61, 0x0073},
    {0x1E62, 0x0053}, {0x1E63, 0x0073}, {0x1E6A, 0x0054}, {0x1E6B, 0x0074}, {0x1E6C, 0x0054}, {0x1E6D, 0x0074},
    {0x1E6E, 0x0054}, {0x1E6F, 0x0074}, {0x1E70, 0x0054}, {0x1E71, 0x0074}, {0x1E72, 0x0055}, {0x1E73, 0x0075},
    {0x1E74, 0x0055}, {0x1E75, 0x0075}, {0x1E76, 0x0055}, {0x1E77, 0x0075}, {0x1E7C, 0x0056}, {0x1E7D, 0x0076},
    {0x1E7E, 0x0056}, {0x1E7F, 0x0076}, {0x1E86, 0x0057}, {0x1E87, 0x0077}, {0x1E88, 0x0057}, {0x1E89, 0x0077},
    {0x1E8A, 0x0058}, {0x1E8B, 0x0078}, {0x1E8C, 0x0058}, {0x1E8D, 0x0078}, {0x1E8E, 0x0059}, {0x1E8F, 0x0079},
    {0x1E90, 0x005A}, {0x1E91, 0x007A}, {0x1E92, 0x005A}, {0x1E93, 0x007A}, {0x1E94, 0x005A}, {0x1E95, 0x007A},
    {0x1E96, 0x0068}, {0x1E97, 0x0074}, {0x1E98, 0x0077}, {0x1E99, 0x0079}, {0x1EA0, 0x0041}, {0x1EA1, 0x0061},
    {0x1EA2, 0x0041}, {0x1EA3, 0x0061}, {0x1EA4, 0x00C2}, {0x1EA5, 0x00E2}, {0x1EA6, 0x00C2}, {0x1EA7, 0x00E2},
    {0x1EA8, 0x00C2}, {0x1EA9, 0x00E2}, {0x1EAA, 0x00C2}, {0x1EAB, 0x00E2}, {0x1EB8, 0x0045}, {0x1EB9, 0x0065},
    {0x1EBA, 0x0045}, {0x1EBB, 0x0065}, {0x1EBC, 0x0045}, {0x1EBD, 0x0065}, {0x1EBE, 0x00CA}, {0x1EBF, 0x00EA},
    {0x1EC0, 0x00CA}, {0x1EC1, 0x00EA}, {0x1EC2, 0x00CA}, {0x1EC3, 0x00EA}, {0x1EC4, 0x00CA}, {0x1EC5, 0x00EA},
    {0x1EC8, 0x0049}, {0x1EC9, 0x0069}, {0x1ECA, 0x0049}, {0x1ECB, 0x0069}, {0x1ECC, 0x004F}, {0x1ECD, 0x006F},
    {0x1ECE, 0x004F}, {0x1ECF, 0x006F}, {0x1ED0, 0x00D4}, {0x1ED1, 0x00F4}, {0x1ED2, 0x00D4}, {0x1ED3, 0x00F4},
    {0x1ED4, 0x00D4}, {0x1ED5, 0x00F4}, {0x1ED6, 0x00D4}, {0x1ED7, 0x00F4}, {0x1EE4, 0x0055}, {0x1EE5, 0x0075},
    {0x1EE6, 0x0055}, {0x1EE7, 0x0075}, {0x1EF4, 0x0059}, {0x1EF5, 0x0079}, {0x1EF6, 0x0059}, {0x1EF7, 0x0079},
    {0x1EF8, 0x0059}, {0x1EF9, 0x0079}, {0x1F68, 0x03A9}, {0x1F69, 0x03A9}, {0x1FFA, 0x03A9}, {0x1FFC, 0x03A9},
    {0x2126, 0x03A9}, {0x212A, 0x004B}, {0x212B, 0x00C5}, {0x2260, 0x003D}, {0x226E, 0x003C}, {0x226F, 0x003E},
};

struct Replacement {
  char32_t from;
  std::u32string_view to;
};

// REPLACEMENT_CHARACTERS: for characters with no canonical decomposition. Sorted.
constexpr Replacement kReplacements[] = {
    {0x0009, U" "},    // tab
    {0x00A0, U" "},    // no-break space
    {0x0141, U"L"},    // Ł
    {0x0142, U"l"},    // ł
    {0x180E, U""},     // Mongolian vowel separator
    {0x200B, U""},     // zero width space
    {0x200C, U""},     // zero width non-joiner
    {0x200D, U""},     // zero width joiner
    {0x2011, U"-"},    // non-breaking hyphen
    {0x2013, U"-"},    // en dash
    {0x2014, U"-"},    // em dash
    {0x2018, U"'"},    // left single quotation mark
    {0x2019, U"'"},    // right single quotation mark
    {0x201A, U"'"},    // single low-9 quotation mark
    {0x201C, U"\""},   // left double quotation mark
    {0x201D, U"\""},   // right double quotation mark
    {0x201E, U"\""},   // double low-9 quotation mark
    {0x2026, U"..."},  // horizontal ellipsis
    {0x2028, U""},     // line separator
    {0x2029, U""},     // paragraph separator
    {0x202F, U" "},    // narrow no-break space
    {0x2060, U""},     // word joiner
    {0x2212, U"-"},    // minus sign
    {0xFEFF, U""},     // zero width no-break space
};

// The entry of a table sorted by `from` for `c`, or nullptr.
template <typename Entry, std::size_t N>
const Entry* find_entry(const Entry (&table)[N], char32_t c) {
  const Entry* it = std::lower_bound(std::begin(table), std::end(table), c,
                                     [](const Entry& e, char32_t key) { return e.from < key; });
  return it != std::end(table) && it->from == c ? it : nullptr;
}

void append_downgraded(std::u32string& out, char32_t c) {
  if (is_kept(c)) {
    out += c;
  } else if (const Downgrade* d = find_entry(kDecompositions, c)) {
    out += d->to;
  } else if (const Replacement* r = find_entry(kReplacements, c)) {
    out += r->to;
  } else {
    out += U'?';
  }
}

std::u32string downgrade(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (const char32_t c : text) append_downgraded(out, c);
  return out;
}

// =============================================================================================
// The whitespace pipeline (formatters.py); remove_whitespace_before_punctuation is shared
// with email (domain/rendering/text_passes.h).

// normalise_whitespace of one line, appended to `out`: NBSP and narrow NBSP become spaces,
// zero-width characters go, then " ".join(line.split()).
void append_normalised_line(std::u32string& out, std::u32string_view line) {
  bool pending_space = false;
  bool any = false;
  for (const char32_t c : line) {
    if (is_zero_width(c)) continue;
    if (is_python_space(c)) {  // NBSP and U+202F are Python whitespace too
      pending_space = any;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    any = true;
    out += c;
  }
}

// normalise_whitespace_and_newlines, then normalise_multiple_newlines (\n{3,} -> \n\n), then
// str.strip().
std::u32string normalise_lines(std::u32string_view text) {
  std::u32string joined;
  joined.reserve(text.size());
  bool first = true;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = start;
    while (end < text.size() && !is_line_boundary(text[end])) ++end;
    if (!first) joined += '\n';
    first = false;
    append_normalised_line(joined, text.substr(start, end - start));
    if (end == text.size()) break;
    start = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
  }
  std::u32string out;
  out.reserve(joined.size());
  for (std::size_t i = 0; i < joined.size();) {
    if (joined[i] != '\n') {
      out += joined[i++];
      continue;
    }
    std::size_t end = i;
    while (end < joined.size() && joined[end] == '\n') ++end;
    out.append(std::min<std::size_t>(end - i, 2), '\n');
    i = end;
  }
  std::size_t begin = 0;
  std::size_t finish = out.size();
  while (begin < finish && is_python_space(out[begin])) ++begin;
  while (finish > begin && is_python_space(out[finish - 1])) --finish;
  return out.substr(begin, finish - begin);
}

// Python str.strip() of a prefix.
std::u32string_view python_strip(std::u32string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_python_space(text[begin])) ++begin;
  while (end > begin && is_python_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

// notifications_utils MAGIC_SEQUENCE, which BaseSMSTemplate.unsanitised_content removes from
// whatever it renders.
constexpr std::u32string_view kMagicSequence = U"\U0001F1EC\U0001F1E7\U0001F426\u2709\uFE0F";

std::u32string remove_magic_sequence(std::u32string text) {
  if (text.find(kMagicSequence) == std::u32string::npos) return text;
  std::u32string out;
  out.reserve(text.size());
  std::size_t from = 0;
  for (std::size_t at = text.find(kMagicSequence); at != std::u32string::npos; at = text.find(kMagicSequence, from)) {
    out.append(text, from, at - from);
    from = at + kMagicSequence.size();
  }
  out.append(text, from);
  return out;
}

}  // namespace

std::string downgrade_sms_characters(std::string_view text) { return to_utf8(downgrade(to_code_points(text))); }

std::size_t sms_fragment_count(SmsEncoding encoding, std::size_t content_count, std::size_t extension_characters) {
  if (encoding == SmsEncoding::kUcs2) {
    return content_count <= 70 ? 1 : (content_count + 66) / 67;
  }
  const std::size_t septets = content_count + extension_characters;
  return septets <= 160 ? 1 : (septets + 152) / 153;
}

Result<RenderedSms> render_sms(std::string_view template_body, const Personalisation& personalisation,
                               std::string_view prefix) {
  HERALD_TRY(check_placeholders({template_body}, personalisation));
  std::u32string text = to_code_points(substitute_placeholders(template_body, personalisation, ListStyle::kInline));
  const std::u32string prefix_points = to_code_points(prefix);
  if (!prefix_points.empty()) {
    std::u32string prefixed(python_strip(prefix_points));
    prefixed += U": ";
    prefixed += text;
    text = std::move(prefixed);
  }
  const std::u32string unsanitised =
      remove_magic_sequence(normalise_lines(remove_whitespace_before_punctuation<char32_t>(text)));

  RenderedSms sms;
  for (const char32_t c : unsanitised) {
    if (is_gsm_extension(c)) ++sms.extension_characters;
    if (is_welsh_non_gsm(c)) sms.encoding = SmsEncoding::kUcs2;
  }
  const std::u32string sanitised = downgrade(unsanitised);
  sms.content_count = utf16_length(sanitised);
  sms.content_count_without_prefix = sms.content_count;
  if (!prefix_points.empty()) {
    const std::size_t prefix_count = utf16_length(downgrade(prefix_points)) + 2;
    sms.content_count_without_prefix = sms.content_count > prefix_count ? sms.content_count - prefix_count : 0;
  }
  if (sms.content_count_without_prefix == 0) return invalid_argument("Your message is empty.");
  sms.fragment_count = sms_fragment_count(sms.encoding, sms.content_count, sms.extension_characters);
  sms.body = to_utf8(sanitised);
  return sms;
}

bool is_sms_too_long(const RenderedSms& sms) { return sms.content_count_without_prefix > kSmsCharacterLimit; }

Result<void> check_sms_length(const RenderedSms& sms) {
  if (!is_sms_too_long(sms)) return ok();
  return invalid_argument("Your message is too long. Text messages cannot be longer than " +
                          std::to_string(kSmsCharacterLimit) + " characters. Your message is " +
                          std::to_string(sms.content_count_without_prefix) + " characters long.");
}

}  // namespace herald::domain
