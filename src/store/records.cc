#include "store/records.h"

#include <algorithm>

namespace herald::store {

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kNormal: return "normal";
    case KeyType::kTeam: return "team";
    case KeyType::kTest: return "test";
  }
  return "normal";
}

std::optional<KeyType> parse_key_type(std::string_view name) {
  if (name == "normal" || name == "live") return KeyType::kNormal;
  if (name == "team") return KeyType::kTeam;
  if (name == "test") return KeyType::kTest;
  return std::nullopt;
}

const char* channel_name(Channel channel) {
  switch (channel) {
    case Channel::kEmail: return "email";
    case Channel::kSms: return "sms";
    case Channel::kLetter: return "letter";
  }
  return "email";
}

std::optional<Channel> parse_channel(std::string_view name) {
  for (Channel channel : kAllChannels) {
    if (name == channel_name(channel)) return channel;
  }
  return std::nullopt;
}

const char* status_name(NotificationStatus status) {
  switch (status) {
    case NotificationStatus::kCreated: return "created";
    case NotificationStatus::kSending: return "sending";
    case NotificationStatus::kPending: return "pending";
    case NotificationStatus::kSent: return "sent";
    case NotificationStatus::kDelivered: return "delivered";
    case NotificationStatus::kPermanentFailure: return "permanent-failure";
    case NotificationStatus::kTemporaryFailure: return "temporary-failure";
    case NotificationStatus::kTechnicalFailure: return "technical-failure";
    case NotificationStatus::kPendingVirusCheck: return "pending-virus-check";
    case NotificationStatus::kVirusScanFailed: return "virus-scan-failed";
    case NotificationStatus::kValidationFailed: return "validation-failed";
    case NotificationStatus::kReturnedLetter: return "returned-letter";
    case NotificationStatus::kCancelled: return "cancelled";
  }
  return "created";
}

std::optional<NotificationStatus> parse_status(std::string_view name) {
  for (NotificationStatus status : kAllStatuses) {
    if (name == status_name(status)) return status;
  }
  return std::nullopt;
}

bool ServiceRecord::has_permission(std::string_view permission) const {
  for (const auto& p : permissions) {
    if (p == permission) return true;
  }
  return false;
}

const char* contact_kind_name(ContactKind kind) {
  switch (kind) {
    case ContactKind::kEmailReplyTo: return "email_reply_to";
    case ContactKind::kSmsSender: return "sms_sender";
    case ContactKind::kLetterContact: return "letter_contact";
  }
  return "sms_sender";
}

std::optional<ContactKind> parse_contact_kind(std::string_view name) {
  if (name == "email_reply_to") return ContactKind::kEmailReplyTo;
  if (name == "sms_sender") return ContactKind::kSmsSender;
  if (name == "letter_contact") return ContactKind::kLetterContact;
  return std::nullopt;
}

double refill(double tokens, Timestamp then, Timestamp now, double per_second, double capacity) {
  const double elapsed = now > then ? std::chrono::duration<double>(now - then).count() : 0.0;
  return std::min(capacity, tokens + elapsed * per_second);
}

const char* callback_kind_name(CallbackKind kind) {
  return kind == CallbackKind::kInboundSms ? "inbound_sms" : "delivery_status";
}

std::string join_permissions(const std::vector<std::string>& permissions) {
  std::string out;
  for (const auto& p : permissions) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::vector<std::string> split_permissions(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

namespace {
constexpr std::pair<NhsMessageStatus, const char*> kNhsMessageStatusNames[] = {
    {NhsMessageStatus::kCreated, "created"},     {NhsMessageStatus::kPendingEnrichment, "pending_enrichment"},
    {NhsMessageStatus::kEnriched, "enriched"},   {NhsMessageStatus::kSending, "sending"},
    {NhsMessageStatus::kDelivered, "delivered"}, {NhsMessageStatus::kFailed, "failed"}};
}  // namespace

const char* nhs_message_status_name(NhsMessageStatus status) {
  for (const auto& [s, name] : kNhsMessageStatusNames) {
    if (s == status) return name;
  }
  return "created";
}

std::optional<NhsMessageStatus> parse_nhs_message_status(std::string_view name) {
  for (const auto& [s, n] : kNhsMessageStatusNames) {
    if (name == n) return s;
  }
  return std::nullopt;
}

namespace {

constexpr std::pair<NhsChannel, const char*> kNhsChannelNames[] = {{NhsChannel::kNhsApp, "nhsapp"},
                                                                   {NhsChannel::kEmail, "email"},
                                                                   {NhsChannel::kSms, "sms"},
                                                                   {NhsChannel::kLetter, "letter"}};
constexpr std::pair<NhsChannelStatus, const char*> kNhsChannelStatusNames[] = {
    {NhsChannelStatus::kCreated, "created"},
    {NhsChannelStatus::kSkipped, "skipped"},
    {NhsChannelStatus::kSending, "sending"},
    {NhsChannelStatus::kDelivered, "delivered"},
    {NhsChannelStatus::kFailed, "failed"}};

template <typename E, std::size_t N>
const char* name_of(const std::pair<E, const char*> (&names)[N], E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names[0].second;
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::pair<E, const char*> (&names)[N], std::string_view name) {
  for (const auto& [v, n] : names) {
    if (name == n) return v;
  }
  return std::nullopt;
}

}  // namespace

constexpr std::pair<NhsCallbackKind, const char*> kNhsCallbackKindNames[] = {{NhsCallbackKind::kMessage, "message"},
                                                                             {NhsCallbackKind::kChannel, "channel"}};
const char* nhs_callback_kind_name(NhsCallbackKind kind) { return name_of(kNhsCallbackKindNames, kind); }
std::optional<NhsCallbackKind> parse_nhs_callback_kind(std::string_view name) {
  return value_of(kNhsCallbackKindNames, name);
}
namespace {
constexpr std::pair<JobStatus, const char*> kJobStatusNames[] = {{JobStatus::kPending, "pending"},
                                                                 {JobStatus::kInProgress, "in-progress"},
                                                                 {JobStatus::kFinished, "finished"},
                                                                 {JobStatus::kCancelled, "cancelled"}};
}  // namespace

const char* job_status_name(JobStatus status) { return name_of(kJobStatusNames, status); }
std::optional<JobStatus> parse_job_status(std::string_view name) { return value_of(kJobStatusNames, name); }
const char* nhs_channel_name(NhsChannel channel) { return name_of(kNhsChannelNames, channel); }
std::optional<NhsChannel> parse_nhs_channel(std::string_view name) { return value_of(kNhsChannelNames, name); }
const char* nhs_channel_status_name(NhsChannelStatus status) { return name_of(kNhsChannelStatusNames, status); }
std::optional<NhsChannelStatus> parse_nhs_channel_status(std::string_view name) {
  return value_of(kNhsChannelStatusNames, name);
}

}  // namespace herald::store
