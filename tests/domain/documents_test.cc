// Files sent by email: GOV.UK's send_a_file_validation messages, file types, and the link-key
// round trip (upload, confirm the address, download, lock, expiry) over the memory store.
#include "domain/documents.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "crypto/random.h"
#include "tests/fakes/memory_store.h"

namespace herald::domain {
namespace {

using namespace std::chrono_literals;

json::Value parse(std::string_view text) {
  auto parsed = json::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : json::Value();
}

std::vector<std::string> errors_of(std::string_view text) { return file_upload_errors(parse(text)); }

TEST(FileUploadValidation, ClientShapeWithNullsIsValidAndTakesDefaults) {
  const auto value = parse(R"({"file":"YSxiLGMK","filename":null,"confirm_email_before_download":null,"retention_period":null})");
  EXPECT_TRUE(is_file_upload(value));
  EXPECT_TRUE(file_upload_errors(value).empty());
  const FileUpload upload = file_upload_from_json("doc", value);
  EXPECT_EQ(upload.key, "doc");
  EXPECT_EQ(upload.file_base64, "YSxiLGMK");
  EXPECT_FALSE(upload.filename);
  EXPECT_TRUE(upload.confirm_email);
  EXPECT_EQ(upload.retention_weeks, 26);
  EXPECT_FALSE(is_file_upload(parse(R"({"potato":"x"})")));
  EXPECT_FALSE(is_file_upload(parse(R"("text")")));
}

TEST(FileUploadValidation, AcceptedValues) {
  const auto upload = file_upload_from_json(
      "k", parse(R"({"file":"x","filename":"a.CSV","confirm_email_before_download":false,"retention_period":" 1 Week "})"));
  EXPECT_EQ(upload.filename, "a.CSV");
  EXPECT_FALSE(upload.confirm_email);
  EXPECT_EQ(upload.retention_weeks, 1);
  EXPECT_TRUE(errors_of(R"({"file":"x","retention_period":"78 weeks"})").empty());
  EXPECT_TRUE(errors_of(R"({"file":"x","retention_period":"070 weeks"})").empty());
  EXPECT_TRUE(errors_of(R"({"file":"x","is_csv":true})").empty());
}

TEST(FileUploadValidation, GovukMessages) {
  using V = std::vector<std::string>;
  EXPECT_EQ(errors_of(R"({"file":false})"), V{"file False is not of type string"});
  EXPECT_EQ(errors_of(R"({"file":"x","is_csv":"bad"})"),
            V{"is_csv Unsupported value for is_csv: bad. Use a boolean true or false value."});
  EXPECT_EQ(errors_of(R"({"file":"x","confirm_email_before_download":"potato"})"),
            V{"confirm_email_before_download Unsupported value for confirm_email_before_download: potato. Use a "
              "boolean true or false value."});
  for (const char* period : {"\"9999 weeks\"", "\"0 weeks\"", "\"79 weeks\"", "\"1 month\"", "false", "26"}) {
    const std::string shown = std::string(period) == "false" ? "False" : json::parse(period)->is_string()
                                                                             ? json::parse(period)->as_string()
                                                                             : std::string(period);
    EXPECT_EQ(errors_of(std::string(R"({"file":"x","retention_period":)") + period + "}"),
              V{"retention_period Unsupported value for retention_period: " + shown +
                ". Supported periods are from 1 to 78 weeks."})
        << period;
  }
  EXPECT_EQ(errors_of(R"({"file":"x","filename":"file"})"),
            V{"filename `filename` must end with a file extension. For example, filename.csv"});
  EXPECT_EQ(errors_of(R"({"file":"x","is_csv":true,"filename":"file.csv"})"),
            V{"Do not set a value for `is_csv` if `filename` is set."});
  EXPECT_EQ(errors_of(R"({"file":"x","is_csv":null,"filename":null})"),
            V{"Do not set a value for `is_csv` if `filename` is set."});
  EXPECT_EQ(errors_of(R"({"file":"x","other":"attribute"})"),
            V{"Additional properties are not allowed (other was unexpected)"});
  EXPECT_EQ(errors_of(R"({"file":"x","b":1,"a":2})"), V{"Additional properties are not allowed (b, a were unexpected)"});
  // Several at once, in the schema's order; single quotes removed as GOV.UK's formatter does.
  EXPECT_EQ(errors_of(R"({"file":1,"x":0,"filename":"nodot","is_csv":["it's"]})"),
            (V{"Additional properties are not allowed (x was unexpected)", "file 1 is not of type string",
               "is_csv Unsupported value for is_csv: [its]. Use a boolean true or false value.",
               "filename `filename` must end with a file extension. For example, filename.csv",
               "Do not set a value for `is_csv` if `filename` is set."}));
}

TEST(DocumentMimeType, FromFilenameOrContent) {
  EXPECT_EQ(*document_mime_type("x", "a.PDF", false), "application/pdf");
  EXPECT_EQ(*document_mime_type("x", "a.b.docx", false),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(*document_mime_type("%PDF-1.7 ...", std::nullopt, false), "application/pdf");
  EXPECT_EQ(*document_mime_type("\x89PNG\r\n\x1a\nrest", std::nullopt, false), "image/png");
  EXPECT_EQ(*document_mime_type("a,b\n1,2\n", std::nullopt, false), "text/plain");
  EXPECT_EQ(*document_mime_type("a,b\n1,2\n", std::nullopt, true), "text/csv");
  EXPECT_EQ(*document_mime_type(R"({"a": [1]})", std::nullopt, false), "application/json");
  const std::string supported = "Supported types are: '.csv', '.doc', '.docx', '.jpeg', '.jpg', '.json', '.odt', "
                                "'.pdf', '.png', '.rtf', '.txt', '.xlsx'";
  auto exe = document_mime_type("MZ", "setup.exe", false);
  ASSERT_FALSE(exe);
  EXPECT_EQ(exe.error().message, "Unsupported file type '.exe'. " + supported);
  auto binary = document_mime_type(std::string("\x00\x01\x02", 3), std::nullopt, false);
  ASSERT_FALSE(binary);
  EXPECT_EQ(binary.error().message, "Unsupported file type 'application/octet-stream'. " + supported);
}

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::ServiceRecord service;
    service.id = service_;
    service.name = "Clinic";
    ASSERT_TRUE(store_.create_service(service));
  }
  // The URL's path parts: (service, document id, key).
  static std::tuple<std::string, std::string, std::string> parts(const std::string& url) {
    const auto d = url.find("/d/");
    const auto slash = url.find('/', d + 3);
    const auto q = url.find("?key=");
    return {url.substr(d + 3, slash - d - 3), url.substr(slash + 1, q - slash - 1), url.substr(q + 5)};
  }
  FileUpload file(std::string content, std::optional<std::string> filename = "results.pdf") {
    FileUpload f;
    f.key = "doc";
    f.file_base64 = base64_encode(content);
    f.filename = std::move(filename);
    return f;
  }

  fakes::MemoryStore store_;
  ServiceId service_{crypto::random_uuid()};
  Documents documents_{store_};
  Timestamp now_ = from_micros(1'800'000'000'000'000);
};

TEST_F(DocumentsTest, UploadThenConfirmAndDownload) {
  auto url = documents_.upload(service_, file("%PDF-1.4 secret-bytes"), "patient@example.org", "https://h.example/", now_);
  ASSERT_TRUE(url) << url.error().message;
  const auto [service, id, key] = parts(*url);
  EXPECT_EQ(url->rfind("https://h.example/d/" + service_.to_string() + "/", 0), 0u) << *url;
  EXPECT_EQ(key.size(), 43u) << "32 bytes, base64url";
  auto stored = *store_.find_document(service_, *Uuid::parse(id), now_);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->content.find("secret-bytes"), std::string::npos) << "encrypted with the link's key";
  EXPECT_EQ(stored->filename->find("results"), std::string::npos);
  EXPECT_EQ(stored->expires_at, now_ + 26 * 7 * 24h);

  auto page = documents_.open(service_, id, key, std::nullopt, Documents::Want::kPage, now_);
  ASSERT_TRUE(page && *page);
  EXPECT_EQ((*page)->state, DocumentAccess::State::kNeedsEmail);
  EXPECT_TRUE((*page)->content.empty());
  auto blank = documents_.open(service_, id, key, "  ", Documents::Want::kFile, now_);
  EXPECT_EQ((**blank).state, DocumentAccess::State::kNeedsEmail) << "nothing typed costs no try";
  auto wrong = documents_.open(service_, id, key, "someone@example.org", Documents::Want::kFile, now_);
  EXPECT_EQ((**wrong).state, DocumentAccess::State::kWrongEmail);
  EXPECT_EQ((**wrong).attempts_left, 9);
  EXPECT_TRUE((**wrong).content.empty());
  auto right = documents_.open(service_, id, key, " Patient@EXAMPLE.org", Documents::Want::kFile, now_);
  ASSERT_TRUE(right && *right);
  EXPECT_EQ((**right).state, DocumentAccess::State::kReady);
  EXPECT_EQ((**right).content, "%PDF-1.4 secret-bytes");
  EXPECT_EQ((**right).filename, "results.pdf");
  EXPECT_EQ((**right).mime_type, "application/pdf");
}

TEST_F(DocumentsTest, WrongKeyOtherServiceExpiredAllLookAbsent) {
  auto url = documents_.upload(service_, file("%PDF-1.4"), "patient@example.org", "https://h/", now_);
  ASSERT_TRUE(url);
  const auto [service, id, key] = parts(*url);
  const std::string other_key = base64url_encode(std::string(32, 'x'));
  for (const auto& [s, i, k, t] : std::vector<std::tuple<ServiceId, std::string, std::string, Timestamp>>{
           {service_, id, other_key, now_},
           {service_, id, "short", now_},
           {ServiceId{crypto::random_uuid()}, id, key, now_},
           {service_, crypto::random_uuid().to_string(), key, now_},
           {service_, "not-a-uuid", key, now_},
           {service_, id, key, now_ + 26 * 7 * 24h}}) {
    auto opened = documents_.open(s, i, k, std::nullopt, Documents::Want::kFile, t);
    ASSERT_TRUE(opened);
    EXPECT_FALSE(*opened);
  }
  EXPECT_EQ(*documents_.delete_expired(now_ + 26 * 7 * 24h), 1);
}

TEST_F(DocumentsTest, TenWrongAddressesLock) {
  auto url = documents_.upload(service_, file("text", "a.txt"), "patient@example.org", "https://h/", now_);
  ASSERT_TRUE(url);
  const auto [service, id, key] = parts(*url);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ((**documents_.open(service_, id, key, "x@example.org", Documents::Want::kFile, now_)).state,
              DocumentAccess::State::kWrongEmail);
  }
  EXPECT_EQ((**documents_.open(service_, id, key, "x@example.org", Documents::Want::kFile, now_)).state,
            DocumentAccess::State::kLocked);
  auto locked = documents_.open(service_, id, key, "patient@example.org", Documents::Want::kFile, now_);
  EXPECT_EQ((**locked).state, DocumentAccess::State::kLocked);
  EXPECT_TRUE((**locked).content.empty());
}

TEST_F(DocumentsTest, WithoutConfirmationAndRefusals) {
  FileUpload f = file("a,b\n", std::nullopt);
  f.confirm_email = false;
  f.is_csv = true;
  f.retention_weeks = 1;
  auto url = documents_.upload(service_, f, "patient@example.org", "https://h/", now_);
  ASSERT_TRUE(url);
  const auto [service, id, key] = parts(*url);
  auto opened = documents_.open(service_, id, key, std::nullopt, Documents::Want::kFile, now_);
  EXPECT_EQ((**opened).state, DocumentAccess::State::kReady);
  EXPECT_EQ((**opened).content, "a,b\n");
  EXPECT_EQ((**opened).filename, "document.csv");
  EXPECT_EQ((**opened).mime_type, "text/csv");

  FileUpload bad = file("x");
  bad.file_base64 = "not base64!";
  EXPECT_EQ(documents_.upload(service_, bad, "p@example.org", "https://h/", now_).error().message,
            "Document is not base64 encoded");
  EXPECT_EQ(documents_.upload(service_, file(std::string(kMaxDocumentBytes + 1, 'a')), "p@example.org", "https://h/",
                              now_).error().message,
            "File is larger than 2MB");
  EXPECT_EQ(documents_.upload(service_, file("x", std::string(101, 'a') + ".pdf"), "p@example.org", "https://h/",
                              now_).error().message,
            "`filename` cannot be longer than 100 characters");
  EXPECT_EQ(Documents::test_document_url("https://h/", service_),
            "https://h/services/" + service_.to_string() + "/documents/test-document");
}

}  // namespace
}  // namespace herald::domain
