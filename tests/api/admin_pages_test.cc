// The admin UI's building blocks: where re-authentication may send a browser back to, which
// cookie is the session's, that every value is escaped in the markup, the security headers of
// every page, and dates as people read them.
#include <gtest/gtest.h>

#include "api/admin/base.h"
#include "api/admin/pages.h"
#include "api/html.h"

namespace herald::api::admin {
namespace {

TEST(AdminPages, ReauthenticationReturnsOnlyToAPathOnThisSite) {
  EXPECT_EQ(safe_next("/services/abc/api-keys/new"), "/services/abc/api-keys/new");
  EXPECT_EQ(safe_next("/account?x=1"), "/account?x=1");
  for (const char* elsewhere : {"", "//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:x",
                                "evil", "/ok\r\nSet-Cookie: x=1", "/\t"}) {
    EXPECT_EQ(safe_next(elsewhere), "/") << elsewhere;
  }
  auto response = reauthentication_needed("/services/a b/settings");
  EXPECT_EQ(response.status, 303);
  bool located = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "Location") {
      EXPECT_EQ(value, "/re-authenticate?next=%2Fservices%2Fa%20b%2Fsettings");
      located = true;
    }
  }
  EXPECT_TRUE(located);
}

TEST(AdminPages, TheSessionCookieIsFoundByItsWholeName) {
  net::Request request;
  request.headers.emplace_back("Cookie",
                               "__Host-herald-session-old=nope; a=1;  __Host-herald-session=tok; __Host-herald-form=f");
  EXPECT_EQ(cookie(request, kSessionCookie), "tok");
  EXPECT_EQ(cookie(request, kFormCookie), "f");
  EXPECT_EQ(cookie(request, "missing"), "");
  net::Request none;
  EXPECT_EQ(cookie(none, kSessionCookie), "");
}

TEST(AdminPages, EveryValueIsEscaped) {
  const std::string evil = "\"><script>alert(1)</script>";
  Page page{evil, paragraph(evil)};
  page.user_name = evil;
  page.errors = {{evil, evil}};
  page.navigation = {{"/x\"y", evil}};
  const std::string html =
      render(page) + input({"id", evil, "text", evil, "", evil, evil}) +
      textarea({"body", evil, "", evil, "", evil, evil}) + checkboxes("p", evil, {{evil, evil}}, {evil}, evil) +
      radios("r", evil, {{evil, evil}}, evil) + table(evil, {evil}, {{html_escape(evil)}}) + summary_row(evil, evil) +
      small_form("/a", "t", "", evil, evil) + button_link("/b", evil) + link("/c", evil);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<script src=\"/assets/init.js\" type=\"module\">"), std::string::npos) << "only our own";
}

TEST(AdminPages, ChoicesKeepWhatWasTicked) {
  const std::string html = checkboxes("permissions", "Permissions", {{"view", "See"}, {"send", "Send"}}, {"send"});
  EXPECT_NE(html.find("id=\"permissions\" name=\"permissions\" type=\"checkbox\" value=\"view\">"), std::string::npos);
  EXPECT_NE(html.find("id=\"permissions-send\" name=\"permissions\" type=\"checkbox\" value=\"send\" checked>"),
            std::string::npos);
  EXPECT_EQ(error_for({{"Enter a name", "name"}}, "name"), "Enter a name");
  EXPECT_EQ(error_for({{"Enter a name", "name"}}, "email"), "");
}

TEST(AdminPages, EveryPageForbidsInlineScriptAndFraming) {
  const auto header = [](const net::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };
  auto page = html(200, {"Title", "<p>x</p>"});
  const std::string csp = header(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_EQ(csp.find("frame-src"), std::string::npos);
  EXPECT_EQ(header(page, "X-Frame-Options"), "DENY");
  Page framing{"Template", ""};
  framing.frames_self = true;
  const std::string framing_csp = header(html(200, framing), "Content-Security-Policy");
  EXPECT_NE(framing_csp.find("frame-src 'self'"), std::string::npos);
  EXPECT_EQ(framing_csp.find("unsafe"), std::string::npos);
}

TEST(AdminPages, TimesReadAsPeopleWriteThem) {
  EXPECT_EQ(human_time(*parse_timestamp("2026-12-03T09:05:59.000000Z")), "3 December 2026 at 09:05 UTC");
  EXPECT_EQ(human_time(*parse_timestamp("2027-01-31T23:59:00.000000Z")), "31 January 2027 at 23:59 UTC");
}

}  // namespace
}  // namespace herald::api::admin
