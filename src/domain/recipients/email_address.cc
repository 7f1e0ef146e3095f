#include "domain/recipients/email_address.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/utf8.h"

namespace herald::domain {
namespace {

using CodePoints = std::vector<std::uint32_t>;

constexpr std::size_t kMaxAddressLength = 320;  // code points, as Python's len()
constexpr std::size_t kMaxHostnameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

Error invalid_email() { return invalid_argument("Not a valid email address"); }

struct Range {
  std::uint32_t first;
  std::uint32_t last;
};

template <std::size_t N>
bool in_ranges(std::uint32_t cp, const Range (&ranges)[N]) {
  for (const Range& range : ranges) {
    if (cp >= range.first && cp <= range.last) return true;
  }
  return false;
}

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ---------------------------------------------------------------------------------------------
// Cleaning: formatters.py strip_and_remove_obscure_whitespace.

// OBSCURE_ZERO_WIDTH_WHITESPACE + OBSCURE_FULL_WIDTH_WHITESPACE: deleted wherever they occur.
bool is_obscure_whitespace(std::uint32_t cp) {
  static constexpr Range kObscure[] = {{0x180E, 0x180E}, {0x200B, 0x200D}, {0x2060, 0x2060}, {0xFEFF, 0xFEFF},
                                       {0x2028, 0x2029}, {0x00A0, 0x00A0}, {0x202F, 0x202F}};
  return in_ranges(cp, kObscure);
}

// Python's string.whitespace, the only characters stripped from the ends.
bool is_ascii_whitespace(std::uint32_t cp) { return cp == ' ' || (cp >= 0x09 && cp <= 0x0D); }

// Python's str.isspace(), which is what \s matches in a str pattern.
bool is_unicode_whitespace(std::uint32_t cp) {
  static constexpr Range kSpaces[] = {{0x09, 0x0D},     {0x1C, 0x20},     {0x85, 0x85},     {0xA0, 0xA0},
                                      {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                                      {0x205F, 0x205F}, {0x3000, 0x3000}};
  return in_ranges(cp, kSpaces);
}

CodePoints strip_and_remove_obscure_whitespace(const CodePoints& input) {
  CodePoints kept;
  kept.reserve(input.size());
  for (const std::uint32_t cp : input) {
    if (!is_obscure_whitespace(cp)) kept.push_back(cp);
  }
  std::size_t begin = 0;
  std::size_t end = kept.size();
  while (begin < end && is_ascii_whitespace(kept[begin])) ++begin;
  while (end > begin && is_ascii_whitespace(kept[end - 1])) --end;
  return CodePoints(kept.begin() + static_cast<std::ptrdiff_t>(begin), kept.begin() + static_cast<std::ptrdiff_t>(end));
}

// ---------------------------------------------------------------------------------------------
// Shape: ^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@([^.@][^@\s]+)$

bool is_local_part_char(std::uint32_t cp) {
  static constexpr std::string_view kSpecials = ".!#$%&'*+/=?^_`{|}~-";
  if (cp >= 0x80) return false;
  const char c = static_cast<char>(cp);
  return is_ascii_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

// The index of the '@' when `address` has the shape above, else nullopt.
std::optional<std::size_t> match_shape(const CodePoints& address) {
  std::size_t at = 0;
  while (at < address.size() && is_local_part_char(address[at])) ++at;
  if (at == 0 || at == address.size() || address[at] != '@') return std::nullopt;
  const std::size_t host = at + 1;
  if (address.size() - host < 2 || address[host] == '.' || address[host] == '@') {
    return std::nullopt;
  }
  for (std::size_t i = host + 1; i < address.size(); ++i) {
    if (address[i] == '@' || is_unicode_whitespace(address[i])) return std::nullopt;
  }
  return at;
}

bool has_consecutive_dots(const CodePoints& address) {
  for (std::size_t i = 1; i < address.size(); ++i) {
    if (address[i] == '.' && address[i - 1] == '.') return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Nameprep (RFC 3491) as Python's encodings.idna applies it to a non-ASCII label. Mapping and
// prohibition follow RFC 3454's tables; case folding covers ASCII, Latin-1, Latin Extended-A,
// Greek, Cyrillic and full-width ASCII, and NFKC is not applied beyond full-width ASCII. Only
// whether the address is valid depends on this, never the returned text.

bool is_mapped_to_nothing(std::uint32_t cp) {  // table B.1
  static constexpr Range kNothing[] = {{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x1806, 0x1806}, {0x180B, 0x180D},
                                       {0x200B, 0x200D}, {0x2060, 0x2060}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}};
  return in_ranges(cp, kNothing);
}

// Latin Extended-A: upper and lower case alternate, starting on an even or an odd code point.
std::uint32_t fold_latin_extended_a(std::uint32_t cp) {
  const bool upper_is_even = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
  const bool upper_is_odd = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
  if ((upper_is_even && cp % 2 == 0) || (upper_is_odd && cp % 2 == 1)) return cp + 1;
  if (cp == 0x178) return 0xFF;
  if (cp == 0x17F) return 's';
  return cp;
}

std::uint32_t fold_greek_cyrillic(std::uint32_t cp) {
  if ((cp >= 0x391 && cp <= 0x3A1) || (cp >= 0x3A3 && cp <= 0x3AB)) return cp + 0x20;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
  if (cp == 0x3C2) return 0x3C3;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  const bool upper_is_even =
      (cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) || (cp >= 0x4D0 && cp <= 0x52F);
  if (upper_is_even && cp % 2 == 0) return cp + 1;
  if (cp >= 0x4C1 && cp <= 0x4CE && cp % 2 == 1) return cp + 1;
  return cp;
}

// Table B.2 (case folding) for the scripts above; a few code points fold to two.
void append_case_folded(std::uint32_t cp, CodePoints& out) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII, as NFKC maps it
  if (cp >= 'A' && cp <= 'Z') {
    cp += 0x20;
  } else if (cp == 0xB5) {
    cp = 0x3BC;
  } else if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
    cp += 0x20;
  } else if (cp == 0xDF) {
    out.insert(out.end(), {'s', 's'});
    return;
  } else if (cp == 0x130) {
    out.insert(out.end(), {'i', 0x307});
    return;
  } else if (cp == 0x149) {
    out.insert(out.end(), {0x2BC, 'n'});
    return;
  } else if (cp >= 0x100 && cp <= 0x17F) {
    cp = fold_latin_extended_a(cp);
  } else {
    cp = fold_greek_cyrillic(cp);
  }
  out.push_back(cp);
}

bool is_prohibited(std::uint32_t cp) {  // tables C.1.2, C.2.2, C.3 to C.9
  static constexpr Range kProhibited[] = {
      {0x0080, 0x00A0}, {0x0340, 0x0341},   {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x1680, 0x1680},
      {0x180E, 0x180E}, {0x2000, 0x200F},   {0x2028, 0x202F},   {0x205F, 0x2063},   {0x206A, 0x206F},
      {0x2FF0, 0x2FFB}, {0x3000, 0x3000},   {0xD800, 0xF8FF},   {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},
      {0xFFF9, 0xFFFF}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF}};
  if ((cp & 0xFFFE) == 0xFFFE) return true;  // the last two code points of every plane
  return in_ranges(cp, kProhibited);
}

bool is_right_to_left(std::uint32_t cp) {  // table D.1
  static constexpr Range kRandAL[] = {
      {0x05BE, 0x05BE}, {0x05C0, 0x05C0}, {0x05C3, 0x05C3}, {0x05D0, 0x05EA}, {0x05F0, 0x05F4}, {0x061B, 0x061B},
      {0x061F, 0x061F}, {0x0621, 0x063A}, {0x0640, 0x064A}, {0x066D, 0x066F}, {0x0671, 0x06D5}, {0x06DD, 0x06DD},
      {0x06E5, 0x06E6}, {0x06FA, 0x06FE}, {0x0700, 0x070D}, {0x0710, 0x0710}, {0x0712, 0x072C}, {0x0780, 0x07A5},
      {0x07B1, 0x07B1}, {0x200F, 0x200F}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C},
      {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41}, {0xFB43, 0xFB44}, {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F},
      {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFC}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}};
  return in_ranges(cp, kRandAL);
}

bool is_left_to_right(std::uint32_t cp) {  // table D.2, its letters of the common scripts
  static constexpr Range kL[] = {
      {0x41, 0x5A},     {0x61, 0x7A},      {0xAA, 0xAA},     {0xB5, 0xB5},     {0xBA, 0xBA},     {0xC0, 0xD6},
      {0xD8, 0xF6},     {0xF8, 0x2B8},     {0x386, 0x3FF},   {0x400, 0x482},   {0x48A, 0x52F},   {0x531, 0x589},
      {0x0E01, 0x0E30}, {0x10A0, 0x10FF},  {0x1100, 0x11FF}, {0x1E00, 0x1FBC}, {0x3041, 0x3096}, {0x30A1, 0x30FA},
      {0x3400, 0x4DB5}, {0x4E00, 0x9FA5},  {0xAC00, 0xD7A3}, {0xF900, 0xFA2D}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
      {0xFF66, 0xFFBE}, {0x20000, 0x2A6D6}};
  return in_ranges(cp, kL);
}

// RFC 3454 §6: a label with right-to-left characters has no left-to-right ones and starts and
// ends with a right-to-left one.
bool passes_bidi_rule(const CodePoints& label) {
  bool any_right_to_left = false;
  bool any_left_to_right = false;
  for (const std::uint32_t cp : label) {
    any_right_to_left = any_right_to_left || is_right_to_left(cp);
    any_left_to_right = any_left_to_right || is_left_to_right(cp);
  }
  if (!any_right_to_left) return true;
  return !any_left_to_right && is_right_to_left(label.front()) && is_right_to_left(label.back());
}

std::optional<CodePoints> nameprep(const CodePoints& label) {
  CodePoints mapped;
  mapped.reserve(label.size());
  for (const std::uint32_t cp : label) {
    if (!is_mapped_to_nothing(cp)) append_case_folded(cp, mapped);
  }
  for (const std::uint32_t cp : mapped) {
    if (is_prohibited(cp)) return std::nullopt;
  }
  if (!mapped.empty() && !passes_bidi_rule(mapped)) return std::nullopt;
  return mapped;
}

// ---------------------------------------------------------------------------------------------
// Punycode (RFC 3492 §6.3), written from the RFC's description.

constexpr std::uint64_t kBase = 36;
constexpr std::uint64_t kTMin = 1;
constexpr std::uint64_t kTMax = 26;
constexpr std::uint64_t kSkew = 38;
constexpr std::uint64_t kDamp = 700;
constexpr std::uint64_t kInitialBias = 72;
constexpr std::uint64_t kInitialN = 128;

std::uint64_t adapt_bias(std::uint64_t delta, std::uint64_t points, bool first_time) {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / points;
  std::uint64_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (((kBase - kTMin + 1) * delta) / (delta + kSkew));
}

char punycode_digit(std::uint64_t digit) { return static_cast<char>(digit < 26 ? 'a' + digit : '0' + (digit - 26)); }

// Appends `delta` as a generalised variable-length integer for the given bias.
void append_variable_length(std::uint64_t delta, std::uint64_t bias, std::string& out) {
  std::uint64_t q = delta;
  for (std::uint64_t k = kBase;; k += kBase) {
    const std::uint64_t t = k <= bias ? kTMin : (k >= bias + kTMax ? kTMax : k - bias);
    if (q < t) break;
    out += punycode_digit(t + (q - t) % (kBase - t));
    q = (q - t) / (kBase - t);
  }
  out += punycode_digit(q);
}

// Labels are at most 320 code points here, so the 64-bit arithmetic cannot overflow.
std::string punycode_encode(const CodePoints& input) {
  std::string out;
  for (const std::uint32_t cp : input) {
    if (cp < 0x80) out += static_cast<char>(cp);
  }
  const std::uint64_t basic = out.size();
  if (basic > 0) out += '-';
  std::uint64_t n = kInitialN, delta = 0, bias = kInitialBias, handled = basic;
  while (handled < input.size()) {
    std::uint64_t next = UINT64_MAX;
    for (const std::uint32_t cp : input) {
      if (cp >= n && cp < next) next = cp;
    }
    delta += (next - n) * (handled + 1);
    n = next;
    for (const std::uint32_t cp : input) {
      if (cp < n) ++delta;
      if (cp != n) continue;
      append_variable_length(delta, bias, out);
      bias = adapt_bias(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IDNA 2003 ToASCII, as hostname.encode("idna") does it.

bool is_ascii(const CodePoints& text) {
  for (const std::uint32_t cp : text) {
    if (cp >= 0x80) return false;
  }
  return true;
}

bool is_label_separator(std::uint32_t cp) { return cp == '.' || cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61; }

std::string to_ascii_string(const CodePoints& ascii) {
  std::string out;
  for (const std::uint32_t cp : ascii) out += static_cast<char>(cp);
  return out;
}

std::optional<std::string> label_to_ascii(const CodePoints& label) {
  std::string out;
  if (is_ascii(label)) {
    out = to_ascii_string(label);
  } else {
    auto prepared = nameprep(label);
    if (!prepared) return std::nullopt;
    if (is_ascii(*prepared)) {
      out = to_ascii_string(*prepared);
    } else {
      if (prepared->size() >= 4 && (*prepared)[0] == 'x' && (*prepared)[1] == 'n' && (*prepared)[2] == '-' &&
          (*prepared)[3] == '-') {
        return std::nullopt;  // "Label starts with ACE prefix"
      }
      out = "xn--" + punycode_encode(*prepared);
    }
  }
  if (out.empty() || out.size() > kMaxLabelLength) return std::nullopt;
  return out;
}

// An all-ASCII hostname is returned unchanged; otherwise each label goes through ToASCII.
std::optional<std::string> idna_encode(const CodePoints& hostname) {
  if (is_ascii(hostname)) return to_ascii_string(hostname);
  std::vector<CodePoints> labels(1);
  for (const std::uint32_t cp : hostname) {
    if (is_label_separator(cp)) {
      labels.emplace_back();
    } else {
      labels.back().push_back(cp);
    }
  }
  const bool trailing_dot = labels.size() > 1 && labels.back().empty();
  if (trailing_dot) labels.pop_back();
  std::string out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto label = label_to_ascii(labels[i]);
    if (!label) return std::nullopt;
    if (i > 0) out += '.';
    out += *label;
  }
  if (trailing_dot) out += '.';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hostname rules on the encoded hostname.

// ^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$ with IGNORECASE: alphanumeric runs joined by one or two
// hyphens.
bool is_valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (!is_ascii_alnum(label.front()) || !is_ascii_alnum(label.back())) return false;
  std::size_t hyphens = 0;
  for (const char c : label) {
    if (c == '-') {
      if (++hyphens > 2) return false;
    } else if (is_ascii_alnum(c)) {
      hyphens = 0;
    } else {
      return false;
    }
  }
  return true;
}

// ^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$ with IGNORECASE.
bool is_valid_tld(std::string_view tld) {
  bool all_letters = true;
  for (const char c : tld) all_letters = all_letters && is_ascii_letter(c);
  if (all_letters) return tld.size() >= 2 && tld.size() <= 63;
  if (tld.size() < 5 || ascii_lower(tld[0]) != 'x' || ascii_lower(tld[1]) != 'n' || tld[2] != '-' || tld[3] != '-') {
    return false;
  }
  const std::string_view rest = tld.substr(4);
  if (rest.front() == '-' || rest.back() == '-') return false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '-' ? rest[i - 1] == '-' : !is_ascii_alnum(rest[i])) return false;
  }
  return true;
}

bool is_valid_hostname(std::string_view hostname) {
  if (hostname.size() > kMaxHostnameLength) return false;
  std::size_t labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = hostname.find('.', start);
    last = hostname.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_valid_label(last)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2 && is_valid_tld(last);
}

}  // namespace

Result<std::string> validate_email_address(std::string_view input) {
  CodePoints decoded;
  if (!decode_utf8(input, decoded)) return invalid_email();
  // A line or paragraph separator is a line break in disguise: refused, although
  // notifications-utils deletes it with the zero-width characters and GOV.UK Notify then sends
  // to an address that differs from the one given (a deliberate difference; README).
  if (std::any_of(decoded.begin(), decoded.end(), [](std::uint32_t cp) { return cp == 0x2028 || cp == 0x2029; })) {
    return invalid_email();
  }
  const CodePoints address = strip_and_remove_obscure_whitespace(decoded);
  const auto at = match_shape(address);
  if (!at) return invalid_email();
  if (address.size() > kMaxAddressLength || has_consecutive_dots(address)) return invalid_email();
  const auto hostname = idna_encode(CodePoints(address.begin() + static_cast<std::ptrdiff_t>(*at) + 1, address.end()));
  if (!hostname || !is_valid_hostname(*hostname)) return invalid_email();
  std::string cleaned;
  cleaned.reserve(input.size());
  for (const std::uint32_t cp : address) append_utf8(cleaned, cp);
  return cleaned;
}

std::string normalise_email_for_index(std::string_view validated) {
  std::string out(validated);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace herald::domain
