#include "domain/nhs/cascade.h"

#include <algorithm>
#include <map>

#include "core/json.h"
#include "core/log.h"
#include "core/utf8.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "domain/letters/letter_timings.h"
#include "domain/nhs/callbacks.h"
#include "domain/nhs/json_fields.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"
#include "domain/rendering/personalisation_json.h"
#include "domain/rendering/sms_text.h"
#include "domain/rendering/template_render.h"

namespace herald::domain::nhs {
namespace {

using store::NhsChannel;
using store::NhsChannelRecord;
using store::NhsChannelStatus;
using store::NhsMessageRecord;
using store::NhsMessageStatus;

// NHS's message and channel failure reasons (spec §7.4) and Herald's own (HRD_*), for failures
// NHS's public material has no code for.
FailureReason reason(const char* code, std::string description) {
  return FailureReason{code == nullptr ? std::nullopt : std::optional<std::string>(code),
                       "Failed reason: " + std::move(description)};
}

constexpr std::size_t kMaxEmailCharacters = 100'000;  // spec §8.2

bool in_progress(const NhsChannelRecord& c) { return c.status == NhsChannelStatus::kSending; }
bool done(const NhsChannelRecord& c) {
  return c.status == NhsChannelStatus::kDelivered || c.status == NhsChannelStatus::kFailed ||
         c.status == NhsChannelStatus::kSkipped;
}

std::string full_name(const CascadeRecipient& recipient) {
  std::string name = recipient.given_name;
  if (!recipient.family_name.empty()) name += (name.empty() ? "" : " ") + recipient.family_name;
  return name;
}

FailureReason missing_contact() { return reason("CFR_PDSV_0002", "Contact detail is missing"); }

// A channel's failure as its message's: NHS pairs CFR_x with MFR_x.
FailureReason message_reason_of(const NhsChannelRecord& channel) {
  FailureReason r;
  r.description = channel.status_description.value_or("Failed reason: No reachable communication channels.");
  if (channel.failure_reason_code && channel.failure_reason_code->rfind("CFR_", 0) == 0) {
    r.code = "MFR_" + channel.failure_reason_code->substr(4);
  } else {
    r.code = channel.failure_reason_code;
  }
  return r;
}

}  // namespace

std::string to_json(const CascadeRecipient& r) {
  json::Writer w;
  w.begin_object();
  w.key("given_name").string(r.given_name);
  w.key("family_name").string(r.family_name);
  optional_member(w, "email", r.email);
  optional_member(w, "sms", r.sms);
  w.key("address_lines").begin_array();
  for (const std::string& line : r.address_lines) w.string(line);
  w.end_array();
  optional_member(w, "postcode", r.postcode);
  if (r.nhs_app_registered) w.key("nhs_app").boolean(*r.nhs_app_registered);
  optional_member(w, "accessible_format", r.accessible_format);
  optional_member(w, "language", r.language);
  if (r.simulated) w.key("simulated").boolean(true);
  w.end_object();
  return w.take();
}

Result<CascadeRecipient> recipient_from_json(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_object()) return data_loss("stored NHS recipient is not a JSON object");
  const json::Value& o = *parsed;
  CascadeRecipient r;
  r.given_name = string_member(o, "given_name").value_or("");
  r.family_name = string_member(o, "family_name").value_or("");
  r.email = string_member(o, "email");
  r.sms = string_member(o, "sms");
  r.address_lines = string_array_member(o, "address_lines");
  r.postcode = string_member(o, "postcode");
  if (const json::Value* app = o.find("nhs_app"); app != nullptr && app->is_bool())
    r.nhs_app_registered = app->as_bool();
  r.accessible_format = string_member(o, "accessible_format");
  r.language = string_member(o, "language");
  const json::Value* simulated = o.find("simulated");
  r.simulated = simulated != nullptr && simulated->is_bool() && simulated->as_bool();
  return r;
}

std::optional<FailureReason> refusal_of(const DemographicsRecord& record) {
  if (record.status == DemographicsRecord::Status::kInvalidated) {
    return reason("MFR_PDSV_0008", "patient record invalidated");
  }
  if (record.deceased == DemographicsRecord::Deceased::kFormal)
    return reason("MFR_PDSV_0112", "Patient is formally dead");
  if (record.deceased == DemographicsRecord::Deceased::kInformal) {
    return reason("MFR_PDSV_0111", "Patient is informally dead");
  }
  if (record.exit_code) return reason("MFR_PDSV_0110", "Patient has exit code");
  // NHS's published description for a restricted (S-flag) record is "Flagged."; its code is not
  // public, so Herald's own.
  if (record.restricted) return reason("HRD_PDSV_0001", "Flagged.");
  return std::nullopt;
}

FailureReason not_found_reason() { return reason("MFR_PDSV_0004", "NHS number not found"); }

Result<CascadeRecipient> recipient_for(const DemographicsRecord* record,
                                       const std::optional<std::string>& contact_details_json) {
  CascadeRecipient r;
  if (record != nullptr) {
    r.given_name = record->given_name;
    r.family_name = record->family_name;
    r.email = record->email;
    r.sms = record->mobile;
    r.address_lines = record->address_lines;
    r.postcode = record->postcode;
    r.nhs_app_registered = record->nhs_app_registered;
    r.accessible_format = record->accessible_format;
    r.language = record->language;
    r.simulated = record->simulated;
  }
  if (!contact_details_json) return r;
  auto details = json::parse(*contact_details_json);
  if (!details || !details->is_object()) return data_loss("stored contact details are not a JSON object");
  if (auto email = string_member(*details, "email")) r.email = std::move(email);
  if (auto sms = string_member(*details, "sms")) r.sms = std::move(sms);
  if (const json::Value* address = details->find("address"); address != nullptr && address->is_object()) {
    r.address_lines = string_array_member(*address, "lines");
    r.postcode = string_member(*address, "postcode");
  }
  return r;
}

void lay_out_channels(NhsMessageRecord& message, const RoutingPlan& plan, Timestamp now) {
  message.channels.clear();
  std::vector<PlanChannel> ordered = plan.channels;
  // Primary channels first, each cascade in its order (the order NHS lists them in).
  std::stable_sort(ordered.begin(), ordered.end(), [](const PlanChannel& a, const PlanChannel& b) {
    return std::make_pair(!a.primary, a.order) < std::make_pair(!b.primary, b.order);
  });
  for (const PlanChannel& p : ordered) {
    NhsChannelRecord c;
    c.type = p.type;
    c.primary = p.primary;
    c.order = p.order;
    c.created_at = now;
    message.channels.push_back(std::move(c));
  }
}

const PlanOverride* override_for(const RoutingPlan& plan, const CascadeRecipient& recipient) {
  for (const PlanOverride& o : plan.overrides) {
    const auto& preference = o.when == PlanVariant::Kind::kLanguage ? recipient.language : recipient.accessible_format;
    if (preference && *preference == o.value) return &o;
  }
  return nullptr;
}

std::pair<TemplateId, int> letter_template_for(const PlanChannel& channel, const CascadeRecipient& recipient) {
  for (PlanVariant::Kind kind : {PlanVariant::Kind::kAccessibleFormat, PlanVariant::Kind::kLanguage}) {
    const auto& preference = kind == PlanVariant::Kind::kLanguage ? recipient.language : recipient.accessible_format;
    if (!preference) continue;
    for (const PlanVariant& v : channel.variants) {
      if (v.kind == kind && v.value == *preference) return {v.template_id, v.template_version};
    }
  }
  return {channel.template_id.value_or(TemplateId{}), channel.template_version};
}

Personalisation personalisation_for(const NhsMessageRecord& message, const CascadeRecipient& recipient, Timestamp now) {
  Personalisation p;
  auto parsed = json::parse(message.personalisation_json);
  if (parsed && parsed->is_object()) p = personalisation_from_json(*parsed);
  auto add = [&p](std::string key, std::string value) {
    p.entries.emplace_back(std::move(key),
                           PersonalisationValue{PersonalisationValue::Kind::kText, std::move(value), {}});
  };
  if (std::string name = full_name(recipient); !name.empty()) add("fullName", std::move(name));
  if (!recipient.given_name.empty()) add("firstName", recipient.given_name);
  if (!recipient.family_name.empty()) add("lastName", recipient.family_name);
  if (message.nhs_number) add("nhsNumber", *message.nhs_number);
  add("date", letter_date(now));
  return p;
}

bool reachable(const CascadeRecipient& recipient, NhsChannel channel) {
  switch (channel) {
    case NhsChannel::kEmail: return recipient.email.has_value() && !recipient.email->empty();
    case NhsChannel::kSms: return recipient.sms.has_value() && !recipient.sms->empty();
    case NhsChannel::kLetter: return !recipient.address_lines.empty() && recipient.postcode.has_value();
    // Without an NHS App source, an unknown registration is tried (the NHS App says whether the
    // user exists); a record that says "not registered" skips it.
    case NhsChannel::kNhsApp: return recipient.nhs_app_registered.value_or(true);
  }
  return false;
}

void channel_delivered(NhsChannelRecord& channel, std::string supplier_status, Timestamp at) {
  if (done(channel)) return;
  channel.status = NhsChannelStatus::kDelivered;
  channel.supplier_status = std::move(supplier_status);
  channel.delivered_at = at;
  channel.deadline_at.reset();
}

void channel_failed(NhsChannelRecord& channel, const FailureReason& why, std::optional<std::string> supplier_status,
                    Timestamp at) {
  if (done(channel)) return;
  channel.status = NhsChannelStatus::kFailed;
  channel.status_description = why.description;
  channel.failure_reason_code = why.code;
  if (supplier_status) channel.supplier_status = std::move(supplier_status);
  channel.failed_at = at;
  channel.deadline_at.reset();
}

void apply_notification(NhsChannelRecord& channel, store::NotificationStatus status, int attempts, Timestamp at) {
  using S = store::NotificationStatus;
  if (attempts > 1) channel.retry_count = attempts - 1;
  switch (status) {
    case S::kDelivered:
    case S::kSent:  // an international text: handed over, no receipt will come
      channel_delivered(channel, "delivered", at);
      return;
    case S::kPermanentFailure:
      channel_failed(channel, reason("CFR_SUPE_0007", "The recipient's provider refused the message for good"),
                     "permanent_failure", at);
      return;
    case S::kTemporaryFailure:
      channel_failed(channel, reason("CFR_SUPE_0007", "The message could not be delivered (phone off or inbox full)"),
                     "temporary_failure", at);
      return;
    case S::kTechnicalFailure:
      channel_failed(channel, reason("CFR_SUPE_0007", "The message could not be handed to the provider"),
                     "technical_failure", at);
      return;
    case S::kValidationFailed:
    case S::kVirusScanFailed:
      channel_failed(channel, reason("CFR_SUPE_0007", "The letter could not be printed"), "validation_failed", at);
      return;
    case S::kCancelled:
      channel_failed(channel, reason("CFR_SUPE_0007", "The letter was cancelled"), "cancelled", at);
      return;
    case S::kReturnedLetter:
      channel_failed(channel, reason("CFR_SUPE_0007", "The letter was returned"), "permanent_failure", at);
      return;
    case S::kCreated:
    case S::kSending:
    case S::kPending:
    case S::kPendingVirusCheck: return;  // still on its way
  }
}

void apply_event(NhsChannelRecord& channel, const store::NhsChannelEvent& event) {
  if (event.channel != channel.type || done(channel)) return;
  if (event.supplier_status == "read") {
    channel_delivered(channel, "read", event.at);
  } else if (event.supplier_status == "rejected") {
    channel_failed(channel, reason("CFR_SUPE_0007", "The NHS App rejected the message"), "rejected", event.at);
  } else {
    channel.supplier_status = event.supplier_status;
  }
}

void fail_message(NhsMessageRecord& message, const FailureReason& why, Timestamp at) {
  message.status = NhsMessageStatus::kFailed;
  message.status_description = why.description;
  message.failure_reason_code = why.code;
  message.failed_at = at;
  message.next_step_at.reset();
}

std::vector<std::size_t> advance(NhsMessageRecord& message, const CascadeRecipient& recipient, const RoutingPlan& plan,
                                 Timestamp now) {
  std::vector<std::size_t> started;
  auto time_limit = [&plan](const NhsChannelRecord& c) {
    for (const PlanChannel& p : plan.channels) {
      if (p.type == c.type && p.primary == c.primary && p.order == c.order) return Duration(p.time_limit);
    }
    return Duration(std::chrono::hours(72));
  };
  auto start = [&](std::size_t i) {
    NhsChannelRecord& c = message.channels[i];
    if (!reachable(recipient, c.type)) {
      c.status = NhsChannelStatus::kSkipped;
      c.status_description = missing_contact().description;
      c.failure_reason_code = missing_contact().code;
      return false;
    }
    c.status = NhsChannelStatus::kSending;
    c.started_at = now;
    c.deadline_at = now + time_limit(c);
    started.push_back(i);
    return true;
  };

  // 1. Time limits.
  for (NhsChannelRecord& c : message.channels) {
    if (!in_progress(c) || !c.deadline_at || *c.deadline_at > now) continue;
    channel_failed(c,
                   c.type == NhsChannel::kNhsApp
                       ? FailureReason{std::nullopt, "Message not read in specified time frame"}
                       : FailureReason{std::nullopt, "Message not delivered in specified time frame"},
                   std::nullopt, now);
  }
  // 2. Secondary channels all start at once, the first time round.
  for (std::size_t i = 0; i < message.channels.size(); ++i) {
    if (!message.channels[i].primary && message.channels[i].status == NhsChannelStatus::kCreated) start(i);
  }
  // 3. The primary cascade: stop at the first delivered; wait while one is in progress; else the
  // next one that has a contact detail.
  const auto& cs = message.channels;
  const bool primary_delivered = std::any_of(cs.begin(), cs.end(), [](const NhsChannelRecord& c) {
    return c.primary && c.status == NhsChannelStatus::kDelivered;
  });
  const bool primary_busy =
      std::any_of(cs.begin(), cs.end(), [](const NhsChannelRecord& c) { return c.primary && in_progress(c); });
  if (!primary_delivered && !primary_busy) {
    for (std::size_t i = 0; i < message.channels.size(); ++i) {
      if (message.channels[i].primary && message.channels[i].status == NhsChannelStatus::kCreated && start(i)) break;
    }
  }
  // 4. The message follows its channels. Channels after a delivered one stay "created", as NHS's.
  const NhsChannelRecord* delivered = nullptr;
  std::optional<Timestamp> next;
  bool busy = false, primary_left = false;
  const NhsChannelRecord* last_failed = nullptr;
  for (const NhsChannelRecord& c : message.channels) {
    if (c.status == NhsChannelStatus::kDelivered &&
        (delivered == nullptr || *c.delivered_at < *delivered->delivered_at)) {
      delivered = &c;
    }
    if (in_progress(c)) {
      busy = true;
      if (c.deadline_at && (!next || *c.deadline_at < *next)) next = c.deadline_at;
    }
    if (c.primary && c.status == NhsChannelStatus::kCreated) primary_left = true;
    if (c.primary && (c.status == NhsChannelStatus::kFailed || c.status == NhsChannelStatus::kSkipped))
      last_failed = &c;
  }
  message.next_step_at = next;
  if (message.status == NhsMessageStatus::kDelivered || message.status == NhsMessageStatus::kFailed) return started;
  if (delivered != nullptr) {
    message.status = NhsMessageStatus::kDelivered;
    message.delivered_at = delivered->delivered_at;
    message.status_description.reset();
    message.failure_reason_code.reset();
  } else if (busy) {
    message.status = NhsMessageStatus::kSending;
  } else if (!primary_left) {
    const bool all_skipped = std::all_of(cs.begin(), cs.end(), [](const NhsChannelRecord& c) {
      return c.status == NhsChannelStatus::kSkipped || !c.primary;
    });
    FailureReason why = all_skipped || last_failed == nullptr ? reason("MFR_PDSV_0002", "Contact detail is missing")
                                                              : message_reason_of(*last_failed);
    fail_message(message, why, now);
  }
  return started;
}

Result<int> NhsCascade::run_once() {
  const Timestamp now = clock_.now();
  auto claimed = cascade_.claim_nhs_messages(options_.batch_size, now, options_.lease);
  if (!claimed) return claimed.error();
  // The clients' callback receivers, read once a batch.
  std::map<Uuid, std::vector<store::NhsCallbackTarget>> targets;
  if (callbacks_ != nullptr && !claimed->empty()) {
    auto all = callbacks_->nhs_callback_targets(std::nullopt);
    if (!all) return all.error();
    for (store::NhsCallbackTarget& target : *all) {
      crypto::wipe_string(target.api_key);  // the sender's business, not the cascade's
      targets[target.client].push_back(std::move(target));
    }
  }
  bool queued = false;
  for (store::NhsMessageClaim& claim : *claimed) {
    auto it = targets.find(claim.message.client);
    auto stepped = step(claim, it == targets.end() ? std::span<const store::NhsCallbackTarget>() : it->second, now);
    if (!stepped) {
      // Left to its lease: it is claimed again once that runs out.
      log::error("nhs.cascade_step_failed", {{"message_id", claim.message.id}, {"error", stepped.error().message}});
      continue;
    }
    queued = queued || *stepped;
  }
  if (queued && on_queued_) on_queued_();
  return static_cast<int>(claimed->size());
}

Result<bool> NhsCascade::step(store::NhsMessageClaim& claim, std::span<const store::NhsCallbackTarget> targets,
                              Timestamp now) {
  const NhsMessageRecord before = targets.empty() ? NhsMessageRecord{} : claim.message;
  store::NhsCascadeStep step{std::move(claim.message), claim.claim, {}};
  NhsMessageRecord& next = step.message;
  auto original = plans_.version(next.routing_plan_id, next.routing_plan_version);
  if (!original) return original.error();
  // Saves the step with the callbacks its status changes make.
  auto finish = [&]() -> Result<bool> {
    if (!targets.empty()) {
      step.callbacks = callbacks_for(before, next, original->get(), targets, options_.message_links, now);
    }
    return save(step, now);
  };
  auto found_plan = plan_of(next);
  if (!found_plan) return found_plan.error();
  PlanPtr plan = std::move(*found_plan);
  if (plan == nullptr) {
    fail_message(next, reason("HRD_PLAN_0001", "Routing plan no longer exists"), now);
    return finish();
  }

  // Enrichment: once, before any channel.
  if (next.status == NhsMessageStatus::kCreated || next.status == NhsMessageStatus::kPendingEnrichment) {
    next.status = NhsMessageStatus::kPendingEnrichment;
    std::optional<DemographicsRecord> record;
    if (next.nhs_number && demographics_ != nullptr) {
      auto found = demographics_->lookup(*next.nhs_number, now);
      if (!found && found.error().code == ErrorCode::kUnavailable) {
        log::warn("nhs.demographics_unavailable", {{"message_id", next.id}, {"error", found.error().message}});
        next.next_step_at = now + options_.lookup_retry;
        return finish();
      }
      if (!found) return found.error();
      record = std::move(*found);
      if (!record) {
        fail_message(next, not_found_reason(), now);
      } else if (auto refused = refusal_of(*record)) {
        fail_message(next, *refused, now);
      }
    }
    if (next.status != NhsMessageStatus::kFailed) {
      auto recipient = recipient_for(record ? &*record : nullptr, next.contact_details_json);
      if (!recipient) return recipient.error();
      next.recipient_json = to_json(*recipient);
      next.enriched_at = record ? record->queried_at : now;
      if (record) next.demographics_version = record->version;
      next.status = NhsMessageStatus::kEnriched;
      // A recipient whose language or format the plan has an override for gets that plan.
      if (const PlanOverride* chosen = override_for(*plan, *recipient)) {
        auto other = plans_.for_client(next.client, chosen->plan);
        if (!other) return other.error();
        if (*other == nullptr) {
          log::warn("nhs.override_plan_missing", {{"message_id", next.id}, {"plan_id", chosen->plan.to_string()}});
        } else {
          plan = std::move(*other);
        }
      }
      lay_out_channels(next, *plan, now);
      if (plan->id != next.routing_plan_id) {
        for (store::NhsChannelRecord& channel : next.channels) {
          channel.override_plan_id = plan->id;
          channel.override_plan_version = plan->version;
        }
      }
    } else {
      next.enriched_at = now;
    }
  }

  if (next.status != NhsMessageStatus::kFailed || !next.channels.empty()) {
    auto recipient = recipient_from_json(next.recipient_json.value_or("{}"));
    if (!recipient) return recipient.error();
    // What suppliers said since (NHS App receipts), then what the channels' notifications have
    // come to.
    for (const store::NhsChannelEvent& event : claim.events) {
      for (store::NhsChannelRecord& channel : next.channels) {
        if (channel.type == event.channel && channel.status == NhsChannelStatus::kSending) apply_event(channel, event);
      }
      step.events_through = std::max(step.events_through, event.id);
    }
    for (store::NhsChannelRecord& channel : next.channels) {
      // An NHS App message the NHS App could not take last time: once more.
      if (channel.type == NhsChannel::kNhsApp && channel.status == NhsChannelStatus::kSending &&
          !channel.supplier_reference && nhs_app_ != nullptr && (!channel.deadline_at || *channel.deadline_at > now)) {
        ++channel.retry_count;
        send_nhs_app(next, channel, *plan, *recipient, now);
      }
    }
    for (store::NhsChannelRecord& channel : next.channels) {
      if (channel.status != NhsChannelStatus::kSending || !channel.notification_id) continue;
      auto found = notifications_.find_notification(next.service, *channel.notification_id);
      if (!found) return found.error();
      if (!*found) {
        channel_failed(channel, reason("CFR_SUPE_0007", "The message is no longer held"), "technical_failure", now);
        continue;
      }
      apply_notification(channel, (*found)->status, (*found)->attempts, (*found)->updated_at.value_or(now));
    }
    // Move on; a channel that cannot be started fails and the cascade moves on again.
    for (int guard = 0; guard <= static_cast<int>(next.channels.size()); ++guard) {
      const std::vector<std::size_t> started = advance(next, *recipient, *plan, now);
      bool settled_any = false;  // a channel it started is already done
      for (std::size_t i : started) {
        if (next.channels[i].type == NhsChannel::kNhsApp && (nhs_app_ != nullptr || recipient->simulated)) {
          send_nhs_app(next, next.channels[i], *plan, *recipient, now);
          // Failed, or (a trigger number's) read at once: the cascade moves on now.
          settled_any = settled_any || next.channels[i].status == NhsChannelStatus::kFailed ||
                        next.channels[i].status == NhsChannelStatus::kDelivered;
          continue;
        }
        auto notification = notification_for(next, *recipient, next.channels[i], *plan, now);
        if (!notification) {
          channel_failed(next.channels[i], reason("HRD_SEND_0001", notification.error().message), std::nullopt, now);
          settled_any = true;
          continue;
        }
        next.channels[i].notification_id = notification->id;
        step.notifications.push_back(std::move(*notification));
      }
      if (!settled_any) break;
    }
  }
  // An NHS App message waiting to be tried again is due then (advance only knows deadlines).
  for (const store::NhsChannelRecord& channel : next.channels) {
    if (channel.type != NhsChannel::kNhsApp || channel.status != NhsChannelStatus::kSending ||
        channel.supplier_reference) {
      continue;
    }
    const Timestamp retry = now + options_.nhs_app_retry;
    if (!next.next_step_at || retry < *next.next_step_at) next.next_step_at = retry;
  }
  return finish();
}

Result<PlanPtr> NhsCascade::plan_of(const NhsMessageRecord& message) {
  if (!message.channels.empty() && message.channels.front().override_plan_id) {
    const store::NhsChannelRecord& first = message.channels.front();
    return plans_.version(*first.override_plan_id, first.override_plan_version.value_or(""));
  }
  return plans_.version(message.routing_plan_id, message.routing_plan_version);
}

void NhsCascade::send_nhs_app(NhsMessageRecord& message, store::NhsChannelRecord& channel, const RoutingPlan& plan,
                              const CascadeRecipient& recipient, Timestamp now) {
  std::optional<std::string> body;
  const PlanChannel* spec = plan.channel(NhsChannel::kNhsApp);
  if (spec != nullptr && !spec->message.empty()) {
    // A client's plan: its message, filled in.
    const Personalisation personalisation = personalisation_for(message, recipient, now);
    if (auto missing = check_placeholders({spec->message}, personalisation); !missing) {
      channel_failed(channel, reason("HRD_SEND_0001", missing.error().message), std::nullopt, now);
      return;
    }
    body = substitute_placeholders(spec->message, personalisation, ListStyle::kMarkdownBullets);
  } else if (auto personalisation = json::parse(message.personalisation_json);
             personalisation && personalisation->is_object()) {
    // NHS's free-text plans: "body" when the NHS App is the only channel, else "nhsapp_body".
    body = string_member(*personalisation, "nhsapp_body");
    if (!body) body = string_member(*personalisation, "body");
  }
  if (!body || body->empty()) {
    channel_failed(channel, reason("HRD_SEND_0001", "Personalisation field 'nhsapp_body' is missing"), std::nullopt,
                   now);
    return;
  }
  std::vector<std::uint32_t> characters;
  if (!decode_utf8(*body, characters) || characters.size() > kMaxNhsAppCharacters) {
    channel_failed(channel, reason("HRD_SEND_0001", "NHS App message is longer than 5000 characters"), std::nullopt,
                   now);
    return;
  }
  if (!message.nhs_number) {
    channel_failed(channel, missing_contact(), std::nullopt, now);
    return;
  }
  if (recipient.simulated) {
    channel_delivered(channel, "read", now);  // a trigger number's user reads it at once
    return;
  }
  const NhsAppResult result = nhs_app_->send({message.id, *message.nhs_number, message.ods_code.value_or(""), *body});
  switch (result.outcome) {
    case NhsAppResult::Outcome::kAccepted:
      channel.supplier_reference = result.reference;
      channel.supplier_status = "received";
      return;
    case NhsAppResult::Outcome::kRejected:
      channel_failed(channel, reason("CFR_SUPE_0007", "The NHS App rejected the message: " + result.detail), "rejected",
                     now);
      return;
    case NhsAppResult::Outcome::kUnavailable:
      log::warn("nhs.nhs_app_unavailable", {{"message_id", message.id}, {"detail", result.detail}});
      return;  // still "sending" with no reference: tried again at the next step
  }
}

Result<bool> NhsCascade::save(const store::NhsCascadeStep& step, Timestamp now) {
  auto saved = cascade_.save_nhs_step(step, now);
  if (!saved) return saved.error();
  if (!*saved) log::info("nhs.cascade_claim_lost", {{"message_id", step.message.id}});
  return *saved && !step.notifications.empty();
}

Result<store::TemplateRecord> NhsCascade::template_of(ServiceId service, TemplateId id, int version) {
  auto found = services_.find_template(service, id, version);
  if (!found) return found.error();
  if (!*found) {
    return invalid_argument("Template " + id.to_string() + " version " + std::to_string(version) +
                            " is no longer held");
  }
  return std::move(**found);
}

Result<store::NotificationRecord> NhsCascade::notification_for(const NhsMessageRecord& message,
                                                               const CascadeRecipient& recipient,
                                                               const store::NhsChannelRecord& channel,
                                                               const RoutingPlan& plan, Timestamp now) {
  auto request = json::parse(message.personalisation_json);
  if (!request || !request->is_object()) return data_loss("stored personalisation is not a JSON object");
  const bool free_text = !plan.free_text_fields.empty();
  const PlanChannel* spec = plan.channel(channel.type);
  if (channel.type == NhsChannel::kNhsApp)
    return invalid_argument("The NHS App channel is not configured on this Herald");
  if (spec == nullptr || (!free_text && !spec->template_id)) {
    return invalid_argument("Routing plan has no template for the " +
                            std::string(store::nhs_channel_name(channel.type)) + " channel");
  }
  // NHS's free-text plans carry the text in personalisation: with one channel "body", with two
  // "<channel>_body" (and "email_subject").
  auto field = [&](std::string_view name) -> Result<std::string> {
    auto value = string_member(*request, name);
    if (!value || value->empty()) {
      return invalid_argument("Personalisation field '" + std::string(name) + "' is missing");
    }
    return *value;
  };
  const Personalisation personalisation = free_text ? Personalisation{} : personalisation_for(message, recipient, now);

  store::NotificationRecord record;
  if (channel.type == NhsChannel::kLetter) {
    if (free_text) return invalid_argument("Letters need a routing plan with a letter template");
    if (letters_ == nullptr) return invalid_argument("Letters are not configured on this Herald");
    const auto [template_id, version] = letter_template_for(*spec, recipient);
    auto letter_template = template_of(message.service, template_id, version);
    if (!letter_template) return letter_template.error();
    // The address block: the recipient's name, their address lines, the postcode.
    std::vector<std::string> lines;
    if (const std::string name = full_name(recipient); !name.empty()) lines.push_back(name);
    lines.insert(lines.end(), recipient.address_lines.begin(), recipient.address_lines.end());
    Personalisation with_address = personalisation;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      with_address.entries.emplace_back("address_line_" + std::to_string(i + 1),
                                        PersonalisationValue{PersonalisationValue::Kind::kText, lines[i], {}});
    }
    with_address.entries.emplace_back(
        "postcode", PersonalisationValue{PersonalisationValue::Kind::kText, recipient.postcode.value_or(""), {}});
    auto prepared = letters_->prepare_for_service(message.service, *letter_template, with_address, now);
    if (!prepared) return prepared.error();
    record = std::move(*prepared);
  } else {
    record.id = NotificationId{crypto::time_ordered_uuid(now)};
    record.service = message.service;
    record.template_id = TemplateId{};  // free text: what is stored is what is sent
    record.template_version = 1;
    record.status = store::NotificationStatus::kCreated;
    record.created_at = now;
    record.queued = true;
  }
  record.api_key = ApiKeyId{message.client};
  // A trigger number's channels are simulated as a test key's are: never handed to a provider.
  record.key_type = recipient.simulated ? store::KeyType::kTest : store::KeyType::kNormal;
  if (recipient.simulated && record.type == store::Channel::kLetter && record.queued) {
    record.status = store::NotificationStatus::kDelivered;  // as Letters::send does for test keys
    record.queued = false;
    record.updated_at = now;
  }
  record.personalisation_json = "{}";  // the content is rendered; the request's values stay with the message

  switch (channel.type) {
    case NhsChannel::kEmail: {
      std::string subject, body;
      if (free_text) {
        auto s = field("email_subject");
        if (!s) return s.error();
        auto b = field("email_body");
        if (!b) return b.error();
        subject = std::move(*s);
        body = std::move(*b);
      } else {
        auto email_template = template_of(message.service, *spec->template_id, spec->template_version);
        if (!email_template) return email_template.error();
        auto rendered =
            render_email({email_template->subject, email_template->body}, personalisation, RenderParts::kContent);
        if (!rendered) return rendered.error();
        subject = std::move(rendered->subject);
        body = std::move(rendered->body);
        record.template_id = email_template->id;
        record.template_version = email_template->version;
      }
      if (body.size() > kMaxEmailCharacters) return invalid_argument("Email body is longer than 100000 characters");
      record.type = store::Channel::kEmail;
      record.recipient = *recipient.email;
      record.recipient_normalised = normalise_email_for_index(record.recipient);
      record.subject = std::move(subject);
      record.body = std::move(body);
      auto replies = services_.service_contacts(message.service, store::ContactKind::kEmailReplyTo);
      if (!replies) return replies.error();
      for (const auto& c : *replies) {
        if (c.is_default) record.sender = c.value;
      }
      return record;
    }
    case NhsChannel::kSms: {
      std::string text;
      if (free_text) {
        auto body = field("sms_body");
        if (!body) return body.error();
        // Free text is not a template: "((" must not be read as a placeholder. A zero-width
        // space keeps the parser off it and is removed again by the rendering.
        for (std::size_t i = 0; i < body->size(); ++i) {
          text += (*body)[i];
          if ((*body)[i] == '(' && i + 1 < body->size() && (*body)[i + 1] == '(') text += "\u200B";
        }
      } else {
        auto sms_template = template_of(message.service, *spec->template_id, spec->template_version);
        if (!sms_template) return sms_template.error();
        text = sms_template->body;
        record.template_id = sms_template->id;
        record.template_version = sms_template->version;
      }
      auto number = parse_phone_number(*recipient.sms);
      if (!number) return invalid_argument("The mobile number is not valid");
      auto billing = sms_billing_info(*number);
      if (!billing) return invalid_argument("The mobile number is not valid");
      auto rendered = render_sms(text, personalisation);
      if (!rendered) return rendered.error();
      if (is_sms_too_long(*rendered)) return invalid_argument("Text message is longer than 918 characters");
      record.type = store::Channel::kSms;
      record.recipient = *recipient.sms;
      record.recipient_normalised = number->normalised;
      record.body = std::move(rendered->body);
      record.billable_units = static_cast<int>(rendered->fragment_count);
      record.rate_multiplier = billing->rate_multiplier;
      record.sender = options_.default_sms_sender;
      auto senders = services_.service_contacts(message.service, store::ContactKind::kSmsSender);
      if (!senders) return senders.error();
      for (const auto& c : *senders) {
        if (c.is_default) record.sender = c.value;
      }
      return record;
    }
    case NhsChannel::kLetter: return record;
    case NhsChannel::kNhsApp: break;
  }
  return invalid_argument("unknown channel");
}

}  // namespace herald::domain::nhs
