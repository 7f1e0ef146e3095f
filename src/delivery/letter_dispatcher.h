#pragma once
// Letters: the PDFs of those claimed together go to the print supplier as one batch (at most
// `batch_size`), all or nothing. A letter the supplier took is "sending" until the supplier
// reports it posted, returned or failed (collect_letter_reports). A supplier that is down does
// not fail a day's letters: they stay "created" and are tried again. With no supplier
// configured, letters wait, accepted, and are looked at again every `wait`.

#include <atomic>
#include <memory>

#include "core/result.h"
#include "delivery/dispatcher.h"
#include "delivery/letter_provider.h"
#include "store/store.h"

namespace herald::delivery {

struct LetterDispatchOptions {
  int batch_size = 500;
  Duration wait = std::chrono::minutes(10);  // with no print supplier configured
  // Shared by every lane's dispatcher: set once letters were first found waiting for a supplier,
  // so that the state is logged once per process, not at every look (one per letter per `wait`).
  std::shared_ptr<std::atomic<bool>> waiting_logged = std::make_shared<std::atomic<bool>>(false);
};

class LetterDispatcher final : public Dispatcher {
 public:
  // `supplier`: nullptr when none is configured; shared by every worker thread.
  LetterDispatcher(store::NotificationStore& pdfs, letters::LetterProvider* supplier, LetterDispatchOptions options)
      : pdfs_(pdfs), supplier_(supplier), options_(options) {}
  void dispatch(const std::vector<const store::NotificationRecord*>& claimed, const DispatchContext& context) override;

 private:
  void submit(const std::vector<const store::NotificationRecord*>& batch, const DispatchContext& context);

  store::NotificationStore& pdfs_;
  letters::LetterProvider* supplier_;
  LetterDispatchOptions options_;
};

// Records what the print supplier reports of the letters it took (posted, returned, failed) as
// their statuses, each heard of by the service's callback like any final status. Returns how
// many report files were collected. Run now and then (`herald serve`: [letters]
// report_interval_seconds).
Result<int> collect_letter_reports(letters::LetterProvider& supplier, store::NotificationStore& store,
                                   const Clock& clock);

}  // namespace herald::delivery
