#include "domain/recipients/postal_address.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/utf8.h"
#include "domain/recipients/country_data.h"

namespace herald::domain {
namespace {

constexpr std::string_view kUnitedKingdom = "United Kingdom";
constexpr std::size_t kMinLines = 3;
constexpr std::size_t kMaxLines = 7;

Error address_error(std::string message) {
  return with_refusal(invalid_argument(std::move(message)), Refusal::kInvalidLetter);
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alnum(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Python's str.isspace() set, which str.split() splits on.
bool is_python_space(std::uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's str.splitlines() boundaries (\r\n counts once; handled by the caller).
bool is_python_line_break(std::uint32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

// Notify's "obscure zero-width whitespace", deleted outright.
bool is_zero_width(std::uint32_t c) {
  return c == 0x180E || c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF;
}

// Decodes leniently: malformed UTF-8 bytes become U+FFFD, so nothing is lost silently and
// nothing malformed reaches the output.
std::vector<std::uint32_t> code_points(std::string_view text) {
  std::vector<std::uint32_t> out;
  out.reserve(text.size());
  std::vector<std::uint32_t> one;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    one.clear();
    if (i + length <= text.size() && decode_utf8(text.substr(i, length), one) && one.size() == 1) {
      out.push_back(one[0]);
      i += length;
    } else {
      out.push_back(0xFFFD);
      ++i;
    }
  }
  return out;
}

std::string to_utf8(const std::vector<std::uint32_t>& points) {
  std::string out;
  for (const std::uint32_t c : points) append_utf8(out, c);
  return out;
}

// Notify's get_lines_with_normalised_whitespace, then each line stripped of trailing " ,", empty
// lines dropped, and spaces before "," and "." removed.
std::vector<std::string> clean_lines(std::string_view raw) {
  const std::vector<std::uint32_t> points = code_points(raw);
  std::vector<std::vector<std::uint32_t>> split(1);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (is_python_line_break(points[i])) {
      if (points[i] == '\r' && i + 1 < points.size() && points[i + 1] == '\n') ++i;
      split.emplace_back();
    } else {
      split.back().push_back(points[i]);
    }
  }
  if (!points.empty() && is_python_line_break(points.back())) split.pop_back();
  std::vector<std::string> lines;
  for (const auto& line : split) {
    std::vector<std::uint32_t> words;  // single spaces between words, none at the ends
    bool pending_space = false;
    for (const std::uint32_t c : line) {
      if (is_zero_width(c)) continue;
      if (is_python_space(c)) {
        pending_space = !words.empty();
        continue;
      }
      // Notify deletes a space before "," or ".".
      if (pending_space && c != ',' && c != '.') words.push_back(' ');
      pending_space = false;
      words.push_back(c);
    }
    while (!words.empty() && (words.back() == ' ' || words.back() == ',')) words.pop_back();
    if (words.empty()) continue;
    lines.push_back(to_utf8(words));
  }
  return lines;
}

// "BFPO 1234", "bfpo c/o 1234", "BFPO" alone (no number): the digits, "" when there are none;
// nullopt when the line is not a BFPO line.
std::optional<std::string> bfpo_line_number(std::string_view line) {
  const std::string text = lower(line);
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_spaces();
  if (text.compare(i, 4, "bfpo") != 0) return std::nullopt;
  i += 4;
  skip_spaces();
  if (text.compare(i, 3, "c/o") == 0) i += 3;
  skip_spaces();
  std::string digits;
  while (i < text.size() && is_ascii_digit(text[i])) digits += text[i++];
  skip_spaces();
  if (i != text.size()) return std::nullopt;
  return digits;
}

std::string without_leading_zeros(const std::string& digits) {
  const std::size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

// notifications-utils countries `_normalise_country_name`.
std::string normalise_country_name(std::string_view name) {
  std::string replaced;
  for (const char c : name) {
    if (c == '&' || c == '+') {
      replaced += "and";
    } else {
      replaced += c;
    }
  }
  const auto folds = country_data::ascii_folds();
  std::string unfolded;
  std::string folded;
  bool foldable = true;
  for (const std::uint32_t c : code_points(replaced)) {
    if (c == ' ' || c == '_' || c == '-' || c == '\'' || c == 0x2019 || c == ',' || c == '.' || c == '(' || c == ')') {
      continue;
    }
    const std::uint32_t lowered = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
    append_utf8(unfolded, lowered);
    if (lowered < 0x80) {
      if (lowered < 0x20 || lowered == 0x7F || lowered == '?') foldable = false;
      folded += static_cast<char>(lowered);
      continue;
    }
    const auto it =
        std::lower_bound(folds.begin(), folds.end(), lowered,
                         [](const country_data::FoldedCharacter& f, std::uint32_t v) { return f.code_point < v; });
    if (it == folds.end() || it->code_point != lowered) {
      foldable = false;
      continue;
    }
    for (const char f : it->ascii) folded += ascii_lower(f);
  }
  return foldable ? folded : unfolded;
}

std::optional<std::string_view> lookup_normalised(const std::string& key) {
  const auto keys = country_data::country_keys();
  const auto it =
      std::lower_bound(keys.begin(), keys.end(), key,
                       [](const country_data::CountryKey& k, const std::string& v) { return k.normalised_name < v; });
  if (it == keys.end() || it->normalised_name != key) return std::nullopt;
  return country_data::canonical_country_names()[it->canonical_index];
}

bool is_real_uk_postcode_unit(std::string_view rest) {
  // [0-9][0-9A-Z]?[0-9][A-BD-HJLNP-UW-Z]{2}
  auto inward_letter = [](char c) {
    return c >= 'A' && c <= 'Z' && std::string_view("CIKMOV").find(c) == std::string_view::npos;
  };
  if (rest.size() != 4 && rest.size() != 5) return false;
  if (!is_ascii_digit(rest[0])) return false;
  std::size_t i = 1;
  if (rest.size() == 5) {
    if (!is_ascii_digit(rest[1]) && !(rest[1] >= 'A' && rest[1] <= 'Z')) return false;
    i = 2;
  }
  return is_ascii_digit(rest[i]) && inward_letter(rest[i + 1]) && inward_letter(rest[i + 2]);
}

// The personalisation value as Python's str(value or "") gives it.
std::string address_value_text(const PersonalisationValue* value) {
  if (value == nullptr) return "";
  switch (value->kind) {
    case PersonalisationValue::Kind::kNull: return "";
    case PersonalisationValue::Kind::kText: return value->text;
    case PersonalisationValue::Kind::kList: {
      if (value->items.empty()) return "";
      std::string out = "[";
      for (std::size_t i = 0; i < value->items.size(); ++i) {
        if (i > 0) out += ", ";
        out += value->items[i] ? "'" + *value->items[i] + "'" : std::string("None");
      }
      return out + "]";
    }
  }
  return "";
}

// Exact key match, the last entry winning, as Python's dict.get on the request JSON.
const PersonalisationValue* exact_entry(const Personalisation& personalisation, std::string_view key,
                                        bool* present = nullptr) {
  for (auto it = personalisation.entries.rbegin(); it != personalisation.entries.rend(); ++it) {
    if (it->first == key) {
      if (present != nullptr) *present = true;
      return &it->second;
    }
  }
  return nullptr;
}

// What PostalAddress works out from the cleaned lines, before the checks.
struct ParsedAddress {
  std::vector<std::string> normalised_lines;
  std::optional<std::string> bfpo;
  std::optional<std::string> postcode;
  std::string_view country = kUnitedKingdom;
  bool international = false;
};

ParsedAddress parse_address(std::vector<std::string> lines) {
  ParsedAddress parsed;
  // BFPO: the first line with a number gives it; every BFPO-looking line is then dropped.
  std::vector<std::string> without_bfpo;
  for (const auto& line : lines) {
    const auto number = bfpo_line_number(line);
    if (number && !number->empty() && !parsed.bfpo) parsed.bfpo = without_leading_zeros(*number);
  }
  for (auto& line : lines) {
    if (!parsed.bfpo || !bfpo_line_number(line)) without_bfpo.push_back(std::move(line));
  }
  // Trailing lines naming the UK (Notify skips lines that are no country at all while counting).
  std::size_t trailing_uk = 0;
  for (auto it = without_bfpo.rbegin(); it != without_bfpo.rend(); ++it) {
    const auto country = find_country(*it);
    if (!country) continue;
    if (*country != kUnitedKingdom) break;
    ++trailing_uk;
  }
  std::vector<std::string> rest = without_bfpo;
  if (!without_bfpo.empty()) {
    if (const auto country = find_country(without_bfpo.back())) {
      parsed.country = *country;
      const std::size_t drop = std::min(rest.size(), trailing_uk == 0 ? 1 : trailing_uk);
      rest.resize(rest.size() - drop);
    }
  }
  parsed.international = parsed.country != kUnitedKingdom;
  if (!parsed.international && !rest.empty()) parsed.postcode = format_uk_postcode(rest.back());

  auto& out = parsed.normalised_lines;
  if (parsed.bfpo && parsed.international) {
    out = rest;
    out.push_back("BFPO " + *parsed.bfpo);
    out.emplace_back(parsed.country);
  } else if (parsed.international) {
    out = rest;
    out.emplace_back(parsed.country);
  } else {
    out = rest;
    if (parsed.postcode) out.back() = *parsed.postcode;
    if (parsed.bfpo) out.push_back("BFPO " + *parsed.bfpo);
  }
  return parsed;
}

bool has_no_fixed_abode(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    if (lower(line) == "nfa") return true;
  }
  std::string joined;
  for (const auto& line : lines) joined += lower(line) + "\n";
  return joined.find("no fixed abode") != std::string::npos || joined.find("no fixed address") != std::string::npos;
}

Result<PostalAddress> check_address(std::vector<std::string> cleaned, InternationalLetters international) {
  const bool allow_international = international == InternationalLetters::kAllowed;
  ParsedAddress parsed = parse_address(std::move(cleaned));
  const auto& lines = parsed.normalised_lines;
  if (lines.size() < kMinLines) {
    return address_error("Address must be at least " + std::to_string(kMinLines) + " lines");
  }
  if (lines.size() > kMaxLines) {
    return address_error("Address must be no more than " + std::to_string(kMaxLines) + " lines");
  }
  auto has_alnum = [](const std::string& line) { return std::any_of(line.begin(), line.end(), is_ascii_alnum); };
  if (!has_alnum(lines[0]) || !has_alnum(lines[1])) {
    return address_error("The first 2 lines of the address must both include at least one alphanumeric character");
  }
  const bool bfpo = parsed.bfpo.has_value();
  if (bfpo && parsed.international) {
    return address_error("The last line of a BFPO address must not be a country.");
  }
  const bool valid_last_line =
      (allow_international && parsed.international && !bfpo) || parsed.postcode.has_value() || bfpo;
  if (!valid_last_line) {
    return address_error(allow_international ? "Last line of address must be a real UK postcode or another country"
                                             : "Must be a real UK postcode");
  }
  constexpr std::string_view kForbiddenFirst = "@()=[]\"\\/,<>~";
  for (const auto& line : lines) {
    if (kForbiddenFirst.find(line.front()) != std::string_view::npos) {
      return address_error(
          "Address lines must not start with any of the following characters: "
          "@ ( ) = [ ] \xE2\x80\x9D \\ / , < >");
    }
  }
  if (has_no_fixed_abode(lines)) return address_error("Must be a real address");

  PostalAddress address;
  address.lines = std::move(parsed.normalised_lines);
  address.zone = postage_zone_of_country(parsed.country);
  address.postcode = std::move(parsed.postcode);
  address.bfpo_number = std::move(parsed.bfpo);
  if (parsed.international) address.country = std::string(parsed.country);
  return address;
}

}  // namespace

std::optional<std::string> format_uk_postcode(std::string_view text) {
  std::string compact;
  for (const std::uint32_t c : code_points(text)) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || is_zero_width(c) || c == 0x2028 || c == 0x2029 || c == 0xA0 ||
        c == 0x202F) {
      continue;
    }
    if (c >= 0x80) return std::nullopt;  // no postcode has anything but ASCII letters and digits
    compact += ascii_upper(static_cast<char>(c));
  }
  for (const std::string_view area : country_data::uk_postcode_areas()) {
    if (compact.size() > area.size() && compact.compare(0, area.size(), area) == 0 &&
        is_real_uk_postcode_unit(std::string_view(compact).substr(area.size()))) {
      return compact.substr(0, compact.size() - 3) + " " + compact.substr(compact.size() - 3);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> find_country(std::string_view name) {
  // A name with a digit in it is a postcode or a house, never a country.
  if (std::any_of(name.begin(), name.end(), is_ascii_digit)) return std::nullopt;
  const std::string base(name);
  for (const std::string_view prefix : {"", "the ", "yr ", "y "}) {
    if (auto found = lookup_normalised(normalise_country_name(std::string(prefix) + base))) {
      return found;
    }
  }
  return std::nullopt;
}

PostageZone postage_zone_of_country(std::string_view canonical_name) {
  if (canonical_name == kUnitedKingdom) return PostageZone::kUnitedKingdom;
  const auto europe = country_data::european_postage_countries();
  return std::binary_search(europe.begin(), europe.end(), canonical_name) ? PostageZone::kEurope
                                                                          : PostageZone::kRestOfWorld;
}

Result<PostalAddress> validate_postal_address(const Personalisation& personalisation,
                                              InternationalLetters international) {
  bool has_line_7 = false;
  (void)exact_entry(personalisation, "address_line_7", &has_line_7);
  std::vector<std::string> keys = {"address_line_1", "address_line_2", "address_line_3",
                                   "address_line_4", "address_line_5", "address_line_6"};
  keys.emplace_back(has_line_7 ? "address_line_7" : "postcode");
  std::string raw;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) raw += '\n';
    raw += address_value_text(exact_entry(personalisation, keys[i]));
  }
  return check_address(clean_lines(raw), international);
}

Result<PostalAddress> validate_postal_address_lines(const std::vector<std::string>& raw_lines,
                                                    InternationalLetters international) {
  std::string raw;
  for (std::size_t i = 0; i < raw_lines.size(); ++i) {
    if (i > 0) raw += '\n';
    raw += raw_lines[i];
  }
  return check_address(clean_lines(raw), international);
}

Result<UkPostage> parse_uk_postage(std::string_view text) {
  if (text == "first") return UkPostage::kFirst;
  if (text == "second") return UkPostage::kSecond;
  if (text == "economy") return UkPostage::kEconomy;
  return with_refusal(invalid_argument("postage invalid. It must be either first, second or economy."),
                      Refusal::kInvalidLetter);
}

std::string_view letter_postage(const PostalAddress& address, UkPostage uk_postage) {
  switch (address.zone) {
    case PostageZone::kEurope: return "europe";
    case PostageZone::kRestOfWorld: return "rest-of-world";
    case PostageZone::kUnitedKingdom: break;
  }
  switch (uk_postage) {
    case UkPostage::kFirst: return "first";
    case UkPostage::kSecond: return "second";
    case UkPostage::kEconomy: return "economy";
  }
  return "second";
}

}  // namespace herald::domain
