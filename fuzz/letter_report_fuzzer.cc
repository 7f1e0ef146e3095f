// libFuzzer target: a print supplier's report file (docs/formats/letter-batch.md, "Reports") is
// third-party input. Parsing must never crash, and what it accepts must be only references that
// are plain names and only Herald's three letter statuses.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "delivery/letters/sftp_supplier.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto reports = herald::delivery::letters::parse_report_file(text);
  if (!reports) return 0;
  for (const auto& report : *reports) {
    HERALD_CHECK(report.status == herald::store::NotificationStatus::kDelivered ||
                     report.status == herald::store::NotificationStatus::kReturnedLetter ||
                     report.status == herald::store::NotificationStatus::kTechnicalFailure,
                 "only Herald's letter statuses");
    HERALD_CHECK(!report.reference.empty() && report.reference.size() <= 128 &&
                     std::all_of(report.reference.begin(), report.reference.end(),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }),
                 "references are plain names");
  }
  return 0;
}
