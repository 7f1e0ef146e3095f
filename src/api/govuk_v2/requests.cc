#include "api/govuk_v2/requests.h"

#include <algorithm>
#include <array>

#include "core/base64.h"
#include "domain/documents.h"
#include "domain/recipients/email_address.h"
#include "domain/recipients/phone_number.h"
#include "domain/rendering/personalisation.h"
#include "domain/rendering/personalisation_json.h"
#include "domain/rendering/sanitise.h"

namespace herald::api::govuk_v2 {
namespace {

constexpr std::size_t kMaxReference = 1000;

void append_repr(std::string& out, const json::Value& value) {
  switch (value.type()) {
    case json::Type::kString: out += value.as_string(); return;
    case json::Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, item);
      }
      out += ']';
      return;
    }
    case json::Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.as_object()) {
        if (!first) out += ", ";
        first = false;
        out += key + ": ";
        append_repr(out, item);
      }
      out += '}';
      return;
    }
    default: out += domain::python_str(value); return;
  }
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_https_url(std::string_view url) {
  if (url.rfind("https://", 0) != 0 || url.size() <= 8) return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == '\\';
  });
}

// What every send body shares (reference, template_id, personalisation, the required and
// additional-property rules), in GOV.UK's messages. Subclasses add their own fields and check them
// in the schema's property order.
template <typename Request>
class SendSchema {
 public:
  explicit SendSchema(const json::Value& body) : body_(body) {}

  std::vector<ErrorItem> errors;
  Request request;

  void check_required(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (body_.find(name) == nullptr) fail(std::string(name) + " is a required property");
    }
  }

  void check_additional(std::initializer_list<std::string_view> known) {
    std::vector<std::string> unexpected;
    for (const auto& [key, value] : body_.as_object()) {
      if (std::find(known.begin(), known.end(), key) == known.end() &&
          std::find(unexpected.begin(), unexpected.end(), key) == unexpected.end()) {
        unexpected.push_back(key);
      }
    }
    if (unexpected.empty()) return;
    std::string list;
    for (const auto& key : unexpected) list += (list.empty() ? "" : ", ") + key;
    fail("Additional properties are not allowed (" + list +
         (unexpected.size() == 1 ? " was" : " were") + " unexpected)");
  }

 protected:
  void fail(std::string message) {
    // GOV.UK de-duplicates identical items.
    for (const auto& e : errors) {
      if (e.message == message) return;
    }
    errors.push_back({"ValidationError", std::move(message)});
  }
  void not_of_type(const char* field, const json::Value& v, const char* type) {
    fail(std::string(field) + " " + python_repr_unquoted(v) + " is not of type " + type);
  }

  void check_reference() {
    const json::Value* v = body_.find("reference");
    if (v == nullptr) return;
    if (!v->is_string()) return not_of_type("reference", *v, "string");
    if (utf8_length(v->as_string()) > kMaxReference) {
      return fail("reference " + v->as_string() + " is too long");
    }
    request.reference = v->as_string();
  }

  void check_template_id() {
    const json::Value* v = body_.find("template_id");
    if (v == nullptr) return;
    std::optional<TemplateId> id;
    if (v->is_string()) id = TemplateId::parse(v->as_string());
    if (!id) return fail("template_id is not a valid UUID");
    request.template_id = *id;
  }

  void check_uuid(const char* field, std::optional<Uuid>& out) {
    const json::Value* v = body_.find(field);
    if (v == nullptr) return;
    std::optional<Uuid> id;
    if (v->is_string()) id = Uuid::parse(v->as_string());
    if (!id) return fail(std::string(field) + " is not a valid UUID");
    out = *id;
  }

  void check_personalisation() {
    const json::Value* v = body_.find("personalisation");
    if (v == nullptr) {
      request.personalisation_json = "{}";
      return;
    }
    if (!v->is_object()) return not_of_type("personalisation", *v, "object");
    request.personalisation = domain::personalisation_from_json(*v);
    request.personalisation_json = json::serialize(*v);
  }

  const json::Value& body_;
};

class EmailSchema : public SendSchema<domain::EmailRequest> {
 public:
  using SendSchema::SendSchema;
  std::vector<std::string> sanitise_keys;  // normalised

  void check_properties() {
    check_reference();
    check_email_address();
    check_template_id();
    check_personalisation();
    check_uuid("email_reply_to_id", request.email_reply_to_id);
    check_unsubscribe_url();
    check_sanitise_content_for();
  }
  void check_required() { SendSchema::check_required({"email_address", "template_id"}); }
  void check_additional() {
    SendSchema::check_additional({"reference", "email_address", "template_id", "personalisation", "scheduled_for",
                                  "email_reply_to_id", "one_click_unsubscribe_url", "sanitise_content_for"});
  }

 private:
  void check_email_address() {
    const json::Value* v = body_.find("email_address");
    if (v == nullptr) return;
    if (!v->is_string()) return not_of_type("email_address", *v, "string");
    auto valid = domain::validate_email_address(v->as_string());
    if (!valid) return fail("email_address " + valid.error().message);
    request.email_address = std::move(*valid);
  }

  void check_unsubscribe_url() {
    const json::Value* v = body_.find("one_click_unsubscribe_url");
    if (v == nullptr) return;
    if (!v->is_string() || !is_https_url(v->as_string())) {
      return fail("one_click_unsubscribe_url is not a valid https url");
    }
    request.one_click_unsubscribe_url = v->as_string();
  }

  void check_sanitise_content_for() {
    const json::Value* v = body_.find("sanitise_content_for");
    if (v == nullptr || v->is_null()) return;
    if (!v->is_array()) return not_of_type("sanitise_content_for", *v, "array, null");
    for (const auto& item : v->as_array()) {
      if (item.is_string()) sanitise_keys.push_back(domain::normalise_placeholder_key(item.as_string()));
    }
  }
};

// GOV.UK's post_sms_request; the phone number is checked leniently here (any country, landlines
// too): the service's own permissions are the domain's business.
class SmsSchema : public SendSchema<domain::SmsRequest> {
 public:
  using SendSchema::SendSchema;

  void check_properties() {
    check_reference();
    check_phone_number();
    check_uuid("sms_sender_id", request.sms_sender_id);
    check_template_id();
    check_personalisation();
  }
  void check_required() { SendSchema::check_required({"phone_number", "template_id"}); }
  void check_additional() {
    SendSchema::check_additional(
        {"reference", "phone_number", "sms_sender_id", "template_id", "personalisation", "scheduled_for"});
  }

 private:
  void check_phone_number() {
    const json::Value* v = body_.find("phone_number");
    if (v == nullptr) return;
    if (!v->is_string()) return not_of_type("phone_number", *v, "string");
    auto parsed = domain::parse_phone_number(v->as_string());
    if (!parsed) return fail("phone_number " + parsed.error().message);
    request.phone_number = v->as_string();
    request.parsed = std::move(*parsed);
  }
};

// GOV.UK's post_letter_request: personalisation is required (it holds the address).
class LetterSchema : public SendSchema<domain::LetterRequest> {
 public:
  using SendSchema::SendSchema;

  void check_properties() {
    check_reference();
    check_template_id();
    check_personalisation();
  }
  void check_required() { SendSchema::check_required({"template_id", "personalisation"}); }
  void check_additional() { SendSchema::check_additional({"reference", "template_id", "personalisation"}); }
};

// GOV.UK's post_precompiled_letter_request: reference (no length limit here) and content
// required; postage first, second or economy.
class PrecompiledSchema : public SendSchema<domain::PrecompiledLetterRequest> {
 public:
  using SendSchema::SendSchema;
  std::string content;  // base64, decoded once the schema passes

  void check_properties() {
    if (const json::Value* v = body_.find("reference"); v != nullptr) {
      if (!v->is_string()) {
        not_of_type("reference", *v, "string");
      } else {
        request.reference = v->as_string();
      }
    }
    if (const json::Value* v = body_.find("content"); v != nullptr) {
      if (!v->is_string()) {
        not_of_type("content", *v, "string");
      } else {
        content = v->as_string();
      }
    }
    if (const json::Value* v = body_.find("postage"); v != nullptr) {
      if (!v->is_string()) {
        not_of_type("postage", *v, "string");
      } else if (v->as_string() != "first" && v->as_string() != "second" && v->as_string() != "economy") {
        fail("postage invalid. It must be either first, second or economy.");
      } else {
        request.postage = v->as_string();
      }
    }
  }
  void check_required() { SendSchema::check_required({"reference", "content"}); }
  void check_additional() { SendSchema::check_additional({"reference", "content", "postage"}); }
};

// A personalisation value that is an object with "file" is a file to send by email (api spec §3.3):
// texts cannot carry one.
bool has_file_upload(const json::Value& body) {
  const json::Value* p = body.find("personalisation");
  if (p == nullptr || !p->is_object()) return false;
  return std::any_of(p->as_object().begin(), p->as_object().end(),
                     [](const json::Member& m) { return m.second.is_object() && m.second.find("file"); });
}

}  // namespace

std::variant<domain::Personalisation, net::Response> parse_preview(std::string_view body) {
  const bool blank = std::all_of(body.begin(), body.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  if (blank) return domain::Personalisation{};
  auto parsed = parse_body(body);
  if (auto* invalid = std::get_if<net::Response>(&parsed)) return std::move(*invalid);
  const json::Value& value = std::get<json::Value>(parsed);
  if (!value.is_object()) {
    return validation_error(python_repr_unquoted(value) + " is not of type object");
  }
  const json::Value* personalisation = value.find("personalisation");
  if (personalisation == nullptr) return domain::Personalisation{};
  if (!personalisation->is_object()) {
    return validation_error("personalisation " + python_repr_unquoted(*personalisation) + " is not of type object");
  }
  return domain::personalisation_from_json(*personalisation);
}

std::string python_repr_unquoted(const json::Value& value) {
  std::string out;
  append_repr(out, value);
  out.erase(std::remove(out.begin(), out.end(), '\''), out.end());
  return out;
}

std::variant<json::Value, net::Response> parse_body(std::string_view body) {
  auto parsed = json::parse(body);
  if (!parsed) return bad_request("Invalid JSON supplied in POST data");
  if (parsed->is_null()) return json::Value::object({});
  return std::move(*parsed);
}

namespace {

// Python's datetime.fromisoformat, as far as dates and times go: YYYY-MM-DD, optionally with
// [T or space]HH[:MM[:SS[.f{1,6}]]] and a Z or +-HH[:MM] offset. GOV.UK then drops the offset
// (replace(tzinfo=None)), reading the wall time as UTC; so does Herald.
std::optional<Timestamp> parse_python_isoformat(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&](std::size_t n, int& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += n;
    return true;
  };
  const auto take = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, micros = 0;
  if (!digits(4, y) || !take('-') || !digits(2, mo) || !take('-') || !digits(2, d)) return std::nullopt;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    ++i;
    if (!digits(2, h)) return std::nullopt;
    if (take(':')) {
      if (!digits(2, mi)) return std::nullopt;
      if (take(':')) {
        if (!digits(2, sec)) return std::nullopt;
        if (take('.') || take(',')) {
          std::size_t n = 0;
          while (i < s.size() && n < 6 && s[i] >= '0' && s[i] <= '9') {
            micros = micros * 10 + (s[i++] - '0');
            ++n;
          }
          if (n == 0 || (n != 3 && n != 6)) return std::nullopt;
          for (; n < 6; ++n) micros *= 10;
        }
      }
    }
    if (!take('Z')) {
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        ++i;
        int oh = 0, om = 0;
        if (!digits(2, oh)) return std::nullopt;
        if (take(':')) {
          if (!digits(2, om)) return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
      }
    }
  }
  if (i != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  return std::chrono::time_point_cast<Duration>(std::chrono::sys_days{ymd}) + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{sec} + std::chrono::microseconds{micros};
}

// scheduled_for: GOV.UK's schema checks it (a date and time, not past, at most 24 hours ahead)
// and the API then sends at once, answering scheduled_for null. Herald does the same, so that a
// service moving over sees what it saw.
void check_scheduled_for(const json::Value& body, Timestamp now, std::vector<ErrorItem>& errors) {
  const json::Value* scheduled = body.find("scheduled_for");
  if (scheduled == nullptr || scheduled->is_null()) return;
  if (!scheduled->is_string()) {
    errors.push_back({"ValidationError", "scheduled_for " + python_repr_unquoted(*scheduled) + " is not of type string, null"});
    return;
  }
  const auto when = parse_python_isoformat(scheduled->as_string());
  if (!when) {
    errors.push_back({"ValidationError", "scheduled_for datetime format is invalid. It must be a valid ISO8601 date "
                                         "time format, https://en.wikipedia.org/wiki/ISO_8601"});
  } else if (*when < now) {
    errors.push_back({"ValidationError", "scheduled_for datetime can not be in the past"});
  } else if (*when > now + std::chrono::hours(24)) {
    errors.push_back({"ValidationError", "scheduled_for datetime can only be 24 hours in the future"});
  }
}

}  // namespace

std::variant<domain::SmsRequest, net::Response> parse_send_sms(const json::Value& body, Timestamp now) {
  if (!body.is_object()) {
    return validation_error(python_repr_unquoted(body) + " is not of type object");
  }
  SmsSchema schema(body);
  schema.check_properties();
  check_scheduled_for(body, now, schema.errors);
  schema.check_required();
  schema.check_additional();
  if (!schema.errors.empty()) return validation_errors(schema.errors);
  if (has_file_upload(body)) return bad_request("Can only send a file by email");
  return std::move(schema.request);
}

std::variant<domain::LetterRequest, domain::PrecompiledLetterRequest, net::Response> parse_send_letter(
    const json::Value& body) {
  if (!body.is_object()) {
    return validation_error(python_repr_unquoted(body) + " is not of type object");
  }
  if (body.find("content") == nullptr) {
    LetterSchema schema(body);
    schema.check_properties();
    schema.check_required();
    schema.check_additional();
    if (!schema.errors.empty()) return validation_errors(schema.errors);
    if (has_file_upload(body)) return bad_request("Can only send a file by email");
    return std::move(schema.request);
  }
  PrecompiledSchema schema(body);
  schema.check_properties();
  schema.check_required();
  schema.check_additional();
  if (!schema.errors.empty()) return validation_errors(schema.errors);
  // Python's b64decode ignores whitespace such as line breaks; so does Herald, nothing else.
  std::string compact;
  compact.reserve(schema.content.size());
  for (char c : schema.content) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  }
  auto pdf = base64_decode(compact);
  if (!pdf) return bad_request("Cannot decode letter content (invalid base64 encoding)");
  schema.request.pdf = std::move(*pdf);
  return std::move(schema.request);
}

std::variant<domain::EmailRequest, net::Response> parse_send_email(const json::Value& body,
                                                                   Timestamp now) {
  if (!body.is_object()) {
    return validation_error(python_repr_unquoted(body) + " is not of type object");
  }
  EmailSchema schema(body);
  schema.check_properties();
  check_scheduled_for(body, now, schema.errors);
  schema.check_required();
  schema.check_additional();
  if (!schema.errors.empty()) return validation_errors(schema.errors);
  if (const json::Value* personalisation = body.find("personalisation");
      !schema.sanitise_keys.empty() && personalisation != nullptr && personalisation->is_object()) {
    // GOV.UK's §7.6: the listed values (keys matched as placeholders are) made inert; the stored
    // personalisation is the sanitised one, and the response shows what changed.
    json::Object members = personalisation->as_object();
    for (auto& [key, value] : members) {
      const std::string normalised = domain::normalise_placeholder_key(key);
      if (!value.is_string() || std::find(schema.sanitise_keys.begin(), schema.sanitise_keys.end(), normalised) ==
                                    schema.sanitise_keys.end()) {
        continue;
      }
      std::string sanitised = domain::sanitise_personalisation_value(value.as_string());
      if (sanitised == value.as_string()) continue;
      schema.request.sanitised_content.push_back({key, value.as_string(), sanitised});
      value = json::Value::string(std::move(sanitised));
    }
    const json::Value sanitised = json::Value::object(std::move(members));
    schema.request.personalisation = domain::personalisation_from_json(sanitised);
    schema.request.personalisation_json = json::serialize(sanitised);
  }
  // Files (§3.3): each file object checked against GOV.UK's send_a_file_validation, stopping at
  // the first that fails, as GOV.UK does.
  if (const json::Value* personalisation = body.find("personalisation");
      personalisation != nullptr && personalisation->is_object()) {
    for (const auto& [key, value] : personalisation->as_object()) {
      if (!domain::is_file_upload(value)) continue;
      const auto problems = domain::file_upload_errors(value);
      if (!problems.empty()) {
        std::vector<ErrorItem> items;
        for (const auto& message : problems) items.push_back({"ValidationError", message});
        return validation_errors(items);
      }
      schema.request.files.push_back(domain::file_upload_from_json(key, value));
    }
  }
  return std::move(schema.request);
}

}  // namespace herald::api::govuk_v2
