#include "delivery/worker.h"

#include <algorithm>
#include <future>

#include "core/log.h"
#include "core/thread_name.h"
#include "delivery/email_sender.h"
#include "crypto/random.h"
#include "domain/lifecycle.h"
#include "domain/phone_number.h"
#include "domain/precompiled_letter.h"

namespace herald::delivery {

DeliveryWorker::DeliveryWorker(store::Store& store, domain::Notifications& notifications,
                               std::vector<std::unique_ptr<EmailProvider>> providers,
                               const Clock& clock, WorkerOptions options, sms::SmsRouter* sms,
                               letters::LetterProvider* print)
    : store_(store), notifications_(notifications), providers_(std::move(providers)), clock_(clock),
      options_(options), sms_(sms), print_(print) {
  HERALD_CHECK(!providers_.empty(), "a delivery worker needs a provider");
}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    threads_.emplace_back([this, i] {
      set_thread_name("delivery-" + std::to_string(i));
      run(*providers_[i]);
    });
  }
}

void DeliveryWorker::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void DeliveryWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  wake_.notify_one();  // one new notification needs one thread; busy threads claim again anyway
}

void DeliveryWorker::run(EmailProvider& provider) {
  std::uint64_t seen = 0;
  int limit = options_.batch_size;
  while (!stopping_) {
    auto claimed = run_once(provider, limit);
    if (!claimed) log::error("delivery.claim_failed", {{"error", claimed.error().message}});
    if (claimed && *claimed > 0) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [&] { return wakes_ != seen || stopping_.load(); });
    seen = wakes_;
  }
  provider.close();
}

Result<int> DeliveryWorker::run_once(EmailProvider& provider, int& limit) {
  const Timestamp claimed_at = clock_.now();
  auto claimed = store_.claim_due(limit, claimed_at, options_.lease);
  if (!claimed) return claimed.error();
  // Once the lease runs out another thread or node re-claims what is left and sends it too, so
  // no send starts after half the lease (the other half is for the last send and its record).
  // The first one always goes, so that even a relay slower than that makes progress. Claims
  // left unsent cost an attempt and wait for the lease, so the next claim is sized to the pace
  // of this one (at most batch_size).
  const Timestamp send_by = claimed_at + options_.lease / 2;
  // Outcomes are recorded asynchronously so that the writer commits many of them at once;
  // all of them are durable before the next claim.
  std::vector<std::pair<std::string, std::future<Result<void>>>> recording;
  const auto record_async = [&](store::DeliveryOutcome outcome) {
    auto promise = std::make_shared<std::promise<Result<void>>>();
    recording.emplace_back(outcome.id.to_string(), promise->get_future());
    store_.record_outcome_async(std::move(outcome), [promise](Result<void> recorded) {
      promise->set_value(std::move(recorded));
    });
  };
  std::vector<const store::NotificationRecord*> letters;
  bool cut_short = false;
  for (const auto& record : *claimed) {
    // The rest are re-claimed when their lease expires.
    if (stopping_) break;
    if (record.type == "letter") {
      letters.push_back(&record);
      continue;
    }
    if (!recording.empty() && clock_.now() >= send_by) {
      log::warn("delivery.lease_running_out",
                {{"claimed", std::to_string(claimed->size())}, {"sent", std::to_string(recording.size())}});
      cut_short = true;
      break;
    }
    record_async(deliver(provider, record));
  }
  for (std::size_t begin = 0; begin < letters.size() && !stopping_;) {
    const std::size_t end = std::min(letters.size(), begin + static_cast<std::size_t>(std::max(1, options_.letter_batch_size)));
    for (auto& outcome : deliver_letters({letters.begin() + static_cast<std::ptrdiff_t>(begin),
                                          letters.begin() + static_cast<std::ptrdiff_t>(end)})) {
      record_async(std::move(outcome));
    }
    begin = end;
  }
  for (auto& [id, future] : recording) {
    auto recorded = future.get();
    if (!recorded) {
      log::error("delivery.record_failed", {{"notification_id", id}, {"error", recorded.error().message}});
    }
  }
  if (cut_short) {
    limit = static_cast<int>(recording.size());
  } else if (!recording.empty()) {
    // As many as this batch's pace fits into half the lease, with a quarter to spare.
    const double elapsed = static_cast<double>((clock_.now() - claimed_at).count());
    const double fits = static_cast<double>(recording.size()) * 0.75 *
                        static_cast<double>((options_.lease / 2).count()) / std::max(elapsed, 1.0);
    limit = static_cast<int>(std::clamp(fits, 1.0, static_cast<double>(options_.batch_size)));
  }
  return static_cast<int>(claimed->size());
}

store::DeliveryOutcome DeliveryWorker::deliver(EmailProvider& provider,
                                               const store::NotificationRecord& record) {
  const std::string id = record.id.to_string();
  SendResult result;
  if (record.type == "sms") {
    store::DeliveryOutcome outcome = deliver_sms(record, result);
    outcome.callback = outcome.status != "sending";  // a text with its provider: its receipt tells
    log::info("delivery.attempt", {{"notification_id", id},
                                   {"service_id", record.service.to_string()},
                                   {"attempt", std::to_string(record.attempts)},
                                   {"status", outcome.status},
                                   {"detail", result.detail}});
    return outcome;
  }
  if (record.key_type == store::KeyType::kTest) {
    result = {domain::simulated_test_key_attempt("email", record.recipient), "simulated"};
  } else {
    auto email = prepare_email(notifications_, record, clock_.now());
    if (!email) {
      log::error("delivery.prepare_failed", {{"notification_id", id}, {"error", email.error().message}});
      result = {SendStatus::kTemporaryFailure, "prepare failed"};
    } else {
      result = provider.send(*email);
    }
  }
  store::DeliveryOutcome outcome = outcome_for(record, result);  // services hear of final statuses
  log::info("delivery.attempt", {{"notification_id", id},
                                 {"service_id", record.service.to_string()},
                                 {"attempt", std::to_string(record.attempts)},
                                 {"status", outcome.status},
                                 {"detail", result.detail}});
  return outcome;
}

store::DeliveryOutcome DeliveryWorker::deliver_sms(const store::NotificationRecord& record, SendResult& result) {
  if (record.key_type == store::KeyType::kTest) {
    result = {domain::simulated_test_key_attempt("sms", record.recipient), "simulated"};
    return outcome_for(record, result);
  }
  const Timestamp now = clock_.now();
  if (sms_ == nullptr) {
    result = {SendStatus::kTemporaryFailure, "no SMS provider is configured"};
    return {record.id, "technical-failure", now, std::nullopt, std::nullopt, std::nullopt};
  }
  auto text = notifications_.sms_text_for_provider(record, now);
  auto number = domain::parse_phone_number(record.recipient);
  if (!text || !number) {
    result = {SendStatus::kTemporaryFailure, "prepare failed: " + (text ? number.error().message : text.error().message)};
    return outcome_for(record, result);
  }
  auto routed = sms_->send({record.id.to_string(), number->normalised, record.sender, std::move(*text),
                            number->is_international});
  result = routed.result;
  if (routed.result.status != SendStatus::kAccepted) return outcome_for(record, result);
  // With the provider: the receipt decides delivered or failed.
  return {record.id, "sending", clock_.now(), clock_.now(), std::nullopt, routed.provider};
}

std::vector<store::DeliveryOutcome> DeliveryWorker::deliver_letters(
    const std::vector<const store::NotificationRecord*>& claimed) {
  std::vector<store::DeliveryOutcome> outcomes;
  const Timestamp now = clock_.now();
  if (print_ == nullptr) {
    // Accepted letters wait for a print supplier rather than fail: they are still "created".
    for (const auto* record : claimed) {
      outcomes.push_back({record->id, "created", now, std::nullopt, now + options_.letter_wait, std::nullopt});
    }
    log::warn("delivery.letters_waiting", {{"letters", std::to_string(claimed.size())},
                                           {"warning", "no print supplier is configured ([letters] supplier)"}});
    return outcomes;
  }
  std::vector<letters::OutgoingLetter> batch;
  std::vector<const store::NotificationRecord*> in_batch;
  for (const auto* record : claimed) {
    auto pdf = store_.find_letter_pdf(record->service, record->id);
    if (!pdf || !*pdf) {
      // Gone with retention, or unreadable: this letter cannot be printed.
      log::error("delivery.letter_pdf_missing", {{"notification_id", record->id.to_string()},
                                                 {"error", pdf ? "no PDF" : pdf.error().message}});
      outcomes.push_back({record->id, "technical-failure", now, std::nullopt, std::nullopt, std::nullopt, true});
      continue;
    }
    auto checked = domain::check_precompiled_letter(**pdf);
    const std::string postage = record->postage.value_or("second");
    batch.push_back({record->id.to_string(), postage, checked ? checked->page_count : record->billable_units * 2,
                     postage == "europe" || postage == "rest-of-world", std::move(**pdf)});
    in_batch.push_back(record);
  }
  if (batch.empty()) return outcomes;
  const std::string batch_id = crypto::random_uuid().to_string();
  const SendResult result = print_->submit(batch_id, batch);
  log::info("delivery.letter_batch", {{"batch_id", batch_id},
                                      {"letters", std::to_string(batch.size())},
                                      {"supplier", std::string(print_->name())},
                                      {"detail", result.detail}});
  for (const auto* record : in_batch) {
    if (result.status == SendStatus::kAccepted) {
      outcomes.push_back({record->id, "sending", clock_.now(), clock_.now(), std::nullopt, std::string(print_->name())});
    } else if (result.status == SendStatus::kTemporaryFailure) {
      // A supplier down overnight must not fail a day's letters: they wait, still "created",
      // tried again at the retry policy's pace and then every max_delay, until retention.
      const Timestamp at = clock_.now();
      const auto next = options_.retry.next_attempt(record->attempts, at).value_or(at + options_.retry.max_delay);
      outcomes.push_back({record->id, "created", at, std::nullopt, next, std::nullopt});
    } else {
      auto outcome = outcome_for(*record, result);
      outcome.callback = true;
      outcomes.push_back(std::move(outcome));
    }
  }
  return outcomes;
}

Result<int> DeliveryWorker::collect_letter_reports() {
  if (print_ == nullptr) return 0;
  const std::string supplier(print_->name());
  return print_->collect_reports([&](const std::vector<letters::LetterReport>& reports) -> Result<void> {
    int applied = 0;
    int ignored = 0;
    for (const auto& report : reports) {
      auto id = NotificationId::parse(report.reference);
      if (!id) {
        ++ignored;  // not a reference Herald gave out
        continue;
      }
      auto done = store_.apply_receipt({*id, supplier, report.status, clock_.now()});
      if (!done) return done.error();  // the whole file again next time; applying twice is harmless
      if (!*done) {
        ++ignored;  // unknown, another supplier's, already final, or gone with retention
        continue;
      }
      ++applied;
      log::info("delivery.letter_report", {{"notification_id", id->to_string()},
                                           {"service_id", (*done)->service.to_string()},
                                           {"status", report.status},
                                           {"supplier", supplier}});
    }
    log::info("delivery.letter_reports", {{"supplier", supplier},
                                          {"applied", std::to_string(applied)},
                                          {"ignored", std::to_string(ignored)}});
    return ok();
  });
}

store::DeliveryOutcome DeliveryWorker::outcome_for(const store::NotificationRecord& record,
                                                   SendResult result) {
  return domain::outcome_of_attempt(record, result.status, clock_.now(), options_.retry);
}

}  // namespace herald::delivery
