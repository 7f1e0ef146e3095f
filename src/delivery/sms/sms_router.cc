#include "delivery/sms/sms_router.h"

#include "core/check.h"
#include "core/log.h"

namespace herald::delivery::sms {

SmsRouter::SmsRouter(std::vector<std::unique_ptr<SmsProvider>> providers, const Clock& clock, FailoverOptions options)
    : providers_(std::move(providers)), clock_(clock), options_(options), health_(providers_.size()) {
  HERALD_CHECK(!providers_.empty(), "an SMS router needs a provider");
}

std::vector<std::size_t> SmsRouter::order(Timestamp now) const {
  std::vector<std::size_t> healthy;
  std::vector<std::size_t> passed_over;
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    (health_[i].down_until && *health_[i].down_until > now ? passed_over : healthy).push_back(i);
  }
  // When every provider is down, still try them all, in order of preference.
  healthy.insert(healthy.end(), passed_over.begin(), passed_over.end());
  return healthy;
}

void SmsRouter::record(std::size_t i, bool ok, Timestamp now) {
  std::lock_guard lock(mutex_);
  Health& h = health_[i];
  const std::string name(providers_[i]->name());
  if (ok) {
    if (h.consecutive_failures >= options_.failures_to_switch) log::info("sms.provider_recovered", {{"provider", name}});
    h = Health{};
    return;
  }
  ++h.consecutive_failures;
  if (h.consecutive_failures >= options_.failures_to_switch) {
    if (!h.down_until || *h.down_until <= now) {
      log::warn("sms.provider_passed_over", {{"provider", name},
                                             {"consecutive_failures", std::to_string(h.consecutive_failures)}});
    }
    h.down_until = now + options_.retry_after;
  }
}

SmsRouter::Routed SmsRouter::send(const OutgoingSms& sms) {
  std::vector<std::size_t> candidates;
  {
    std::lock_guard lock(mutex_);
    candidates = order(clock_.now());
  }
  Routed routed;
  std::string details;
  for (std::size_t i : candidates) {
    routed.provider = std::string(providers_[i]->name());
    routed.result = providers_[i]->send(sms);
    const bool ok = routed.result.status == SendStatus::kAccepted;
    record(i, ok, clock_.now());
    if (ok) return routed;
    details += (details.empty() ? "" : "; ") + routed.result.detail;
  }
  routed.result.detail = details;
  return routed;
}

std::vector<SmsRouter::ProviderState> SmsRouter::states() const {
  std::lock_guard lock(mutex_);
  const Timestamp now = clock_.now();
  std::vector<ProviderState> out;
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    out.push_back({std::string(providers_[i]->name()), health_[i].consecutive_failures,
                   health_[i].down_until && *health_[i].down_until > now});
  }
  return out;
}

}  // namespace herald::delivery::sms
