#include <gtest/gtest.h>

#include <string>

#include "net/http.h"

namespace herald::net {
namespace {

std::string bytes_of(const Response& response, unsigned minor, bool keep_alive, bool head = false) {
  std::string out = "kept|";  // appended to, never replaced
  serialize_response(response, minor, keep_alive, head, out);
  EXPECT_EQ(out.substr(0, 5), "kept|");
  return out.substr(5);
}

TEST(SerializeResponse, CreatedJsonOnAKeptConnection) {
  Response r{201, "application/json", R"({"id":"1"})", {{"Location", "/v2/notifications/1"}}};
  EXPECT_EQ(bytes_of(r, 1, true),
            "HTTP/1.1 201 Created\r\n"
            "Content-Type: application/json\r\n"
            "Strict-Transport-Security: max-age=31536000\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            "Location: /v2/notifications/1\r\n"
            "Content-Length: 10\r\n"
            "\r\n"
            R"({"id":"1"})");
}

TEST(SerializeResponse, ConnectionHeaderFollowsTheVersion) {
  Response r{404, "application/json", "{}", {}};
  const std::string close11 = bytes_of(r, 1, false);
  EXPECT_EQ(close11.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(close11.find("\r\nConnection: close\r\n"), std::string::npos);
  const std::string keep10 = bytes_of(r, 0, true);
  EXPECT_EQ(keep10.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(keep10.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(bytes_of(r, 1, true).find("Connection:"), std::string::npos);
  EXPECT_EQ(bytes_of(r, 0, false).find("Connection:"), std::string::npos);
}

TEST(SerializeResponse, HeadKeepsTheLengthAndDropsTheBody) {
  Response r{200, "text/plain", "hello", {}};
  const std::string out = bytes_of(r, 1, true, true);
  EXPECT_NE(out.find("\r\nContent-Length: 5\r\n\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(SerializeResponse, NoContentAnswersCarryNoLengthAndNoBody) {
  for (int status : {204, 304, 101}) {
    Response r{status, "application/json", "", {}};
    const std::string out = bytes_of(r, 1, true);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n") << status;
  }
}

TEST(SerializeResponse, TheResponsesOwnHeadersReplaceTheDefaultsOnce) {
  Response r{200,
             "text/html",
             "x",
             {{"cache-control", "private"}, {"X-A", "1"}, {"x-a", "2"}, {"Content-Length", "99"}, {"Connection", "x"}}};
  const std::string out = bytes_of(r, 1, true);
  EXPECT_EQ(out.find("no-store"), std::string::npos);
  EXPECT_NE(out.find("\r\ncache-control: private\r\n"), std::string::npos);
  EXPECT_EQ(out.find("X-A: 1"), std::string::npos);
  EXPECT_NE(out.find("\r\nx-a: 2\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Length: 1\r\n"), std::string::npos);
  EXPECT_EQ(out.find("99"), std::string::npos);
  EXPECT_EQ(out.find("Connection"), std::string::npos);
}

TEST(SerializeResponse, LineBreaksInAHeaderCannotSplitIt) {
  Response r{200,
             "text/plain",
             "",
             {{"Content-Disposition", "attachment; filename=\"a\r\nSet-Cookie: s=1\""}, {"X-B\r\nY", "v\0w"}}};
  r.headers[1].second = std::string("v\0w", 3);
  const std::string out = bytes_of(r, 1, true);
  EXPECT_EQ(out.find("\r\nSet-Cookie"), std::string::npos);
  EXPECT_NE(out.find("filename=\"a  Set-Cookie: s=1\""), std::string::npos);
  EXPECT_NE(out.find("\r\nX-B  Y: v w\r\n"), std::string::npos);
}

TEST(SerializeResponse, TheHeadIsTheResponseWithoutItsBody) {
  Response r{200, "application/pdf", std::string(40000, 'x'), {}};
  std::string head;
  serialize_response_head(r, 1, true, head);
  std::string whole;
  serialize_response(r, 1, true, false, whole);
  EXPECT_EQ(whole, head + r.body);
  EXPECT_NE(head.find("\r\nContent-Length: 40000\r\n\r\n"), std::string::npos);
  EXPECT_TRUE(status_has_body(200));
  EXPECT_FALSE(status_has_body(204));
  EXPECT_FALSE(status_has_body(304));
  EXPECT_FALSE(status_has_body(100));
}

TEST(SerializeResponse, AnUnknownStatusStillHasAReason) {
  Response r{299, "application/json", "", {}};
  EXPECT_EQ(bytes_of(r, 1, true).rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
}

}  // namespace
}  // namespace herald::net
