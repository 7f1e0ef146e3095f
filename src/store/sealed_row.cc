#include "store/sealed_row.h"

#include "core/hex.h"
#include "core/json.h"
#include "crypto/random.h"

namespace herald::store {
namespace {

constexpr std::string_view kNotifications = "notifications";

template <typename IdType>
std::optional<IdType> parse(const std::string& text) {
  return IdType::parse(text);
}

}  // namespace

std::optional<Timestamp> optional_time(std::optional<std::int64_t> micros) {
  if (!micros) return std::nullopt;
  return from_micros(*micros);
}

std::optional<std::int64_t> optional_micros(std::optional<Timestamp> t) {
  if (!t) return std::nullopt;
  return to_micros(*t);
}

std::optional<std::string> optional_id_text(const std::optional<Uuid>& id) {
  if (!id) return std::nullopt;
  return id->to_string();
}

std::optional<Uuid> optional_id(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return Uuid::parse(*text);
}

Result<std::string> reference_index(const crypto::FieldCipher& cipher, ServiceId service, std::string_view reference,
                                    Timestamp now) {
  return cipher.blind_index(service.to_string() + "/reference", reference, now);
}

Result<std::optional<SealedReference>> seal_legacy_reference(const crypto::FieldCipher& cipher, std::string_view id,
                                                             std::string_view service, std::string_view reference,
                                                             std::string_view recipient_envelope, Timestamp now) {
  // Envelope bytes 1..4: the big-endian id of the data key that sealed it (docs/formats/ciphertext.md).
  std::uint32_t key_id = 0;
  if (cipher.mode() == crypto::FieldCipher::Mode::kEncrypt) {
    if (recipient_envelope.size() < 5) return std::optional<SealedReference>();  // redacted
    for (std::size_t i = 1; i < 5; ++i) key_id = (key_id << 8) | static_cast<unsigned char>(recipient_envelope[i]);
  }
  auto envelope = cipher.seal(reference, {kNotifications, "reference", id}, key_id);
  if (!envelope) {
    if (envelope.error().code == ErrorCode::kNotFound) return std::optional<SealedReference>();
    return envelope.error();
  }
  auto parsed = ServiceId::parse(std::string(service));
  if (!parsed) return data_loss("malformed service id in notifications row");
  auto index = reference_index(cipher, *parsed, reference, now);
  if (!index) return index.error();
  return std::optional<SealedReference>(SealedReference{std::move(*envelope), std::move(*index)});
}

Result<SealedNotification> seal_notification(const crypto::FieldCipher& cipher, const NotificationRecord& r) {
  SealedNotification row;
  row.id = r.id.to_string();
  row.service = r.service.to_string();
  // One data key per service and day (crypto/data_keys.h); made on the day's first send.
  auto key_id = cipher.keys().key_for_notification(row.service, r.created_at);
  if (!key_id) return key_id.error();
  auto seal = [&](std::string_view value, std::string_view column, std::string& into) -> Result<void> {
    auto sealed = cipher.seal(value, {kNotifications, column, row.id}, *key_id);
    if (!sealed) return sealed.error();
    into = std::move(*sealed);
    return ok();
  };
  HERALD_TRY(seal(r.recipient, "recipient", row.recipient));
  if (r.reference) {
    std::string sealed;
    HERALD_TRY(seal(*r.reference, "reference", sealed));
    row.reference = std::move(sealed);
    auto index = reference_index(cipher, r.service, *r.reference, r.created_at);
    if (!index) return index.error();
    row.reference_index = std::move(*index);
  }
  HERALD_TRY(seal(r.personalisation_json, "personalisation", row.personalisation));
  HERALD_TRY(seal(r.subject, "subject", row.subject));
  HERALD_TRY(seal(r.body, "body", row.body));
  if (r.one_click_unsubscribe_url) {
    std::string sealed;
    HERALD_TRY(seal(*r.one_click_unsubscribe_url, "one_click_unsubscribe_url", sealed));
    row.unsubscribe = std::move(sealed);
  }
  if (!r.recipient_normalised.empty()) {
    auto index = cipher.blind_index(row.service, r.recipient_normalised, r.created_at);
    if (!index) return index.error();
    row.recipient_index = std::move(*index);
  }
  row.api_key = r.api_key.to_string();
  row.key_type = key_type_name(r.key_type);
  row.template_id = r.template_id.to_string();
  row.template_version = r.template_version;
  row.type = channel_name(r.type);
  row.status = status_name(r.status);
  row.created_at = to_micros(r.created_at);
  row.sent_at = optional_micros(r.sent_at);
  row.updated_at = optional_micros(r.updated_at);
  row.attempts = r.attempts;
  if (!r.sender.empty()) row.sender = r.sender;
  row.sent_by = r.sent_by;
  row.postage = r.postage;
  row.billable_units = r.billable_units;
  row.rate_multiplier = r.rate_multiplier;
  if (r.queued) row.due_at = row.created_at;
  return row;
}

Result<NotificationRecord> open_notification(const crypto::FieldCipher& cipher, const SealedNotification& row) {
  NotificationRecord r;
  auto nid = parse<NotificationId>(row.id);
  auto sid = parse<ServiceId>(row.service);
  auto kid = parse<ApiKeyId>(row.api_key);
  auto tid = parse<TemplateId>(row.template_id);
  if (!nid || !sid || !kid || !tid) return data_loss("malformed id in notifications row");
  r.id = *nid;
  r.service = *sid;
  r.api_key = *kid;
  r.key_type = parse_key_type(row.key_type).value_or(KeyType::kNormal);
  r.template_id = *tid;
  r.template_version = static_cast<int>(row.template_version);
  auto type = parse_channel(row.type);
  auto status = parse_status(row.status);
  if (!type || !status) return data_loss("unknown notification type or status in notifications row " + row.id);
  r.type = *type;
  r.status = *status;
  if (row.reference) {
    auto plain = cipher.open(*row.reference, {kNotifications, "reference", row.id});
    if (!plain) return plain.error();
    r.reference = std::move(*plain);
  }
  const std::pair<std::string*, const std::string*> personal[] = {
      {&r.recipient, &row.recipient}, {&r.personalisation_json, &row.personalisation},
      {&r.subject, &row.subject}, {&r.body, &row.body}};
  const char* const columns[] = {"recipient", "personalisation", "subject", "body"};
  for (std::size_t i = 0; i < 4; ++i) {
    auto plain = cipher.open(*personal[i].second, {kNotifications, columns[i], row.id});
    if (!plain) return plain.error();
    *personal[i].first = std::move(*plain);
  }
  if (row.unsubscribe) {
    auto plain = cipher.open(*row.unsubscribe, {kNotifications, "one_click_unsubscribe_url", row.id});
    if (!plain) return plain.error();
    r.one_click_unsubscribe_url = std::move(*plain);
  }
  r.created_at = from_micros(row.created_at);
  r.sent_at = optional_time(row.sent_at);
  r.updated_at = optional_time(row.updated_at);
  r.attempts = static_cast<int>(row.attempts);
  r.sender = row.sender.value_or("");
  r.sent_by = row.sent_by;
  r.postage = row.postage;
  r.billable_units = static_cast<int>(row.billable_units);
  r.rate_multiplier = static_cast<int>(row.rate_multiplier);
  r.callback_attempts = static_cast<int>(row.callback_attempts);
  return r;
}

Result<std::string> seal_letter_pdf(const crypto::FieldCipher& cipher, ServiceId service, NotificationId id,
                                     Timestamp created_at, std::string_view pdf) {
  auto key_id = cipher.keys().key_for_notification(service.to_string(), created_at);
  if (!key_id) return key_id.error();
  return cipher.seal(pdf, {"letter_pdfs", "pdf", id.to_string()}, *key_id);
}

Result<std::optional<std::string>> open_letter_pdf(const crypto::FieldCipher& cipher, std::string_view envelope,
                                                   NotificationId id) {
  auto plain = cipher.open(envelope, {"letter_pdfs", "pdf", id.to_string()});
  if (!plain) {
    if (plain.error().code == ErrorCode::kNotFound) return std::optional<std::string>{};
    return plain.error();
  }
  return std::optional<std::string>(std::move(*plain));
}

Result<SealedDocument> seal_document(const crypto::FieldCipher& cipher, const DocumentRecord& d) {
  SealedDocument row;
  row.id = d.id.to_string();
  row.service = d.service.to_string();
  auto key_id = cipher.keys().key_for_scope(crypto::document_scope(row.service, d.expires_at), d.created_at);
  if (!key_id) return key_id.error();
  auto content = cipher.seal(d.content, {"documents", "content", row.id}, *key_id);
  if (!content) return content.error();
  row.content = std::move(*content);
  if (d.filename) {
    auto filename = cipher.seal(*d.filename, {"documents", "filename", row.id}, *key_id);
    if (!filename) return filename.error();
    row.filename = std::move(*filename);
  }
  row.mime_type = d.mime_type;
  row.key_hash = d.key_hash;
  if (!d.confirm_email_hash.empty()) row.confirm_email_hash = d.confirm_email_hash;
  row.created_at = to_micros(d.created_at);
  row.expires_at = to_micros(d.expires_at);
  row.failed_confirmations = d.failed_confirmations;
  return row;
}

Result<DocumentRecord> open_document(const crypto::FieldCipher& cipher, const SealedDocument& row) {
  DocumentRecord d;
  auto id = Uuid::parse(row.id);
  auto service = ServiceId::parse(row.service);
  if (!id || !service) return data_loss("malformed id in documents row");
  d.id = *id;
  d.service = *service;
  auto content = cipher.open(row.content, {"documents", "content", row.id});
  if (!content) return content.error();
  d.content = std::move(*content);
  if (row.filename) {
    auto filename = cipher.open(*row.filename, {"documents", "filename", row.id});
    if (!filename) return filename.error();
    d.filename = std::move(*filename);
  }
  d.mime_type = row.mime_type;
  d.key_hash = row.key_hash;
  d.confirm_email_hash = row.confirm_email_hash.value_or("");
  d.created_at = from_micros(row.created_at);
  d.expires_at = from_micros(row.expires_at);
  d.failed_confirmations = static_cast<int>(row.failed_confirmations);
  return d;
}

Result<std::string> seal_api_key_secret(const crypto::FieldCipher& cipher, const ApiKeyRecord& key) {
  const std::string id = key.id.to_string();
  auto key_id = cipher.keys().key_for_scope(crypto::kSecretsScope, key.created_at);
  if (!key_id) return key_id.error();
  return cipher.seal(key.secret, {"api_keys", "secret", id}, *key_id);
}

Result<std::string> open_api_key_secret(const crypto::FieldCipher& cipher, std::string_view envelope,
                                        std::string_view key_id) {
  return cipher.open(envelope, {"api_keys", "secret", key_id});
}

Result<SealedInboundSms> seal_inbound_sms(const crypto::FieldCipher& cipher, const InboundSms& sms) {
  SealedInboundSms row;
  row.id = sms.id.to_string();
  row.service = sms.service.to_string();
  auto key_id = cipher.keys().key_for_notification(row.service, sms.created_at);
  if (!key_id) return key_id.error();
  auto number = cipher.seal(sms.user_number, {"inbound_sms", "user_number", row.id}, *key_id);
  if (!number) return number.error();
  auto content = cipher.seal(sms.content, {"inbound_sms", "content", row.id}, *key_id);
  if (!content) return content.error();
  row.user_number = std::move(*number);
  row.content = std::move(*content);
  if (!sms.user_number_normalised.empty()) {
    auto index = cipher.blind_index(row.service, sms.user_number_normalised, sms.created_at);
    if (!index) return index.error();
    row.user_number_index = std::move(*index);
  }
  row.notify_number = sms.notify_number;
  row.provider = sms.provider;
  row.provider_reference = sms.provider_reference;
  row.received_at = to_micros(sms.received_at);
  row.created_at = to_micros(sms.created_at);
  row.callback_attempts = sms.callback_attempts;
  return row;
}

Result<InboundSms> open_inbound_sms(const crypto::FieldCipher& cipher, const SealedInboundSms& row) {
  InboundSms sms;
  auto id = Uuid::parse(row.id);
  auto service = ServiceId::parse(row.service);
  if (!id || !service) return data_loss("malformed id in database");
  auto number = cipher.open(row.user_number, {"inbound_sms", "user_number", row.id});
  if (!number) return number.error();
  auto content = cipher.open(row.content, {"inbound_sms", "content", row.id});
  if (!content) return content.error();
  sms.id = *id;
  sms.service = *service;
  sms.user_number = std::move(*number);
  sms.content = std::move(*content);
  sms.notify_number = row.notify_number;
  sms.provider = row.provider;
  sms.provider_reference = row.provider_reference;
  sms.received_at = from_micros(row.received_at);
  sms.created_at = from_micros(row.created_at);
  sms.callback_attempts = static_cast<int>(row.callback_attempts);
  return sms;
}

Result<std::string> seal_callback_field(const crypto::FieldCipher& cipher, ServiceId service, CallbackKind kind,
                                        std::string_view column, std::string_view value, Timestamp now) {
  const std::string row = service.to_string() + "/" + callback_kind_name(kind);
  auto key_id = cipher.keys().key_for_scope(crypto::kSecretsScope, now);
  if (!key_id) return key_id.error();
  return cipher.seal(value, {"service_callbacks", column, row}, *key_id);
}

Result<std::string> open_callback_field(const crypto::FieldCipher& cipher, ServiceId service, CallbackKind kind,
                                        std::string_view column, std::string_view envelope) {
  const std::string row = service.to_string() + "/" + callback_kind_name(kind);
  return cipher.open(envelope, {"service_callbacks", column, row});
}

std::string encode_audit_objects(const std::vector<std::pair<std::string, std::string>>& objects) {
  json::Writer w;
  w.begin_array();
  for (const auto& [name, value] : objects) w.begin_array().string(name).string(value).end_array();
  w.end_array();
  return w.take();
}

Result<std::vector<std::pair<std::string, std::string>>> decode_audit_objects(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_array()) return data_loss("audit entry objects are malformed");
  std::vector<std::pair<std::string, std::string>> out;
  for (const json::Value& pair : parsed->as_array()) {
    if (!pair.is_array() || pair.as_array().size() != 2 || !pair.as_array()[0].is_string() ||
        !pair.as_array()[1].is_string()) {
      return data_loss("audit entry objects are malformed");
    }
    out.emplace_back(pair.as_array()[0].as_string(), pair.as_array()[1].as_string());
  }
  return out;
}

Result<std::string> nhs_reference_index(const crypto::FieldCipher& cipher, Uuid client, std::string_view reference,
                                        Timestamp now) {
  return cipher.blind_index(client.to_string() + "/nhs-message-reference", reference, now);
}

namespace {
constexpr std::string_view kNhsMessages = "nhs_messages";
}  // namespace

Result<std::string> nhs_number_index(const crypto::FieldCipher& cipher, ServiceId service, std::string_view nhs_number,
                                     Timestamp now) {
  return cipher.blind_index(service.to_string() + "/nhs-number", nhs_number, now);
}

Result<std::optional<std::string>> index_sealed_nhs_number(const crypto::FieldCipher& cipher, std::string_view id,
                                                           std::string_view service, std::string_view envelope,
                                                           Timestamp now) {
  auto parsed = ServiceId::parse(std::string(service));
  if (!parsed) return data_loss("malformed service id in nhs_messages row");
  auto number = cipher.open(envelope, {kNhsMessages, "nhs_number", id});
  if (!number) {
    if (number.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
    return number.error();
  }
  auto index = nhs_number_index(cipher, *parsed, *number, now);
  if (!index) return index.error();
  return std::optional<std::string>(std::move(*index));
}

Result<SealedNhsMessage> seal_nhs_message(const crypto::FieldCipher& cipher, const NhsMessageRecord& m) {
  SealedNhsMessage row;
  row.id = m.id;
  row.client = m.client.to_string();
  row.service = m.service.to_string();
  auto key_id = cipher.keys().key_for_notification(row.service, m.created_at);
  if (!key_id) return key_id.error();
  auto seal = [&](std::string_view value, std::string_view column) -> Result<std::string> {
    return cipher.seal(value, {kNhsMessages, column, row.id}, *key_id);
  };
  auto seal_optional = [&](const std::optional<std::string>& value,
                           std::string_view column) -> Result<std::optional<std::string>> {
    if (!value) return std::optional<std::string>();
    auto sealed = seal(*value, column);
    if (!sealed) return sealed.error();
    return std::optional<std::string>(std::move(*sealed));
  };
  auto reference = seal(m.message_reference, "reference");
  if (!reference) return reference.error();
  row.reference = std::move(*reference);
  if (!m.batch_id) {
    auto index = nhs_reference_index(cipher, m.client, m.message_reference, m.created_at);
    if (!index) return index.error();
    row.reference_index = std::move(*index);
  }
  auto billing = seal_optional(m.billing_reference, "billing_reference");
  if (!billing) return billing.error();
  row.billing_reference = std::move(*billing);
  auto nhs_number = seal_optional(m.nhs_number, "nhs_number");
  if (!nhs_number) return nhs_number.error();
  row.nhs_number = std::move(*nhs_number);
  if (m.nhs_number) {
    auto index = nhs_number_index(cipher, m.service, *m.nhs_number, m.created_at);
    if (!index) return index.error();
    row.nhs_number_index = std::move(*index);
  }
  auto personalisation = seal(m.personalisation_json, "personalisation");
  if (!personalisation) return personalisation.error();
  row.personalisation = std::move(*personalisation);
  auto contact = seal_optional(m.contact_details_json, "contact_details");
  if (!contact) return contact.error();
  row.contact_details = std::move(*contact);
  auto recipient = seal_optional(m.recipient_json, "recipient");
  if (!recipient) return recipient.error();
  row.recipient = std::move(*recipient);
  row.channels = encode_nhs_channels(m.channels);
  row.demographics_version = m.demographics_version;
  row.next_step_at = optional_micros(m.next_step_at);
  row.batch_id = m.batch_id;
  row.routing_plan_id = m.routing_plan_id.to_string();
  row.routing_plan_version = m.routing_plan_version;
  row.ods_code = m.ods_code;
  row.status = nhs_message_status_name(m.status);
  row.status_description = m.status_description;
  row.failure_reason_code = m.failure_reason_code;
  row.created_at = to_micros(m.created_at);
  row.enriched_at = optional_micros(m.enriched_at);
  row.delivered_at = optional_micros(m.delivered_at);
  row.failed_at = optional_micros(m.failed_at);
  return row;
}

Result<NhsMessageRecord> open_nhs_message(const crypto::FieldCipher& cipher, const SealedNhsMessage& row) {
  NhsMessageRecord m;
  auto client = Uuid::parse(row.client);
  auto service = ServiceId::parse(row.service);
  auto plan = Uuid::parse(row.routing_plan_id);
  auto status = parse_nhs_message_status(row.status);
  if (!client || !service || !plan || !status) return data_loss("malformed nhs_messages row");
  auto open = [&](std::string_view envelope, std::string_view column) {
    return cipher.open(envelope, {kNhsMessages, column, row.id});
  };
  auto open_optional = [&](const std::optional<std::string>& envelope,
                           std::string_view column) -> Result<std::optional<std::string>> {
    if (!envelope) return std::optional<std::string>();
    auto opened = open(*envelope, column);
    if (!opened) return opened.error();
    return std::optional<std::string>(std::move(*opened));
  };
  auto reference = open(row.reference, "reference");
  if (!reference) return reference.error();
  auto billing = open_optional(row.billing_reference, "billing_reference");
  if (!billing) return billing.error();
  auto nhs_number = open_optional(row.nhs_number, "nhs_number");
  if (!nhs_number) return nhs_number.error();
  auto personalisation = open(row.personalisation, "personalisation");
  if (!personalisation) return personalisation.error();
  auto contact = open_optional(row.contact_details, "contact_details");
  if (!contact) return contact.error();
  auto recipient = open_optional(row.recipient, "recipient");
  if (!recipient) return recipient.error();
  auto channels = decode_nhs_channels(row.channels);
  if (!channels) return channels.error();
  m.recipient_json = std::move(*recipient);
  m.channels = std::move(*channels);
  m.demographics_version = row.demographics_version;
  m.next_step_at = optional_time(row.next_step_at);
  m.id = row.id;
  m.client = *client;
  m.service = *service;
  m.batch_id = row.batch_id;
  m.message_reference = std::move(*reference);
  m.billing_reference = std::move(*billing);
  m.routing_plan_id = *plan;
  m.routing_plan_version = row.routing_plan_version;
  m.nhs_number = std::move(*nhs_number);
  m.ods_code = row.ods_code;
  m.personalisation_json = std::move(*personalisation);
  m.contact_details_json = std::move(*contact);
  m.status = *status;
  m.status_description = row.status_description;
  m.failure_reason_code = row.failure_reason_code;
  m.created_at = from_micros(row.created_at);
  m.enriched_at = optional_time(row.enriched_at);
  m.delivered_at = optional_time(row.delivered_at);
  m.failed_at = optional_time(row.failed_at);
  return m;
}

Result<SealedNhsBatch> seal_nhs_batch(const crypto::FieldCipher& cipher, const NhsBatchRecord& batch) {
  SealedNhsBatch row;
  row.id = batch.id;
  row.client = batch.client.to_string();
  row.service = batch.service.to_string();
  auto key_id = cipher.keys().key_for_notification(row.service, batch.created_at);
  if (!key_id) return key_id.error();
  auto reference = cipher.seal(batch.reference, {"nhs_message_batches", "reference", row.id}, *key_id);
  if (!reference) return reference.error();
  row.reference = std::move(*reference);
  auto index = cipher.blind_index(row.client + "/nhs-batch-reference", batch.reference, batch.created_at);
  if (!index) return index.error();
  row.reference_index = std::move(*index);
  row.routing_plan_id = batch.routing_plan_id.to_string();
  row.routing_plan_version = batch.routing_plan_version;
  row.created_at = to_micros(batch.created_at);
  return row;
}

namespace {

void optional_time_member(json::Writer& w, std::string_view key, const std::optional<Timestamp>& t) {
  if (t) w.key(key).integer(to_micros(*t));
}

std::optional<Timestamp> time_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  auto micros = v->as_int64();
  if (!micros) return std::nullopt;
  return from_micros(*micros);
}

std::optional<std::string> string_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

}  // namespace

std::string encode_nhs_channels(const std::vector<NhsChannelRecord>& channels) {
  json::Writer w;
  w.begin_array();
  for (const NhsChannelRecord& c : channels) {
    w.begin_object()
        .key("type")
        .string(nhs_channel_name(c.type))
        .key("primary")
        .boolean(c.primary)
        .key("order")
        .integer(c.order)
        .key("status")
        .string(nhs_channel_status_name(c.status))
        .key("retry_count")
        .integer(c.retry_count)
        .key("created_at")
        .integer(to_micros(c.created_at));
    if (c.status_description) w.key("status_description").string(*c.status_description);
    if (c.failure_reason_code) w.key("failure_reason_code").string(*c.failure_reason_code);
    if (c.supplier_status) w.key("supplier_status").string(*c.supplier_status);
    optional_time_member(w, "started_at", c.started_at);
    optional_time_member(w, "deadline_at", c.deadline_at);
    optional_time_member(w, "delivered_at", c.delivered_at);
    optional_time_member(w, "failed_at", c.failed_at);
    if (c.notification_id) w.key("notification_id").string(c.notification_id->to_string());
    if (c.supplier_reference) w.key("supplier_reference").string(*c.supplier_reference);
    if (c.override_plan_id) w.key("override_plan_id").string(c.override_plan_id->to_string());
    if (c.override_plan_version) w.key("override_plan_version").string(*c.override_plan_version);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

Result<std::vector<NhsChannelRecord>> decode_nhs_channels(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_array()) return data_loss("nhs_messages channels are malformed");
  std::vector<NhsChannelRecord> out;
  for (const json::Value& item : parsed->as_array()) {
    if (!item.is_object()) return data_loss("nhs_messages channel is malformed");
    NhsChannelRecord c;
    auto type = parse_nhs_channel(string_member(item, "type").value_or(""));
    auto status = parse_nhs_channel_status(string_member(item, "status").value_or(""));
    auto created = time_member(item, "created_at");
    const json::Value* primary = item.find("primary");
    const json::Value* order = item.find("order");
    const json::Value* retries = item.find("retry_count");
    if (!type || !status || !created || primary == nullptr || !primary->is_bool() || order == nullptr ||
        !order->is_number() || retries == nullptr || !retries->is_number()) {
      return data_loss("nhs_messages channel is malformed");
    }
    c.type = *type;
    c.status = *status;
    c.created_at = *created;
    c.primary = primary->as_bool();
    c.order = static_cast<int>(order->as_int64().value_or(1));
    c.retry_count = static_cast<int>(retries->as_int64().value_or(0));
    c.status_description = string_member(item, "status_description");
    c.failure_reason_code = string_member(item, "failure_reason_code");
    c.supplier_status = string_member(item, "supplier_status");
    c.supplier_reference = string_member(item, "supplier_reference");
    if (auto plan = string_member(item, "override_plan_id")) {
      c.override_plan_id = Uuid::parse(*plan);
      if (!c.override_plan_id) return data_loss("nhs_messages channel is malformed");
    }
    c.override_plan_version = string_member(item, "override_plan_version");
    c.started_at = time_member(item, "started_at");
    c.deadline_at = time_member(item, "deadline_at");
    c.delivered_at = time_member(item, "delivered_at");
    c.failed_at = time_member(item, "failed_at");
    if (auto id = string_member(item, "notification_id")) {
      auto parsed_id = NotificationId::parse(*id);
      if (!parsed_id) return data_loss("nhs_messages channel is malformed");
      c.notification_id = *parsed_id;
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {
constexpr std::string_view kDemographicsScope = "demographics";
}  // namespace

Result<std::string> demographics_index(const crypto::FieldCipher& cipher, std::string_view nhs_number, Timestamp now) {
  return cipher.blind_index("demographics/nhs-number", nhs_number, now);
}

Result<SealedDemographics> seal_demographics(const crypto::FieldCipher& cipher, const DemographicsRow& row) {
  SealedDemographics sealed;
  auto index = demographics_index(cipher, row.nhs_number, row.updated_at);
  if (!index) return index.error();
  sealed.nhs_number_index = std::move(*index);
  auto key_id = cipher.keys().key_for_scope(kDemographicsScope, row.updated_at);
  if (!key_id) return key_id.error();
  auto record = cipher.seal(row.record_json, {"demographics", "record", hex_encode(sealed.nhs_number_index)}, *key_id);
  if (!record) return record.error();
  sealed.record = std::move(*record);
  sealed.updated_at = to_micros(row.updated_at);
  return sealed;
}

Result<DemographicsRow> open_demographics(const crypto::FieldCipher& cipher, const SealedDemographics& row,
                                          std::string_view nhs_number) {
  auto record = cipher.open(row.record, {"demographics", "record", hex_encode(row.nhs_number_index)});
  if (!record) return record.error();
  return DemographicsRow{std::string(nhs_number), std::move(*record), from_micros(row.updated_at)};
}

}  // namespace herald::store

namespace herald::store {
namespace {

constexpr std::string_view kNhsCallbackTargets = "nhs_callback_targets";
constexpr std::string_view kNhsCallbacks = "nhs_callbacks";

std::string encode_strings(const std::vector<std::string>& values) {
  json::Writer w;
  w.begin_array();
  for (const std::string& v : values) w.string(v);
  w.end_array();
  return w.take();
}

Result<std::vector<std::string>> decode_strings(std::string_view text) {
  auto parsed = json::parse(text);
  if (!parsed || !parsed->is_array()) return data_loss("nhs_callback_targets statuses are malformed");
  std::vector<std::string> out;
  for (const json::Value& v : parsed->as_array()) {
    if (!v.is_string()) return data_loss("nhs_callback_targets statuses are malformed");
    out.push_back(v.as_string());
  }
  return out;
}

}  // namespace

Result<SealedNhsCallbackTarget> seal_nhs_callback_target(const crypto::FieldCipher& cipher,
                                                         const NhsCallbackTarget& t) {
  SealedNhsCallbackTarget row;
  row.id = t.id.to_string();
  auto key_id = cipher.keys().key_for_scope(crypto::kSecretsScope, t.created_at);
  if (!key_id) return key_id.error();
  auto api_key = cipher.seal(t.api_key, {kNhsCallbackTargets, "api_key", row.id}, *key_id);
  if (!api_key) return api_key.error();
  row.api_key = std::move(*api_key);
  row.client = t.client.to_string();
  row.kind = nhs_callback_kind_name(t.kind);
  row.url = t.url;
  row.statuses = encode_strings(t.statuses);
  row.supplier_statuses = encode_strings(t.supplier_statuses);
  row.api_key_header = t.api_key_header;
  row.client_certificate_file = t.client_certificate_file;
  row.client_key_file = t.client_key_file;
  row.pinned_key_sha256 = t.pinned_key_sha256;
  row.rate_per_second = t.rate_per_second;
  row.retry_window_seconds = t.retry_window_seconds;
  row.created_at = to_micros(t.created_at);
  return row;
}

Result<NhsCallbackTarget> open_nhs_callback_target(const crypto::FieldCipher& cipher,
                                                   const SealedNhsCallbackTarget& row) {
  NhsCallbackTarget t;
  auto id = Uuid::parse(row.id);
  auto client = Uuid::parse(row.client);
  auto kind = parse_nhs_callback_kind(row.kind);
  if (!id || !client || !kind) return data_loss("malformed nhs_callback_targets row");
  auto statuses = decode_strings(row.statuses);
  if (!statuses) return statuses.error();
  auto supplier_statuses = decode_strings(row.supplier_statuses);
  if (!supplier_statuses) return supplier_statuses.error();
  auto api_key = cipher.open(row.api_key, {kNhsCallbackTargets, "api_key", row.id});
  if (!api_key) return api_key.error();
  t.id = *id;
  t.client = *client;
  t.kind = *kind;
  t.url = row.url;
  t.statuses = std::move(*statuses);
  t.supplier_statuses = std::move(*supplier_statuses);
  t.api_key_header = row.api_key_header;
  t.api_key = std::move(*api_key);
  t.client_certificate_file = row.client_certificate_file;
  t.client_key_file = row.client_key_file;
  t.pinned_key_sha256 = row.pinned_key_sha256;
  t.rate_per_second = static_cast<int>(row.rate_per_second);
  t.retry_window_seconds = static_cast<int>(row.retry_window_seconds);
  t.created_at = from_micros(row.created_at);
  return t;
}

const char* nhs_callback_state_name(NhsCallbackState state) {
  return state == NhsCallbackState::kDead ? "dead" : "pending";
}

Result<SealedNhsCallback> seal_nhs_callback(const crypto::FieldCipher& cipher, const NhsCallbackRecord& c) {
  SealedNhsCallback row;
  row.id = c.id;
  row.target = c.target.to_string();
  row.client = c.client.to_string();
  row.service = c.service.to_string();
  row.message_id = c.message_id;
  row.seal_id = crypto::random_uuid().to_string();
  auto key_id = cipher.keys().key_for_notification(row.service, c.created_at);
  if (!key_id) return key_id.error();
  auto body = cipher.seal(c.body, {kNhsCallbacks, "body", row.seal_id}, *key_id);
  if (!body) return body.error();
  row.body = std::move(*body);
  row.state = nhs_callback_state_name(c.state);
  row.attempts = c.attempts;
  row.created_at = to_micros(c.created_at);
  row.next_attempt_at = to_micros(c.next_attempt_at);
  row.first_attempt_at = optional_micros(c.first_attempt_at);
  row.last_error = c.last_error;
  return row;
}

Result<NhsCallbackRecord> open_nhs_callback(const crypto::FieldCipher& cipher, const SealedNhsCallback& row) {
  NhsCallbackRecord c;
  auto target = Uuid::parse(row.target);
  auto client = Uuid::parse(row.client);
  auto service = ServiceId::parse(row.service);
  if (!target || !client || !service || (row.state != "pending" && row.state != "dead")) {
    return data_loss("malformed nhs_callbacks row " + std::to_string(row.id));
  }
  auto body = cipher.open(row.body, {kNhsCallbacks, "body", row.seal_id});
  if (!body) return body.error();
  c.id = row.id;
  c.target = *target;
  c.client = *client;
  c.service = *service;
  c.message_id = row.message_id;
  c.body = std::move(*body);
  c.state = row.state == "dead" ? NhsCallbackState::kDead : NhsCallbackState::kPending;
  c.attempts = static_cast<int>(row.attempts);
  c.created_at = from_micros(row.created_at);
  c.next_attempt_at = from_micros(row.next_attempt_at);
  c.first_attempt_at = optional_time(row.first_attempt_at);
  c.last_error = row.last_error;
  return c;
}

}  // namespace herald::store

namespace herald::store {
namespace {
constexpr std::string_view kAdminUsers = "admin_users";
}  // namespace

Result<std::string> admin_email_index(const crypto::FieldCipher& cipher, std::string_view email, Timestamp now) {
  return cipher.blind_index("admin-users", email, now);
}

Result<SealedAdminUser> seal_admin_user(const crypto::FieldCipher& cipher, const AdminUserRecord& user) {
  SealedAdminUser row;
  row.id = user.id.to_string();
  auto key_id = cipher.keys().key_for_scope(crypto::kSecretsScope, user.created_at);
  if (!key_id) return key_id.error();
  auto email = cipher.seal(user.email, {kAdminUsers, "email", row.id}, *key_id);
  if (!email) return email.error();
  auto index = admin_email_index(cipher, user.email, user.created_at);
  if (!index) return index.error();
  auto name = cipher.seal(user.name, {kAdminUsers, "name", row.id}, *key_id);
  if (!name) return name.error();
  if (!user.totp_secret.empty()) {
    auto secret = cipher.seal(user.totp_secret, {kAdminUsers, "totp_secret", row.id}, *key_id);
    if (!secret) return secret.error();
    row.totp_secret = std::move(*secret);
  }
  row.email = std::move(*email);
  row.email_index = std::move(*index);
  row.name = std::move(*name);
  row.platform_admin = user.platform_admin ? 1 : 0;
  row.password_hash = user.password_hash;
  row.totp_last_step = user.totp_last_step;
  row.failed_sign_ins = user.failed_sign_ins;
  row.locked_until = optional_micros(user.locked_until);
  row.enrolled_at = optional_micros(user.enrolled_at);
  row.disabled_at = optional_micros(user.disabled_at);
  row.created_at = to_micros(user.created_at);
  return row;
}

Result<AdminUserRecord> open_admin_user(const crypto::FieldCipher& cipher, const SealedAdminUser& row) {
  AdminUserRecord user;
  auto id = Uuid::parse(row.id);
  if (!id) return data_loss("malformed id in admin_users row");
  auto email = cipher.open(row.email, {kAdminUsers, "email", row.id});
  if (!email) return email.error();
  auto name = cipher.open(row.name, {kAdminUsers, "name", row.id});
  if (!name) return name.error();
  if (row.totp_secret) {
    auto secret = cipher.open(*row.totp_secret, {kAdminUsers, "totp_secret", row.id});
    if (!secret) return secret.error();
    user.totp_secret = std::move(*secret);
  }
  user.id = *id;
  user.email = std::move(*email);
  user.name = std::move(*name);
  user.platform_admin = row.platform_admin != 0;
  user.password_hash = row.password_hash;
  user.totp_last_step = row.totp_last_step;
  user.failed_sign_ins = static_cast<int>(row.failed_sign_ins);
  user.locked_until = optional_time(row.locked_until);
  user.enrolled_at = optional_time(row.enrolled_at);
  user.disabled_at = optional_time(row.disabled_at);
  user.created_at = from_micros(row.created_at);
  return user;
}

namespace {
constexpr std::string_view kJobs = "jobs";
}  // namespace

Result<SealedJob> seal_job(const crypto::FieldCipher& cipher, const JobRecord& job) {
  SealedJob row;
  row.id = job.id.to_string();
  row.service = job.service.to_string();
  // The day's key of the service, as its notifications': retention shreds the file with them.
  auto key_id = cipher.keys().key_for_notification(row.service, job.created_at);
  if (!key_id) return key_id.error();
  auto file_name = cipher.seal(job.file_name, {kJobs, "file_name", row.id}, *key_id);
  if (!file_name) return file_name.error();
  auto contents = seal_job_contents(cipher, job.service, job.id, job.created_at, job.contents);
  if (!contents) return contents.error();
  row.file_name = std::move(*file_name);
  row.contents = std::move(*contents);
  row.template_id = job.template_id.to_string();
  row.template_version = job.template_version;
  row.type = channel_name(job.type);
  row.row_count = job.row_count;
  row.next_row = job.next_row;
  row.status = job_status_name(job.status);
  row.created_by = job.created_by.to_string();
  row.created_at = to_micros(job.created_at);
  row.started_at = optional_micros(job.started_at);
  row.finished_at = optional_micros(job.finished_at);
  return row;
}

Result<std::string> seal_job_contents(const crypto::FieldCipher& cipher, ServiceId service, Uuid id,
                                      Timestamp created_at, std::string_view contents) {
  auto key_id = cipher.keys().key_for_notification(service.to_string(), created_at);
  if (!key_id) return key_id.error();
  return cipher.seal(contents, {kJobs, "contents", id.to_string()}, *key_id);
}

Result<std::optional<std::string>> reseal_job_contents(const crypto::FieldCipher& cipher, ServiceId service, Uuid id,
                                                       Timestamp created_at, std::string_view envelope,
                                                       std::string_view replacement) {
  auto stored = cipher.open(envelope, {kJobs, "contents", id.to_string()});
  if (!stored && stored.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
  if (!stored) return stored.error();
  if (*stored == replacement) return std::optional<std::string>();
  auto sealed = seal_job_contents(cipher, service, id, created_at, replacement);
  if (!sealed) return sealed.error();
  return std::optional<std::string>(std::move(*sealed));
}

Result<JobRecord> open_job(const crypto::FieldCipher& cipher, const SealedJob& row) {
  JobRecord job;
  auto id = Uuid::parse(row.id);
  auto service = parse<ServiceId>(row.service);
  auto template_id = parse<TemplateId>(row.template_id);
  auto created_by = Uuid::parse(row.created_by);
  if (!id || !service || !template_id || !created_by) return data_loss("malformed id in jobs row");
  const auto type = parse_channel(row.type);
  const auto status = parse_job_status(row.status);
  if (!type || !status) return data_loss("unknown type or status in jobs row " + row.id);
  if (row.file_name) {
    auto file_name = cipher.open(*row.file_name, {kJobs, "file_name", row.id});
    if (!file_name) return file_name.error();
    job.file_name = std::move(*file_name);
  }
  if (row.contents) {
    auto contents = cipher.open(*row.contents, {kJobs, "contents", row.id});
    if (!contents) return contents.error();
    job.contents = std::move(*contents);
  }
  job.id = *id;
  job.service = *service;
  job.template_id = *template_id;
  job.template_version = static_cast<int>(row.template_version);
  job.type = *type;
  job.row_count = static_cast<int>(row.row_count);
  job.next_row = static_cast<int>(row.next_row);
  job.status = *status;
  job.created_by = *created_by;
  job.created_at = from_micros(row.created_at);
  job.started_at = optional_time(row.started_at);
  job.finished_at = optional_time(row.finished_at);
  return job;
}

namespace {
constexpr std::string_view kUnsubscribeRequests = "unsubscribe_requests";
}  // namespace

Result<SealedUnsubscribeRequest> seal_unsubscribe_request(const crypto::FieldCipher& cipher,
                                                          const UnsubscribeRequest& request, ServiceId service,
                                                          TemplateId template_id, int template_version) {
  SealedUnsubscribeRequest row;
  row.id = request.id.to_string();
  row.service = service.to_string();
  // The long-lived key: the request outlives the notification's day (and its retention).
  auto key_id = cipher.keys().key_for_scope(crypto::kSecretsScope, request.created_at);
  if (!key_id) return key_id.error();
  auto email = cipher.seal(request.email, {kUnsubscribeRequests, "email", row.id}, *key_id);
  if (!email) return email.error();
  row.email = std::move(*email);
  if (!request.email_normalised.empty()) {
    // As a notification's recipient_index, so that a data-subject request finds it.
    auto index = cipher.blind_index(row.service, request.email_normalised, request.created_at);
    if (!index) return index.error();
    row.email_index = std::move(*index);
  }
  row.notification = request.notification.to_string();
  row.template_id = template_id.to_string();
  row.template_version = template_version;
  row.created_at = to_micros(request.created_at);
  return row;
}

Result<UnsubscribeRequest> open_unsubscribe_request(const crypto::FieldCipher& cipher,
                                                    const SealedUnsubscribeRequest& row) {
  UnsubscribeRequest request;
  auto id = Uuid::parse(row.id);
  auto service = parse<ServiceId>(row.service);
  auto notification = parse<NotificationId>(row.notification);
  auto template_id = parse<TemplateId>(row.template_id);
  std::optional<Uuid> report;
  if (row.report) report = Uuid::parse(*row.report);
  if (!id || !service || !notification || !template_id || (row.report && !report)) {
    return data_loss("malformed id in unsubscribe_requests row");
  }
  auto email = cipher.open(row.email, {kUnsubscribeRequests, "email", row.id});
  if (!email) return email.error();
  if (row.job_id && row.job_file_name) {
    auto file_name = cipher.open(*row.job_file_name, {kJobs, "file_name", *row.job_id});
    if (!file_name && file_name.error().code != ErrorCode::kNotFound) return file_name.error();
    if (file_name) request.job_file_name = std::move(*file_name);  // else its data key is gone
  }
  request.id = *id;
  request.service = *service;
  request.notification = *notification;
  request.template_id = *template_id;
  request.template_version = static_cast<int>(row.template_version);
  request.email = std::move(*email);
  request.created_at = from_micros(row.created_at);
  request.report = report;
  request.template_name = row.template_name.value_or("");
  if (row.notification_created_at) request.notification_created_at = from_micros(*row.notification_created_at);
  return request;
}

Result<std::vector<UnsubscribeRequest>> open_unsubscribe_requests(const crypto::FieldCipher& cipher,
                                                                  const std::vector<SealedUnsubscribeRequest>& rows,
                                                                  std::string_view email_normalised) {
  std::vector<UnsubscribeRequest> out;
  out.reserve(rows.size());
  for (const SealedUnsubscribeRequest& row : rows) {
    auto request = open_unsubscribe_request(cipher, row);
    if (!request) return request.error();
    request->email_normalised = std::string(email_normalised);
    out.push_back(std::move(*request));
  }
  return out;
}

Result<UnsubscribeReport> read_unsubscribe_report(ServiceId service, const UnsubscribeReportRow& row) {
  UnsubscribeReport report;
  if (row.id) {
    auto id = Uuid::parse(*row.id);
    if (!id) return data_loss("malformed id in unsubscribe_reports row");
    report.id = *id;
  }
  report.service = service;
  report.count = row.count;
  report.earliest = from_micros(row.earliest);
  report.latest = from_micros(row.latest);
  report.created_at = from_micros(row.created_at);
  report.processed_at = optional_time(row.processed_at);
  return report;
}

Result<DeadCallback> read_dead_callback(const DeadCallbackRow& row) {
  DeadCallback dead;
  if (row.kind == callback_kind_name(CallbackKind::kDeliveryStatus)) {
    dead.kind = CallbackKind::kDeliveryStatus;
  } else if (row.kind == callback_kind_name(CallbackKind::kInboundSms)) {
    dead.kind = CallbackKind::kInboundSms;
  } else {
    return data_loss("unknown callback kind " + row.kind);
  }
  auto id = Uuid::parse(row.id);
  if (!id) return data_loss("malformed id in a dead callback's row");
  dead.id = *id;
  dead.attempts = static_cast<int>(row.attempts);
  dead.dead_at = from_micros(row.dead_at);
  dead.error = row.error;
  return dead;
}

}  // namespace herald::store
