#pragma once
// The NHS Notify cascade: what happens to an accepted message (spec §6). Once, before any
// channel, the recipient's NHS number is looked up ("enrichment"); a recipient who may not be
// messaged fails the message with NHS's reason code. Otherwise every channel of the routing plan
// is laid out: secondary channels are all sent at once, primary channels one at a time in order,
// the next only when the one before is skipped (no contact detail), fails, or is not delivered
// (NHS App: read) within its time limit; the first primary channel delivered ends the cascade.
//
// The rules (enrich, advance, the channel outcomes) are pure functions of the message, the plan
// and `now`, so tests drive them with a fake clock. NhsCascade applies them to messages claimed
// from the store: each email, SMS or letter channel becomes an ordinary notification that the
// delivery worker sends; its outcome or receipt wakes the message (the store links them) and
// the cascade looks again.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "domain/letters/letters.h"
#include "domain/nhs/demographics.h"
#include "domain/nhs/nhs_app.h"
#include "domain/nhs/routing_plans.h"
#include "store/store.h"

namespace herald::domain::nhs {

// Where a message or channel failed, in NHS's words (spec §7.4): code and description.
struct FailureReason {
  std::optional<std::string> code;
  std::string description;
};

// What the cascade knows of the recipient once enriched (stored sealed as the message's
// recipient_json): the request's contact-detail overrides win over the demographics record's.
struct CascadeRecipient {
  std::string given_name, family_name;
  std::optional<std::string> email, sms;  // sms: the mobile number
  std::vector<std::string> address_lines;
  std::optional<std::string> postcode;
  std::optional<bool> nhs_app_registered;
  std::optional<std::string> accessible_format, language;
  bool simulated = false;  // a trigger number's: simulated, never really sent
};
std::string to_json(const CascadeRecipient& recipient);
Result<CascadeRecipient> recipient_from_json(std::string_view text);

// Why a record must not be messaged (deceased, restricted, exit-coded, invalidated), or nullopt.
std::optional<FailureReason> refusal_of(const DemographicsRecord& record);
// The reason for a number the demographics source does not know.
FailureReason not_found_reason();

// Enrichment's outcome for the message (record found and not refused): the recipient from the
// record and the request's contact-detail overrides (`contact_details_json`, as accepted: keys
// sms, email, address{lines, postcode}), and the plan's channels laid out, all "created".
Result<CascadeRecipient> recipient_for(const DemographicsRecord* record,
                                       const std::optional<std::string>& contact_details_json);
void lay_out_channels(store::NhsMessageRecord& message, const RoutingPlan& plan, Timestamp now);
// The plan's first override whose preference (language, accessible format) the recipient has,
// or nullptr.
const PlanOverride* override_for(const RoutingPlan& plan, const CascadeRecipient& recipient);
// The letter template a recipient gets on a plan's letter channel: the variant for their
// accessible format, else for their language, else the channel's own. (id, version).
std::pair<TemplateId, int> letter_template_for(const PlanChannel& channel, const CascadeRecipient& recipient);
// What a template or NHS App message of a client's plan is filled with: the request's
// personalisation, then NHS's fields from the demographics record (spec §5.1.2: fullName,
// firstName, lastName, nhsNumber, date), which win over the request's.
Personalisation personalisation_for(const store::NhsMessageRecord& message, const CascadeRecipient& recipient,
                                    Timestamp now);

// Whether the recipient has a contact detail for the channel (else it is skipped).
bool reachable(const CascadeRecipient& recipient, store::NhsChannel channel);

// Moves the cascade on at `now`: channels past their deadline fail, secondary channels start,
// the next primary channel starts when none is in progress and none delivered, channels with no
// contact detail are skipped; then the message's status and next_step_at (the earliest deadline
// of a channel in progress) follow. Returns the indexes (into message.channels) of the channels
// it started: each now "sending" with its deadline; the caller sends them, and calls
// channel_failed and advance again for any it could not.
std::vector<std::size_t> advance(store::NhsMessageRecord& message, const CascadeRecipient& recipient,
                                 const RoutingPlan& plan, Timestamp now);

// A channel's outcome: delivered (with the supplier's status) or failed. Final statuses stay.
void channel_delivered(store::NhsChannelRecord& channel, std::string supplier_status, Timestamp at);
void channel_failed(store::NhsChannelRecord& channel, const FailureReason& reason,
                    std::optional<std::string> supplier_status, Timestamp at);
// What a channel's notification in `status` (attempts made so far) makes of the channel.
void apply_notification(store::NhsChannelRecord& channel, store::NotificationStatus status, int attempts, Timestamp at);

// What a supplier's later word (an NHS App receipt) makes of the channel: "read" delivers it,
// "rejected" fails it, anything else only updates its supplier status.
void apply_event(store::NhsChannelRecord& channel, const store::NhsChannelEvent& event);

// Fails a message before any channel (enrichment refused).
void fail_message(store::NhsMessageRecord& message, const FailureReason& reason, Timestamp at);

struct CascadeOptions {
  int batch_size = 100;
  Duration lease = std::chrono::seconds(60);
  // A demographics source that cannot answer now: asked again after this.
  Duration lookup_retry = std::chrono::seconds(30);
  // Texts from a service with no SMS sender of its own.
  std::string default_sms_sender = "Herald";
  // The NHS App could not be reached: tried again after this (within the channel's time limit).
  Duration nhs_app_retry = std::chrono::seconds(60);
  // Where GET /v1/messages/{id} is, for callbacks' links.message: "https://host/comms/v1/messages/".
  std::string message_links;
};

// What the cascade sends with: the plans, and the senders of its channels. Without a
// demographics source, recipients are reached only through the request's contact details;
// without an NHS App sender, NHS App channels fail at once; without letters, letter channels do.
struct CascadeChannels {
  RoutingPlans& plans;
  DemographicsProvider* demographics = nullptr;
  NhsAppSender* nhs_app = nullptr;
  LetterPreparer* letters = nullptr;
  // The clients' callback receivers: each step's status changes are stored with the callbacks
  // they make (nullptr: no callbacks).
  store::NhsCallbackStore* callbacks = nullptr;
};

// Applies the rules to the messages that are due. Thread-safe if its parts are.
class NhsCascade {
 public:
  NhsCascade(store::NhsCascadeStore& cascade, store::NotificationStore& notifications,
             store::ServiceDirectory& services, CascadeChannels channels, const Clock& clock, CascadeOptions options)
      : cascade_(cascade),
        notifications_(notifications),
        services_(services),
        plans_(channels.plans),
        demographics_(channels.demographics),
        nhs_app_(channels.nhs_app),
        letters_(channels.letters),
        callbacks_(channels.callbacks),
        clock_(clock),
        options_(std::move(options)) {}

  // Claims a batch of due messages and takes each one step on; returns how many were claimed.
  Result<int> run_once();
  // Runs (after a step is saved) when it queued notifications for delivery: `herald serve`
  // wakes the delivery worker with it. Set before use.
  void on_queued(std::function<void()> hook) { on_queued_ = std::move(hook); }

 private:
  // One message one step on, with its client's callback receivers; true when it queued
  // notifications.
  Result<bool> step(store::NhsMessageClaim& claim, std::span<const store::NhsCallbackTarget> targets, Timestamp now);
  Result<bool> save(const store::NhsCascadeStep& step, Timestamp now);
  // Hands an NHS App channel's message to the NHS App: the channel takes its reference, fails,
  // or waits to be tried again (next_step_at).
  void send_nhs_app(store::NhsMessageRecord& message, store::NhsChannelRecord& channel, const RoutingPlan& plan,
                    const CascadeRecipient& recipient, Timestamp now);
  // The plan a message's channels follow: the version it was accepted under, or the override
  // its channels name; nullptr when it has gone.
  Result<PlanPtr> plan_of(const store::NhsMessageRecord& message);
  // The notification that sends the channel, or (kInvalidArgument) why it cannot be sent.
  Result<store::NotificationRecord> notification_for(const store::NhsMessageRecord& message,
                                                     const CascadeRecipient& recipient,
                                                     const store::NhsChannelRecord& channel, const RoutingPlan& plan,
                                                     Timestamp now);
  // The template a channel of a client's plan names, at its pinned version.
  Result<store::TemplateRecord> template_of(ServiceId service, TemplateId id, int version);

  store::NhsCascadeStore& cascade_;
  store::NotificationStore& notifications_;
  store::ServiceDirectory& services_;
  RoutingPlans& plans_;
  DemographicsProvider* demographics_;  // nullptr: none, the request's contact details only
  NhsAppSender* nhs_app_;               // nullptr: the NHS App channel is not configured
  LetterPreparer* letters_;             // nullptr: letters are not configured
  store::NhsCallbackStore* callbacks_;  // nullptr: no callbacks
  const Clock& clock_;
  CascadeOptions options_;
  std::function<void()> on_queued_;
};

}  // namespace herald::domain::nhs
