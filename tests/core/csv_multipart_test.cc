// The readers of uploaded files: CSV (core/csv.h) and multipart/form-data (core/multipart.h).

#include <gtest/gtest.h>

#include "core/csv.h"
#include "core/multipart.h"

namespace herald {
namespace {

TEST(Csv, ReadsQuotedFieldsLineBreaksAndAByteOrderMark) {
  auto rows = csv::parse(
      "\xEF\xBB\xBF"
      "email address,name\r\n\"a@x.nhs.uk\",\"Smith, \"\"Jo\"\"\"\r\nb@x.nhs.uk,\"two\nlines\"\n\n");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0], (std::vector<std::string>{"email address", "name"}));  // no BOM in the first name
  EXPECT_EQ((*rows)[1], (std::vector<std::string>{"a@x.nhs.uk", "Smith, \"Jo\""}));
  EXPECT_EQ((*rows)[2], (std::vector<std::string>{"b@x.nhs.uk", "two\nlines"}));
  EXPECT_EQ((*rows)[3], (std::vector<std::string>{""}));  // the blank line
}

TEST(Csv, RefusesStrayAndUnterminatedQuotesWithTheirLine) {
  auto stray = csv::parse("a,b\nx\"y,z\n");
  ASSERT_FALSE(stray);
  EXPECT_EQ(stray.error().message, "line 2: stray quote");
  auto open = csv::parse("a,b\n\"x,z\n");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, "line 3: unterminated quote");
}

TEST(Multipart, BoundaryIsReadFromTheContentTypeQuotedOrNot) {
  EXPECT_EQ(multipart::boundary_of("multipart/form-data; boundary=----WebKitFormBoundaryAbC123"),
            "----WebKitFormBoundaryAbC123");
  EXPECT_EQ(multipart::boundary_of("Multipart/Form-Data;boundary=\"a b\""), "a b");
  EXPECT_FALSE(multipart::boundary_of("application/x-www-form-urlencoded"));
  EXPECT_FALSE(multipart::boundary_of("multipart/form-data"));
  EXPECT_FALSE(multipart::boundary_of("multipart/form-data; boundary=" + std::string(71, 'x')));
}

TEST(Multipart, ReadsFieldsAndFilesAsChromiumSendsThem) {
  const std::string body =
      "------B\r\n"
      "Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
      "tok\r\n"
      "------B\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"my %22list%22.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\n"
      "email address\r\n------ not the boundary\r\na@x.nhs.uk\r\n"
      "------B--\r\n";
  auto parts = multipart::parse(body, "----B");
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "csrf_token");
  EXPECT_FALSE((*parts)[0].filename);
  EXPECT_EQ((*parts)[0].data, "tok");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "my \"list\".csv");
  EXPECT_EQ((*parts)[1].content_type, "text/csv");
  EXPECT_EQ((*parts)[1].data, "email address\r\n------ not the boundary\r\na@x.nhs.uk");
}

TEST(Multipart, AnEmptyFileInputIsAPartWithAnEmptyFileName) {
  auto parts = multipart::parse(
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\r\n--B--",
      "B");
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].data, "");
}

TEST(Multipart, RefusesMalformedBodies) {
  const auto refused = [](std::string_view body) { return !multipart::parse(body, "B"); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("no boundary here"));
  // No final boundary.
  EXPECT_TRUE(refused("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue"));
  // Headers that never end.
  EXPECT_TRUE(refused("--B\r\nContent-Disposition: form-data; name=\"a\""));
  // Not form-data, or without a name.
  EXPECT_TRUE(refused("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--B--"));
  EXPECT_TRUE(refused("--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--"));
  EXPECT_TRUE(refused("--B\r\nX: y\r\n\r\nv\r\n--B--"));
  // A header line without a colon.
  EXPECT_TRUE(refused("--B\r\nContent-Disposition: form-data; name=\"a\"\r\nbroken\r\n\r\nv\r\n--B--"));
  // Too many parts.
  std::string many;
  for (int i = 0; i < 3; ++i) many += "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n";
  EXPECT_FALSE(multipart::parse(many + "--B--", "B", 2));
  EXPECT_TRUE(multipart::parse(many + "--B--", "B", 3));
}

TEST(Multipart, APreambleBeforeTheFirstBoundaryIsIgnored) {
  auto parts = multipart::parse("preamble\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--", "B");
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "v");
}

}  // namespace
}  // namespace herald
