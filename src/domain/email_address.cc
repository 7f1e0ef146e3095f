#include "domain/email_address.h"

#include <cstdint>
#include <vector>

#include "core/utf8.h"

namespace herald::domain {
namespace {

constexpr std::size_t kMaxAddressLength = 320;
constexpr std::size_t kMaxHostnameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

Error invalid() { return invalid_argument("Not a valid email address"); }

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Characters notifications-utils deletes anywhere before validating (zero-width and similar).
bool is_obscure_invisible(std::uint32_t cp) {
  return cp == 0x180E || cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF;
}
bool is_strippable_space(std::uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// RFC 3492 bias adaptation.
std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
  delta = first ? delta / 700 : delta / 2;
  delta += delta / points;
  std::uint32_t k = 0;
  while (delta > 455) {  // ((36 - 1) * 26) / 2
    delta /= 35;
    k += 36;
  }
  return k + (36 * delta) / (delta + 38);
}

char punycode_digit(std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); }

// RFC 3492 encoding of one label's code points; false on overflow.
bool punycode_encode(const std::vector<std::uint32_t>& input, std::string& out) {
  std::uint32_t n = 128, delta = 0, bias = 72;
  std::uint32_t handled = 0;
  for (auto cp : input) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
      ++handled;
    }
  }
  const std::uint32_t basic = handled;
  if (basic > 0) out += '-';
  while (handled < input.size()) {
    std::uint32_t m = UINT32_MAX;
    for (auto cp : input) {
      if (cp >= n && cp < m) m = cp;
    }
    if (static_cast<std::uint64_t>(m - n) * (handled + 1) + delta > UINT32_MAX) return false;
    delta += (m - n) * (handled + 1);
    n = m;
    for (auto cp : input) {
      if (cp < n && ++delta == 0) return false;
      if (cp != n) continue;
      std::uint32_t q = delta;
      for (std::uint32_t k = 36;; k += 36) {
        const std::uint32_t t = k <= bias ? 1 : (k >= bias + 26 ? 26 : k - bias);
        if (q < t) break;
        out += punycode_digit(t + (q - t) % (36 - t));
        q = (q - t) / (36 - t);
      }
      out += punycode_digit(q);
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return true;
}

// IDNA-encodes a hostname label by label (ASCII lower-cased; non-ASCII labels as xn--).
bool idna_encode(std::string_view hostname, std::string& out) {
  std::size_t start = 0;
  while (true) {
    const auto dot = hostname.find('.', start);
    const std::string_view label = hostname.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    std::vector<std::uint32_t> cps;
    if (!decode_utf8(label, cps)) return false;
    bool ascii = true;
    for (auto& cp : cps) {
      if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
      if (cp >= 0x80) ascii = false;
    }
    if (ascii) {
      for (auto cp : cps) out += static_cast<char>(cp);
    } else {
      out += "xn--";
      if (!punycode_encode(cps, out)) return false;
    }
    if (dot == std::string_view::npos) return true;
    out += '.';
    start = dot + 1;
  }
}

// ^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$ (case-insensitive), 1..63 characters.
bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (!is_ascii_alnum(label.front()) || !is_ascii_alnum(label.back())) return false;
  int hyphens = 0;
  for (std::size_t i = 0; i < label.size(); ++i) {
    const char c = label[i];
    if (c == '-') {
      if (++hyphens > 2) return false;
      // Two hyphens in a row are allowed only as the "xn--" prefix form or "a--b".
    } else if (is_ascii_alnum(c)) {
      hyphens = 0;
    } else {
      return false;
    }
  }
  return true;
}

// ^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$ (case-insensitive).
bool valid_tld(std::string_view tld) {
  if (tld.size() >= 2 && tld.size() <= 63) {
    bool letters = true;
    for (char c : tld) letters = letters && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    if (letters) return true;
  }
  if (tld.size() <= 4 || ascii_lower(tld[0]) != 'x' || ascii_lower(tld[1]) != 'n' || tld[2] != '-' || tld[3] != '-') {
    return false;
  }
  const std::string_view rest = tld.substr(4);
  if (rest.empty() || rest.front() == '-' || rest.back() == '-') return false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '-' ? (i > 0 && rest[i - 1] == '-') : !is_ascii_alnum(rest[i])) return false;
  }
  return true;
}

bool valid_local_char(char c) {
  static constexpr std::string_view kSpecials = ".!#$%&'*+/=?^_`{|}~-";
  return is_ascii_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

Result<std::string> clean(std::string_view input) {
  std::vector<std::uint32_t> cps;
  if (!decode_utf8(input, cps)) return invalid();
  std::size_t begin = 0, end = cps.size();
  std::vector<std::uint32_t> kept;
  for (auto cp : cps) {
    if (!is_obscure_invisible(cp)) kept.push_back(cp);
  }
  end = kept.size();
  while (begin < end && is_strippable_space(kept[begin])) ++begin;
  while (end > begin && is_strippable_space(kept[end - 1])) --end;
  std::string out;
  for (std::size_t i = begin; i < end; ++i) append_utf8(out, kept[i]);
  return out;
}

}  // namespace

Result<std::string> validate_email_address(std::string_view input) {
  if (input.size() > 4 * kMaxAddressLength) return invalid();
  auto cleaned = clean(input);
  if (!cleaned) return cleaned;
  const std::string& address = *cleaned;
  const auto at = address.find('@');
  if (at == 0 || at == std::string::npos || address.find('@', at + 1) != std::string::npos) return invalid();
  for (std::size_t i = 0; i < at; ++i) {
    if (!valid_local_char(address[i])) return invalid();
  }
  const std::string_view host = std::string_view(address).substr(at + 1);
  if (host.size() < 2 || host[0] == '.') return invalid();
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ' || (u >= 0x09 && u <= 0x0D)) return invalid();
  }
  if (address.size() > kMaxAddressLength || address.find("..") != std::string::npos) return invalid();
  std::string ascii_host;
  if (!idna_encode(host, ascii_host) || ascii_host.size() > kMaxHostnameLength) return invalid();
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const auto dot = ascii_host.find('.', start);
    labels.push_back(std::string_view(ascii_host).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return invalid();
  for (auto label : labels) {
    if (!valid_label(label)) return invalid();
  }
  if (!valid_tld(labels.back())) return invalid();
  return address;
}

}  // namespace herald::domain
