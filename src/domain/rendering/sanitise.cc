#include "domain/rendering/sanitise.h"

#include <cctype>

namespace herald::domain {
namespace {

// Characters examined on this thread; read by sanitise_steps_for_test().
thread_local std::uint64_t steps_taken = 0;

// Python's \w for UTF-8 text, approximately: ASCII letters, digits and '_', and every byte of a
// non-ASCII character.
bool is_word(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }
bool is_letter(unsigned char c) { return std::isalpha(c) != 0; }
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool starts_with_ci(std::string_view text, std::size_t at, std::string_view prefix) {
  if (text.size() - at < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != prefix[i]) return false;
  }
  return true;
}

struct UrlMatch {
  std::size_t length = 0;      // 0: no link starts here
  std::size_t scanned_to = 0;  // where the run of labels ended
  bool capped = false;         // stopped at 64 labels: a later start may see other ones
};

// A link-like match starting at `start`: optional http(s)://, one or more "label." then a 2-63
// letter top-level domain at a word boundary not followed by '@', then an optional path, query
// or fragment up to '<' or whitespace.
UrlMatch match_url(std::string_view text, std::size_t start) {
  std::uint64_t steps = 0;
  struct Count {
    std::uint64_t& steps;
    ~Count() { steps_taken += steps; }
  } count{steps};
  std::size_t i = start;
  if (starts_with_ci(text, i, "https://")) {
    i += 8;
  } else if (starts_with_ci(text, i, "http://")) {
    i += 7;
  }
  // Dots that end a label: each is a candidate for the last one before the TLD.
  std::size_t dots[64];
  std::size_t dot_count = 0;
  std::size_t j = i;
  UrlMatch match;
  while (true) {
    const std::size_t label = j;
    while (j < text.size() && (is_word(static_cast<unsigned char>(text[j])) || text[j] == '-')) {
      ++j;
      ++steps;
    }
    if (j == label || j >= text.size() || text[j] != '.') break;
    if (dot_count == 64) {
      match.capped = true;
      break;
    }
    dots[dot_count++] = j;
    ++j;
  }
  match.scanned_to = j;
  // The regex is greedy and backtracks: the most labels that give a valid TLD win.
  for (std::size_t k = dot_count; k > 0; --k) {
    const std::size_t tld = dots[k - 1] + 1;
    std::size_t end = tld;
    while (end < text.size() && is_letter(static_cast<unsigned char>(text[end]))) {
      ++end;
      ++steps;
    }
    const std::size_t length = end - tld;
    if (length < 2 || length > 63) continue;
    if (end < text.size() && (is_word(static_cast<unsigned char>(text[end])) || text[end] == '@')) continue;
    if (end < text.size() && (text[end] == '/' || text[end] == '?' || text[end] == '#')) {
      while (end < text.size() && text[end] != '<' && !is_space(static_cast<unsigned char>(text[end]))) {
        ++end;
        ++steps;
      }
    }
    match.length = end - start;
    return match;
  }
  return match;
}

bool starts_with_scheme(std::string_view text, std::size_t at) {
  return starts_with_ci(text, at, "http://") || starts_with_ci(text, at, "https://");
}

bool bare_domain(std::string_view link) {
  for (char c : link) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

std::uint64_t sanitise_steps_for_test() { return steps_taken; }

std::string sanitise_personalisation_value(std::string_view value) {
  steps_taken += value.size();  // the unlinking and escaping passes: one step a character each
  std::string unlinked;
  unlinked.reserve(value.size());
  std::size_t i = 0;
  // A match that failed from i read a run of labels up to scanned_to: one starting later in that
  // run reads the rest of the same labels and dots, so it fails too (unless it starts a scheme,
  // which changes where its labels begin). Skipping those keeps long hyphenated words linear.
  std::size_t no_link_before = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool boundary = is_word(c) && (i == 0 || !is_word(static_cast<unsigned char>(value[i - 1])));
    const bool after_at_or_dot = i > 0 && (value[i - 1] == '@' || value[i - 1] == '.');
    if (boundary && !after_at_or_dot && (i >= no_link_before || starts_with_scheme(value, i))) {
      const UrlMatch match = match_url(value, i);
      if (!match.capped && match.length == 0) no_link_before = match.scanned_to;
      if (const std::size_t n = match.length; n > 0) {
        const std::string_view link = value.substr(i, n);
        if (bare_domain(link)) {
          for (char ch : link) {
            unlinked += ch;
            if (ch == '.') unlinked += ' ';
          }
        }
        i += n;
        continue;
      }
    }
    unlinked += value[i++];
  }
  static constexpr std::string_view kMarkdown = "`*_()\\{}[]<>#+-.!|";
  std::string out;
  out.reserve(unlinked.size() * 2);
  for (char ch : unlinked) {
    if (kMarkdown.find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace herald::domain
