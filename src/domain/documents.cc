#include "domain/documents.h"

#include <algorithm>
#include <array>

#include "core/base64.h"
#include "core/utf8.h"
#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "domain/recipients/email_address.h"
#include "domain/rendering/personalisation_json.h"

namespace herald::domain {
namespace {

constexpr std::size_t kLinkKeyBytes = 32;

// GOV.UK's allowed types (notifications-utils file_types), by extension.
struct FileType {
  std::string_view extension;
  std::string_view mime_type;
};
constexpr std::array<FileType, 13> kFileTypes{{
    {"pdf", "application/pdf"},
    {"csv", "text/csv"},
    {"txt", "text/plain"},
    {"json", "application/json"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"rtf", "application/rtf"},
    {"rtf", "text/rtf"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
}};

// "'.csv', '.doc', ..." as GOV.UK lists them (sorted, each once).
std::string supported_types() {
  std::vector<std::string> names;
  for (const auto& t : kFileTypes) names.push_back("'." + std::string(t.extension) + "'");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Error unsupported_type(std::string_view what) {
  return invalid_argument("Unsupported file type '" + std::string(what) + "'. Supported types are: " + supported_types());
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// str() of a JSON value as Python prints it inside GOV.UK's f-strings (strings bare, lists and
// objects in repr form); the caller removes single quotes as GOV.UK's error formatter does.
void append_python(std::string& out, const json::Value& value, bool nested) {
  switch (value.type()) {
    case json::Type::kString:
      out += nested ? "'" + value.as_string() + "'" : value.as_string();
      return;
    case json::Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) out += ", ";
        first = false;
        append_python(out, item, true);
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
        out += "'" + key + "': ";
        append_python(out, item, true);
      }
      out += '}';
      return;
    }
    default: out += python_str(value); return;
  }
}

std::string unquoted(const json::Value& value) {
  std::string out;
  append_python(out, value, false);
  out.erase(std::remove(out.begin(), out.end(), '\''), out.end());
  return out;
}

const json::Value* present(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

// GOV.UK's send_a_file_retention_period: "<n> week(s)" after trim and lower case, 1..78.
std::optional<int> parse_retention_weeks(std::string_view text) {
  const std::string period = ascii_lower(trim(text));
  std::size_t digits = 0;
  while (digits < period.size() && period[digits] >= '0' && period[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view rest = std::string_view(period).substr(digits);
  if (rest != " week" && rest != " weeks") return std::nullopt;
  std::string_view number = std::string_view(period).substr(0, digits);
  while (number.size() > 1 && number.front() == '0') number.remove_prefix(1);
  if (number.size() > 2) return std::nullopt;
  const int weeks = std::stoi(std::string(number));
  if (weeks < 1 || weeks > kMaxDocumentRetentionWeeks) return std::nullopt;
  return weeks;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// What libmagic would call the content, for the types GOV.UK allows (anything else: octet-stream).
std::string sniff_mime_type(std::string_view content) {
  if (starts_with(content, "%PDF-")) return "application/pdf";
  if (starts_with(content, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts_with(content, "\xff\xd8\xff")) return "image/jpeg";
  if (starts_with(content, "{\\rtf")) return "text/rtf";
  if (starts_with(content, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")) return "application/msword";
  if (starts_with(content, "PK\x03\x04")) {
    if (content.find("mimetypeapplication/vnd.oasis.opendocument.text") != std::string_view::npos) {
      return "application/vnd.oasis.opendocument.text";
    }
    if (content.find("word/") != std::string_view::npos) {
      return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    }
    if (content.find("xl/") != std::string_view::npos) {
      return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    }
    return "application/zip";
  }
  std::vector<std::uint32_t> code_points;
  if (content.find('\0') == std::string_view::npos && decode_utf8(content, code_points)) {
    const std::string_view body = trim(content);
    if (!body.empty() && (body.front() == '{' || body.front() == '[') && json::parse(body)) return "application/json";
    return "text/plain";
  }
  return "application/octet-stream";
}

std::string extension_for(std::string_view mime_type) {
  for (const auto& t : kFileTypes) {
    if (t.mime_type == mime_type) return std::string(t.extension);
  }
  return "bin";
}

std::string aad(std::string_view part, std::string_view document_id) {
  return "herald/documents/" + std::string(part) + "/" + std::string(document_id);
}

std::string confirm_hash(const crypto::SecretBytes& key, std::string_view email_normalised) {
  return crypto::hmac_sha256(key.view(), "confirm-email:" + std::string(email_normalised));
}

std::string root_of(std::string_view public_root) {
  std::string root(public_root);
  if (root.empty() || root.back() != '/') root += '/';
  return root;
}

}  // namespace

bool is_file_upload(const json::Value& value) { return value.is_object() && value.find("file") != nullptr; }

std::vector<std::string> file_upload_errors(const json::Value& value) {
  std::vector<std::string> errors;
  auto fail = [&errors](std::string message) {
    message.erase(std::remove(message.begin(), message.end(), '\''), message.end());
    if (std::find(errors.begin(), errors.end(), message) == errors.end()) errors.push_back(std::move(message));
  };
  if (!value.is_object()) {
    fail(unquoted(value) + " is not of type object");
    return errors;
  }
  // additionalProperties, then properties in the schema's order, then the allOf rule.
  static constexpr std::array<std::string_view, 5> kKnown{"file", "is_csv", "confirm_email_before_download",
                                                          "retention_period", "filename"};
  std::vector<std::string> unexpected;
  for (const auto& [key, item] : value.as_object()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end() &&
        std::find(unexpected.begin(), unexpected.end(), key) == unexpected.end()) {
      unexpected.push_back(key);
    }
  }
  if (!unexpected.empty()) {
    std::string list;
    for (const auto& key : unexpected) list += (list.empty() ? "" : ", ") + key;
    fail("Additional properties are not allowed (" + list + (unexpected.size() == 1 ? " was" : " were") +
         " unexpected)");
  }
  if (const json::Value* file = value.find("file"); file != nullptr && !file->is_string()) {
    fail("file " + unquoted(*file) + " is not of type string");
  }
  for (const char* flag : {"is_csv", "confirm_email_before_download"}) {
    const json::Value* v = value.find(flag);
    if (v != nullptr && !v->is_null() && !v->is_bool()) {
      fail(std::string(flag) + " Unsupported value for " + flag + ": " + unquoted(*v) +
           ". Use a boolean true or false value.");
    }
  }
  if (const json::Value* v = value.find("retention_period"); v != nullptr && !v->is_null()) {
    if (!v->is_string() || !parse_retention_weeks(v->as_string())) {
      fail("retention_period Unsupported value for retention_period: " + unquoted(*v) +
           ". Supported periods are from 1 to 78 weeks.");
    }
  }
  if (const json::Value* v = value.find("filename"); v != nullptr && !v->is_null()) {
    if (!v->is_string() || v->as_string().find('.') == std::string::npos) {
      fail("filename `filename` must end with a file extension. For example, filename.csv");
    }
  }
  if (value.find("is_csv") != nullptr && value.find("filename") != nullptr) {
    fail("Do not set a value for `is_csv` if `filename` is set.");
  }
  return errors;
}

FileUpload file_upload_from_json(std::string key, const json::Value& value) {
  FileUpload out;
  out.key = std::move(key);
  if (const json::Value* file = present(value, "file"); file && file->is_string()) out.file_base64 = file->as_string();
  if (const json::Value* v = present(value, "filename"); v && v->is_string()) out.filename = v->as_string();
  if (const json::Value* v = present(value, "confirm_email_before_download"); v && v->is_bool()) {
    out.confirm_email = v->as_bool();
  }
  if (const json::Value* v = present(value, "retention_period"); v && v->is_string()) {
    out.retention_weeks = parse_retention_weeks(v->as_string()).value_or(kDefaultDocumentRetentionWeeks);
  }
  if (const json::Value* v = present(value, "is_csv"); v && v->is_bool()) out.is_csv = v->as_bool();
  return out;
}

Result<std::string> document_mime_type(std::string_view content, const std::optional<std::string>& filename,
                                       bool is_csv) {
  if (filename) {
    const auto dot = filename->rfind('.');
    const std::string extension = ascii_lower(std::string_view(*filename).substr(dot == std::string::npos ? filename->size() : dot + 1));
    for (const auto& t : kFileTypes) {
      if (t.extension == extension) return std::string(t.mime_type);
    }
    return unsupported_type("." + extension);
  }
  std::string mime_type = sniff_mime_type(content);
  if (is_csv && mime_type == "text/plain") mime_type = "text/csv";
  for (const auto& t : kFileTypes) {
    if (t.mime_type == mime_type) return mime_type;
  }
  return unsupported_type(mime_type);
}

Result<std::string> Documents::seal(const crypto::SecretBytes& key, std::string_view associated,
                                    std::string_view plaintext) const {
  if (mode_ == Mode::kPlaintextForTest) return std::string(plaintext);
  return crypto::aes256gcm_seal(key, associated, plaintext);
}

Result<std::string> Documents::unseal(const crypto::SecretBytes& key, std::string_view associated,
                                      std::string_view sealed) const {
  if (mode_ == Mode::kPlaintextForTest) return std::string(sealed);
  auto plain = crypto::aes256gcm_open(key, associated, sealed);
  if (!plain) return plain.error();
  return std::string(plain->view());
}

std::string Documents::test_document_url(std::string_view public_root, ServiceId service) {
  return root_of(public_root) + "services/" + service.to_string() + "/documents/test-document";
}

Result<std::string> Documents::upload(ServiceId service, const FileUpload& file, std::string_view recipient_normalised,
                                      std::string_view public_root, Timestamp now) {
  // Python's b64decode (as GOV.UK uses it) skips line breaks and spaces.
  std::string compact;
  compact.reserve(file.file_base64.size());
  for (char c : file.file_base64) {
    if (!is_space(c)) compact += c;
  }
  auto content = base64_decode(compact);
  if (!content) return invalid_argument("Document is not base64 encoded");
  if (content->size() > kMaxDocumentBytes) return invalid_argument("File is larger than 2MB");
  if (file.filename && file.filename->size() > kMaxDocumentFilenameLength) {
    return invalid_argument("`filename` cannot be longer than " + std::to_string(kMaxDocumentFilenameLength) +
                            " characters");
  }
  auto mime_type = document_mime_type(*content, file.filename, file.is_csv);
  if (!mime_type) return mime_type.error();

  auto key_bytes = crypto::random_bytes(kLinkKeyBytes);
  if (!key_bytes) return key_bytes.error();
  const crypto::SecretBytes key(*key_bytes);
  const std::string link_key = base64url_encode(key.view());
  crypto::wipe_string(*key_bytes);

  store::DocumentRecord document;
  document.id = crypto::random_uuid();
  document.service = service;
  const std::string id = document.id.to_string();
  auto sealed = seal(key, aad("content", id), *content);
  crypto::wipe_string(*content);
  if (!sealed) return sealed.error();
  document.content = std::move(*sealed);
  if (file.filename) {
    auto name = seal(key, aad("filename", id), *file.filename);
    if (!name) return name.error();
    document.filename = std::move(*name);
  }
  document.mime_type = *mime_type;
  document.key_hash = crypto::sha256(key.view());
  if (file.confirm_email) document.confirm_email_hash = confirm_hash(key, recipient_normalised);
  document.created_at = now;
  document.expires_at = now + std::chrono::hours(24 * 7 * file.retention_weeks);
  HERALD_TRY(store_.insert_document(document));
  return root_of(public_root) + "d/" + service.to_string() + "/" + id + "?key=" + link_key;
}

Result<std::optional<DocumentAccess>> Documents::open(ServiceId service, std::string_view document_id,
                                                      std::string_view key_text,
                                                      const std::optional<std::string>& email, Want want,
                                                      Timestamp now) {
  const std::optional<DocumentAccess> none;
  auto id = Uuid::parse(document_id);
  auto key_bytes = base64url_decode(key_text);
  if (!id || !key_bytes || key_bytes->size() != kLinkKeyBytes) return none;
  const crypto::SecretBytes key(*key_bytes);
  crypto::wipe_string(*key_bytes);
  auto found = store_.find_document(service, *id, now);
  if (!found) return found.error();
  if (!*found) return none;
  const store::DocumentRecord& document = **found;
  if (!crypto::constant_time_equal(crypto::sha256(key.view()), document.key_hash)) return none;

  DocumentAccess access;
  access.mime_type = document.mime_type;
  access.filename = "document." + extension_for(document.mime_type);
  if (document.filename) {
    auto name = unseal(key, aad("filename", id->to_string()), *document.filename);
    if (!name) return name.error();
    access.filename = std::move(*name);
  }
  access.attempts_left = std::max(0, kMaxConfirmationFailures - document.failed_confirmations);
  access.state = DocumentAccess::State::kReady;
  if (!document.confirm_email_hash.empty()) {
    if (access.attempts_left == 0) {
      access.state = DocumentAccess::State::kLocked;
      return std::optional(std::move(access));
    }
    if (!email || trim(*email).empty()) {  // nothing typed: ask again, no try lost
      access.state = DocumentAccess::State::kNeedsEmail;
      return std::optional(std::move(access));
    }
    auto valid = validate_email_address(*email);
    const std::string typed = valid ? normalise_email_for_index(*valid) : std::string();
    if (typed.empty() || !crypto::constant_time_equal(confirm_hash(key, typed), document.confirm_email_hash)) {
      auto failures = store_.count_document_failure(service, *id);
      if (!failures) return failures.error();
      access.attempts_left = std::max(0, kMaxConfirmationFailures - *failures);
      access.state = access.attempts_left == 0 ? DocumentAccess::State::kLocked : DocumentAccess::State::kWrongEmail;
      return std::optional(std::move(access));
    }
  }
  if (want == Want::kFile) {
    auto content = unseal(key, aad("content", id->to_string()), document.content);
    if (!content) return content.error();
    access.content = std::move(*content);
  }
  return std::optional(std::move(access));
}

}  // namespace herald::domain
