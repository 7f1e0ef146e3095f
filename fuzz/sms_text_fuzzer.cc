// libFuzzer target: SMS rendering (domain/rendering/sms_text.h) of an untrusted template, service name and
// personalisation. The input is split at NUL bytes: template body, prefix, the value of ((a)),
// then the items of the list ((b)).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/utf8.h"
#include "domain/rendering/personalisation.h"
#include "domain/rendering/sms_text.h"

namespace {

std::vector<std::string_view> split_at_nul(std::string_view input) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = input.find('\0', start);
    parts.push_back(input.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

void check_downgraded(const std::string& text) {
  std::vector<std::uint32_t> code_points;
  HERALD_CHECK(herald::decode_utf8(text, code_points), "downgraded text is not valid UTF-8");
  HERALD_CHECK(herald::domain::downgrade_sms_characters(text) == text,
               "downgrading is not idempotent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using herald::domain::PersonalisationValue;
  const std::vector<std::string_view> parts =
      split_at_nul(std::string_view(reinterpret_cast<const char*>(data), size));
  check_downgraded(herald::domain::downgrade_sms_characters(parts[0]));

  herald::domain::Personalisation personalisation;
  if (parts.size() > 2) {
    PersonalisationValue a;
    a.kind = PersonalisationValue::Kind::kText;
    a.text = std::string(parts[2]);
    personalisation.entries.emplace_back("a", std::move(a));
  }
  if (parts.size() > 3) {
    PersonalisationValue b;
    b.kind = PersonalisationValue::Kind::kList;
    for (std::size_t i = 3; i < parts.size(); ++i) b.items.emplace_back(std::string(parts[i]));
    personalisation.entries.emplace_back("b", std::move(b));
  }
  const std::string_view prefix = parts.size() > 1 ? parts[1] : std::string_view();
  auto sms = herald::domain::render_sms(parts[0], personalisation, prefix);
  if (!sms) return 0;
  check_downgraded(sms->body);
  std::vector<std::uint32_t> code_points;
  (void)herald::decode_utf8(sms->body, code_points);
  HERALD_CHECK(code_points.size() == sms->content_count, "content_count is not the body's length");
  HERALD_CHECK(sms->content_count_without_prefix > 0 &&
                   sms->content_count_without_prefix <= sms->content_count,
               "count without prefix out of range");
  HERALD_CHECK(sms->fragment_count >= 1, "no fragments");
  (void)herald::domain::check_sms_length(*sms);
  return 0;
}
