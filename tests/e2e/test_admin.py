#!/usr/bin/python3
"""End to end: the admin web UI's sign-in over real HTTPS, as a browser without JavaScript uses
it (forms, cookies, redirects): a user made with `herald user create` enrols through the
one-time link (password, TOTP computed here, recovery codes), signs in with password then code,
sees only their own services; and the refusals: wrong password, wrong and replayed codes,
missing CSRF token, a form from another origin, another service's URL, a used link, signing out;
re-authentication returning only to a path on this site.
Every response carries the UI's security headers; every step is in the audit log.
Usage: test_admin.py /path/to/herald
"""
import base64
import email
import email.policy
import hashlib
import hmac
import http.client
import json
import os
import re
import ssl
import struct
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests, wait_for_file  # noqa: E402

HERALD = sys.argv[1]
PASSWORD = "correct horse battery staple"


def totp(secret_base32, offset=0):
    """RFC 6238's code for now (+ offset steps), as an authenticator app computes it."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int(time.time()) // 30 + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    at = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[at:at + 4])[0] & 0x7FFFFFFF) % 1000000)


def wait_for_next_step():
    """Into the next 30 s step: a code of the step just used would be refused as a replay."""
    step = int(time.time()) // 30
    while int(time.time()) // 30 == step:
        time.sleep(0.2)


def wait_for_fresh_step():
    """Past the current 30 s step when it is about to end, so a code stays valid while used."""
    if int(time.time()) % 30 > 25:
        time.sleep(31 - int(time.time()) % 30)


class Browser:
    """Cookies, forms and redirects over HTTPS, as a browser does them (no JavaScript)."""

    def __init__(self, herald, port):
        self.port = port
        self.context = ssl.create_default_context(cafile=herald.cert)
        self.cookies = {}
        self.set_cookie_headers = []

    def request(self, method, path, form=None, headers=None):
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")  # a PDF too
        headers = {k.lower(): v for k, v in response.getheaders()}
        for k, v in response.getheaders():
            if k.lower() == "set-cookie":
                self.set_cookie_headers.append(v)
                name, value = v.split(";")[0].split("=", 1)
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        return response.status, headers, text

    def get(self, path):
        return self.request("GET", path)

    def upload(self, path, fields, filename, content):
        """A multipart form with one file input called "file", as a browser sends it."""
        boundary = "----HeraldTestBoundary" + os.urandom(8).hex()
        parts = []
        for name, value in fields.items():
            parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value))
        parts.append('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                     'Content-Type: text/csv\r\n\r\n%s\r\n' % (boundary, filename.replace('"', "%22"), content))
        body = "".join(parts) + "--%s--\r\n" % boundary
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=30)
        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary,
                   "Cookie": "; ".join("%s=%s" % kv for kv in self.cookies.items())}
        conn.request("POST", path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        result = response.status, {k.lower(): v for k, v in response.getheaders()}, text
        conn.close()
        return result

    def post(self, path, form, headers=None):
        return self.request("POST", path, form=form, headers=headers)


def hidden(page, name):
    match = re.search(r'<input type="hidden" name="%s" value="([^"]*)">' % re.escape(name), page)
    assert match, "no hidden %s in %s" % (name, page[:2000])
    return match.group(1)


def check_headers(headers):
    csp = headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, csp
    assert headers.get("x-frame-options") == "DENY", headers
    assert headers.get("strict-transport-security", "").startswith("max-age="), headers
    assert headers.get("referrer-policy") == "same-origin", headers


def started(ws, role="all"):
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port))
    mine, mine_key = herald.create_service("Clinic A")
    other, other_key = herald.create_service("Clinic B")
    herald.keys = {mine: mine_key, other: other_key}
    out = herald.run_cli("user", "create", "--email", "Ada@Example.org", "--name", "Ada Lovelace")
    link = re.search(r"https://\S+/enrol/(\S+)", out)
    assert link, out
    herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions", "send")
    herald.start(role)
    admin_port = int(wait_for_file(os.path.join(herald.dir, "ready.admin")))
    return herald, admin_port, link.group(1), mine, other


def enrol(browser, link, email="ada@example.org"):
    status, headers, page = browser.get("/enrol/" + link)
    assert status == 200, (status, page)
    check_headers(headers)
    assert "<svg" in page and "Signing in as " + email in page, page
    csrf = hidden(page, "csrf_token")
    secret = hidden(page, "totp_secret")
    key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', page).group(1)
    assert key == secret
    form = {"csrf_token": csrf, "totp_secret": secret, "password": PASSWORD, "password_again": PASSWORD}
    status, _, _ = browser.post("/enrol/" + link, dict(form, csrf_token="forged"))
    assert status == 403, "a forged enrolment form"
    status, _, page = browser.post("/enrol/" + link, dict(form, password_again="something else entirely"))
    assert status == 400 and "The passwords do not match" in page, (status, page)
    status, _, page = browser.post("/enrol/" + link, dict(form, code="000000" if totp(secret) != "000000" else "111111"))
    assert status == 400 and "The code is not right" in page, (status, page)
    status, _, page = browser.post("/enrol/" + link, dict(form, password="short", password_again="short",
                                                          code=totp(secret)))
    assert status == 400 and "at least 12 characters" in page, (status, page)
    wait_for_fresh_step()
    status, _, page = browser.post("/enrol/" + link, dict(form, code=totp(secret)))
    assert status == 200 and "Your account is ready" in page, (status, page)
    assert "__Host-herald-session" in browser.cookies
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)
    assert len(codes) == 10, page
    return secret, codes


def sign_in(browser, email, password):
    status, _, page = browser.get("/sign-in")
    assert status == 200, (status, page)
    return browser.post("/sign-in", {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password})


def second_factor(browser, code):
    status, _, page = browser.get("/two-factor")
    assert status == 200, (status, page)
    return browser.post("/two-factor", {"csrf_token": hidden(page, "csrf_token"), "code": code})


def test_enrol_sign_in_and_see_only_your_services():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)
        enrolling = Browser(herald, port)
        secret, recovery = enrol(enrolling, link)
        status, _, page = enrolling.get("/enrol/" + link)
        assert status == 404 and "expired or has been used" in page, "a link works once"
        status, _, page = enrolling.get("/")
        assert status == 200 and "Clinic A" in page, "enrolling gave both factors: signed in"

        browser = Browser(herald, port)
        wait_for_next_step()  # the enrolment's code was this step's

        status, headers, _ = browser.get("/")
        assert status == 303 and headers["location"] == "/sign-in", "signed out: to the sign-in page"
        status, _, page = sign_in(browser, "ada@example.org", "not the password at all")
        assert status == 401 and "Enter a correct email address and password" in page, (status, page)
        status, _, page = sign_in(browser, "nobody@example.org", PASSWORD)
        assert status == 401 and "Enter a correct email address and password" in page, "the same words either way"
        status, headers, _ = sign_in(browser, "ada@example.org", PASSWORD)
        assert status == 303 and headers["location"] == "/two-factor", (status, headers)
        session_cookie = [c for c in browser.set_cookie_headers if c.startswith("__Host-herald-session=")][-1]
        for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
            assert attribute in session_cookie, session_cookie
        status, _, _ = browser.get("/")
        assert status == 303, "a password alone is not a session"
        status, _, page = second_factor(browser, "000000" if totp(secret) != "000000" else "111111")
        assert status == 401 and "Enter the code your authenticator app shows now" in page, (status, page)
        wait_for_fresh_step()
        code = totp(secret)
        status, headers, _ = second_factor(browser, code)
        assert status == 303 and headers["location"] == "/", (status, headers)

        status, headers, page = browser.get("/")
        assert status == 200, (status, page)
        check_headers(headers)
        assert headers.get("cache-control") == "no-store", headers
        assert "Clinic A" in page and "Clinic B" not in page and "Ada Lovelace" in page, page
        status, _, page = browser.get("/services/" + mine)
        assert status == 200 and "Clinic A" in page and "<li>send</li>" in page and "<li>view</li>" in page, page
        status, _, page = browser.get("/services/" + other)
        assert status == 404 and "Clinic B" not in page, "another service answers as if it did not exist"
        status, _, _ = browser.get("/services/not-a-uuid")
        assert status == 404

        # The same code in a second browser, within its 30 s: refused (each code signs in once).
        second = Browser(herald, port)
        assert sign_in(second, "ada@example.org", PASSWORD)[0] == 303
        status, _, page = second_factor(second, code)
        assert status == 401, "a replayed code"
        # A recovery code signs in once.
        status, _, _ = second_factor(second, recovery[0])
        assert status == 303, "recovery code"
        third = Browser(herald, port)
        assert sign_in(third, "ada@example.org", PASSWORD)[0] == 303
        assert second_factor(third, recovery[0])[0] == 401, "a recovery code works once"

        # Re-authentication (before sensitive actions) goes back only to a path on this site.
        status, _, page = browser.get("/re-authenticate?next=//evil.example/x")
        assert status == 200 and hidden(page, "next") == "/", page
        csrf = hidden(page, "csrf_token")
        status, _, page = browser.post("/re-authenticate", {"csrf_token": csrf, "next": "/account", "code": "12"})
        assert status == 401 and "Enter the code your authenticator app shows now" in page, (status, page)
        status, headers, _ = browser.post("/re-authenticate", {"csrf_token": csrf, "next": "https://evil.example/",
                                                               "code": recovery[1]})
        assert status == 303 and headers["location"] == "/", headers
        status, headers, _ = browser.post("/re-authenticate", {"csrf_token": csrf, "next": "/account",
                                                               "code": recovery[2]})
        assert status == 303 and headers["location"] == "/account", headers
        status, _, page = browser.get("/account")
        assert status == 200 and "Recovery codes left" in page and ">7<" in page, page
        assert "You have no security keys" in page, page

        # Forms without their CSRF token, or from another origin, are refused.
        status, _, _ = browser.post("/sign-out", {})
        assert status == 403, "no CSRF token"
        status, _, page = browser.get("/")
        token = hidden(page, "csrf_token")
        status, _, _ = browser.post("/sign-out", {"csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert status == 403, "another origin"
        status, _, _ = browser.post("/sign-out", {"csrf_token": token + "x"})
        assert status == 403, "a wrong token"
        status, headers, _ = browser.post("/sign-out", {"csrf_token": token},
                                          headers={"Origin": "https://localhost:%d" % port})
        assert status == 303 and headers["location"] == "/sign-in", (status, headers)
        assert "__Host-herald-session" not in browser.cookies
        status, _, _ = browser.request("GET", "/", headers={"Cookie": session_cookie.split(";")[0]})
        assert status == 303, "the signed-out session is gone on the server too"

        # The stylesheet is NHS.UK's, served by Herald, with nothing loaded from elsewhere.
        status, headers, css = browser.get("/assets/nhsuk.css")
        assert status == 200 and headers["content-type"].startswith("text/css") and ".nhsuk-header" in css
        assert "assets.nhs.uk" not in css and "https://" not in css, "fonts are not fetched from NHS's CDN"

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        actions = [(e.get("action"), e.get("outcome")) for e in audit]
        assert ("admin.enrolled", "success") in actions, actions
        assert ("admin.sign_in.password", "failure: wrong password") in actions, actions
        assert ("admin.sign_in.password", "failure: unknown email") in actions, actions
        assert ("admin.sign_in.second_factor", "failure: replayed code") in actions, actions
        assert ("admin.sign_in.second_factor", "success") in actions, actions
        assert ("admin.request_refused", "failure: cross-origin form") in actions, actions
        assert ("admin.reauthenticate", "success") in actions, actions
        assert ("user.created", "success") in actions, actions
        assert link not in json.dumps(audit), "an enrolment link's token never reaches the audit log"


def test_repeated_failures_lock_the_account():
    with Workspace() as ws:
        herald, port, link, _, _ = started(ws)
        enrol(Browser(herald, port), link)
        browser = Browser(herald, port)
        for attempt in range(4):
            assert sign_in(browser, "ada@example.org", "wrong password %d" % attempt)[0] == 401
        status, _, page = sign_in(browser, "ada@example.org", "wrong password 5")
        assert status == 429 and "Too many attempts" in page, (status, page)
        status, _, page = sign_in(browser, "ada@example.org", PASSWORD)
        assert status == 429, "not even the right password while locked"


def test_user_commands_list_disable_and_relink():
    with Workspace() as ws:
        herald, port, link, mine, _ = started(ws)
        enrol(Browser(herald, port), link)
        listed = herald.run_cli("user", "list")
        assert "ada@example.org" in listed and "NOT ENROLLED" not in listed, listed
        assert ("service %s: view send" % mine) in listed, listed
        relinked = herald.run_cli("user", "link", "--email", "ada@example.org")
        new_link = re.search(r"/enrol/(\S+)", relinked).group(1)
        assert Browser(herald, port).get("/enrol/" + link)[0] == 404, "the old link stays used"
        assert Browser(herald, port).get("/enrol/" + new_link)[0] == 200, "a new link to enrol again"
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine)
        assert "service " not in herald.run_cli("user", "list"), "no permissions: no longer a member"
        herald.run_cli("user", "disable", "--email", "ada@example.org")
        assert "DISABLED" in herald.run_cli("user", "list")
        assert sign_in(Browser(herald, port), "ada@example.org", PASSWORD)[0] == 401, "a disabled user"
        assert Browser(herald, port).get("/enrol/" + new_link)[0] == 404, "nor can they enrol again"
        code, _, err = herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine,
                                      "--permissions", "admin", check=False)
        assert code != 0 and "unknown permission admin" in err, err


def signed_in_browser(herald, port, link):
    """Enrolling signs the person in: a browser with a fresh second factor."""
    browser = Browser(herald, port)
    enrol(browser, link)
    return browser


def test_service_pages_answer_only_members_with_the_permission():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        theirs = herald.create_template(other, "Their subject", "Their body", name="Theirs")
        browser = signed_in_browser(herald, port, link)

        # Every page of another service answers as if it did not exist, GET and POST alike.
        status, _, page = browser.get("/")
        csrf = hidden(page, "csrf_token")
        base = "/services/" + other
        for path in ["", "/api-keys", "/api-keys/new", "/templates", "/templates/new", "/templates/new?type=sms",
                     "/templates/" + theirs, "/templates/" + theirs + "/edit",
                     "/templates/" + theirs + "/email-preview", "/templates/" + theirs + "/letter-preview.pdf",
                     "/team", "/team/invite", "/team/" + theirs, "/notifications", "/notifications?to=a@b.org",
                     "/notifications/" + theirs, "/settings", "/audit",
                     "/templates/" + theirs + "/send", "/templates/" + theirs + "/upload", "/jobs",
                     "/jobs/" + theirs, "/jobs/" + theirs + "/progress"]:
            status, headers, page = browser.get(base + path)
            assert status == 404 and "Their" not in page and "Clinic B" not in page, (path, status, page[:300])
            check_headers(headers)
        for path, form in [("/api-keys", {"name": "k", "type": "normal"}),
                           ("/templates", {"type": "email", "name": "n", "subject": "s", "body": "b"}),
                           ("/templates/" + theirs, {"name": "mine now", "subject": "s", "body": "b"}),
                           ("/team", {"email": "mallory@example.org", "name": "M", "permissions": "view"}),
                           ("/settings/retention", {"retention_days": "3"}), ("/settings/go-live", {}),
                           ("/jobs/" + theirs + "/start", {})]:
            status, _, _ = browser.post(base + path, dict(form, csrf_token=csrf))
            assert status == 404, (path, status)

        # In her own service, "send" lets her see templates but not change them or the keys.
        base = "/services/" + mine
        assert browser.get(base + "/templates")[0] == 200
        status, _, page = browser.get(base + "/templates/new?type=email")
        assert status == 403 and "You do not have permission" in page, (status, page)
        assert browser.get(base + "/api-keys")[0] == 403
        status, _, _ = browser.post(base + "/templates", {"csrf_token": csrf, "type": "email", "name": "n",
                                                          "subject": "s", "body": "b"})
        assert status == 403, status
        status, _, _ = browser.post(base + "/api-keys", {"csrf_token": csrf, "name": "k", "type": "normal"})
        assert status == 403, status

        # Given the permissions, the same forms work, and only with their CSRF token.
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "manage_templates,manage_api_keys")
        form = {"type": "sms", "name": "Reminder", "subject": "", "body": "Hello ((name)), see you soon"}
        assert browser.post(base + "/templates", form)[0] == 403, "no CSRF token"
        status, _, _ = browser.post(base + "/templates", dict(form, csrf_token=csrf),
                                    headers={"Origin": "https://evil.example"})
        assert status == 403, "another origin"
        status, _, page = browser.post(base + "/templates", dict(form, csrf_token=csrf, body=""))
        assert status == 400 and "Template body must not be empty" in page, (status, page)
        status, headers, _ = browser.post(base + "/templates", dict(form, csrf_token=csrf))
        assert status == 303, status
        template_path = headers["location"]
        status, _, page = browser.get(template_path)
        assert status == 200 and "Hello ((name)), see you soon" in page and "1 text message" in page, page
        status, _, page = browser.get(template_path + "/edit")
        assert status == 200 and "Hello ((name))" in page
        status, _, _ = browser.post(template_path, {"csrf_token": csrf, "name": "Reminder", "subject": "",
                                                    "body": "Hi ((name))"})
        assert status == 303
        status, _, page = browser.get(template_path + "?version=1")
        assert status == 200 and "This is version 1 of 2" in page and "Hello ((name))" in page, page
        assert browser.get(template_path + "/email-preview")[0] == 404, "a text message has no email preview"
        letter = herald.create_template(mine, "Your appointment", "Dear ((name)),\n\nSee you soon.", name="Letter",
                                        type="letter")
        status, headers, pdf = browser.request("GET", base + "/templates/%s/letter-preview.pdf" % letter)
        assert status == 200 and headers["content-type"] == "application/pdf" and pdf.startswith("%PDF"), headers

        status, _, page = browser.post(base + "/api-keys", {"csrf_token": csrf, "name": "", "type": "team"})
        assert status == 400 and "Key name must be 1 to 255 characters" in page, (status, page)
        status, _, page = browser.post(base + "/api-keys", {"csrf_token": csrf, "name": "Team key", "type": "team"})
        assert status == 201, (status, page)
        key = re.search(r'<code id="api-key">([^<]+)</code>', page).group(1)
        assert key.startswith("team_key-" + mine + "-"), key
        status, _, page = browser.get(base + "/api-keys")
        key_id = re.search(r'action="/services/%s/api-keys/([0-9a-f-]{36})/revoke"' % mine, page)
        assert status == 200 and "Team key" in page and key_id, page
        # Only the key's secret was shown: the page listing keys never shows it again.
        assert key[-36:] not in page
        status, _, _ = browser.post(base + "/api-keys/%s/revoke" % key_id.group(1), {"csrf_token": csrf})
        assert status == 303
        assert "Revoked" in browser.get(base + "/api-keys")[2]

        # The team: Ada (who may now manage it) invites Grace, who enrols through the link.
        status, _, page = browser.get(base + "/team")
        assert status == 200 and "Ada Lovelace" in page and "Invite a team member" not in page, page
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "manage_team")
        status, _, page = browser.post(base + "/team", {"csrf_token": csrf, "email": "grace@example.org",
                                                        "name": "Grace Hopper"})
        assert status == 400 and "Select at least one permission" in page, (status, page)
        status, _, page = browser.post(base + "/team", [("csrf_token", csrf), ("email", "grace@example.org"),
                                                        ("name", "Grace Hopper"), ("permissions", "send")])
        assert status == 201, (status, page)
        grace_link = re.search(r'<code id="enrolment-link">https://[^/]+/enrol/([^<]+)</code>', page).group(1)
        grace = Browser(herald, port)
        status, _, page = grace.get("/enrol/" + grace_link)
        assert status == 200 and "Signing in as grace@example.org" in page, page
        status, _, page = browser.get(base + "/team")
        grace_path = re.search(r'href="(/services/%s/team/[0-9a-f-]{36})"' % mine, page).group(1)
        assert "Grace Hopper" in page and "Send messages" in page, page
        status, _, page = browser.get(grace_path)
        assert status == 200 and 'value="send" checked' in page, page
        assert browser.get(base + "/team/" + mine)[0] == 404, "not a member's id"
        status, _, _ = browser.post(grace_path, [("csrf_token", csrf), ("permissions", "manage_templates")])
        assert status == 303
        assert "Add and edit templates" in browser.get(base + "/team")[2]
        status, _, _ = browser.post(grace_path, {"csrf_token": csrf, "remove": "yes"})
        assert status == 303
        assert "Grace Hopper" not in browser.get(base + "/team")[2], "removed from the team"

        # A person's messages, found through the blind index: this service's only.
        sent_ids, hello = [], {}
        for service in (mine, other):
            template = hello[service] = herald.create_template(service, "Hello", "Hello ((name))", name="Hello")
            status, body = herald.request("POST", "/v2/notifications/email", key=herald.keys[service],
                                          body={"email_address": "Patient.One@Example.org", "template_id": template,
                                                "personalisation": {"name": "Pat"}, "reference": "ref-" + service})
            assert status == 201, body
            sent_ids.append(body["id"])
        status, _, page = browser.get(base + "/notifications?to=" + urllib.parse.quote("patient.one@example.ORG"))
        assert status == 200 and "1 messages" in page and sent_ids[0] in page and sent_ids[1] not in page, page
        status, _, page = browser.get(base + "/notifications/" + sent_ids[0])
        assert status == 200 and "Patient.One@Example.org" in page and "ref-" + mine in page, page
        assert browser.get(base + "/notifications/" + sent_ids[1])[0] == 404, "another service's message"
        status, _, page = browser.get(base + "/notifications?to=nobody")
        assert status == 400 and "Enter an email address or a phone number" in page, (status, page)

        # The email preview is framed by its template page only, runs nothing, and lets only the
        # email's own inline styles apply.
        status, headers, page = browser.get(base + "/templates/%s/email-preview" % hello[mine])
        csp = headers.get("content-security-policy", "")
        assert status == 200 and "Hello ((name))" in page, (status, page)
        assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script" not in csp, csp
        assert "default-src 'none'" in csp and headers.get("x-frame-options") == "SAMEORIGIN", headers
        status, headers, _ = browser.get(base + "/templates/" + hello[mine])
        assert status == 200 and "frame-src 'self'" in headers["content-security-policy"], headers

        # Sending one message from a template (permission "send"), through the API's own checks.
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions", "send")
        status, _, page = browser.get(template_path + "/send")
        assert status == 200 and 'id="placeholder-0"' in page and "Mobile phone number" in page, page
        status, _, page = browser.post(template_path + "/send", {"csrf_token": csrf, "to": "07700900123"})
        assert status == 400 and "Enter name" in page, (status, page)
        status, _, page = browser.post(template_path + "/send", {"csrf_token": csrf, "to": "12",
                                                                 "placeholder-0": "Pat"})
        assert status == 400 and "Enter a valid mobile phone number" in page, (status, page)
        status, headers, _ = browser.post(template_path + "/send", {"csrf_token": csrf, "to": "07700 900123",
                                                                    "placeholder-0": "Pat"})
        assert status == 303 and "/notifications/" in headers["location"], (status, headers)
        status, _, page = browser.get(headers["location"])
        assert status == 200 and "07700 900123" in page and "version 2" in page, page
        status, body = herald.request("GET", "/v2/notifications/" + headers["location"].rsplit("/", 1)[1],
                                      key=herald.keys[mine])
        assert status == 200 and body["body"] == "Hi Pat" and body["template"]["version"] == 2, body
        assert browser.get(base + "/templates/" + theirs + "/send")[0] == 404

        # Settings: retention (3 to 90 days); only a platform admin makes a service live.
        assert browser.get(base + "/settings")[0] == 403, "no manage_settings yet"
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "manage_settings")
        status, _, page = browser.get(base + "/settings")
        assert status == 200 and 'value="7"' in page and "Going live" not in page, page
        for bad in ("2", "91", "seven", ""):
            status, _, page = browser.post(base + "/settings/retention", {"csrf_token": csrf, "retention_days": bad})
            assert status == 400 and "Enter a number of days between 3 and 90" in page, (bad, status)
        status, _, _ = browser.post(base + "/settings/retention", {"csrf_token": csrf, "retention_days": "30"})
        assert status == 303
        assert 'value="30"' in browser.get(base + "/settings")[2]
        assert browser.post(base + "/settings/go-live", {"csrf_token": csrf})[0] == 403, "not a platform admin"
        # What the service sends: its permissions and SMS prefix (limits are a platform admin's).
        assert "Save the limits" not in browser.get(base + "/settings")[2]
        status, _, _ = browser.post(base + "/settings/sending", [("csrf_token", csrf), ("permissions", "email"),
                                                                 ("permissions", "sms"), ("permissions", "inbound_sms"),
                                                                 ("prefix_sms", "no")])
        assert status == 303, status
        page = browser.get(base + "/settings")[2]
        assert 'value="inbound_sms" checked' in page and 'value="letter" checked' not in page, page
        assert 'value="no" checked' in page, "no SMS prefix"
        status, _, page = browser.post(base + "/settings/sending", {"csrf_token": csrf, "permissions": "fax"})
        assert status == 400 and "fax" in page, page
        assert browser.post(base + "/settings/limits", {"csrf_token": csrf, "rate_limit": "1"})[0] == 403
        assert browser.get("/services/new")[0] == 404 and browser.post("/services", {"csrf_token": csrf,
                                                                                     "name": "Mine"})[0] == 404

        # The service's audit log (for those who may change its settings); the platform's is
        # for platform admins only.
        status, _, page = browser.get(base + "/audit")
        assert status == 200 and "template.created" in page and "api_key.revoked" in page, page
        assert other not in page.replace(base, ""), "only this service's entries"
        status, _, page = browser.get(base + "/audit?failures=yes&days=30")
        assert status == 200 and "lacks permission manage_templates" in page and "template.created" not in page, page
        assert browser.get("/audit")[0] == 404, "not a platform admin"

        # A platform admin: the whole audit log, filtered, and making a trial service live once
        # its team asked (Ada manages its settings).
        trial, _ = herald.create_service("Clinic T", live=False)
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", trial, "--permissions",
                       "manage_settings")
        trial_settings = "/services/%s/settings" % trial
        status, _, page = browser.get(trial_settings)
        assert status == 200 and "Add a template: it is what a reviewer looks at" in page, page
        assert "Request to go live" not in page and "Make this service live" not in page, page
        status, _, page = browser.post(trial_settings + "/request-go-live", {"csrf_token": csrf})
        assert status == 400 and "Add a template first" in page, (status, page)
        herald.create_template(trial, "Hello", "Hello", name="Trial template")
        assert browser.post(trial_settings + "/request-go-live", {})[0] == 403, "no CSRF token"
        status, _, _ = browser.post(trial_settings + "/request-go-live", {"csrf_token": csrf})
        assert status == 303, status
        status, _, page = browser.get(trial_settings)
        assert "Ada Lovelace asked for this service to go live on" in page and "Approve" not in page, page
        assert browser.post(trial_settings + "/decline-go-live", {"csrf_token": csrf})[0] == 403, "not a platform admin"
        assert browser.post("/services/%s/settings/request-go-live" % other, {"csrf_token": csrf})[0] == 404
        assert herald.run_cli("service", "go-live-requests").startswith(trial + "\tClinic T\t")
        out = herald.run_cli("user", "create", "--email", "root@example.org", "--name", "Root", "--platform-admin")
        root = Browser(herald, port)
        enrol(root, re.search(r"/enrol/(\S+)", out).group(1), email="root@example.org")
        status, _, page = root.get("/")
        assert status == 200 and "Clinic T" in page and 'href="/audit"' in page, page
        root_csrf = hidden(page, "csrf_token")
        status, _, page = root.get("/audit?action=admin.enrolled")
        assert status == 200 and "admin.enrolled" in page and "template.created" not in page, page
        assert '<p id="audit-count">6 entries</p>' in page, "two enrolments, each after two refusals"
        page = root.get("/audit?action=admin.enrolled&failures=yes")[2]
        assert '<p id="audit-count">4 entries</p>' in page, page
        page = root.get("/")[2]
        assert "<h2>Requests to go live</h2>" in page and trial + "/settings#going-live" in page, page
        status, _, page = root.get(trial_settings)
        assert status == 200 and "Approve: make this service live" in page and "Turn the request down" in page, page
        # Turned down, asked again (from the shell this time), then approved.
        status, _, _ = root.post(trial_settings + "/decline-go-live", {"csrf_token": root_csrf})
        assert status == 303, status
        assert "Requests to go live" not in root.get("/")[2] and herald.run_cli("service", "go-live-requests") == ""
        herald.run_cli("service", "request-go-live", "--service", trial, "--email", "ada@example.org")
        status, _, _ = root.post("/services/%s/settings/go-live" % trial, {"csrf_token": root_csrf})
        assert status == 303
        assert "Requests to go live" not in root.get("/")[2]
        assert "Live" in root.get(trial_settings)[2] and "Going live" not in root.get(trial_settings)[2]
        status, _, page = root.get("/services/%s/settings" % trial)
        assert "Going live" not in page and "<dd class=\"nhsuk-summary-list__value\">Live</dd>" in page, page
        status, _, page = root.post("/services/%s/settings/limits" % trial, {
            "csrf_token": root_csrf, "rate_limit": "0", "email_limit": "10", "sms_limit": "ten", "letter_limit": "1",
            "international_sms_limit": "0"})
        assert status == 400 and "Enter text messages a day as a whole number" in page, page
        status, _, _ = root.post("/services/%s/settings/limits" % trial, {
            "csrf_token": root_csrf, "rate_limit": "60", "email_limit": "10", "sms_limit": "20", "letter_limit": "1",
            "international_sms_limit": "0"})
        assert status == 303, status
        page = root.get("/services/%s/settings" % trial)[2]
        assert "<dd class=\"nhsuk-summary-list__value\">20</dd>" in page, page
        # Creating a service: a platform admin's, from the home page.
        assert "Create a service" in root.get("/")[2]
        status, _, page = root.post("/services", {"csrf_token": root_csrf, "name": "Clinic T"})
        assert status == 400 and "A service with that name already exists" in page, page
        status, headers, _ = root.post("/services", {"csrf_token": root_csrf, "name": "Clinic N"})
        assert status == 303 and headers["location"].startswith("/services/"), (status, headers)
        created = headers["location"].split("/")[2]
        status, _, page = root.get("/services/%s/settings" % created)
        assert status == 200 and "Trial mode" in page, page

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        actions = [(e.get("action"), e.get("outcome")) for e in audit]
        assert ("service.retention_changed", "success") in actions, actions
        assert ("service.went_live", "success") in actions and ("audit.viewed", "success") in actions, actions
        assert ("service.created", "success") in actions and ("service.settings_changed", "success") in actions
        assert [a for a, _ in actions if a.startswith("service.go_live")] == [
            "service.go_live_requested", "service.go_live_declined", "service.go_live_requested"], actions
        assert ("notification.sent", "success") in actions, actions
        assert "patient.one" not in json.dumps(audit).lower(), "searches are audited without the address"
        searches = [e["objects"] for e in audit if e.get("action") == "notifications.searched"]
        assert searches == [{"service_id": mine, "found": "1"}], searches
        for action in ("template.created", "template.updated", "api_key.created", "api_key.revoked", "user.created",
                       "user.permissions_set"):
            assert (action, "success") in actions, (action, actions)
        assert ("admin.request_refused", "failure: lacks permission manage_templates") in actions, actions
        assert key[-36:] not in json.dumps(audit), "an API key's secret never reaches the audit log"


def test_sending_a_list_checks_every_row_first_then_sends_the_rest():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        sink = ws.processes[0]
        template = herald.create_template(mine, "Hello ((name))", "Dear ((name)), bring this letter.",
                                          name="Appointment")
        theirs = herald.create_template(other, "Theirs", "Body", name="Theirs")
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        upload = base + "/templates/%s/upload" % template
        status, _, page = browser.get(upload)
        assert status == 200 and 'enctype="multipart/form-data"' in page and "<li>email address</li>" in page, page

        # Problems with the whole file are shown on the upload page; nothing is stored.
        status, _, page = browser.upload(upload, {"csrf_token": csrf}, "no-names.csv", "email address\na@example.org\n")
        assert status == 400 and "Missing: \u2018name\u2019" in page, (status, page)
        status, _, page = browser.upload(upload, {"csrf_token": csrf}, "empty.csv", "")
        assert status == 400 and "Choose a CSV file to upload" in page, (status, page)
        assert browser.upload(upload, {}, "x.csv", "email address,name\na@example.org,A\n")[0] == 403, "no CSRF token"
        assert browser.upload("/services/%s/templates/%s/upload" % (other, theirs), {"csrf_token": csrf}, "x.csv",
                              "email address\na@example.org\n")[0] == 404, "another service's template"

        # One bad row: the check lists it, and offers to send the others.
        csv = ("Email Address,Name\r\nlist.canary.one@example.org,Pat\r\nnot-an-address,Sam\r\n"
               "list.canary.two@example.org,\"Lee, Jr\"\r\nlist.canary.three@example.org,Jo\r\n")
        status, headers, _ = browser.upload(upload, {"csrf_token": csrf}, "clinic \"list\".csv", csv)
        assert status == 303 and "/jobs/" in headers["location"], (status, headers)
        job_path = headers["location"]
        job_id = job_path.rsplit("/", 1)[1]
        status, _, page = browser.get(job_path)
        assert status == 200 and "Check clinic &quot;list&quot;.csv" in page, page
        assert "<td class=\"nhsuk-table__cell\">3</td>" in page and "Not a valid email address" in page, page
        assert "Send 3 messages" in page, page
        assert browser.get("/services/%s/jobs/%s" % (other, job_id))[0] == 404, "another service's URL"
        assert browser.post(job_path + "/start", {})[0] == 403, "no CSRF token"

        status, headers, _ = browser.post(job_path + "/start", {"csrf_token": csrf})
        assert status == 303 and headers["location"] == job_path, (status, headers)
        assert browser.post(job_path + "/start", {"csrf_token": csrf})[0] == 303, "a second click starts nothing"
        deadline = time.time() + 60
        progress = {}
        while time.time() < deadline:
            status, _, body = browser.get(job_path + "/progress")
            assert status == 200, (status, body)
            progress = json.loads(body)
            if progress["status"] == "finished" and progress["delivered"] == 3:
                break
            time.sleep(0.3)
        assert progress == {"status": "finished", "status_label": "Sent", "rows": 4, "rows_done": 4, "sent": 3,
                            "sending": 0, "delivered": 3, "failed": 0}, progress
        status, _, page = browser.get(job_path)
        assert status == 200 and 'id="job-delivered">3<' in page and "data-job-progress" in page, page
        status, _, page = browser.get(base + "/jobs")
        assert status == 200 and "clinic &quot;list&quot;.csv" in page and "Sent" in page, page
        subjects = sorted(str(email.message_from_bytes(raw, policy=email.policy.default)["subject"])
                          for raw, _ in sink.messages())
        assert subjects == ["Hello Jo", "Hello Lee, Jr", "Hello Pat"], subjects

        # The same from the shell: row errors to stderr, the job's id out, started with --start.
        path = os.path.join(ws.dir, "from-shell.csv")
        with open(path, "w") as f:
            f.write("email address,name\nlist.canary.four@example.org,Kim\nbad,X\n")
        code, out, err = herald.run_cli("job", "send", "--service", mine, "--template", template, "--file", path,
                                        "--start", check=False)
        assert code == 0 and "row 3: Not a valid email address" in err and "1 to send" in err, (code, out, err)
        shell_job = out.strip()
        deadline = time.time() + 60
        while "delivered 1" not in herald.run_cli("job", "status", "--service", mine, "--job", shell_job):
            assert time.time() < deadline, "the shell's job was not delivered"
            time.sleep(0.3)
        listed = herald.run_cli("job", "list", "--service", mine)
        assert shell_job in listed and job_id in listed and "finished 4/4" in listed, listed

        # A member who may only view sees the lists, and may neither upload nor start one.
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions", "view")
        assert browser.get(base + "/jobs")[0] == 200 and browser.get(job_path)[0] == 200
        assert browser.get(upload)[0] == 403
        assert browser.upload(upload, {"csrf_token": csrf}, "x.csv", "email address,name\na@example.org,A\n")[0] == 403
        assert browser.post(job_path + "/start", {"csrf_token": csrf})[0] == 403

        # The API lists a list's notifications only when asked (GOV.UK's include_jobs).
        status, body = herald.request("GET", "/v2/notifications", key=herald.keys[mine])
        assert status == 200 and body["notifications"] == [], body
        status, body = herald.request("GET", "/v2/notifications?include_jobs=true", key=herald.keys[mine])
        assert status == 200 and len(body["notifications"]) == 4, body

        # The dashboard draws the week's emails (delivered in green) with the figures in a table,
        # and the day's report holds them, recipients and all (the day as the API dated them).
        status, _, page = browser.get(base)
        assert status == 200 and '<svg class="herald-chart" role="img"' in page, page
        assert "Emails per day: 4 delivered, 0 failed, 0 not yet" in page, page
        assert '<td class="nhsuk-table__cell">smtp</td>' in page, page
        day = body["notifications"][0]["created_at"][:10]
        status, headers, report = browser.get(base + "/report?day=" + day)
        assert status == 200 and headers["content-type"].startswith("text/csv"), (status, headers)
        assert headers["content-disposition"] == 'attachment; filename="%s-messages.csv"' % day, headers
        assert report.startswith("id,recipient,") and "list.canary.one@example.org" in report, report
        assert report.count("\r\n") >= 2, report
        shell_report = herald.run_cli("report", "day", "--service", mine, "--day", day)
        on_that_day = sum(1 for n in body["notifications"] if n["created_at"].startswith(day))  # midnight-proof
        assert shell_report.count("list.canary") == on_that_day and shell_report.startswith("id,recipient,"), \
            shell_report
        status, _, page = browser.get(base + "/report?day=03/12/2026")
        assert status == 400 and "Enter a day like" in page, (status, page)

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        reports = [e["objects"] for e in audit if e.get("action") == "notifications.report_downloaded"]
        assert len(reports) == 2 and all(r["service_id"] == mine and r["day"] == day for r in reports), reports
        assert "list.canary" not in json.dumps(audit), "the audit log names no recipient"
        uploaded = [e["objects"] for e in audit if e.get("action") == "job.uploaded"]
        assert uploaded == [{"service_id": mine, "job_id": job_id, "template_id": template, "rows": "4"},
                            {"service_id": mine, "job_id": shell_job, "template_id": template, "rows": "2"}], uploaded
        assert [e["objects"] for e in audit if e.get("action") == "job.started"] == [
            {"service_id": mine, "job_id": job_id}, {"service_id": mine, "job_id": shell_job}], audit
        # The file is personal data: none of it is on disk in the clear.
        for name in os.listdir(herald.dir):
            if name.startswith("herald.db"):
                with open(os.path.join(herald.dir, name), "rb") as f:
                    raw = f.read()
                assert b"list.canary" not in raw and b"clinic \"list\"" not in raw, name


def test_a_data_request_exports_then_erases_one_person_in_one_service():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        canary, bystander = "subject.canary@example.org", "bystander@example.org"
        template = herald.create_template(mine, "Hello ((name))", "Dear ((name))", name="Greeting")
        theirs = herald.create_template(other, "Hello ((name))", "Dear ((name))", name="Theirs")
        sent = {}
        for service, t, to in ((mine, template, canary), (mine, template, bystander), (other, theirs, canary)):
            status, body = herald.request("POST", "/v2/notifications/email", key=herald.keys[service], body={
                "email_address": to.upper() if service == other else to, "template_id": t,
                "personalisation": {"name": "secret-name-" + to}})
            assert status == 201, body
            sent[(service, to)] = body["id"]
        herald.run_cli("service", "add-to-guest-list", "--service", mine, "--recipient", canary)
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine + "/data-requests"
        # A list uploaded, not yet sent, with the person on its second row.
        status, headers, _ = browser.upload("/services/%s/templates/%s/upload" % (mine, template),
                                            {"csrf_token": csrf}, "people.csv",
                                            "email address,name\r\n%s,First\r\n%s,Canary\r\n" % (bystander, canary))
        assert status == 303, (status, headers)
        job_path = headers["location"]

        # Only those who manage the service's settings; another service's page does not exist.
        assert browser.get(base)[0] == 403
        assert browser.post(base, {"csrf_token": csrf, "who": canary})[0] == 403
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "send,manage_settings")
        assert browser.get("/services/%s/data-requests" % other)[0] == 404
        assert browser.post("/services/%s/data-requests/export" % other, {"csrf_token": csrf, "who": canary})[0] == 404
        status, headers, page = browser.get(base)
        assert status == 200 and "Email address, mobile number or NHS number" in page, (status, page)
        check_headers(headers)
        status, _, page = browser.post(base, {"csrf_token": csrf, "who": "nobody at all"})
        assert status == 400 and "Enter an email address, a mobile number or an NHS number" in page, page
        assert browser.post(base, {"who": canary})[0] == 403, "no CSRF token"

        status, _, page = browser.post(base, {"csrf_token": csrf, "who": canary.upper()})
        assert status == 200, (status, page)
        for what in ("Messages (emails, text messages, letters)", "Guest list entries", "Rows of lists uploaded here"):
            assert re.search(re.escape(what) + r'</td>\s*<td class="nhsuk-table__cell">1</td>', page), (what, page)

        status, headers, exported = browser.post(base + "/export", {"csrf_token": csrf, "who": canary})
        assert status == 200 and headers["content-type"] == "application/json", (status, headers)
        assert headers["content-disposition"].startswith('attachment; filename="data-request-'), headers
        document = json.loads(exported)
        assert [n["id"] for n in document["notifications"]] == [sent[(mine, canary)]], document
        assert document["notifications"][0]["personalisation"] == {"name": "secret-name-" + canary}, document
        assert document["list_rows"][0]["row"] == 3 and document["list_rows"][0]["cells"]["name"] == "Canary"
        assert document["guest_list"][0]["recipient"] == canary and bystander not in exported, document

        status, _, page = browser.post(base + "/erase", {"csrf_token": csrf, "who": canary})
        assert status == 400 and "Confirm that you understand erasing cannot be undone" in page, (status, page)
        status, _, page = browser.post(base + "/erase", {"csrf_token": csrf, "who": canary, "confirm": "yes"})
        assert status == 200 and "Erased" in page, (status, page)
        status, _, page = browser.post(base, {"csrf_token": csrf, "who": canary})
        assert "Nothing about this person is held by this service." in page, page

        # Gone from the API too; the bystander and the other service keep theirs.
        status, _ = herald.request("GET", "/v2/notifications/" + sent[(mine, canary)], key=herald.keys[mine])
        assert status == 404, status
        for service, to in ((mine, bystander), (other, canary)):
            status, body = herald.request("GET", "/v2/notifications/" + sent[(service, to)], key=herald.keys[service])
            assert status == 200 and body["email_address"].lower() == to and to in body["body"], body
        # The list's other row is sent; the person's row was blanked.
        status, _, page = browser.get(job_path)
        assert "Send 1 message" in page, page
        assert browser.post(job_path + "/start", {"csrf_token": csrf})[0] == 303
        deadline = time.time() + 60
        while "delivered 1" not in herald.run_cli("job", "status", "--service", mine, "--job", job_path.rsplit("/", 1)[1]):
            assert time.time() < deadline, "the list's other row was not sent"
            time.sleep(0.3)

        # The shell: exported to a new file only its owner can read, and erased only when confirmed.
        out = os.path.join(ws.dir, "export.json")
        herald.run_cli("subject", "export", "--service", other, "--email", canary, "--out", out)
        assert oct(os.stat(out).st_mode & 0o777) == "0o600"
        with open(out) as f:
            assert json.load(f)["notifications"][0]["id"] == sent[(other, canary)]
        code, _, err = herald.run_cli("subject", "export", "--service", other, "--email", canary, "--out", out,
                                      check=False)
        assert code != 0 and "cannot create" in err, "an export never overwrites a file"
        code, _, err = herald.run_cli("subject", "erase", "--service", other, "--email", canary, check=False)
        assert code != 0 and "--yes" in err, err
        erased = herald.run_cli("subject", "erase", "--service", other, "--email", canary, "--yes")
        assert erased.startswith("erased: 1 notifications"), erased
        assert herald.run_cli("subject", "find", "--service", other, "--email", canary) == ""

        herald.stop()
        rows = herald.sql("SELECT length(recipient) + length(personalisation) + length(body), "
                          "CASE WHEN redacted_at IS NULL THEN 0 ELSE 1 END FROM notifications WHERE id IN (?, ?)",
                          (sent[(mine, canary)], sent[(other, canary)]))
        assert rows == [(0, 1), (0, 1)], rows
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        actions = [e["action"] for e in audit if e.get("action", "").startswith("subject.")]
        assert actions == ["subject.searched", "subject.exported", "subject.erased", "subject.searched",
                           "subject.exported", "subject.erased", "subject.searched"], actions
        erasures = [e["objects"] for e in audit if e.get("action") == "subject.erased"]
        assert erasures[0]["service_id"] == mine and erasures[0]["notifications"] == "1", erasures
        assert erasures[0]["guest_list_entries"] == "1" and erasures[0]["jobs"] == "1", erasures
        assert "subject.canary" not in json.dumps(audit).lower(), "the audit log never names the person"


def test_a_template_that_asks_sends_a_hosted_unsubscribe_link_and_the_service_sees_the_requests():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        sink = ws.processes[0]
        reader = "unsubscribe.canary@example.org"
        path = os.path.join(ws.dir, "news.txt")
        with open(path, "w") as f:
            f.write("Dear ((name)), here is the news.")
        template = herald.run_cli("template", "create", "--service", mine, "--type", "email", "--name", "News",
                                  "--subject", "News", "--body-file", path, "--unsubscribe-link").strip()
        status, body = herald.request("POST", "/v2/notifications/email", key=herald.keys[mine], body={
            "email_address": reader, "template_id": template, "personalisation": {"name": "Reader"}})
        assert status == 201, body
        herald.wait_for_status(herald.keys[mine], body["id"], {"delivered"})
        mail = email.message_from_bytes(sink.messages()[-1][0], policy=email.policy.default)
        header = str(mail["List-Unsubscribe"])
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", mail
        url = urllib.parse.urlparse(header.strip("<>"))
        assert url.scheme == "https" and url.path.startswith("/unsubscribe/%s/" % body["id"]), header
        assert reader not in header, "the address is sealed in the token"
        plain = mail.get_body(("plain",)).get_content()
        assert "Unsubscribe from these emails" in plain and url.path in plain, plain

        # The person's browser: a page asking first (a GET never unsubscribes), then the request.
        api = Browser(herald, herald.port)
        status, headers, page = api.get(url.path)
        assert status == 200 and "Are you sure you want to unsubscribe?" in page, (status, page)
        assert headers["cache-control"] == "no-store", headers
        status, _, page = api.get(url.path[:-3] + "xyz")
        assert status == 404 and "We could not unsubscribe you from these emails." in page, (status, page)
        # A mail client's one-click POST (RFC 8058), twice: one request.
        one_click = {"Content-Type": "application/x-www-form-urlencoded"}
        for _ in range(2):
            conn = http.client.HTTPSConnection("localhost", herald.port, context=api.context, timeout=30)
            conn.request("POST", url.path, body="List-Unsubscribe=One-Click", headers=one_click)
            response = conn.getresponse()
            answer = json.loads(response.read())
            conn.close()
            assert response.status == 200 and answer == {"result": "success", "message": "Unsubscribe successful"}
        status, _, page = api.post(url.path, {})
        assert status == 200 and "We have your request to unsubscribe" in page, (status, page)

        # The service: the dashboard says so; the report downloads as CSV and is marked completed.
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions", "view")
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        status, _, page = browser.get(base)
        assert status == 200 and "1 email unsubscribe request<" in page, page
        status, _, page = browser.get(base + "/unsubscribe-requests")
        assert status == 200 and "Not downloaded" in page, page
        assert browser.get("/services/%s/unsubscribe-requests" % other)[0] == 404
        assert browser.post(base + "/unsubscribe-requests/pending/download", {})[0] == 403, "no CSRF token"
        status, headers, csv = browser.post(base + "/unsubscribe-requests/pending/download", {"csrf_token": csrf})
        assert status == 200 and headers["content-type"].startswith("text/csv"), (status, headers)
        assert headers["content-disposition"].startswith('attachment; filename="Email unsubscribe requests '), headers
        lines = csv.splitlines()
        assert lines[0] == ("Email address,Template name,Uploaded spreadsheet file name,Template sent at,"
                            "Unsubscribe request received at"), lines
        assert len(lines) == 2 and lines[1].startswith(reader + ",News,N/A,"), lines
        reports = herald.run_cli("unsubscribe", "reports", "--service", mine)
        report_id, count = reports.split()[0], reports.split()[1]
        assert count == "1" and reports.strip().endswith("downloaded"), reports
        status, _, page = browser.get(base + "/unsubscribe-requests/" + report_id)
        assert status == 200 and "Mark as completed" in page, page
        status, headers, _ = browser.post(base + "/unsubscribe-requests/" + report_id,
                                          {"csrf_token": csrf, "done": "yes"})
        assert status == 303, status
        assert "Completed" in browser.get(base + "/unsubscribe-requests")[2]
        assert "email unsubscribe request" not in browser.get(base)[2]
        assert herald.run_cli("unsubscribe", "reports", "--service", mine).strip().endswith("completed")

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        downloads = [e["objects"] for e in audit if e.get("action") == "unsubscribe.report_downloaded"]
        assert downloads == [{"service_id": mine, "report_id": report_id, "requests": "1"}], downloads
        assert "unsubscribe.canary" not in json.dumps(audit), "the audit log names no address"
        for name in os.listdir(herald.dir):
            if name.startswith("herald.db"):
                with open(os.path.join(herald.dir, name), "rb") as f:
                    assert b"unsubscribe.canary" not in f.read(), name


def test_a_routing_plan_is_built_from_the_services_templates_and_versioned():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        herald.create_nhs_client(mine)
        herald.create_nhs_client(other)
        email_t = herald.create_template(mine, "Your appointment", "Dear ((firstName))", name="Appointment").strip()
        sms_t = herald.create_template(mine, None, "Hello ((firstName))", name="Appointment text", type="sms").strip()
        letter_t = herald.create_template(mine, "Your appointment", "Dear ((firstName))", name="Appointment letter",
                                          type="letter").strip()
        braille_t = herald.create_template(mine, "Your appointment", "Braille ((firstName))", name="Braille letter",
                                           type="letter").strip()
        welsh_t = herald.create_template(mine, "Eich apwyntiad", "Annwyl ((firstName))", name="Welsh letter",
                                         type="letter").strip()
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        # A team key (as the service in trial mode) may send to its team (Ada, a member) as to its
        # guest list, and to nobody else.
        team_key = herald.run_cli("key", "create", "--service", mine, "--type", "team", "--name", "team").strip()
        for to, expected in [("ADA@example.org", 201), ("stranger@example.org", 400)]:
            status, body = herald.request("POST", "/v2/notifications/email", key=team_key, body={
                "email_address": to, "template_id": email_t, "personalisation": {"firstName": "Ada"}})
            assert status == expected, (to, status, body)

        # Anyone in the service sees its clients' plans; only those who manage templates edit them.
        status, _, page = browser.get(base + "/routing-plans")
        client = re.search(r'routing-plans/new\?client=([0-9a-f-]{36})', page)
        assert status == 200 and "application id" in page and "Free text: NHS App" in page and not client, page
        client_id = re.search(r"application id ([0-9a-f-]{36})", page).group(1)
        assert browser.get(base + "/routing-plans/new?client=" + client_id)[0] == 403
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "manage_templates")
        status, _, page = browser.get(base + "/routing-plans")
        assert re.search(r'routing-plans/new\?client=' + client_id, page), page
        # Another service's pages and clients answer as if they did not exist.
        assert browser.get("/services/%s/routing-plans" % other)[0] == 404
        theirs = herald.run_cli("nhs", "client", "list").split()
        for word in theirs:
            if re.fullmatch(r"[0-9a-f-]{36}", word) and word != client_id:
                assert browser.get(base + "/routing-plans/new?client=" + word)[0] == 404, word
                assert browser.post(base + "/routing-plans", {"csrf_token": csrf, "client": word,
                                                              "name": "x"})[0] == 404, word

        status, _, page = browser.get(base + "/routing-plans/new?client=" + client_id)
        assert status == 200 and "Appointment text" in page and "Braille letter" in page, page
        plan = {"csrf_token": csrf, "client": client_id, "name": "Appointments",
                "nhsapp_use": "primary", "nhsapp_order": "1", "nhsapp_hours": "24",
                "nhsapp_message": "Dear ((firstName)), see your appointment",
                "email_use": "primary", "email_order": "2", "email_hours": "72", "email_template": email_t,
                "sms_use": "secondary", "sms_order": "1", "sms_hours": "72", "sms_template": sms_t,
                "letter_use": "primary", "letter_order": "3", "letter_hours": "72", "letter_template": letter_t,
                "letter_braille": braille_t, "letter_language_1": "cy", "letter_language_1_template": welsh_t}
        assert browser.post(base + "/routing-plans", dict(plan, csrf_token=""))[0] == 403, "no CSRF token"
        # Mistakes come back as errors at their fields, and nothing is saved.
        status, _, page = browser.post(base + "/routing-plans", dict(plan, nhsapp_use="", email_use="secondary",
                                                                     letter_use="secondary", email_hours="99"))
        assert status == 400 and "Put at least one channel in the primary cascade" in page, page
        assert "Email: enter a time limit from 1 to 72 hours" in page, page
        status, _, page = browser.post(base + "/routing-plans", dict(plan, letter_order="2"))
        assert status == 400 and "Email and letter have the same step" in page, page
        status, _, page = browser.post(base + "/routing-plans", dict(plan, email_template=sms_t))
        assert status == 400 and "is an SMS template, not an email one" in page, page
        assert 'href="#email_template"' in page, "the error links to its field"
        status, _, page = browser.post(base + "/routing-plans", dict(plan, letter_language_1="Welsh!"))
        assert status == 400 and "must be a language tag" in page and 'href="#letter_language_1"' in page, page
        assert "Appointments" not in herald.run_cli("plan", "list", "--client", client_id)

        status, headers, _ = browser.post(base + "/routing-plans", plan)
        assert status == 303, status
        plan_path = headers["location"]
        plan_id = plan_path.rsplit("/", 1)[1]
        status, _, page = browser.get(plan_path)
        assert status == 200 and "Version</dt>" in page and "1 (latest)" in page, page
        assert "Appointment (version 1)" in page and "Braille letter (version 1)" in page, page
        assert "Language: cy" in page and "Dear ((firstName)), see your appointment" in page, page
        shown = json.loads(herald.run_cli("plan", "show", "--plan", plan_id))
        assert [(c["type"], c["cascade"], c["timeLimitHours"]) for c in shown["channels"]] == [
            ("nhsapp", "primary", 24), ("email", "primary", 72), ("letter", "primary", 72),
            ("sms", "secondary", 72)], shown
        assert shown["channels"][1] == {"type": "email", "cascade": "primary", "timeLimitHours": 72,
                                        "template": email_t, "templateVersion": 1}, shown
        assert shown["channels"][2]["variants"] == [
            {"accessibleFormat": "braille", "template": braille_t, "templateVersion": 1},
            {"language": "cy", "template": welsh_t, "templateVersion": 1}], shown

        # Editing starts from the saved plan and saves the next version, pinning the templates'
        # latest versions; the first version stays as it was.
        herald.update_template(mine, email_t, body="Dear ((firstName)), updated")
        status, _, page = browser.get(plan_path + "/edit")
        assert status == 200 and 'value="Appointments"' in page and "see your appointment</textarea>" in page, page
        edited = dict(plan, email_hours="48", sms_use="", override_1_kind="language", override_1_value="pl",
                      override_1_plan="00000000-0000-0000-0000-000000000002")
        del edited["client"]
        status, headers, _ = browser.post(plan_path, edited)
        assert status == 303 and headers["location"] == plan_path, (status, headers)
        status, _, page = browser.get(plan_path)
        assert "2 (latest)" in page and "Appointment (version 2)" in page and "48 hours" in page, page
        assert "Free text: email" in page and "Sent alongside" not in page, page
        status, _, page = browser.get(plan_path + "?version=1")
        assert status == 200 and "Appointment (version 1)" in page and "Sent alongside" in page, page
        assert browser.get(plan_path + "?version=3")[0] == 404
        # A form without JavaScript shows one empty row more than the plan has, so that an edit
        # never drops a language letter.
        more = dict(edited)
        for i, language in enumerate(["cy", "pl", "fr", "de"], start=1):
            more["letter_language_%d" % i] = language
            more["letter_language_%d_template" % i] = welsh_t
        assert browser.post(plan_path, more)[0] == 303
        status, _, page = browser.get(plan_path + "/edit")
        assert 'id="letter_language_4" name="letter_language_4" type="text" value="de"' in page, page
        assert 'id="letter_language_5"' in page and 'id="letter_language_6"' not in page, page
        assert browser.get(plan_path + "?version=4")[0] == 404
        assert browser.get("/services/%s/routing-plans/%s" % (other, plan_id))[0] == 404

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        saved = [(e["action"], e["objects"].get("version")) for e in audit if e.get("action", "").startswith(
            "routing_plan.")]
        assert saved == [("routing_plan.created", "1"), ("routing_plan.versioned", "2"),
                         ("routing_plan.versioned", "3")], saved


def test_settings_pages_change_senders_the_guest_list_and_callbacks():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        herald.create_nhs_client(mine)
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        assert browser.get(base + "/contacts/reply-to")[0] == 403, "send only: no settings"
        assert browser.get(base + "/guest-list")[0] == 403 and browser.get(base + "/callbacks")[0] == 403
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "manage_settings,manage_api_keys")

        def contacts(kind):
            return [line.split("  ") for line in herald.run_cli("service", "contacts", "--service", mine, "--kind",
                                                                kind).splitlines()]

        # Reply-to addresses: added, checked, made the default, removed (the default only when last).
        status, _, page = browser.get(base + "/contacts/reply-to")
        assert status == 200 and "no reply-to email address yet" in page, page
        status, _, page = browser.post(base + "/contacts/reply-to", {"csrf_token": csrf, "value": "not an address"})
        assert status == 400 and "A reply-to address must be a valid email address" in page, page
        assert browser.post(base + "/contacts/reply-to", {"csrf_token": csrf, "value": "help@example.org",
                                                          "default": "yes"})[0] == 303
        assert browser.post(base + "/contacts/reply-to", {"csrf_token": csrf, "value": "other@example.org"})[0] == 303
        [first, second] = contacts("email_reply_to")
        assert first[1:] == ["default", "help@example.org"] and second[1:] == ["-", "other@example.org"], (first,
                                                                                                           second)
        status, _, page = browser.get(base + "/contacts/reply-to/" + second[0])
        assert status == 200 and 'value="other@example.org"' in page, page
        assert browser.post(base + "/contacts/reply-to/" + second[0], {"csrf_token": csrf, "value": "other@example.org",
                                                                       "default": "yes"})[0] == 303
        assert [c[1] for c in contacts("email_reply_to")] == ["-", "default"]
        status, _, page = browser.post(base + "/contacts/reply-to/%s/remove" % second[0], {"csrf_token": csrf})
        assert status == 400 and "The default cannot be removed while there are others" in page, page
        assert browser.post(base + "/contacts/reply-to/%s/remove" % first[0], {"csrf_token": csrf})[0] == 303
        assert [c[0] for c in contacts("email_reply_to")] == [second[0]]
        # Another service's pages, another kind's path and an unknown kind: not found.
        assert browser.get("/services/%s/contacts/reply-to" % other)[0] == 404
        assert browser.get(base + "/contacts/sms-senders/" + second[0])[0] == 404
        assert browser.get(base + "/contacts/fax-numbers")[0] == 404
        assert browser.post("/services/%s/contacts/reply-to/%s/remove" % (other, second[0]),
                            {"csrf_token": csrf})[0] == 404
        assert browser.post(base + "/contacts/reply-to/%s/remove" % second[0], {})[0] == 403, "no CSRF token"
        assert browser.post(base + "/contacts/reply-to/%s/remove" % second[0], {"csrf_token": csrf})[0] == 303
        assert contacts("email_reply_to") == []

        status, _, page = browser.post(base + "/contacts/sms-senders", {"csrf_token": csrf, "value": "x"})
        assert status == 400 and "3 to 11 letters and digits" in page, page
        assert 'name="default" type="checkbox" value="yes" checked' in browser.get(base + "/contacts/sms-senders")[2], \
            "the first is offered as the default"
        assert browser.post(base + "/contacts/sms-senders", {"csrf_token": csrf, "value": "CLINIC"})[0] == 303
        assert [c[1:] for c in contacts("sms_sender")] == [["-", "CLINIC"]], "only when ticked"
        assert browser.post(base + "/contacts/letter-contacts", {"csrf_token": csrf, "value": "Clinic A\n1 High St",
                                                                 "default": "yes"})[0] == 303
        assert "Clinic A<br>1 High St" in browser.get(base + "/contacts/letter-contacts")[2]

        # The guest list: people added and removed; the list holds them, the audit log only ids.
        status, _, page = browser.post(base + "/guest-list", {"csrf_token": csrf, "recipient": "nope"})
        assert status == 400 and "Enter a valid email address or mobile number" in page, page
        for who in ("guest.canary@example.org", "07700 900123"):
            assert browser.post(base + "/guest-list", {"csrf_token": csrf, "recipient": who})[0] == 303
        status, _, page = browser.get(base + "/guest-list")
        assert status == 200 and "guest.canary@example.org" in page and "07700 900123" in page, page
        listed = herald.run_cli("service", "guest-list", "--service", mine).splitlines()
        assert [line.split("  ")[1:3] for line in listed] == [["email", "guest.canary@example.org"],
                                                              ["mobile", "07700 900123"]], listed
        entry = listed[0].split()[0]
        assert browser.post("/services/%s/guest-list/%s/remove" % (other, entry), {"csrf_token": csrf})[0] == 404
        assert browser.post(base + "/guest-list/%s/remove" % entry, {"csrf_token": csrf})[0] == 303
        assert "guest.canary" not in herald.run_cli("service", "guest-list", "--service", mine)
        assert browser.post(base + "/guest-list/%s/remove" % entry, {"csrf_token": csrf})[0] == 404

        # Callbacks: the URL must lead to a public address; the token is never shown again.
        status, _, page = browser.get(base + "/callbacks")
        assert status == 200 and page.count("Not set.") == 2, page
        form = {"csrf_token": csrf, "delivery-receipts-url": "https://127.0.0.1/callback",
                "delivery-receipts-token": "a-secret-token-1234"}
        status, _, page = browser.post(base + "/callbacks/delivery-receipts", form)
        assert status == 400 and "not a public address" in page and "a-secret-token" not in page, page
        status, _, page = browser.post(base + "/callbacks/delivery-receipts",
                                       dict(form, **{"delivery-receipts-url": "https://1.1.1.1/callback",
                                                     "delivery-receipts-token": "short"}))
        assert status == 400 and "The bearer token must be at least 10 characters" in page, page
        # Saved, never called: this test sends nothing.
        assert browser.post(base + "/callbacks/delivery-receipts",
                            dict(form, **{"delivery-receipts-url": "https://1.1.1.1/callback"}))[0] == 303
        status, _, page = browser.get(base + "/callbacks")
        assert "https://1.1.1.1/callback" in page and "a-secret-token" not in page and page.count("Not set.") == 1
        assert herald.run_cli("service", "callbacks", "--service", mine).startswith(
            "delivery_status  https://1.1.1.1/callback  ")
        assert browser.post(base + "/callbacks/delivery-receipts/remove", {"csrf_token": csrf})[0] == 303
        assert herald.run_cli("service", "callbacks", "--service", mine) == ""

        # An NHS Notify receiver: its key shown once.
        status, _, page = browser.get(base + "/nhs-callbacks")
        assert status == 200 and "No receivers" in page, page
        client_id = hidden(page, "client")
        receiver = {"csrf_token": csrf, "client": client_id, "kind": "channel", "url": "https://127.0.0.1/nhs",
                    "header": "x-api-key"}
        status, _, page = browser.post(base + "/nhs-callbacks", receiver)
        assert status == 400 and "not a public address" in page, page
        status, _, page = browser.post(base + "/nhs-callbacks", dict(receiver, url="https://1.1.1.1/nhs"))
        key = re.search(r'<code id="receiver-key">([^<]+)</code>', page)
        assert status == 201 and key and "Channel status" in page, page
        assert key.group(1) not in browser.get(base + "/nhs-callbacks")[2], "shown once"
        target = herald.run_cli("nhs", "callback", "list", "--client", client_id).split()[0]
        assert browser.post("/services/%s/nhs-callbacks/%s/remove" % (other, target), {"csrf_token": csrf})[0] == 404
        assert browser.post(base + "/nhs-callbacks/%s/remove" % target, {"csrf_token": csrf})[0] == 303
        assert herald.run_cli("nhs", "callback", "list", "--client", client_id) == ""
        assert browser.post(base + "/nhs-callbacks/dead/1/replay", {"csrf_token": csrf})[0] == 404

        # The same changes from the shell.
        [letter] = contacts("letter_contact")
        herald.run_cli("service", "update-contact", "--service", mine, "--kind", "letter_contact", "--id", letter[0],
                       "--value", "Clinic A", "--default", "false")
        assert contacts("letter_contact") == [[letter[0], "-", "Clinic A"]], contacts("letter_contact")
        herald.run_cli("service", "remove-contact", "--service", mine, "--kind", "letter_contact", "--id", letter[0])
        assert contacts("letter_contact") == []
        phone = herald.run_cli("service", "guest-list", "--service", mine).split()[0]
        herald.run_cli("service", "remove-from-guest-list", "--service", mine, "--id", phone)
        assert herald.run_cli("service", "guest-list", "--service", mine) == ""
        code, _, err = herald.run_cli("service", "remove-callback", "--service", mine, "--kind", "inbound_sms",
                                      check=False)
        assert code != 0 and "no such callback" in err, (code, err)

        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        actions = [e["action"] for e in audit if e.get("action", "").startswith(("service.", "nhs_callback."))]
        for action in ("service.contact_added", "service.contact_updated", "service.contact_removed",
                       "service.guest_list_added", "service.guest_list_removed", "service.callback_set",
                       "service.callback_removed", "nhs_callback.added", "nhs_callback.removed"):
            assert action in actions, (action, actions)
        assert "guest.canary" not in json.dumps(audit) and "a-secret-token" not in json.dumps(audit)
        for name in os.listdir(herald.dir):
            if name.startswith("herald.db"):
                with open(os.path.join(herald.dir, name), "rb") as f:
                    data = f.read()
                    assert b"guest.canary" not in data and b"a-secret-token" not in data, name


def test_a_list_being_sent_is_cancelled_and_what_was_sent_stays():
    with Workspace() as ws:
        # The admin UI alone: no delivery node runs the list, so it stays in progress until cancelled.
        herald, port, link, mine, other = started(ws, role="admin")
        template = herald.create_template(mine, "Hello", "Hello ((name))", name="List").strip()
        path = os.path.join(ws.dir, "list.csv")
        with open(path, "w") as f:
            f.write("email address,name\n" + "".join("p%d@example.org,P%d\n" % (i, i) for i in range(4)))
        herald.run_cli("service", "go-live", "--service", mine)
        job = herald.run_cli("job", "send", "--service", mine, "--template", template, "--file", path,
                             "--start").split()[0]
        assert herald.run_cli("job", "status", "--service", mine, "--job", job).startswith(
            "status in-progress\nrows 0/4")
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        status, _, page = browser.get(base + "/jobs/" + job)
        assert status == 200 and "Cancel sending the rest" in page, page
        assert browser.post("/services/%s/jobs/%s/cancel" % (other, job), {"csrf_token": csrf})[0] == 404
        assert browser.post(base + "/jobs/%s/cancel" % job, {})[0] == 403, "no CSRF token"
        status, headers, _ = browser.post(base + "/jobs/%s/cancel" % job, {"csrf_token": csrf})
        assert status == 303 and headers["location"] == base + "/jobs/" + job, (status, headers)
        status, _, page = browser.get(base + "/jobs/" + job)
        assert "Cancelled" in page and "Cancel sending the rest" not in page, page
        assert herald.run_cli("job", "status", "--service", mine, "--job", job).startswith(
            "status cancelled\nrows 0/4")
        code, _, err = herald.run_cli("job", "cancel", "--service", mine, "--job", job, check=False)
        assert code != 0 and "only a pending or in-progress job can be cancelled" in err, (code, err)
        # A delivery node now finds nothing to send.
        herald.stop()
        herald.start()
        time.sleep(1)
        assert herald.run_cli("job", "status", "--service", mine, "--job", job).startswith(
            "status cancelled\nrows 0/4\nsent 0")
        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        assert [e["objects"] for e in audit if e.get("action") == "job.cancelled"] == [
            {"service_id": mine, "job_id": job}], audit


def test_a_list_of_letters_is_checked_address_by_address_then_printed_as_the_api_would():
    with Workspace() as ws:
        herald, port, link, mine, other = started(ws)  # Ada may send in Clinic A; nothing in B
        herald.run_cli("service", "set", "--service", mine, "--permissions", "email,sms,letter")
        letter = herald.create_template(mine, "Your appointment", "Dear ((name)), come on ((day)).",
                                        name="Appointment letter", type="letter").strip()
        browser = signed_in_browser(herald, port, link)
        csrf = hidden(browser.get("/")[2], "csrf_token")
        base = "/services/" + mine
        status, _, page = browser.get(base + "/templates/" + letter)
        assert status == 200 and "Send to a list of addresses" in page, page
        upload = base + "/templates/%s/upload" % letter
        status, _, page = browser.get(upload)
        assert status == 200 and "address line 1, address line 2 and address line 3" in page, page
        assert "<li>name</li>" in page and "<li>day</li>" in page, page
        status, _, page = browser.upload(upload, {"csrf_token": csrf}, "no-address.csv", "name,day\nA,Monday\n")
        assert status == 400 and "The file needs a column called \u2018address line 1\u2019" in page, page

        csv = ("address line 1,address line 2,address line 3,postcode,name,day\r\n"
               "Pat Canary,1 Lettercanary Street,Leeds,LS1 1AA,Pat,Monday\r\n"
               "Sam,2 Short Street,,,Sam,Monday\r\n"
               "Lee,3 Lettercanary Road,York,YO1 7HH,Lee,Tuesday\r\n")
        status, headers, _ = browser.upload(upload, {"csrf_token": csrf}, "letters.csv", csv)
        assert status == 303 and "/jobs/" in headers["location"], (status, headers)
        job_path = headers["location"]
        status, _, page = browser.get(job_path)
        assert status == 200 and "Address must be at least 3 lines" in page and "Send 2 letters" in page, page
        status, headers, _ = browser.post(job_path + "/start", {"csrf_token": csrf})
        assert status == 303, (status, headers)
        deadline = time.time() + 60
        progress = {}
        while time.time() < deadline:
            progress = json.loads(browser.get(job_path + "/progress")[2])
            if progress["status"] == "finished":
                break
            time.sleep(0.3)
        # No print supplier here: the letters wait for one, accepted.
        assert progress["rows_done"] == 3 and progress["sent"] == 2 and progress["failed"] == 0, progress

        # As the API would have sent them: each with its address, postage and the PDF that prints.
        status, body = herald.request("GET", "/v2/notifications?include_jobs=true&template_type=letter",
                                      key=herald.keys[mine])
        assert status == 200 and len(body["notifications"]) == 2, body
        for n in body["notifications"]:
            assert n["type"] == "letter" and n["postage"] == "second" and n["status"] == "accepted", n
            assert n["line_1"] in ("Pat Canary", "Lee") and n["postcode"] in ("LS1 1AA", "YO1 7HH"), n
            status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % n["id"], key=herald.keys[mine])
            assert status == 200 and pdf.startswith(b"%PDF-"), (status, pdf[:100])

        # A service in trial mode may only look at its letters.
        trial, _ = herald.create_service("Clinic T", live=False)
        herald.run_cli("service", "set", "--service", trial, "--permissions", "email,sms,letter")
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", trial, "--permissions", "send")
        trial_letter = herald.create_template(trial, "Hello", "Dear ((name))", name="Trial letter", type="letter")
        status, _, page = browser.upload("/services/%s/templates/%s/upload" % (trial, trial_letter.strip()),
                                         {"csrf_token": csrf}, "letters.csv", csv)
        assert status == 400 and "Cannot send letters when service is in trial mode" in page, (status, page)
        herald.stop()
        for name in os.listdir(herald.dir):
            if name.startswith("herald.db"):
                with open(os.path.join(herald.dir, name), "rb") as f:
                    raw = f.read()
                assert b"Lettercanary" not in raw, name


if __name__ == "__main__":
    run_tests([test_enrol_sign_in_and_see_only_your_services, test_repeated_failures_lock_the_account,
               test_user_commands_list_disable_and_relink, test_service_pages_answer_only_members_with_the_permission,
               test_sending_a_list_checks_every_row_first_then_sends_the_rest,
               test_a_data_request_exports_then_erases_one_person_in_one_service,
               test_a_template_that_asks_sends_a_hosted_unsubscribe_link_and_the_service_sees_the_requests,
               test_a_routing_plan_is_built_from_the_services_templates_and_versioned,
               test_settings_pages_change_senders_the_guest_list_and_callbacks,
               test_a_list_being_sent_is_cancelled_and_what_was_sent_stays,
               test_a_list_of_letters_is_checked_address_by_address_then_printed_as_the_api_would])
