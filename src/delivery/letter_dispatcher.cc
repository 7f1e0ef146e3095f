#include "delivery/letter_dispatcher.h"

#include <algorithm>

#include "core/log.h"
#include "crypto/random.h"
#include "domain/letters/precompiled_letter.h"
#include "domain/lifecycle.h"

namespace herald::delivery {

using store::NotificationStatus;

void LetterDispatcher::dispatch(const std::vector<const store::NotificationRecord*>& claimed,
                                const DispatchContext& context) {
  if (supplier_ == nullptr) {
    // Accepted letters wait for a print supplier rather than fail: they are still "created".
    const Timestamp now = context.clock.now();
    for (const auto* record : claimed) {
      context.record({record->id, NotificationStatus::kCreated, now, std::nullopt, now + options_.wait, std::nullopt});
    }
    if (!options_.waiting_logged->exchange(true)) {
      log::warn("delivery.letters_waiting",
                {{"letters", std::to_string(claimed.size())},
                 {"warning",
                  "no print supplier is configured ([letters] supplier): accepted letters wait, looked at "
                  "again every " +
                      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(options_.wait).count()) +
                      " min; logged once"}});
    }
    return;
  }
  const auto size = static_cast<std::size_t>(std::max(1, options_.batch_size));
  for (std::size_t begin = 0; begin < claimed.size() && context.may_start(); begin += size) {
    const std::size_t end = std::min(claimed.size(), begin + size);
    submit({claimed.begin() + static_cast<std::ptrdiff_t>(begin), claimed.begin() + static_cast<std::ptrdiff_t>(end)},
           context);
  }
}

void LetterDispatcher::submit(const std::vector<const store::NotificationRecord*>& claimed,
                              const DispatchContext& context) {
  const Timestamp now = context.clock.now();
  std::vector<letters::OutgoingLetter> batch;
  std::vector<const store::NotificationRecord*> in_batch;
  for (const auto* record : claimed) {
    auto pdf = pdfs_.find_letter_pdf(record->service, record->id);
    if (!pdf || !*pdf) {
      // Gone with retention, or unreadable: this letter cannot be printed.
      log::error("delivery.letter_pdf_missing",
                 {{"notification_id", record->id.to_string()}, {"error", pdf ? "no PDF" : pdf.error().message}});
      context.record(
          {record->id, NotificationStatus::kTechnicalFailure, now, std::nullopt, std::nullopt, std::nullopt, true});
      continue;
    }
    auto checked = domain::check_precompiled_letter(**pdf);
    const std::string postage = record->postage.value_or("second");
    batch.push_back({record->id.to_string(), postage, checked ? checked->page_count : record->billable_units * 2,
                     postage == "europe" || postage == "rest-of-world", std::move(**pdf)});
    in_batch.push_back(record);
  }
  if (batch.empty()) return;
  const std::string batch_id = crypto::random_uuid().to_string();
  const SendResult result = supplier_->submit(batch_id, batch);
  log::info("delivery.letter_batch", {{"batch_id", batch_id},
                                      {"letters", std::to_string(batch.size())},
                                      {"supplier", std::string(supplier_->name())},
                                      {"detail", result.detail}});
  const Timestamp at = context.clock.now();
  for (const auto* record : in_batch) {
    if (result.status == SendStatus::kAccepted) {
      context.record({record->id, NotificationStatus::kSending, at, at, std::nullopt, std::string(supplier_->name())});
    } else if (result.status == SendStatus::kTemporaryFailure) {
      // A supplier down overnight must not fail a day's letters: they wait, still "created",
      // tried again at the retry policy's pace and then every max_delay, until retention.
      const auto next = context.retry.next_attempt(record->attempts, at).value_or(at + context.retry.max_delay);
      context.record({record->id, NotificationStatus::kCreated, at, std::nullopt, next, std::nullopt});
    } else {
      auto outcome = domain::outcome_of_attempt(*record, result.status, at, context.retry);
      outcome.callback = true;
      context.record(std::move(outcome));
    }
  }
}

Result<int> collect_letter_reports(letters::LetterProvider& supplier, store::NotificationStore& store,
                                   const Clock& clock) {
  const std::string name(supplier.name());
  return supplier.collect_reports([&](const std::vector<letters::LetterReport>& reports) -> Result<void> {
    int applied = 0;
    int ignored = 0;
    for (const auto& report : reports) {
      auto id = NotificationId::parse(report.reference);
      if (!id) {
        ++ignored;  // not a reference Herald gave out
        continue;
      }
      auto done = store.apply_receipt(domain::receipt_for(*id, name, report.status, clock.now()));
      if (!done) return done.error();  // the whole file again next time; applying twice is harmless
      if (!*done) {
        ++ignored;  // unknown, another supplier's, already final, or gone with retention
        continue;
      }
      ++applied;
      log::info("delivery.letter_report", {{"notification_id", id->to_string()},
                                           {"service_id", (*done)->service.to_string()},
                                           {"status", store::status_name(report.status)},
                                           {"supplier", name}});
    }
    log::info("delivery.letter_reports",
              {{"supplier", name}, {"applied", std::to_string(applied)}, {"ignored", std::to_string(ignored)}});
    return ok();
  });
}

}  // namespace herald::delivery
